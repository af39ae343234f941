use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::PresenceChange;
use crate::presence::Presence;

/// The last presence of each teammate, and the diff of a new answer against it.
#[derive(Debug, Clone, Default)]
pub struct LastSeen {
    held: HashMap<String, Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    presence: Presence,
    /// When this presence (as people see it) was first seen.
    since: DateTime<Utc>,
}

impl LastSeen {
    pub fn new() -> LastSeen {
        LastSeen::default()
    }

    pub fn get(&self, id: &str) -> Option<&Presence> {
        self.held.get(id).map(|s| &s.presence)
    }

    /// `id`'s presence and since when it has been so (as people see it).
    pub fn seen(&self, id: &str) -> Option<(Presence, DateTime<Utc>)> {
        self.held.get(id).map(|s| (s.presence.clone(), s.since))
    }

    pub fn contains(&self, id: &str) -> bool {
        self.held.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Forgets everyone for whom `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.held.retain(|id, _| keep(id));
    }

    /// The held presences of `ids`, in that order (someone never seen is
    /// left out).
    pub fn presences(&self, ids: &[String]) -> Vec<Presence> {
        ids.iter().filter_map(|id| self.get(id).cloned()).collect()
    }

    /// Applies Graph's `answer` to a request for the distinct IDs `asked`, seen
    /// at `at`; returns one change per teammate whose presence changed as
    /// people see it (`previous: None` for someone seen for the first time).
    ///
    /// An asked ID missing from the answer becomes `PresenceUnknown`. An entry
    /// with an older `sequenceNumber` than the one held is stale and ignored;
    /// entries for IDs that were not asked are ignored too.
    pub fn apply(
        &mut self,
        asked: &[String],
        answer: Vec<Presence>,
        at: DateTime<Utc>,
    ) -> Vec<PresenceChange> {
        self.apply_reporting(asked, answer, at, true)
    }

    /// [`LastSeen::apply`]; with `report` false the changes are applied but
    /// not listed (before the first snapshot, when nobody wants them: for
    /// 10,000 teammates the list would double the poll's memory).
    pub(super) fn apply_reporting(
        &mut self,
        asked: &[String],
        answer: Vec<Presence>,
        at: DateTime<Utc>,
        report: bool,
    ) -> Vec<PresenceChange> {
        // Slots follow `asked`, keyed by borrowed IDs: no string is copied
        // for the 10,000 entries of a large roster.
        let position: HashMap<&str, usize> = asked
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut slots: Vec<Option<Presence>> = vec![None; asked.len()];
        for p in answer {
            let Some(&i) = position.get(p.id.as_str()) else {
                continue;
            };
            match &slots[i] {
                // Graph repeated someone: keep the newer of the two.
                Some(kept) if p.is_older_than(kept) => {}
                _ => slots[i] = Some(p),
            }
        }

        let mut changes = Vec::new();
        for (id, slot) in asked.iter().zip(slots) {
            let new = slot.unwrap_or_else(|| Presence::unknown(id.clone()));
            match self.held.get_mut(id.as_str()) {
                None => {
                    if report {
                        changes.push(PresenceChange {
                            id: id.clone(),
                            presence: new.clone(),
                            previous: None,
                            previous_since: None,
                            at,
                        });
                    }
                    self.held.insert(
                        id.clone(),
                        Seen {
                            presence: new,
                            since: at,
                        },
                    );
                }
                Some(seen) => {
                    if new.is_older_than(&seen.presence) {
                        continue;
                    }
                    if new.differs_from(&seen.presence) {
                        let previous = std::mem::replace(&mut seen.presence, new);
                        let previous_since = std::mem::replace(&mut seen.since, at);
                        if !report {
                            continue;
                        }
                        changes.push(PresenceChange {
                            id: id.clone(),
                            presence: seen.presence.clone(),
                            previous: Some(previous),
                            previous_since: Some(previous_since),
                            at,
                        });
                    } else {
                        // Same to the eye; keep the newer stamp so that a
                        // later stale answer is still recognised.
                        seen.presence = new;
                    }
                }
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{id, p};
    use crate::presence::{Activity, Availability, OutOfOffice};

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn first_sight_then_only_real_changes() {
        let (a, b) = (id(1), id(2));
        let mut seen = LastSeen::new();
        let first = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Available", "Available", "1"),
                p(&b, "Busy", "InACall", "1"),
            ],
            t(0),
        );
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|c| c.previous.is_none()));

        // The same presence with a new stamp is no change.
        let none = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Available", "Available", "2"),
                p(&b, "Busy", "InACall", "2"),
            ],
            t(15),
        );
        assert!(none.is_empty());

        let one = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&a, "Busy", "InAMeeting", "3"),
                p(&b, "Busy", "InACall", "3"),
            ],
            t(30),
        );
        assert_eq!(one.len(), 1);
        let c = &one[0];
        assert_eq!(c.id, a);
        assert_eq!(c.presence.activity, Activity::InAMeeting);
        assert_eq!(
            c.previous.as_ref().unwrap().availability,
            Availability::Available
        );
        assert_eq!(
            c.previous_since,
            Some(t(0)),
            "first seen, not last confirmed"
        );
        assert_eq!(c.at, t(30));
    }

    #[test]
    fn status_notes_and_out_of_office_are_changes() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Away", "Away", "1")],
            t(0),
        );
        let mut noted = p(&a, "Away", "Away", "2");
        noted.status_message = Some("Back at 3".into());
        assert_eq!(
            seen.apply(std::slice::from_ref(&a), vec![noted.clone()], t(1))
                .len(),
            1
        );
        let mut ooo = noted;
        ooo.sequence_number = Some("3".into());
        ooo.out_of_office = Some(OutOfOffice {
            is_out_of_office: true,
            message: None,
        });
        let c = seen.apply(std::slice::from_ref(&a), vec![ooo], t(2));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].previous_since, Some(t(1)));
    }

    #[test]
    fn stale_answers_are_ignored() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Busy", "InACall", "0000B")],
            t(0),
        );
        let stale = seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Available", "Available", "0000A")],
            t(1),
        );
        assert!(stale.is_empty());
        assert_eq!(seen.get(&a).unwrap().availability, Availability::Busy);
        // A newer one is taken.
        let fresh = seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Away", "Away", "0000C")],
            t(2),
        );
        assert_eq!(fresh.len(), 1);
        // And the held stamp moved, so "0000B" is now stale too.
        assert!(seen
            .apply(
                std::slice::from_ref(&a),
                vec![p(&a, "Busy", "InACall", "0000B")],
                t(3)
            )
            .is_empty());
    }

    #[test]
    fn missing_means_unknown_and_extra_entries_are_ignored() {
        let (a, b, stranger) = (id(1), id(2), id(99));
        let mut seen = LastSeen::new();
        seen.apply(
            &[a.clone(), b.clone()],
            vec![p(&a, "Busy", "Busy", "1"), p(&b, "Away", "Away", "1")],
            t(0),
        );
        let c = seen.apply(
            &[a.clone(), b.clone()],
            vec![
                p(&b, "Away", "Away", "2"),
                p(&stranger, "Busy", "Busy", "1"),
            ],
            t(1),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].id, a);
        assert_eq!(c[0].presence.availability, Availability::PresenceUnknown);
        assert!(!seen.contains(&stranger));
        // Unknown again is no news.
        assert!(seen
            .apply(std::slice::from_ref(&a), vec![], t(2))
            .is_empty());
        // Back from unknown: any stamp is taken.
        assert_eq!(
            seen.apply(
                std::slice::from_ref(&a),
                vec![p(&a, "Busy", "Busy", "0")],
                t(3)
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_repeated_entry_keeps_the_newer() {
        let a = id(1);
        let mut seen = LastSeen::new();
        seen.apply(
            std::slice::from_ref(&a),
            vec![p(&a, "Busy", "Busy", "2"), p(&a, "Away", "Away", "1")],
            t(0),
        );
        assert_eq!(seen.get(&a).unwrap().availability, Availability::Busy);
    }
}
