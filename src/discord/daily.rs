//! The fact-of-the-day posting loop: the part of [`crate::daily`] that reads the clock,
//! sleeps, sends and records. Each post is claimed in the store before it is sent and
//! marked sent after, so a restart resends an unsent claim with the same nonce (and
//! `enforce_nonce`) instead of posting twice or choosing another fact.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use poise::serenity_prelude as serenity;
use serenity::{ChannelId, CreateMessage, GetMessages, Http, Message, MessageId, Nonce, UserId};
use tokio::sync::Notify;

use super::{lock, present, send};
use crate::config::{DailyConfig, Shards};
use crate::daily::{self, Candidate, Schedule};
use crate::engine::Engine;
use crate::live::Live;
use crate::store::{Claim, GuildSettings, NewClaim, Store, StoreError};

/// The longest the loop sleeps, so that a clock jump or a settings change made outside
/// `/daily` is noticed within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The first wait before resending a failed post; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Posts due in the same pass start this far apart, so that many servers sharing a
/// post time stay well under Discord's 50 requests a second.
pub const STAGGER: Duration = Duration::from_millis(25);

/// What the daily posts share with the `/daily` commands.
pub struct Daily {
    pub store: Arc<dyn Store>,
    pub config: DailyConfig,
    /// Wakes the loop when `/daily` changes a server's settings.
    pub wake: Notify,
    /// Servers whose post is being sent (or retried) right now, so the loop does not
    /// start a second sender for the same post.
    sending: Mutex<HashSet<u64>>,
    /// The shards this process runs: it posts only for their servers, so processes
    /// that split the shards between them never post twice for one server.
    shards: Shards,
}

impl Daily {
    pub fn new(store: Arc<dyn Store>, config: DailyConfig, shards: Shards) -> Daily {
        Daily {
            store,
            config,
            wake: Notify::new(),
            sending: Mutex::new(HashSet::new()),
            shards,
        }
    }

    /// Whether this process posts for `guild`: Discord routes a guild to shard
    /// `(guild >> 22) % total`.
    pub fn posts_for(&self, guild: u64) -> bool {
        on_shards(&self.shards, guild)
    }

    /// Runs a store call on the blocking pool.
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = Arc::clone(&self.store);
        let result = tokio::task::spawn_blocking(move || f(store.as_ref())).await?;
        Ok(result?)
    }
}

fn on_shards(shards: &Shards, guild: u64) -> bool {
    match *shards {
        Shards::Auto => true,
        Shards::Range { first, last, total } => {
            let shard = (guild >> 22) % u64::from(total.max(1));
            (u64::from(first)..=u64::from(last)).contains(&shard)
        }
    }
}

/// A server's schedule from its stored settings.
pub fn schedule_of(settings: &GuildSettings) -> Result<Schedule, daily::ScheduleError> {
    Ok(Schedule {
        time: settings.time,
        zone: daily::schedule::parse_zone(&settings.zone)?,
    })
}

/// Whether a claimed post for `date` is still worth sending at `now`: on its local
/// date, or within the catch-up window of its scheduled time.
fn still_owed(now: Timestamp, schedule: &Schedule, date: Date, catch_up: Duration) -> bool {
    if daily::local_date(now, &schedule.zone) <= date {
        return true;
    }
    daily::schedule::scheduled_at(date, schedule)
        .and_then(|at| Duration::try_from(now.duration_since(at)).ok())
        .is_some_and(|late| late < catch_up)
}

/// The facts of the knowledge base, as the rotation sees them.
fn candidates(engine: &Engine) -> Vec<Candidate<'_>> {
    engine
        .knowledge()
        .facts
        .iter()
        .map(Candidate::from)
        .collect()
}

/// Stores settings for the servers the config file sets up, unless they already have
/// their own (from `/daily`, which may also have turned them off).
async fn seed_from_config(daily: &Daily) -> anyhow::Result<()> {
    for channel in &daily.config.channels {
        let schedule = daily.config.schedule(channel)?;
        let settings = GuildSettings {
            guild: channel.guild.0,
            channel: channel.channel.0,
            time: schedule.time,
            zone: schedule.zone_name().unwrap_or("UTC").to_string(),
            enabled: true,
        };
        let seeded = daily
            .with_store(move |store| {
                if store.settings(settings.guild)?.is_some() {
                    return Ok(false);
                }
                store.set_settings(&settings).map(|()| true)
            })
            .await?;
        if seeded {
            tracing::info!(guild = channel.guild.0, "daily post set up from the config");
        }
    }
    Ok(())
}

