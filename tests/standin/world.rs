//! The fixed world the stand-in serves (one guild, its channels, roles and members) and the JSON
//! objects Discord sends for it, shaped after the response schemas of Discord's OpenAPI
//! description.

use serde_json::{Value, json};
use serenity::model::Permissions;

use super::{
    ADMIN, APPLICATION_ID, ASK_CHANNEL, ASKER, BOT_USER_ID, GENERAL, GUILD_ID, LOCKED, NO_EMBEDS,
    OTHER_BOT, OWNER_USER_ID, ROLE_ID, WEBHOOK_ID,
};

/// Discord's epoch (2015-01-01), in Unix milliseconds.
pub(super) const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The role the bot's integration manages.
const BOT_ROLE_ID: u64 = 1_210_000_000_000_000_102;
/// The role giving [`ADMIN`] MANAGE_GUILD.
const MODERATORS_ROLE_ID: u64 = 1_210_000_000_000_000_103;
/// When every member joined.
const JOINED_AT: &str = "2024-02-24T10:00:00.000000+00:00";

pub(super) struct Person {
    pub id: u64,
    pub username: &'static str,
    pub global_name: Option<&'static str>,
    pub bot: bool,
    pub roles: &'static [u64],
}

/// The guild's members (the webhook is not one).
const PEOPLE: &[Person] = &[
    Person {
        id: BOT_USER_ID,
        username: "parley",
        global_name: None,
        bot: true,
        roles: &[BOT_ROLE_ID],
    },
    Person {
        id: OWNER_USER_ID,
        username: "owner",
        global_name: Some("Owner"),
        bot: false,
        roles: &[],
    },
    Person {
        id: ASKER,
        username: "asker",
        global_name: Some("Asker"),
        bot: false,
        roles: &[ROLE_ID],
    },
    Person {
        id: ADMIN,
        username: "admin",
        global_name: Some("Admin"),
        bot: false,
        roles: &[MODERATORS_ROLE_ID],
    },
    Person {
        id: OTHER_BOT,
        username: "other-bot",
        global_name: None,
        bot: true,
        roles: &[],
    },
];

struct Role {
    id: u64,
    name: &'static str,
    position: u32,
    permissions: Permissions,
    managed: bool,
    mentionable: bool,
}

fn everyone_permissions() -> Permissions {
    Permissions::CREATE_INSTANT_INVITE
        | Permissions::ADD_REACTIONS
        | Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::USE_EXTERNAL_EMOJIS
        | Permissions::CONNECT
        | Permissions::SPEAK
        | Permissions::CHANGE_NICKNAME
        | Permissions::USE_APPLICATION_COMMANDS
        | Permissions::SEND_MESSAGES_IN_THREADS
}

fn roles() -> [Role; 4] {
    [
        Role {
            id: GUILD_ID,
            name: "@everyone",
            position: 0,
            permissions: everyone_permissions(),
            managed: false,
            mentionable: false,
        },
        Role {
            id: ROLE_ID,
            name: "Delegates",
            position: 1,
            permissions: Permissions::empty(),
            managed: false,
            mentionable: true,
        },
        Role {
            id: MODERATORS_ROLE_ID,
            name: "Moderators",
            position: 2,
            permissions: Permissions::MANAGE_GUILD | Permissions::MANAGE_MESSAGES,
            managed: false,
            mentionable: false,
        },
        Role {
            id: BOT_ROLE_ID,
            name: "parley",
            position: 3,
            permissions: Permissions::VIEW_CHANNEL
                | Permissions::SEND_MESSAGES
                | Permissions::EMBED_LINKS
                | Permissions::READ_MESSAGE_HISTORY,
            managed: true,
            mentionable: false,
        },
    ]
}

struct Channel {
    id: u64,
    name: &'static str,
    topic: &'static str,
    /// Denied to the bot's role by an overwrite.
    bot_denied: Permissions,
}

