//! `config/parley.toml`: every setting, with defaults, so that a missing key or a
//! missing file still gives a working parley. Unknown keys are errors: a misspelt
//! setting should not be silently ignored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::daily::{Schedule, ScheduleError};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub engine: EngineConfig,
    pub discord: DiscordConfig,
    pub daily: DailyConfig,
    pub storage: StorageConfig,
    pub curation: CurationConfig,
}

/// How the engine decides between answering and abstaining.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Answers with a confidence below this are withheld (0..1).
    pub answer_threshold: f64,
    /// When the two best facts score closer than this, parley cannot tell which one is
    /// meant and abstains, suggesting both.
    pub ambiguity_margin: f64,
    /// Facts that match at least this well are offered as suggestions when parley
    /// abstains (0..1).
    pub suggestion_floor: f64,
    /// At most this many suggestions.
    pub max_suggestions: usize,
    /// Questions longer than this (in characters) are refused as too long.
    pub max_question_chars: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            answer_threshold: 0.5,
            ambiguity_margin: 0.01,
            suggestion_floor: 0.3,
            max_suggestions: 3,
            max_question_chars: 1000,
        }
    }
}

/// How `parley serve` talks to Discord. The token is never here: it comes from the
/// `DISCORD_TOKEN` environment variable or from the file `token_file` names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// A file holding the bot token, read when `DISCORD_TOKEN` is not set.
    pub token_file: Option<PathBuf>,
    /// Where REST calls go instead of discord.com (a rate-limit proxy, or a test
    /// stand-in); the `DISCORD_API_BASE` environment variable overrides it.
    pub api_base: Option<String>,
    /// Register the slash commands in this one server only (instant, for trying
    /// changes) instead of globally.
    pub dev_guild: Option<Snowflake>,
    /// `"auto"` (as many shards as Discord recommends), or an explicit range of a
    /// total: `{ first = 0, last = 1, total = 4 }` runs shards 0 and 1 of 4.
    pub shards: Shards,
    /// Channels where every message is taken as a question. Needs the privileged
    /// Message Content intent; mentions and DMs work without it.
    pub ask_channels: Vec<Snowflake>,
    /// A user waits this long between questions (seconds; 0 turns it off).
    pub user_cooldown_seconds: f64,
    /// A channel gets at most one answer this often (seconds; 0 turns it off).
    pub channel_cooldown_seconds: f64,
    /// An edited question within this many seconds has its reply edited to match.
    pub edit_window_seconds: u64,
    /// Dated facts per page of `/timeline`.
    pub timeline_page_size: usize,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token_file: None,
            api_base: None,
            dev_guild: None,
            shards: Shards::Auto,
            ask_channels: Vec::new(),
            user_cooldown_seconds: 5.0,
            channel_cooldown_seconds: 1.0,
            edit_window_seconds: 300,
            timeline_page_size: 8,
        }
    }
}

/// The fact of the day. Servers choose their channel and time with `/daily`; the
/// defaults here fill in what they leave out, and `channels` sets servers up from the
/// file instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DailyConfig {
    /// Local time of the post, `"HH:MM"` on the 24-hour clock.
    pub default_time: String,
    /// IANA time zone of the post (`"Europe/Kyiv"`).
    pub default_zone: String,
    /// A post missed while parley was down is still made this many hours after its
    /// time; later, that day is skipped (more than 0, at most 24).
    pub catch_up_hours: f64,
    /// Servers configured here rather than with `/daily`.
    pub channels: Vec<DailyChannel>,
}

impl Default for DailyConfig {
    fn default() -> Self {
        DailyConfig {
            default_time: "09:00".into(),
            default_zone: "UTC".into(),
            catch_up_hours: 3.0,
            channels: Vec::new(),
        }
    }
}

/// A server's daily post, set in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyChannel {
    pub guild: Snowflake,
    pub channel: Snowflake,
    /// `"HH:MM"`; `daily.default_time` when absent.
    pub time: Option<String>,
    /// IANA zone; `daily.default_zone` when absent.
    pub zone: Option<String>,
}

impl DailyConfig {
    /// The schedule of a server that has not chosen its own time.
    pub fn default_schedule(&self) -> Result<Schedule, ScheduleError> {
        Schedule::parse(&self.default_time, &self.default_zone)
    }

    /// The schedule of a server configured in the file.
    pub fn schedule(&self, channel: &DailyChannel) -> Result<Schedule, ScheduleError> {
        Schedule::parse(
            channel.time.as_deref().unwrap_or(&self.default_time),
            channel.zone.as_deref().unwrap_or(&self.default_zone),
        )
    }