/// Posts every server's fact of the day, forever (until the task is aborted). `bot` is
/// parley's own user, whose posts a restart looks for before resending one.
pub async fn run(http: Arc<Http>, knowledge: Arc<Live>, daily: Arc<Daily>, bot: UserId) {
    if let Err(e) = seed_from_config(&daily).await {
        tracing::error!("cannot set up the daily posts from the config: {e:#}");
    }
    match daily.with_store(|store| store.unsent_claims()).await {
        Ok(claims) => {
            let engine = knowledge.engine();
            for claim in claims.into_iter().filter(|c| daily.posts_for(c.guild)) {
                resume_claim(&http, &engine, &daily, bot, claim).await;
            }
        }
        Err(e) => tracing::error!("cannot read the unsent daily posts: {e:#}"),
    }
    loop {
        // Each pass posts from the knowledge base being served then: a reload between
        // passes is picked up, and a post already claimed names its fact by id.
        let engine = knowledge.engine();
        let sleep = match tick(&http, &engine, &daily, Timestamp::now()).await {
            Ok(next) => next
                .and_then(|at| Duration::try_from(at.duration_since(Timestamp::now())).ok())
                .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP)),
            Err(e) => {
                tracing::error!("daily posts: {e:#}");
                MAX_SLEEP
            }
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = daily.wake.notified() => {}
        }
    }
}

/// Resends a claim found unsent at start-up, if its server still wants it and it is
/// still owed.
async fn resume_claim(
    http: &Arc<Http>,
    engine: &Arc<Engine>,
    daily: &Arc<Daily>,
    bot: UserId,
    claim: Claim,
) {
    let guild = claim.guild;
    let settings = match daily.with_store(move |s| s.settings(guild)).await {
        Ok(Some(settings)) if settings.enabled => settings,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(guild, "cannot read the daily settings: {e:#}");
            return;
        }
    };
    let Ok(schedule) = schedule_of(&settings) else {
        return;
    };
    if !still_owed(
        Timestamp::now(),
        &schedule,
        claim.date,
        daily.config.catch_up(),
    ) {
        tracing::info!(guild, date = %claim.date, "unsent daily post is too late now; skipped");
        return;
    }
    // Discord remembers a nonce for a few minutes only: a post it accepted before a
    // crash that came before it was recorded as sent is found in the channel instead.
    let channel = ChannelId::new(settings.channel);
    match already_posted(http, bot, channel, &claim).await {
        Ok(Some(message)) => {
            let date = claim.date;
            let id = message.get();
            match daily
                .with_store(move |s| s.mark_sent(guild, date, id, Timestamp::now()))
                .await
            {
                Ok(()) => {
                    tracing::info!(guild, %date, "unsent daily post found in its channel; not resent")
                }
                Err(e) => {
                    tracing::error!(guild, %date, "cannot record a daily post as sent: {e:#}")
                }
            }
            return;
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(
            guild,
            "cannot read the daily channel's recent messages; resending with the post's nonce: {e}"
        ),
    }
    tracing::info!(guild, date = %claim.date, "resending an unsent daily post");
    spawn_send(
        http,
        engine,
        daily,
        settings,
        schedule,
        claim,
        Duration::ZERO,
    );
}

/// Discord's epoch, for snowflakes: 2015-01-01T00:00:00Z in milliseconds.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
/// How far before its claim a post is looked for, for clocks that disagree.
const CLOCK_SLACK_MS: i64 = 60_000;

/// The message parley posted for `claim` in `channel`, if the channel's messages since
/// the claim hold one.
async fn already_posted(
    http: &Http,
    bot: UserId,
    channel: ChannelId,
    claim: &Claim,
) -> serenity::Result<Option<MessageId>> {
    let since = claim.claimed_at.as_millisecond() - CLOCK_SLACK_MS - DISCORD_EPOCH_MS;
    let mut query = GetMessages::new().limit(100);
    if let Ok(since) = u64::try_from(since)
        && since > 0
    {
        query = query.after(MessageId::new(since << 22));
    }
    let messages = channel.messages(http, query).await?;
    Ok(messages
        .iter()
        .find(|m| is_post_of(m, bot, claim))
        .map(|m| m.id))
}

