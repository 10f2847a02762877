//! `parley serve`: the Discord bot. A thin adapter over the engine: it turns messages
//! and interactions into questions, and the engine's replies into views
//! ([`present`]), which [`send`] posts.
//!
//! - [`commands`]: the slash commands (`/ask`, `/timeline`, `/fact`, `/source`,
//!   `/about`, `/help`, `/daily`, `/reload`).
//! - [`daily`]: the fact-of-the-day posting loop.
//! - [`events`]: questions by mention, DM or ask-channel; edited questions; buttons.
//! - [`permission`]: parley's permissions in a channel, worked out from REST look-ups.
//! - [`component`]: button ids, which carry all a button needs.
//! - [`state`]: cooldowns and recent replies (in memory, time passed in).
//! - [`curation`]: the log of unanswered questions and answers, votes, pruning.

pub mod commands;
pub mod component;
pub mod curation;
pub mod daily;
pub mod events;
pub mod permission;
pub mod present;
pub mod send;
pub mod state;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::config::{CurationConfig, DailyConfig, DiscordConfig, Shards};
use crate::engine::Engine;
use crate::live::Live;
use crate::store::{SqliteStore, Store};
use present::View;
use state::{Cooldowns, RecentReplies, Wait};

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Bot, Error>;

/// The bot token. Its `Debug` and `Display` never show it, so it cannot reach a log.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A token as given; surrounding whitespace (a trailing newline in a file) is
    /// dropped, and a "Bot " prefix is accepted.
    pub fn new(raw: &str) -> Option<Token> {
        let t = raw.trim();
        let t = t.strip_prefix("Bot ").unwrap_or(t).trim();
        (!t.is_empty() && !t.chars().any(char::is_whitespace)).then(|| Token(t.to_string()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(hidden)")
    }
}

/// Everything `run` needs besides the engine.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub token: Token,
    /// Where REST calls go instead of discord.com; the gateway is whatever that base
    /// reports.
    pub api_base: Option<String>,
    pub discord: DiscordConfig,
    pub daily: DailyConfig,
    pub curation: CurationConfig,
    /// Where the store lives. `None` runs without one: no daily posts, no `/daily`
    /// settings (the commands say so), no log and no votes.
    pub data_dir: Option<PathBuf>,
}

/// The state shared by every handler, across shards.
pub struct Bot {
    /// The knowledge base being served; a reload swaps it.
    pub knowledge: Arc<Live>,
    pub config: DiscordConfig,
    ask_channels: HashSet<u64>,
    cooldowns: Mutex<Cooldowns>,
    pub(crate) replies: Mutex<RecentReplies>,
    /// The fact of the day, when a store is configured.
    pub daily: Option<Arc<daily::Daily>>,
    /// The curation log and votes, when a store is configured.
    pub log: Option<curation::Log>,
}

impl Bot {
    pub fn new(knowledge: Arc<Live>, config: DiscordConfig) -> Bot {
        let cooldowns = Cooldowns::new(
            Duration::from_secs_f64(config.user_cooldown_seconds),
            Duration::from_secs_f64(config.channel_cooldown_seconds),
        );
        Bot {
            ask_channels: config.ask_channels.iter().map(|c| c.0).collect(),
            cooldowns: Mutex::new(cooldowns),
            replies: Mutex::new(RecentReplies::new(Duration::from_secs(
                config.edit_window_seconds,
            ))),
            knowledge,
            config,
            daily: None,
            log: None,
        }
    }

    /// The engine to answer with now; hold it for the whole question.
    pub fn engine(&self) -> Arc<Engine> {
        self.knowledge.engine()
    }

    /// Takes an answer from the cooldowns for `user` in `channel`.
    pub fn cooldown(&self, user: u64, channel: u64) -> Result<(), Wait> {
        lock(&self.cooldowns).take(user, channel, Instant::now())
    }

    pub fn is_ask_channel(&self, channel: u64) -> bool {
        self.ask_channels.contains(&channel)
    }

    /// The engine's reply to a question asked in `guild` (`None` in a DM), as a view,
    /// logged for the curators when a store is configured: answers get vote buttons.
    /// Runs on the blocking pool, so a large knowledge base or a slow disk never
    /// stalls the runtime.
    pub async fn answer(&self, question: String, guild: Option<u64>) -> View {
        let engine = self.engine();
        let log = self.log.clone();
        let now = jiff::Timestamp::now();
        tokio::task::spawn_blocking(move || {
            let max = engine.config().max_question_chars;
            let explained = engine.explain(&question);
            let reply = &explained.reply;
            tracing::debug!(
                answered = reply.fact().is_some(),
                confidence = reply.confidence(),
                fact = reply.fact().map(|f| f.id.as_str()),
                "question answered"
            );
            let view = present::reply(engine.knowledge(), reply, max);
            match log.and_then(|log| log.record(&question, guild, &explained, now)) {
                Some(answer) => present::with_votes(view, answer),
                None => view,
            }
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!("answering a question failed: {e}");
            View::notice(SORRY)
        })
    }
}

/// What users see when something failed on parley's side.
pub const SORRY: &str = "Sorry, something went wrong on my side. Please try again in a moment.";

/// Locks a mutex, recovering the data if a panicking holder poisoned it: the state
/// behind it (cooldowns, recent replies) stays consistent at every step.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The cooldown notice.
pub fn wait_notice(wait: Wait) -> String {
    let secs = wait.remaining.as_secs_f64().ceil().max(1.0);
    format!("Slow down a little: I can answer you again in {secs:.0} s.")
}

