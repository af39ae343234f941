//! Links that open a chat or a call with a teammate in Microsoft Teams: the
//! Teams of the user's own cloud, addressed by the teammate's sign-in name.

use std::str::FromStr;

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::roster::Teammate;

/// What a Teams link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamsAction {
    Chat,
    Call,
}

impl FromStr for TeamsAction {
    type Err = Error;

    fn from_str(s: &str) -> Result<TeamsAction> {
        match s {
            "chat" => Ok(TeamsAction::Chat),
            "call" => Ok(TeamsAction::Call),
            other => Err(Error::InvalidInput(format!(
                "\"{}\" is neither chat nor call.",
                crate::text::clean_text(other, 40)
            ))),
        }
    }
}

/// `https://<cloud's Teams>/l/chat/0/0?users=<sign-in name>` (or `call`).
pub fn link(cloud: Cloud, teammate: &Teammate, action: TeamsAction) -> Result<String> {
    let who = [&teammate.user_principal_name, &teammate.mail]
        .into_iter()
        .find(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            Error::NotFound(format!(
                "{} has no sign-in name to reach in Teams.",
                crate::text::clean_text(teammate.name(), 200)
            ))
        })?;
    let kind = match action {
        TeamsAction::Chat => "chat",
        TeamsAction::Call => "call",
    };
    let mut url = url::Url::parse(cloud.teams_host())
        .expect("each cloud's Teams address is a valid URL")
        .join(&format!("/l/{kind}/0/0"))
        .expect("a fixed path joins");
    url.query_pairs_mut().append_pair("users", who.trim());
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn megan() -> Teammate {
        Teammate {
            id: "fa8bf3dc-eca7-46b7-bad1-db199b62afc3".into(),
            display_name: "Megan Bowen".into(),
            user_principal_name: "megan.bowen@contoso.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn teams_links_chat_or_call_by_sign_in_name_in_each_cloud() {
        let chat = link(Cloud::Global, &megan(), TeamsAction::Chat).unwrap();
        assert_eq!(
            chat,
            "https://teams.microsoft.com/l/chat/0/0?users=megan.bowen%40contoso.com"
        );
        let call = link(Cloud::Global, &megan(), TeamsAction::Call).unwrap();
        assert_eq!(
            call,
            "https://teams.microsoft.com/l/call/0/0?users=megan.bowen%40contoso.com"
        );
        for (cloud, host) in [
            (Cloud::Usgov, "https://gov.teams.microsoft.us/"),
            (Cloud::Dod, "https://dod.teams.microsoft.us/"),
            (Cloud::China, "https://teams.microsoftonline.cn/"),
        ] {
            let url = link(cloud, &megan(), TeamsAction::Chat).unwrap();
            assert!(
                url.starts_with(&format!("{host}l/chat/0/0?users=")),
                "{url}"
            );
        }
    }

    #[test]
    fn only_chat_and_call_and_only_people_with_a_sign_in_name() {
        let err = "meet".parse::<TeamsAction>().unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let nameless = Teammate::new("fa8bf3dc-eca7-46b7-bad1-db199b62afc3");
        let err = link(Cloud::Global, &nameless, TeamsAction::Chat).unwrap_err();
        assert_eq!(err.code(), "not_found");
        let by_mail = Teammate {
            mail: "m@contoso.com".into(),
            ..nameless
        };
        assert!(link(Cloud::Global, &by_mail, TeamsAction::Call)
            .unwrap()
            .ends_with("users=m%40contoso.com"));
    }
}