/// Whether `message` is parley's fact-of-the-day post of the claim's fact: by parley,
/// with the post's title, and the fact's id in the footer.
fn is_post_of(message: &Message, bot: UserId, claim: &Claim) -> bool {
    let footer = format!("fact {}", claim.fact);
    message.author.id == bot
        && message.embeds.first().is_some_and(|embed| {
            embed
                .title
                .as_deref()
                .is_some_and(present::is_fact_of_the_day_title)
                && embed
                    .footer
                    .as_ref()
                    .is_some_and(|f| f.text == footer || f.text.starts_with(&format!("{footer} ·")))
        })
}

/// One pass: claims and sends every post due at `now`; returns the earliest instant
/// a post is due next. The loop passes the wall clock; tests pass any instant, to run
/// days in moments.
pub async fn tick(
    http: &Arc<Http>,
    engine: &Arc<Engine>,
    daily: &Arc<Daily>,
    now: Timestamp,
) -> anyhow::Result<Option<Timestamp>> {
    let all = daily.with_store(|s| s.all_settings()).await?;
    let catch_up = daily.config.catch_up();
    let mut earliest: Option<Timestamp> = None;
    let mut started = 0u32;
    for settings in all
        .into_iter()
        .filter(|s| s.enabled && daily.posts_for(s.guild))
    {
        let guild = settings.guild;
        let schedule = match schedule_of(&settings) {
            Ok(schedule) => schedule,
            Err(e) => {
                tracing::error!(guild, "daily settings unusable: {e}");
                continue;
            }
        };
        let mut last = daily
            .with_store(move |s| s.last_claimed_date(guild))
            .await?;
        if let Some(date) = daily::due(now, &schedule, last, catch_up) {
            last = Some(date);
            // A claim already sent (by another parley on the same store) is not resent.
            if let Some(claim) = claim(engine, daily, guild, date, now).await?
                && claim.sent_at.is_none()
            {
                let delay = STAGGER * started;
                started += 1;
                spawn_send(
                    http,
                    engine,
                    daily,
                    settings,
                    schedule.clone(),
                    claim,
                    delay,
                );
            }
        }
        if let Some(next) = daily::next_post_at(now, &schedule, last) {
            earliest = Some(earliest.map_or(next, |e| e.min(next)));
        }
    }
    Ok(earliest)
}

/// Chooses the server's fact for `date` and claims it; `None` when there are no facts.
async fn claim(
    engine: &Arc<Engine>,
    daily: &Daily,
    guild: u64,
    date: Date,
    now: Timestamp,
) -> anyhow::Result<Option<Claim>> {
    let engine = Arc::clone(engine);
    daily
        .with_store(move |store| {
            let rotation = store.rotation(guild)?;
            let facts = candidates(&engine);
            let Some(choice) = daily::choose(&facts, &rotation.seen, guild, date) else {
                return Ok(None);
            };
            let nonce = daily::nonce(guild, date);
            let cycle = rotation.cycle + u32::from(choice.new_cycle);
            store
                .claim(&NewClaim {
                    guild,
                    date,
                    fact: choice.fact,
                    cycle,
                    nonce: &nonce,
                    claimed_at: now,
                })
                .map(Some)
        })
        .await
}

/// Sends a claimed post in its own task after `delay`, retrying with backoff while it
/// is owed.
fn spawn_send(
    http: &Arc<Http>,
    engine: &Arc<Engine>,
    daily: &Arc<Daily>,
    settings: GuildSettings,
    schedule: Schedule,
    claim: Claim,
    delay: Duration,
) {
    if !lock(&daily.sending).insert(claim.guild) {
        return;
    }
    let (http, engine, daily) = (Arc::clone(http), Arc::clone(engine), Arc::clone(daily));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let guild = claim.guild;
        send_with_retries(&http, &engine, &daily, &settings, &schedule, &claim).await;
        lock(&daily.sending).remove(&guild);
    });
}

/// The years between a fact and `date` when `date` is its anniversary.
pub fn years_ago(fact: &crate::knowledge::Fact, date: Date) -> Option<i32> {
    let fact_date = fact.date?;
    daily::rotation::is_anniversary(&fact_date, date)
        .then(|| i32::from(date.year()) - fact_date.year)
}

