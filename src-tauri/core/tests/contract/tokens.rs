//! The identity platform's token answers and token errors, whatever the
//! grant, and the answer the browser brings back to the sign-in's loopback
//! port.

use std::time::Duration;

use chrono::Utc;
use presently_core::auth::{grants, BrowserAnswer, Refusal, TokenSet};
use presently_core::Secret;
use serde_json::Value;

use crate::{entries, index, published, read};

/// The token endpoint, as the index names it before the grant in brackets.
const TOKEN_ENDPOINT: &str = "POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
/// The redirect the loopback port receives.
const REDIRECT: &str = "GET {redirect_uri}?code=... (authorize response)";

/// The lines Microsoft appends to a description for support.
const SUPPORT_LINES: [&str; 3] = ["Trace ID", "Correlation ID", "Timestamp"];

/// Every published answer of `kind` ("response" or "error") of the token
/// endpoint, whichever grant it answers: file name and bytes.
fn token_answers(kind: &str) -> Vec<(String, Vec<u8>)> {
    let is_token_endpoint = |endpoint: &str| {
        endpoint == TOKEN_ENDPOINT
            || endpoint
                .strip_prefix(TOKEN_ENDPOINT)
                .is_some_and(|grant| grant.starts_with(" ("))
    };
    let found = published(kind, is_token_endpoint);
    assert!(!found.is_empty(), "no published token {kind}");
    // The token endpoint answers JSON; another format would need this test
    // to learn it, not to skip it.
    let all = index()
        .iter()
        .filter(|e| e["kind"] == kind)
        .filter(|e| is_token_endpoint(e["endpoint"].as_str().unwrap_or_default()))
        .count();
    assert_eq!(
        found.len(),
        all,
        "a published token {kind} that is not JSON"
    );
    found
}

/// A percent-encoded text, decoded.
fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// The value of a `Label: value` line of a published description.
fn line_of(description: &str, label: &str) -> Option<String> {
    description
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{label}:")))
        .map(|v| v.trim().to_string())
}

