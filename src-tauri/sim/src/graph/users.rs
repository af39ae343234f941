//! Users: one, the list (`$filter`, `$search`, `$orderby`, paging), a
//! manager, direct reports and the people someone works with; the paging
//! and `$count` that groups' lists share.

use super::*;

pub(super) fn company_name(domain: &str) -> String {
    let first = domain.split('.').next().unwrap_or(domain);
    let mut chars = first.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A user as Graph shows it, with the selected properties.
pub(super) fn user_json(
    ctx: &Ctx<'_>,
    i: usize,
    select: &[&str],
    typed: bool,
) -> Map<String, Value> {
    let u = &ctx.shared.directory.users[i];
    let mut m = Map::new();
    if typed {
        m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    }
    for &p in select {
        let v = match p {
            "id" => json!(u.id),
            "displayName" => json!(u.display_name),
            "givenName" => json!(u.given_name),
            "surname" => json!(u.surname),
            "userPrincipalName" => json!(u.user_principal_name),
            "mail" => json!(u.mail),
            "jobTitle" => json!(u.job_title),
            "officeLocation" => json!(u.office_location),
            "businessPhones" => json!(u.business_phones),
            "mobilePhone" => json!(u.mobile_phone),
            "preferredLanguage" => json!(u.preferred_language),
            "department" => json!(u.department),
            "companyName" => json!(company_name(&ctx.shared.config.tenant_domain)),
            "city" => json!((u.office_location != "Remote").then_some(&u.office_location)),
            "accountEnabled" => json!(true),
            "userType" => json!("Member"),
            "mailNickname" => json!(u.user_principal_name.split('@').next()),
            _ => Value::Null,
        };
        m.insert(p.to_owned(), v);
    }
    m
}

pub(super) fn entity_context(ctx: &Ctx<'_>, set: &str, select: &[&str], params: &Params) -> String {
    match params.get("$select") {
        Some(_) => format!(
            "{}/v1.0/$metadata#{set}({})/$entity",
            ctx.shared.base_url,
            select.join(",")
        ),
        None => format!("{}/v1.0/$metadata#{set}/$entity", ctx.shared.base_url),
    }
}

pub(super) fn get_user(ctx: &Ctx<'_>, grant: &Grant, who: &Who, params: &Params) -> Handled {
    let i = require_for(ctx, grant, who, &USER_ME, &USERS)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(entity_context(ctx, "users", &select, params)),
    );
    body.extend(user_json(ctx, i, &select, false));
    Ok(GraphResponse::ok(Value::Object(body)))
}

/// A list to answer in pages.
pub(super) struct Listing<'a> {
    pub(super) items: &'a [usize],
    pub(super) page_size: usize,
    /// What `@odata.context` names after `$metadata#`.
    pub(super) context: &'a str,
    /// Whether to send `@odata.count`.
    pub(super) count: bool,
}

/// One page of a list: `@odata.nextLink` carries the rest of the query and a
/// `$skiptoken` for the next page.
pub(super) fn page(
    ctx: &Ctx<'_>,
    req: &GraphRequest<'_>,
    params: &Params,
    list: Listing<'_>,
    render: impl Fn(usize) -> Value,
) -> Handled {
    let Listing {
        items,
        page_size,
        context,
        count,
    } = list;
    let offset = query::skip_offset(params).map_err(query_error)?;
    let end = (offset + page_size).min(items.len());
    let value: Vec<Value> = items
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|&i| render(i))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/v1.0/$metadata#{context}", ctx.shared.base_url)),
    );
    if count {
        body.insert("@odata.count".into(), json!(items.len()));
    }
    if end < items.len() {
        let link = format!(
            "{}/v1.0{}?{}",
            ctx.shared.base_url,
            req.path,
            params.with("$skiptoken", &query::skiptoken(end))
        );
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(value));
    Ok(GraphResponse::ok(Value::Object(body)))
}

