//! The REST API: serving, routing, authorization, injected failures, and what each route does.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use serenity::model::Permissions;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::messages::{self, EPHEMERAL, LOADING};
use super::{
    APPLICATION_ID, BOT_USER_ID, Inner, NonceRecord, RETRY_AFTER_SECS, Request, State,
    StoredMessage, users, world,
};

/// Where serenity sends REST requests, under the base URL.
pub(super) const API_PREFIX: &str = "/api/v10";
/// How long Discord waits for an interaction's callback.
const INTERACTION_DEADLINE: Duration = Duration::from_secs(3);
/// How long `enforce_nonce` remembers a nonce ("the past few minutes").
const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The connections the listener hands over, as an [`axum::serve::Listener`].
pub(super) struct Connections {
    rx: mpsc::UnboundedReceiver<(TcpStream, SocketAddr)>,
    addr: SocketAddr,
}

impl Connections {
    pub(super) fn new(
        rx: mpsc::UnboundedReceiver<(TcpStream, SocketAddr)>,
        addr: SocketAddr,
    ) -> Connections {
        Connections { rx, addr }
    }
}

impl axum::serve::Listener for Connections {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        match self.rx.recv().await {
            Some(connection) => connection,
            // The listener is gone: no more connections, ever.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

pub(super) async fn serve(inner: Arc<Inner>, connections: Connections) {
    let app = axum::Router::new().fallback(handle).with_state(inner);
    axum::serve(connections, app)
        .await
        .expect("the REST server runs until the test ends");
}

async fn handle(
    Shared(inner): Shared<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let auth = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let raw = || Value::String(String::from_utf8_lossy(&body).into_owned());
    let (body, unreadable) = if body.is_empty() {
        (Value::Null, None)
    } else if !is_json {
        // serenity sends multipart bodies only with files.
        let error = Reply::error(
            400,
            50035,
            "Invalid Form Body (the stand-in reads JSON only)",
        );
        (raw(), Some(error))
    } else {
        match serde_json::from_slice(&body) {
            Ok(json) => (json, None),
            Err(_) => {
                let error = Reply::error(400, 50109, "The request body contains invalid JSON.");
                (raw(), Some(error))
            }
        }
    };
    let mut request = Request {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        auth,
        body,
        status: 0,
        at,
    };
    inner
        .update(|state| {
            let reply = unreadable.unwrap_or_else(|| state.respond(&request, &inner.gateway_url));
            request.status = reply.status;
            state.requests.push(request);
            reply
        })
        .into_response()
}

/// An answer to a request.
pub(super) struct Reply {
    status: u16,
    body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
        }
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
        }
    }

    /// Discord's JSON error: `{"code": .., "message": ..}`; for 429, with how long to wait
    /// (here a short [`RETRY_AFTER_SECS`]).
    pub(super) fn error(status: u16, code: u32, message: &str) -> Reply {
        let mut body = json!({"code": code, "message": message});
        if status == 429 {
            body["retry_after"] = json!(RETRY_AFTER_SECS);
            body["global"] = json!(false);
        }
        Reply {
            status,
            body: Some(body),
        }
    }

    /// The error Discord answers for `code`, as [`super::Discord::fail_next`] injects it.
    fn injected(status: u16, code: u32) -> Reply {
        let message = match code {
            10003 => "Unknown Channel".to_owned(),
            10004 => "Unknown Guild".to_owned(),
            10007 => "Unknown Member".to_owned(),
            10008 => "Unknown Message".to_owned(),
            10015 => "Unknown Webhook".to_owned(),
            10062 => "Unknown interaction".to_owned(),
            40060 => "Interaction has already been acknowledged.".to_owned(),
            50001 => "Missing Access".to_owned(),
            50013 => "Missing Permissions".to_owned(),
            50035 => "Invalid Form Body".to_owned(),
            _ => {
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                format!("{status}: {reason}")
            }
        };
        Reply::error(status, code, &message)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => (status, axum::Json(body)).into_response(),
            None => status.into_response(),
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Discord's rate limit headers, with the body's wait.
            let headers = response.headers_mut();
            headers.insert("retry-after", RETRY_AFTER_SECS.to_string().parse().unwrap());
            headers.insert("x-ratelimit-scope", "user".parse().unwrap());
        }
        response
    }
}

