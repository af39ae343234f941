//! `getPresencesByUserId` and one user's presence.

use super::*;

pub(super) fn presences(ctx: &mut Ctx<'_>, grant: &Grant, req: &GraphRequest<'_>) -> Handled {
    let parsed: Option<Value> = serde_json::from_slice(req.body).ok();
    let ids: Option<Vec<String>> = parsed
        .as_ref()
        .and_then(|v| v.get("ids"))
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    let detail = LogDetail {
        ids: ids.clone(),
        grant_type: None,
    };
    let with_detail = |mut r: GraphResponse| {
        r.detail = Box::new(detail.clone());
        r
    };
    if !ctx.st.presence_available {
        return Err(with_detail(presence_missing("getPresencesByUserId")));
    }
    // Every request that reaches the service counts against the budget,
    // including the ones it refuses.
    if let Err(wait) = ctx.st.throttle.admit(ctx.now) {
        let seconds = retry_after_seconds(wait);
        return Err(with_detail(
            error(
                429,
                "TooManyRequests",
                "Too many requests. Retry after the time given in the Retry-After header.",
            )
            .with_header(header::RETRY_AFTER, seconds.to_string()),
        ));
    }
    require(grant, PRESENCE_ALL).map_err(with_detail)?;
    if !has_json_content_type(req.headers) || parsed.is_none() {
        return Err(with_detail(unreadable_body()));
    }
    let Some(ids) = ids else {
        return Err(with_detail(error(
            400,
            "BadRequest",
            "The request body must be {\"ids\": [\"<user object id>\", ...]}.",
        )));
    };
    if ids.is_empty() {
        return Err(with_detail(error(
            400,
            "BadRequest",
            "The list of ids must not be empty.",
        )));
    }
    if ids.len() > MAX_PRESENCE_IDS {
        // Graph answers this one with a bare 400: no error body at all.
        return Err(with_detail(GraphResponse {
            status: 400,
            body: Body::Empty,
            ..GraphResponse::json(400, Value::Null)
        }));
    }
    if let Some(bad) = ids.iter().find(|id| !is_guid(id)) {
        return Err(with_detail(error(
            400,
            "BadRequest",
            format!("Invalid user id '{bad}' in ids: every id must be a user object id (a GUID)."),
        )));
    }
    // Duplicates are answered once; a well-formed id nobody has is left out of
    // `value` (what Graph does there is undocumented; this is the sim's choice).
    let directory = &ctx.shared.directory;
    let mut seen = std::collections::HashSet::new();
    let value: Vec<Value> = ids
        .iter()
        .filter(|id| seen.insert(id.to_lowercase()))
        .filter_map(|id| directory.find_id(id))
        .map(|i| ctx.st.presence.graph_json(i, &directory.users[i].id))
        .collect();
    Ok(with_detail(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.presence)", ctx.shared.base_url),
        "value": value,
    }))))
}

pub(super) fn one_presence(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Handled {
    if !ctx.st.presence_available {
        return Err(presence_missing("presence"));
    }
    let i = require_for(ctx, grant, who, PRESENCE_ME, PRESENCE_ALL)?;
    let id = &ctx.shared.directory.users[i].id;
    let mut body = ctx.st.presence.graph_json(i, id);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{id}')/presence/$entity",
        ctx.shared.base_url
    ));
    Ok(GraphResponse::ok(body))
}
