//! The curation loop: the log of unanswered questions and answers, votes through the
//! loopback Discord, `parley report`, and reloading the knowledge base (by call,
//! `/reload`, file change and SIGHUP).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parley::config::{Config, DailyConfig};
use parley::discord::curation::{Log, normalise};
use parley::live::{Live, ReloadError};
use parley::store::{SqliteStore, Store};
use parley::{Engine, KnowledgeBase};
use serde_json::{Value, json};

use crate::discord::{
    answered_fact, answered_in_general, embed_text, engine, interaction_response, poll, settings,
    start_on, start_serving,
};
use crate::standin::{self, Discord};
use crate::util::{parley_with_env, root};

/// A copy of the bundled knowledge base to change.
fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("knowledge"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The facts file holding `id`, and the `[[fact]]` table of it.
fn fact_table(dir: &Path, id: &str) -> (PathBuf, String) {
    for entry in std::fs::read_dir(dir.join("facts")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let needle = format!("id = \"{id}\"");
        if let Some(at) = text.find(&needle) {
            let start = text[..at].rfind("[[fact]]").unwrap();
            let end = text[at..].find("[[fact]]").map_or(text.len(), |e| at + e);
            return (path, text[start..end].to_string());
        }
    }
    panic!("no fact {id}");
}

/// Removes fact `id` from the knowledge base in `dir`; returns what to put back.
fn remove_fact(dir: &Path, id: &str) -> (PathBuf, String) {
    let (path, table) = fact_table(dir, id);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(&table, "", 1)).unwrap();
    (path, table)
}

fn append(path: &Path, text: &str) {
    let mut all = std::fs::read_to_string(path).unwrap();
    all.push('\n');
    all.push_str(text);
    std::fs::write(path, all).unwrap();
}

/// Makes a quote of fact `id` no longer verbatim: an error that stops a load.
fn break_fact(dir: &Path, id: &str) {
    let (path, table) = fact_table(dir, id);
    let broken = table.replacen("quote = \"", "quote = \"Not in the source: ", 1);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(&table, &broken, 1)).unwrap();
}

fn load(dir: &Path) -> Engine {
    let config = Config::load(&root().join("config/parley.toml"), true).unwrap();
    Engine::new(KnowledgeBase::load(dir).unwrap(), config.engine)
}

const QUESTION: &str = "when was the grain deal signed?";

fn answer_id(engine: &Engine, question: &str) -> Option<String> {
    engine.ask(question).fact().map(|f| f.id.to_string())
}

#[test]
fn a_reload_adds_a_fact_that_is_answered_at_once() {
    let dir = knowledge_copy();
    let fact = answered_fact(&engine(), QUESTION);
    let (path, table) = remove_fact(dir.path(), &fact);
    let live = Live::new(load(dir.path()), dir.path());
    assert_ne!(answer_id(&live.engine(), QUESTION).as_deref(), Some(&*fact));
    let before = live.engine();

    append(&path, &table);
    let reloaded = live.reload().expect("the restored fact passes its checks");
    assert_eq!(reloaded.added, std::slice::from_ref(&fact));
    assert!(reloaded.removed.is_empty() && reloaded.changed.is_empty());
    assert_eq!(answer_id(&live.engine(), QUESTION), Some(fact.clone()));
    // A question that started before the reload finishes on the engine it started on.
    assert!(before.fact(&fact).is_none());
    assert_ne!(answer_id(&before, QUESTION), Some(fact));
}