/// Discord's "Invalid Form Body" (code 50035) for the field at `path`.
pub(super) fn invalid_form_body(path: &[&str], code: &str, message: &str) -> Reply {
    let errors = path.iter().rev().fold(
        json!({"_errors": [{"code": code, "message": message}]}),
        |inner, key| json!({ *key: inner }),
    );
    Reply {
        status: 400,
        body: Some(json!({"code": 50035, "message": "Invalid Form Body", "errors": errors})),
    }
}

fn missing_permissions() -> Reply {
    Reply::error(403, 50013, "Missing Permissions")
}

fn unknown_channel() -> Reply {
    Reply::error(404, 10003, "Unknown Channel")
}

fn unknown_message() -> Reply {
    Reply::error(404, 10008, "Unknown Message")
}

fn unknown_webhook() -> Reply {
    Reply::error(404, 10015, "Unknown Webhook")
}

fn unknown_interaction() -> Reply {
    Reply::error(404, 10062, "Unknown interaction")
}

fn missing_access() -> Reply {
    Reply::error(403, 50001, "Missing Access")
}

fn unknown_guild() -> Reply {
    Reply::error(404, 10004, "Unknown Guild")
}

fn unknown_member() -> Reply {
    Reply::error(404, 10007, "Unknown Member")
}

/// The routes served, with their path parameters.
enum Route {
    Gateway,
    GatewayBot,
    Application,
    CurrentUser,
    DmChannels,
    Commands {
        app: u64,
        guild: Option<u64>,
    },
    Channel {
        channel: u64,
    },
    Guild {
        guild: u64,
    },
    Member {
        guild: u64,
        user: u64,
    },
    Messages {
        channel: u64,
    },
    Message {
        channel: u64,
        message: u64,
    },
    Typing {
        channel: u64,
    },
    Callback {
        interaction: u64,
        token: String,
    },
    Followups {
        app: u64,
        token: String,
    },
    /// `message` is `None` for `@original`.
    WebhookMessage {
        app: u64,
        token: String,
        message: Option<u64>,
    },
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let segments: Vec<&str> = path.strip_prefix(API_PREFIX)?.split('/').skip(1).collect();
        let id = |s: &str| s.parse::<u64>().ok();
        Some(match segments.as_slice() {
            ["gateway"] => Route::Gateway,
            ["gateway", "bot"] => Route::GatewayBot,
            ["oauth2", "applications", "@me"] | ["applications", "@me"] => Route::Application,
            ["users", "@me"] => Route::CurrentUser,
            ["users", "@me", "channels"] => Route::DmChannels,
            ["applications", app, "commands"] => Route::Commands {
                app: id(app)?,
                guild: None,
            },
            ["applications", app, "guilds", guild, "commands"] => Route::Commands {
                app: id(app)?,
                guild: Some(id(guild)?),
            },
            ["channels", channel] => Route::Channel {
                channel: id(channel)?,
            },
            ["guilds", guild] => Route::Guild { guild: id(guild)? },
            ["guilds", guild, "members", user] => Route::Member {
                guild: id(guild)?,
                user: id(user)?,
            },
            ["channels", channel, "messages"] => Route::Messages {
                channel: id(channel)?,
            },
            ["channels", channel, "messages", message] => Route::Message {
                channel: id(channel)?,
                message: id(message)?,
            },
            ["channels", channel, "typing"] => Route::Typing {
                channel: id(channel)?,
            },
            ["interactions", interaction, token, "callback"] => Route::Callback {
                interaction: id(interaction)?,
                token: (*token).to_owned(),
            },
            ["webhooks", app, token] => Route::Followups {
                app: id(app)?,
                token: (*token).to_owned(),
            },
            ["webhooks", app, token, "messages", message] => Route::WebhookMessage {
                app: id(app)?,
                token: (*token).to_owned(),
                message: match *message {
                    "@original" => None,
                    other => Some(id(other)?),
                },
            },
            _ => return None,
        })
    }

    /// Whether the route needs `Authorization: Bot <token>` (the interaction and webhook routes
    /// are authorized by the token in their path, `GET /gateway` by nothing).
    fn needs_bot_token(&self) -> bool {
        !matches!(
            self,
            Route::Gateway
                | Route::Callback { .. }
                | Route::Followups { .. }
                | Route::WebhookMessage { .. }
        )
    }
}