    /// The catch-up window. Zero (nothing is ever caught up) for values that
    /// [`Config::load`] refuses, should a config that skipped it get here.
    pub fn catch_up(&self) -> Duration {
        Duration::try_from_secs_f64(self.catch_up_hours * 3600.0).unwrap_or(Duration::ZERO)
    }

    fn validate(&self) -> Result<(), String> {
        self.default_schedule()
            .map_err(|e| format!("daily.default_time or daily.default_zone: {e}"))?;
        // A window longer than a day would reach past the next day's post time, when
        // the newer post is owed instead; zero would never post at all (the post loop
        // wakes a moment after the scheduled instant, not on it).
        let hours = self.catch_up_hours;
        if !(hours > 0.0 && hours <= 24.0) {
            return Err(format!(
                "daily.catch_up_hours must be more than 0 and at most 24, not {hours}"
            ));
        }
        let mut guilds = std::collections::HashSet::new();
        for channel in &self.channels {
            let guild = channel.guild.0;
            self.schedule(channel)
                .map_err(|e| format!("daily.channels, server {guild}: {e}"))?;
            if !guilds.insert(guild) {
                return Err(format!("daily.channels names server {guild} twice"));
            }
        }
        Ok(())
    }
}

/// Where parley keeps what it must remember between runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The directory of the database file (`parley.sqlite3`), created if missing. A
    /// relative path is taken from the directory parley is started in.
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("data"),
        }
    }
}

/// Keeping the knowledge base current: what `parley serve` logs for `parley report`,
/// how long it keeps it, reloading, and when `parley check` calls a source old.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurationConfig {
    /// Answers with a confidence below this are logged with the unanswered questions
    /// (0 to 1; at or below `engine.answer_threshold` logs abstentions only).
    pub low_confidence: f64,
    /// Logged questions, answers and votes are deleted this many days after they were
    /// made (at least 1).
    pub retention_days: u32,
    /// Reload the knowledge base when its files change.
    pub watch_knowledge: bool,
    /// `parley check` warns about facts whose sources were all published or last
    /// checked more than this many days ago (at least 1).
    pub stale_after_days: u32,
}

impl Default for CurationConfig {
    fn default() -> Self {
        CurationConfig {
            low_confidence: 0.6,
            retention_days: 90,
            watch_knowledge: true,
            stale_after_days: 365,
        }
    }
}

impl CurationConfig {
    pub fn retention(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(i64::from(self.retention_days) * 24)
    }

    fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.low_confidence) {
            return Err(format!(
                "curation.low_confidence must be between 0 and 1, not {}",
                self.low_confidence
            ));
        }
        if self.retention_days == 0 {
            return Err("curation.retention_days must be at least 1".into());
        }
        if self.stale_after_days == 0 {
            return Err("curation.stale_after_days must be at least 1".into());
        }
        Ok(())
    }
}

/// A Discord id. Written in TOML as an integer or a string (ids copied from Discord
/// are often pasted quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Snowflake(pub u64);

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(Snowflake(n)),
            Raw::Text(s) => s.trim().parse().map(Snowflake).map_err(|_| {
                serde::de::Error::custom(format!("{s:?} is not a Discord id (digits only)"))
            }),
        }
    }
}

/// Which shards this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shards {
    /// As many as Discord recommends, all in this process.
    #[default]
    Auto,
    /// Shards `first..=last` of `total`.
    Range { first: u32, last: u32, total: u32 },
}