/// The gateway intents: the non-privileged ones, plus Message Content only when
/// ask-channels need it (mentions and DMs carry their content without it).
pub fn intents(config: &DiscordConfig) -> serenity::GatewayIntents {
    let mut intents = serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::DIRECT_MESSAGES;
    if !config.ask_channels.is_empty() {
        intents |= serenity::GatewayIntents::MESSAGE_CONTENT;
    }
    intents
}

/// Runs the bot until `shutdown` completes (or the gateway fails for good).
pub async fn run(
    knowledge: Arc<Live>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let ServeOptions {
        token,
        api_base,
        discord,
        daily: daily_config,
        curation: curation_config,
        data_dir,
    } = options;
    let mut http = serenity::HttpBuilder::new(token.expose());
    if let Some(base) = &api_base {
        // serenity uses the proxy only with its own rate limiter off; the base (a
        // shared rate-limit proxy) is then in charge of rate limits.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
        tracing::info!(api_base = %base, "Discord API base overridden");
    }
    let intents = intents(&discord);
    let dev_guild = discord.dev_guild;
    let shards = discord.shards;
    let mut bot = Bot::new(Arc::clone(&knowledge), discord);
    let mut pruner = None;
    if let Some(dir) = data_dir {
        let store: Arc<dyn Store> = Arc::new(
            tokio::task::spawn_blocking(move || SqliteStore::open(&dir))
                .await
                .context("opening the store failed")??,
        );
        bot.daily = Some(Arc::new(daily::Daily::new(
            Arc::clone(&store),
            daily_config,
            shards,
        )));
        let log = curation::Log::new(store, &curation_config);
        pruner = Some(tokio::spawn(curation::prune_loop(log.clone())));
        bot.log = Some(log);
    }
    // The posting loop, started once after the first Ready and stopped with the client.
    let poster: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>> = Arc::default();
    let poster_slot = Arc::clone(&poster);

    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            event_handler: |framework, event| Box::pin(events::handle(framework, event)),
            on_error: |error| Box::pin(on_error(error)),
            allowed_mentions: Some(send::no_pings()),
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                let registration = commands::registration(commands)?;
                match dev_guild {
                    Some(guild) => {
                        ctx.http
                            .create_guild_commands(guild.0.into(), &registration)
                            .await?;
                        tracing::info!(
                            guild = guild.0,
                            count = commands.len(),
                            "commands registered in the dev guild"
                        );
                    }
                    None => {
                        ctx.http.create_global_commands(&registration).await?;
                        tracing::info!(count = commands.len(), "commands registered globally");
                    }
                }
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "ready");
                if let Some(daily) = &bot.daily {
                    let task = tokio::spawn(daily::run(
                        Arc::clone(&ctx.http),
                        Arc::clone(&bot.knowledge),
                        Arc::clone(daily),
                        ready.user.id,
                    ));
                    *lock(&poster_slot) = Some(task);
                }
                Ok(bot)
            })
        })
        .build();

    let mut client = serenity::ClientBuilder::new_with_http(http.build(), intents)
        .framework(framework)
        .await
        .context("cannot set up the Discord client")?;
    let shard_manager = Arc::clone(&client.shard_manager);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        shard_manager.shutdown_all().await;
    });
    let result = match shards {
        Shards::Auto => client.start_autosharded().await,
        Shards::Range { first, last, total } => {
            client.start_shard_range(first..last + 1, total).await
        }
    };
    if let Some(task) = lock(&poster).take() {
        task.abort();
    }
    if let Some(task) = pruner {
        task.abort();
    }
    result.context("the Discord connection failed")?;
    Ok(())
}

/// Errors: the full chain to the log, a short sentence to the user.
async fn on_error(error: poise::FrameworkError<'_, Bot, Error>) {
    match error {
        poise::FrameworkError::Setup { error, .. } => {
            tracing::error!("start-up failed: {error:#}");
        }
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, "command failed: {error:#}");
            let _ = ctx.send(send::reply(&View::notice(SORRY), true)).await;
        }
        poise::FrameworkError::NotAnOwner { ctx, .. } => {
            let text = "Only parley's owners can use this command.";
            let _ = ctx.send(send::reply(&View::notice(text), true)).await;
        }
        poise::FrameworkError::EventHandler { error, event, .. } => {
            tracing::error!(
                event = event.snake_case_name(),
                "event handler failed: {error:#}"
            );
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!("error while handling an error: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_shows_and_is_cleaned() {
        let t = Token::new("  Bot abc.def \n").unwrap();
        assert_eq!(t.expose(), "abc.def");
        assert_eq!(format!("{t:?}"), "Token(hidden)");
        assert!(Token::new("  \n").is_none());
        assert!(Token::new("two words").is_none());
    }

    #[test]
    fn message_content_only_for_ask_channels() {
        let mut c = DiscordConfig::default();
        assert!(!intents(&c).contains(serenity::GatewayIntents::MESSAGE_CONTENT));
        assert!(!intents(&c).intersects(serenity::GatewayIntents::privileged()));
        c.ask_channels.push(crate::config::Snowflake(1));
        assert!(intents(&c).contains(serenity::GatewayIntents::MESSAGE_CONTENT));
    }
}
