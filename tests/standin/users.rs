//! What users do: the MESSAGE_CREATE, MESSAGE_UPDATE and INTERACTION_CREATE dispatches Discord
//! sends when they write, edit, run a command or click a button.

use serde_json::{Map, Value, json};
use serenity::model::Permissions;

use super::gateway::Dispatch;
use super::messages::{self, Mentions};
use super::{APPLICATION_ID, BOT_USER_ID, Interaction, InteractionRecord, Sent, State, world};

/// Discord's upload limit for a guild without boosts, sent with every interaction.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// Application command option types that name something to resolve.
const OPTION_USER: u64 = 6;
const OPTION_CHANNEL: u64 = 7;
const OPTION_ROLE: u64 = 8;
const OPTION_MENTIONABLE: u64 = 9;
/// Subcommand and subcommand group: options nest.
const OPTION_SUBCOMMAND: u64 = 1;
const OPTION_SUBCOMMAND_GROUP: u64 = 2;

impl State {
    /// A message by `author` (a user, or the webhook [`super::WEBHOOK_ID`]) in `channel`.
    pub(super) fn user_message(&mut self, channel: u64, author: u64, content: &str) -> Sent {
        let in_guild = self.check_author(channel, author);
        let id = self.next_id();
        let mentions = Mentions::in_content(content, in_guild);
        let message = messages::message_object(id, channel, author, content, &mentions);
        let sent_at = self.add_message(message, None);
        Sent {
            message_id: id,
            sent_at,
        }
    }

    /// `author` edits their message `id` in `channel` to `content`.
    pub(super) fn edit_user_message(
        &mut self,
        channel: u64,
        id: u64,
        author: u64,
        content: &str,
    ) -> Sent {
        let in_guild = self.check_author(channel, author);
        let mut message = self
            .message(id)
            .filter(|m| world::id_of(&m.message, "channel_id") == channel)
            .unwrap_or_else(|| panic!("no message {id} in channel {channel}"))
            .message
            .clone();
        assert_eq!(
            world::id_of(&message["author"], "id"),
            author,
            "message {id} is not by user {author}"
        );
        message["content"] = json!(content);
        message["edited_timestamp"] = json!(messages::now());
        let mentions = Mentions::in_content(content, in_guild);
        mentions.write_to(&mut message);
        let sent_at = self.replace_message(message);
        Sent {
            message_id: id,
            sent_at,
        }
    }

    /// An application command (type 2) or autocomplete (type 4) interaction for the registered
    /// `command`.
    pub(super) fn command_interaction(
        &mut self,
        kind: u8,
        channel: u64,
        user: u64,
        command: &Value,
        options: Value,
    ) -> Interaction {
        let in_guild = self.check_author(channel, user);
        let name = command["name"].as_str().unwrap_or_default();
        if let Err(why) = self.offered(command, channel, user) {
            panic!("Discord does not offer /{name} to user {user}: {why}");
        }
        check_options(name, &command["options"], &options);
        let mut data = json!({
            "id": command["id"],
            "name": command["name"],
            "type": command["type"],
            "options": options,
        });
        if let Some(guild) = command.get("guild_id") {
            data["guild_id"] = guild.clone();
        }
        let resolved = resolve(&data["options"], channel, user, in_guild);
        if !resolved.is_empty() {
            data["resolved"] = Value::Object(resolved);
        }
        self.interaction(kind, channel, user, data, None)
    }

    /// Whether Discord offers the registered `command` to `user` in `channel`; `Err` says why
    /// not. In a guild, a server's allowance for the user, one of their roles or @everyone
    /// offers it; otherwise the user needs its `default_member_permissions` (ADMINISTRATOR
    /// passes). Elsewhere (a DM) the command's registration alone decides.
    pub(super) fn offered(&self, command: &Value, channel: u64, user: u64) -> Result<(), String> {
        let Some(guild) = world::guild_of(channel) else {
            return Ok(());
        };
        let roles = world::member_roles(guild, user).unwrap_or_default();
        let allowed = self.command_allowances.iter().any(|(g, name, target)| {
            *g == guild
                && command["name"] == name.as_str()
                && (*target == user || *target == guild || roles.contains(target))
        });
        let Some(required) = bitfield(&command["default_member_permissions"]) else {
            return Ok(());
        };
        let required = Permissions::from_bits_truncate(required);
        let has = world::permissions(user, channel);
        if allowed || has.contains(required) || has.contains(Permissions::ADMINISTRATOR) {
            Ok(())
        } else {
            Err(format!("it lacks {required}"))
        }
    }

