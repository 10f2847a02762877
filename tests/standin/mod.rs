//! A loopback stand-in for Discord's REST API and Gateway, to run the bot (serenity + poise)
//! against in tests.
//!
//! [`Discord::start`] serves, on one port of 127.0.0.1, the REST routes the bot uses under
//! `/api/v10` and a plain `ws://` Gateway at the URL `GET /api/v10/gateway` returns. The world is
//! fixed (see the constants below): one guild with eight text channels, a few users and roles, a
//! DM channel, and [`OTHER_GUILDS`] small guilds of one channel each. Tests make users act
//! ([`Discord::user_message`], [`Discord::slash_command`], [`Discord::click`], ...), each of
//! which sends the Gateway dispatch Discord would send, and then read what the bot did
//! ([`Discord::requests`], [`Discord::wait_request`], [`Discord::messages_in`],
//! [`Discord::interaction_response`], ...).
//!
//! Behaviours Discord has and the stand-in reproduces:
//! - permissions: the bot's, computed from the guild's roles and the channel's overwrites, decide
//!   what it may do: a message with embeds in [`NO_EMBEDS`], or any POST to [`LOCKED`], is
//!   answered `403 {"code": 50013, "message": "Missing Permissions"}` (interaction responses are
//!   not subject to channel permissions), and a channel it cannot see, such as [`STAFF`],
//!   `403 {"code": 50001, "message": "Missing Access"}`; interaction payloads carry the
//!   permissions computed the same way; a command is offered to a member only if they have its
//!   `default_member_permissions` (a string or an integer), unless the server allowed it to them
//!   ([`Discord::allow_command`]);
//! - limits: message content over 2000 characters is `400` (code 50035), an empty message `400`
//!   (code 50006); `allowed_mentions` decides who is in a message's `mentions`;
//! - `enforce_nonce` on `POST /channels/{id}/messages`;
//! - `GET /channels/{id}/messages` pages as Discord does (`after` gives the messages right after
//!   it, newest first), refuses a channel the bot cannot see and lists nothing where it lacks
//!   Read Message History, such as [`NO_HISTORY`];
//! - interactions: one callback per interaction, within 3 seconds; follow-ups after a deferred
//!   response edit the "thinking..." message; ephemeral messages stay out of the channel;
//! - the bot's own messages come back to it as `MESSAGE_CREATE` / `MESSAGE_UPDATE` /
//!   `MESSAGE_DELETE`, and message events honour the identified intents (`MESSAGE_CONTENT`
//!   blanks the content of guild messages that do not mention the bot);
//! - the Gateway session: heartbeats, RESUME with replay of missed events, reconnect (op 7),
//!   invalid session (op 9); events sent while the bot is disconnected wait for it.
//!
//! Every dispatch the stand-in builds is checked to deserialise into serenity's model (serenity
//! silently drops an event it cannot read), and [`validate_body`] checks request bodies against
//! the request schemas of Discord's OpenAPI description (vendored subset in
//! `tests/fixtures/discord-api-spec`).

mod gateway;
mod messages;
mod rest;
mod schema;
#[cfg(test)]
mod selftest;
mod users;
mod world;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

pub use schema::validate_body;

/// The bot's user.
pub const BOT_USER_ID: u64 = 1_210_000_000_000_000_002;
/// The bot's application (distinct from [`BOT_USER_ID`], as for applications created before
/// Discord made them equal).
pub const APPLICATION_ID: u64 = 1_210_000_000_000_000_001;
/// The application's owner (`owner` in `GET /oauth2/applications/@me`); also owns the guild, so
/// has every permission there.
pub const OWNER_USER_ID: u64 = 1_210_000_000_000_000_003;
/// A human member who asks questions. The DM channel [`DM_CHANNEL`] is with this user.
pub const ASKER: u64 = 1_210_000_000_000_000_011;
/// A human member with MANAGE_GUILD (through the "Moderators" role).
pub const ADMIN: u64 = 1_210_000_000_000_000_012;
/// Another bot in the guild (`bot: true`).
pub const OTHER_BOT: u64 = 1_210_000_000_000_000_013;
/// The webhook whose messages [`Discord::webhook_message`] sends.
pub const WEBHOOK_ID: u64 = 1_210_000_000_000_000_021;