/// Whether `auth` is a bot token header.
fn is_bot_token(auth: Option<&str>) -> bool {
    auth.and_then(|a| a.strip_prefix("Bot "))
        .is_some_and(|token| !token.trim().is_empty())
}

impl State {
    fn respond(&mut self, request: &Request, gateway_url: &str) -> Reply {
        let (method, path) = (request.method.as_str(), request.path.as_str());
        if let Some(index) = self
            .failures
            .iter()
            .position(|f| f.method == method && path.starts_with(&f.path_prefix))
        {
            let failure = self.failures.remove(index);
            return Reply::injected(failure.status, failure.code);
        }
        let Some(route) = Route::parse(path) else {
            return Reply::error(404, 0, "404: Not Found");
        };
        if route.needs_bot_token() && !is_bot_token(request.auth.as_deref()) {
            return Reply::error(401, 0, "401: Unauthorized");
        }
        self.serve_route(route, request, gateway_url)
            .unwrap_or_else(|error| error)
    }

    /// What the route does; `Err` is the error Discord answers.
    fn serve_route(
        &mut self,
        route: Route,
        request: &Request,
        gateway_url: &str,
    ) -> Result<Reply, Reply> {
        let body = &request.body;
        match (request.method.as_str(), route) {
            ("GET", Route::Gateway) => Ok(Reply::ok(json!({"url": gateway_url}))),
            ("GET", Route::GatewayBot) => Ok(Reply::ok(json!({
                "url": gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.gateway.identifies.len(),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }))),
            ("GET", Route::Application) => Ok(Reply::ok(world::application())),
            ("GET", Route::CurrentUser) => Ok(Reply::ok(world::current_user())),
            ("POST", Route::DmChannels) => self.open_dm(body),
            ("GET", Route::Commands { app, guild }) => self.commands(app, guild).map(Reply::ok),
            ("PUT", Route::Commands { app, guild }) => self.set_commands(app, guild, body),
            ("GET", Route::Channel { channel }) => self.channel(channel).map(Reply::ok),
            ("GET", Route::Guild { guild }) => world::guild_object(guild)
                .map(Reply::ok)
                .ok_or_else(unknown_guild),
            ("GET", Route::Member { guild, user }) => {
                if !world::is_guild(guild) {
                    return Err(unknown_guild());
                }
                world::member_of(guild, user, true)
                    .map(Reply::ok)
                    .ok_or_else(unknown_member)
            }
            ("GET", Route::Messages { channel }) => self.list_messages(channel, &request.query),
            ("POST", Route::Messages { channel }) => self.create_message(channel, body),
            ("GET", Route::Message { channel, message }) => {
                self.channel_message(channel, message).map(Reply::ok)
            }
            ("PATCH", Route::Message { channel, message }) => {
                self.edit_message(channel, message, body)
            }
            ("DELETE", Route::Message { channel, message }) => {
                self.delete_channel_message(channel, message)
            }
            ("POST", Route::Typing { channel }) => self.typing(channel),
            ("POST", Route::Callback { interaction, token }) => {
                self.callback(interaction, &token, body)
            }
            ("POST", Route::Followups { app, token }) => self.follow_up(app, &token, body),
            (
                "GET",
                Route::WebhookMessage {
                    app,
                    token,
                    message,
                },
            ) => self
                .webhook_message(app, &token, message)
                .map(|id| Reply::ok(self.message(id).expect("found").message.clone())),
            (
                "PATCH",
                Route::WebhookMessage {
                    app,
                    token,
                    message,
                },
            ) => {
                let id = self.webhook_message(app, &token, message)?;
                self.edit_webhook_message(id, body)
            }
            (
                "DELETE",
                Route::WebhookMessage {
                    app,
                    token,
                    message,
                },
            ) => {
                let id = self.webhook_message(app, &token, message)?;
                self.delete_message(id);
                Ok(Reply::no_content())
            }
            _ => Err(Reply::error(405, 0, "405: Method Not Allowed")),
        }
    }

