//! The fixed world the stand-in serves (the guild [`GUILD_ID`] with its channels, roles and
//! members, and [`OTHER_GUILDS`] small guilds) and the JSON objects Discord sends for it, shaped
//! after the response schemas of Discord's OpenAPI description.

use std::sync::LazyLock;

use serde_json::{Value, json};
use serenity::model::Permissions;

use super::{
    ADMIN, APPLICATION_ID, ASK_CHANNEL, ASKER, BOT_USER_ID, BRIEFINGS, DIGEST, GENERAL, GUILD_ID,
    LOCKED, NO_EMBEDS, NO_HISTORY, OTHER_BOT, OTHER_GUILDS, OWNER_USER_ID, ROLE_ID, STAFF,
    WEBHOOK_ID, other_guild,
};

/// Discord's epoch (2015-01-01), in Unix milliseconds.
pub(super) const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The role the bot's integration manages in [`GUILD_ID`].
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
}

/// Everyone in the world (the webhook is not a user).
const PEOPLE: &[Person] = &[
    Person {
        id: BOT_USER_ID,
        username: "parley",
        global_name: None,
        bot: true,
    },
    Person {
        id: OWNER_USER_ID,
        username: "owner",
        global_name: Some("Owner"),
        bot: false,
    },
    Person {
        id: ASKER,
        username: "asker",
        global_name: Some("Asker"),
        bot: false,
    },
    Person {
        id: ADMIN,
        username: "admin",
        global_name: Some("Admin"),
        bot: false,
    },
    Person {
        id: OTHER_BOT,
        username: "other-bot",
        global_name: None,
        bot: true,
    },
];

struct Guild {
    id: u64,
    name: String,
    roles: Vec<Role>,
    channels: Vec<Channel>,
    /// Members and their roles (besides @everyone).
    members: Vec<(u64, Vec<u64>)>,
}

struct Role {
    id: u64,
    name: &'static str,
    position: u32,
    permissions: Permissions,
    managed: bool,
    mentionable: bool,
}

struct Channel {
    id: u64,
    name: &'static str,
    topic: &'static str,
    /// In any order: they apply in Discord's order (@everyone's, the roles', the member's).
    overwrites: Vec<Overwrite>,
}

struct Overwrite {
    /// A role (the guild's id for @everyone) or a member.
    target: Target,
    allow: Permissions,
    deny: Permissions,
}

enum Target {
    Role(u64),
    Member(u64),
}

impl Overwrite {
    fn role(id: u64, allow: Permissions, deny: Permissions) -> Overwrite {
        Overwrite {
            target: Target::Role(id),
            allow,
            deny,
        }
    }

    fn member(id: u64, allow: Permissions, deny: Permissions) -> Overwrite {
        Overwrite {
            target: Target::Member(id),
            allow,
            deny,
        }
    }
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

/// What the bot's integration role grants: the permissions of its invite link.
fn bot_role_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::EMBED_LINKS
        | Permissions::READ_MESSAGE_HISTORY
}

fn everyone_role(guild: u64) -> Role {
    Role {
        id: guild,
        name: "@everyone",
        position: 0,
        permissions: everyone_permissions(),
        managed: false,
        mentionable: false,
    }
}

fn bot_role(id: u64, position: u32) -> Role {
    Role {
        id,
        name: "parley",
        position,
        permissions: bot_role_permissions(),
        managed: true,
        mentionable: false,
    }
}

