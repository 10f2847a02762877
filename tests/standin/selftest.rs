//! The stand-in against the real serenity and poise: a minimal bot (an event handler answering
//! "ping" with "pong", a button handler, and poise slash commands) runs against it.
//!
//! The module is also compiled, without its tests, into benches that include the stand-in:
//! what only the tests use is named by path (`standin::GENERAL`, `serenity::ChannelId`,
//! `serde_json::json!`) rather than imported.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poise::serenity_prelude as serenity;
use serde_json::Value;
use serenity::{
    ButtonStyle, ClientBuilder, ComponentInteraction, CreateActionRow, CreateAllowedMentions,
    CreateButton, CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    GatewayIntents, Http, HttpBuilder, Message,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::standin::{self, Discord, Interaction, Request};

const TOKEN: &str = "MTIxMDAwMDAwMDAwMDAwMDAwMg.GStdIn.c3RhbmQtaW4gdG9rZW4gZm9yIHRlc3Rz";
const WAIT: Duration = Duration::from_secs(5);
/// After op 9 (not resumable) serenity restarts the shard, which takes it about 5 seconds.
const REIDENTIFY_WAIT: Duration = Duration::from_secs(15);

type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, (), Error>;

/// Forwards every message it sees, answers "ping" with "pong", and answers a button click by
/// updating the button's message.
struct Handler {
    seen: mpsc::UnboundedSender<Message>,
}

#[serenity::async_trait]
impl serenity::EventHandler for Handler {
    async fn message(&self, ctx: serenity::Context, message: Message) {
        // Recorded before the reply: serenity handles events concurrently, so the
        // bot's own "pong" could otherwise be recorded before the "ping".
        let channel = message.channel_id;
        let is_ping = message.content == "ping";
        let _ = self.seen.send(message);
        if is_ping {
            let pong = CreateMessage::new()
                .content("pong")
                .allowed_mentions(CreateAllowedMentions::new());
            channel
                .send_message(&ctx.http, pong)
                .await
                .expect("pong is sent");
        }
    }

    async fn interaction_create(&self, ctx: serenity::Context, interaction: serenity::Interaction) {
        if let serenity::Interaction::Component(click) = interaction {
            answer_click(&ctx, &click).await;
        }
    }
}

async fn answer_click(ctx: &serenity::Context, click: &ComponentInteraction) {
    let update = CreateInteractionResponseMessage::new()
        .content(format!("clicked {}", click.data.custom_id))
        .components(vec![]);
    click
        .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(update))
        .await
        .expect("the click is answered");
}

/// Asks a question
#[poise::command(slash_command, required_bot_permissions = "SEND_MESSAGES")]
async fn ask(
    ctx: Context<'_>,
    #[description = "The question"] question: String,
) -> Result<(), Error> {
    ctx.say(format!("You asked: {question}")).await?;
    Ok(())
}

/// Thinks first, then answers
#[poise::command(slash_command)]
async fn slow(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer().await?;
    ctx.say("thought about it").await?;
    Ok(())
}

/// Shows a button
#[poise::command(slash_command)]
async fn menu(ctx: Context<'_>) -> Result<(), Error> {
    let button = CreateButton::new("again")
        .label("Again")
        .style(ButtonStyle::Primary);
    let reply = poise::CreateReply::default()
        .content("menu")
        .components(vec![CreateActionRow::Buttons(vec![button])]);
    ctx.send(reply).await?;
    Ok(())
}

/// For moderators
#[poise::command(slash_command, required_permissions = "MANAGE_GUILD")]
async fn settings(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("settings").await?;
    Ok(())
}

async fn complete_topic(_ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let partial = partial.to_lowercase();
    let choices = ["Istanbul", "Minsk", "Geneva"]
        .into_iter()
        .filter(|place| place.to_lowercase().starts_with(&partial))
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// About the talks
#[poise::command(slash_command, subcommands("when"))]
async fn talks(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// When talks were held
#[poise::command(slash_command)]
async fn when(ctx: Context<'_>, #[description = "Where"] place: String) -> Result<(), Error> {
    ctx.say(format!("{place}: March 2022")).await?;
    Ok(())
}

/// Tells about a round of talks
#[poise::command(slash_command)]
async fn round(
    ctx: Context<'_>,
    #[description = "Where"]
    #[autocomplete = "complete_topic"]
    topic: String,
    #[description = "Who asks"] who: Option<serenity::User>,
) -> Result<(), Error> {
    let who = who.map(|u| u.name).unwrap_or_default();
    ctx.say(format!("{topic} {who}")).await?;
    Ok(())
}

/// The bot's REST client, pointed at `discord`.
fn http(discord: &Discord) -> Http {
    HttpBuilder::new(TOKEN)
        .proxy(discord.base_url())
        .ratelimiter_disabled(true)
        .build()
}

/// Starts the bot against `discord` with `intents`; it runs until the test ends. Returns what
/// its event handler sees.
async fn start_bot(discord: &Discord, intents: GatewayIntents) -> mpsc::UnboundedReceiver<Message> {
    let (seen, received) = mpsc::unbounded_channel();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ask(), slow(), menu(), settings(), round(), talks()],
            ..Default::default()
        })
        .setup(|ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                Ok(())
            })
        })
        .build();
    let mut client = ClientBuilder::new_with_http(http(discord), intents)
        .event_handler(Handler { seen })
        .framework(framework)
        .await
        .expect("the client builds");
    tokio::spawn(async move { client.start().await });
    received
}

