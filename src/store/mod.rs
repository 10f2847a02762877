//! State that must survive a restart: each server's daily-post settings, the claims
//! that make a daily post happen exactly once, the rotation history, and the curation
//! log: questions parley could not answer, the answers it gave, and the votes on them.
//!
//! [`Store`] is the interface the rest of parley uses; [`SqliteStore`] keeps it in one
//! SQLite file under the data directory. A shared PostgreSQL behind the same trait is
//! the way past one machine. Every operation is one transaction. The store reads no
//! clock: instants are arguments, like everywhere else in the library.
//!
//! Discord ids are `u64` here and must fit in an `i64` in the database, which every
//! Discord id does (they are 63-bit).

mod sqlite;

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::{Date, Time};

pub use sqlite::SqliteStore;

/// The errors of a store's own backend, kept opaque so that callers do not depend on
/// which database is behind the trait.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: BackendError,
    },
    #[error(
        "{path} cannot be used as parley's database: {detail}. It has been left as it \
         is: move it aside or restore a backup"
    )]
    Unusable { path: PathBuf, detail: String },
    #[error(
        "{path} has schema version {found}, newer than this parley knows ({known}); it \
         has been left as it is: run the newer parley that wrote it"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
    #[error("the database holds an invalid {column}: {value:?}")]
    Invalid { column: &'static str, value: String },
    #[error("Discord id {0} is out of range (larger than 2^63 - 1)")]
    IdOutOfRange(u64),
    #[error("no daily post was claimed for server {guild} on {date}")]
    NotClaimed { guild: u64, date: Date },
}

/// A server's daily post: where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSettings {
    pub guild: u64,
    pub channel: u64,
    /// Local time of day (whole minutes).
    pub time: Time,
    /// IANA time zone name, as `daily::Schedule::zone_name` spells it.
    pub zone: String,
    /// Off keeps the settings, so turning the post back on needs no re-entry.
    pub enabled: bool,
}

/// A claim to post a server's fact for a local date, made before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim<'a> {
    pub guild: u64,
    pub date: Date,
    pub fact: &'a str,
    /// The rotation cycle the fact counts towards (see [`Rotation`]).
    pub cycle: u32,
    pub nonce: &'a str,
    pub claimed_at: Timestamp,
}

/// A recorded claim. `sent_at` and `message` are set once Discord has the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub guild: u64,
    pub date: Date,
    pub fact: String,
    pub nonce: String,
    pub claimed_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub message: Option<u64>,
}

/// A server's current rotation cycle and the facts seen in it, oldest first. A server
/// that has never had a post is in cycle 0 with nothing seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotation {
    pub cycle: u32,
    pub seen: Vec<String>,
}

/// A question parley could not answer, or answered with less confidence than the
/// "low confidence" mark: kept to show the curators what the knowledge base lacks.
/// No user id: the question is what matters, not who asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Unanswered<'a> {
    /// The question after normalisation (folded, markup stripped, words joined by
    /// spaces).
    pub question: &'a str,
    /// `None` for direct messages.
    pub guild: Option<u64>,
    pub asked_at: Timestamp,
    /// The facts that came closest, best first.
    pub closest: &'a [&'a str],
    /// The engine's confidence in its best candidate.
    pub confidence: f64,
    /// The fact given as the answer, when parley did answer (with low confidence).
    pub answered: Option<&'a str>,
}

/// An answer parley gave to a question: what votes attach to and what the report
/// counts. No user id.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered<'a> {
    pub fact: &'a str,
    /// The question after normalisation, as in [`Unanswered`].
    pub question: &'a str,
    pub guild: Option<u64>,
    pub confidence: f64,
    pub answered_at: Timestamp,
}

/// A vote on an answer (an id from [`Store::log_answer`]). A user has one vote per
/// answer: voting again replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    pub answer: u64,
    pub user: u64,
    pub helpful: bool,
    pub voted_at: Timestamp,
}

