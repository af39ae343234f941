//! `$batch`: up to 20 requests, each served by the same handler as on its own.

use super::*;

pub(super) fn batch(ctx: &mut Ctx<'_>, req: &GraphRequest<'_>) -> Handled {
    if !has_json_content_type(req.headers) {
        return Err(unreadable_body());
    }
    let parsed: Value = serde_json::from_slice(req.body).map_err(|_| unreadable_body())?;
    let Some(requests) = parsed.get("requests").and_then(Value::as_array) else {
        return Err(error(
            400,
            "BadRequest",
            "Invalid batch payload format: a 'requests' array is required.",
        ));
    };
    if requests.is_empty() {
        return Err(error(
            400,
            "BadRequest",
            "Invalid batch payload format: the batch has no requests.",
        ));
    }
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(error(
            400,
            "BadRequest",
            format!(
                "Number of batch requests {} exceeds the limit of {MAX_BATCH_REQUESTS}.",
                requests.len()
            ),
        ));
    }
    struct Sub {
        id: String,
        method: Method,
        path: String,
        query: Option<String>,
        headers: HeaderMap,
        body: Vec<u8>,
    }
    let mut subs: Vec<Sub> = Vec::with_capacity(requests.len());
    for r in requests {
        let field = |name: &str| r.get(name).and_then(Value::as_str);
        let (Some(id), Some(method), Some(url)) = (field("id"), field("method"), field("url"))
        else {
            return Err(error(
                400,
                "BadRequest",
                "Invalid batch payload format: every request needs 'id', 'method' and 'url'.",
            ));
        };
        if subs.iter().any(|s| s.id == id) {
            return Err(error(
                400,
                "BadRequest",
                format!("Invalid batch payload format: request id '{id}' is used twice."),
            ));
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            error(
                400,
                "BadRequest",
                format!("Invalid method '{method}' in request id '{id}'."),
            )
        })?;
        let mut headers = HeaderMap::new();
        if let Some(h) = r.get("headers").and_then(Value::as_object) {
            for (name, value) in h {
                let (Ok(name), Some(Ok(value))) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    value.as_str().map(HeaderValue::from_str),
                ) else {
                    return Err(error(
                        400,
                        "BadRequest",
                        format!("Invalid header '{name}' in request id '{id}'."),
                    ));
                };
                headers.insert(name, value);
            }
        }
        let body = match r.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(b) => {
                if !headers.contains_key(header::CONTENT_TYPE) {
                    return Err(error(
                        400,
                        "BadRequest",
                        format!(
                            "Write request id : {id} does not contain Content-Type header or body."
                        ),
                    ));
                }
                match b {
                    Value::String(s) if !has_json_content_type(&headers) => s.as_bytes().to_vec(),
                    other => serde_json::to_vec(other).unwrap_or_default(),
                }
            }
        };
        // The outer request's credentials carry over, as in Graph.
        if let Some(auth) = req.headers.get(header::AUTHORIZATION) {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        let relative = if url.starts_with('/') {
            url.to_owned()
        } else {
            format!("/{url}")
        };
        let (path, query) = match relative.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (relative, None),
        };
        subs.push(Sub {
            id: id.to_owned(),
            method,
            path,
            query,
            headers,
            body,
        });
    }

    let mut responses = Vec::with_capacity(subs.len());
    let mut inner = Vec::with_capacity(subs.len());
    for sub in &subs {
        let sub_req = GraphRequest {
            method: &sub.method,
            path: &sub.path,
            query: sub.query.as_deref(),
            headers: &sub.headers,
            body: &sub.body,
        };
        let resp = handle(ctx.shared, ctx.st, &sub_req, ctx.now, ctx.arrived, true);
        let mut headers = Map::new();
        if let Some(ct) = resp.content_type() {
            headers.insert("Content-Type".into(), json!(ct));
        }
        for (name, value) in &resp.headers {
            headers.insert(canonical_header(name), json!(value));
        }
        let mut entry = json!({"id": sub.id, "status": resp.status, "headers": headers});
        match &resp.body {
            Body::Json(v) => entry["body"] = v.clone(),
            // Binary bodies travel base64-encoded inside a batch answer.
            Body::Png(bytes) => entry["body"] = json!(STANDARD.encode(bytes)),
            Body::Empty => {}
        }
        responses.push(entry);
        inner.push((
            Arrival {
                at: ctx.arrived,
                method: sub.method.to_string(),
                path: format!("/v1.0{}", sub.path),
                query: sub.query.clone(),
                retry_attempt: retry_attempt(&sub.headers),
                in_batch: true,
            },
            resp.status,
            *resp.detail,
        ));
    }
    let mut resp = GraphResponse::ok(json!({ "responses": responses }));
    resp.inner = inner;
    Ok(resp)
}

pub(super) fn canonical_header(name: &HeaderName) -> String {
    match *name {
        header::RETRY_AFTER => "Retry-After".to_owned(),
        header::WWW_AUTHENTICATE => "WWW-Authenticate".to_owned(),
        _ => name.as_str().to_owned(),
    }
}