    /// `user` clicks the button `custom_id` on `message`.
    pub(super) fn click(
        &mut self,
        channel: u64,
        user: u64,
        message: &Value,
        custom_id: &str,
    ) -> Interaction {
        self.check_author(channel, user);
        let id = world::id_of(message, "id");
        let current = self
            .message(id)
            .unwrap_or_else(|| panic!("the stand-in holds no message {id}"))
            .message
            .clone();
        assert_eq!(
            world::id_of(&current, "channel_id"),
            channel,
            "message {id} is not in channel {channel}"
        );
        let button = find_component(&current["components"], custom_id)
            .unwrap_or_else(|| panic!("message {id} has no component {custom_id:?}: {current}"));
        assert_eq!(button["type"], 2, "component {custom_id:?} is not a button");
        assert_ne!(button["disabled"], true, "button {custom_id:?} is disabled");
        let mut data = json!({"custom_id": custom_id, "component_type": 2});
        if let Some(component_id) = button.get("id") {
            data["id"] = component_id.clone();
        }
        self.interaction(3, channel, user, data, Some(current))
    }

    /// Sends INTERACTION_CREATE and records the interaction.
    fn interaction(
        &mut self,
        kind: u8,
        channel: u64,
        user: u64,
        data: Value,
        message: Option<Value>,
    ) -> Interaction {
        let id = self.next_id();
        let token = format!("aW50ZXJhY3Rpb246{id}OnN0YW5kLWlu");
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": APPLICATION_ID.to_string(),
            "type": kind,
            "data": data,
            "channel_id": channel.to_string(),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        if let Some(guild) = world::guild_of(channel) {
            let permissions = world::permissions(user, channel);
            let mut member = world::member_of(guild, user, true)
                .unwrap_or_else(|| panic!("user {user} is not a member of guild {guild}"));
            member["permissions"] = json!(permissions.bits().to_string());
            let mut channel_object = world::guild_channel(channel);
            channel_object["permissions"] = json!(permissions.bits().to_string());
            payload["guild_id"] = json!(guild.to_string());
            payload["guild"] = json!({"id": guild.to_string(), "locale": "en-US", "features": []});
            payload["guild_locale"] = json!("en-US");
            payload["member"] = member;
            payload["channel"] = channel_object;
            payload["app_permissions"] =
                json!(world::permissions(BOT_USER_ID, channel).bits().to_string());
            payload["authorizing_integration_owners"] = json!({"0": guild.to_string()});
            payload["context"] = json!(0);
        } else {
            let mut channel_object = world::dm_channel(channel, user);
            channel_object["permissions"] = json!(Permissions::dm_permissions().bits().to_string());
            payload["user"] = world::user(user);
            payload["channel"] = channel_object;
            payload["app_permissions"] = json!(Permissions::dm_permissions().bits().to_string());
            payload["authorizing_integration_owners"] = json!({"0": "0"});
            payload["context"] = json!(1);
        }
        let source_message = message.as_ref().map(|m| world::id_of(m, "id"));
        if let Some(message) = message {
            payload["message"] = message;
        }
        let dispatch = Dispatch::new("INTERACTION_CREATE", payload);
        let sent_at = self.gateway.dispatch(dispatch);
        self.interactions.insert(
            id,
            InteractionRecord {
                kind,
                token: token.clone(),
                channel,
                user,
                sent_at,
                response: None,
                original: None,
                source_message,
            },
        );
        Interaction { id, token, sent_at }
    }

