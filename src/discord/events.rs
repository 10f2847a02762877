//! Gateway events: questions asked by mention, in a DM or in an ask-channel; edited
//! questions; and presses of parley's buttons.

use std::sync::Arc;
use std::time::{Duration, Instant};

use poise::serenity_prelude as serenity;
use serenity::{ComponentInteraction, CreateInteractionResponse, FullEvent, Message};

use super::component::ComponentId;
use super::curation;
use super::present::{self, View};
use super::send::{self, Delivered, Question};
use super::state::Posted;
use super::{Bot, Error, commands, lock, wait_notice};
use crate::store::Vote;
use crate::timeline::{self, TimelineQuery};

type FrameworkContext<'a> = poise::FrameworkContext<'a, Bot, Error>;

/// How long a cooldown notice in a channel stays before it deletes itself.
const NOTICE_TTL: Duration = Duration::from_secs(10);

pub async fn handle(framework: FrameworkContext<'_>, event: &FullEvent) -> Result<(), Error> {
    let bot = framework.user_data;
    let ctx = framework.serenity_context;
    match event {
        FullEvent::Message { new_message } => {
            on_message(ctx, bot, framework.bot_id, new_message).await
        }
        FullEvent::MessageUpdate { event, .. } => on_edit(ctx, bot, framework.bot_id, event).await,
        FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(press),
        } => on_press(ctx, bot, press).await,
        FullEvent::Resume { .. } => {
            tracing::info!(shard = ctx.shard_id.0, "gateway session resumed");
            Ok(())
        }
        FullEvent::Ready { data_about_bot } => {
            tracing::info!(
                shard = ctx.shard_id.0,
                guilds = data_about_bot.guilds.len(),
                "gateway session ready"
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The question in a message, if it is one: every message in a DM or an ask-channel,
/// and elsewhere a message that mentions parley by name (`<@id>`). A reply to one of
/// parley's answers also lists parley among its mentions, but is not a question.
fn question_in(
    bot: &Bot,
    bot_id: serenity::UserId,
    content: &str,
    channel: u64,
    in_guild: bool,
) -> Option<String> {
    let question = without_mentions_of(bot_id, content);
    let mentioned = question != content;
    if in_guild && !mentioned && !bot.is_ask_channel(channel) {
        return None;
    }
    Some(question)
}

/// `content` with parley's own mentions (`<@id>`, `<@!id>`) blanked out.
fn without_mentions_of(bot_id: serenity::UserId, content: &str) -> String {
    content
        .replace(&format!("<@{bot_id}>"), " ")
        .replace(&format!("<@!{bot_id}>"), " ")
}

async fn on_message(
    ctx: &serenity::Context,
    bot: &Bot,
    bot_id: serenity::UserId,
    msg: &Message,
) -> Result<(), Error> {
    if msg.author.bot || msg.webhook_id.is_some() || msg.author.id == bot_id {
        return Ok(());
    }
    let Some(question) = question_in(
        bot,
        bot_id,
        &msg.content,
        msg.channel_id.get(),
        msg.guild_id.is_some(),
    ) else {
        return Ok(());
    };
    let q = Question {
        channel: msg.channel_id,
        message: msg.id,
        author: msg.author.id,
    };
    if let Err(wait) = bot.cooldown(msg.author.id.get(), msg.channel_id.get()) {
        if wait.notify {
            send::self_deleting_notice(Arc::clone(&ctx.http), q, wait_notice(wait), NOTICE_TTL)
                .await;
        }
        return Ok(());
    }
    let view = bot.answer(question, msg.guild_id.map(|g| g.get())).await;
    if let Delivered::Channel { message, embed } = send::reply_to(&ctx.http, q, &view).await {
        let posted = Posted {
            asker: msg.author.id.get(),
            channel: msg.channel_id.get(),
            reply: message.get(),
            embed,
        };
        lock(&bot.replies).record(msg.id.get(), posted, Instant::now());
    }
    Ok(())
}

/// An edited question gets its reply edited to match, within the edit window.
async fn on_edit(
    ctx: &serenity::Context,
    bot: &Bot,
    bot_id: serenity::UserId,
    event: &serenity::MessageUpdateEvent,
) -> Result<(), Error> {
    let Some(content) = &event.content else {
        return Ok(()); // an embed unfurled, a pin: not an edit of the text
    };
    let Some(posted) = lock(&bot.replies).get(event.id.get(), Instant::now()) else {
        return Ok(());
    };
    if event
        .author
        .as_ref()
        .is_some_and(|a| a.id.get() != posted.asker)
    {
        return Ok(());
    }
    let view = bot
        .answer(
            without_mentions_of(bot_id, content),
            event.guild_id.map(|g| g.get()),
        )
        .await;
    if let Err(e) = send::edit_reply(
        &ctx.http,
        posted.channel.into(),
        posted.reply.into(),
        &view,
        posted.embed,
    )
    .await
    {
        tracing::warn!(channel = posted.channel, "could not edit a reply: {e}");
    }
    Ok(())
}

async fn respond(
    ctx: &serenity::Context,
    press: &ComponentInteraction,
    response: CreateInteractionResponse,
) -> Result<(), Error> {
    press.create_response(&ctx.http, response).await?;
    Ok(())
}

async fn respond_notice(
    ctx: &serenity::Context,
    press: &ComponentInteraction,
    text: impl Into<String>,
) -> Result<(), Error> {
    let message = send::interaction_message(&View::notice(text), true);
    respond(ctx, press, CreateInteractionResponse::Message(message)).await
}

/// A press of one of parley's buttons.
async fn on_press(
    ctx: &serenity::Context,
    bot: &Bot,
    press: &ComponentInteraction,
) -> Result<(), Error> {
    let Some(id) = ComponentId::decode(&press.data.custom_id) else {
        tracing::debug!(custom_id = %press.data.custom_id, "a button parley does not know");
        return respond_notice(ctx, press, "That button no longer works.").await;
    };
    let engine = bot.engine();
    let kb = engine.knowledge();
    let gone = "That fact is no longer in my knowledge base.";
    match id {
        ComponentId::ShowSource { fact } => match kb.fact(&fact) {
            Some(f) => {
                let message = send::interaction_message(&present::source(kb, f), true);
                respond(ctx, press, CreateInteractionResponse::Message(message)).await
            }
            None => respond_notice(ctx, press, gone).await,
        },
        ComponentId::Ask { fact, question } => {
            let Some(text) = kb.fact(&fact).and_then(|f| f.questions.get(question)) else {
                return respond_notice(ctx, press, gone).await;
            };
            if let Err(wait) = bot.cooldown(press.user.id.get(), press.channel_id.get()) {
                return respond_notice(ctx, press, wait_notice(wait)).await;
            }
            let view = bot
                .answer(text.clone(), press.guild_id.map(|g| g.get()))
                .await;
            let message = send::interaction_message(&view, false)
                .content(format!("*{}*", present::escape_markdown(text)));
            respond(ctx, press, CreateInteractionResponse::Message(message)).await
        }
        ComponentId::Vote { answer, helpful } => {
            let Some(log) = bot.log.clone() else {
                return respond_notice(ctx, press, "Votes are not recorded on this bot.").await;
            };
            let vote = Vote {
                answer,
                user: press.user.id.get(),
                helpful,
                voted_at: jiff::Timestamp::now(),
            };
            let outcome = tokio::task::spawn_blocking(move || log.vote(vote))
                .await
                .ok()
                .flatten();
            if let Some(outcome) = outcome {
                tracing::debug!(answer, helpful, ?outcome, "vote");
            }
            respond_notice(ctx, press, curation::vote_notice(outcome, helpful)).await
        }
        ComponentId::Page {
            page,
            invoker,
            from,
            to,
            topic,
        } => {
            if press.user.id.get() != invoker {
                return respond_notice(
                    ctx,
                    press,
                    "Only the person who asked for this timeline can turn its pages. Run /timeline to get your own.",
                )
                .await;
            }
            let query = TimelineQuery { from, to, topic };
            let facts = timeline::timeline(kb, &query);
            let view = commands::timeline_view(bot, &facts, &query, page, invoker);
            let message = send::interaction_message(&view, false);
            respond(
                ctx,
                press,
                CreateInteractionResponse::UpdateMessage(message),
            )
            .await
        }
    }
}
