//! The four Microsoft clouds and their hosts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A Microsoft cloud. Tokens from one never work in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    #[default]
    Global,
    /// US Government L4 (GCC High).
    Usgov,
    /// US Government L5 (DoD).
    Dod,
    /// China, operated by 21Vianet.
    China,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Global, Cloud::Usgov, Cloud::Dod, Cloud::China];

    /// The name used on the command line, in the config file and in the keyring.
    pub fn id(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Usgov => "usgov",
            Cloud::Dod => "dod",
            Cloud::China => "china",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Cloud::Global => "Global",
            Cloud::Usgov => "US Government L4 (GCC High)",
            Cloud::Dod => "US Government L5 (DoD)",
            Cloud::China => "China (21Vianet)",
        }
    }

    pub fn login_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::Dod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// Teams on the web in this cloud, where chat and call links open.
    pub fn teams_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://teams.microsoft.com",
            Cloud::Usgov => "https://gov.teams.microsoft.us",
            Cloud::Dod => "https://dod.teams.microsoft.us",
            Cloud::China => "https://teams.microsoftonline.cn",
        }
    }

    pub fn graph_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::Dod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Cloud {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Cloud::ALL
            .into_iter()
            .find(|c| c.id() == wanted)
            .ok_or_else(|| {
                Error::Config(format!(
                    "Unknown cloud \"{s}\". Choose one of: global, usgov, dod, china."
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_cloud_case_insensitively() {
        for c in Cloud::ALL {
            assert_eq!(c.id().to_uppercase().parse::<Cloud>().unwrap(), c);
        }
        assert!("azure".parse::<Cloud>().is_err());
    }

    #[test]
    fn dod_shares_the_login_host_but_not_graph() {
        assert_eq!(Cloud::Dod.login_host(), Cloud::Usgov.login_host());
        assert_ne!(Cloud::Dod.graph_host(), Cloud::Usgov.graph_host());
    }
}
