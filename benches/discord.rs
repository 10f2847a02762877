//! Reply latency of `parley serve` through the loopback Discord stand-in: from the
//! moment a question message is dispatched on the gateway to the moment the stand-in
//! receives parley's reply, for a few hundred questions asked one after another.
//!
//! Run with `cargo bench --bench discord` (`-- --quick` asks fewer questions). What is
//! measured is parley's own path (gateway event → engine → REST call) plus the loopback
//! hops; Discord's network adds its own round trips on top.

use std::sync::Arc;
use std::time::Duration;

use parley::config::{Config, DiscordConfig};
use parley::discord::{self, ServeOptions, Token};
use parley::live::Live;
use parley::{Engine, KnowledgeBase};

#[allow(dead_code)]
#[path = "../tests/standin/mod.rs"]
mod standin;

use standin::Discord;

const WAIT: Duration = Duration::from_secs(10);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn questions(root: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("tests/questions/dev.jsonl"))
        .expect("the dev question set");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["question"].as_str().map(str::to_string))
        .collect()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let kb = KnowledgeBase::load(&root.join("knowledge")).expect("knowledge base");
    let config = Config::load(&root.join("config/parley.toml"), true).expect("config");
    let knowledge = Arc::new(Live::new(
        Engine::new(kb, config.engine),
        root.join("knowledge"),
    ));
    let mut questions = questions(root);
    questions.truncate(if quick { 100 } else { 300 });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let discord = Discord::start().await;
        let options = ServeOptions {
            token: Token::new("bench-token").unwrap(),
            api_base: Some(discord.base_url()),
            discord: DiscordConfig {
                user_cooldown_seconds: 0.0,
                channel_cooldown_seconds: 0.0,
                ..DiscordConfig::default()
            },
            daily: Default::default(),
            curation: Default::default(),
            data_dir: None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let bot = tokio::spawn(discord::run(knowledge, options, async {
            let _ = stopped.await;
        }));
        discord.wait_ready(WAIT).await;
        discord
            .wait_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
            .await;

        let path = format!("/channels/{}/messages", standin::GENERAL);
        let mut times = Vec::with_capacity(questions.len());
        for q in &questions {
            let content = format!("<@{}> {q}", standin::BOT_USER_ID);
            let sent = discord
                .user_message(standin::GENERAL, standin::ASKER, &content)
                .await;
            let id = sent.message_id.to_string();
            let path = path.clone();
            let reply = discord
                .wait_request(WAIT, move |r| {
                    r.method == "POST"
                        && r.path.ends_with(&path)
                        && r.body["message_reference"]["message_id"].as_str() == Some(&id)
                })
                .await;
            times.push(reply.at.duration_since(sent.sent_at));
        }
        times.sort();
        println!(
            "discord reply latency over {} questions: p50 {}, p99 {}, max {}",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap())
        );
        let _ = stop.send(());
        let _ = bot.await;
    });
}
