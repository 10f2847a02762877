//! Messages: the objects Discord returns for them (`MessageResponse`), who they mention, and
//! the store of the messages that exist, which sends the MESSAGE_* dispatches as they change.

use std::sync::LazyLock;
use std::time::Instant;

use regex::Regex;
use serde_json::{Value, json};
use serenity::model::Timestamp;

use super::gateway::Dispatch;
use super::rest::{Reply, invalid_form_body};
use super::{BOT_USER_ID, State, StoredMessage, WEBHOOK_ID, world};

/// Message flags Discord lets a message be created or edited with.
const SUPPRESS_EMBEDS: u64 = 1 << 2;
pub(super) const EPHEMERAL: u64 = 1 << 6;
/// "The application is thinking...": a deferred interaction response not yet edited.
pub(super) const LOADING: u64 = 1 << 7;
const SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
const IS_COMPONENTS_V2: u64 = 1 << 15;

/// What Discord allows in a bot's message content.
const MAX_CONTENT_CHARS: usize = 2000;
const MAX_EMBEDS: usize = 10;

/// Who a message pings.
#[derive(Default)]
pub(super) struct Mentions {
    users: Vec<u64>,
    roles: Vec<u64>,
    everyone: bool,
}

impl Mentions {
    /// Every mention written in `content` (users and roles of the world, `@everyone` and
    /// `@here`), as for a member allowed to ping all of them.
    pub(super) fn in_content(content: &str, in_guild: bool) -> Mentions {
        static USER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<@!?(\d+)>").unwrap());
        static ROLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<@&(\d+)>").unwrap());
        let ids = |re: &Regex| -> Vec<u64> {
            let mut ids = Vec::new();
            for id in re.captures_iter(content).filter_map(|c| c[1].parse().ok()) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        };
        Mentions {
            users: ids(&USER)
                .into_iter()
                .filter(|id| world::person(*id).is_some())
                .collect(),
            roles: ids(&ROLE)
                .into_iter()
                .filter(|id| in_guild && world::is_role(*id))
                .collect(),
            everyone: in_guild && (content.contains("@everyone") || content.contains("@here")),
        }
    }

    /// The mentions of the bot's `content` that ping under the request's `allowed_mentions`
    /// (absent: all that the bot may ping), replying to a message by `replied_to`. The bot lacks
    /// MENTION_EVERYONE, so `@everyone` and roles that are not mentionable never ping.
    fn from_bot(
        content: &str,
        in_guild: bool,
        allowed: Option<&Value>,
        replied_to: Option<u64>,
    ) -> Result<Mentions, Reply> {
        let written = Mentions::in_content(content, in_guild);
        let (parse, users, roles, replied_user) = match allowed {
            None => (vec!["users", "roles", "everyone"], vec![], vec![], true),
            Some(allowed) => {
                let strings = |key: &str| -> Vec<&str> {
                    allowed[key]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default()
                };
                let parse = strings("parse");
                let (users, roles) = (strings("users"), strings("roles"));
                for (kind, list) in [("users", &users), ("roles", &roles)] {
                    if parse.contains(&kind) && !list.is_empty() {
                        return Err(invalid_form_body(
                            &["allowed_mentions", "parse"],
                            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                            &format!(
                                "parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive."
                            ),
                        ));
                    }
                }
                let ids = |list: Vec<&str>| -> Vec<u64> {
                    list.iter().filter_map(|id| id.parse().ok()).collect()
                };
                let replied_user = allowed["replied_user"].as_bool().unwrap_or(false);
                (parse, ids(users), ids(roles), replied_user)
            }
        };
        let mut mentions = Mentions {
            users: written
                .users
                .into_iter()
                .filter(|id| parse.contains(&"users") || users.contains(id))
                .collect(),
            roles: written
                .roles
                .into_iter()
                .filter(|id| world::role_mentionable(*id))
                .filter(|id| parse.contains(&"roles") || roles.contains(id))
                .collect(),
            everyone: false,
        };
        if let Some(author) = replied_to.filter(|_| replied_user) {
            if !mentions.users.contains(&author) && world::person(author).is_some() {
                mentions.users.push(author);
            }
        }
        Ok(mentions)
    }

    pub(super) fn write_to(&self, message: &mut Value) {
        message["mentions"] = self.users.iter().map(|id| world::user(*id)).collect();
        message["mention_roles"] = self.roles.iter().map(u64::to_string).collect();
        message["mention_everyone"] = json!(self.everyone);
    }
}

/// The current time as Discord writes it.
pub(super) fn now() -> String {
    Timestamp::now().to_string()
}

/// A new message object with no embeds, components or flags.
pub(super) fn message_object(
    id: u64,
    channel: u64,
    author: u64,
    content: &str,
    mentions: &Mentions,
) -> Value {
    let mut message = json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "author": world::user(author),
        "content": content,
        "timestamp": now(),
        "edited_timestamp": null,
        "tts": false,
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
    });
    mentions.write_to(&mut message);
    if author == WEBHOOK_ID {
        message["webhook_id"] = json!(WEBHOOK_ID.to_string());
    }
    message
}