/// The guild the tests happen in.
fn main_guild() -> Guild {
    use Permissions as P;
    let none = P::empty();
    let text = |id, name, topic, overwrites| Channel {
        id,
        name,
        topic,
        overwrites,
    };
    Guild {
        id: GUILD_ID,
        name: "Talks Watchers".into(),
        roles: vec![
            everyone_role(GUILD_ID),
            Role {
                id: ROLE_ID,
                name: "Delegates",
                position: 1,
                permissions: none,
                managed: false,
                mentionable: true,
            },
            Role {
                id: MODERATORS_ROLE_ID,
                name: "Moderators",
                position: 2,
                permissions: P::MANAGE_GUILD | P::MANAGE_MESSAGES,
                managed: false,
                mentionable: false,
            },
            bot_role(BOT_ROLE_ID, 3),
        ],
        channels: vec![
            text(GENERAL, "general", "Anything goes", vec![]),
            text(
                ASK_CHANNEL,
                "ask-parley",
                "Questions about the talks",
                vec![],
            ),
            text(
                NO_EMBEDS,
                "no-embeds",
                "The bot may not embed links here",
                vec![Overwrite::role(BOT_ROLE_ID, none, P::EMBED_LINKS)],
            ),
            text(
                LOCKED,
                "announcements",
                "The bot may not speak here",
                vec![Overwrite::role(BOT_ROLE_ID, none, P::SEND_MESSAGES)],
            ),
            text(
                BRIEFINGS,
                "briefings",
                "Read-only; the bot's role may speak, the bot may not embed links",
                vec![
                    Overwrite::member(BOT_USER_ID, none, P::EMBED_LINKS),
                    Overwrite::role(BOT_ROLE_ID, P::SEND_MESSAGES, none),
                    Overwrite::role(GUILD_ID, none, P::SEND_MESSAGES),
                ],
            ),
            text(
                DIGEST,
                "digest",
                "Read-only; the bot's role may speak",
                vec![
                    Overwrite::role(BOT_ROLE_ID, P::SEND_MESSAGES, none),
                    Overwrite::role(GUILD_ID, none, P::SEND_MESSAGES),
                ],
            ),
            text(
                STAFF,
                "staff",
                "Moderators only",
                vec![
                    Overwrite::role(GUILD_ID, none, P::VIEW_CHANNEL),
                    Overwrite::role(MODERATORS_ROLE_ID, P::VIEW_CHANNEL, none),
                ],
            ),
            text(
                NO_HISTORY,
                "no-history",
                "The bot may post here but not read the history",
                vec![Overwrite::role(BOT_ROLE_ID, none, P::READ_MESSAGE_HISTORY)],
            ),
        ],
        members: vec![
            (BOT_USER_ID, vec![BOT_ROLE_ID]),
            (OWNER_USER_ID, vec![]),
            (ASKER, vec![ROLE_ID]),
            (ADMIN, vec![MODERATORS_ROLE_ID]),
            (OTHER_BOT, vec![]),
        ],
    }
}

/// One of the small guilds: the bot (with its integration role) and the owner, and one text
/// channel without overwrites.
fn small_guild(n: u64) -> Guild {
    let (id, channel) = other_guild(n);
    let role = channel + 1;
    Guild {
        id,
        name: format!("Server {n}"),
        roles: vec![everyone_role(id), bot_role(role, 1)],
        channels: vec![Channel {
            id: channel,
            name: "general",
            topic: "Anything goes",
            overwrites: vec![],
        }],
        members: vec![(BOT_USER_ID, vec![role]), (OWNER_USER_ID, vec![])],
    }
}

static GUILDS: LazyLock<Vec<Guild>> = LazyLock::new(|| {
    std::iter::once(main_guild())
        .chain((1..=OTHER_GUILDS).map(small_guild))
        .collect()
});

fn guild(id: u64) -> Option<&'static Guild> {
    GUILDS.iter().find(|g| g.id == id)
}

/// The guild and the channel `channel`, if it is a guild channel.
fn find_channel(channel: u64) -> Option<(&'static Guild, &'static Channel)> {
    GUILDS
        .iter()
        .find_map(|g| g.channels.iter().find(|c| c.id == channel).map(|c| (g, c)))
}

pub(super) fn person(id: u64) -> Option<&'static Person> {
    PEOPLE.iter().find(|p| p.id == id)
}

/// Every guild's id, the bot's first.
pub(super) fn guild_ids() -> impl Iterator<Item = u64> {
    GUILDS.iter().map(|g| g.id)
}

pub(super) fn is_guild(id: u64) -> bool {
    guild(id).is_some()
}

/// The guild of the guild channel `channel`.
pub(super) fn guild_of(channel: u64) -> Option<u64> {
    find_channel(channel).map(|(g, _)| g.id)
}

pub(super) fn is_guild_channel(id: u64) -> bool {
    find_channel(id).is_some()
}

fn role_of(id: u64) -> Option<&'static Role> {
    GUILDS.iter().flat_map(|g| &g.roles).find(|r| r.id == id)
}

pub(super) fn is_role(id: u64) -> bool {
    role_of(id).is_some()
}

/// Whether content mentioning the role pings it.
pub(super) fn role_mentionable(id: u64) -> bool {
    role_of(id).is_some_and(|r| r.mentionable)
}

/// The roles of `user` in `guild` (without @everyone), or `None` if not a member.
fn roles_of(guild: &Guild, user: u64) -> Option<&[u64]> {
    guild
        .members
        .iter()
        .find(|(id, _)| *id == user)
        .map(|(_, roles)| roles.as_slice())
}

/// The roles of `user` in `guild`, or `None` if not a member.
pub(super) fn member_roles(guild: u64, user: u64) -> Option<Vec<u64>> {
    roles_of(self::guild(guild)?, user).map(<[u64]>::to_vec)
}

