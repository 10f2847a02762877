//! [`Store`] in one SQLite file, `parley.sqlite3` in the data directory.
//!
//! Opening checks before it writes anything: a file that is not SQLite, is damaged,
//! belongs to another program, or was written by a newer parley is refused with an
//! error naming it, and is never modified, replaced or deleted; it may be someone's
//! only copy. Then the schema is brought up to date: `PRAGMA user_version` counts the
//! steps of [`MIGRATIONS`] already applied, and the missing ones run in one
//! transaction, so a crash mid-migration leaves the previous version intact.
//!
//! Durability: WAL journal with `synchronous = FULL`. A claim must be on disk before
//! its message is sent; with `NORMAL` a power cut could lose a committed claim, and the
//! restarted bot would post that day a second time. Writes are a few a day per server,
//! so the extra sync costs nothing that matters.
//!
//! Values: Discord ids as `INTEGER`, dates as `YYYY-MM-DD`, times of day as `HH:MM:SS`,
//! instants as RFC 3339 UTC with nine fractional digits (fixed width, so text order is
//! time order and nothing is lost).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior};

use super::{
    Answered, Claim, GuildSettings, LoggedAnswer, LoggedQuestion, NewClaim, Pruned, Rotation,
    Store, StoreError, Unanswered, Vote, VoteOutcome,
};

/// Marks a database as parley's (`PRAGMA application_id`; "parl" in ASCII), so that
/// another program's SQLite file is never taken for an old parley one and migrated.
const APPLICATION_ID: i32 = 0x7061_726c;

/// How long a write waits for another connection's (another process's) transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one step per version. Append only: a released step never changes, or
/// databases that already ran it would differ from new ones.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    post_time  TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1))
) STRICT;

CREATE TABLE daily_claims (
    guild_id   INTEGER NOT NULL,
    local_date TEXT NOT NULL,
    fact_id    TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    sent_at    TEXT,
    message_id INTEGER,
    PRIMARY KEY (guild_id, local_date)
) STRICT;

CREATE INDEX daily_claims_unsent ON daily_claims (local_date) WHERE sent_at IS NULL;

CREATE TABLE rotation_history (
    seq      INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    cycle    INTEGER NOT NULL,
    fact_id  TEXT NOT NULL,
    UNIQUE (guild_id, cycle, fact_id)
) STRICT;

CREATE TABLE unanswered_questions (
    id               INTEGER PRIMARY KEY,
    question         TEXT NOT NULL,
    guild_id         INTEGER,
    asked_at         TEXT NOT NULL,
    closest_fact_ids TEXT NOT NULL
) STRICT;

CREATE INDEX unanswered_questions_asked_at ON unanswered_questions (asked_at);

CREATE TABLE answer_feedback (
    message_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    fact_id    TEXT NOT NULL,
    vote       INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    PRIMARY KEY (message_id, user_id)
) STRICT;
"#,
    r#"
-- The curation log. Votes now name a logged answer rather than a message, so that a
-- vote also finds the question it was about. answer_feedback was never written to.
DROP TABLE answer_feedback;

ALTER TABLE unanswered_questions ADD COLUMN confidence REAL NOT NULL DEFAULT 0;
ALTER TABLE unanswered_questions ADD COLUMN answered_fact_id TEXT;

CREATE TABLE answers (
    id          INTEGER PRIMARY KEY,
    fact_id     TEXT NOT NULL,
    question    TEXT NOT NULL,
    guild_id    INTEGER,
    confidence  REAL NOT NULL,
    answered_at TEXT NOT NULL
) STRICT;

CREATE INDEX answers_answered_at ON answers (answered_at);

CREATE TABLE votes (
    answer_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    vote      INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at  TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
) STRICT;
"#,
];

