//! `parley serve` end to end: the real serenity client, driven through the loopback
//! Discord stand-in ([`crate::standin`]), as people in a server use it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parley::config::{Config, CurationConfig, DailyConfig, DiscordConfig};
use parley::discord::{self, ServeOptions, Token};
use parley::live::Live;
use parley::{Engine, KnowledgeBase};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::standin::{self, Discord, Request};
use crate::util::root;

const WAIT: Duration = Duration::from_secs(10);
pub const TOKEN: &str = "test-token.abc";

/// The stand-in, and parley running against it in this process.
pub struct Running {
    pub discord: Discord,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Checks every request body parley sent against Discord's OpenAPI description,
    /// then stops parley and checks it shut down cleanly.
    pub async fn stop(mut self) {
        self.discord.assert_bodies_valid();
        let _ = self.stop.take().unwrap().send(());
        let result = tokio::time::timeout(WAIT, self.task.take().unwrap())
            .await
            .expect("parley stops within the timeout")
            .expect("parley's task did not panic");
        result.expect("parley ran without error");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub fn engine() -> Arc<Engine> {
    Arc::new(bundled_engine())
}

fn bundled_engine() -> Engine {
    let kb = KnowledgeBase::load(&root().join("knowledge")).expect("bundled knowledge base");
    let config = Config::load(&root().join("config/parley.toml"), true).expect("config");
    Engine::new(kb, config.engine)
}

/// The bundled knowledge base, served as `parley serve` serves it.
pub fn live() -> Arc<Live> {
    Arc::new(Live::new(bundled_engine(), root().join("knowledge")))
}

/// Test settings: no cooldowns unless a test sets them.
pub fn settings() -> DiscordConfig {
    DiscordConfig {
        user_cooldown_seconds: 0.0,
        channel_cooldown_seconds: 0.0,
        ..DiscordConfig::default()
    }
}

/// Starts the stand-in and parley against it, and waits until parley has identified
/// and registered its commands.
pub async fn start(config: DiscordConfig) -> Running {
    start_on(Discord::start().await, config, DailyConfig::default(), None).await
}

/// Starts parley against a running stand-in, with a store in `data_dir` when given, and
/// waits as [`start`] does.
pub async fn start_on(
    discord: Discord,
    config: DiscordConfig,
    daily: DailyConfig,
    data_dir: Option<PathBuf>,
) -> Running {
    start_serving(live(), discord, config, daily, data_dir).await
}

/// As [`start_on`], serving `knowledge`.
pub async fn start_serving(
    knowledge: Arc<Live>,
    discord: Discord,
    config: DiscordConfig,
    daily: DailyConfig,
    data_dir: Option<PathBuf>,
) -> Running {
    let identified = discord.identify_count();
    let commands_put = discord
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .count();
    let options = ServeOptions {
        token: Token::new(TOKEN).unwrap(),
        api_base: Some(discord.base_url()),
        discord: config,
        daily,
        curation: CurationConfig::default(),
        data_dir,
    };
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(discord::run(knowledge, options, async {
        let _ = rx.await;
    }));
    discord.wait_identified(identified + 1, WAIT).await;
    poll(|| {
        let puts = discord
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
            .count();
        (puts > commands_put).then_some(Value::Null)
    })
    .await;
    Running {
        discord,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Polls until the stand-in holds a response to interaction `id`.
pub async fn interaction_response(discord: &Discord, id: u64) -> Value {
    poll(|| discord.interaction_response(id)).await
}

/// Polls until the stand-in holds the original response of an interaction.
pub async fn original(discord: &Discord, token: &str) -> Value {
    poll(|| discord.original_response(token)).await
}

pub async fn poll(mut f: impl FnMut() -> Option<Value>) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for a response"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn mention(question: &str) -> String {
    format!("<@{}> {question}", standin::BOT_USER_ID)
}

pub fn is_post_to(channel: u64) -> impl Fn(&Request) -> bool {
    let path = format!("/channels/{channel}/messages");
    move |r| r.method == "POST" && r.path.ends_with(&path)
}

/// The bodies of every message parley posted (or tried to post) in `channel`.
pub fn posts_to(discord: &Discord, channel: u64) -> Vec<Value> {
    let is_post = is_post_to(channel);
    discord
        .requests()
        .into_iter()
        .filter(|r| is_post(r))
        .map(|r| r.body)
        .collect()
}

/// Asserts that a body pings no one: no parse groups, no users, no roles, and no ping
/// of the author replied to.
pub fn assert_pings_no_one(body: &Value) {
    let am = &body["allowed_mentions"];
    assert!(am.is_object(), "allowed_mentions missing in {body}");
    assert_eq!(am["parse"], json!([]), "{body}");
    assert!(am["users"].as_array().is_none_or(Vec::is_empty), "{body}");
    assert!(am["roles"].as_array().is_none_or(Vec::is_empty), "{body}");
    assert_ne!(am["replied_user"], json!(true), "{body}");
}

pub fn embed_text(body: &Value) -> String {
    let e = &body["embeds"][0];
    format!(
        "{}\n{}\n{}",
        e["description"].as_str().unwrap_or(""),
        e["fields"]
            .as_array()
            .map(|f| f.iter().map(|x| x["value"].to_string()).collect::<String>())
            .unwrap_or_default(),
        e["footer"]["text"].as_str().unwrap_or("")
    )
}

/// The first sentence fragment of a fact's quote, as it appears (escaped) in a reply.
fn quote_start(engine: &Engine, fact: &str) -> String {
    let quote = &engine.fact(fact).unwrap().citations[0].quote;
    let words: Vec<&str> = quote.split_whitespace().take(5).collect();
    parley::discord::present::escape_markdown(&words.join(" "))
}

pub fn answered_fact(engine: &Engine, question: &str) -> String {
    engine
        .ask(question)
        .fact()
        .expect("the engine answers this question")
        .id
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifies_and_registers_exactly_its_commands() {
    let bot = start(settings()).await;
    let identify = bot.discord.wait_ready(WAIT).await;
    assert_eq!(identify["token"], json!(format!("Bot {TOKEN}")));
    let intents = identify["intents"].as_u64().unwrap();
    let message_content = 1 << 15;
    assert_eq!(
        intents & message_content,
        0,
        "no privileged intent by default"
    );
    let registered = bot.discord.registered_commands(None);
    let mut names: Vec<&str> = registered
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "about", "ask", "daily", "fact", "help", "reload", "source", "timeline"
        ]
    );
    let expected = poise::builtins::create_application_commands(&discord::commands::all());
    let expected = serde_json::to_value(expected).unwrap();
    for want in expected.as_array().unwrap() {
        let got = registered
            .iter()
            .find(|c| c["name"] == want["name"])
            .unwrap();
        assert_eq!(got["description"], want["description"]);
        assert_eq!(got["options"], want["options"], "{}", want["name"]);
    }
    for r in bot.discord.requests() {
        assert_eq!(
            r.auth.as_deref(),
            Some(&*format!("Bot {TOKEN}")),
            "{}",
            r.path
        );
    }
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_answered_with_an_embed_quoting_the_source() {
    let bot = start(settings()).await;
    let engine = engine();
    let question = "when was the grain deal signed?";
    let fact = answered_fact(&engine, question);
    let sent = bot
        .discord
        .user_message(standin::GENERAL, standin::ASKER, &mention(question))
        .await;
    let reply = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    let text = embed_text(&reply.body);
    assert!(text.contains(&quote_start(&engine, &fact)), "{text}");
    assert!(text.contains(&format!("fact {fact}")), "{text}");
    assert_eq!(
        reply.body["message_reference"]["message_id"].as_str(),
        Some(&*sent.message_id.to_string())
    );
    assert_pings_no_one(&reply.body);
    let buttons = &reply.body["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], json!(format!("src:{fact}")));
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_is_answered_without_a_mention() {
    let bot = start(settings()).await;
    let engine = engine();
    let question = "How many prisoners were exchanged in Istanbul?";
    let fact = engine.ask(question).fact().map(|f| f.id.to_string());
    bot.discord
        .user_message(standin::DM_CHANNEL, standin::ASKER, question)
        .await;
    let reply = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::DM_CHANNEL))
        .await;
    assert_pings_no_one(&reply.body);
    let text = embed_text(&reply.body);
    match fact {
        Some(fact) => assert!(text.contains(&format!("fact {fact}")), "{text}"),
        None => assert!(text.contains("do not cover"), "{text}"),
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_a_mention_outside_ask_channels_is_not_a_question() {
    let bot = start(settings()).await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            "when was the grain deal signed?",
        )
        .await;
    // A later question is answered, and is the only post: the first was left alone.
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("who mediated the grain deal?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(posts_to(&bot.discord, standin::GENERAL).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_and_webhooks_are_ignored() {
    let bot = start(settings()).await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::OTHER_BOT,
            &mention("when was the grain deal signed?"),
        )
        .await;
    bot.discord
        .webhook_message(
            standin::GENERAL,
            &mention("when was the grain deal signed?"),
        )
        .await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::BOT_USER_ID,
            &mention("when was the grain deal signed?"),
        )
        .await;
    // A human's question afterwards is the only one answered.
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("who brokered the grain deal?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = posts_to(&bot.discord, standin::GENERAL);
    assert_eq!(posts.len(), 1, "{posts:?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_and_role_mentions_in_a_question_ping_no_one() {
    let bot = start(settings()).await;
    let hostile = format!(
        "{} @everyone @here <@&{}> <@{}> **when** was the ~~grain~~ deal signed? ||lol||",
        mention(""),
        standin::ROLE_ID,
        standin::ADMIN
    );
    bot.discord
        .user_message(standin::GENERAL, standin::ASKER, &hostile)
        .await;
    let reply = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert_pings_no_one(&reply.body);
    let shown = format!("{}{}", reply.body["content"], embed_text(&reply.body));
    for echoed in ["@everyone", "@here", "<@&", "||lol||"] {
        assert!(!shown.contains(echoed), "{echoed} echoed in {shown}");
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_ask_answers_as_the_interaction_reply() {
    let bot = start(settings()).await;
    let engine = engine();
    let question = "who helped broker the grain deal?";
    let fact = answered_fact(&engine, question);
    let i = bot
        .discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "ask",
            json!([{"name": "question", "type": 3, "value": question}]),
        )
        .await;
    let path = format!("/interactions/{}/{}/callback", i.id, i.token);
    let callback = bot
        .discord
        .wait_request(WAIT, move |r| r.path.ends_with(&path))
        .await;
    assert_eq!(callback.body["type"], json!(4));
    let data = &callback.body["data"];
    assert_pings_no_one(data);
    assert!(embed_text(data).contains(&format!("fact {fact}")));
    assert!(embed_text(data).contains(&quote_start(&engine, &fact)));
    assert_eq!(data["flags"].as_u64().unwrap_or(0) & 64, 0, "public");
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abstention_suggests_questions_as_buttons_that_ask_them() {
    let bot = start(settings()).await;
    let engine = engine();
    let question = "When did Qatar start mediating?";
    let reply = engine.ask(question);
    assert!(reply.fact().is_none() && !reply.suggestions().is_empty());
    let suggested = reply.suggestions()[0].question.to_string();
    bot.discord
        .user_message(standin::GENERAL, standin::ASKER, &mention(question))
        .await;
    let posted = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert!(embed_text(&posted.body).contains("do not cover"));
    let button = &posted.body["components"][0]["components"][0];
    assert_eq!(button["label"].as_str(), Some(&*suggested));
    let message = bot.discord.messages_in(standin::GENERAL).pop().unwrap();
    let custom_id = button["custom_id"].as_str().unwrap();
    let i = bot
        .discord
        .click(standin::GENERAL, standin::ADMIN, &message, custom_id)
        .await;
    let path = format!("/interactions/{}/{}/callback", i.id, i.token);
    let callback = bot
        .discord
        .wait_request(WAIT, move |r| r.path.ends_with(&path))
        .await;
    let expected = engine.ask(&suggested).fact().unwrap().id.to_string();
    assert!(embed_text(&callback.body["data"]).contains(&format!("fact {expected}")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_pages_through_buttons_for_the_invoker_only() {
    let mut config = settings();
    config.timeline_page_size = 3;
    let bot = start(config).await;
    let engine = engine();
    let dated = parley::timeline::timeline(engine.knowledge(), &Default::default());
    assert!(dated.len() > 6, "enough dated facts for three pages");
    let i = bot
        .discord
        .slash_command(standin::GENERAL, standin::ASKER, "timeline", json!([]))
        .await;
    let original = original(&bot.discord, &i.token).await;
    let footer = |m: &Value| {
        m["embeds"][0]["footer"]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(footer(&original).starts_with("page 1 of "), "{original}");
    assert!(
        original["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains(dated[0].id.as_str())
    );
    let next = original["components"][0]["components"][1]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone else cannot turn the page.
    let other = bot
        .discord
        .click(standin::GENERAL, standin::ADMIN, &original, &next)
        .await;
    let refusal = interaction_response(&bot.discord, other.id).await;
    assert_eq!(refusal["type"], json!(4));
    assert_eq!(
        refusal["data"]["flags"].as_u64().unwrap() & 64,
        64,
        "ephemeral"
    );

    // The invoker can: the message is updated to page 2.
    let press = bot
        .discord
        .click(standin::GENERAL, standin::ASKER, &original, &next)
        .await;
    let update = interaction_response(&bot.discord, press.id).await;
    assert_eq!(update["type"], json!(7));
    let page2 = &update["data"];
    assert!(footer(page2).starts_with("page 2 of "), "{page2}");
    assert!(
        page2["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains(dated[3].id.as_str())
    );
    let previous = &page2["components"][0]["components"][0];
    assert_eq!(previous["disabled"], json!(false));
    assert_pings_no_one(page2);
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_autocompletes_fact_ids_and_shows_the_full_citation() {
    let bot = start(settings()).await;
    let i = bot
        .discord
        .autocomplete(
            standin::GENERAL,
            standin::ASKER,
            "source",
            json!([{"name": "fact", "type": 3, "value": "grain", "focused": true}]),
        )
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    assert_eq!(response["type"], json!(8));
    let choices = response["data"]["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25);
    let engine = engine();
    for c in choices {
        let id = c["value"].as_str().unwrap();
        assert!(engine.fact(id).is_some(), "{id}");
        assert!(c["name"].as_str().unwrap().chars().count() <= 100);
    }
    let fact = choices[0]["value"].as_str().unwrap().to_string();
    let i = bot
        .discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "source",
            json!([{"name": "fact", "type": 3, "value": fact}]),
        )
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    let text = embed_text(&response["data"]);
    assert!(text.contains(&quote_start(&engine, &fact)), "{text}");
    assert!(
        text.contains("Undated source") || text.contains("Date:"),
        "{text}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_is_answered_with_a_notice_not_silence() {
    let mut config = settings();
    config.user_cooldown_seconds = 60.0;
    let bot = start(config).await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("who brokered the grain deal?"),
        )
        .await;
    let notice = bot
        .discord
        .wait_request(WAIT, |r| {
            is_post_to(standin::GENERAL)(r)
                && r.body["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("Slow down"))
        })
        .await;
    assert_pings_no_one(&notice.body);
    // A slash command in cooldown gets an ephemeral notice.
    let i = bot
        .discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "ask",
            json!([{"name": "question", "type": 3, "value": "who brokered the grain deal?"}]),
        )
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    assert_eq!(response["data"]["flags"].as_u64().unwrap() & 64, 64);
    assert!(embed_text(&response["data"]).contains("Slow down"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permissions_degrade_to_text_then_to_a_dm() {
    let bot = start(settings()).await;
    bot.discord
        .user_message(
            standin::NO_EMBEDS,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    let text_reply = bot
        .discord
        .wait_request(WAIT, |r| {
            is_post_to(standin::NO_EMBEDS)(r) && r.status == 200
        })
        .await;
    assert!(
        text_reply.body["embeds"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    assert!(
        text_reply.body["content"]
            .as_str()
            .unwrap()
            .contains("fact ")
    );
    assert_pings_no_one(&text_reply.body);

    bot.discord
        .user_message(
            standin::LOCKED,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    let dm = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::DM_CHANNEL))
        .await;
    let content = dm.body["content"].as_str().unwrap();
    assert!(content.contains("missing the permission"), "{content}");
    assert_pings_no_one(&dm.body);
    // Each channel was tried once with an embed and once as text: no retry loop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(posts_to(&bot.discord, standin::LOCKED).len(), 2);
    // And parley still answers elsewhere.
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("who brokered the grain deal?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    bot.stop().await;
}

pub async fn answered_in_general(discord: &Discord, question: &str) -> Request {
    let sent = discord
        .user_message(standin::GENERAL, standin::ASKER, &mention(question))
        .await;
    let id = sent.message_id.to_string();
    discord
        .wait_request(WAIT, move |r| {
            is_post_to(standin::GENERAL)(r)
                && r.body["message_reference"]["message_id"].as_str() == Some(&id)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_still_answered_after_a_reconnect_and_a_dropped_socket() {
    let bot = start(settings()).await;
    answered_in_general(&bot.discord, "when was the grain deal signed?").await;

    bot.discord.force_reconnect().await;
    bot.discord.wait_resumed(1, WAIT).await;
    answered_in_general(&bot.discord, "who brokered the grain deal?").await;

    bot.discord.drop_socket().await;
    bot.discord.wait_resumed(2, WAIT).await;
    answered_in_general(&bot.discord, "when did russia leave the grain deal?").await;
    assert_eq!(
        bot.discord.identify_count(),
        1,
        "resumed, not re-identified"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_question_gets_its_reply_edited() {
    let bot = start(settings()).await;
    let engine = engine();
    let sent = bot
        .discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    let first = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    let reply_id = bot.discord.messages_in(standin::GENERAL).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = "when did russia withdraw from the grain deal?";
    let fact = answered_fact(&engine, edited);
    assert!(!embed_text(&first.body).contains(&format!("fact {fact}")));
    // The reply is recorded for edits once Discord has answered parley's POST, a
    // moment after the stand-in saw it: like a person, edit again until it shows.
    let path = format!("/channels/{}/messages/{reply_id}", standin::GENERAL);
    let is_patch = move |r: &Request| r.method == "PATCH" && r.path.ends_with(&path);
    let deadline = tokio::time::Instant::now() + WAIT;
    let patch = loop {
        bot.discord
            .edit_user_message(
                standin::GENERAL,
                sent.message_id,
                standin::ASKER,
                &mention(edited),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(patch) = bot.discord.requests().into_iter().find(|r| is_patch(r)) {
            break patch;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reply was never edited"
        );
    };
    assert!(embed_text(&patch.body).contains(&format!("fact {fact}")));
    assert_pings_no_one(&patch.body);
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_source_is_ephemeral_and_about_counts_the_facts() {
    let bot = start(settings()).await;
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    let message = bot.discord.messages_in(standin::GENERAL).pop().unwrap();
    let custom_id = message["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    let i = bot
        .discord
        .click(standin::GENERAL, standin::ADMIN, &message, &custom_id)
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    assert_eq!(response["data"]["flags"].as_u64().unwrap() & 64, 64);
    assert!(embed_text(&response["data"]).contains("> "));

    let i = bot
        .discord
        .slash_command(standin::GENERAL, standin::ASKER, "about", json!([]))
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    let facts = engine().knowledge().facts.len();
    assert!(embed_text(&response["data"]).contains(&format!("{facts} facts")));
    bot.stop().await;
}

/// The real executable: `DISCORD_API_BASE` and `DISCORD_TOKEN` from the environment, a
/// question answered, and a clean exit on SIGTERM with the token never logged.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parley_serve_binary_runs_against_the_api_base_and_stops_on_sigterm() {
    let discord = Discord::start().await;
    // The shipped config with the store in a temporary directory.
    let data = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(root().join("config/parley.toml")).unwrap();
    assert!(shipped.contains("\ndata_dir = \"data\""));
    let config = data.path().join("parley.toml");
    let data_dir = toml::Value::String(data.path().join("data").display().to_string());
    std::fs::write(
        &config,
        shipped.replace("\ndata_dir = \"data\"", &format!("\ndata_dir = {data_dir}")),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parley"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .current_dir(root())
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", discord.base_url())
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("parley starts");
    // Read the log as it comes: a child blocked on a full pipe would not stop.
    let mut pipe = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut stderr = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await;
        stderr
    });
    discord.wait_ready(WAIT).await;
    discord
        .wait_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await;
    answered_in_general(&discord, "when was the grain deal signed?").await;
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("parley exits after SIGTERM")
        .unwrap();
    let stderr = log.await.unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "the token must never be logged");
    assert!(
        data.path().join("data/parley.sqlite3").exists(),
        "the store is opened in the configured data directory"
    );
    discord.assert_bodies_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_guild_gets_the_commands_and_ask_channels_need_no_mention() {
    let mut config = settings();
    config.dev_guild = Some(parley::config::Snowflake(standin::GUILD_ID));
    config.ask_channels = vec![parley::config::Snowflake(standin::ASK_CHANNEL)];
    let bot = start(config).await;
    let identify = bot.discord.wait_ready(WAIT).await;
    let message_content = 1 << 15;
    assert_ne!(identify["intents"].as_u64().unwrap() & message_content, 0);
    let guild_path = format!(
        "/applications/{}/guilds/{}/commands",
        standin::APPLICATION_ID,
        standin::GUILD_ID
    );
    assert!(
        bot.discord
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.ends_with(&guild_path))
    );
    assert_eq!(
        bot.discord
            .registered_commands(Some(standin::GUILD_ID))
            .len(),
        discord::commands::all().len()
    );
    assert!(
        bot.discord.registered_commands(None).is_empty(),
        "not global"
    );

    bot.discord
        .user_message(
            standin::ASK_CHANNEL,
            standin::ASKER,
            "when was the grain deal signed?",
        )
        .await;
    let reply = bot
        .discord
        .wait_request(WAIT, is_post_to(standin::ASK_CHANNEL))
        .await;
    assert!(embed_text(&reply.body).contains("fact "));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_server_error_is_logged_and_the_next_question_answered() {
    let bot = start(settings()).await;
    let path = format!("/channels/{}/messages", standin::GENERAL);
    bot.discord.fail_next("POST", &path, 500, 0);
    bot.discord
        .user_message(
            standin::GENERAL,
            standin::ASKER,
            &mention("when was the grain deal signed?"),
        )
        .await;
    bot.discord
        .wait_request(WAIT, |r| is_post_to(standin::GENERAL)(r) && r.status == 500)
        .await;
    answered_in_general(&bot.discord, "who brokered the grain deal?").await;
    assert_eq!(
        posts_to(&bot.discord, standin::GENERAL).len(),
        2,
        "the failed reply was not retried in a loop"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fact_picks_from_the_topic_asked_and_refuses_unknown_topics() {
    let bot = start(settings()).await;
    let engine = engine();
    let i = bot
        .discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "fact",
            json!([{"name": "topic", "type": 3, "value": "grain-deal"}]),
        )
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    let text = embed_text(&response["data"]);
    let shown = engine
        .knowledge()
        .facts
        .iter()
        .find(|f| {
            text.contains(&format!("fact {} ", f.id)) || text.ends_with(&format!("fact {}", f.id))
        })
        .expect("a fact id in the footer");
    assert_eq!(shown.topic, "grain-deal");
    assert!(text.contains(&quote_start(&engine, shown.id.as_str())));

    let i = bot
        .discord
        .slash_command(
            standin::GENERAL,
            standin::ASKER,
            "fact",
            json!([{"name": "topic", "type": 3, "value": "football"}]),
        )
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    assert_eq!(response["data"]["flags"].as_u64().unwrap() & 64, 64);
    assert!(embed_text(&response["data"]).contains("no topic like that"));
    bot.stop().await;
}