/// The guild.
pub const GUILD_ID: u64 = 1_210_000_000_000_000_100;
/// A mentionable role with no extra permissions ("Delegates"; [`ASKER`] has it).
pub const ROLE_ID: u64 = 1_210_000_000_000_000_101;
/// `#general`.
pub const GENERAL: u64 = 1_210_000_000_000_000_201;
/// `#ask-parley`.
pub const ASK_CHANNEL: u64 = 1_210_000_000_000_000_202;
/// `#no-embeds`: an overwrite denies the bot EMBED_LINKS.
pub const NO_EMBEDS: u64 = 1_210_000_000_000_000_203;
/// `#announcements`: an overwrite denies the bot SEND_MESSAGES.
pub const LOCKED: u64 = 1_210_000_000_000_000_204;
/// `#briefings`: read-only for @everyone; an overwrite lets the bot's role send messages there,
/// and another, for the bot itself, denies it EMBED_LINKS.
pub const BRIEFINGS: u64 = 1_210_000_000_000_000_205;
/// `#digest`: read-only for @everyone; an overwrite lets the bot's role send messages there.
pub const DIGEST: u64 = 1_210_000_000_000_000_206;
/// `#staff`: only the Moderators role ([`ADMIN`]) may see it; the bot may not.
pub const STAFF: u64 = 1_210_000_000_000_000_207;
/// `#no-history`: an overwrite denies the bot READ_MESSAGE_HISTORY (it may still post).
pub const NO_HISTORY: u64 = 1_210_000_000_000_000_208;
/// The DM channel between the bot and [`ASKER`].
pub const DM_CHANNEL: u64 = 1_210_000_000_000_000_301;

/// How many guilds the world has besides [`GUILD_ID`]; see [`other_guild`].
pub const OTHER_GUILDS: u64 = 30;

/// The `n`th other guild (`1..=OTHER_GUILDS`) and its one text channel, `#general`: no
/// overwrites, the bot (with its integration's role) and [`OWNER_USER_ID`] as members.
pub const fn other_guild(n: u64) -> (u64, u64) {
    let guild = 1_210_000_000_000_100_000 + n * 10;
    (guild, guild + 1)
}

/// How long a 429 asks to wait (`retry_after` and the `retry-after` header): short, unlike
/// Discord's, to keep tests fast.
pub const RETRY_AFTER_SECS: f64 = 0.05;

/// How long a control call ([`Discord::force_reconnect`], ...) waits for a live Gateway socket.
const LIVE_SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// The stand-in. Cheap to clone: clones share one server and one state.
#[derive(Clone)]
pub struct Discord {
    inner: Arc<Inner>,
}

/// One REST request the bot made, as the stand-in recorded it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// The raw query string (serenity writes `&limit=50`), empty when none.
    pub query: String,
    /// The `Authorization` header, if sent.
    pub auth: Option<String>,
    /// The JSON body; `Null` when empty.
    pub body: Value,
    /// The status the stand-in answered.
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

/// A message a user sent through [`Discord::user_message`] and the like.
#[derive(Clone, Copy, Debug)]
pub struct Sent {
    /// The id of the message.
    pub message_id: u64,
    /// When its dispatch was sent, or queued if the bot was not connected.
    pub sent_at: Instant,
}

/// An interaction a user started through [`Discord::slash_command`] and the like.
#[derive(Clone, Debug)]
pub struct Interaction {
    /// The interaction's id.
    pub id: u64,
    /// Its token (for the callback and the webhook routes).
    pub token: String,
    /// When its dispatch was sent, or queued if the bot was not connected.
    pub sent_at: Instant,
}

struct Inner {
    base_url: String,
    gateway_url: String,
    state: Mutex<State>,
    /// Bumped on every change to `state`, for the `wait_*` calls.
    changed: watch::Sender<()>,
}

