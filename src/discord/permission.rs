//! What parley may do in a channel Discord did not describe with an interaction (one
//! other than the channel a command is used in): its permissions worked out from the
//! channel's overwrites, the server's roles and parley's own member, fetched over REST.
//! parley keeps no cache to read them from, and nothing here is remembered between calls.

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, GuildChannel, GuildId, Http, Member, PartialGuild, Permissions, UserId};

use super::send;

/// What parley needs in a channel to post the fact of the day there.
pub const POST: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::EMBED_LINKS);

/// Whether `permissions` let parley post the fact of the day.
pub fn can_post(permissions: Permissions) -> bool {
    permissions.administrator() || permissions.contains(POST)
}

/// `member`'s permissions in `channel`, as Discord documents them (and serenity's
/// `PartialGuild::user_permissions_in` computes them): the server owner has all;
/// otherwise @everyone's and the member's roles' permissions (Administrator meaning all),
/// then the channel's overwrites in order: @everyone's, the member's roles' combined
/// (denials before allowances), the member's own. `None` when the channel is not one of
/// `guild`'s.
pub fn in_channel(
    guild: &PartialGuild,
    channel: &GuildChannel,
    member: &Member,
) -> Option<Permissions> {
    (channel.guild_id == guild.id).then(|| guild.user_permissions_in(channel, member))
}

