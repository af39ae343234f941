use std::future::Future;

use crate::error::{Error, Result};
use crate::presence::Presence;

/// What one batch of IDs gave, after any splitting.
#[derive(Debug, Default)]
pub(super) struct BatchOutcome {
    pub(super) answered: Vec<(Vec<String>, Vec<Presence>)>,
    pub(super) rejected: Vec<String>,
    pub(super) error: Option<Error>,
}

/// Fetches one batch; a batch Graph refuses with 400 is split in halves until
/// the IDs it refuses on their own are found. The others are still answered.
///
/// The search is bounded: at most `2·⌈log2(n)⌉ + 1` requests besides the
/// batch's own, enough to find one refused ID among `n`. What is left then
/// keeps its last presence until the next poll, which goes on from there
/// (IDs found are no longer sent). If nothing was answered at all, the
/// refusal is Graph's or the request's, not the IDs': nobody is dropped.
pub(super) async fn fetch_splitting<F, Fut>(batch: Vec<String>, fetch: F) -> BatchOutcome
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<Presence>>>,
{
    let whole = batch.len();
    let extra_allowed = split_budget(whole);
    let mut out = BatchOutcome::default();
    let mut todo = vec![batch];
    let mut first_refusal = None;
    let mut sent = 0;
    while let Some(part) = todo.pop() {
        if sent > extra_allowed {
            // The rest waits for the next poll.
            out.error = first_refusal.clone();
            break;
        }
        sent += 1;
        match fetch(part.clone()).await {
            Ok(answer) => out.answered.push((part, answer)),
            Err(e @ Error::Graph { status: 400, .. }) => {
                if part.len() > 1 {
                    let mut left = part;
                    let right = left.split_off(left.len() / 2);
                    todo.push(right);
                    todo.push(left);
                } else {
                    out.rejected.push(part.into_iter().next().expect("one ID"));
                }
                first_refusal.get_or_insert(e);
            }
            Err(e) => {
                // Whatever was not asked yet keeps its last presence.
                out.error = Some(e);
                return out;
            }
        }
    }
    if whole > 1 && out.answered.is_empty() && !out.rejected.is_empty() {
        out.rejected.clear();
        out.error = first_refusal;
    }
    out
}

/// `2·⌈log2(n)⌉ + 1`: the requests a bisection may add to a batch of `n`.
fn split_budget(n: usize) -> usize {
    let log2_ceil = usize::BITS - n.max(1).saturating_sub(1).leading_zeros();
    2 * log2_ceil as usize + 1
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::engine::test_support::{id, p};

    fn refusing(
        bad: &'static [u32],
        calls: Arc<Mutex<Vec<usize>>>,
    ) -> impl Fn(Vec<String>) -> futures::future::BoxFuture<'static, Result<Vec<Presence>>> {
        move |ids: Vec<String>| {
            calls.lock().unwrap().push(ids.len());
            let refuse = ids.iter().any(|i| bad.iter().any(|b| *i == id(*b)));
            Box::pin(async move {
                if refuse {
                    Err(Error::Graph {
                        status: 400,
                        code: String::new(),
                        message: "Bad Request".into(),
                    })
                } else {
                    Ok(ids
                        .iter()
                        .map(|i| p(i, "Available", "Available", "1"))
                        .collect())
                }
            })
        }
    }

    #[tokio::test]
    async fn splitting_finds_a_refused_id_and_answers_the_rest() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let batch: Vec<String> = (0..650).map(id).collect();
        let out = fetch_splitting(batch.clone(), refusing(&[417], calls.clone())).await;
        assert!(out.error.is_none());
        assert_eq!(out.rejected, vec![id(417)]);
        let mut answered: Vec<String> = out.answered.iter().flat_map(|(a, _)| a.clone()).collect();
        answered.sort();
        let rest: Vec<String> = batch.into_iter().filter(|i| *i != id(417)).collect();
        assert_eq!(answered, rest, "everyone else is answered exactly once");
        let calls = calls.lock().unwrap();
        assert_eq!(calls[0], 650);
        assert!(
            calls.len() <= 1 + split_budget(650),
            "{} requests",
            calls.len()
        );
    }

    #[tokio::test]
    async fn two_refused_ids_are_found_over_two_polls_within_the_bound() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut batch: Vec<String> = (0..650).map(id).collect();
        let mut found = Vec::new();
        for poll in 0..3 {
            calls.lock().unwrap().clear();
            let out = fetch_splitting(batch.clone(), refusing(&[17, 400], calls.clone())).await;
            assert!(
                calls.lock().unwrap().len() <= 1 + split_budget(650),
                "poll {poll}"
            );
            batch.retain(|i| !out.rejected.contains(i));
            found.extend(out.rejected);
            if found.len() == 2 {
                break;
            }
        }
        found.sort();
        assert_eq!(found, vec![id(17), id(400)]);
    }

    #[tokio::test]
    async fn a_batch_refused_over_and_over_costs_a_bounded_number_of_requests() {
        static EVERYONE: [u32; 650] = {
            let mut all = [0u32; 650];
            let mut i = 0;
            while i < 650 {
                all[i] = i as u32;
                i += 1;
            }
            all
        };
        let calls = Arc::new(Mutex::new(Vec::new()));
        let out = fetch_splitting(
            (0..650).map(id).collect(),
            refusing(&EVERYONE, calls.clone()),
        )
        .await;
        assert_eq!(split_budget(650), 2 * 10 + 1);
        assert_eq!(calls.lock().unwrap().len(), 1 + split_budget(650));
        assert!(
            out.rejected.is_empty(),
            "nobody is dropped for Graph's refusal"
        );
        assert!(out.answered.is_empty());
        assert!(matches!(out.error, Some(Error::Graph { status: 400, .. })));
    }

    #[tokio::test]
    async fn a_refusal_of_everything_drops_nobody() {
        static ALL: [u32; 4] = [0, 1, 2, 3];
        let calls = Arc::new(Mutex::new(Vec::new()));
        let out = fetch_splitting((0..4).map(id).collect(), refusing(&ALL, calls)).await;
        assert!(out.rejected.is_empty());
        assert!(matches!(out.error, Some(Error::Graph { status: 400, .. })));
    }

    #[tokio::test]
    async fn other_errors_stop_the_batch_without_rejecting() {
        let out = fetch_splitting((0..3).map(id).collect(), |_ids| async {
            Err::<Vec<Presence>, _>(Error::Network("down".into()))
        })
        .await;
        assert!(out.rejected.is_empty() && out.answered.is_empty());
        assert!(matches!(out.error, Some(Error::Network(_))));
    }
}