    /// Whether `channel` exists: a guild channel or a DM channel.
    fn channel_exists(&self, channel: u64) -> bool {
        world::is_guild_channel(channel) || self.dm_channels.values().any(|dm| *dm == channel)
    }

    /// The bot's permissions in an existing channel. Bots cannot message bots.
    fn bot_permissions(&self, channel: u64) -> Permissions {
        if world::is_guild_channel(channel) {
            return world::permissions(BOT_USER_ID, channel);
        }
        let recipient_is_bot = self
            .dm_channels
            .iter()
            .any(|(user, dm)| *dm == channel && world::person(*user).is_some_and(|p| p.bot));
        if recipient_is_bot {
            Permissions::VIEW_CHANNEL
        } else {
            Permissions::dm_permissions()
        }
    }

    /// `GET /channels/{id}`: the channel object, if the bot can see it.
    fn channel(&self, channel: u64) -> Result<Value, Reply> {
        if !self.channel_exists(channel) {
            return Err(unknown_channel());
        }
        if !self
            .bot_permissions(channel)
            .contains(Permissions::VIEW_CHANNEL)
        {
            return Err(missing_access());
        }
        if world::is_guild_channel(channel) {
            return Ok(world::guild_channel(channel));
        }
        let recipient = self
            .dm_channels
            .iter()
            .find(|(_, dm)| **dm == channel)
            .map(|(user, _)| *user)
            .expect("the channel exists");
        Ok(world::dm_channel(channel, recipient))
    }

