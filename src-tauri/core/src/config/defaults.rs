//! The defaults, the bounds of the poll interval and the permissions asked
//! for at sign-in.

use std::time::Duration;

/// Microsoft Graph Command Line Tools: a Microsoft public client that allows
/// the device-code flow in most tenants.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const DEFAULT_TENANT: &str = "organizations";

/// Default and lowest poll interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// The longest poll interval a setting may ask for: a day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Delegated permissions asked for at sign-in, each for one feature:
/// `User.Read` to know who signed in, `Presence.Read.All` for teammates'
/// presence (and `/me/presence`), `User.ReadBasic.All` to find people and
/// their photos, `People.Read` for "people I work with", `offline_access` for
/// a refresh token so that sign-in lasts. None of them needs an admin.
pub const SCOPES: &[&str] = &[
    "User.Read",
    "Presence.Read.All",
    "User.ReadBasic.All",
    "People.Read",
    "offline_access",
];

/// Asked for only on request (`presently login --groups`): reading a team's
/// members needs it, and in most tenants only an administrator can consent.
pub const GROUP_SCOPE: &str = "GroupMember.Read.All";
