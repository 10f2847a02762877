//! The slash commands. Each one reads its options, asks the engine or the knowledge base,
//! and sends a view; the views are built in [`super::present`].

use poise::serenity_prelude as serenity;

use super::present::{self, View, limits};
use super::{Bot, Context, Error, send, wait_notice};
use crate::knowledge::Fact;
use crate::timeline::{self, FactDate, TimelineQuery};

/// Every command parley registers.
pub fn all() -> Vec<poise::Command<Bot, Error>> {
    vec![ask(), timeline(), fact(), source(), about(), help()]
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
    let view = ctx.data().answer(question).await;
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
        .engine
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
    let kb = bot.engine.knowledge();
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
        bot.engine.knowledge(),
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
    let kb = bot.engine.knowledge();
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
        .engine
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
    let kb = ctx.data().engine.knowledge();
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
    let view = present::about(ctx.data().engine.knowledge(), env!("CARGO_PKG_VERSION"));
    ctx.send(send::reply(&view, true)).await?;
    Ok(())
}

/// How to use parley
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let view = present::help(ctx.data().engine.knowledge());
    ctx.send(send::reply(&view, true)).await?;
    Ok(())
}