/// The SQLite store. One connection behind a mutex (a `Connection` is not `Sync`): the
/// writes are tiny and rare, so a pool would buy nothing.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStore {
    /// The database file's name in the data directory.
    pub const FILE_NAME: &str = "parley.sqlite3";

    /// Opens (creating if need be) `data_dir/parley.sqlite3`, creating the directory
    /// too, and migrates it to the current schema.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(Self::FILE_NAME);
        let opening = |source: rusqlite::Error| StoreError::Open {
            path: path.clone(),
            source: Box::new(source),
        };
        let mut conn = Connection::open(&path).map_err(opening)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opening)?;
        inspect(&conn, &path)?;
        // Only now that the file is known to be ours (or new) may anything be written.
        // WAL may be refused (some network file systems); the rollback journal is just
        // as safe, only slower, so that is not an error.
        conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0))
            .map_err(opening)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(opening)?;
        migrate(&mut conn, &path)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held happened inside a transaction, which was
        // rolled back when it was dropped: the connection is fine to use.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a transaction that takes the write lock at once, so that two
    /// connections never both read, then both try to write, and one fail.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// Runs `f` in a read transaction: one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(behavior)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Checks, reading only, that the file at `path` is empty, or parley's and not newer
/// than this code.
fn inspect(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let unusable = |detail: String| StoreError::Unusable {
        path: path.to_path_buf(),
        detail,
    };
    let failed = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => unusable("it is not an SQLite database".into()),
        Some(ErrorCode::DatabaseCorrupt) => unusable(format!("it is damaged ({e})")),
        _ => StoreError::Open {
            path: path.to_path_buf(),
            source: Box::new(e),
        },
    };
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(failed)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(failed)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(failed)?;
    if application_id != APPLICATION_ID {
        if application_id != 0 {
            return Err(unusable(format!(
                "it belongs to another program (application id {application_id})"
            )));
        }
        if version != 0 || objects != 0 {
            return Err(unusable(
                "it is an SQLite database of another program (it has tables, but not \
                 parley's mark)"
                    .into(),
            ));
        }
    }
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(failed)?;
    if check != "ok" {
        return Err(unusable(format!("it is damaged ({check})")));
    }
    Ok(())
}

/// Applies the missing schema steps in one transaction. The version is read again
/// under the write lock: another process may have migrated in the meantime.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    let Some(missing) = MIGRATIONS.get(applied..) else {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            known: MIGRATIONS.len(),
        });
    };
    if missing.is_empty() {
        return Ok(());
    }
    for step in missing {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.commit()?;
    Ok(())
}

fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))
}

fn stored_id(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Invalid {
        column,
        value: value.to_string(),
    })
}

fn parse<T: FromStr>(column: &'static str, text: String) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Invalid {
        column,
        value: text,
    })
}

fn instant_text(at: Timestamp) -> String {
    format!("{at:.9}")
}

/// A `guild_settings` row as SQLite returns it.
type SettingsRow = (i64, i64, String, String, bool);

fn settings_from_row(row: SettingsRow) -> Result<GuildSettings, StoreError> {
    let (guild, channel, time, zone, enabled) = row;
    Ok(GuildSettings {
        guild: stored_id("guild_id", guild)?,
        channel: stored_id("channel_id", channel)?,
        time: parse("post_time", time)?,
        zone,
        enabled,
    })
}

const SETTINGS_COLUMNS: &str = "guild_id, channel_id, post_time, time_zone, enabled";

fn settings_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SettingsRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

/// A `daily_claims` row as SQLite returns it.
type ClaimRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
);

const CLAIM_COLUMNS: &str = "guild_id, local_date, fact_id, nonce, claimed_at, sent_at, message_id";

fn claim_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ClaimRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn claim_from_row(row: ClaimRow) -> Result<Claim, StoreError> {
    let (guild, date, fact, nonce, claimed_at, sent_at, message) = row;
    Ok(Claim {
        guild: stored_id("guild_id", guild)?,
        date: parse("local_date", date)?,
        fact,
        nonce,
        claimed_at: parse("claimed_at", claimed_at)?,
        sent_at: sent_at.map(|t| parse("sent_at", t)).transpose()?,
        message: message.map(|m| stored_id("message_id", m)).transpose()?,
    })
}