    fn open_dm(&mut self, body: &Value) -> Result<Reply, Reply> {
        let recipient = body["recipient_id"]
            .as_str()
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|id| world::person(*id).is_some() && *id != BOT_USER_ID)
            .ok_or_else(|| Reply::error(404, 10013, "Unknown User"))?;
        let channel = match self.dm_channels.get(&recipient) {
            Some(channel) => *channel,
            None => {
                let channel = self.next_id();
                self.dm_channels.insert(recipient, channel);
                channel
            }
        };
        Ok(Reply::ok(world::dm_channel(channel, recipient)))
    }

    fn commands(&self, app: u64, guild: Option<u64>) -> Result<Value, Reply> {
        match guild {
            _ if app != APPLICATION_ID => Err(missing_access()),
            None => Ok(Value::from(self.global_commands.clone())),
            Some(guild) if world::is_guild(guild) => Ok(Value::from(
                self.guild_commands.get(&guild).cloned().unwrap_or_default(),
            )),
            Some(_) => Err(missing_access()),
        }
    }

    /// Bulk overwrite: the body's commands replace the registered ones, keeping the id of a
    /// command with the same name and type.
    fn set_commands(&mut self, app: u64, guild: Option<u64>, body: &Value) -> Result<Reply, Reply> {
        let previous = self.commands(app, guild)?;
        let Some(requested) = body.as_array() else {
            return Err(invalid_form_body(
                &[],
                "BASE_TYPE_ARRAY",
                "Must be an array.",
            ));
        };
        let mut registered = Vec::new();
        for (index, command) in requested.iter().enumerate() {
            let kind = command["type"].as_u64().unwrap_or(1);
            // Discord takes the bitfield as a string or an integer and answers a string.
            let permissions = match &command["default_member_permissions"] {
                Value::Null => Value::Null,
                given => match users::bitfield(given) {
                    Some(bits) => json!(bits.to_string()),
                    None => {
                        let index = index.to_string();
                        return Err(invalid_form_body(
                            &[&index, "default_member_permissions"],
                            "NUMBER_TYPE_COERCE",
                            &format!("Value \"{given}\" is not int."),
                        ));
                    }
                },
            };
            let id = previous
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == command["name"] && c["type"] == kind)
                .map(|c| c["id"].clone())
                .unwrap_or_else(|| json!(self.next_id().to_string()));
            let mut answer = json!({
                "id": id,
                "application_id": APPLICATION_ID.to_string(),
                "version": self.next_id().to_string(),
                "default_member_permissions": permissions,
                "type": kind,
                "name": command["name"],
                "description": command["description"].as_str().unwrap_or_default(),
                "dm_permission": command["dm_permission"].as_bool().unwrap_or(true),
                "contexts": command["contexts"],
                "integration_types": command.get("integration_types").filter(|t| !t.is_null()).cloned().unwrap_or_else(|| json!([0])),
                "nsfw": command["nsfw"].as_bool().unwrap_or(false),
            });
            for key in ["options", "name_localizations", "description_localizations"] {
                if let Some(value) = command.get(key).filter(|v| !v.is_null()) {
                    answer[key] = value.clone();
                }
            }
            if let Some(guild) = guild {
                answer["guild_id"] = json!(guild.to_string());
                if let Some(fields) = answer.as_object_mut() {
                    fields.remove("dm_permission");
                }
            }
            registered.push(answer);
        }
        match guild {
            None => self.global_commands = registered.clone(),
            Some(guild) => {
                self.guild_commands.insert(guild, registered.clone());
            }
        }
        Ok(Reply::ok(Value::from(registered)))
    }

    /// `GET /channels/{id}/messages`: at most `limit` (default 50) messages, newest first. With
    /// `after`, the ones right after it (the oldest newer than it), as Discord pages forward;
    /// otherwise the newest (before `before`). A channel the bot cannot see is Missing Access;
    /// without Read Message History the list is empty, not an error.
    fn list_messages(&self, channel: u64, query: &str) -> Result<Reply, Reply> {
        if !self.channel_exists(channel) {
            return Err(unknown_channel());
        }
        let permissions = self.bot_permissions(channel);
        if !permissions.contains(Permissions::VIEW_CHANNEL) {
            return Err(missing_access());
        }
        if !permissions.contains(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(Reply::ok(json!([])));
        }
        let param = |name: &str| -> Option<u64> {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.parse().ok())
        };
        let limit = param("limit").unwrap_or(50).clamp(1, 100) as usize;
        let (before, after) = (param("before"), param("after"));
        let oldest_first: Vec<&Value> = self
            .messages
            .iter()
            .filter(|m| !m.ephemeral && world::id_of(&m.message, "channel_id") == channel)
            .map(|m| &m.message)
            .filter(|m| before.is_none_or(|before| world::id_of(m, "id") < before))
            .filter(|m| after.is_none_or(|after| world::id_of(m, "id") > after))
            .collect();
        let page = if after.is_some() && before.is_none() {
            &oldest_first[..limit.min(oldest_first.len())]
        } else {
            &oldest_first[oldest_first.len().saturating_sub(limit)..]
        };
        let mut listed: Vec<Value> = page.iter().rev().map(|m| (*m).clone()).collect();
        // A nonce comes back only in the answer to the post that carried it.
        for message in &mut listed {
            if let Some(object) = message.as_object_mut() {
                object.remove("nonce");
            }
        }
        Ok(Reply::ok(Value::from(listed)))
    }

    fn channel_message(&self, channel: u64, id: u64) -> Result<Value, Reply> {
        if !self.channel_exists(channel) {
            return Err(unknown_channel());
        }
        self.message(id)
            .filter(|m| !m.ephemeral && world::id_of(&m.message, "channel_id") == channel)
            .map(|m| m.message.clone())
            .ok_or_else(unknown_message)
    }

    fn create_message(&mut self, channel: u64, body: &Value) -> Result<Reply, Reply> {
        if !self.channel_exists(channel) {
            return Err(unknown_channel());
        }
        let permissions = self.bot_permissions(channel);
        if !permissions.contains(Permissions::SEND_MESSAGES) {
            return Err(if world::is_guild_channel(channel) {
                missing_permissions()
            } else {
                Reply::error(403, 50007, "Cannot send messages to this user")
            });
        }
        let nonce = body.get("nonce").filter(|n| !n.is_null());
        if let Some(nonce) = nonce.filter(|_| body["enforce_nonce"] == true) {
            let earlier = self
                .nonces
                .iter()
                .rev()
                .filter(|r| r.channel == channel && r.nonce == *nonce)
                .filter(|r| r.at.elapsed() < NONCE_WINDOW)
                .find_map(|r| self.message(r.message_id));
            if let Some(earlier) = earlier {
                return Ok(Reply::ok(earlier.message.clone()));
            }
        }
        if has_embeds(body) && !permissions.contains(Permissions::EMBED_LINKS) {
            return Err(missing_permissions());
        }
        let mut message = self.bot_message(channel);
        let replied = self.replied_message(channel, body)?;
        let replied_to = replied.as_ref().map(|r| world::id_of(&r["author"], "id"));
        messages::apply_body(&mut message, body, replied_to)?;
        if let Some(replied) = replied {
            message["type"] = json!(19);
            message["message_reference"] = reference_to(&replied);
            message["referenced_message"] = replied;
        }
        if let Some(nonce) = nonce {
            message["nonce"] = nonce.clone();
            self.nonces.push(NonceRecord {
                channel,
                nonce: nonce.clone(),
                message_id: world::id_of(&message, "id"),
                at: Instant::now(),
            });
        }
        self.add_message(message.clone(), None);
        Ok(Reply::ok(message))
    }

    /// The message the body's `message_reference` replies to, if it exists; an error if it
    /// does not and `fail_if_not_exists` is not false.
    fn replied_message(&self, channel: u64, body: &Value) -> Result<Option<Value>, Reply> {
        let Some(reference) = body.get("message_reference").filter(|r| !r.is_null()) else {
            return Ok(None);
        };
        let id = world::id_of(reference, "message_id");
        let in_channel = world::id_of(reference, "channel_id");
        let found = self
            .message(id)
            .filter(|m| !m.ephemeral)
            .filter(|m| world::id_of(&m.message, "channel_id") == channel)
            .filter(|_| in_channel == 0 || in_channel == channel);
        match found {
            Some(stored) => Ok(Some(stored.message.clone())),
            None if reference["fail_if_not_exists"] == false => Ok(None),
            None => Err(invalid_form_body(
                &["message_reference"],
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            )),
        }
    }

    fn edit_message(&mut self, channel: u64, id: u64, body: &Value) -> Result<Reply, Reply> {
        let mut message = self.channel_message(channel, id)?;
        if world::id_of(&message["author"], "id") != BOT_USER_ID {
            return Err(Reply::error(
                403,
                50005,
                "Cannot edit a message authored by another user",
            ));
        }
        if has_embeds(body)
            && !self
                .bot_permissions(channel)
                .contains(Permissions::EMBED_LINKS)
        {
            return Err(missing_permissions());
        }
        let replied_to = message
            .get("referenced_message")
            .map(|r| world::id_of(&r["author"], "id"));
        messages::apply_body(&mut message, body, replied_to)?;
        message["edited_timestamp"] = json!(messages::now());
        self.replace_message(message.clone());
        Ok(Reply::ok(message))
    }

    fn delete_channel_message(&mut self, channel: u64, id: u64) -> Result<Reply, Reply> {
        let message = self.channel_message(channel, id)?;
        let own = world::id_of(&message["author"], "id") == BOT_USER_ID;
        if !own
            && !self
                .bot_permissions(channel)
                .contains(Permissions::MANAGE_MESSAGES)
        {
            return Err(missing_permissions());
        }
        self.delete_message(id);
        Ok(Reply::no_content())
    }

    fn typing(&self, channel: u64) -> Result<Reply, Reply> {
        if !self.channel_exists(channel) {
            return Err(unknown_channel());
        }
        if !self
            .bot_permissions(channel)
            .contains(Permissions::SEND_MESSAGES)
        {
            return Err(missing_permissions());
        }
        Ok(Reply::no_content())
    }

    /// `POST /interactions/{id}/{token}/callback`: the one response to an interaction.
    fn callback(&mut self, id: u64, token: &str, body: &Value) -> Result<Reply, Reply> {
        let record = self
            .interactions
            .get(&id)
            .filter(|r| r.token == token)
            .ok_or_else(unknown_interaction)?;
        if record.response.is_some() {
            return Err(Reply::error(
                400,
                40060,
                "Interaction has already been acknowledged.",
            ));
        }
        if record.sent_at.elapsed() > INTERACTION_DEADLINE {
            return Err(unknown_interaction());
        }
        let callback_type = body["type"].as_u64().unwrap_or(0);
        let allowed: &[u64] = match record.kind {
            2 => &[4, 5, 9],
            3 => &[4, 5, 6, 7, 9],
            4 => &[8],
            _ => &[],
        };
        if !allowed.contains(&callback_type) {
            return Err(invalid_form_body(
                &["type"],
                "INTERACTION_CALLBACK_TYPE_INVALID",
                &format!(
                    "Callback type {callback_type} does not answer an interaction of type {}",
                    record.kind
                ),
            ));
        }
        let (kind, channel, user, source) = (
            record.kind,
            record.channel,
            record.user,
            record.source_message,
        );
        let data = &body["data"];
        let original = match callback_type {
            4 | 5 => {
                let mut message = self.bot_message(channel);
                if callback_type == 4 {
                    messages::apply_body(&mut message, data, None)?;
                } else {
                    let ephemeral = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL;
                    message["flags"] = json!(LOADING | ephemeral);
                }
                self.mark_as_response(&mut message, id, kind, user, source);
                let message_id = world::id_of(&message, "id");
                self.add_message(message, Some(token.to_owned()));
                Some(message_id)
            }
            6 => source,
            7 => {
                let source = source.expect("component interactions have a message");
                let clicked = self.message(source).ok_or_else(unknown_message)?;
                let mut message = clicked.message.clone();
                messages::apply_body(&mut message, data, None)?;
                message["edited_timestamp"] = json!(messages::now());
                self.replace_message(message);
                Some(source)
            }
            _ => None,
        };
        let record = self.interactions.get_mut(&id).expect("found above");
        record.response = Some(body.clone());
        record.original = original;
        Ok(Reply::no_content())
    }

    /// Makes `message` the response to interaction `id` of `kind` by `user`.
    fn mark_as_response(
        &self,
        message: &mut Value,
        id: u64,
        kind: u8,
        user: u64,
        source: Option<u64>,
    ) {
        let channel = world::id_of(message, "channel_id");
        let owners = match world::guild_of(channel) {
            Some(guild) => json!({"0": guild.to_string()}),
            None => json!({"0": "0"}),
        };
        let mut metadata = json!({
            "id": id.to_string(),
            "type": kind,
            "user": world::user(user),
            "authorizing_integration_owners": owners,
        });
        message["webhook_id"] = json!(APPLICATION_ID.to_string());
        message["application_id"] = json!(APPLICATION_ID.to_string());
        match source.and_then(|source| self.message(source)) {
            Some(clicked) => {
                metadata["interacted_message_id"] = clicked.message["id"].clone();
                message["type"] = json!(19);
                message["message_reference"] = reference_to(&clicked.message);
            }
            None => message["type"] = json!(20),
        }
        message["interaction_metadata"] = metadata;
    }

    /// The interaction whose webhook `app`/`token` is: `(id, original message)`.
    fn webhook(&self, app: u64, token: &str) -> Result<(u64, Option<u64>), Reply> {
        if app != APPLICATION_ID {
            return Err(unknown_webhook());
        }
        self.interactions
            .iter()
            .find(|(_, r)| r.token == token && r.response.is_some())
            .map(|(id, r)| (*id, r.original))
            .ok_or_else(unknown_webhook)
    }

    /// `POST /webhooks/{app}/{token}`: a follow-up message. Right after a deferred response it
    /// edits the "thinking..." message instead, keeping its ephemerality, as Discord does.
    fn follow_up(&mut self, app: u64, token: &str, body: &Value) -> Result<Reply, Reply> {
        let (id, original) = self.webhook(app, token)?;
        if let Some(loading) = original
            .and_then(|o| self.message(o))
            .filter(|m| m.message["flags"].as_u64().unwrap_or(0) & LOADING != 0)
        {
            let id = world::id_of(&loading.message, "id");
            let mut body = body.clone();
            if let Some(fields) = body.as_object_mut() {
                fields.remove("flags");
            }
            return self.edit_webhook_message(id, &body);
        }
        let record = &self.interactions[&id];
        let channel = record.channel;
        let mut message = self.bot_message(channel);
        messages::apply_body(&mut message, body, None)?;
        message["webhook_id"] = json!(APPLICATION_ID.to_string());
        message["application_id"] = json!(APPLICATION_ID.to_string());
        self.add_message(message.clone(), Some(token.to_owned()));
        Ok(Reply::ok(message))
    }

    /// The id of the webhook message `message` (`None`: the original) of the interaction.
    fn webhook_message(&self, app: u64, token: &str, message: Option<u64>) -> Result<u64, Reply> {
        let (_, original) = self.webhook(app, token)?;
        let id = match message {
            None => original.ok_or_else(unknown_message)?,
            Some(id) => id,
        };
        let by_webhook = |m: &&StoredMessage| {
            Some(world::id_of(&m.message, "id")) == original || m.token.as_deref() == Some(token)
        };
        self.message(id)
            .filter(by_webhook)
            .map(|_| id)
            .ok_or_else(unknown_message)
    }

    fn edit_webhook_message(&mut self, id: u64, body: &Value) -> Result<Reply, Reply> {
        let mut message = self.message(id).expect("checked").message.clone();
        let flags = message["flags"].as_u64().unwrap_or(0);
        messages::apply_body(&mut message, body, None)?;
        if flags & LOADING != 0 {
            message["flags"] = json!(message["flags"].as_u64().unwrap_or(0) & !LOADING);
        } else {
            message["edited_timestamp"] = json!(messages::now());
        }
        self.replace_message(message.clone());
        Ok(Reply::ok(message))
    }
}

fn has_embeds(body: &Value) -> bool {
    body["embeds"].as_array().is_some_and(|e| !e.is_empty())
}

/// A `message_reference` (a reply) to `message`.
fn reference_to(message: &Value) -> Value {
    let channel = world::id_of(message, "channel_id");
    let mut reference = json!({
        "type": 0,
        "channel_id": channel.to_string(),
        "message_id": message["id"],
    });
    if let Some(guild) = world::guild_of(channel) {
        reference["guild_id"] = json!(guild.to_string());
    }
    reference
}
