//! The permissions the simulator knows, delegated and application, and
//! how a requested `scope` is granted and written back, as Entra ID does.

use std::collections::HashSet;

/// Delegated Graph permissions the simulator knows, in Microsoft's spelling.
pub(crate) const GRAPH_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "Presence.Read",
    "Presence.Read.All",
    "Presence.ReadWrite",
    "People.Read",
    "People.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Team.ReadBasic.All",
    "Directory.Read.All",
    "Calendars.ReadBasic",
    "Calendars.Read",
];
pub(crate) const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Application permissions of Graph the simulator knows, in Microsoft's
/// spelling: what a tenant's administrator can consent to for an app that
/// signs in as itself, and what its tokens carry as `roles`.
/// `User.ReadBasic.All` is one on paper that no request of the simulator
/// (nor, people report, of Graph) accepts from an app.
pub(crate) const GRAPH_APP_ROLES: &[&str] = &[
    "Presence.Read.All",
    "Presence.ReadWrite.All",
    "User.ReadBasic.All",
    "User.Read.All",
    "Directory.Read.All",
    "People.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Team.ReadBasic.All",
    "Calendars.ReadBasic",
    "Calendars.Read",
];

/// The names Microsoft Graph goes by as a resource, in a scope such as
/// `https://graph.microsoft.com/.default`: each cloud's Graph and Graph's
/// application id. The simulator's own URL counts too (see `entra`).
pub(crate) const GRAPH_RESOURCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.us",
    "https://dod-graph.microsoft.us",
    "https://microsoftgraph.chinacloudapi.cn",
    "00000003-0000-0000-c000-000000000000",
];

/// An application permission by name, in any case, in Microsoft's spelling.
pub(crate) fn app_role(name: &str) -> Option<&'static str> {
    GRAPH_APP_ROLES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(name.trim()))
        .copied()
}

/// The scopes granted for a requested `scope` string. Fully qualified names
/// (`https://graph.microsoft.com/Presence.Read.All`) count by their last
/// segment; `.default` stands for every Graph permission the simulator knows;
/// unknown scopes are left out, as if the tenant had never heard of them.
pub(crate) fn grant(requested: &str) -> Vec<&'static str> {
    let mut granted: Vec<&'static str> = Vec::new();
    for raw in requested.split_whitespace() {
        let name = raw.rsplit('/').next().unwrap_or(raw);
        if name.eq_ignore_ascii_case(".default") {
            granted.extend(GRAPH_SCOPES);
            continue;
        }
        if let Some(s) = GRAPH_SCOPES
            .iter()
            .chain(OIDC_SCOPES)
            .find(|s| s.eq_ignore_ascii_case(name))
        {
            granted.push(s);
        }
    }
    let mut seen = HashSet::new();
    granted.retain(|s| seen.insert(*s));
    granted
}

/// The `scope` of a token answer: Graph permissions and OpenID scopes by
/// their short names, as Entra ID writes them, without `offline_access`.
pub(crate) fn scope_string(scopes: &[&'static str]) -> String {
    scopes
        .iter()
        .filter(|s| **s != "offline_access")
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_granted_by_short_name_and_unknown_ones_dropped() {
        let g = grant("https://graph.microsoft.com/presence.read.all User.Read Bogus.Scope offline_access openid");
        assert_eq!(
            g,
            vec!["Presence.Read.All", "User.Read", "offline_access", "openid"]
        );
        assert_eq!(scope_string(&g), "Presence.Read.All User.Read openid");
        assert_eq!(
            grant("https://graph.microsoft.com/.default").len(),
            GRAPH_SCOPES.len()
        );
    }

    #[test]
    fn application_permissions_are_known_by_name_in_any_case() {
        assert_eq!(app_role("presence.read.all"), Some("Presence.Read.All"));
        assert_eq!(app_role(" Calendars.Read "), Some("Calendars.Read"));
        // Delegated only: no app can be given these.
        assert_eq!(app_role("User.Read"), None);
        assert_eq!(app_role("Presence.ReadWrite"), None);
    }
}