/// Applies the message fields of a create or edit request `body` to `message` (content, embeds,
/// components, flags, tts, and the mentions under `allowed_mentions`), or returns the error
/// Discord answers for it. `replied_to` is the author of the message being replied to.
pub(super) fn apply_body(
    message: &mut Value,
    body: &Value,
    replied_to: Option<u64>,
) -> Result<(), Reply> {
    let in_guild = world::is_guild_channel(world::id_of(message, "channel_id"));
    if let Some(content) = body.get("content").filter(|c| !c.is_null()) {
        let content = content.as_str().unwrap_or_default();
        if content.chars().count() > MAX_CONTENT_CHARS {
            return Err(invalid_form_body(
                &["content"],
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {MAX_CONTENT_CHARS} or fewer in length."),
            ));
        }
        message["content"] = json!(content);
    }
    if let Some(embeds) = body.get("embeds").and_then(Value::as_array) {
        if embeds.len() > MAX_EMBEDS {
            return Err(invalid_form_body(
                &["embeds"],
                "BASE_TYPE_MAX_LENGTH",
                &format!("Must be {MAX_EMBEDS} or fewer in length."),
            ));
        }
        message["embeds"] = embeds.iter().map(embed_object).collect();
    }
    if let Some(components) = body.get("components").and_then(Value::as_array) {
        message["components"] = Value::Array(components.clone());
    }
    if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
        let settable = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2;
        let kept = message["flags"].as_u64().unwrap_or(0) & !settable;
        message["flags"] = json!(kept | (flags & settable));
    }
    if let Some(tts) = body.get("tts").and_then(Value::as_bool) {
        message["tts"] = json!(tts);
    }
    let content = message["content"].as_str().unwrap_or_default().to_owned();
    let allowed = body.get("allowed_mentions").filter(|a| !a.is_null());
    Mentions::from_bot(&content, in_guild, allowed, replied_to)?.write_to(message);
    let empty = |key: &str| message[key].as_array().is_none_or(Vec::is_empty);
    if content.is_empty() && empty("embeds") && empty("components") && empty("attachments") {
        return Err(Reply::error(400, 50006, "Cannot send an empty message"));
    }
    Ok(())
}

/// An embed as Discord returns it: `type` "rich", no null fields.
fn embed_object(embed: &Value) -> Value {
    let mut embed = without_nulls(embed);
    if let Some(fields) = embed.as_object_mut() {
        fields.entry("type").or_insert_with(|| json!("rich"));
    }
    embed
}

/// `value` without the fields that are null, at any depth.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => items.iter().map(without_nulls).collect(),
        other => other.clone(),
    }
}

/// The message as MESSAGE_CREATE / MESSAGE_UPDATE carry it: in the guild, with `guild_id`, the
/// author's `member` and each mentioned user's `member`.
fn as_dispatched(message: &Value) -> Value {
    let mut message = message.clone();
    let Some(guild) = world::guild_of(world::id_of(&message, "channel_id")) else {
        return message;
    };
    message["guild_id"] = json!(guild.to_string());
    let author = world::id_of(&message["author"], "id");
    if let Some(member) = world::member_of(guild, author, false) {
        message["member"] = member;
    }
    if let Some(users) = message["mentions"].as_array_mut() {
        for user in users {
            if let Some(member) = world::member_of(guild, world::id_of(user, "id"), false) {
                user["member"] = member;
            }
        }
    }
    message
}

impl State {
    /// Keeps a new message and, unless ephemeral, sends MESSAGE_CREATE; returns when.
    pub(super) fn add_message(&mut self, message: Value, token: Option<String>) -> Instant {
        let ephemeral = message["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0;
        let dispatch =
            (!ephemeral).then(|| Dispatch::new("MESSAGE_CREATE", as_dispatched(&message)));
        self.messages.push(StoredMessage {
            message,
            ephemeral,
            token,
        });
        match dispatch {
            Some(dispatch) => self.gateway.dispatch(dispatch),
            None => Instant::now(),
        }
    }

    /// Replaces a kept message with its new version and, unless ephemeral, sends
    /// MESSAGE_UPDATE; returns when.
    pub(super) fn replace_message(&mut self, message: Value) -> Instant {
        let id = world::id_of(&message, "id");
        let stored = self
            .message_mut(id)
            .unwrap_or_else(|| panic!("no message {id} to replace"));
        let dispatch =
            (!stored.ephemeral).then(|| Dispatch::new("MESSAGE_UPDATE", as_dispatched(&message)));
        stored.message = message;
        match dispatch {
            Some(dispatch) => self.gateway.dispatch(dispatch),
            None => Instant::now(),
        }
    }

    /// Forgets a message and, unless it was ephemeral, sends MESSAGE_DELETE.
    pub(super) fn delete_message(&mut self, id: u64) {
        let Some(index) = self
            .messages
            .iter()
            .position(|m| world::id_of(&m.message, "id") == id)
        else {
            return;
        };
        let stored = self.messages.remove(index);
        if stored.ephemeral {
            return;
        }
        let channel = world::id_of(&stored.message, "channel_id");
        let mut deleted = json!({"id": id.to_string(), "channel_id": channel.to_string()});
        if let Some(guild) = world::guild_of(channel) {
            deleted["guild_id"] = json!(guild.to_string());
        }
        self.gateway
            .dispatch(Dispatch::new("MESSAGE_DELETE", deleted));
    }

    /// A new, still empty message by the bot in `channel`.
    pub(super) fn bot_message(&mut self, channel: u64) -> Value {
        let id = self.next_id();
        message_object(id, channel, BOT_USER_ID, "", &Mentions::default())
    }
}
