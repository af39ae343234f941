//! Graph-like presence answers for the benchmarks (`benches/presence.rs`)
//! and `examples/poll_cost.rs`, so that both measure the very same bytes.

use chrono::Utc;
use presently_core::engine::LastSeen;
use presently_core::presence::parse_presences;

/// What one poll of `n` people works on: their IDs, the answer held, the
/// next answer (a tenth of them changed) and the state after the held one.
pub struct Poll {
    pub ids: Vec<String>,
    pub after: Vec<u8>,
    pub held: LastSeen,
}

impl Poll {
    pub fn of(n: usize) -> Poll {
        let ids: Vec<String> = (0..n).map(id).collect();
        let mut held = LastSeen::new();
        held.apply(&ids, parse_presences(&answer(n, 0)).unwrap(), Utc::now());
        Poll {
            ids,
            after: answer(n, 1),
            held,
        }
    }
}

const AVAILABILITY: [(&str, &str); 6] = [
    ("Available", "Available"),
    ("Busy", "InAMeeting"),
    ("Busy", "InACall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
    ("Offline", "OffWork"),
];

pub fn id(n: usize) -> String {
    format!(
        "{:08x}-0000-4000-8000-{n:012x}",
        n * 2_654_435_761 % 0xffff_ffff
    )
}

/// A Graph answer for `n` people; `round` shifts every tenth person's state.
pub fn answer(n: usize, round: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.presence)","value":["#,
    );
    for i in 0..n {
        let shift = if i % 10 == 0 { round } else { 0 };
        let (availability, activity) = AVAILABILITY[(i + shift) % AVAILABILITY.len()];
        let note = if i % 8 == 0 {
            r#"{"message":{"content":"Heads down on the quarterly report until 3","contentType":"text"},"expiryDateTime":null,"publishedDateTime":null}"#
        } else {
            "null"
        };
        let ooo = if i % 25 == 0 {
            r#"{"isOutOfOffice":true,"message":"I am on leave until Monday."}"#
        } else {
            r#"{"isOutOfOffice":false,"message":null}"#
        };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r##"{{"@odata.type":"#microsoft.graph.presence","id":"{}","availability":"{availability}","activity":"{activity}","statusMessage":{note},"outOfOfficeSettings":{ooo},"sequenceNumber":"C{:010}","workLocation":{{"workLocationType":"office","source":"automatic","placeId":null}}}}"##,
            id(i),
            1_000_000 + round * 100_000 + i
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}
