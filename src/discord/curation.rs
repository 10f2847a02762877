//! What the bot keeps for the people who curate the knowledge base: every question it
//! could not answer (or answered with low confidence), every answer it gave (so that
//! votes can name it), and the votes. Never who asked; a voter's id only so that one
//! person has one vote per answer. Everything is deleted after the retention period.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::config::CurationConfig;
use crate::engine::text;
use crate::engine::{AbstainReason, Explanation, Reply};
use crate::store::{Answered, Store, StoreError, Unanswered, Vote, VoteOutcome};

/// At most this many closest facts are logged with an unanswered question.
const CLOSEST: usize = 3;

/// How often old log entries are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The curation log over the store.
#[derive(Clone)]
pub struct Log {
    store: Arc<dyn Store>,
    low_confidence: f64,
    retention: jiff::SignedDuration,
}

impl Log {
    pub fn new(store: Arc<dyn Store>, config: &CurationConfig) -> Log {
        Log {
            store,
            low_confidence: config.low_confidence,
            retention: config.retention(),
        }
    }

    /// Logs the engine's work on `question`; returns the answer's id when it was an
    /// answer (for its vote buttons). Blocks on the store: call it from a blocking
    /// thread. A store failure is logged and costs only the entry: the user still gets
    /// the reply.
    pub fn record(
        &self,
        question: &str,
        guild: Option<u64>,
        explained: &Explanation<'_>,
        now: Timestamp,
    ) -> Option<u64> {
        let reply = &explained.reply;
        let normalised = normalise(question);
        let confidence = reply.confidence();
        let log_unanswered = |closest: &[&str], answered: Option<&str>| {
            self.store.log_unanswered(&Unanswered {
                question: &normalised,
                guild,
                asked_at: now,
                closest,
                confidence,
                answered,
            })
        };
        let result: Result<Option<u64>, StoreError> = match reply {
            // Nothing was asked: nothing to learn from.
            Reply::Abstain {
                reason: AbstainReason::Empty | AbstainReason::TooLong,
                ..
            } => Ok(None),
            Reply::Abstain { .. } => {
                // The best candidates, even those too weak to be suggested.
                let closest: Vec<&str> = explained
                    .candidates
                    .iter()
                    .take(CLOSEST)
                    .map(|c| c.fact.id.as_str())
                    .collect();
                log_unanswered(&closest, None).map(|()| None)
            }
            Reply::Answer { fact, confidence } => {
                let id = fact.id.as_str();
                let low = if *confidence < self.low_confidence {
                    log_unanswered(&[id], Some(id))
                } else {
                    Ok(())
                };
                low.and_then(|()| {
                    self.store.log_answer(&Answered {
                        fact: id,
                        question: &normalised,
                        guild,
                        confidence: *confidence,
                        answered_at: now,
                    })
                })
                .map(Some)
            }
        };
        result.unwrap_or_else(|e| {
            tracing::warn!("cannot log a question: {e}");
            None
        })
    }

    /// Records a vote (blocking). `None` when the store failed.
    pub fn vote(&self, vote: Vote) -> Option<VoteOutcome> {
        self.store
            .record_vote(&vote)
            .inspect_err(|e| tracing::warn!("cannot record a vote: {e}"))
            .ok()
    }

    /// Deletes entries older than the retention period at `now` (blocking).
    pub fn prune(&self, now: Timestamp) -> Result<usize, StoreError> {
        let cutoff = now.saturating_sub(self.retention).unwrap_or(Timestamp::MIN);
        Ok(self.store.prune_log(cutoff)?.total())
    }
}

/// A question as the log keeps it: folded, chat markup stripped, words joined by
/// single spaces. Mentions, links and formatting are gone, so nothing personal that
/// chat markup carries is stored.
pub fn normalise(question: &str) -> String {
    text::tokenize(question).join(" ")
}

/// Deletes old log entries now and every hour, until aborted.
pub async fn prune_loop(log: Log) {
    loop {
        let log_now = log.clone();
        match tokio::task::spawn_blocking(move || log_now.prune(Timestamp::now())).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(deleted = n, "old curation log entries deleted"),
            Ok(Err(e)) => tracing::warn!("cannot delete old curation log entries: {e}"),
            Err(e) => tracing::warn!("deleting old curation log entries failed: {e}"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// The reply to a vote, shown only to the voter.
pub fn vote_notice(outcome: Option<VoteOutcome>, helpful: bool) -> &'static str {
    match (outcome, helpful) {
        (Some(VoteOutcome::Recorded), true) => "Thanks: your 👍 is recorded.",
        (Some(VoteOutcome::Recorded), false) => {
            "Thanks: your 👎 is recorded. The people who keep my knowledge base will look at this answer."
        }
        (Some(VoteOutcome::Changed), true) => "Your vote is changed to 👍.",
        (Some(VoteOutcome::Changed), false) => "Your vote is changed to 👎.",
        (Some(VoteOutcome::Unchanged), true) => "You already voted 👍 on this answer.",
        (Some(VoteOutcome::Unchanged), false) => "You already voted 👎 on this answer.",
        (Some(VoteOutcome::UnknownAnswer), _) => {
            "This answer is too old to vote on: votes are kept only for a while."
        }
        (None, _) => "Sorry, I could not record your vote. Please try again in a moment.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_words_only() {
        assert_eq!(
            normalise("  <@123> When was the **GRAIN** deal signed?? https://x.example/a "),
            "when was the grain deal signed"
        );
        assert_eq!(normalise("\u{0}\u{7}"), "");
    }

    #[test]
    fn a_vote_notice_never_names_anyone() {
        for outcome in [
            Some(VoteOutcome::Recorded),
            Some(VoteOutcome::Changed),
            Some(VoteOutcome::Unchanged),
            Some(VoteOutcome::UnknownAnswer),
            None,
        ] {
            for helpful in [true, false] {
                let notice = vote_notice(outcome, helpful);
                assert!(!notice.contains('@') && !notice.contains('<'), "{notice}");
            }
        }
    }
}