    /// Checks that `author` can write in `channel`; returns whether it is a guild channel.
    fn check_author(&self, channel: u64, author: u64) -> bool {
        if world::is_guild_channel(channel) {
            return true;
        }
        let recipient = self
            .dm_channels
            .iter()
            .find(|(_, dm)| **dm == channel)
            .map(|(user, _)| *user)
            .unwrap_or_else(|| panic!("no channel {channel} in the stand-in's world"));
        assert_eq!(
            recipient, author,
            "user {author} is not in the DM channel {channel}"
        );
        false
    }
}

/// A permission bitfield as Discord accepts it: a string of digits or an integer; `None` for
/// anything else (`null`: no permission needed).
pub(super) fn bitfield(value: &Value) -> Option<u64> {
    match value {
        Value::String(digits) => digits.parse().ok(),
        other => other.as_u64(),
    }
}

/// Panics unless every option in `given` is one the command registered, with the registered
/// type (subcommands checked recursively).
fn check_options(command: &str, registered: &Value, given: &Value) {
    let Some(given) = given.as_array() else {
        panic!("options of /{command} must be an array, not {given}");
    };
    let registered = registered.as_array().map(Vec::as_slice).unwrap_or_default();
    for option in given {
        let name = &option["name"];
        let declared = registered
            .iter()
            .find(|r| r["name"] == *name)
            .unwrap_or_else(|| panic!("/{command} registered no option {name}"));
        assert_eq!(
            declared["type"], option["type"],
            "/{command} option {name} has type {} when registered",
            declared["type"]
        );
        if let Some(nested) = option.get("options") {
            check_options(command, &declared["options"], nested);
        }
    }
}

/// The `resolved` object for the users, channels and roles the options name, as `user` sees
/// them from `channel`.
fn resolve(options: &Value, channel: u64, user: u64, in_guild: bool) -> Map<String, Value> {
    let mut resolved = Map::new();
    let mut add = |kind: &str, id: &str, object: Value| {
        resolved
            .entry(kind)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("resolved entries are objects")
            .insert(id.to_owned(), object);
    };
    for option in options.as_array().into_iter().flatten() {
        let kind = option["type"].as_u64().unwrap_or(0);
        if matches!(kind, OPTION_SUBCOMMAND | OPTION_SUBCOMMAND_GROUP) {
            for (key, value) in resolve(&option["options"], channel, user, in_guild) {
                for (id, object) in value.as_object().into_iter().flatten() {
                    add(&key, id, object.clone());
                }
            }
            continue;
        }
        let Some(id) = option["value"].as_str() else {
            continue;
        };
        let number: u64 = id.parse().unwrap_or(0);
        let is_user = world::person(number).is_some();
        match kind {
            OPTION_USER | OPTION_MENTIONABLE if is_user => {
                add("users", id, world::user(number));
                let member = world::guild_of(channel)
                    .filter(|_| in_guild)
                    .and_then(|guild| world::member_of(guild, number, false));
                if let Some(mut member) = member {
                    member["permissions"] =
                        json!(world::permissions(number, channel).bits().to_string());
                    add("members", id, member);
                }
            }
            OPTION_ROLE | OPTION_MENTIONABLE if world::is_role(number) => {
                add("roles", id, world::role_object(number));
            }
            OPTION_CHANNEL if world::is_guild_channel(number) => {
                let mut object = world::guild_channel(number);
                object["permissions"] = json!(world::permissions(user, number).bits().to_string());
                add("channels", id, object);
            }
            _ => {}
        }
    }
    resolved
}

/// The component with `custom_id` among `components`, their children and accessories.
fn find_component<'a>(components: &'a Value, custom_id: &str) -> Option<&'a Value> {
    components.as_array()?.iter().find_map(|component| {
        if component["custom_id"] == custom_id {
            Some(component)
        } else if component["accessory"]["custom_id"] == custom_id {
            Some(&component["accessory"])
        } else {
            find_component(&component["components"], custom_id)
        }
    })
}