fn channels() -> [Channel; 4] {
    [
        Channel {
            id: GENERAL,
            name: "general",
            topic: "Anything goes",
            bot_denied: Permissions::empty(),
        },
        Channel {
            id: ASK_CHANNEL,
            name: "ask-parley",
            topic: "Questions about the talks",
            bot_denied: Permissions::empty(),
        },
        Channel {
            id: NO_EMBEDS,
            name: "no-embeds",
            topic: "The bot may not embed links here",
            bot_denied: Permissions::EMBED_LINKS,
        },
        Channel {
            id: LOCKED,
            name: "announcements",
            topic: "The bot may not speak here",
            bot_denied: Permissions::SEND_MESSAGES,
        },
    ]
}

pub(super) fn person(id: u64) -> Option<&'static Person> {
    PEOPLE.iter().find(|p| p.id == id)
}

pub(super) fn is_guild_channel(id: u64) -> bool {
    channels().iter().any(|c| c.id == id)
}

pub(super) fn is_role(id: u64) -> bool {
    roles().iter().any(|r| r.id == id)
}

/// Whether content mentioning the role pings it.
pub(super) fn role_mentionable(id: u64) -> bool {
    roles().iter().any(|r| r.id == id && r.mentionable)
}

/// `user`'s permissions in the guild channel `channel`, as Discord computes them: the owner has
/// all; otherwise @everyone's and the member's roles' permissions (ADMINISTRATOR meaning all),
/// then the channel's overwrites.
pub(super) fn permissions(user: u64, channel: u64) -> Permissions {
    if user == OWNER_USER_ID {
        return Permissions::all();
    }
    let Some(person) = person(user) else {
        return Permissions::empty();
    };
    let roles = roles();
    let mut base = roles
        .iter()
        .filter(|r| r.id == GUILD_ID || person.roles.contains(&r.id))
        .fold(Permissions::empty(), |acc, r| acc | r.permissions);
    if base.contains(Permissions::ADMINISTRATOR) {
        return Permissions::all();
    }
    if let Some(channel) = channels().iter().find(|c| c.id == channel) {
        if person.roles.contains(&BOT_ROLE_ID) {
            base -= channel.bot_denied;
        }
    }
    base
}

/// The numeric value of the snowflake string `object[key]`; 0 if absent.
pub(super) fn id_of(object: &Value, key: &str) -> u64 {
    object[key]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A user object (`UserResponse`); the webhook's author for [`WEBHOOK_ID`].
pub(super) fn user(id: u64) -> Value {
    if id == WEBHOOK_ID {
        return json!({
            "id": id.to_string(),
            "username": "Press Feed",
            "avatar": null,
            "discriminator": "0000",
            "public_flags": 0,
            "flags": 0,
            "bot": true,
            "global_name": null,
        });
    }
    let person = person(id).unwrap_or_else(|| panic!("no user {id} in the stand-in's world"));
    let mut user = json!({
        "id": id.to_string(),
        "username": person.username,
        "avatar": null,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "global_name": person.global_name,
        "primary_guild": null,
        "avatar_decoration_data": null,
        "collectibles": null,
        "banner": null,
        "accent_color": null,
    });
    if person.bot {
        user["bot"] = json!(true);
    }
    user
}

/// The bot's own user as `GET /users/@me` returns it (`UserPIIResponse`).
pub(super) fn current_user() -> Value {
    let mut user = user(BOT_USER_ID);
    user["mfa_enabled"] = json!(false);
    user["locale"] = json!("en-US");
    user["verified"] = json!(true);
    user["email"] = json!(null);
    user["premium_type"] = json!(0);
    user
}

/// A guild member object, with `user` unless `with_user` is false (as in MESSAGE_CREATE).
pub(super) fn member(id: u64, with_user: bool) -> Value {
    let person = person(id).unwrap_or_else(|| panic!("no member {id} in the guild"));
    let mut member = json!({
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": person.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": JOINED_AT,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
    });
    if with_user {
        member["user"] = user(id);
    }
    member
}

/// The role object of the guild's role `id`; panics if there is none.
pub(super) fn role_object(id: u64) -> Value {
    roles()
        .iter()
        .find(|r| r.id == id)
        .map(role)
        .unwrap_or_else(|| panic!("no role {id} in the guild"))
}

fn role(role: &Role) -> Value {
    let mut value = json!({
        "id": role.id.to_string(),
        "name": role.name,
        "description": null,
        "permissions": role.permissions.bits().to_string(),
        "position": role.position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "icon": null,
        "unicode_emoji": null,
        "flags": 0,
    });
    if role.managed {
        value["tags"] = json!({"bot_id": BOT_USER_ID.to_string()});
    }
    value
}

/// A guild text channel object; `channel` must be one of the guild's.
pub(super) fn guild_channel(channel: u64) -> Value {
    let (position, channel) = channels()
        .into_iter()
        .enumerate()
        .find(|(_, c)| c.id == channel)
        .unwrap_or_else(|| panic!("no channel {channel} in the guild"));
    let overwrites = if channel.bot_denied.is_empty() {
        json!([])
    } else {
        json!([{
            "id": BOT_ROLE_ID.to_string(),
            "type": 0,
            "allow": "0",
            "deny": channel.bot_denied.bits().to_string(),
        }])
    };
    json!({
        "id": channel.id.to_string(),
        "type": 0,
        "guild_id": GUILD_ID.to_string(),
        "name": channel.name,
        "position": position,
        "permission_overwrites": overwrites,
        "parent_id": null,
        "topic": channel.topic,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "flags": 0,
    })
}

/// The DM channel object (`PrivateChannelResponse`) `channel` with `recipient`.
pub(super) fn dm_channel(channel: u64, recipient: u64) -> Value {
    json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user(recipient)],
    })
}