#[test]
fn a_broken_reload_changes_nothing_and_names_the_problem() {
    let dir = knowledge_copy();
    let live = Live::new(load(dir.path()), dir.path());
    let fact = answered_fact(&engine(), QUESTION);
    let served = live.engine();
    break_fact(dir.path(), &fact);
    let error = live
        .reload()
        .expect_err("a quote that is not verbatim is refused");
    match &error {
        ReloadError::Invalid { errors, .. } => {
            assert!(!errors.is_empty());
            assert!(
                error
                    .problems()
                    .iter()
                    .any(|p| p.contains("Not in the source")),
                "{error}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(
        Arc::ptr_eq(&served, &live.engine()),
        "the old engine serves"
    );
    assert_eq!(answer_id(&live.engine(), QUESTION), Some(fact));

    // A missing directory is refused too.
    let gone = Live::new(load(&root().join("knowledge")), dir.path().join("nowhere"));
    assert!(matches!(gone.reload(), Err(ReloadError::Unreadable { .. })));
}

#[test]
fn an_unchanged_reload_says_so() {
    let dir = knowledge_copy();
    let live = Live::new(load(dir.path()), dir.path());
    let reloaded = live.reload().unwrap();
    assert!(reloaded.is_unchanged(), "{reloaded}");
    assert_eq!(
        reloaded.to_string(),
        format!("{} facts, none changed", reloaded.facts)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_reloaded_by_the_watcher() {
    let dir = knowledge_copy();
    let fact = answered_fact(&engine(), QUESTION);
    let (path, table) = remove_fact(dir.path(), &fact);
    let live = Arc::new(Live::new(load(dir.path()), dir.path()));
    let _watcher = parley::live::watch(Arc::clone(&live)).expect("the directory can be watched");
    // A file that is not part of the knowledge base changes nothing.
    std::fs::write(dir.path().join("facts/.notes.swp"), "scratch").unwrap();
    append(&path, &table);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while live.engine().fact(&fact).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the change was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer_id(&live.engine(), QUESTION), Some(fact));
}

/// The votes on the answers parley logged, as (helpful, unhelpful) per answer.
fn votes(data_dir: &Path) -> Vec<(String, u32, u32)> {
    let store = SqliteStore::open(data_dir).unwrap();
    store
        .answers_since(None)
        .unwrap()
        .into_iter()
        .map(|a| (a.question, a.helpful, a.unhelpful))
        .collect()
}

/// Clicks `custom_id` on `message` as `user`; returns the text of the reply.
async fn click(discord: &Discord, user: u64, message: &Value, custom_id: &str) -> Value {
    let i = discord
        .click(standin::GENERAL, user, message, custom_id)
        .await;
    interaction_response(discord, i.id).await
}

fn reply_text(response: &Value) -> String {
    let data = &response["data"];
    format!(
        "{} {}",
        data["content"].as_str().unwrap_or(""),
        embed_text(data)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_through_the_loopback_count_once_per_user_and_are_acknowledged_privately() {
    let data = tempfile::tempdir().unwrap();
    let bot = start_on(
        Discord::start().await,
        settings(),
        DailyConfig::default(),
        Some(data.path().to_path_buf()),
    )
    .await;
    let reply = answered_in_general(&bot.discord, "When was the GRAIN deal signed??").await;
    let buttons = reply.body["components"][0]["components"]
        .as_array()
        .unwrap()
        .clone();
    let id_of = |label: &str| {
        buttons
            .iter()
            .find(|b| b["label"] == label)
            .unwrap_or_else(|| panic!("no {label} button in {buttons:?}"))["custom_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (up, down) = (id_of("👍"), id_of("👎"));
    let message = bot.discord.messages_in(standin::GENERAL).pop().unwrap();

    let first = click(&bot.discord, standin::ASKER, &message, &down).await;
    assert_eq!(first["type"], json!(4));
    assert_eq!(
        first["data"]["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral"
    );
    assert!(
        reply_text(&first).contains("your 👎 is recorded"),
        "{first}"
    );
    let again = click(&bot.discord, standin::ASKER, &message, &down).await;
    assert!(reply_text(&again).contains("already voted 👎"), "{again}");
    let changed = click(&bot.discord, standin::ASKER, &message, &up).await;
    assert!(reply_text(&changed).contains("changed to 👍"), "{changed}");
    let other = click(&bot.discord, standin::ADMIN, &message, &down).await;
    assert!(
        reply_text(&other).contains("your 👎 is recorded"),
        "{other}"
    );
    for response in [&first, &again, &changed, &other] {
        let text = reply_text(response);
        for who in [standin::ASKER, standin::ADMIN] {
            assert!(!text.contains(&who.to_string()), "{text} names a voter");
        }
        assert!(!text.contains("asker") && !text.contains("admin"), "{text}");
    }
    // One vote per user: the asker's changed vote and the admin's.
    assert_eq!(
        votes(data.path()),
        [("when was the grain deal signed".to_string(), 1, 1)]
    );

    // An abstention is logged, without buttons to vote with.
    let abstained = answered_in_general(&bot.discord, "Who won Eurovision in 2022?").await;
    let labels: Vec<&str> = abstained.body["components"][0]["components"]
        .as_array()
        .map(|b| b.iter().filter_map(|b| b["label"].as_str()).collect())
        .unwrap_or_default();
    assert!(!labels.contains(&"👍"), "{labels:?}");
    bot.discord.assert_bodies_valid();
    bot.stop().await;
    let store = SqliteStore::open(data.path()).unwrap();
    let logged = store.unanswered_since(None).unwrap();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0].question, "who won eurovision in 2022");
    assert_eq!(logged[0].guild, Some(standin::GUILD_ID));
}

/// Runs `/reload` as `user` in `channel`; returns the text of the reply once it has one.
async fn run_reload(discord: &Discord, channel: u64, user: u64) -> String {
    let i = discord
        .slash_command(channel, user, "reload", json!([]))
        .await;
    let text = poll(|| {
        let text = discord
            .original_response(&i.token)
            .map(|m| format!("{} {}", m["content"].as_str().unwrap_or(""), embed_text(&m)))
            .filter(|t| !t.trim().is_empty())?;
        Some(Value::String(text))
    })
    .await;
    let flags = interaction_response(discord, i.id).await["data"]["flags"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(flags & 64, 64, "the reply to /reload is ephemeral");
    text.as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_by_the_owner_serves_a_new_fact_at_once_and_a_broken_one_changes_nothing() {
    let dir = knowledge_copy();
    let fact = answered_fact(&engine(), QUESTION);
    let (path, table) = remove_fact(dir.path(), &fact);
    let live = Arc::new(Live::new(load(dir.path()), dir.path()));
    let bot = start_serving(
        Arc::clone(&live),
        Discord::start().await,
        settings(),
        DailyConfig::default(),
        None,
    )
    .await;

    append(&path, &table);
    let text = run_reload(&bot.discord, standin::GENERAL, standin::OWNER_USER_ID).await;
    assert!(text.contains("Reloaded the knowledge base"), "{text}");
    assert!(text.contains(&format!("added: {fact}")), "{text}");
    let reply = answered_in_general(&bot.discord, QUESTION).await;
    assert!(
        embed_text(&reply.body).contains(&format!("fact {fact}")),
        "the new fact answers at once"
    );

    break_fact(dir.path(), &fact);
    let text = run_reload(&bot.discord, standin::GENERAL, standin::OWNER_USER_ID).await;
    assert!(text.contains("Nothing was changed"), "{text}");
    assert!(
        text.contains("Not in the source"),
        "the problem is returned: {text}"
    );
    let reply = answered_in_general(&bot.discord, QUESTION).await;
    assert!(embed_text(&reply.body).contains(&format!("fact {fact}")));

    // Not an owner (in a DM, where server permissions do not hide the command).
    let text = run_reload(&bot.discord, standin::DM_CHANNEL, standin::ASKER).await;
    assert!(text.contains("Only parley's owners"), "{text}");
    bot.discord.assert_bodies_valid();
    bot.stop().await;
}

/// Logs a few questions as `parley serve` does, through the same code.
fn fill_log(data_dir: &Path) {
    let engine = engine();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(data_dir).unwrap());
    let log = Log::new(Arc::clone(&store), &Default::default());
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    for (question, when) in [
        (
            "Did the EU put sanctions on Russian oil?",
            "2026-01-10T10:00:00Z",
        ),
        (
            "did the eu put sanctoins on russian oil",
            "2026-01-11T10:00:00Z",
        ),
        ("Who won Eurovision in 2022?", "2026-01-12T10:00:00Z"),
        (
            "did the eu put sanctions on russian oil",
            "2026-02-01T10:00:00Z",
        ),
    ] {
        let explained = engine.explain(question);
        assert!(
            explained.reply.fact().is_none(),
            "{question} is not covered"
        );
        log.record(question, Some(5), &explained, at(when));
    }
    let explained = engine.explain(QUESTION);
    let answer = log
        .record(QUESTION, Some(5), &explained, at("2026-02-02T10:00:00Z"))
        .expect("an answer gets an id");
    log.vote(parley::store::Vote {
        answer,
        user: 9,
        helpful: false,
        voted_at: at("2026-02-02T10:01:00Z"),
    })
    .unwrap();
    assert_eq!(normalise(QUESTION), "when was the grain deal signed");
}

#[test]
fn report_groups_unanswered_questions_and_ranks_facts() {
    let data = tempfile::tempdir().unwrap();
    fill_log(data.path());
    let dir = data.path().to_str().unwrap();
    let env = [("PARLEY_DATA_DIR", dir)];
    let fact = answered_fact(&engine(), QUESTION);

    let run = parley_with_env(&["report"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("4 asked, 2 distinct"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("did the eu put sanctions on russian oil")
    );
    assert!(run.stdout.contains(&fact), "{}", run.stdout);

    let run = parley_with_env(&["report", "--json"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let groups = report["unanswered"].as_array().unwrap();
    assert_eq!(groups[0]["count"], 3);
    assert_eq!(
        groups[0]["examples"][0],
        "did the eu put sanctions on russian oil"
    );
    assert_eq!(groups[1]["count"], 1);
    assert_eq!(report["disliked"][0]["fact"], fact.as_str());
    assert_eq!(report["disliked"][0]["unhelpful"], 1);
    assert_eq!(
        report["disliked"][0]["questions"][0],
        "when was the grain deal signed"
    );
    assert_eq!(report["answers"][0]["answers"], 1);

    let run = parley_with_env(&["report", "--json", "--since", "2026-02-01"], &env);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["since"], "2026-02-01T00:00:00Z");
    assert_eq!(report["unanswered"][0]["count"], 1);

    let run = parley_with_env(&["report", "--since", "last week"], &env);
    assert_eq!(run.code, 2, "clap refuses a bad date");
    assert!(run.stderr.contains("YYYY-MM-DD"), "{}", run.stderr);

    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("none");
    let run = parley_with_env(
        &["report"],
        &[("PARLEY_DATA_DIR", missing.to_str().unwrap())],
    );
    assert_eq!(run.code, 2, "an error");
    assert!(run.stderr.contains("there is no log at"), "{}", run.stderr);
    assert!(!missing.exists(), "a report creates nothing");
}