#[test]
fn every_published_token_answer_is_read_as_sign_in_reads_it() {
    for (file, body) in token_answers("response") {
        let published: Value = serde_json::from_slice(&body).unwrap();
        let now = Utc::now();
        let read = TokenSet::from_answer(&body, now).unwrap_or_else(|e| panic!("{file}: {e}"));

        assert_eq!(
            read.access_token.expose(),
            published["access_token"].as_str().unwrap(),
            "{file}"
        );
        // `expires_in` is the lifetime, within a second and a day;
        // `ext_expires_in` (0 in one answer) is not.
        let expires_in = published["expires_in"].as_u64().unwrap();
        if (1..=24 * 3600).contains(&expires_in) {
            assert_eq!(read.lifetime, Duration::from_secs(expires_in), "{file}");
        }
        assert!(
            read.lifetime >= Duration::from_secs(1) && read.lifetime <= Duration::from_secs(86_400),
            "{file}: {:?}",
            read.lifetime
        );
        assert_eq!(
            read.expires_at,
            now + chrono::Duration::from_std(read.lifetime).unwrap(),
            "{file}"
        );
        assert!(!read.refresh_due(now), "{file}: a new token is not due");

        match published["refresh_token"].as_str() {
            Some(refresh) => assert_eq!(
                read.refresh_token.as_ref().map(Secret::expose),
                Some(refresh),
                "{file}"
            ),
            None => assert!(read.refresh_token.is_none(), "{file}"),
        }

        // Every permission granted is seen as granted, however written.
        for scope in published["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
        {
            let scope = decoded(scope);
            let permission = scope.rsplit('/').next().unwrap();
            assert!(
                grants(&read.scope, permission),
                "{file}: {permission} in {:?}",
                read.scope
            );
        }

        let shown = format!("{read:?}");
        assert!(
            !shown.contains(read.access_token.expose()),
            "{file}: {shown}"
        );
        if let Some(refresh) = &read.refresh_token {
            assert!(!shown.contains(refresh.expose()), "{file}: {shown}");
        }
    }
}

/// Microsoft's example writes `scope` percent-encoded: the permission is
/// still read, by the name Graph gives it.
#[test]
fn a_percent_encoded_scope_is_read_as_the_permission_it_names() {
    let read = TokenSet::from_answer(&read("authcode-token-response-4.json"), Utc::now()).unwrap();
    assert_eq!(read.scope, "https://graph.microsoft.com/mail.read");
    assert!(grants(&read.scope, "Mail.Read"));
}

#[test]
fn every_published_token_error_is_read_with_its_codes_and_ids() {
    for (file, body) in token_answers("error") {
        let published: Value = serde_json::from_slice(&body).unwrap();
        let refusal = Refusal::read(&body).unwrap_or_else(|| panic!("{file}: not read"));
        let description = published["error_description"].as_str().unwrap();

        assert_eq!(
            refusal.error,
            published["error"].as_str().unwrap(),
            "{file}"
        );
        assert_eq!(
            refusal.suberror.as_deref(),
            published["suberror"].as_str(),
            "{file}"
        );
        let codes: Vec<u32> = published["error_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as u32)
            .collect();
        assert!(!codes.is_empty(), "{file}");
        for code in &codes {
            assert!(
                refusal.codes.contains(code),
                "{file}: {code} in {:?}",
                refusal.codes
            );
        }
        assert_eq!(refusal.aadsts(), codes.first().copied(), "{file}");

        // Both the fields' IDs and the description's, where they differ.
        for (label, field, read) in [
            ("Trace ID", "trace_id", &refusal.trace_ids),
            ("Correlation ID", "correlation_id", &refusal.correlation_ids),
        ] {
            let field = published[field].as_str().unwrap();
            assert_eq!(read.first().map(String::as_str), Some(field), "{file}");
            let said = line_of(description, label).unwrap();
            assert!(read.contains(&said), "{file}: {said} in {read:?}");
        }

        // The sentence shown: Microsoft's words on one line, without the
        // lines that are for support.
        let shown = refusal.summary();
        assert!(!shown.contains(['\r', '\n']), "{file}: {shown:?}");
        for label in SUPPORT_LINES {
            assert!(!shown.contains(label), "{file}: {shown:?}");
        }
        let said: Vec<&str> = description
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !SUPPORT_LINES.iter().any(|s| l.starts_with(s)))
            .collect();
        assert_eq!(shown, said.join(" "), "{file}");
        assert!(shown.starts_with(&format!("AADSTS{}", codes[0])), "{file}");
    }
}

/// The published `interaction_required` answer (multi-factor
/// authentication to set up) is one that asks the person to sign in again,
/// and a `consent_required` or revoked one is not.
#[test]
fn interaction_required_is_told_from_other_refusals() {
    for (file, body) in token_answers("error") {
        let refusal = Refusal::read(&body).unwrap();
        let published: Value = serde_json::from_slice(&body).unwrap();
        if published["error"] == "interaction_required" {
            assert!(refusal.needs_interaction(), "{file}");
        }
        if published["error"] == "invalid_scope" {
            assert!(!refusal.needs_interaction(), "{file}");
            assert!(!refusal.is_consent_required(), "{file}");
        }
    }
    let mfa = Refusal::read(&read("obo-token-error-claims-2.json")).unwrap();
    assert_eq!(
        mfa.interaction_reason(),
        "to set up multi-factor authentication"
    );
    let expired = Refusal::read(&read("token-error-password-expired-suberror.json")).unwrap();
    assert!(expired.needs_interaction());
    assert_eq!(
        expired.interaction_reason(),
        "because your password has expired"
    );
}

/// `error_codes` can hold several codes (`[70002,50126]`): every one counts
/// in the decisions, not only the one the description starts with.
#[test]
fn every_code_of_a_published_error_counts() {
    for (file, body) in token_answers("error") {
        let mut published: Value = serde_json::from_slice(&body).unwrap();
        let first = published["error_codes"][0].clone();
        for (extra, decides) in [
            (
                53003,
                Refusal::is_conditional_access as fn(&Refusal) -> bool,
            ),
            (65001, Refusal::is_consent_required),
            (50076, Refusal::needs_interaction),
        ] {
            published["error_codes"] = serde_json::json!([first, extra]);
            let refusal = Refusal::read(published.to_string().as_bytes()).unwrap();
            assert!(refusal.codes.contains(&extra), "{file}: {extra}");
            assert!(decides(&refusal), "{file}: {extra}");
        }
    }
}

/// A published redirect as the browser sends it to the loopback port: the
/// lines of the published request joined, then only the query (a browser
/// never sends what follows `#`), on Presently's redirect path `/`.
fn redirect_of(file: &str, entry: &Value) -> (url::Url, String) {
    let text = String::from_utf8(read(file)).unwrap();
    let published: String = text
        .trim()
        .strip_prefix("GET ")
        .unwrap()
        .lines()
        .map(str::trim)
        .collect();
    assert_eq!(published, entry["url"].as_str().unwrap(), "{file}");
    let url = url::Url::parse(&published).unwrap();
    let target = match url.query() {
        Some(query) => format!("/?{query}"),
        None => "/".to_string(),
    };
    (url, target)
}

/// A parameter of a form-encoded text (`a=b&c=d`), decoded by hand:
/// `+` is a space.
fn form_field(encoded: &str, name: &str) -> Option<String> {
    encoded.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decoded(&v.replace('+', " ")))
    })
}

