use std::collections::HashSet;

use serde::Deserialize;

use super::{Group, Listing, Person};
use crate::http::Object;
use crate::presence::normalize_user_id;

/// A directory object as Graph lists it: a user, a group, a contact or a
/// person from `/me/people`. Every field may be missing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireObject {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<String>,
    pub(super) display_name: Option<String>,
    user_principal_name: Option<String>,
    mail: Option<String>,
    job_title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    resource_provisioning_options: Option<Vec<String>>,
    /// `/me/people` only.
    #[serde(default)]
    scored_email_addresses: Option<Vec<Object<ScoredAddress>>>,
    /// `/me/people` only: who or what this entry is.
    person_type: Option<Object<PersonType>>,
}

#[derive(Debug, Deserialize)]
struct ScoredAddress {
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PersonType {
    class: Option<String>,
    subclass: Option<String>,
}

impl WireObject {
    /// True when `@odata.type` names this type, or says nothing.
    pub(super) fn is_type(&self, kind: &str) -> bool {
        match &self.odata_type {
            None => true,
            Some(t) => t.eq_ignore_ascii_case(&format!("#microsoft.graph.{kind}")),
        }
    }

    /// The person, if this is a user of the organisation with a valid ID.
    pub(super) fn into_person(self) -> Option<Person> {
        if !self.is_type("user") {
            return None;
        }
        if let Some(Object(pt)) = &self.person_type {
            // `/me/people` also ranks groups, external contacts and guests
            // from outside the directory, none of whom have presence here.
            let eq = |v: &Option<String>, want: &str| {
                v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(want))
            };
            if !(eq(&pt.class, "Person") && eq(&pt.subclass, "OrganizationUser")) {
                return None;
            }
        }
        // An entry with nothing but an ID (Graph lists members so when it
        // was not asked for their type) may be a group or a device: only a
        // sign-in name says it is a user one can sign in as, and watch.
        let user_principal_name = self
            .user_principal_name
            .filter(|upn| !upn.trim().is_empty())?;
        let id = normalize_user_id(self.id.as_deref()?)?;
        let mail = self.mail.filter(|m| !m.is_empty()).or_else(|| {
            self.scored_email_addresses
                .and_then(|a| a.into_iter().find_map(|Object(s)| s.address))
        });
        Some(Person {
            id,
            display_name: self.display_name.unwrap_or_default(),
            user_principal_name,
            mail: mail.unwrap_or_default(),
            job_title: self.job_title.unwrap_or_default(),
        })
    }

    pub(super) fn into_group(self) -> Option<Group> {
        let id = self.id.filter(|i| !i.is_empty())?;
        Some(Group {
            id: id.to_lowercase(),
            display_name: self.display_name.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            is_team: self
                .resource_provisioning_options
                .is_some_and(|o| o.iter().any(|x| x.eq_ignore_ascii_case("Team"))),
        })
    }
}

/// Users only, each once, in the order given, and how many entries were
/// not users of the organisation.
pub(super) fn users_only(wire: Vec<WireObject>) -> Listing {
    let mut seen = HashSet::new();
    let mut listing = Listing::default();
    for object in wire {
        match object.into_person() {
            Some(p) if seen.insert(p.id.clone()) => listing.people.push(p),
            Some(_) => {}
            None => listing.left_out += 1,
        }
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_organisation_users_become_people_and_the_rest_are_counted() {
        let wire: Vec<WireObject> = serde_json::from_value(serde_json::json!([
            {"@odata.type": "#microsoft.graph.user", "id": "4B7C2A47-9D0E-4C61-A1F3-0D8E6F2B5C19", "displayName": "Megan", "userPrincipalName": "megan@contoso.com", "mail": null},
            {"@odata.type": "#microsoft.graph.group", "id": "02bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Sales"},
            {"@odata.type": "#microsoft.graph.orgContact", "id": "12bd9fd6-8f93-4758-87c3-1fb73740a315"},
            {"id": "22bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Ext", "userPrincipalName": "ext@fabrikam.com", "personType": {"class": "Person", "subclass": "PersonalContact"}},
            {"id": "32bd9fd6-8f93-4758-87c3-1fb73740a315", "displayName": "Alex", "userPrincipalName": "alex@contoso.com", "personType": {"class": "Person", "subclass": "OrganizationUser"},
             "scoredEmailAddresses": [{"address": "alex@contoso.com", "relevanceScore": 8}]},
            {"id": "not-a-guid", "displayName": "Broken", "userPrincipalName": "broken@contoso.com"},
            {"id": "id-value", "userPrincipalName": "placeholder@contoso.com"},
            // An ID alone, or with an empty sign-in name, is nobody to watch.
            {"id": "42bd9fd6-8f93-4758-87c3-1fb73740a315"},
            {"@odata.type": "#microsoft.graph.user", "id": "52bd9fd6-8f93-4758-87c3-1fb73740a315", "userPrincipalName": " "},
            {},
            {"@odata.type": "#microsoft.graph.user", "id": "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19", "displayName": "Megan again", "userPrincipalName": "megan@contoso.com"}
        ]))
        .unwrap();
        let listing = users_only(wire);
        let names: Vec<&str> = listing
            .people
            .iter()
            .map(|p| p.display_name.as_str())
            .collect();
        assert_eq!(names, ["Megan", "Alex"]);
        assert_eq!(listing.people[0].id, "4b7c2a47-9d0e-4c61-a1f3-0d8e6f2b5c19");
        assert_eq!(listing.people[1].mail, "alex@contoso.com");
        // Megan's second entry is the same person, not something left out.
        assert_eq!(listing.left_out, 8);
    }
}
