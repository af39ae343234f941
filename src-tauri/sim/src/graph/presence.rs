//! `getPresencesByUserId`, one user's presence, and a user setting their
//! own (`setUserPreferredPresence`, `clearUserPreferredPresence`,
//! `setStatusMessage`).

use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::presence::{
    default_expiry_minutes, iso_duration_minutes, preferred_pair, PREFERRED_PAIRS,
};

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
    if let Err(wait) = ctx.st.throttle.admit(grant.client_id.as_deref(), ctx.now) {
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
    require(grant, &PRESENCE_ALL).map_err(with_detail)?;
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
        .map(|i| {
            ctx.st
                .presence
                .graph_json_for(i, &directory.users[i].id, Some(i) == grant.user)
        })
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
    let i = require_for(ctx, grant, who, &PRESENCE_ME, &PRESENCE_ALL)?;
    let id = &ctx.shared.directory.users[i].id;
    let mut body = ctx.st.presence.graph_json_for(i, id, Some(i) == grant.user);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{id}')/presence/$entity",
        ctx.shared.base_url
    ));
    Ok(GraphResponse::ok(body))
}

/// Checks what every write to one's presence needs: presence in this
/// cloud, the permission (`Presence.ReadWrite` for a person, and then only
/// for themselves, as delegated permissions let nobody set someone else's
/// status; `Presence.ReadWrite.All` for an app, where `wanted` offers it).
/// The user's index.
fn presence_to_write(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    action: &str,
    wanted: &Permissions,
) -> Result<usize, GraphResponse> {
    if !ctx.st.presence_available {
        return Err(presence_missing(action));
    }
    require(grant, wanted)?;
    let i = resolve(ctx, grant, who)?;
    if grant.user.is_some_and(|me| me != i) {
        return Err(forbidden());
    }
    Ok(i)
}

fn no_content() -> GraphResponse {
    GraphResponse {
        body: Body::Empty,
        ..GraphResponse::ok(Value::Null)
    }
}

pub(super) fn set_preferred_presence(
    ctx: &mut Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
) -> Handled {
    let i = presence_to_write(ctx, grant, who, "setUserPreferredPresence", &PRESENCE_WRITE)?;
    let body = json_body(req)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let (Some(availability), Some(activity)) = (text("availability"), text("activity")) else {
        return Err(bad_request(
            "availability and activity are required strings.",
        ));
    };
    let Some(pair) = preferred_pair(availability, activity) else {
        let allowed: Vec<String> = PREFERRED_PAIRS
            .iter()
            .map(|(a, b)| format!("{a}/{b}"))
            .collect();
        return Err(bad_request(format!(
            "The availability '{availability}' and activity '{activity}' are not a supported pair. Supported: {}.",
            allowed.join(", ")
        )));
    };
    let minutes = match body.get("expirationDuration") {
        None | Some(Value::Null) => default_expiry_minutes(pair.0),
        Some(Value::String(d)) => iso_duration_minutes(d).ok_or_else(|| {
            bad_request(format!(
                "expirationDuration '{d}' is not a positive ISO 8601 duration such as PT1H."
            ))
        })?,
        Some(_) => {
            return Err(bad_request(
                "expirationDuration must be an ISO 8601 duration string such as PT1H.",
            ))
        }
    };
    ctx.st.presence.set_preferred(i, pair, minutes);
    Ok(no_content())
}

pub(super) fn clear_preferred_presence(ctx: &mut Ctx<'_>, grant: &Grant, who: &Who) -> Handled {
    let i = presence_to_write(
        ctx,
        grant,
        who,
        "clearUserPreferredPresence",
        &PRESENCE_WRITE,
    )?;
    ctx.st.presence.clear_preferred(i);
    Ok(no_content())
}

pub(super) fn set_status_message(
    ctx: &mut Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
) -> Handled {
    let i = presence_to_write(ctx, grant, who, "setStatusMessage", &STATUS_MESSAGE)?;
    let body = json_body(req)?;
    let Some(status) = body.get("statusMessage").and_then(Value::as_object) else {
        return Err(bad_request("statusMessage is required."));
    };
    let message = status.get("message").and_then(Value::as_object);
    let Some(content) = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
    else {
        return Err(bad_request("statusMessage.message.content is required."));
    };
    let html = match message
        .and_then(|m| m.get("contentType"))
        .and_then(Value::as_str)
    {
        None => false,
        Some(t) if t.eq_ignore_ascii_case("text") => false,
        Some(t) if t.eq_ignore_ascii_case("html") => true,
        Some(t) => {
            return Err(bad_request(format!(
                "contentType '{t}' is not text or html."
            )))
        }
    };
    let expires = match status.get("expiryDateTime") {
        None | Some(Value::Null) => None,
        Some(at) => Some(expiry_minute(ctx, at)?),
    };
    ctx.st.presence.set_own_message(i, content, html, expires);
    Ok(no_content())
}

/// A `dateTimeTimeZone` as a minute on the simulated clock. The simulator
/// knows UTC only (what Presently sends); a time already past is refused.
fn expiry_minute(ctx: &Ctx<'_>, at: &Value) -> Result<u32, GraphResponse> {
    let date_time = at.get("dateTime").and_then(Value::as_str);
    let zone = at.get("timeZone").and_then(Value::as_str);
    let (Some(date_time), Some(zone)) = (date_time, zone) else {
        return Err(bad_request("expiryDateTime needs dateTime and timeZone."));
    };
    if !zone.eq_ignore_ascii_case("UTC") {
        return Err(bad_request(format!(
            "The simulator knows the time zone UTC only, not '{zone}'."
        )));
    }
    let parsed =
        NaiveDateTime::parse_from_str(date_time.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|_| {
                bad_request(format!(
                    "expiryDateTime.dateTime '{date_time}' is not a date and time."
                ))
            })?;
    let minute = ctx
        .st
        .presence
        .minute_at(Utc.from_utc_datetime(&parsed))
        .filter(|m| *m > ctx.st.presence.minute())
        .ok_or_else(|| {
            bad_request(format!(
                "expiryDateTime '{date_time}' is not in the future."
            ))
        })?;
    Ok(minute)
}