#[test]
fn every_published_redirect_is_read_as_the_sign_in_reads_it() {
    let mut published = entries("response", &[REDIRECT]);
    published.extend(entries("error", &[REDIRECT]));
    for entry in published {
        let file = entry["file"].as_str().unwrap();
        let (url, target) = redirect_of(file, &entry);
        let query = url.query().unwrap_or_default();
        let state = form_field(query, "state");
        let ours = state.clone().unwrap_or_else(|| "ours".into());

        if let Some(code) = form_field(query, "code") {
            assert_eq!(
                BrowserAnswer::read(&target, &ours),
                BrowserAnswer::Code(Secret::new(code)),
                "{file}"
            );
            // Another sign-in's answer is not ours.
            assert_eq!(
                BrowserAnswer::read(&target, "another"),
                BrowserAnswer::Stray,
                "{file}"
            );
        } else if let Some(error) = form_field(query, "error") {
            let description = form_field(query, "error_description").unwrap_or_default();
            let check = |r: &Refusal| {
                assert_eq!(r.error, error, "{file}");
                assert_eq!(r.summary(), description, "{file}");
                assert!(!r.summary().contains('+'), "{file}");
            };
            match BrowserAnswer::read(&target, &ours) {
                // Anyone can send a refusal without state to the port: it
                // is shown, and the sign-in goes on waiting.
                BrowserAnswer::Unverified(r) if state.is_none() => check(&r),
                BrowserAnswer::Refused(r) if state.is_some() => check(&r),
                other => panic!("{file}: {other:?}"),
            }
            // With our state, the same refusal ends the sign-in.
            match BrowserAnswer::read(&format!("{target}&state=ours"), "ours") {
                BrowserAnswer::Refused(r) => check(&r),
                other => panic!("{file}: {other:?}"),
            }
        } else {
            // The hybrid flow's answer is all after `#`: never sent to a
            // server, so never taken for an answer, even with our state.
            let fragment = url.fragment().unwrap();
            assert!(form_field(fragment, "code").is_some(), "{file}");
            let state = form_field(fragment, "state").unwrap();
            assert_eq!(
                BrowserAnswer::read(&target, &state),
                BrowserAnswer::Stray,
                "{file}"
            );
        }
    }
}
