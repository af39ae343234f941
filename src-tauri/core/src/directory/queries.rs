use std::collections::HashSet;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::wire::{users_only, WireObject};
use super::{Directory, Group, Listing, Lookup, Person, GROUP_PERMISSION, MAX_PAGE, USER_FIELDS};
use crate::error::{Error, Result};
use crate::graph::BatchRequest;
use crate::presence::normalize_user_id;

impl Directory {
    /// People whose name, e-mail or sign-in name starts with the words of
    /// `text` (at most `limit`, by name). A user ID finds that user.
    ///
    /// Uses `$search` (which needs `ConsistencyLevel: eventual`); where the
    /// tenant refuses it, falls back to `$filter=startswith(...)`.
    pub async fn search(&self, text: &str, limit: usize) -> Result<Vec<Person>> {
        let text = text.trim();
        if text.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        if normalize_user_id(text).is_some() {
            return Ok(self.user(text).await?.into_iter().collect());
        }
        let top = limit.min(MAX_PAGE);
        // A double quote would end the search clause early, a backslash
        // would escape the closing one.
        let words: String = text.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
        let search = ["displayName", "mail", "userPrincipalName"]
            .iter()
            .map(|p| format!("\"{p}:{words}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        let path = format!(
            "users?$search={}&$select={USER_FIELDS}&$orderby=displayName&$top={top}",
            encode_query(&search)
        );
        let found = self
            .graph
            .get_all::<WireObject>(&path, &[("ConsistencyLevel", "eventual")], limit)
            .await;
        let wire = match found {
            Ok(wire) => wire,
            Err(Error::Graph { status, .. }) if matches!(status, 400 | 405 | 501) => {
                tracing::debug!(status, "$search refused; searching with $filter");
                self.search_by_prefix(text, limit).await?
            }
            Err(e) => {
                return Err(explain_forbidden(
                    e,
                    "search the directory",
                    "User.ReadBasic.All",
                ))
            }
        };
        Ok(users_only(wire).people)
    }

    /// `$filter=startswith(...)`: what every tenant supports, without
    /// advanced queries, so without `$orderby` (the result is sorted here).
    async fn search_by_prefix(&self, text: &str, limit: usize) -> Result<Vec<WireObject>> {
        let quoted = text.replace('\'', "''");
        let filter = [
            "displayName",
            "givenName",
            "surname",
            "mail",
            "userPrincipalName",
        ]
        .iter()
        .map(|p| format!("startswith({p},'{quoted}')"))
        .collect::<Vec<_>>()
        .join(" or ");
        let path = format!(
            "users?$filter={}&$select={USER_FIELDS}&$top={}",
            encode_query(&filter),
            limit.min(MAX_PAGE)
        );
        let mut found: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], limit)
            .await
            .map_err(|e| explain_forbidden(e, "search the directory", "User.ReadBasic.All"))?;
        found.sort_by_cached_key(|w| w.display_name.clone().unwrap_or_default().to_lowercase());
        Ok(found)
    }

    /// One user by ID or sign-in name; `None` when nobody has it.
    pub async fn user(&self, id_or_upn: &str) -> Result<Option<Person>> {
        let mut lookup = self.lookup(&[id_or_upn.to_string()]).await?;
        Ok(lookup.found.pop())
    }

    /// Many users by ID or sign-in name, through `$batch` (20 to a request).
    /// Those Graph does not know come back in [`Lookup::unknown`] as written.
    pub async fn lookup(&self, keys: &[String]) -> Result<Lookup> {
        let mut asked: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for key in keys.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            if seen.insert(key.to_lowercase()) {
                asked.push(key);
            }
        }
        let requests: Vec<BatchRequest> = asked
            .iter()
            .enumerate()
            .map(|(i, key)| {
                BatchRequest::get(
                    i.to_string(),
                    format!("/users/{}?$select={USER_FIELDS}", encode_segment(key)),
                )
            })
            .collect();
        let answers = self
            .batch_with_retries(requests)
            .await
            .map_err(|e| explain_forbidden(e, "look up users", "User.ReadBasic.All"))?;

        let mut lookup = Lookup::default();
        let mut found_ids = HashSet::new();
        for (key, answer) in asked.iter().zip(answers) {
            match answer.status {
                200..=299 => {
                    let wire: WireObject = answer.json()?;
                    match wire.into_person() {
                        // Asking by ID and by sign-in name finds one person once.
                        Some(p) if found_ids.insert(p.id.clone()) => lookup.found.push(p),
                        Some(_) => {}
                        None => lookup.unknown.push(key.to_string()),
                    }
                }
                // 404: nobody has it. 400: Graph could not even read it as an
                // ID or a sign-in name; to the person asking, the same thing.
                400 | 404 => lookup.unknown.push(key.to_string()),
                _ => {
                    let e = answer.json::<serde_json::Value>().err().unwrap_or_else(|| {
                        Error::Malformed(format!("the look-up of \"{key}\" failed"))
                    });
                    return Err(explain_forbidden(e, "look up users", "User.ReadBasic.All"));
                }
            }
        }
        Ok(lookup)
    }

    /// The people the signed-in user works with most (`/me/people`), most
    /// relevant first, colleagues in the organisation only.
    pub async fn people(&self, limit: usize) -> Result<Listing> {
        if limit == 0 {
            return Ok(Listing::default());
        }
        let path = format!("me/people?$top={}", limit.min(MAX_PAGE));
        let wire: Vec<WireObject> =
            self.graph.get_all(&path, &[], limit).await.map_err(|e| {
                explain_forbidden(e, "list the people you work with", "People.Read")
            })?;
        Ok(users_only(wire))
    }

    /// The signed-in user's manager: nobody when the directory has none,
    /// and left out when the manager is a contact rather than a user.
    pub async fn manager(&self) -> Result<Listing> {
        let path = format!("me/manager?$select={USER_FIELDS}");
        match self.graph.get_json::<WireObject>(&path).await {
            Ok(wire) => Ok(users_only(vec![wire])),
            Err(Error::Graph { status: 404, .. }) => Ok(Listing::default()),
            Err(e) => Err(explain_forbidden(
                e,
                "read your manager",
                "User.ReadBasic.All",
            )),
        }
    }

    /// The signed-in user's direct reports (people only, every page).
    pub async fn direct_reports(&self) -> Result<Listing> {
        let path = format!("me/directReports?$select={USER_FIELDS}&$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| explain_forbidden(e, "read your direct reports", "User.ReadBasic.All"))?;
        Ok(users_only(wire))
    }

    /// The users in a group or team (every page; nested groups, contacts and
    /// devices left out). Needs [`GROUP_PERMISSION`].
    pub async fn group_members(&self, group_id: &str) -> Result<Listing> {
        let id = group_guid(group_id)?;
        let path = format!("groups/{id}/members?$select={USER_FIELDS}&$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| group_error(e, group_id))?;
        Ok(users_only(wire))
    }

    /// One group's name and kind. Needs [`GROUP_PERMISSION`].
    pub async fn group(&self, group_id: &str) -> Result<Group> {
        let id = group_guid(group_id)?;
        let path =
            format!("groups/{id}?$select=id,displayName,description,resourceProvisioningOptions");
        let wire: WireObject = self
            .graph
            .get_json(&path)
            .await
            .map_err(|e| group_error(e, group_id))?;
        wire.into_group().ok_or_else(|| {
            Error::Malformed(format!("the group \"{group_id}\" came back without an ID"))
        })
    }

    /// The groups and teams the signed-in user is a member of. Needs
    /// [`GROUP_PERMISSION`].
    pub async fn my_groups(&self) -> Result<Vec<Group>> {
        let path = format!("me/memberOf?$top={MAX_PAGE}");
        let wire: Vec<WireObject> = self
            .graph
            .get_all(&path, &[], usize::MAX)
            .await
            .map_err(|e| explain_forbidden(e, "list your groups and teams", GROUP_PERMISSION))?;
        Ok(wire
            .into_iter()
            .filter(|w| w.is_type("group"))
            .filter_map(WireObject::into_group)
            .collect())
    }
}

fn group_guid(raw: &str) -> Result<String> {
    normalize_user_id(raw).ok_or_else(|| {
        Error::Config(format!(
            "\"{raw}\" is not a group ID: a group or team ID is a GUID like 02bd9fd6-8f93-4758-87c3-1fb73740a315."
        ))
    })
}

fn group_error(e: Error, group_id: &str) -> Error {
    match e {
        Error::Graph {
            status: 404, code, ..
        } => Error::Graph {
            status: 404,
            code,
            message: format!("No group or team has the ID {group_id}."),
        },
        e => explain_forbidden(e, "read the members of a group or team", GROUP_PERMISSION),
    }
}

/// A 403 says which permission is missing and who can grant it.
fn explain_forbidden(e: Error, to: &str, permission: &str) -> Error {
    match e {
        Error::Graph {
            status: 403,
            code,
            message,
        } => {
            let who = if permission == GROUP_PERMISSION {
                "Only an administrator can allow it: your organisation has to grant admin consent to this app for that permission, or you can sign in with an app registration of your own that has it (--client-id)."
            } else {
                "Sign in again with `presently login` to grant it, or ask an administrator if your organisation does not allow it."
            };
            Error::Graph {
                status: 403,
                code,
                message: format!(
                    "Presently is not allowed to {to}: that needs the {permission} permission. {who} (Microsoft said: {message})"
                ),
            }
        }
        e => e,
    }
}

/// Percent-encodes a query value. `+` and `&` would otherwise be read as a
/// space and a new parameter, `#` as the start of a fragment.
fn encode_query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters and
/// the `@` of sign-in names. Everything else is encoded: guests' sign-in names
/// contain `#EXT#`.
const SEGMENT_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Percent-encodes one path segment.
fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT_KEEPS).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_and_queries_are_encoded() {
        assert_eq!(
            encode_segment("guest_gmail.com#EXT#@contoso.onmicrosoft.com"),
            "guest_gmail.com%23EXT%23@contoso.onmicrosoft.com"
        );
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(
            encode_query("\"displayName:a&b\" OR x+y"),
            "%22displayName%3Aa%26b%22+OR+x%2By"
        );
    }
}
