//! What one poll costs the watcher: reading a presence answer and diffing it
//! against what is held, for 650 people (one request) and 10,000 (a large
//! organisation's roster), next to plain `serde_json` parsing of the same
//! bytes into a `Value` (the floor: any reader of the answer pays at least
//! that).
//!
//! The answers look like Graph's: every field, `@odata` noise, status notes,
//! out-of-office replies, and a tenth of the people changed since the
//! previous poll, so that the diff emits changes as it would in real life.

use chrono::Utc;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use presently_core::presence::parse_presences;

#[path = "answers.rs"]
mod answers;
use answers::Poll;

fn parse_and_diff(c: &mut Criterion) {
    for n in [650, 10_000] {
        let Poll { ids, after, held } = Poll::of(n);
        // The answer must really differ, or the diff would be measured idle.
        let changes = held
            .clone()
            .apply(&ids, parse_presences(&after).unwrap(), Utc::now());
        assert_eq!(changes.len(), n.div_ceil(10));

        let mut group = c.benchmark_group(format!("answer of {n}"));
        group.throughput(Throughput::Bytes(after.len() as u64));
        group.bench_function("serde_json::Value (floor)", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&after)).unwrap())
        });
        group.bench_function("parse", |b| {
            b.iter(|| parse_presences(black_box(&after)).unwrap())
        });
        group.bench_function("parse + diff", |b| {
            b.iter_batched(
                || held.clone(),
                |mut state| {
                    let answer = parse_presences(black_box(&after)).unwrap();
                    let changes = state.apply(&ids, answer, Utc::now());
                    // Returned, so that dropping them is not timed: the
                    // engine keeps the state and hands the changes on.
                    (state, changes)
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, parse_and_diff);
criterion_main!(benches);
