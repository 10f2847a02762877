//! The slash commands. Each one reads its options, asks the engine or the knowledge base,
//! and sends a view; the views are built in [`super::present`].

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::daily::{Daily, schedule_of};
use super::present::{self, View, limits};
use super::{Bot, Context, Error, permission, send, wait_notice};
use crate::daily::{self as rules, Candidate, Schedule};
use crate::knowledge::Fact;
use crate::store::GuildSettings;
use crate::timeline::{self, FactDate, TimelineQuery};

/// Every command parley registers.
pub fn all() -> Vec<poise::Command<Bot, Error>> {
    vec![
        ask(),
        timeline(),
        fact(),
        source(),
        about(),
        help(),
        daily(),
        reload(),
    ]
}

/// The commands as the body of Discord's "overwrite commands" request.
/// `default_member_permissions` is sent as the integer Discord's API description
/// declares, where serenity writes the permission bits as a string.
pub fn registration(commands: &[poise::Command<Bot, Error>]) -> Result<serde_json::Value, Error> {
    let mut body = serde_json::to_value(poise::builtins::create_application_commands(commands))?;
    for command in body.as_array_mut().into_iter().flatten() {
        let bits = command
            .get("default_member_permissions")
            .and_then(serde_json::Value::as_str)
            .and_then(|bits| bits.parse::<u64>().ok());
        if let Some(bits) = bits {
            command["default_member_permissions"] = bits.into();
        }
    }
    Ok(body)
}

/// Takes an answer from the cooldowns; when the asker must wait, tells them
/// (ephemerally) and returns false.
async fn cooled_down(ctx: Context<'_>) -> Result<bool, Error> {
    match ctx
        .data()
        .cooldown(ctx.author().id.get(), ctx.channel_id().get())
    {
        Ok(()) => Ok(true),
        Err(wait) => {
            ctx.send(send::reply(&View::notice(wait_notice(wait)), true))
                .await?;
            Ok(false)
        }
    }
}

async fn notice(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    ctx.send(send::reply(&View::notice(text), true)).await?;
    Ok(())
}

/// Ask a question about the Russia–Ukraine talks
#[poise::command(slash_command)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, in your own words"] question: String,
) -> Result<(), Error> {
    if !cooled_down(ctx).await? {
        return Ok(());
    }
    let view = ctx
        .data()
        .answer(question, ctx.guild_id().map(|g| g.get()))
        .await;
    ctx.send(send::reply(&view, false)).await?;
    Ok(())
}

fn parse_date_option(name: &str, value: Option<&str>) -> Result<Option<FactDate>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            format!("`{name}` must be a date written YYYY, YYYY-MM or YYYY-MM-DD, such as 2022-03.")
        }),
    }
}