/// `user`'s permissions in the guild channel `channel`, as Discord computes them: the owner has
/// all; otherwise @everyone's and the member's roles' permissions (ADMINISTRATOR meaning all),
/// then the channel's overwrites: @everyone's, then the member's roles' (their denials, then their
/// allowances), then the member's own.
pub(super) fn permissions(user: u64, channel: u64) -> Permissions {
    let Some((guild, channel)) = find_channel(channel) else {
        return Permissions::empty();
    };
    if user == OWNER_USER_ID {
        return Permissions::all();
    }
    let Some(roles) = roles_of(guild, user) else {
        return Permissions::empty();
    };
    let base = guild
        .roles
        .iter()
        .filter(|r| r.id == guild.id || roles.contains(&r.id))
        .fold(Permissions::empty(), |acc, r| acc | r.permissions);
    if base.contains(Permissions::ADMINISTRATOR) {
        return Permissions::all();
    }
    let applies = |o: &&Overwrite, everyone: bool| match o.target {
        Target::Role(id) if id == guild.id => everyone,
        Target::Role(id) => !everyone && roles.contains(&id),
        Target::Member(_) => false,
    };
    let mut permissions = base;
    for o in channel.overwrites.iter().filter(|o| applies(o, true)) {
        permissions = (permissions - o.deny) | o.allow;
    }
    let (role_allow, role_deny) = channel
        .overwrites
        .iter()
        .filter(|o| applies(o, false))
        .fold((Permissions::empty(), Permissions::empty()), |(a, d), o| {
            (a | o.allow, d | o.deny)
        });
    permissions = (permissions - role_deny) | role_allow;
    for o in &channel.overwrites {
        if matches!(o.target, Target::Member(id) if id == user) {
            permissions = (permissions - o.deny) | o.allow;
        }
    }
    permissions
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

/// A member object of `guild`, with `user` unless `with_user` is false (as in MESSAGE_CREATE);
/// `None` if `id` is not a member.
pub(super) fn member_of(guild: u64, id: u64, with_user: bool) -> Option<Value> {
    let roles = member_roles(guild, id)?;
    let mut member = json!({
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
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
    Some(member)
}

/// The role object of the role `id`; panics if there is none.
pub(super) fn role_object(id: u64) -> Value {
    role_of(id)
        .map(role)
        .unwrap_or_else(|| panic!("no role {id} in the world"))
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

/// A guild text channel object; panics unless `channel` is a guild channel.
pub(super) fn guild_channel(channel: u64) -> Value {
    let (guild, channel) =
        find_channel(channel).unwrap_or_else(|| panic!("no guild channel {channel}"));
    let position = guild
        .channels
        .iter()
        .position(|c| c.id == channel.id)
        .expect("found above");
    let overwrites: Vec<Value> = channel
        .overwrites
        .iter()
        .map(|o| {
            let (id, kind) = match o.target {
                Target::Role(id) => (id, 0),
                Target::Member(id) => (id, 1),
            };
            json!({
                "id": id.to_string(),
                "type": kind,
                "allow": o.allow.bits().to_string(),
                "deny": o.deny.bits().to_string(),
            })
        })
        .collect();
    json!({
        "id": channel.id.to_string(),
        "type": 0,
        "guild_id": guild.id.to_string(),
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

/// The guild object `GET /guilds/{id}` returns; `None` for a guild not in the world.
pub(super) fn guild_object(id: u64) -> Option<Value> {
    let guild = guild(id)?;
    let system_channel = guild.channels.first().map(|c| c.id.to_string());
    Some(json!({
        "id": guild.id.to_string(),
        "name": guild.name,
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
        "roles": guild.roles.iter().map(role).collect::<Vec<_>>(),
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": system_channel,
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
    }))
}

/// The GUILD_CREATE payload of the guild `id`; panics if there is none.
pub(super) fn guild_create(id: u64) -> Value {
    let mut payload = guild_object(id).unwrap_or_else(|| panic!("no guild {id}"));
    let guild = guild(id).expect("found above");
    // Fields only GUILD_CREATE carries (one json! would exceed the macro recursion limit).
    let create_only = json!({
        "joined_at": JOINED_AT,
        "large": false,
        "unavailable": false,
        "member_count": guild.members.len(),
        "voice_states": [],
        "members": guild
            .members
            .iter()
            .filter_map(|(user, _)| member_of(id, *user, true))
            .collect::<Vec<_>>(),
        "channels": guild.channels.iter().map(|c| guild_channel(c.id)).collect::<Vec<_>>(),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), create_only) {
        payload.extend(extra);
    }
    payload
}

/// The READY payload for a new session.
pub(super) fn ready(session_id: &str, gateway_url: &str) -> Value {
    json!({
        "v": 10,
        "user": current_user(),
        "user_settings": {},
        "guilds": guild_ids()
            .map(|id| json!({"id": id.to_string(), "unavailable": true}))
            .collect::<Vec<_>>(),
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
        "approximate_guild_count": GUILDS.len(),
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
