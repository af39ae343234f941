//! Groups and teams: one group, its members, and someone's groups and teams.

use super::users::{page, user_json, wants_count, Listing};
use super::*;

pub(super) fn group_json(ctx: &Ctx<'_>, g: usize, typed: bool) -> Map<String, Value> {
    let group = &ctx.shared.directory.groups[g];
    let mut m = Map::new();
    if typed {
        m.insert("@odata.type".into(), json!("#microsoft.graph.group"));
    }
    let fields = json!({
        "id": group.id,
        "displayName": group.display_name,
        "description": group.description,
        "mail": format!("{}@{}", group.mail_nickname, ctx.shared.config.tenant_domain),
        "mailNickname": group.mail_nickname,
        "mailEnabled": true,
        "securityEnabled": false,
        "groupTypes": ["Unified"],
        "visibility": if group.is_team { "Private" } else { "Public" },
        "resourceProvisioningOptions": if group.is_team { vec!["Team"] } else { vec![] },
        "createdDateTime": "2021-03-15T09:00:00Z",
    });
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    m
}

pub(super) fn member_of(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, &GROUP_MEMBERS)?;
    let i = resolve(ctx, grant, who)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let groups = &ctx.shared.directory.member_of[i];
    let list = Listing {
        items: groups,
        page_size: size,
        context: "directoryObjects",
        count: false,
    };
    page(ctx, req, params, list, |g| {
        Value::Object(group_json(ctx, g, true))
    })
}

pub(super) fn joined_teams(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Handled {
    require(grant, &TEAMS)?;
    let i = resolve(ctx, grant, who)?;
    let directory = &ctx.shared.directory;
    let value: Vec<Value> = directory.member_of[i]
        .iter()
        .map(|&g| &directory.groups[g])
        .filter(|g| g.is_team)
        .map(|g| {
            json!({
                "id": g.id,
                "displayName": g.display_name,
                "description": g.description,
                "isArchived": false,
                "tenantId": ctx.shared.config.tenant_id.to_string(),
            })
        })
        .collect();
    Ok(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#teams", ctx.shared.base_url),
        "@odata.count": value.len(),
        "value": value,
    })))
}

pub(super) fn group(ctx: &Ctx<'_>, grant: &Grant, id: &str) -> Handled {
    require(grant, &GROUP_MEMBERS)?;
    let g = ctx
        .shared
        .directory
        .find_group(id)
        .ok_or_else(|| not_found(id))?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#groups/$entity",
            ctx.shared.base_url
        )),
    );
    body.extend(group_json(ctx, g, false));
    Ok(GraphResponse::ok(Value::Object(body)))
}

pub(super) fn group_members(
    ctx: &Ctx<'_>,
    grant: &Grant,
    id: &str,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, &GROUP_MEMBERS)?;
    let g = ctx
        .shared
        .directory
        .find_group(id)
        .ok_or_else(|| not_found(id))?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let count = wants_count(params, req.headers)?;
    let members = &ctx.shared.directory.groups[g].members;
    let list = Listing {
        items: members,
        page_size: size,
        context: "directoryObjects",
        count,
    };
    page(ctx, req, params, list, |m| {
        Value::Object(user_json(ctx, m, &select, true))
    })
}