impl Store for SqliteStore {
    fn set_settings(&self, s: &GuildSettings) -> Result<(), StoreError> {
        let (guild, channel) = (sql_id(s.guild)?, sql_id(s.channel)?);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO guild_settings (guild_id, channel_id, post_time, time_zone, enabled)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                     post_time = excluded.post_time, time_zone = excluded.time_zone,
                     enabled = excluded.enabled",
                (guild, channel, s.time.to_string(), &s.zone, s.enabled),
            )?;
            Ok(())
        })
    }

    fn settings(&self, guild: u64) -> Result<Option<GuildSettings>, StoreError> {
        let guild = sql_id(guild)?;
        self.read(|tx| {
            tx.query_row(
                &format!("SELECT {SETTINGS_COLUMNS} FROM guild_settings WHERE guild_id = ?1"),
                [guild],
                settings_row,
            )
            .optional()?
            .map(settings_from_row)
            .transpose()
        })
    }

    fn disable(&self, guild: u64) -> Result<bool, StoreError> {
        let guild = sql_id(guild)?;
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE guild_settings SET enabled = 0 WHERE guild_id = ?1",
                [guild],
            )?;
            Ok(changed > 0)
        })
    }

    fn all_settings(&self) -> Result<Vec<GuildSettings>, StoreError> {
        self.read(|tx| {
            let mut statement = tx.prepare(&format!(
                "SELECT {SETTINGS_COLUMNS} FROM guild_settings ORDER BY guild_id"
            ))?;
            let rows = statement
                .query_map([], settings_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(settings_from_row).collect()
        })
    }

    fn claim(&self, claim: &NewClaim<'_>) -> Result<Claim, StoreError> {
        let guild = sql_id(claim.guild)?;
        let date = claim.date.to_string();
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO daily_claims (guild_id, local_date, fact_id, nonce, claimed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (guild_id, local_date) DO NOTHING",
                (
                    guild,
                    &date,
                    claim.fact,
                    claim.nonce,
                    instant_text(claim.claimed_at),
                ),
            )?;
            if inserted > 0 {
                tx.execute(
                    "INSERT INTO rotation_history (guild_id, cycle, fact_id) VALUES (?1, ?2, ?3)
                     ON CONFLICT (guild_id, cycle, fact_id) DO NOTHING",
                    (guild, claim.cycle, claim.fact),
                )?;
                tx.execute(
                    "DELETE FROM rotation_history WHERE guild_id = ?1 AND cycle < ?2",
                    (guild, claim.cycle),
                )?;
            }
            let row = tx.query_row(
                &format!(
                    "SELECT {CLAIM_COLUMNS} FROM daily_claims
                     WHERE guild_id = ?1 AND local_date = ?2"
                ),
                (guild, &date),
                claim_row,
            )?;
            claim_from_row(row)
        })
    }

    fn mark_sent(
        &self,
        guild: u64,
        date: Date,
        message: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (guild_id, message) = (sql_id(guild)?, sql_id(message)?);
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE daily_claims SET sent_at = ?3, message_id = ?4
                 WHERE guild_id = ?1 AND local_date = ?2",
                (guild_id, date.to_string(), instant_text(now), message),
            )?;
            if changed == 0 {
                return Err(StoreError::NotClaimed { guild, date });
            }
            Ok(())
        })
    }

    fn unsent_claims(&self) -> Result<Vec<Claim>, StoreError> {
        self.read(|tx| {
            let mut statement = tx.prepare(&format!(
                "SELECT {CLAIM_COLUMNS} FROM daily_claims WHERE sent_at IS NULL
                 ORDER BY local_date, guild_id"
            ))?;
            let rows = statement
                .query_map([], claim_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(claim_from_row).collect()
        })
    }

    fn last_claimed_date(&self, guild: u64) -> Result<Option<Date>, StoreError> {
        let guild = sql_id(guild)?;
        self.read(|tx| {
            let last: Option<String> = tx.query_row(
                "SELECT max(local_date) FROM daily_claims WHERE guild_id = ?1",
                [guild],
                |row| row.get(0),
            )?;
            last.map(|d| parse("local_date", d)).transpose()
        })
    }

    fn rotation(&self, guild: u64) -> Result<Rotation, StoreError> {
        let guild = sql_id(guild)?;
        self.read(|tx| {
            let cycle: Option<u32> = tx.query_row(
                "SELECT max(cycle) FROM rotation_history WHERE guild_id = ?1",
                [guild],
                |row| row.get(0),
            )?;
            let Some(cycle) = cycle else {
                return Ok(Rotation::default());
            };
            let mut statement = tx.prepare(
                "SELECT fact_id FROM rotation_history WHERE guild_id = ?1 AND cycle = ?2
                 ORDER BY seq",
            )?;
            let seen = statement
                .query_map((guild, cycle), |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(Rotation { cycle, seen })
        })
    }

    fn reset_rotation(&self, guild: u64) -> Result<(), StoreError> {
        let guild = sql_id(guild)?;
        self.write(|tx| {
            tx.execute("DELETE FROM rotation_history WHERE guild_id = ?1", [guild])?;
            Ok(())
        })
    }

    fn log_unanswered(&self, entry: &Unanswered<'_>) -> Result<(), StoreError> {
        let guild = entry.guild.map(sql_id).transpose()?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO unanswered_questions
                     (question, guild_id, asked_at, closest_fact_ids, confidence, answered_fact_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    entry.question,
                    guild,
                    instant_text(entry.asked_at),
                    // Fact ids are kebab-case: a space separates them unambiguously.
                    entry.closest.join(" "),
                    entry.confidence,
                    entry.answered,
                ),
            )?;
            Ok(())
        })
    }

    fn log_answer(&self, entry: &Answered<'_>) -> Result<u64, StoreError> {
        let guild = entry.guild.map(sql_id).transpose()?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO answers (fact_id, question, guild_id, confidence, answered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    entry.fact,
                    entry.question,
                    guild,
                    entry.confidence,
                    instant_text(entry.answered_at),
                ),
            )?;
            stored_id("answers.id", tx.last_insert_rowid())
        })
    }

    fn record_vote(&self, vote: &Vote) -> Result<VoteOutcome, StoreError> {
        let (answer, user) = (sql_id(vote.answer)?, sql_id(vote.user)?);
        let value: i64 = if vote.helpful { 1 } else { -1 };
        self.write(|tx| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM answers WHERE id = ?1)",
                [answer],
                |row| row.get(0),
            )?;
            if !exists {
                return Ok(VoteOutcome::UnknownAnswer);
            }
            let before: Option<i64> = tx
                .query_row(
                    "SELECT vote FROM votes WHERE answer_id = ?1 AND user_id = ?2",
                    (answer, user),
                    |row| row.get(0),
                )
                .optional()?;
            if before == Some(value) {
                return Ok(VoteOutcome::Unchanged);
            }
            tx.execute(
                "INSERT INTO votes (answer_id, user_id, vote, voted_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (answer_id, user_id) DO UPDATE
                     SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer, user, value, instant_text(vote.voted_at)),
            )?;
            Ok(match before {
                Some(_) => VoteOutcome::Changed,
                None => VoteOutcome::Recorded,
            })
        })
    }

    fn prune_log(&self, older_than: Timestamp) -> Result<Pruned, StoreError> {
        let cutoff = instant_text(older_than);
        self.write(|tx| {
            let unanswered = tx.execute(
                "DELETE FROM unanswered_questions WHERE asked_at < ?1",
                [&cutoff],
            )?;
            let votes = tx.execute(
                "DELETE FROM votes WHERE answer_id IN
                     (SELECT id FROM answers WHERE answered_at < ?1)",
                [&cutoff],
            )?;
            let answers = tx.execute("DELETE FROM answers WHERE answered_at < ?1", [&cutoff])?;
            Ok(Pruned {
                unanswered,
                answers,
                votes,
            })
        })
    }

    fn unanswered_since(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<LoggedQuestion>, StoreError> {
        let since = since.map(instant_text).unwrap_or_default();
        self.read(|tx| {
            let mut statement = tx.prepare(
                "SELECT question, guild_id, asked_at, closest_fact_ids, confidence, answered_fact_id
                 FROM unanswered_questions WHERE asked_at >= ?1 ORDER BY asked_at, id",
            )?;
            let rows = statement
                .query_map([since], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, f64>(4)?,
                        row.get::<_, Option<String>>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(
                    |(question, guild, asked_at, closest, confidence, answered)| {
                        Ok(LoggedQuestion {
                            question,
                            guild: guild.map(|g| stored_id("guild_id", g)).transpose()?,
                            asked_at: parse("asked_at", asked_at)?,
                            closest: closest.split_whitespace().map(str::to_string).collect(),
                            confidence,
                            answered,
                        })
                    },
                )
                .collect()
        })
    }

    fn answers_since(&self, since: Option<Timestamp>) -> Result<Vec<LoggedAnswer>, StoreError> {
        let since = since.map(instant_text).unwrap_or_default();
        self.read(|tx| {
            let mut statement = tx.prepare(
                "SELECT a.id, a.fact_id, a.question, a.guild_id, a.confidence, a.answered_at,
                        count(*) FILTER (WHERE v.vote = 1),
                        count(*) FILTER (WHERE v.vote = -1)
                 FROM answers a LEFT JOIN votes v ON v.answer_id = a.id
                 WHERE a.answered_at >= ?1
                 GROUP BY a.id ORDER BY a.answered_at, a.id",
            )?;
            let rows = statement
                .query_map([since], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                        row.get::<_, f64>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, u32>(6)?,
                        row.get::<_, u32>(7)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(
                    |(id, fact, question, guild, confidence, answered_at, helpful, unhelpful)| {
                        Ok(LoggedAnswer {
                            id: stored_id("answers.id", id)?,
                            fact,
                            question,
                            guild: guild.map(|g| stored_id("guild_id", g)).transpose()?,
                            confidence,
                            answered_at: parse("answered_at", answered_at)?,
                            helpful,
                            unhelpful,
                        })
                    },
                )
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use jiff::civil::Time;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn settings(guild: u64) -> GuildSettings {
        GuildSettings {
            guild,
            channel: 900_000_000_000_000_001,
            time: Time::constant(9, 30, 0, 0),
            zone: "Europe/Kyiv".into(),
            enabled: true,
        }
    }

    fn new_claim<'a>(guild: u64, date: &str, fact: &'a str, nonce: &'a str) -> NewClaim<'a> {
        NewClaim {
            guild,
            date: day(date),
            fact,
            cycle: 0,
            nonce,
            claimed_at: at("2024-06-15T06:30:00Z"),
        }
    }

    fn pragma(store: &SqliteStore, name: &str) -> i64 {
        store
            .lock()
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    }

    fn votes(store: &SqliteStore, answer: u64) -> Vec<(i64, i64)> {
        store
            .lock()
            .prepare("SELECT user_id, vote FROM votes WHERE answer_id = ?1 ORDER BY user_id")
            .unwrap()
            .query_map([answer as i64], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn unanswered<'a>(question: &'a str, asked_at: &str) -> Unanswered<'a> {
        Unanswered {
            question,
            guild: Some(12),
            asked_at: at(asked_at),
            closest: &[],
            confidence: 0.2,
            answered: None,
        }
    }

    fn answered<'a>(fact: &'a str, question: &'a str, answered_at: &str) -> Answered<'a> {
        Answered {
            fact,
            question,
            guild: Some(12),
            confidence: 0.9,
            answered_at: at(answered_at),
        }
    }

    fn vote(answer: u64, user: u64, helpful: bool) -> Vote {
        Vote {
            answer,
            user,
            helpful,
            voted_at: at("2024-06-15T12:00:00Z"),
        }
    }

    fn unanswered_count(store: &SqliteStore) -> i64 {
        store
            .lock()
            .query_row("SELECT count(*) FROM unanswered_questions", [], |row| {
                row.get(0)
            })
            .unwrap()
    }

    #[test]
    fn creates_and_migrates_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let store = SqliteStore::open(&data).unwrap();
        assert_eq!(store.path(), data.join("parley.sqlite3"));
        assert_eq!(pragma(&store, "user_version"), MIGRATIONS.len() as i64);
        assert_eq!(pragma(&store, "application_id"), i64::from(APPLICATION_ID));
        assert_eq!(pragma(&store, "synchronous"), 2, "FULL");
        let mode: String = store
            .lock()
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(store.all_settings().unwrap(), []);
        assert_eq!(store.rotation(1).unwrap(), Rotation::default());
    }

    #[test]
    fn an_empty_file_is_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SqliteStore::FILE_NAME), b"").unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(pragma(&store, "user_version"), MIGRATIONS.len() as i64);
    }

    #[test]
    fn everything_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.set_settings(&settings(1)).unwrap();
            store.set_settings(&settings(2)).unwrap();
            store.disable(2).unwrap();
            store
                .claim(&new_claim(1, "2024-06-15", "fact-a", "n1"))
                .unwrap();
            store
                .mark_sent(1, day("2024-06-15"), 42, at("2024-06-15T06:30:01Z"))
                .unwrap();
            store
                .claim(&new_claim(1, "2024-06-16", "fact-b", "n2"))
                .unwrap();
            store
                .log_unanswered(&Unanswered {
                    question: "who won",
                    guild: None,
                    asked_at: at("2024-06-15T10:00:00Z"),
                    closest: &["fact-a", "fact-b"],
                    confidence: 0.25,
                    answered: None,
                })
                .unwrap();
            let answer = store
                .log_answer(&answered("fact-a", "when", "2024-06-15T10:01:00Z"))
                .unwrap();
            assert_eq!(
                store.record_vote(&vote(answer, 8, true)).unwrap(),
                VoteOutcome::Recorded
            );
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut second = settings(2);
        second.enabled = false;
        assert_eq!(store.all_settings().unwrap(), [settings(1), second]);
        assert_eq!(store.settings(1).unwrap(), Some(settings(1)));
        assert_eq!(store.settings(3).unwrap(), None);
        assert_eq!(store.last_claimed_date(1).unwrap(), Some(day("2024-06-16")));
        assert_eq!(store.last_claimed_date(2).unwrap(), None);
        let unsent = store.unsent_claims().unwrap();
        assert_eq!(unsent.len(), 1);
        assert_eq!(
            (unsent[0].fact.as_str(), unsent[0].nonce.as_str()),
            ("fact-b", "n2")
        );
        let sent = store
            .claim(&new_claim(1, "2024-06-15", "other", "other"))
            .unwrap();
        assert_eq!(sent.sent_at, Some(at("2024-06-15T06:30:01Z")));
        assert_eq!(sent.message, Some(42));
        assert_eq!(
            store.rotation(1).unwrap(),
            Rotation {
                cycle: 0,
                seen: vec!["fact-a".into(), "fact-b".into()]
            }
        );
        let logged = store.unanswered_since(None).unwrap();
        assert_eq!(
            logged,
            [LoggedQuestion {
                question: "who won".into(),
                guild: None,
                asked_at: at("2024-06-15T10:00:00Z"),
                closest: vec!["fact-a".into(), "fact-b".into()],
                confidence: 0.25,
                answered: None,
            }]
        );
        let answers = store.answers_since(None).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!(
            (
                answers[0].fact.as_str(),
                answers[0].helpful,
                answers[0].unhelpful
            ),
            ("fact-a", 1, 0)
        );
    }

    #[test]
    fn a_second_claim_gets_the_first() {
        let dir = tempfile::tempdir().unwrap();
        // Callers hold the trait object.
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let first = store
            .claim(&new_claim(5, "2024-06-15", "fact-a", "nonce-1"))
            .unwrap();
        assert_eq!(
            first,
            Claim {
                guild: 5,
                date: day("2024-06-15"),
                fact: "fact-a".into(),
                nonce: "nonce-1".into(),
                claimed_at: at("2024-06-15T06:30:00Z"),
                sent_at: None,
                message: None,
            }
        );
        let mut again = new_claim(5, "2024-06-15", "fact-b", "nonce-2");
        again.claimed_at = at("2024-06-15T07:00:00Z");
        assert_eq!(store.claim(&again).unwrap(), first);
        assert_eq!(store.rotation(5).unwrap().seen, ["fact-a"]);
        // Another server, or another day, is another claim.
        assert_eq!(
            store
                .claim(&new_claim(6, "2024-06-15", "fact-b", "x"))
                .unwrap()
                .fact,
            "fact-b"
        );
        assert_eq!(store.unsent_claims().unwrap().len(), 2);
    }

    #[test]
    fn marking_sent_needs_a_claim() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let err = store
            .mark_sent(5, day("2024-06-15"), 1, at("2024-06-15T06:30:00Z"))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotClaimed { guild: 5, .. }),
            "{err}"
        );
        store
            .claim(&new_claim(5, "2024-06-15", "fact-a", "n"))
            .unwrap();
        store
            .mark_sent(5, day("2024-06-15"), 1, at("2024-06-15T06:30:00.5Z"))
            .unwrap();
        assert_eq!(store.unsent_claims().unwrap(), []);
    }

    #[test]
    fn concurrent_claims_make_exactly_one() {
        let dir = tempfile::tempdir().unwrap();
        // Two connections, as two processes would have, and two threads on one store.
        let stores = [
            Arc::new(SqliteStore::open(dir.path()).unwrap()),
            Arc::new(SqliteStore::open(dir.path()).unwrap()),
        ];
        let shared = Arc::clone(&stores[0]);
        let contenders = [
            Arc::clone(&stores[0]),
            Arc::clone(&stores[1]),
            shared,
            Arc::clone(&stores[1]),
        ];
        let barrier = Arc::new(Barrier::new(contenders.len()));
        let handles: Vec<_> = contenders
            .into_iter()
            .enumerate()
            .map(|(i, store)| {
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let nonce = format!("nonce-{i}");
                    let mut claims = Vec::new();
                    for d in 1..=20 {
                        let (date, fact) = (format!("2024-06-{d:02}"), format!("fact-{d}-{i}"));
                        barrier.wait();
                        claims.push(store.claim(&new_claim(9, &date, &fact, &nonce)).unwrap());
                    }
                    claims
                })
            })
            .collect();
        let results: Vec<Vec<Claim>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for claims in &results[1..] {
            assert_eq!(claims, &results[0]);
        }
        let rows: i64 = stores[0]
            .lock()
            .query_row("SELECT count(*) FROM daily_claims", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 20);
        assert_eq!(stores[1].rotation(9).unwrap().seen.len(), 20);
    }

    #[test]
    fn a_garbage_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SqliteStore::FILE_NAME);
        let garbage: Vec<u8> = b"these are someone's notes, not a database\n"
            .iter()
            .copied()
            .cycle()
            .take(10_000)
            .collect();
        std::fs::write(&path, &garbage).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Unusable { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("parley.sqlite3"), "{message}");
        assert!(message.contains("not an SQLite database"), "{message}");
        assert!(message.contains("left as it is"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "no journal or WAL left beside it");
    }

    /// Bytes of a database made by `make`, the way another program or version would.
    fn foreign_database(dir: &Path, make: &str) -> Vec<u8> {
        let path = dir.join(SqliteStore::FILE_NAME);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(make).unwrap();
        drop(conn);
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let before = foreign_database(
            dir.path(),
            &format!(
                "CREATE TABLE from_the_future (x); PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = 99;"
            ),
        );
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("schema version 99"), "{err}");
        let path = dir.path().join(SqliteStore::FILE_NAME);
        assert_eq!(std::fs::read(path).unwrap(), before);
    }

    #[test]
    fn another_programs_database_is_refused_and_left_alone() {
        for make in [
            "CREATE TABLE accounts (id INTEGER);",
            "PRAGMA application_id = 1234;",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let before = foreign_database(dir.path(), make);
            let err = SqliteStore::open(dir.path()).unwrap_err();
            assert!(matches!(err, StoreError::Unusable { .. }), "{err:?}");
            let path = dir.path().join(SqliteStore::FILE_NAME);
            assert_eq!(std::fs::read(path).unwrap(), before, "{make}");
        }
    }

    #[test]
    fn settings_are_replaced_and_disabled() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        assert!(!store.disable(1).unwrap());
        store.set_settings(&settings(1)).unwrap();
        let mut moved = settings(1);
        moved.channel = 77;
        moved.time = Time::constant(18, 0, 0, 0);
        moved.zone = "America/New_York".into();
        store.set_settings(&moved).unwrap();
        assert_eq!(store.settings(1).unwrap(), Some(moved.clone()));
        assert!(store.disable(1).unwrap());
        moved.enabled = false;
        assert_eq!(store.all_settings().unwrap(), [moved]);
        let err = store.settings(u64::MAX).unwrap_err();
        assert!(matches!(err, StoreError::IdOutOfRange(u64::MAX)), "{err}");
    }

    #[test]
    fn a_new_cycle_replaces_the_old_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .claim(&new_claim(3, "2024-06-14", "fact-a", "n"))
            .unwrap();
        store
            .claim(&new_claim(3, "2024-06-15", "fact-b", "n"))
            .unwrap();
        let mut next = new_claim(3, "2024-06-16", "fact-a", "n");
        next.cycle = 1;
        store.claim(&next).unwrap();
        assert_eq!(
            store.rotation(3).unwrap(),
            Rotation {
                cycle: 1,
                seen: vec!["fact-a".into()]
            }
        );
        store.reset_rotation(3).unwrap();
        assert_eq!(store.rotation(3).unwrap(), Rotation::default());
        // The claims themselves stay: they are the record of what was posted.
        assert_eq!(store.last_claimed_date(3).unwrap(), Some(day("2024-06-16")));
    }

    #[test]
    fn the_log_is_pruned_by_age_with_the_votes_on_pruned_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        for (question, asked_at) in [
            ("old", "2024-01-01T00:00:00Z"),
            ("just old", "2024-05-31T23:59:59.999Z"),
            ("new", "2024-06-01T00:00:00Z"),
        ] {
            store
                .log_unanswered(&unanswered(question, asked_at))
                .unwrap();
        }
        let old = store
            .log_answer(&answered("fact-a", "old", "2024-05-01T00:00:00Z"))
            .unwrap();
        let new = store
            .log_answer(&answered("fact-a", "new", "2024-06-02T00:00:00Z"))
            .unwrap();
        // A vote cast after the cutoff on an old answer goes with its answer.
        store.record_vote(&vote(old, 1, true)).unwrap();
        store.record_vote(&vote(new, 1, false)).unwrap();
        let pruned = store.prune_log(at("2024-06-01T00:00:00Z")).unwrap();
        assert_eq!(
            pruned,
            Pruned {
                unanswered: 2,
                answers: 1,
                votes: 1
            }
        );
        assert_eq!(unanswered_count(&store), 1);
        let answers = store.answers_since(None).unwrap();
        assert_eq!(answers.len(), 1);
        assert_eq!((answers[0].id, answers[0].unhelpful), (new, 1));
        assert_eq!(
            store.record_vote(&vote(old, 2, true)).unwrap(),
            VoteOutcome::UnknownAnswer
        );
        assert!(votes(&store, old).is_empty());
    }

    #[test]
    fn a_second_vote_replaces_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let answer = store
            .log_answer(&answered("fact-a", "when", "2024-06-15T10:00:00Z"))
            .unwrap();
        let outcomes = [
            store.record_vote(&vote(answer, 1, true)).unwrap(),
            store.record_vote(&vote(answer, 2, true)).unwrap(),
            store.record_vote(&vote(answer, 1, false)).unwrap(),
            store.record_vote(&vote(answer, 1, false)).unwrap(),
        ];
        assert_eq!(
            outcomes,
            [
                VoteOutcome::Recorded,
                VoteOutcome::Recorded,
                VoteOutcome::Changed,
                VoteOutcome::Unchanged
            ]
        );
        assert_eq!(votes(&store, answer), [(1, -1), (2, 1)]);
        let logged = &store.answers_since(None).unwrap()[0];
        assert_eq!((logged.helpful, logged.unhelpful), (1, 1));
    }

    #[test]
    fn the_log_is_read_back_from_a_date() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store
            .log_unanswered(&unanswered("before", "2024-05-31T23:00:00Z"))
            .unwrap();
        store
            .log_unanswered(&unanswered("after", "2024-06-01T00:00:00Z"))
            .unwrap();
        store
            .log_answer(&answered("fact-a", "before", "2024-05-31T23:00:00Z"))
            .unwrap();
        store
            .log_answer(&answered("fact-b", "after", "2024-06-01T01:00:00Z"))
            .unwrap();
        let since = Some(at("2024-06-01T00:00:00Z"));
        let questions: Vec<String> = store
            .unanswered_since(since)
            .unwrap()
            .into_iter()
            .map(|q| q.question)
            .collect();
        assert_eq!(questions, ["after"]);
        let facts: Vec<String> = store
            .answers_since(since)
            .unwrap()
            .into_iter()
            .map(|a| a.fact)
            .collect();
        assert_eq!(facts, ["fact-b"]);
    }

    #[test]
    fn a_version_1_database_is_migrated_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(SqliteStore::FILE_NAME)).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;
                 INSERT INTO unanswered_questions (question, guild_id, asked_at, closest_fact_ids)
                 VALUES ('who won', 5, '2024-06-15T10:00:00.000000000Z', 'fact-a');"
            ))
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(pragma(&store, "user_version"), MIGRATIONS.len() as i64);
        let logged = store.unanswered_since(None).unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(
            (
                logged[0].question.as_str(),
                logged[0].closest.as_slice(),
                logged[0].answered.as_deref()
            ),
            ("who won", ["fact-a".to_string()].as_slice(), None)
        );
    }
}
