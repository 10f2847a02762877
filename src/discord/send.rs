//! Views as serenity builders, and posting them the way a careful bot does: no pings,
//! replies that do not notify the author, and a missing permission that degrades
//! (embed → plain text → a DM saying why) instead of failing or retrying forever.

use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseMessage, CreateMessage, EditMessage, Http,
    MessageId, MessageReference, MessageReferenceKind, UserId,
};

use super::present::{ButtonStyle, View};

/// Discord's error code for a missing permission.
const MISSING_PERMISSIONS: isize = 50013;
/// Discord's codes for a channel that is gone, or that the bot cannot see.
pub const UNKNOWN_CHANNEL: isize = 10003;
pub const MISSING_ACCESS: isize = 50001;

/// Mentions that ping no one: not @everyone or @here, no role, no user, not even the
/// author of the message replied to.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

pub fn embed(view: &View) -> CreateEmbed {
    let e = &view.embed;
    let mut embed = CreateEmbed::new()
        .description(&e.description)
        .colour(e.colour);
    if let Some(title) = &e.title {
        embed = embed.title(title);
    }
    for f in &e.fields {
        embed = embed.field(&f.name, &f.value, false);
    }
    if let Some(footer) = &e.footer {
        embed = embed.footer(CreateEmbedFooter::new(footer));
    }
    embed
}

pub fn components(view: &View) -> Vec<CreateActionRow> {
    if view.buttons.is_empty() {
        return Vec::new();
    }
    let buttons = view
        .buttons
        .iter()
        .map(|b| {
            CreateButton::new(b.id.encode())
                .label(&b.label)
                .style(match b.style {
                    ButtonStyle::Primary => serenity::ButtonStyle::Primary,
                    ButtonStyle::Secondary => serenity::ButtonStyle::Secondary,
                })
                .disabled(b.disabled)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// A view as a poise reply (slash commands).
pub fn reply(view: &View, ephemeral: bool) -> poise::CreateReply {
    poise::CreateReply::default()
        .embed(embed(view))
        .components(components(view))
        .allowed_mentions(no_pings())
        .ephemeral(ephemeral)
}

/// A view as an interaction response message (buttons).
pub fn interaction_message(view: &View, ephemeral: bool) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .embed(embed(view))
        .components(components(view))
        .allowed_mentions(no_pings())
        .ephemeral(ephemeral)
}

fn message(view: &View, as_embed: bool) -> CreateMessage {
    let m = CreateMessage::new()
        .allowed_mentions(no_pings())
        .components(components(view));
    if as_embed {
        m.embed(embed(view))
    } else {
        m.content(&view.text)
    }
}

/// Whether an error is Discord refusing for a missing permission.
pub fn is_missing_permission(e: &serenity::Error) -> bool {
    error_code(e) == Some(MISSING_PERMISSIONS)
}

/// Discord's error code, when `e` is an error response.
pub fn error_code(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// The message a question came from.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub channel: ChannelId,
    pub message: MessageId,
    pub author: UserId,
}

/// Where a reply ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// In the question's channel, as an embed or as plain text.
    Channel { message: MessageId, embed: bool },
    /// In a DM to the asker, because the channel does not allow parley to post.
    Dm,
    /// Nowhere (logged).
    Nowhere,
}

/// Replies to a question message (a reply reference that does not ping the author). A
/// channel without Embed Links gets plain text; a channel parley cannot post in at all
/// gets nothing, and the asker a DM saying why. Each step is tried once.
pub async fn reply_to(http: &Http, q: Question, view: &View) -> Delivered {
    let reference = MessageReference::new(MessageReferenceKind::Default, q.channel)
        .message_id(q.message)
        .fail_if_not_exists(false);
    for as_embed in [true, false] {
        let m = message(view, as_embed).reference_message(reference.clone());
        match q.channel.send_message(http, m).await {
            Ok(sent) => {
                return Delivered::Channel {
                    message: sent.id,
                    embed: as_embed,
                };
            }
            Err(e) if is_missing_permission(&e) => {
                tracing::warn!(
                    channel = %q.channel,
                    embed = as_embed,
                    "missing permission to reply in channel: {e}"
                );
            }
            Err(e) => {
                tracing::error!(channel = %q.channel, "could not reply: {e}");
                return Delivered::Nowhere;
            }
        }
    }
    let why = format!(
        "I could not answer in <#{}>: I am missing the permission to post there. Here is my answer:",
        q.channel
    );
    let dm = async {
        let channel = q.author.create_dm_channel(http).await?;
        let text = super::present::truncate(
            &format!("{why}\n\n{}", view.text),
            super::present::limits::MESSAGE,
        );
        let m = CreateMessage::new()
            .allowed_mentions(no_pings())
            .content(text)
            .components(components(view));
        channel.id.send_message(http, m).await
    };
    match dm.await {
        Ok(_) => Delivered::Dm,
        Err(e) => {
            tracing::warn!(user = %q.author, "could not DM the asker either: {e}");
            Delivered::Nowhere
        }
    }
}

/// Replaces a reply's content with a new view, in the same form (embed or text).
pub async fn edit_reply(
    http: &Http,
    channel: ChannelId,
    message: MessageId,
    view: &View,
    as_embed: bool,
) -> serenity::Result<()> {
    let mut edit = EditMessage::new()
        .allowed_mentions(no_pings())
        .components(components(view));
    edit = if as_embed {
        edit.embed(embed(view)).content("")
    } else {
        edit.content(&view.text)
    };
    channel.edit_message(http, message, edit).await.map(|_| ())
}

/// Posts a short notice in reply to a question and deletes it after `ttl`.
pub async fn self_deleting_notice(
    http: std::sync::Arc<Http>,
    q: Question,
    text: String,
    ttl: std::time::Duration,
) {
    let m = CreateMessage::new()
        .allowed_mentions(no_pings())
        .content(text)
        .reference_message(
            MessageReference::new(MessageReferenceKind::Default, q.channel)
                .message_id(q.message)
                .fail_if_not_exists(false),
        );
    match q.channel.send_message(&http, m).await {
        Ok(sent) => {
            tokio::spawn(async move {
                tokio::time::sleep(ttl).await;
                if let Err(e) = q.channel.delete_message(&http, sent.id).await {
                    tracing::debug!("could not delete a notice: {e}");
                }
            });
        }
        Err(e) => tracing::debug!(channel = %q.channel, "could not post a notice: {e}"),
    }
}