/// The GUILD_CREATE payload.
pub(super) fn guild_create() -> Value {
    let mut guild = json!({
        "id": GUILD_ID.to_string(),
        "name": "Talks Watchers",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": OWNER_USER_ID.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": roles().iter().map(role).collect::<Vec<_>>(),
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": GENERAL.to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 25_000_000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    });
    // Fields only GUILD_CREATE carries (one json! would exceed the macro recursion limit).
    let create_only = json!({
        "joined_at": JOINED_AT,
        "large": false,
        "unavailable": false,
        "member_count": PEOPLE.len(),
        "voice_states": [],
        "members": PEOPLE.iter().map(|p| member(p.id, true)).collect::<Vec<_>>(),
        "channels": channels().iter().map(|c| guild_channel(c.id)).collect::<Vec<_>>(),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(guild), Value::Object(extra)) = (guild.as_object_mut(), create_only) {
        guild.extend(extra);
    }
    guild
}

/// The READY payload for a new session.
pub(super) fn ready(session_id: &str, gateway_url: &str) -> Value {
    json!({
        "v": 10,
        "user": current_user(),
        "user_settings": {},
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["europe"],
        "session_type": "normal",
        "session_id": session_id,
        "resume_gateway_url": gateway_url,
        "shard": [0, 1],
        "application": {"id": APPLICATION_ID.to_string(), "flags": application_flags()},
    })
}

/// GATEWAY_MESSAGE_CONTENT: the privileged intent is enabled for the bot.
fn application_flags() -> u64 {
    1 << 18
}

/// The application, as `GET /oauth2/applications/@me` and `GET /applications/@me` return it
/// (`PrivateApplicationResponse`).
pub(super) fn application() -> Value {
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": "parley",
        "icon": null,
        "description": "Answers questions about the direct Russia–Ukraine talks",
        "summary": "",
        "type": null,
        "bot": user(BOT_USER_ID),
        "bot_public": false,
        "bot_require_code_grant": false,
        "verify_key": "5e2d2a4b8c7f6e1d0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f",
        "flags": application_flags(),
        "flags_new": application_flags().to_string(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "owner": user(OWNER_USER_ID),
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 1,
        "explicit_content_filter": 0,
        "team": null,
        "eligible_oauth2_scopes": ["bot", "applications.commands"],
        "integration_types_config": {"0": {}},
        "rpc_origins": [],
        "tags": [],
        "hook": true,
        "is_monetized": false,
        "is_verified": false,
        "is_discoverable": false,
        "storefront_available": false,
    })
}
