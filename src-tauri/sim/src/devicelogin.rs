//! The sign-in page at `verification_uri` (`/devicelogin`): a person types
//! the code the app showed, picks who they are, and approves or declines.
//!
//! Self-contained HTML (no scripts, no external resources); every piece of
//! text from outside (codes, names) is escaped.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tokio::time::Instant;

use crate::error::SimError;
use crate::state::Shared;

/// People offered in the "who are you" list.
const LISTED_USERS: usize = 20;

/// Text from outside, for the pages: escaped for a quoted attribute, which
/// is safe between tags too.
pub(crate) use html_escape::encode_quoted_attribute as escape;

const STYLE: &str = "body{font-family:'Segoe UI',system-ui,sans-serif;background:#f3f2f1;margin:0}\
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:24px;font-weight:600;margin:0 0 16px}p{line-height:1.45}label{display:block;margin:16px 0 4px}\
input,select{width:100%;box-sizing:border-box;padding:6px;font-size:15px}\
input[name=code]{text-transform:uppercase;letter-spacing:2px}\
.actions{margin-top:24px;display:flex;gap:8px;flex-wrap:wrap}\
button{padding:8px 16px;font-size:15px;border:1px solid #8a8886;background:#fff;cursor:pointer}\
button.primary{background:#0067b8;color:#fff;border-color:#0067b8}\
.note{color:#605e5c;font-size:13px}.error{color:#a4262c}";

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} - Presently sign-in simulator</title><style>{STYLE}</style></head>\
<body><main>{body}<p class=\"note\">Simulated Microsoft Entra ID sign-in for Presently. No real account is used.</p></main></body></html>",
        escape(title)
    )
}

/// The `<option>`s of the "who are you" list, `users()[0]` first.
pub(crate) fn user_options(shared: &Shared) -> String {
    let mut options = String::new();
    for u in shared.directory.users.iter().take(LISTED_USERS) {
        options.push_str(&format!(
            "<option value=\"{}\">{} ({}) - {}</option>",
            escape(&u.id),
            escape(&u.display_name),
            escape(&u.user_principal_name),
            escape(&u.job_title)
        ));
    }
    options
}

fn form(shared: &Shared, code: &str, message: Option<&str>) -> String {
    let options = user_options(shared);
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Enter code</h1>{message}\
<p>Enter the code displayed on your app or device to allow it to access your account.</p>\
<form method=\"post\" action=\"/devicelogin\">\
<label for=\"code\">Code</label><input id=\"code\" name=\"code\" value=\"{}\" autocomplete=\"off\" autofocus required>\
<label for=\"user\">Sign in as</label><select id=\"user\" name=\"user\">{options}</select>\
<div class=\"actions\">\
<button class=\"primary\" name=\"action\" value=\"approve\">Approve</button>\
<button name=\"action\" value=\"decline\">Decline</button>\
<button name=\"action\" value=\"approve_without_consent\">Approve without consent</button>\
</div></form>\
<p class=\"note\">\"Approve without consent\" plays a tenant whose administrator has not consented to the app: the app then gets AADSTS65001.</p>",
        escape(code)
    );
    page("Enter code", &body)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    code: Option<String>,
}

pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<PageQuery>,
) -> Html<String> {
    Html(form(&shared, q.code.as_deref().unwrap_or_default(), None))
}

/// The fields of the posted form.
#[derive(Debug, Default)]
struct Answer {
    code: String,
    user: Option<String>,
    action: String,
}

fn read_answer(body: &[u8]) -> Answer {
    let mut answer = Answer::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "code" => answer.code = v.trim().to_owned(),
            "user" => answer.user = Some(v.into_owned()).filter(|u| !u.is_empty()),
            "action" => answer.action = v.into_owned(),
            _ => {}
        }
    }
    answer
}

pub(crate) async fn submit(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let retry = |code: &str, message: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(form(&shared, code, Some(message))),
        )
            .into_response()
    };
    if !is_form {
        return retry("", "The form could not be read. Please try again.");
    }
    let answer = read_answer(&body);
    let now = Instant::now();
    let user = match answer.user.as_deref() {
        None => Ok(0),
        Some(u) => shared
            .directory
            .find(u)
            .ok_or_else(|| SimError::UnknownUser(u.to_owned())),
    };
    let outcome = match answer.action.as_str() {
        "approve" | "approve_without_consent" => {
            let consent = answer.action == "approve";
            user.and_then(|u| {
                shared
                    .state()
                    .auth
                    .answer(&answer.code, Some((u, consent)), now)
            })
        }
        "decline" => shared.state().auth.answer(&answer.code, None, now),
        _ => return retry(&answer.code, "Choose Approve or Decline."),
    };
    match outcome {
        Ok(()) if answer.action == "decline" => Html(page(
            "Sign-in declined",
            "<h1>Sign-in declined</h1><p>You declined the sign-in to Presently (simulated). The app will not get access. You can close this window.</p>",
        ))
        .into_response(),
        Ok(()) => Html(page(
            "Signed in",
            "<h1>You're signed in</h1><p>You have signed in to Presently (simulated). You can close this window.</p>",
        ))
        .into_response(),
        Err(e) => {
            let message = match &e {
                SimError::UnknownCode(_) => "That code wasn't recognised. Check the code and try again.".to_owned(),
                SimError::CodeExpired(_) => {
                    "That code has expired. Start the sign-in again in the app to get a new code.".to_owned()
                }
                SimError::CodeNotPending { state, .. } => format!("That code has already been used (it was {state})."),
                SimError::UnknownUser(_) => "Pick who you are from the list.".to_owned(),
                other => other.to_string(),
            };
            retry(&answer.code, &message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_become_markup() {
        assert_eq!(
            escape("<a href='x'>\"O'Brien\" & co</a>"),
            "&lt;a href=&#x27;x&#x27;&gt;&quot;O&#x27;Brien&quot; &amp; co&lt;/a&gt;"
        );
    }
}