/// The topics matching what the user has typed so far.
async fn autocomplete_topic(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.trim().to_lowercase();
    let choices = ctx
        .data()
        .engine()
        .knowledge()
        .topics()
        .into_iter()
        .filter(|t| t.contains(&partial))
        .take(limits::AUTOCOMPLETE_CHOICES)
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The dated events of the talks, in order, with dates as the sources state them
#[poise::command(slash_command)]
pub async fn timeline(
    ctx: Context<'_>,
    #[description = "From this date (YYYY, YYYY-MM or YYYY-MM-DD)"] from: Option<String>,
    #[description = "Up to this date (YYYY, YYYY-MM or YYYY-MM-DD)"] to: Option<String>,
    #[description = "Only this topic"]
    #[autocomplete = "autocomplete_topic"]
    topic: Option<String>,
) -> Result<(), Error> {
    let (from, to) = match (
        parse_date_option("from", from.as_deref()),
        parse_date_option("to", to.as_deref()),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => return notice(ctx, e).await,
    };
    let topic = topic
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let bot = ctx.data();
    let engine = bot.engine();
    let kb = engine.knowledge();
    if let Some(t) = &topic
        && !kb.topics().iter().any(|k| k.contains(t.as_str()))
    {
        let topics = kb.topics().join(", ");
        return notice(ctx, format!("I have no topic like that. Topics: {topics}.")).await;
    }
    if !cooled_down(ctx).await? {
        return Ok(());
    }
    let query = TimelineQuery { from, to, topic };
    let facts = timeline::timeline(kb, &query);
    let view = timeline_view(bot, &facts, &query, 0, ctx.author().id.get());
    ctx.send(send::reply(&view, false)).await?;
    Ok(())
}

/// A timeline page whose buttons fit Discord; a query too long to carry in a button id
/// (an unusually long topic) is shown without paging buttons rather than not at all.
pub fn timeline_view(
    bot: &Bot,
    facts: &[&Fact],
    query: &TimelineQuery,
    page: usize,
    invoker: u64,
) -> View {
    let mut view = present::timeline_page(
        bot.engine().knowledge(),
        facts,
        query,
        page,
        bot.config.timeline_page_size,
        invoker,
    );
    if !view.buttons.iter().all(|b| b.id.fits()) {
        tracing::warn!("timeline query too long for paging buttons");
        view.buttons.clear();
    }
    view
}

/// A fact from the talks, with its citation
#[poise::command(slash_command)]
pub async fn fact(
    ctx: Context<'_>,
    #[description = "Only from this topic"]
    #[autocomplete = "autocomplete_topic"]
    topic: Option<String>,
) -> Result<(), Error> {
    let bot = ctx.data();
    let engine = bot.engine();
    let kb = engine.knowledge();
    let topic = topic
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let facts: Vec<&Fact> = kb
        .facts
        .iter()
        .filter(|f| topic.as_deref().is_none_or(|t| f.topic.contains(t)))
        .collect();
    if facts.is_empty() {
        let topics = kb.topics().join(", ");
        return notice(ctx, format!("I have no topic like that. Topics: {topics}.")).await;
    }
    if !cooled_down(ctx).await? {
        return Ok(());
    }
    // The interaction id is the seed: a different fact each time, with no clock read.
    let seed = match ctx {
        poise::Context::Application(a) => a.interaction.id.get(),
        poise::Context::Prefix(p) => p.msg.id.get(),
    };
    let chosen = facts[(seed % facts.len() as u64) as usize];
    ctx.send(send::reply(&present::fact(kb, chosen), false))
        .await?;
    Ok(())
}

/// Fact ids (with the start of their answer) matching what the user has typed.
async fn autocomplete_fact(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.trim().to_lowercase();
    let choices = ctx
        .data()
        .engine()
        .knowledge()
        .facts
        .iter()
        .filter(|f| f.id.as_str().contains(&partial) || f.answer.to_lowercase().contains(&partial))
        .take(limits::AUTOCOMPLETE_CHOICES)
        .map(|f| {
            let name = present::truncate(&format!("{} — {}", f.id, f.answer), limits::CHOICE_NAME);
            serenity::AutocompleteChoice::new(name, f.id.as_str())
        })
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The full citation of a fact: the quote, the source and what is known about it
#[poise::command(slash_command)]
pub async fn source(
    ctx: Context<'_>,
    #[description = "The fact's id (shown under every answer)"]
    #[autocomplete = "autocomplete_fact"]
    fact: String,
) -> Result<(), Error> {
    let engine = ctx.data().engine();
    let kb = engine.knowledge();
    match kb.fact(fact.trim()) {
        Some(f) => {
            ctx.send(send::reply(&present::source(kb, f), false))
                .await?;
            Ok(())
        }
        None => {
            notice(
                ctx,
                "I have no fact with that id. Pick one from the list as you type, or copy it from under an answer.",
            )
            .await
        }
    }
}

/// What parley knows: its sources, how many facts, its version
#[poise::command(slash_command)]
pub async fn about(ctx: Context<'_>) -> Result<(), Error> {
    let view = present::about(ctx.data().engine().knowledge(), env!("CARGO_PKG_VERSION"));
    ctx.send(send::reply(&view, true)).await?;
    Ok(())
}

/// How to use parley
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let view = present::help(ctx.data().engine().knowledge());
    ctx.send(send::reply(&view, true)).await?;
    Ok(())
}

/// The permission needed to change a server's fact of the day.
const MANAGE: serenity::Permissions = serenity::Permissions::MANAGE_GUILD;

/// How long `/daily set` waits for Discord to describe a channel: an interaction is
/// answered within 3 seconds, or not at all.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a member with `permissions` may change the fact of the day. Discord hides
/// `/daily` from others by default, but a server can override that, so the handler
/// checks again.
pub fn may_manage(permissions: Option<serenity::Permissions>) -> bool {
    permissions.is_some_and(|p| p.contains(MANAGE) || p.administrator())
}

/// Checks the invoking member's permissions and that a store is configured; tells the
/// member (ephemerally) when either is missing.
async fn daily_access(ctx: Context<'_>) -> Result<Option<(Arc<Daily>, u64)>, Error> {
    let permissions = match ctx {
        poise::Context::Application(a) => a.interaction.member.as_ref().and_then(|m| m.permissions),
        poise::Context::Prefix(_) => None,
    };
    let Some(guild) = ctx.guild_id() else {
        notice(ctx, "The fact of the day is set up in a server, not here.").await?;
        return Ok(None);
    };
    if !may_manage(permissions) {
        notice(
            ctx,
            "Only members with the Manage Server permission can change the fact of the day.",
        )
        .await?;
        return Ok(None);
    }
    match &ctx.data().daily {
        Some(daily) => Ok(Some((Arc::clone(daily), guild.get()))),
        None => {
            notice(
                ctx,
                "The fact of the day is not available: this parley runs without storage.",
            )
            .await?;
            Ok(None)
        }
    }
}

/// Whether parley can post in `channel`: from the permissions Discord reports with the
/// interaction when it is the channel the command is used in, else worked out from the
/// channel, the server's roles and parley's member, fetched now. `None` when Discord
/// could not be asked or did not answer in time.
async fn can_post_in(ctx: Context<'_>, guild: u64, channel: serenity::ChannelId) -> Option<bool> {
    if let poise::Context::Application(a) = ctx
        && channel == a.interaction.channel_id
        && let Some(reported) = a.interaction.app_permissions
    {
        return Some(permission::can_post(reported));
    }
    let lookup = permission::load(
        ctx.http(),
        serenity::GuildId::new(guild),
        channel,
        ctx.framework().bot_id,
    );
    match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(permissions)) => Some(permissions.is_some_and(permission::can_post)),
        Ok(Err(e)) => {
            tracing::warn!(guild, %channel, "cannot look up the daily post channel: {e}");
            None
        }
        Err(_) => {
            tracing::warn!(guild, %channel, "looking up the daily post channel timed out");
            None
        }
    }
}