/// What a vote did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteOutcome {
    /// The user's first vote on this answer.
    Recorded,
    /// The user had voted the other way; the vote now counts this way.
    Changed,
    /// The user had already voted this way.
    Unchanged,
    /// The answer is not in the log (deleted after the retention period).
    UnknownAnswer,
}

/// A logged unanswered (or low-confidence) question, read back for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedQuestion {
    pub question: String,
    pub guild: Option<u64>,
    pub asked_at: Timestamp,
    pub closest: Vec<String>,
    pub confidence: f64,
    pub answered: Option<String>,
}

/// A logged answer with the votes it got, read back for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedAnswer {
    pub id: u64,
    pub fact: String,
    pub question: String,
    pub guild: Option<u64>,
    pub confidence: f64,
    pub answered_at: Timestamp,
    pub helpful: u32,
    pub unhelpful: u32,
}

/// How many entries of each kind a prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub unanswered: usize,
    pub answers: usize,
    pub votes: usize,
}

impl Pruned {
    pub fn total(&self) -> usize {
        self.unanswered + self.answers + self.votes
    }
}

/// parley's persistent state. Object-safe and shareable across tasks: callers hold an
/// `Arc<dyn Store>` and never learn which database is behind it. The methods block
/// (briefly: a local write); async callers run them on a blocking thread.
pub trait Store: Send + Sync {
    /// Creates or replaces a server's settings.
    fn set_settings(&self, settings: &GuildSettings) -> Result<(), StoreError>;

    fn settings(&self, guild: u64) -> Result<Option<GuildSettings>, StoreError>;

    /// Turns a server's post off, keeping the rest. False when it had no settings.
    fn disable(&self, guild: u64) -> Result<bool, StoreError>;

    /// Every server's settings, enabled or not, by guild id.
    fn all_settings(&self) -> Result<Vec<GuildSettings>, StoreError>;

    /// Claims the post for (guild, date), atomically: when it was already claimed
    /// (before a restart, or by a concurrent caller) the existing claim is returned
    /// unchanged, with its fact and nonce; otherwise this one is recorded, and its fact
    /// is added to the rotation history in the same transaction. A claim for a new
    /// cycle drops the history of older cycles.
    fn claim(&self, claim: &NewClaim<'_>) -> Result<Claim, StoreError>;

    /// Records that the claimed post was sent as `message`.
    fn mark_sent(
        &self,
        guild: u64,
        date: Date,
        message: u64,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Claims not yet marked sent, oldest date first: after a restart, each is resent
    /// with its own nonce, or dropped by the caller if its window has passed.
    fn unsent_claims(&self) -> Result<Vec<Claim>, StoreError>;

    /// The latest date a post was claimed for: the "last posted" date of scheduling.
    fn last_claimed_date(&self, guild: u64) -> Result<Option<Date>, StoreError>;

    /// The server's current rotation cycle.
    fn rotation(&self, guild: u64) -> Result<Rotation, StoreError>;

    /// Forgets a server's rotation history: it starts again at cycle 0.
    fn reset_rotation(&self, guild: u64) -> Result<(), StoreError>;

    fn log_unanswered(&self, entry: &Unanswered<'_>) -> Result<(), StoreError>;

    /// Logs an answer; returns its id, which votes name.
    fn log_answer(&self, entry: &Answered<'_>) -> Result<u64, StoreError>;

    /// Records a vote, replacing the user's earlier vote on the same answer.
    fn record_vote(&self, vote: &Vote) -> Result<VoteOutcome, StoreError>;

    /// Deletes what the log holds from before `older_than`: unanswered questions,
    /// answers, and the votes on those answers (whenever cast).
    fn prune_log(&self, older_than: Timestamp) -> Result<Pruned, StoreError>;

    /// Unanswered questions asked at or after `since` (all when `None`), oldest first.
    fn unanswered_since(&self, since: Option<Timestamp>)
    -> Result<Vec<LoggedQuestion>, StoreError>;

    /// Answers given at or after `since` (all when `None`), oldest first, with their
    /// vote counts.
    fn answers_since(&self, since: Option<Timestamp>) -> Result<Vec<LoggedAnswer>, StoreError>;
}