fn all_message_intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// A bot that has identified and registered its commands.
async fn ready_bot(discord: &Discord) -> mpsc::UnboundedReceiver<Message> {
    let seen = start_bot(discord, all_message_intents()).await;
    discord.wait_ready(WAIT).await;
    discord
        .wait_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await;
    seen
}

fn messages_path(channel: u64) -> String {
    format!("/api/v10/channels/{channel}/messages")
}

/// ASKER says "ping" in `channel`; returns the bot's "pong" request.
async fn ping_pong(discord: &Discord, channel: u64) -> Request {
    let ping = discord.user_message(channel, standin::ASKER, "ping").await;
    let pong = discord
        .wait_request(WAIT, |r| {
            r.method == "POST" && r.path == messages_path(channel) && r.at >= ping.sent_at
        })
        .await;
    assert_eq!(pong.body["content"], "pong");
    assert_eq!(pong.status, 200);
    pong
}

/// The callback the bot sent for `interaction`.
async fn callback(discord: &Discord, interaction: &Interaction) -> Request {
    let path = format!(
        "/api/v10/interactions/{}/{}/callback",
        interaction.id, interaction.token
    );
    discord.wait_request(WAIT, |r| r.path == path).await
}

/// The HTTP status and error code of a failed serenity call.
fn status_and_code<T: std::fmt::Debug>(result: serenity::Result<T>) -> (u16, isize) {
    match result {
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(response))) => {
            (response.status_code.as_u16(), response.error.code)
        }
        other => panic!("expected an unsuccessful request, got {other:?}"),
    }
}