/// The message of a claimed post. Its nonce is the claim's, enforced, so a resend after
/// a restart cannot make a second message.
pub fn post_message(engine: &Engine, claim: &Claim) -> Option<CreateMessage> {
    let kb = engine.knowledge();
    let fact = kb.fact(&claim.fact)?;
    let view = present::fact_of_the_day(kb, fact, years_ago(fact, claim.date));
    Some(
        CreateMessage::new()
            .embed(send::embed(&view))
            .components(send::components(&view))
            .allowed_mentions(send::no_pings())
            .nonce(Nonce::String(claim.nonce.clone()))
            .enforce_nonce(true),
    )
}

async fn send_with_retries(
    http: &Http,
    engine: &Engine,
    daily: &Daily,
    settings: &GuildSettings,
    schedule: &Schedule,
    claim: &Claim,
) {
    let guild = claim.guild;
    let date = claim.date;
    let Some(message) = post_message(engine, claim) else {
        tracing::error!(guild, fact = %claim.fact, "the claimed fact is no longer in the knowledge base");
        return;
    };
    let channel = ChannelId::new(settings.channel);
    let mut backoff = FIRST_BACKOFF;
    loop {
        match channel.send_message(http, message.clone()).await {
            Ok(sent) => {
                let id = sent.id.get();
                match daily
                    .with_store(move |s| s.mark_sent(guild, date, id, Timestamp::now()))
                    .await
                {
                    Ok(()) => tracing::info!(guild, %date, "daily post sent"),
                    Err(e) => {
                        tracing::error!(guild, %date, "daily post sent but not recorded: {e:#}")
                    }
                }
                return;
            }
            Err(e)
                if matches!(
                    send::error_code(&e),
                    Some(send::UNKNOWN_CHANNEL | send::MISSING_ACCESS)
                ) =>
            {
                tracing::warn!(
                    guild,
                    channel = settings.channel,
                    "daily post channel is gone or out of reach; daily post turned off: {e}"
                );
                if let Err(e) = daily.with_store(move |s| s.disable(guild)).await {
                    tracing::error!(guild, "cannot turn the daily post off: {e:#}");
                }
                return;
            }
            Err(e) => {
                tracing::warn!(
                    guild,
                    channel = settings.channel,
                    "daily post failed, will retry in {backoff:?}: {e}"
                );
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        if !still_owed(Timestamp::now(), schedule, date, daily.config.catch_up()) {
            tracing::error!(guild, %date, "daily post given up: its day is over");
            return;
        }
        // Settings may have changed while waiting: off, or another channel.
        match daily.with_store(move |s| s.settings(guild)).await {
            Ok(Some(now)) if now.enabled && now.channel == settings.channel => {}
            Ok(_) => {
                tracing::info!(guild, %date, "daily post dropped: its settings changed");
                return;
            }
            Err(e) => tracing::error!(guild, "cannot read the daily settings: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_owed_through_its_day_and_the_catch_up_window() {
        let s = Schedule::parse("23:00", "UTC").unwrap();
        let date: Date = "2024-06-15".parse().unwrap();
        let hours = Duration::from_secs(3 * 3600);
        let at = |t: &str| t.parse::<Timestamp>().unwrap();
        assert!(still_owed(at("2024-06-15T23:30:00Z"), &s, date, hours));
        assert!(still_owed(at("2024-06-16T01:59:00Z"), &s, date, hours));
        assert!(!still_owed(at("2024-06-16T02:00:00Z"), &s, date, hours));
    }

    #[test]
    fn a_process_posts_only_for_the_servers_of_its_shards() {
        let guild_on_shard = |shard: u64| (shard << 22) | 12345;
        assert!(on_shards(&Shards::Auto, guild_on_shard(3)));
        let two_of_four = Shards::Range {
            first: 1,
            last: 2,
            total: 4,
        };
        assert!(!on_shards(&two_of_four, guild_on_shard(0)));
        assert!(on_shards(&two_of_four, guild_on_shard(1)));
        assert!(on_shards(&two_of_four, guild_on_shard(2)));
        assert!(!on_shards(&two_of_four, guild_on_shard(3)));
        assert!(on_shards(&two_of_four, guild_on_shard(5)));
    }
}