/// Fetches the channel, the server and `user`'s member, and works out `user`'s
/// permissions in the channel. `Ok(None)` when the channel is not a channel of `guild`
/// that `user` can see (Discord answers "Unknown Channel" or "Missing Access" for it);
/// `Err` when Discord could not be asked or did not answer.
pub async fn load(
    http: &Http,
    guild: GuildId,
    channel: ChannelId,
    user: UserId,
) -> serenity::Result<Option<Permissions>> {
    let (channel, partial_guild, member) = tokio::join!(
        http.get_channel(channel),
        http.get_guild(guild),
        http.get_member(guild, user)
    );
    let channel = match channel {
        Ok(serenity::Channel::Guild(channel)) => channel,
        Ok(_) => return Ok(None),
        Err(e)
            if matches!(
                send::error_code(&e),
                Some(send::UNKNOWN_CHANNEL | send::MISSING_ACCESS)
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(in_channel(&partial_guild?, &channel, &member?))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const GUILD: u64 = 1_100;
    const OWNER: u64 = 2_001;
    const BOT: u64 = 2_002;
    const BOT_ROLE: u64 = 1_101;
    const ADMIN_ROLE: u64 = 1_102;
    const PLAIN_ROLE: u64 = 1_103;
    const CHANNEL: u64 = 3_001;

    fn bits(p: Permissions) -> String {
        p.bits().to_string()
    }

    fn role(id: u64, permissions: Permissions) -> Value {
        json!({
            "id": id.to_string(), "name": format!("role {id}"), "color": 0, "hoist": false,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "position": 1, "permissions": bits(permissions), "managed": false,
            "mentionable": false, "flags": 0,
        })
    }

    /// A server whose @everyone role has `everyone`, with a role for the bot with `bot`,
    /// a role with Administrator and a role with no permissions.
    fn guild(everyone: Permissions, bot: Permissions) -> PartialGuild {
        serde_json::from_value(json!({
            "id": GUILD.to_string(), "name": "Talks", "owner_id": OWNER.to_string(),
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "system_channel_flags": 0,
            "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
            "premium_progress_bar_enabled": false, "features": [], "emojis": [], "stickers": [],
            "roles": [
                role(GUILD, everyone),
                role(BOT_ROLE, bot),
                role(ADMIN_ROLE, Permissions::ADMINISTRATOR),
                role(PLAIN_ROLE, Permissions::empty()),
            ],
        }))
        .expect("a guild object")
    }

    enum Target {
        Role(u64),
        Member(u64),
    }

    fn channel_in(guild: u64, overwrites: &[(Target, Permissions, Permissions)]) -> GuildChannel {
        let overwrites: Vec<Value> = overwrites
            .iter()
            .map(|(target, allow, deny)| {
                let (id, kind) = match target {
                    Target::Role(id) => (id, 0),
                    Target::Member(id) => (id, 1),
                };
                json!({"id": id.to_string(), "type": kind, "allow": bits(*allow), "deny": bits(*deny)})
            })
            .collect();
        serde_json::from_value(json!({
            "id": CHANNEL.to_string(), "type": 0, "guild_id": guild.to_string(),
            "name": "daily", "position": 0, "permission_overwrites": overwrites,
        }))
        .expect("a channel object")
    }

    fn member(user: u64, roles: &[u64]) -> Member {
        serde_json::from_value(json!({
            "user": {"id": user.to_string(), "username": "parley", "discriminator": "0",
                     "avatar": null, "bot": true},
            "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "joined_at": "2024-02-24T10:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0,
        }))
        .expect("a member object")
    }

    /// A case of the table below: the server's @everyone and bot role permissions, the
    /// bot's roles, the channel's overwrites, and whether the bot can post.
    struct Case {
        name: &'static str,
        everyone: Permissions,
        bot_role: Permissions,
        roles: &'static [u64],
        overwrites: Vec<(Target, Permissions, Permissions)>,
        can_post: bool,
    }

    #[test]
    fn overwrites_apply_in_discords_order() {
        use Permissions as P;
        use Target::{Member as M, Role as R};
        let all = P::VIEW_CHANNEL | P::SEND_MESSAGES | P::EMBED_LINKS;
        let (send, embed, view) = (P::SEND_MESSAGES, P::EMBED_LINKS, P::VIEW_CHANNEL);
        let none = P::empty();
        let case = |name, everyone, bot_role, roles, overwrites, can_post| Case {
            name,
            everyone,
            bot_role,
            roles,
            overwrites,
            can_post,
        };
        let mine: &'static [u64] = &[BOT_ROLE];
        let cases = [
            case("no overwrites", all, none, mine, vec![], true),
            case("base lacks embeds", send | view, none, mine, vec![], false),
            case(
                "the bot's role adds them",
                send | view,
                embed,
                mine,
                vec![],
                true,
            ),
            case(
                "@everyone denied",
                all,
                none,
                mine,
                vec![(R(GUILD), none, send)],
                false,
            ),
            case(
                "the role allowance beats the @everyone denial, whatever the listing",
                all,
                none,
                mine,
                vec![(R(BOT_ROLE), send, none), (R(GUILD), none, send)],
                true,
            ),
            case(
                "a role's allowance beats another role's denial",
                all,
                none,
                &[BOT_ROLE, PLAIN_ROLE],
                vec![(R(PLAIN_ROLE), none, send), (R(BOT_ROLE), send, none)],
                true,
            ),
            case(
                "an overwrite for a role the bot lacks",
                all,
                none,
                mine,
                vec![(R(PLAIN_ROLE), none, send)],
                true,
            ),
            case(
                "the member denial beats the role allowance, whatever the listing",
                all,
                none,
                mine,
                vec![
                    (M(BOT), none, embed),
                    (R(BOT_ROLE), send, none),
                    (R(GUILD), none, send),
                ],
                false,
            ),
            case(
                "the member allowance beats the role denial",
                all,
                none,
                mine,
                vec![(R(BOT_ROLE), none, view), (M(BOT), view, none)],
                true,
            ),
            case(
                "another member's overwrite",
                all,
                none,
                mine,
                vec![(M(OWNER), none, send)],
                true,
            ),
            case(
                "an administrator role ignores overwrites",
                none,
                none,
                &[BOT_ROLE, ADMIN_ROLE],
                vec![(R(GUILD), none, view | send), (M(BOT), none, all)],
                true,
            ),
            case(
                "administrator through @everyone",
                P::ADMINISTRATOR,
                none,
                &[],
                vec![(M(BOT), none, all)],
                true,
            ),
        ];
        for c in cases {
            let guild = guild(c.everyone, c.bot_role);
            let channel = channel_in(GUILD, &c.overwrites);
            let permissions = in_channel(&guild, &channel, &member(BOT, c.roles)).unwrap();
            assert_eq!(
                can_post(permissions),
                c.can_post,
                "{}: {permissions:?}",
                c.name
            );
        }
    }

    #[test]
    fn the_server_owner_may_post_anywhere_and_other_servers_channels_are_refused() {
        use Permissions as P;
        let guild = guild(P::empty(), P::empty());
        let denied = [(Target::Member(OWNER), P::empty(), P::all())];
        let owner = in_channel(&guild, &channel_in(GUILD, &denied), &member(OWNER, &[]));
        assert_eq!(owner, Some(P::all()));
        let bot = member(BOT, &[BOT_ROLE]);
        assert_eq!(in_channel(&guild, &channel_in(GUILD + 1, &[]), &bot), None);
    }

    #[test]
    fn posting_needs_to_see_send_and_embed() {
        use Permissions as P;
        assert!(can_post(POST | P::READ_MESSAGE_HISTORY));
        assert!(can_post(P::ADMINISTRATOR));
        for missing in [P::VIEW_CHANNEL, P::SEND_MESSAGES, P::EMBED_LINKS] {
            assert!(!can_post(POST - missing), "{missing:?}");
        }
    }
}