/// Everything the stand-in knows; one lock, never held across an await.
#[derive(Default)]
struct State {
    requests: Vec<Request>,
    failures: Vec<Failure>,
    last_id: u64,
    /// Every message that exists (deleted ones removed), in creation order.
    messages: Vec<StoredMessage>,
    nonces: Vec<NonceRecord>,
    global_commands: Vec<Value>,
    guild_commands: BTreeMap<u64, Vec<Value>>,
    /// Commands a server lets someone use whatever their `default_member_permissions`: (guild,
    /// command name, member or role id, the guild's id standing for @everyone).
    command_allowances: Vec<(u64, String, u64)>,
    interactions: HashMap<u64, InteractionRecord>,
    /// DM channels by recipient; [`ASKER`]'s is [`DM_CHANNEL`].
    dm_channels: BTreeMap<u64, u64>,
    gateway: gateway::Gateway,
}

/// An error to answer the next matching request with, from [`Discord::fail_next`].
struct Failure {
    method: String,
    path_prefix: String,
    status: u16,
    code: u32,
}

struct StoredMessage {
    message: Value,
    /// Ephemeral messages exist only for their interaction, not in the channel.
    ephemeral: bool,
    /// The token of the interaction whose webhook created it.
    token: Option<String>,
}

struct NonceRecord {
    channel: u64,
    nonce: Value,
    message_id: u64,
    at: Instant,
}

struct InteractionRecord {
    /// 2 application command, 3 message component, 4 autocomplete.
    kind: u8,
    token: String,
    channel: u64,
    user: u64,
    sent_at: Instant,
    /// The callback body, once the bot answered.
    response: Option<Value>,
    /// The id of the "original" message: the response message, or the clicked message.
    original: Option<u64>,
    /// For a component interaction, the message the button is on.
    source_message: Option<u64>,
}

impl Discord {
    /// Binds 127.0.0.1 on a free port and serves REST and the Gateway there, in tasks of the
    /// current tokio runtime (they end with it).
    pub async fn start() -> Discord {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("listener address");
        let (changed, _) = watch::channel(());
        let mut state = State::default();
        state.dm_channels.insert(ASKER, DM_CHANNEL);
        let inner = Arc::new(Inner {
            base_url: format!("http://{addr}"),
            gateway_url: format!("ws://{addr}{}", gateway::PATH),
            state: Mutex::new(state),
            changed,
        });
        let (rest_tx, rest_rx) = mpsc::unbounded_channel();
        tokio::spawn(rest::serve(
            inner.clone(),
            rest::Connections::new(rest_rx, addr),
        ));
        tokio::spawn(accept(inner.clone(), listener, rest_tx));
        Discord { inner }
    }

