//! The record of every request the simulator served, for tests to inspect.
//!
//! `getPresencesByUserId` bodies can carry 650 ids each, and benchmarks send
//! thousands of them, so ids are kept as 16-byte numbers when they are
//! canonical GUIDs, and the log keeps only the most recent entries.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many entries the log keeps before dropping the oldest.
pub const LOG_CAPACITY: usize = 5_000;

/// One request the simulator answered (or deliberately did not answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Position in the log, counting from 1; never reused, even after `clear_log`.
    pub seq: u64,
    /// When the request arrived, measured from the simulator's start.
    #[serde(
        rename = "at_ms",
        serialize_with = "as_millis",
        deserialize_with = "from_millis"
    )]
    pub at: Duration,
    pub method: String,
    /// Path as sent, without the query.
    pub path: String,
    pub query: Option<String>,
    /// Status sent; 0 when a `Drop` fault closed the connection instead.
    pub status: u16,
    /// Number of ids in a `getPresencesByUserId` body.
    pub ids: Option<usize>,
    /// Number of different ids (ignoring case) in that body.
    pub distinct_ids: Option<usize>,
    /// The ids of that body in the order sent; empty for other requests.
    pub id_list: Vec<String>,
    /// The `Retry-Attempt` header, as Microsoft's SDKs send on retries.
    pub retry_attempt: Option<u32>,
    /// `grant_type` of a token request.
    pub grant_type: Option<String>,
    /// The injected fault that shaped the answer, e.g. `status 503`, `drop`.
    pub fault: Option<String>,
    /// True for a request carried inside a `$batch` request (logged before it).
    #[serde(default)]
    pub in_batch: bool,
}

fn as_millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

fn from_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

/// What a handler tells the log about a request it served; carried from the
/// handler to the logging layer in the response's extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetail {
    pub ids: Option<Vec<String>>,
    pub grant_type: Option<String>,
}

/// A request as it arrived, before the answer is known.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    pub at: Duration,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub retry_attempt: Option<u32>,
    pub in_batch: bool,
}

#[derive(Debug)]
enum Ids {
    None,
    Guids(Vec<u128>),
    Raw(Vec<String>),
}

#[derive(Debug)]
struct Stored {
    seq: u64,
    arrival: Arrival,
    status: u16,
    ids: Ids,
    distinct: Option<usize>,
    grant_type: Option<String>,
    fault: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<Stored>,
    last_seq: u64,
}

impl RequestLog {
    pub fn push(
        &mut self,
        arrival: Arrival,
        status: u16,
        detail: LogDetail,
        fault: Option<String>,
    ) {
        self.last_seq += 1;
        let (ids, distinct) = match detail.ids {
            None => (Ids::None, None),
            Some(list) => {
                let mut lower: Vec<String> = list.iter().map(|s| s.to_lowercase()).collect();
                lower.sort_unstable();
                lower.dedup();
                let canonical: Option<Vec<u128>> = list
                    .iter()
                    .map(|s| {
                        uuid::Uuid::try_parse(s)
                            .ok()
                            .filter(|u| u.to_string() == *s)
                            .map(|u| u.as_u128())
                    })
                    .collect();
                let ids = match canonical {
                    Some(guids) => Ids::Guids(guids),
                    None => Ids::Raw(list),
                };
                (ids, Some(lower.len()))
            }
        };
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(Stored {
            seq: self.last_seq,
            arrival,
            status,
            ids,
            distinct,
            grant_type: detail.grant_type,
            fault,
        });
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries
            .iter()
            .map(|s| {
                let id_list: Vec<String> = match &s.ids {
                    Ids::None => Vec::new(),
                    Ids::Guids(g) => g
                        .iter()
                        .map(|&n| uuid::Uuid::from_u128(n).to_string())
                        .collect(),
                    Ids::Raw(r) => r.clone(),
                };
                LoggedRequest {
                    seq: s.seq,
                    at: s.arrival.at,
                    method: s.arrival.method.clone(),
                    path: s.arrival.path.clone(),
                    query: s.arrival.query.clone(),
                    status: s.status,
                    ids: s.distinct.map(|_| id_list.len()),
                    distinct_ids: s.distinct,
                    id_list,
                    retry_attempt: s.arrival.retry_attempt,
                    grant_type: s.grant_type.clone(),
                    fault: s.fault.clone(),
                    in_batch: s.arrival.in_batch,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival() -> Arrival {
        Arrival {
            at: Duration::from_millis(1500),
            method: "POST".into(),
            path: "/v1.0/communications/getPresencesByUserId".into(),
            query: None,
            retry_attempt: Some(2),
            in_batch: false,
        }
    }

    #[test]
    fn ids_come_back_exactly_as_sent() {
        let mut log = RequestLog::default();
        let a = "6f1c9e4e-2b7a-4c1e-9d3a-1b2c3d4e5f60".to_owned();
        let upper = a.to_uppercase();
        log.push(
            arrival(),
            200,
            LogDetail {
                ids: Some(vec![a.clone(), a.clone()]),
                grant_type: None,
            },
            None,
        );
        log.push(
            arrival(),
            400,
            LogDetail {
                ids: Some(vec![a.clone(), upper.clone(), "x".into()]),
                grant_type: None,
            },
            None,
        );
        let e = log.entries();
        assert_eq!(e[0].id_list, vec![a.clone(), a.clone()]);
        assert_eq!((e[0].ids, e[0].distinct_ids), (Some(2), Some(1)));
        assert_eq!(e[1].id_list, vec![a, upper, "x".to_owned()]);
        assert_eq!((e[1].ids, e[1].distinct_ids), (Some(3), Some(2)));
        let json = serde_json::to_value(&e[0]).unwrap();
        assert_eq!(json["at_ms"], 1500);
        assert_eq!(json["retry_attempt"], 2);
        let back: LoggedRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, e[0]);
    }

    #[test]
    fn keeps_the_most_recent_entries() {
        let mut log = RequestLog::default();
        for _ in 0..LOG_CAPACITY + 3 {
            log.push(arrival(), 200, LogDetail::default(), None);
        }
        let e = log.entries();
        assert_eq!(e.len(), LOG_CAPACITY);
        assert_eq!(e[0].seq, 4);
        log.clear();
        log.push(arrival(), 200, LogDetail::default(), None);
        assert_eq!(log.entries()[0].seq, LOG_CAPACITY as u64 + 4);
    }
}