/// Zone names matching what the admin has typed so far.
async fn autocomplete_zone(
    _ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.trim().to_lowercase();
    let choices = rules::schedule::zone_names()
        .filter(|z| z.to_lowercase().contains(&partial))
        .take(limits::AUTOCOMPLETE_CHOICES)
        .map(|z| serenity::AutocompleteChoice::new(z.clone(), z))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The fact of the day: one fact a day in a channel of this server
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands("daily_set", "daily_off", "daily_show", "daily_preview"),
    subcommand_required
)]
pub async fn daily(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Post a fact every day in a channel, at a time of day
#[poise::command(
    slash_command,
    rename = "set",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn daily_set(
    ctx: Context<'_>,
    #[description = "The channel to post in"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "Time of day, HH:MM on the 24-hour clock (e.g. 09:00)"] time: String,
    #[description = "Time zone, e.g. Europe/Kyiv (default: the server default)"]
    #[autocomplete = "autocomplete_zone"]
    timezone: Option<String>,
) -> Result<(), Error> {
    let Some((daily, guild)) = daily_access(ctx).await? else {
        return Ok(());
    };
    let zone = timezone.unwrap_or_else(|| daily.config.default_zone.clone());
    let schedule = match Schedule::parse(&time, &zone) {
        Ok(schedule) => schedule,
        Err(e) => return notice(ctx, format!("Nothing was changed: {e}.")).await,
    };
    // A post that would fail is refused now rather than at post time.
    match can_post_in(ctx, guild, channel.id).await {
        Some(true) => {}
        Some(false) => {
            return notice(
                ctx,
                format!(
                    "Nothing was changed: I cannot post in <#{}>. I need to see it, send messages and embed links there.",
                    channel.id
                ),
            )
            .await;
        }
        None => {
            return notice(
                ctx,
                format!(
                    "Nothing was changed: I could not check that I can post in <#{}>, as Discord did not answer. Please try again in a moment.",
                    channel.id
                ),
            )
            .await;
        }
    }
    let settings = GuildSettings {
        guild,
        channel: channel.id.get(),
        time: schedule.time,
        zone: schedule.zone_name().unwrap_or("UTC").to_string(),
        enabled: true,
    };
    daily.with_store(move |s| s.set_settings(&settings)).await?;
    daily.wake.notify_one();
    tracing::info!(guild, channel = %channel.id, schedule = %schedule, "daily post set");
    let next = next_post(&daily, guild, &schedule).await?;
    notice(
        ctx,
        format!(
            "The fact of the day will be posted in <#{}> every day at {schedule}. {next}",
            channel.id
        ),
    )
    .await
}

/// When the next post is due, as a sentence: in the server's zone and as a Discord
/// timestamp (shown in each reader's own zone).
async fn next_post(daily: &Daily, guild: u64, schedule: &Schedule) -> Result<String, Error> {
    let last = daily
        .with_store(move |s| s.last_claimed_date(guild))
        .await?;
    let now = jiff::Timestamp::now();
    Ok(match rules::next_post_at(now, schedule, last) {
        Some(at) => {
            let local = schedule.zone.to_datetime(at);
            format!(
                "Next post: {} {:02}:{:02} ({}), <t:{}:F>.",
                local.date(),
                local.hour(),
                local.minute(),
                schedule.zone_name().unwrap_or("UTC"),
                at.as_second()
            )
        }
        None => "No next post could be worked out for this time zone.".to_string(),
    })
}

/// Stop posting the fact of the day (the settings are kept)
#[poise::command(
    slash_command,
    rename = "off",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn daily_off(ctx: Context<'_>) -> Result<(), Error> {
    let Some((daily, guild)) = daily_access(ctx).await? else {
        return Ok(());
    };
    let was_set = daily.with_store(move |s| s.disable(guild)).await?;
    daily.wake.notify_one();
    if was_set {
        tracing::info!(guild, "daily post turned off");
        notice(
            ctx,
            "The fact of the day is off. `/daily set` turns it back on.",
        )
        .await
    } else {
        notice(ctx, "The fact of the day was not set up here.").await
    }
}

/// How many facts this server has not seen yet in the current rotation.
fn facts_left(bot: &Bot, seen: &[String]) -> usize {
    bot.engine()
        .knowledge()
        .facts
        .iter()
        .filter(|f| !seen.iter().any(|s| s == f.id.as_str()))
        .count()
}

/// The server's settings, or a notice saying there are none.
async fn settings_or_notice(
    ctx: Context<'_>,
    daily: &Daily,
    guild: u64,
) -> Result<Option<(GuildSettings, Schedule)>, Error> {
    let Some(settings) = daily.with_store(move |s| s.settings(guild)).await? else {
        notice(
            ctx,
            "The fact of the day is not set up here. Use `/daily set` to choose a channel and a time.",
        )
        .await?;
        return Ok(None);
    };
    match schedule_of(&settings) {
        Ok(schedule) => Ok(Some((settings, schedule))),
        Err(e) => {
            tracing::error!(guild, "stored daily settings unusable: {e}");
            notice(
                ctx,
                "The stored settings are no longer valid. Use `/daily set` again.",
            )
            .await?;
            Ok(None)
        }
    }
}

/// Show this server's fact-of-the-day settings and the next post
#[poise::command(
    slash_command,
    rename = "show",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn daily_show(ctx: Context<'_>) -> Result<(), Error> {
    let Some((daily, guild)) = daily_access(ctx).await? else {
        return Ok(());
    };
    let Some((settings, schedule)) = settings_or_notice(ctx, &daily, guild).await? else {
        return Ok(());
    };
    let rotation = daily.with_store(move |s| s.rotation(guild)).await?;
    let left = facts_left(ctx.data(), &rotation.seen);
    let status = if settings.enabled {
        next_post(&daily, guild, &schedule).await?
    } else {
        "It is off: `/daily set` turns it back on.".to_string()
    };
    let text = format!(
        "Channel: <#{}>\nTime: {:02}:{:02}\nTime zone: {}\n{status}\nFacts left before any repeats: {left}.",
        settings.channel,
        schedule.time.hour(),
        schedule.time.minute(),
        settings.zone,
    );
    notice(ctx, text).await
}

/// Show the fact that would be posted next (only you see it)
#[poise::command(
    slash_command,
    rename = "preview",
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn daily_preview(ctx: Context<'_>) -> Result<(), Error> {
    let Some((daily, guild)) = daily_access(ctx).await? else {
        return Ok(());
    };
    let Some((_, schedule)) = settings_or_notice(ctx, &daily, guild).await? else {
        return Ok(());
    };
    let last = daily
        .with_store(move |s| s.last_claimed_date(guild))
        .await?;
    let rotation = daily.with_store(move |s| s.rotation(guild)).await?;
    let date = rules::next_post_at(jiff::Timestamp::now(), &schedule, last)
        .map(|at| rules::local_date(at, &schedule.zone));
    let engine = ctx.data().engine();
    let kb = engine.knowledge();
    let facts: Vec<Candidate<'_>> = kb.facts.iter().map(Candidate::from).collect();
    let chosen = date.and_then(|date| {
        let choice = rules::choose(&facts, &rotation.seen, guild, date)?;
        let fact = kb.fact(choice.fact)?;
        Some(present::fact_of_the_day(
            kb,
            fact,
            super::daily::years_ago(fact, date),
        ))
    });
    match chosen {
        Some(view) => {
            ctx.send(send::reply(&view, true)).await?;
            Ok(())
        }
        None => notice(ctx, "There is no fact to preview.").await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managers_may_change_the_daily_post() {
        use poise::serenity_prelude::Permissions as P;
        assert!(may_manage(Some(P::MANAGE_GUILD | P::SEND_MESSAGES)));
        assert!(may_manage(Some(P::ADMINISTRATOR)));
        assert!(!may_manage(Some(P::SEND_MESSAGES | P::MANAGE_MESSAGES)));
        assert!(!may_manage(None));
    }
}

/// Reload the knowledge base from its files (parley's owners only)
#[poise::command(
    slash_command,
    owners_only,
    default_member_permissions = "ADMINISTRATOR"
)]
pub async fn reload(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let live = Arc::clone(&ctx.data().knowledge);
    let outcome = tokio::task::spawn_blocking(move || live.reload_logged("/reload")).await?;
    let text = match outcome {
        Ok(reloaded) => format!("Reloaded the knowledge base: {reloaded}."),
        Err(e) => {
            // The problems come from the knowledge files; a fence keeps them literal.
            let problems = e.problems().join("\n").replace("```", "'''");
            let head = "Nothing was changed: the new knowledge base failed its check, and the old one keeps serving.";
            let room = limits::MESSAGE - head.chars().count() - 12;
            format!("{head}\n```\n{}\n```", present::truncate(&problems, room))
        }
    };
    notice(ctx, text).await
}