    /// The REST base the bot is pointed at (`DISCORD_API_BASE`): `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// Answers the next request whose method is `method` and whose path starts with
    /// `path_prefix` (with or without the `/api/v10` prefix) with `status` and the JSON error
    /// `{"code": code, "message": ...}`, instead of serving it. Each call fails one request.
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, code: u32) {
        let path_prefix = if path_prefix.starts_with("/api/") {
            path_prefix.to_owned()
        } else {
            format!("{}{path_prefix}", rest::API_PREFIX)
        };
        self.inner.update(|state| {
            state.failures.push(Failure {
                method: method.to_ascii_uppercase(),
                path_prefix,
                status,
                code,
            })
        });
    }

    /// Forgets every nonce seen, as Discord does after a few minutes: a post resent with
    /// `enforce_nonce` after this makes a new message.
    pub fn forget_nonces(&self) {
        self.inner.update(|state| state.nonces.clear());
    }

    /// Waits until the bot has identified and been sent READY and GUILD_CREATE; returns the
    /// IDENTIFY payload (`d`) of its first session. Panics on timeout.
    pub async fn wait_ready(&self, timeout: Duration) -> Value {
        self.wait_for(timeout, |state| state.gateway.identifies.first().cloned())
            .await
            .unwrap_or_else(|| panic!("the bot did not IDENTIFY within {timeout:?}"))
    }

    /// How many IDENTIFY payloads the Gateway received.
    pub fn identify_count(&self) -> usize {
        self.inner.state().gateway.identifies.len()
    }

    /// How many sessions were resumed (RESUME accepted and RESUMED sent).
    pub fn resume_count(&self) -> usize {
        self.inner.state().gateway.resumes
    }

    /// Waits until [`Self::resume_count`] is at least `n`. Panics on timeout.
    pub async fn wait_resumed(&self, n: usize, timeout: Duration) {
        self.wait_for(timeout, |state| (state.gateway.resumes >= n).then_some(()))
            .await
            .unwrap_or_else(|| panic!("the bot did not resume {n} time(s) within {timeout:?}"));
    }

    /// Waits until [`Self::identify_count`] is at least `n`. Panics on timeout.
    pub async fn wait_identified(&self, n: usize, timeout: Duration) {
        self.wait_for(timeout, |state| {
            (state.gateway.identifies.len() >= n).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("the bot did not IDENTIFY {n} time(s) within {timeout:?}"));
    }

    /// Sends Reconnect (op 7) on the live socket; the bot should resume on a new one. Events
    /// dispatched from now on wait for that.
    pub async fn force_reconnect(&self) {
        self.on_live_socket("send op 7", gateway::Gateway::send_reconnect)
            .await;
    }

    /// Closes the live socket abruptly: a TCP reset, no close frame. The bot should resume.
    pub async fn drop_socket(&self) {
        self.on_live_socket("drop it", gateway::Gateway::reset_socket)
            .await;
    }

    /// Sends Invalid Session (op 9) on the live socket. When not `resumable` the session is
    /// forgotten and the bot must IDENTIFY again (serenity waits about 5 seconds first).
    pub async fn invalidate_session(&self, resumable: bool) {
        self.on_live_socket("send op 9", |gateway| gateway.invalidate_session(resumable))
            .await;
    }

    /// Sends MESSAGE_CREATE for a message `author` writes in `channel`. In a guild channel it
    /// carries `guild_id` and `member`; `mentions`, `mention_roles` and `mention_everyone` follow
    /// the content (`<@id>`, `<@&id>`, `@everyone`/`@here`). As on Discord, the event reaches
    /// the bot only with the matching intent, and its content only with MESSAGE_CONTENT unless
    /// the bot is mentioned or the channel is a DM.
    pub async fn user_message(&self, channel: u64, author: u64, content: &str) -> Sent {
        self.inner
            .update(|state| state.user_message(channel, author, content))
    }

    /// Sends MESSAGE_CREATE for a message of the webhook [`WEBHOOK_ID`] in a guild channel.
    pub async fn webhook_message(&self, channel: u64, content: &str) -> Sent {
        self.inner
            .update(|state| state.user_message(channel, WEBHOOK_ID, content))
    }

    /// Edits a message `author` sent earlier and sends MESSAGE_UPDATE with the whole message.
    pub async fn edit_user_message(
        &self,
        channel: u64,
        message: u64,
        author: u64,
        new_content: &str,
    ) -> Sent {
        self.inner
            .update(|state| state.edit_user_message(channel, message, author, new_content))
    }

    /// Sends INTERACTION_CREATE for `user` running the chat-input command `name` in `channel`.
    /// `options` is Discord's array (`[{"name": .., "type": .., "value": ..}]`, subcommands as
    /// type 1 / 2 with nested `options`); users, roles and channels named by options are
    /// resolved. In a guild the payload has `member` (with `permissions`) and
    /// `app_permissions` as computed for `channel`; in the DM channel it has `user` and
    /// `context: 1`. The command must be one Discord would offer there ([`Self::is_offered`])
    /// and take the given options. This waits up to 5 seconds for the registration, then
    /// panics.
    pub async fn slash_command(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Interaction {
        self.command_interaction(2, channel, user, name, options)
            .await
    }

    /// Whether Discord offers the chat-input command `name` to `user` in `channel`: registered by
    /// the bot (in the channel's guild, or globally with `contexts` / `dm_permission` allowing
    /// the place) and, in a guild, allowed to the user by the server ([`Self::allow_command`]) or
    /// else asking `default_member_permissions` the user has there. Waits up to 5 seconds for
    /// the bot to register commands; false if it registered none.
    pub async fn is_offered(&self, channel: u64, user: u64, name: &str) -> bool {
        let registered = |state: &mut State| {
            (!state.global_commands.is_empty() || !state.guild_commands.is_empty()).then_some(())
        };
        self.wait_for(Duration::from_secs(5), registered).await;
        let state = self.inner.state();
        state
            .command(name, channel)
            .is_some_and(|command| state.offered(command, channel, user).is_ok())
    }

    /// What a server's admin does in Server Settings → Integrations: lets `target` (a member, a
    /// role, or the guild's id for @everyone) use the bot's command `name` in `guild`, whatever
    /// its `default_member_permissions`.
    pub fn allow_command(&self, guild: u64, name: &str, target: u64) {
        self.inner.update(|state| {
            state
                .command_allowances
                .push((guild, name.to_owned(), target))
        });
    }

    /// Like [`Self::slash_command`] for an autocomplete request (interaction type 4); the caller
    /// marks the option being typed with `"focused": true`.
    pub async fn autocomplete(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Interaction {
        self.command_interaction(4, channel, user, name, options)
            .await
    }

    /// Sends INTERACTION_CREATE for `user` clicking the button `custom_id` on `message` (a
    /// message object the bot sent, e.g. from [`Self::messages_in`] or
    /// [`Self::original_response`]). Panics if the message has no enabled button with that id.
    pub async fn click(
        &self,
        channel: u64,
        user: u64,
        message: &Value,
        custom_id: &str,
    ) -> Interaction {
        self.inner
            .update(|state| state.click(channel, user, message, custom_id))
    }

    /// Every REST request so far, in the order served.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.state().requests.clone()
    }

    /// Waits for the earliest recorded request (including ones already made) that `pred`
    /// accepts. Panics on timeout, listing the requests received.
    pub async fn wait_request(
        &self,
        timeout: Duration,
        pred: impl Fn(&Request) -> bool,
    ) -> Request {
        if let Some(found) = self
            .wait_for(timeout, |state| {
                state.requests.iter().find(|r| pred(r)).cloned()
            })
            .await
        {
            return found;
        }
        let listing: Vec<String> = self.requests().iter().map(describe).collect();
        panic!(
            "no matching request within {timeout:?}; received:\n{}",
            listing.join("\n")
        );
    }

    /// The messages `channel` holds, oldest first: created by anyone, as last edited, without
    /// deleted and ephemeral ones.
    pub fn messages_in(&self, channel: u64) -> Vec<Value> {
        self.inner
            .state()
            .messages
            .iter()
            .filter(|m| !m.ephemeral && world::id_of(&m.message, "channel_id") == channel)
            .map(|m| m.message.clone())
            .collect()
    }

    /// The commands the bot registered, globally (`None`) or in a guild, as the stand-in
    /// answered them (with ids).
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Value> {
        let state = self.inner.state();
        match guild {
            None => state.global_commands.clone(),
            Some(guild) => state
                .guild_commands
                .get(&guild)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The body of the bot's callback to the interaction, if it answered.
    pub fn interaction_response(&self, interaction_id: u64) -> Option<Value> {
        self.inner
            .state()
            .interactions
            .get(&interaction_id)
            .and_then(|i| i.response.clone())
    }

    /// The interaction's "original" message as it stands: the response message (callback type 4,
    /// or 5 then edited), or for a button click answered with type 6 or 7 the clicked message.
    pub fn original_response(&self, token: &str) -> Option<Value> {
        let state = self.inner.state();
        let original = state
            .interactions
            .values()
            .find(|i| i.token == token)?
            .original?;
        state.message(original).map(|m| m.message.clone())
    }

    /// Checks every recorded request that has a body with [`validate_body`]; panics listing the
    /// ones that do not conform.
    pub fn assert_bodies_valid(&self) {
        let failures: Vec<String> = self
            .requests()
            .iter()
            .filter(|r| !r.body.is_null())
            .filter_map(|r| {
                validate_body(&r.method, &r.path, &r.body)
                    .err()
                    .map(|errors| format!("{}:\n  {}", describe(r), errors.join("\n  ")))
            })
            .collect();
        assert!(
            failures.is_empty(),
            "request bodies not valid for Discord's API:\n{}",
            failures.join("\n")
        );
    }

    async fn command_interaction(
        &self,
        kind: u8,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Interaction {
        let registered = self
            .wait_for(Duration::from_secs(5), |state| {
                state.command(name, channel).cloned()
            })
            .await
            .unwrap_or_else(|| {
                panic!("the bot registered no command {name:?} usable in channel {channel}")
            });
        self.inner
            .update(|state| state.command_interaction(kind, channel, user, &registered, options))
    }

    async fn on_live_socket(&self, what: &str, act: impl Fn(&mut gateway::Gateway) -> bool) {
        self.wait_for(LIVE_SOCKET_TIMEOUT, |state| {
            act(&mut state.gateway).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("no live Gateway socket to {what}"));
    }

    /// Runs `check` on the state now and after every change until it returns `Some`, or until
    /// `timeout`.
    async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.inner.changed.subscribe();
        loop {
            let found = check(&mut self.inner.state());
            if found.is_some() {
                // `check` may have acted on the state.
                self.inner.changed.send_replace(());
                return found;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("stand-in state poisoned by an earlier panic")
    }

    /// Runs `f` on the state and tells waiters it may have changed.
    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.state());
        self.changed.send_replace(());
        result
    }
}

impl State {
    /// A new snowflake: the current time since Discord's epoch, increasing.
    fn next_id(&mut self) -> u64 {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as u64;
        let from_time = (millis - world::DISCORD_EPOCH_MS) << 22;
        self.last_id = from_time.max(self.last_id + 1);
        self.last_id
    }

    fn message(&self, id: u64) -> Option<&StoredMessage> {
        self.messages
            .iter()
            .find(|m| world::id_of(&m.message, "id") == id)
    }

    fn message_mut(&mut self, id: u64) -> Option<&mut StoredMessage> {
        self.messages
            .iter_mut()
            .find(|m| world::id_of(&m.message, "id") == id)
    }

    /// The registered chat-input command called `name` that Discord offers in `channel`, in a
    /// guild or a DM: the guild's commands first, then global ones whose `contexts` and
    /// `dm_permission` allow the place.
    fn command(&self, name: &str, channel: u64) -> Option<&Value> {
        let guild = world::guild_of(channel);
        let in_guild = guild.is_some();
        let context = if in_guild { 0 } else { 1 };
        let offered = |command: &&Value| {
            command["name"] == name
                && command["type"] == 1
                && command["contexts"]
                    .as_array()
                    .is_none_or(|contexts| contexts.contains(&context.into()))
                && (in_guild || command["dm_permission"] != false)
        };
        guild
            .and_then(|guild| self.guild_commands.get(&guild))
            .into_iter()
            .flatten()
            .chain(&self.global_commands)
            .find(offered)
    }
}

/// Accepts connections, hands Gateway ones (by their request line) to the Gateway and the rest
/// to the REST server.
async fn accept(
    inner: Arc<Inner>,
    listener: TcpListener,
    rest: mpsc::UnboundedSender<(TcpStream, SocketAddr)>,
) {
    while let Ok((stream, peer)) = listener.accept().await {
        let inner = inner.clone();
        let rest = rest.clone();
        tokio::spawn(async move {
            if gateway::is_gateway_request(&stream).await {
                gateway::serve_connection(inner, stream).await;
            } else {
                // The REST server outlives the listener; a send error means the test is over.
                let _ = rest.send((stream, peer));
            }
        });
    }
}

fn describe(request: &Request) -> String {
    let query = if request.query.is_empty() {
        String::new()
    } else {
        format!("?{}", request.query)
    };
    format!(
        "{} {}{query} -> {} {}",
        request.method, request.path, request.status, request.body
    )
}