/// A raw HTTP/1.1 request to the stand-in: `(status, JSON body or Null)`.
async fn raw_request(
    discord: &Discord,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let address = discord.base_url().replace("http://", "");
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

type GatewaySocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Gateway connection opened without serenity.
async fn gateway_client(discord: &Discord) -> GatewaySocket {
    let url = http(discord)
        .get_gateway()
        .await
        .expect("the gateway URL")
        .url;
    let (socket, _) = tokio_tungstenite::connect_async(format!("{url}?v=10&encoding=json"))
        .await
        .expect("the gateway accepts");
    socket
}

/// The next frame the Gateway sends, as JSON; a close frame as `{"close": code}`.
async fn receive(socket: &mut GatewaySocket) -> Value {
    match socket.next().await {
        Some(Ok(Frame::Text(text))) => serde_json::from_str(&text).expect("a JSON frame"),
        Some(Ok(Frame::Close(frame))) => {
            let code = frame.map(|f| u16::from(f.code));
            Value::from_iter([("close".to_owned(), Value::from(code))])
        }
        other => panic!("unexpected from the gateway: {other:?}"),
    }
}

/// A dispatch's name and sequence number.
fn event(frame: &Value) -> (&str, u64) {
    (
        frame["t"].as_str().unwrap_or_default(),
        frame["s"].as_u64().unwrap_or_default(),
    )
}

async fn send(socket: &mut GatewaySocket, payload: Value) {
    socket
        .send(Frame::Text(payload.to_string()))
        .await
        .expect("the frame is sent");
}

#[tokio::test]
async fn gateway_speaks_the_protocol_to_any_client() {
    let discord = Discord::start().await;
    let mut socket = gateway_client(&discord).await;
    let hello = receive(&mut socket).await;
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 41_250);

    send(&mut socket, serde_json::json!({"op": 1, "d": null})).await;
    assert_eq!(receive(&mut socket).await["op"], 11);

    // GUILDS | GUILD_MESSAGES, without MESSAGE_CONTENT.
    let identify = serde_json::json!({
        "token": format!("Bot {TOKEN}"),
        "intents": 513,
        "properties": {"os": "linux", "browser": "test", "device": "test"},
    });
    send(&mut socket, serde_json::json!({"op": 2, "d": identify})).await;
    let ready = receive(&mut socket).await;
    assert_eq!(event(&ready), ("READY", 1));
    assert_eq!(
        ready["d"]["application"]["id"],
        standin::APPLICATION_ID.to_string()
    );
    let guilds = ready["d"]["guilds"].as_array().unwrap().len() as u64;
    assert_eq!(guilds, 1 + standin::OTHER_GUILDS);
    let guild = receive(&mut socket).await;
    assert_eq!(event(&guild), ("GUILD_CREATE", 2));
    assert_eq!(guild["d"]["id"], standin::GUILD_ID.to_string());
    assert_eq!(guild["d"]["channels"].as_array().unwrap().len(), 8);
    for n in 1..=standin::OTHER_GUILDS {
        let other = receive(&mut socket).await;
        assert_eq!(event(&other), ("GUILD_CREATE", 2 + n));
        assert_eq!(other["d"]["id"], standin::other_guild(n).0.to_string());
    }
    assert_eq!(discord.wait_ready(WAIT).await, identify);

    let sent = discord
        .user_message(standin::GENERAL, standin::ASKER, "not for the bot")
        .await;
    let created = receive(&mut socket).await;
    assert_eq!(
        event(&created),
        ("MESSAGE_CREATE", 3 + standin::OTHER_GUILDS)
    );
    assert_eq!(created["d"]["id"], sent.message_id.to_string());
    assert_eq!(created["d"]["content"], "");
    assert_eq!(
        created["d"]["member"]["roles"][0],
        standin::ROLE_ID.to_string()
    );

    send(&mut socket, serde_json::json!({"op": 99, "d": null})).await;
    assert_eq!(receive(&mut socket).await["close"], 4001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifies_and_answers_a_message() {
    let discord = Discord::start().await;
    let mut seen = start_bot(&discord, all_message_intents()).await;
    let identify = discord.wait_ready(WAIT).await;
    assert_eq!(identify["token"], format!("Bot {TOKEN}"));
    assert_eq!(
        identify["intents"].as_u64(),
        Some(all_message_intents().bits())
    );

    let pong = ping_pong(&discord, standin::GENERAL).await;
    assert_eq!(pong.auth.as_deref(), Some(format!("Bot {TOKEN}").as_str()));
    assert_eq!(
        pong.body["allowed_mentions"]["parse"],
        serde_json::json!([])
    );

    let ping = seen.recv().await.expect("the ping reached the handler");
    assert_eq!(ping.author.id, serenity::UserId::new(standin::ASKER));
    assert_eq!(
        ping.guild_id,
        Some(serenity::GuildId::new(standin::GUILD_ID))
    );
    assert!(ping.member.is_some());
    let own = seen.recv().await.expect("the bot sees its own message");
    assert_eq!(
        (own.author.id, own.content.as_str()),
        (serenity::UserId::new(standin::BOT_USER_ID), "pong")
    );

    let held: Vec<Value> = discord
        .messages_in(standin::GENERAL)
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert_eq!(held, ["ping", "pong"]);
    assert_eq!(discord.identify_count(), 1);
    discord.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_a_reconnect_request() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;
    ping_pong(&discord, standin::GENERAL).await;

    discord.force_reconnect().await;
    discord.wait_resumed(1, WAIT).await;
    ping_pong(&discord, standin::GENERAL).await;
    assert_eq!((discord.identify_count(), discord.resume_count()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_a_dropped_socket_and_delivers_what_it_missed() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;

    discord.drop_socket().await;
    // Sent while the bot is away: delivered once it has resumed.
    ping_pong(&discord, standin::ASK_CHANNEL).await;
    assert_eq!((discord.identify_count(), discord.resume_count()), (1, 1));

    discord.drop_socket().await;
    discord.wait_resumed(2, WAIT).await;
    ping_pong(&discord, standin::ASK_CHANNEL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_a_resumable_invalid_session() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;

    discord.invalidate_session(true).await;
    discord.wait_resumed(1, WAIT).await;
    ping_pong(&discord, standin::GENERAL).await;
    assert_eq!(discord.identify_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifies_again_after_an_invalid_session() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;

    discord.invalidate_session(false).await;
    let ping = discord
        .user_message(standin::DM_CHANNEL, standin::ASKER, "ping")
        .await;
    discord.wait_identified(2, REIDENTIFY_WAIT).await;
    let pong = discord
        .wait_request(WAIT, |r| {
            r.path == messages_path(standin::DM_CHANNEL) && r.at >= ping.sent_at
        })
        .await;
    assert_eq!(pong.body["content"], "pong");
    assert_eq!(discord.resume_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slash_commands_through_the_callback() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;
    let registered = discord.registered_commands(None);
    let ask = registered
        .iter()
        .find(|c| c["name"] == "ask")
        .expect("ask is registered");
    assert_eq!(ask["application_id"], standin::APPLICATION_ID.to_string());
    assert!(
        discord
            .registered_commands(Some(standin::GUILD_ID))
            .is_empty()
    );

    let question =
        serde_json::json!([{"name": "question", "type": 3, "value": "When did the talks start?"}]);
    let asked = discord
        .slash_command(
            standin::ASK_CHANNEL,
            standin::ASKER,
            "ask",
            question.clone(),
        )
        .await;
    let answer = callback(&discord, &asked).await;
    assert_eq!(answer.status, 204);
    assert!(answer.at >= asked.sent_at);
    assert_eq!(
        discord.interaction_response(asked.id).expect("answered")["type"],
        4
    );
    let original = discord
        .original_response(&asked.token)
        .expect("an original message");
    assert_eq!(original["content"], "You asked: When did the talks start?");
    assert_eq!(original["type"], 20);
    assert_eq!(discord.messages_in(standin::ASK_CHANNEL), [original]);

    // A subcommand.
    let when = serde_json::json!([{"name": "when", "type": 1, "options": [
        {"name": "place", "type": 3, "value": "Istanbul"},
    ]}]);
    let run = discord
        .slash_command(standin::GENERAL, standin::ASKER, "talks", when)
        .await;
    callback(&discord, &run).await;
    let answer = discord.original_response(&run.token).unwrap();
    assert_eq!(answer["content"], "Istanbul: March 2022");

    // In the DM channel, with `user` instead of `member`.
    let in_dm = discord
        .slash_command(standin::DM_CHANNEL, standin::ASKER, "ask", question.clone())
        .await;
    callback(&discord, &in_dm).await;
    assert!(discord.original_response(&in_dm.token).is_some());

    // poise reads `app_permissions`: the bot may not send messages in LOCKED.
    let locked = discord
        .slash_command(standin::LOCKED, standin::ADMIN, "ask", question)
        .await;
    callback(&discord, &locked).await;
    let refused = discord.original_response(&locked.token).expect("refused");
    assert!(
        refused["content"]
            .as_str()
            .unwrap()
            .contains("Send Messages"),
        "{refused}"
    );

    // ... and `member.permissions`: of the members, only ADMIN and the owner may manage the
    // guild.
    for (user, allowed) in [
        (standin::ASKER, false),
        (standin::ADMIN, true),
        (standin::OWNER_USER_ID, true),
    ] {
        let run = discord
            .slash_command(standin::GENERAL, user, "settings", serde_json::json!([]))
            .await;
        callback(&discord, &run).await;
        let reply = discord.original_response(&run.token).expect("a reply");
        assert_eq!(reply["content"] == "settings", allowed, "{user}: {reply}");
    }
    discord.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_answers_buttons_and_autocomplete() {
    let discord = Discord::start().await;
    ready_bot(&discord).await;

    // Deferred, then a follow-up: it edits the "thinking..." message.
    let slow = discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "slow",
            serde_json::json!([]),
        )
        .await;
    discord
        .wait_request(WAIT, |r| {
            r.method == "POST" && r.path.starts_with("/api/v10/webhooks/")
        })
        .await;
    assert_eq!(discord.interaction_response(slow.id).unwrap()["type"], 5);
    let thought = discord.original_response(&slow.token).unwrap();
    assert_eq!(thought["content"], "thought about it");
    assert_eq!(thought["flags"], 0);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);

    // A button, clicked, answered by updating its message.
    let menu = discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "menu",
            serde_json::json!([]),
        )
        .await;
    callback(&discord, &menu).await;
    let shown = discord.original_response(&menu.token).unwrap();
    let click = discord
        .click(standin::GENERAL, standin::ADMIN, &shown, "again")
        .await;
    callback(&discord, &click).await;
    assert_eq!(discord.interaction_response(click.id).unwrap()["type"], 7);
    let updated = discord.original_response(&click.token).unwrap();
    assert_eq!(updated["id"], shown["id"]);
    assert_eq!(updated["content"], "clicked again");
    assert_eq!(updated["components"], serde_json::json!([]));

    // Autocomplete, then the command with a resolved user option.
    let typing = serde_json::json!([{"name": "topic", "type": 3, "value": "ist", "focused": true}]);
    let completing = discord
        .autocomplete(standin::GENERAL, standin::ASKER, "round", typing)
        .await;
    callback(&discord, &completing).await;
    let choices = discord.interaction_response(completing.id).unwrap();
    assert_eq!(choices["type"], 8);
    assert_eq!(choices["data"]["choices"][0]["name"], "Istanbul");
    let options = serde_json::json!([
        {"name": "topic", "type": 3, "value": "Istanbul"},
        {"name": "who", "type": 6, "value": standin::OTHER_BOT.to_string()},
    ]);
    let round = discord
        .slash_command(standin::GENERAL, standin::ASKER, "round", options)
        .await;
    callback(&discord, &round).await;
    assert_eq!(
        discord.original_response(&round.token).unwrap()["content"],
        "Istanbul other-bot"
    );
    discord.assert_bodies_valid();
}

#[tokio::test]
async fn enforce_nonce_returns_the_first_message() {
    let discord = Discord::start().await;
    let http = http(&discord);
    let channel = serenity::ChannelId::new(standin::GENERAL);
    let once = || {
        CreateMessage::new()
            .content("once")
            .nonce(serenity::Nonce::String("answer-17".into()))
            .enforce_nonce(true)
    };
    let first = channel.send_message(&http, once()).await.unwrap();
    let again = channel.send_message(&http, once()).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);

    // Not enforced, or in another channel: a new message.
    let twice = CreateMessage::new()
        .content("twice")
        .nonce(serenity::Nonce::String("answer-17".into()));
    let second = channel.send_message(&http, twice).await.unwrap();
    assert_ne!(second.id, first.id);
    let elsewhere = serenity::ChannelId::new(standin::ASK_CHANNEL)
        .send_message(&http, once())
        .await
        .unwrap();
    assert_ne!(elsewhere.id, first.id);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 2);

    // The same through a raw HTTP request.
    let body = serde_json::json!({"content": "raw", "nonce": "raw-1", "enforce_nonce": true});
    let auth = format!("Bot {TOKEN}");
    let path = messages_path(standin::GENERAL);
    let (status, raw_first) = raw_request(&discord, "POST", &path, Some(&auth), Some(&body)).await;
    assert_eq!(status, 200);
    let (_, raw_again) = raw_request(&discord, "POST", &path, Some(&auth), Some(&body)).await;
    assert_eq!(raw_first["id"], raw_again["id"]);
    assert_eq!(raw_first["nonce"], "raw-1");
    discord.assert_bodies_valid();
}

#[tokio::test]
async fn enforces_permissions_limits_and_injected_failures() {
    let discord = Discord::start().await;
    let http = http(&discord);
    let embed =
        || CreateMessage::new().embed(serenity::CreateEmbed::new().title("Istanbul, March 2022"));

    let no_embeds = serenity::ChannelId::new(standin::NO_EMBEDS);
    assert_eq!(
        status_and_code(no_embeds.send_message(&http, embed()).await),
        (403, 50013)
    );
    let text = CreateMessage::new().content("plain text is fine");
    no_embeds.send_message(&http, text).await.unwrap();
    let locked = serenity::ChannelId::new(standin::LOCKED);
    let hello = CreateMessage::new().content("hello");
    assert_eq!(
        status_and_code(locked.send_message(&http, hello).await),
        (403, 50013)
    );
    assert_eq!(
        status_and_code(locked.broadcast_typing(&http).await),
        (403, 50013)
    );

    // serenity refuses content over 2000 characters itself; Discord would too.
    let auth = format!("Bot {TOKEN}");
    let too_long = serde_json::json!({"content": "x".repeat(2001)});
    let path = messages_path(standin::GENERAL);
    let (status, error) = raw_request(&discord, "POST", &path, Some(&auth), Some(&too_long)).await;
    assert_eq!((status, &error["code"]), (400, &serde_json::json!(50035)));
    assert_eq!(
        error["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    let general = serenity::ChannelId::new(standin::GENERAL);
    let nothing = CreateMessage::new();
    assert_eq!(
        status_and_code(general.send_message(&http, nothing).await),
        (400, 50006)
    );

    let prefix = format!("/channels/{}/messages", standin::GENERAL);
    discord.fail_next("POST", &prefix, 500, 0);
    discord.fail_next("POST", &prefix, 404, 10003);
    discord.fail_next("POST", &prefix, 429, 0);
    let retry = || CreateMessage::new().content("retry");
    assert_eq!(
        status_and_code(general.send_message(&http, retry()).await),
        (500, 0)
    );
    assert_eq!(
        status_and_code(general.send_message(&http, retry()).await),
        (404, 10003)
    );
    assert_eq!(
        status_and_code(general.send_message(&http, retry()).await),
        (429, 0)
    );
    general.send_message(&http, retry()).await.unwrap();

    // Mentions follow allowed_mentions; the bot may not ping everyone.
    let content = format!("<@{}> <@&{}> @everyone", standin::ASKER, standin::ROLE_ID);
    let pinging = general
        .send_message(&http, CreateMessage::new().content(&content))
        .await
        .unwrap();
    assert_eq!(pinging.mentions.len(), 1);
    assert_eq!(pinging.mention_roles.len(), 1);
    assert!(!pinging.mention_everyone);
    let quiet = CreateMessage::new()
        .content(&content)
        .allowed_mentions(CreateAllowedMentions::new());
    let quiet = general.send_message(&http, quiet).await.unwrap();
    assert!(quiet.mentions.is_empty() && quiet.mention_roles.is_empty());

    // Edits, replies and deletes of the bot's own messages; not of others'.
    let asked = discord
        .user_message(standin::GENERAL, standin::ASKER, "where?")
        .await;
    let reply = CreateMessage::new()
        .content("Istanbul")
        .reference_message((general, serenity::MessageId::new(asked.message_id)));
    let reply = general.send_message(&http, reply).await.unwrap();
    assert_eq!(reply.referenced_message.unwrap().id.get(), asked.message_id);
    assert_eq!(reply.mentions[0].id.get(), standin::ASKER);
    let edit = serenity::EditMessage::new().content("Istanbul, 29 March 2022");
    let edited = general.edit_message(&http, reply.id, edit).await.unwrap();
    assert!(edited.edited_timestamp.is_some());
    let theirs = serenity::MessageId::new(asked.message_id);
    let edit = serenity::EditMessage::new().content("no");
    assert_eq!(
        status_and_code(general.edit_message(&http, theirs, edit).await),
        (403, 50005)
    );
    assert_eq!(
        status_and_code(general.delete_message(&http, theirs).await),
        (403, 50013)
    );
    general.delete_message(&http, reply.id).await.unwrap();
    assert_eq!(
        status_and_code(general.message(&http, reply.id).await),
        (404, 10008)
    );
    assert!(
        discord
            .messages_in(standin::GENERAL)
            .iter()
            .all(|m| m["id"] != reply.id.to_string())
    );
    let latest = general
        .messages(&http, serenity::GetMessages::new().limit(2))
        .await
        .unwrap();
    assert_eq!(latest[0].id.get(), asked.message_id);

    // Bodies with files (multipart) are refused: the stand-in reads JSON only.
    let file =
        CreateMessage::new().add_file(serenity::CreateAttachment::bytes(&b"text"[..], "a.txt"));
    assert_eq!(
        status_and_code(general.send_message(&http, file).await).0,
        400
    );
}

#[tokio::test]
async fn serves_the_rest_routes_serenity_reads() {
    let discord = Discord::start().await;
    let http = http(&discord);
    let gateway = http.get_gateway().await.unwrap();
    assert!(
        gateway.url.starts_with("ws://127.0.0.1:"),
        "{}",
        gateway.url
    );
    assert_eq!(http.get_bot_gateway().await.unwrap().shards, 1);
    assert_eq!(
        http.get_current_user().await.unwrap().id.get(),
        standin::BOT_USER_ID
    );
    let application = http.get_current_application_info().await.unwrap();
    assert_eq!(application.id.get(), standin::APPLICATION_ID);
    http.set_application_id(application.id);
    assert_eq!(application.owner.unwrap().id.get(), standin::OWNER_USER_ID);

    let dm = serenity::UserId::new(standin::ASKER)
        .create_dm_channel(&http)
        .await
        .unwrap();
    assert_eq!(dm.id.get(), standin::DM_CHANNEL);
    let other = serenity::UserId::new(standin::ADMIN)
        .create_dm_channel(&http)
        .await
        .unwrap();
    other.id.say(&http, "hello").await.unwrap();
    let bot_dm = serenity::UserId::new(standin::OTHER_BOT)
        .create_dm_channel(&http)
        .await
        .unwrap();
    assert_eq!(
        status_and_code(bot_dm.id.say(&http, "hello").await),
        (403, 50007)
    );
    serenity::ChannelId::new(standin::GENERAL)
        .broadcast_typing(&http)
        .await
        .unwrap();

    let guild = serenity::GuildId::new(standin::GUILD_ID);
    let command = serenity::CreateCommand::new("where").description("Where the talks were");
    let set = guild.set_commands(&http, vec![command]).await.unwrap();
    assert_eq!(set[0].guild_id, Some(guild));
    let listed = guild.get_commands(&http).await.unwrap();
    assert_eq!(listed[0].id, set[0].id);
    assert_eq!(
        discord.registered_commands(Some(standin::GUILD_ID)).len(),
        1
    );

    // The webhook's messages reach the stand-in's channel too.
    let relayed = discord.webhook_message(standin::GENERAL, "news").await;
    let held = serenity::ChannelId::new(standin::GENERAL)
        .message(&http, serenity::MessageId::new(relayed.message_id))
        .await
        .unwrap();
    assert_eq!(held.webhook_id.map(|w| w.get()), Some(standin::WEBHOOK_ID));
    let edited = discord
        .edit_user_message(
            standin::GENERAL,
            held.id.get(),
            standin::WEBHOOK_ID,
            "more news",
        )
        .await;
    assert_eq!(edited.message_id, relayed.message_id);
    assert_eq!(
        discord.messages_in(standin::GENERAL)[0]["content"],
        "more news"
    );

    let app = raw_request(
        &discord,
        "GET",
        "/api/v10/applications/@me",
        Some(&format!("Bot {TOKEN}")),
        None,
    )
    .await;
    assert_eq!(app.0, 200);
    assert_eq!(app.1["id"], standin::APPLICATION_ID.to_string());
    let anonymous = raw_request(&discord, "GET", "/api/v10/users/@me", None, None).await;
    assert_eq!(
        anonymous,
        (
            401,
            serde_json::json!({"code": 0, "message": "401: Unauthorized"})
        )
    );
    let unknown = raw_request(
        &discord,
        "GET",
        "/api/v10/guilds/1/bans",
        Some(&format!("Bot {TOKEN}")),
        None,
    )
    .await;
    assert_eq!(unknown.0, 404);
    let recorded = discord.requests();
    let last = recorded.last().unwrap();
    assert_eq!(
        (last.path.as_str(), last.status),
        ("/api/v10/guilds/1/bans", 404)
    );
    assert!(
        recorded
            .iter()
            .any(|r| r.path == "/api/v10/users/@me" && r.status == 401)
    );
}

/// A channel's messages as serenity reads them: newest first, at most `limit` (50 unless told);
/// `after` pages forward from a message, `before` back; nothing without Read Message History,
/// and Missing Access where the bot cannot see.
#[tokio::test]
async fn lists_a_channels_messages_as_discord_pages_them() {
    let discord = Discord::start().await;
    let http = http(&discord);
    let general = serenity::ChannelId::new(standin::GENERAL);
    let mut sent = Vec::new();
    for n in 0..60 {
        let text = format!("message {n}");
        let message = discord
            .user_message(standin::GENERAL, standin::ASKER, &text)
            .await;
        sent.push(message.message_id);
    }
    let listed = |builder: serenity::GetMessages| {
        let http = &http;
        async move {
            let messages = general.messages(http, builder).await.unwrap();
            messages.iter().map(|m| m.id.get()).collect::<Vec<_>>()
        }
    };
    let newest_first =
        |range: std::ops::Range<usize>| -> Vec<u64> { sent[range].iter().rev().copied().collect() };
    let at = |i: usize| serenity::MessageId::new(sent[i]);
    assert_eq!(
        listed(serenity::GetMessages::new()).await,
        newest_first(10..60)
    );
    assert_eq!(
        listed(serenity::GetMessages::new().limit(3)).await,
        newest_first(57..60)
    );
    assert_eq!(
        listed(serenity::GetMessages::new().after(at(4)).limit(3)).await,
        newest_first(5..8)
    );
    assert_eq!(
        listed(serenity::GetMessages::new().after(at(4))).await,
        newest_first(5..55)
    );
    assert_eq!(
        listed(serenity::GetMessages::new().after(at(57)).limit(10)).await,
        newest_first(58..60)
    );
    assert_eq!(
        listed(serenity::GetMessages::new().before(at(4)).limit(3)).await,
        newest_first(1..4)
    );

    // The bot's own message reads back whole: author, type and embed.
    let embed = serenity::CreateEmbed::new()
        .title("Fact of the day")
        .footer(serenity::CreateEmbedFooter::new("fact grain-deal"));
    let posted = general
        .send_message(&http, CreateMessage::new().embed(embed))
        .await
        .unwrap();
    let read = general
        .messages(&http, serenity::GetMessages::new().after(at(59)))
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].id, posted.id);
    assert_eq!(read[0].author.id.get(), standin::BOT_USER_ID);
    assert_eq!(read[0].kind, serenity::MessageType::Regular);
    assert_eq!(read[0].embeds[0].title.as_deref(), Some("Fact of the day"));
    assert_eq!(
        read[0].embeds[0].footer.as_ref().map(|f| f.text.as_str()),
        Some("fact grain-deal")
    );

    let no_history = serenity::ChannelId::new(standin::NO_HISTORY);
    no_history.say(&http, "posted, not readable").await.unwrap();
    assert_eq!(discord.messages_in(standin::NO_HISTORY).len(), 1);
    let none = no_history
        .messages(&http, serenity::GetMessages::new())
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let staff = serenity::ChannelId::new(standin::STAFF);
    assert_eq!(
        status_and_code(staff.messages(&http, serenity::GetMessages::new()).await),
        (403, 50001)
    );
    assert_eq!(
        status_and_code(
            serenity::ChannelId::new(1)
                .messages(&http, serenity::GetMessages::new())
                .await
        ),
        (404, 10003)
    );
    discord.assert_bodies_valid();
}

/// The channel, guild and member routes, read by serenity; and the permissions serenity
/// computes from what they return are the ones the stand-in enforces and puts in interactions,
/// for every member of every channel.
#[tokio::test]
async fn serves_channels_guilds_and_members_that_imply_its_permissions() {
    let discord = Discord::start().await;
    let http = http(&discord);
    let (other_guild, other_general) = standin::other_guild(3);
    let places = [
        (standin::GUILD_ID, standin::GENERAL),
        (standin::GUILD_ID, standin::ASK_CHANNEL),
        (standin::GUILD_ID, standin::NO_EMBEDS),
        (standin::GUILD_ID, standin::LOCKED),
        (standin::GUILD_ID, standin::BRIEFINGS),
        (standin::GUILD_ID, standin::DIGEST),
        (standin::GUILD_ID, standin::STAFF),
        (standin::GUILD_ID, standin::NO_HISTORY),
        (other_guild, other_general),
    ];
    let people = [
        standin::BOT_USER_ID,
        standin::OWNER_USER_ID,
        standin::ASKER,
        standin::ADMIN,
        standin::OTHER_BOT,
    ];
    for (guild, channel) in places {
        let guild_id = serenity::GuildId::new(guild);
        let partial = http.get_guild(guild_id).await.unwrap();
        // As GUILD_CREATE carries it: the bot cannot fetch a channel it cannot see.
        let channel: serenity::GuildChannel =
            serde_json::from_value(super::world::guild_channel(channel)).unwrap();
        for user in people {
            let Ok(member) = http.get_member(guild_id, user.into()).await else {
                assert!(super::world::member_roles(guild, user).is_none());
                continue;
            };
            assert_eq!(
                partial.user_permissions_in(&channel, &member),
                super::world::permissions(user, channel.id.get()),
                "user {user} in #{}",
                channel.name
            );
        }
    }

    let briefings = http
        .get_channel(standin::BRIEFINGS.into())
        .await
        .unwrap()
        .guild()
        .unwrap();
    assert_eq!(briefings.guild_id.get(), standin::GUILD_ID);
    assert_eq!(briefings.permission_overwrites.len(), 3);
    let dm = http.get_channel(standin::DM_CHANNEL.into()).await.unwrap();
    assert!(dm.private().is_some());
    assert_eq!(
        status_and_code(http.get_channel(standin::STAFF.into()).await),
        (403, 50001)
    );
    assert_eq!(
        status_and_code(http.get_channel(1.into()).await),
        (404, 10003)
    );
    assert_eq!(
        status_and_code(http.get_guild(1.into()).await),
        (404, 10004)
    );
    let guild_id = serenity::GuildId::new(other_guild);
    assert_eq!(
        status_and_code(http.get_member(guild_id, standin::ASKER.into()).await),
        (404, 10007)
    );
    let bot = http
        .get_member(guild_id, standin::BOT_USER_ID.into())
        .await
        .unwrap();
    assert_eq!(bot.roles.len(), 1);
    discord.assert_bodies_valid();
}

/// `default_member_permissions` as a string (as serenity sends it) or an integer: either way
/// Discord answers a string and offers the command only to members with those permissions,
/// unless the server allowed it to them.
#[tokio::test]
async fn offers_commands_by_their_default_member_permissions() {
    let discord = Discord::start().await;
    let http = http(&discord);
    http.set_application_id(standin::APPLICATION_ID.into());
    let guild = serenity::GuildId::new(standin::GUILD_ID);
    let as_string = serenity::CreateCommand::new("moderate")
        .description("For moderators")
        .default_member_permissions(serenity::Permissions::MANAGE_GUILD);
    let set = guild.set_commands(&http, vec![as_string]).await.unwrap();
    assert_eq!(
        set[0].default_member_permissions,
        Some(serenity::Permissions::MANAGE_GUILD)
    );
    let registered = || discord.registered_commands(Some(standin::GUILD_ID));
    assert_eq!(
        registered()[0]["default_member_permissions"],
        serde_json::json!("32")
    );
    let offered = |user| discord.is_offered(standin::GENERAL, user, "moderate");
    assert!(!offered(standin::ASKER).await);
    assert!(offered(standin::ADMIN).await);

    let path = format!(
        "/api/v10/applications/{}/guilds/{}/commands",
        standin::APPLICATION_ID,
        standin::GUILD_ID
    );
    let auth = format!("Bot {TOKEN}");
    let as_integer = serde_json::json!([{
        "name": "moderate", "description": "For moderators", "type": 1,
        "default_member_permissions": 32,
    }]);
    let (status, _) = raw_request(&discord, "PUT", &path, Some(&auth), Some(&as_integer)).await;
    assert_eq!(status, 200);
    assert_eq!(
        registered()[0]["default_member_permissions"],
        serde_json::json!("32")
    );
    assert!(!offered(standin::ASKER).await);
    assert!(offered(standin::ADMIN).await);
    let invalid = serde_json::json!([{
        "name": "moderate", "description": "For moderators", "type": 1,
        "default_member_permissions": "managers",
    }]);
    let (status, error) = raw_request(&discord, "PUT", &path, Some(&auth), Some(&invalid)).await;
    assert_eq!((status, &error["code"]), (400, &serde_json::json!(50035)));

    // A server's allowance for one of the member's roles offers it whatever it asks.
    discord.allow_command(standin::GUILD_ID, "moderate", standin::ROLE_ID);
    assert!(offered(standin::ASKER).await);
    assert!(
        !discord
            .is_offered(standin::GENERAL, standin::ASKER, "unknown")
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_events_follow_the_intents() {
    let discord = Discord::start().await;
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    let mut seen = start_bot(&discord, intents).await;
    discord.wait_ready(WAIT).await;

    discord
        .user_message(standin::GENERAL, standin::ASKER, "not for the bot")
        .await;
    let hidden = seen.recv().await.unwrap();
    assert_eq!(hidden.content, "");
    let mention = format!("<@{}> where were the talks?", standin::BOT_USER_ID);
    discord
        .user_message(standin::GENERAL, standin::ADMIN, &mention)
        .await;
    let shown = seen.recv().await.unwrap();
    assert_eq!(shown.content, mention);
    assert_eq!(shown.mentions[0].id.get(), standin::BOT_USER_ID);
    discord
        .user_message(standin::DM_CHANNEL, standin::ASKER, "in private")
        .await;
    let private = seen.recv().await.unwrap();
    assert_eq!(
        (private.content.as_str(), private.guild_id),
        ("in private", None)
    );
}

#[test]
fn validate_body_accepts_what_discord_takes() {
    let path = messages_path(standin::GENERAL);
    let message = serde_json::json!({
        "content": "Istanbul",
        "allowed_mentions": {"parse": [], "users": [standin::ASKER.to_string()]},
        "embeds": [{"title": "Talks", "description": "29 March 2022", "color": 3447003}],
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Again", "custom_id": "again"},
        ]}],
        "nonce": "n-1",
        "enforce_nonce": true,
    });
    assert_eq!(standin::validate_body("POST", &path, &message), Ok(()));
    assert_eq!(standin::validate_body("GET", &path, &Value::Null), Ok(()));
    let callback = serde_json::json!({"type": 4, "data": {"content": "hi", "flags": 64}});
    let route = "/api/v10/interactions/1/token/callback";
    assert_eq!(standin::validate_body("POST", route, &callback), Ok(()));
    let edit = serde_json::json!({"content": "edited"});
    let original = "/api/v10/webhooks/1/token/messages/@original";
    assert_eq!(standin::validate_body("PATCH", original, &edit), Ok(()));
}

#[test]
fn validate_body_rejects_what_discord_refuses() {
    let path = messages_path(standin::GENERAL);
    let errors = |body: Value| standin::validate_body("POST", &path, &body).unwrap_err();

    let too_long = errors(serde_json::json!({"content": "x".repeat(4001)}));
    assert!(
        too_long[0].starts_with("/content: string of 4001 characters"),
        "{too_long:?}"
    );
    let wrong_type = errors(serde_json::json!({"content": 17}));
    assert!(
        wrong_type[0].contains("expected string or null, got number"),
        "{wrong_type:?}"
    );
    let bad_mention =
        errors(serde_json::json!({"content": "x", "allowed_mentions": {"parse": ["nobody"]}}));
    assert!(
        bad_mention[0].starts_with("/allowed_mentions"),
        "{bad_mention:?}"
    );
    let bad_snowflake = errors(serde_json::json!({"content": "x", "sticker_ids": ["12a"]}));
    assert!(
        bad_snowflake.iter().any(|e| e.contains("/sticker_ids/0")),
        "{bad_snowflake:?}"
    );
    let bad_button = errors(
        serde_json::json!({"components": [{"type": 1, "components": [{"type": 2, "style": 9}]}]}),
    );
    assert!(bad_button[0].starts_with("/components/0"), "{bad_button:?}");

    let route = "/api/v10/interactions/1/token/callback";
    assert!(standin::validate_body("POST", route, &serde_json::json!({"type": 99})).is_err());
    assert!(
        standin::validate_body("GET", "/api/v10/users/@me", &serde_json::json!({"x": 1})).is_err()
    );
    assert!(
        standin::validate_body("POST", "/api/v10/guilds/1/bans", &serde_json::json!({})).is_err()
    );
    let commands = format!("/api/v10/applications/{}/commands", standin::APPLICATION_ID);
    assert!(standin::validate_body("PUT", &commands, &Value::Null).is_err());
}