impl<'de> Deserialize<'de> for Shards {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Range {
            first: u32,
            last: u32,
            total: u32,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Range(Range),
        }
        let invalid = || {
            serde::de::Error::custom(
                "shards must be \"auto\" or { first = N, last = M, total = T } with N <= M < T",
            )
        };
        match Raw::deserialize(d).map_err(|_| invalid())? {
            Raw::Word(w) if w == "auto" => Ok(Shards::Auto),
            Raw::Word(_) => Err(invalid()),
            Raw::Range(Range { first, last, total }) if first <= last && last < total => {
                Ok(Shards::Range { first, last, total })
            }
            Raw::Range(_) => Err(invalid()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads the config file. A missing file is an error only when `required` (the
    /// user named it); otherwise the defaults apply.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default());
            }
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let e = &self.engine;
        for (name, value) in [
            ("engine.answer_threshold", e.answer_threshold),
            ("engine.ambiguity_margin", e.ambiguity_margin),
            ("engine.suggestion_floor", e.suggestion_floor),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be between 0 and 1, not {value}"));
            }
        }
        if e.max_question_chars == 0 {
            return Err("engine.max_question_chars must be at least 1".into());
        }
        let d = &self.discord;
        for (name, value) in [
            ("discord.user_cooldown_seconds", d.user_cooldown_seconds),
            (
                "discord.channel_cooldown_seconds",
                d.channel_cooldown_seconds,
            ),
        ] {
            if !(0.0..=86_400.0).contains(&value) {
                return Err(format!("{name} must be between 0 and 86400, not {value}"));
            }
        }
        if !(1..=20).contains(&d.timeline_page_size) {
            return Err("discord.timeline_page_size must be between 1 and 20".into());
        }
        self.daily.validate()?;
        self.curation.validate()?;
        if self.storage.data_dir.as_os_str().is_empty() {
            return Err("storage.data_dir must not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_config_is_valid_and_complete() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/parley.toml");
        let config = Config::load(&path, true).unwrap();
        assert!(config.engine.answer_threshold > 0.0);
    }

    #[test]
    fn curation_settings_are_checked() {
        let c = Config::default();
        assert_eq!(
            c.curation.retention(),
            jiff::SignedDuration::from_hours(90 * 24)
        );
        assert!(c.curation.watch_knowledge);
        for bad in [
            "low_confidence = 1.1",
            "retention_days = 0",
            "stale_after_days = 0",
        ] {
            let c: Config = toml::from_str(&format!("[curation]\n{bad}")).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
        assert!(toml::from_str::<Config>("[curation]\nretention = 3").is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(toml::from_str::<Config>("[engine]\nanswer_treshold = 0.5").is_err());
        let c: Config = toml::from_str("[engine]\nanswer_threshold = 1.5").unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn daily_and_storage_settings_are_checked() {
        let c = Config::default();
        assert_eq!(c.daily.default_schedule().unwrap().to_string(), "09:00 UTC");
        assert_eq!(c.daily.catch_up(), Duration::from_secs(3 * 3600));
        assert_eq!(c.storage.data_dir, Path::new("data"));
        let c: Config = toml::from_str(
            "[daily]\ndefault_zone = \"Europe/Kyiv\"\ncatch_up_hours = 1.5\n\
             channels = [{ guild = \"1\", channel = 2, time = \"18:30\" }]\n\
             [storage]\ndata_dir = \"state\"",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let channel = &c.daily.channels[0];
        assert_eq!(
            (channel.guild, channel.channel),
            (Snowflake(1), Snowflake(2))
        );
        assert_eq!(
            c.daily.schedule(channel).unwrap().to_string(),
            "18:30 Europe/Kyiv"
        );
        assert_eq!(c.daily.catch_up(), Duration::from_secs(5400));
        for (bad, says) in [
            ("[daily]\ndefault_time = \"25:00\"", "25:00"),
            ("[daily]\ndefault_time = \"9:00\"", "HH:MM"),
            (
                "[daily]\ndefault_zone = \"Europe/Atlantis\"",
                "Europe/Atlantis",
            ),
            ("[daily]\ncatch_up_hours = 0", "catch_up_hours"),
            ("[daily]\ncatch_up_hours = 25", "catch_up_hours"),
            ("[daily]\ncatch_up_hours = nan", "catch_up_hours"),
            (
                "[daily]\nchannels = [{ guild = 1, channel = 2, zone = \"Nowhere\" }]",
                "server 1",
            ),
            (
                "[daily]\nchannels = [{ guild = 1, channel = 2 }, { guild = 1, channel = 3 }]",
                "twice",
            ),
            ("[storage]\ndata_dir = \"\"", "data_dir"),
        ] {
            let c: Config = toml::from_str(bad).unwrap();
            let message = c.validate().unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
        for bad in [
            "[daily]\ndefault_timezone = \"UTC\"",
            "[daily]\nchannels = [{ guild = 1 }]",
            "[daily]\nchannels = [{ guild = 1, channel = 2, hour = 9 }]",
            "[storage]\npath = \"data\"",
        ] {
            assert!(toml::from_str::<Config>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_discord_ids_and_shards_in_either_spelling() {
        let c: Config = toml::from_str(
            "[discord]\ndev_guild = \"123\"\nask_channels = [1, \"2\"]\nshards = { first = 0, last = 1, total = 4 }",
        )
        .unwrap();
        assert_eq!(c.discord.dev_guild, Some(Snowflake(123)));
        assert_eq!(c.discord.ask_channels, [Snowflake(1), Snowflake(2)]);
        assert_eq!(
            c.discord.shards,
            Shards::Range {
                first: 0,
                last: 1,
                total: 4
            }
        );
        let auto: Config = toml::from_str("[discord]\nshards = \"auto\"").unwrap();
        assert_eq!(auto.discord.shards, Shards::Auto);
        for bad in [
            "[discord]\nshards = \"many\"",
            "[discord]\nshards = { first = 2, last = 1, total = 4 }",
            "[discord]\nshards = { first = 0, last = 4, total = 4 }",
            "[discord]\ndev_guild = \"abc\"",
        ] {
            assert!(toml::from_str::<Config>(bad).is_err(), "{bad}");
        }
    }
}
