//! What one poll costs the watcher in CPU time and allocations: the work of
//! `benches/presence.rs` (parse a Graph answer, diff it against what is held)
//! for 650 and 10,000 people, next to plain `serde_json::Value` parsing of the
//! same bytes, counted by a global allocator that counts.
//!
//! ```text
//! cargo run --release --example poll_cost -p presently-core [-- --json]
//! ```
//!
//! CPU time is the thread's own time on a CPU (`/proc/thread-self/schedstat`),
//! so that other work on a shared machine does not inflate it, averaged over
//! about a second of repetitions. The answers are built exactly as the
//! criterion bench builds them (a tenth of the people changed since the
//! previous answer, every field, status notes and out-of-office replies), so
//! the two sets of numbers describe the same work.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use presently_core::presence::parse_presences;

/// The system allocator, counting calls and bytes.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation is an allocation: it may copy the whole block.
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[path = "../benches/answers.rs"]
mod answers;
use answers::Poll;

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat (Linux) gives the thread's CPU time")
}

struct Cost {
    cpu_us: f64,
    allocations: u64,
    bytes: u64,
}

/// Runs `setup` then `work` repeatedly for about `budget`; only `work` is
/// timed and counted.
fn measure<S, T>(
    budget: Duration,
    mut setup: impl FnMut() -> S,
    mut work: impl FnMut(S) -> T,
) -> Cost {
    // One run to warm caches, and the allocation count of one run.
    let input = setup();
    let (a0, b0) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let out = black_box(work(input));
    let (a1, b1) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    drop(out);
    let started = Instant::now();
    let (mut cpu, mut runs) = (0u64, 0u64);
    while started.elapsed() < budget || runs < 10 {
        let input = setup();
        let t0 = thread_cpu_ns();
        let out = black_box(work(input));
        cpu += thread_cpu_ns() - t0;
        drop(out);
        runs += 1;
    }
    Cost {
        cpu_us: cpu as f64 / runs as f64 / 1_000.0,
        allocations: a1 - a0,
        bytes: b1 - b0,
    }
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let budget = Duration::from_millis(1_500);
    let mut rows = Vec::new();
    for n in [650, 10_000] {
        let Poll { ids, after, held } = Poll::of(n);

        let floor = measure(
            budget,
            || (),
            |()| serde_json::from_slice::<serde_json::Value>(black_box(&after)).unwrap(),
        );
        let parse = measure(
            budget,
            || (),
            |()| parse_presences(black_box(&after)).unwrap(),
        );
        let diff = measure(
            budget,
            || held.clone(),
            |mut state| {
                let answer = parse_presences(black_box(&after)).unwrap();
                let changes = state.apply(&ids, answer, Utc::now());
                assert_eq!(changes.len(), n.div_ceil(10));
                (state, changes)
            },
        );
        for (what, cost) in [
            ("serde_json::Value (floor)", floor),
            ("parse", parse),
            ("parse + diff", diff),
        ] {
            rows.push((n, after.len(), what, cost));
        }
    }
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, bytes, what, c)| {
                serde_json::json!({
                    "teammates": n, "answer_bytes": bytes, "work": what,
                    "cpu_us": (c.cpu_us * 10.0).round() / 10.0,
                    "allocations": c.allocations, "allocated_bytes": c.bytes,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return;
    }
    println!("| teammates | answer | work | CPU per poll | allocations | allocated |");
    println!("|---:|---:|---|---:|---:|---:|");
    for (n, bytes, what, c) in rows {
        println!(
            "| {n} | {:.0} KiB | {what} | {:.0} µs | {} | {:.0} KiB |",
            bytes as f64 / 1024.0,
            c.cpu_us,
            c.allocations,
            c.bytes as f64 / 1024.0
        );
    }
}