pub(super) fn eventual_consistency(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

pub(super) fn wants_count(params: &Params, headers: &HeaderMap) -> Result<bool, GraphResponse> {
    match params.get("$count") {
        None => Ok(false),
        Some(c) if c.eq_ignore_ascii_case("false") => Ok(false),
        Some(c) if c.eq_ignore_ascii_case("true") => {
            if eventual_consistency(headers) {
                Ok(true)
            } else {
                Err(error(
                    400,
                    "Request_BadRequest",
                    "$count is only supported with the header 'ConsistencyLevel: eventual'.",
                ))
            }
        }
        Some(c) => Err(error(
            400,
            "Request_BadRequest",
            format!("Invalid value '{c}' for $count."),
        )),
    }
}

pub(super) fn list_users(
    ctx: &Ctx<'_>,
    grant: &Grant,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, &USERS)?;
    let search = match params.get("$search") {
        None => None,
        Some(_) if !eventual_consistency(req.headers) => {
            return Err(error(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ))
        }
        Some(text) => Some(Search::parse(text).map_err(query_error)?),
    };
    let filter = params
        .get("$filter")
        .map(Filter::parse)
        .transpose()
        .map_err(query_error)?;
    let count = wants_count(params, req.headers)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let order = query::order_by(params).map_err(query_error)?;
    let users = &ctx.shared.directory.users;
    let mut found: Vec<usize> = (0..users.len())
        .filter(|&i| filter.as_ref().is_none_or(|f| f.matches(&users[i])))
        .filter(|&i| search.as_ref().is_none_or(|s| s.matches(&users[i])))
        .collect();
    if let Some((prop, descending)) = order {
        found.sort_by_cached_key(|&i| query::sort_key(&users[i], prop));
        if descending {
            found.reverse();
        }
    }
    let context = if params.get("$select").is_some() {
        format!("users({})", select.join(","))
    } else {
        "users".to_owned()
    };
    let list = Listing {
        items: &found,
        page_size: size,
        context: &context,
        count,
    };
    page(ctx, req, params, list, |i| {
        Value::Object(user_json(ctx, i, &select, false))
    })
}

pub(super) fn manager(ctx: &Ctx<'_>, grant: &Grant, who: &Who, params: &Params) -> Handled {
    require(grant, &USERS)?;
    let i = resolve(ctx, grant, who)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let Some(m) = ctx.shared.directory.manager[i] else {
        return Err(not_found("manager"));
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#directoryObjects/$entity",
            ctx.shared.base_url
        )),
    );
    body.extend(user_json(ctx, m, &select, true));
    Ok(GraphResponse::ok(Value::Object(body)))
}

pub(super) fn direct_reports(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, &USERS)?;
    let i = resolve(ctx, grant, who)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let reports = &ctx.shared.directory.reports[i];
    let list = Listing {
        items: reports,
        page_size: size,
        context: "directoryObjects",
        count: false,
    };
    page(ctx, req, params, list, |r| {
        Value::Object(user_json(ctx, r, &select, true))
    })
}

pub(super) fn people(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    let i = require_for(ctx, grant, who, &PEOPLE_ME, &PEOPLE_OTHERS)?;
    let size = query::top(params, 10, 1000).map_err(query_error)?;
    let skip = match params.get("$skip") {
        None => 0,
        Some(s) => s
            .trim()
            .parse::<usize>()
            .map_err(|_| error(400, "BadRequest", format!("Invalid $skip value '{s}'.")))?,
    };
    let directory = &ctx.shared.directory;
    let ranked = directory.people_for(i);
    let end = (skip + size).min(ranked.len());
    let value: Vec<Value> = ranked
        .get(skip..end)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(n, &p)| {
            let u = &directory.users[p];
            // Scores fall with rank, as the People API's do; only the order matters.
            let score = (30.0 - 0.25 * (skip + n) as f64).max(1.0);
            json!({
                "id": u.id,
                "displayName": u.display_name,
                "givenName": u.given_name,
                "surname": u.surname,
                "birthday": "",
                "personNotes": "",
                "isFavorite": false,
                "jobTitle": u.job_title,
                "companyName": company_name(&ctx.shared.config.tenant_domain),
                "yomiCompany": "",
                "department": u.department,
                "officeLocation": u.office_location,
                "profession": "",
                "userPrincipalName": u.user_principal_name,
                "imAddress": format!("sip:{}", u.user_principal_name),
                "scoredEmailAddresses": [{
                    "address": u.mail,
                    "relevanceScore": score,
                    "selectionLikelihood": "notSpecified",
                }],
                "phones": u.business_phones.iter().map(|p| json!({"type": "business", "number": p})).collect::<Vec<_>>(),
                "personType": {"class": "Person", "subclass": "OrganizationUser"},
            })
        })
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#users('{}')/people",
            ctx.shared.base_url, directory.users[i].id
        )),
    );
    if end < ranked.len() {
        let link = format!(
            "{}/v1.0{}?{}",
            ctx.shared.base_url,
            req.path,
            params.with("$skip", &end.to_string())
        );
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(value));
    Ok(GraphResponse::ok(Value::Object(body)))
}
