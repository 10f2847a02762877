//! The `parley` command line: argument parsing and the commands. This is where files,
//! standard input and the clock are read; everything it prints comes from
//! [`crate::render`] and [`crate::eval`].
//!
//! Exit codes: 0 success; 1 a negative result (a question parley did not answer, a
//! knowledge base with errors, a question set below its bar); 2 an error (bad input, a
//! file that cannot be read).

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::engine::{AbstainReason, Engine, Reply};
use crate::eval;
use crate::knowledge::{self, KnowledgeBase, check};
use crate::live::{self, Live};
use crate::render;
use crate::report;
use crate::store::{SqliteStore, Store};
use crate::timeline::{self, FactDate, TimelineQuery};

/// Answers questions about the direct Russia–Ukraine talks since 2022, quoting its sources.
#[derive(Debug, Parser)]
#[command(name = "parley", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Common {
    /// The knowledge base directory.
    #[arg(long, global = true, value_name = "DIR", env = "PARLEY_KNOWLEDGE")]
    pub knowledge: Option<PathBuf>,
    /// The config file.
    #[arg(long, global = true, value_name = "FILE", env = "PARLEY_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a question, with its citation (reads one question per line from stdin
    /// when none is given).
    Ask {
        /// The question. Without it, questions are read from standard input.
        question: Option<String>,
        /// Print one JSON object per question.
        #[arg(long)]
        json: bool,
        /// Show how the answer was reached: terms, intent and the best candidates.
        #[arg(long, conflicts_with = "json")]
        explain: bool,
    },
    /// List the dated facts in order, with their dates as the source states them.
    Timeline {
        /// Only facts from this date on (YYYY, YYYY-MM or YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        from: Option<FactDate>,
        /// Only facts up to this date (YYYY, YYYY-MM or YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        to: Option<FactDate>,
        /// Only facts whose topic contains this word.
        #[arg(long, value_name = "WORD")]
        topic: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one fact with its citation (a random one without ID).
    Fact {
        /// The fact's id, as shown in answers.
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the knowledge base; exits non-zero on any error.
    Check,
    /// Run the Discord bot (token from DISCORD_TOKEN, or the file discord.token_file
    /// names). Reloads the knowledge base on SIGHUP, /reload and (by default) when its
    /// files change. Stops cleanly on Ctrl-C or SIGTERM.
    Serve,
    /// What users asked that parley could not answer (near-duplicates grouped), the
    /// facts they voted down, and answers per fact, from the log `parley serve` keeps.
    Report {
        /// Only what was logged from this day on (YYYY-MM-DD, from 00:00 UTC).
        #[arg(long, value_name = "DATE", value_parser = parse_day)]
        since: Option<jiff::civil::Date>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score the engine on a question set (JSON Lines).
    Eval {
        /// The question set.
        file: PathBuf,
        /// Print the report as JSON, with every outcome.
        #[arg(long)]
        json: bool,
        /// List every question that did not pass.
        #[arg(long)]
        failures: bool,
    },
}

fn parse_day(s: &str) -> Result<jiff::civil::Date, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a date written YYYY-MM-DD"))
}

fn parse_date(s: &str) -> Result<FactDate, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli
        .common
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("config/parley.toml"));
    let config = Config::load(&config_path, cli.common.config.is_some())?;
    let knowledge_dir = cli
        .common
        .knowledge
        .clone()
        .unwrap_or_else(|| PathBuf::from("knowledge"));
    match cli.command {
        Command::Check => check_command(&knowledge_dir, &config),
        Command::Serve => serve_command(&knowledge_dir, config),
        Command::Report { since, json } => report_command(&knowledge_dir, &config, since, json),
        command => {
            let engine = load_engine(&knowledge_dir, &config)?;
            match command {
                Command::Ask {
                    question: Some(q),
                    json,
                    explain,
                } => ask_one(&engine, &q, json, explain),
                Command::Ask {
                    question: None,
                    json,
                    explain,
                } => ask_stdin(&engine, json, explain),
                Command::Timeline {
                    from,
                    to,
                    topic,
                    json,
                } => timeline_command(&engine, TimelineQuery { from, to, topic }, json),
                Command::Fact { id, json } => fact_command(&engine, id.as_deref(), json),
                Command::Eval {
                    file,
                    json,
                    failures,
                } => eval_command(&engine, &file, json, failures),
                Command::Check | Command::Serve | Command::Report { .. } => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

/// The environment variable that holds the bot token.
pub const TOKEN_VAR: &str = "DISCORD_TOKEN";
/// The environment variable that overrides `storage.data_dir`.
pub const DATA_DIR_VAR: &str = "PARLEY_DATA_DIR";
/// The environment variable that overrides `discord.api_base`.
pub const API_BASE_VAR: &str = "DISCORD_API_BASE";

/// The bot token: `DISCORD_TOKEN`, else the file the config names. Checked before
/// anything else is loaded, so that a missing token fails at once.
fn token(config: &Config) -> Result<crate::discord::Token> {
    let (raw, from) = match std::env::var(TOKEN_VAR) {
        Ok(value) => (value, TOKEN_VAR.to_string()),
        Err(_) => match &config.discord.token_file {
            Some(path) => (
                std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read the token file {} (discord.token_file)",
                        path.display()
                    )
                })?,
                format!("the token file {}", path.display()),
            ),
            None => bail!(
                "no Discord bot token: set the {TOKEN_VAR} environment variable (or name a file holding it with discord.token_file in the config)"
            ),
        },
    };
    crate::discord::Token::new(&raw)
        .with_context(|| format!("the Discord bot token in {from} is empty or malformed"))
}

/// The data directory: `PARLEY_DATA_DIR`, else `storage.data_dir`.
fn data_dir(config: &Config) -> PathBuf {
    std::env::var_os(DATA_DIR_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| config.storage.data_dir.clone())
}

fn report_command(
    knowledge_dir: &Path,
    config: &Config,
    since: Option<jiff::civil::Date>,
    json: bool,
) -> Result<ExitCode> {
    let dir = data_dir(config);
    let file = dir.join(SqliteStore::FILE_NAME);
    if !file.exists() {
        bail!(
            "there is no log at {}: `parley serve` keeps it in its data directory (storage.data_dir in the config, or {DATA_DIR_VAR})",
            file.display()
        );
    }
    let store = SqliteStore::open(&dir)?;
    let since_instant = since
        .map(|d| {
            d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
        })
        .transpose()
        .context("the --since date is out of range")?;
    let questions = store.unanswered_since(since_instant)?;
    let answers = store.answers_since(since_instant)?;
    let engine = load_engine(knowledge_dir, config)?;
    let report = report::build(
        &engine,
        since_instant.map(|t| t.to_string()),
        &questions,
        &answers,
    );
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.render())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn serve_command(knowledge_dir: &Path, config: Config) -> Result<ExitCode> {
    let token = token(&config)?;
    let api_base = std::env::var(API_BASE_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| config.discord.api_base.clone());
    let engine = load_checked(knowledge_dir, &config)?;
    tracing::info!(
        facts = engine.knowledge().facts.len(),
        "knowledge base loaded"
    );
    let knowledge = Arc::new(Live::new(engine, knowledge_dir));
    let _watcher = if config.curation.watch_knowledge {
        live::watch(Arc::clone(&knowledge))
            .inspect_err(|e| {
                tracing::warn!(
                    "cannot watch {} for changes ({e}); reload with SIGHUP or /reload",
                    knowledge_dir.display()
                );
            })
            .ok()
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let data_dir = data_dir(&config);
    let options = crate::discord::ServeOptions {
        token,
        api_base,
        discord: config.discord,
        daily: config.daily,
        curation: config.curation,
        data_dir: Some(data_dir),
    };
    runtime.spawn(reload_on_hangup(Arc::clone(&knowledge)));
    runtime.block_on(crate::discord::run(knowledge, options, shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
}

/// Loads the knowledge base for serving, fully checked as `parley check` does (a
/// reload is held to the same checks, so what starts would also reload).
fn load_checked(dir: &Path, config: &Config) -> Result<Engine> {
    let inspected = live::inspect(dir, &config.engine, None).with_context(|| {
        format!(
            "cannot read the knowledge base in {} (run parley from the repository root, or pass --knowledge DIR)",
            dir.display()
        )
    })?;
    for warning in inspected.warnings() {
        tracing::warn!("{warning}");
    }
    match inspected.engine {
        Some(engine) => Ok(engine),
        None => {
            let errors: Vec<_> = inspected.errors().cloned().collect();
            bail!(
                "the knowledge base in {} has {} error(s); `parley check` lists them:\n{}",
                dir.display(),
                errors.len(),
                check::render(&errors)
            )
        }
    }
}

/// Reloads the knowledge base on every SIGHUP.
async fn reload_on_hangup(knowledge: Arc<Live>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot listen for SIGHUP: {e}");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            let knowledge = Arc::clone(&knowledge);
            let _ = tokio::task::spawn_blocking(move || knowledge.reload_logged("SIGHUP")).await;
        }
    }
    #[cfg(not(unix))]
    let _ = knowledge;
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

pub fn load_engine(dir: &Path, config: &Config) -> Result<Engine> {
    let kb = KnowledgeBase::load(dir).map_err(|e| {
        let hint = match e {
            knowledge::LoadError::Io { .. } => {
                " (run parley from the repository root, or pass --knowledge DIR)"
            }
            knowledge::LoadError::Invalid(_) => " (`parley check` lists every problem)",
        };
        anyhow::Error::new(e).context(format!(
            "cannot load the knowledge base from {}{hint}",
            dir.display()
        ))
    })?;
    for warning in &kb.warnings {
        tracing::warn!("{warning}");
    }
    tracing::debug!(facts = kb.facts.len(), "knowledge base loaded");
    Ok(Engine::new(kb, config.engine.clone()))
}

fn print_reply(engine: &Engine, question: &str, reply: &Reply<'_>, json: bool) -> Result<()> {
    let mut out = io::stdout().lock();
    if json {
        let value = render::reply_json(engine.knowledge(), question, reply);
        serde_json::to_writer(&mut out, &value)?;
        writeln!(out)?;
    } else {
        let text = render::reply_text(
            engine.knowledge(),
            reply,
            engine.config().max_question_chars,
        );
        write!(out, "{text}")?;
    }
    Ok(())
}

fn print_explanation(engine: &Engine, question: &str) -> Result<()> {
    let e = engine.explain(question);
    let mut out = io::stdout().lock();
    writeln!(out, "words:      {}", e.analyzed.words.join(" "))?;
    writeln!(out, "terms:      {}", e.analyzed.terms.join(" "))?;
    for (from, to) in &e.analyzed.corrections {
        writeln!(out, "corrected:  {from} -> {to}")?;
    }
    if !e.unknown_terms.is_empty() {
        writeln!(out, "unknown:    {}", e.unknown_terms.join(" "))?;
    }
    let wants: Vec<&str> = e.intent.wants.iter().map(|w| w.as_str()).collect();
    writeln!(
        out,
        "asks for:   {}",
        if wants.is_empty() {
            "anything".to_string()
        } else {
            wants.join(" or ")
        }
    )?;
    if !e.intent.subjects.is_empty() {
        writeln!(out, "subjects:   {}", e.intent.subjects.join(", "))?;
    }
    if let Some(precision) = e.intent.precision {
        writeln!(out, "precision:  {precision:?}")?;
    }
    writeln!(out, "candidates (score = coverage/2 + similarity/2):")?;
    for c in e.candidates.iter().take(5) {
        let flags = c
            .ineligible_because()
            .map(|why| format!("  [{why}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:.3}  cov {:.2}  sim {:.2}  {}{}",
            c.score, c.coverage, c.similarity, c.fact.id, flags
        )?;
    }
    writeln!(out)?;
    drop(out);
    print_reply(engine, question, &e.reply, false)
}

fn ask_one(engine: &Engine, question: &str, json: bool, explain: bool) -> Result<ExitCode> {
    let reply = engine.ask(question);
    if explain {
        print_explanation(engine, question)?;
    } else {
        print_reply(engine, question, &reply, json)?;
    }
    Ok(exit_code_for(&reply))
}

fn exit_code_for(reply: &Reply<'_>) -> ExitCode {
    match reply {
        Reply::Answer { .. } => ExitCode::SUCCESS,
        Reply::Abstain {
            reason: AbstainReason::Empty | AbstainReason::TooLong,
            ..
        } => ExitCode::from(2),
        Reply::Abstain { .. } => ExitCode::from(1),
    }
}

/// The longest line read from standard input; the rest of a longer line is discarded
/// (it is far past any question's length limit anyway) so that input without newlines
/// cannot exhaust memory.
const MAX_LINE_BYTES: usize = 1 << 20;

/// Answers every line of standard input. Blank lines are skipped. A line that is not
/// valid UTF-8 is reported on stderr and answered as what it decodes to with
/// replacement characters. Exits 0 when every line could be read, 2 otherwise.
fn ask_stdin(engine: &Engine, json: bool, explain: bool) -> Result<ExitCode> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("Reading questions from standard input, one per line (Ctrl-D to finish).");
    }
    let mut input = stdin.lock();
    let mut bad_lines = 0usize;
    let mut line_number = 0usize;
    while let Some((bytes, truncated)) = read_capped_line(&mut input, MAX_LINE_BYTES)? {
        line_number += 1;
        let question = match std::str::from_utf8(&bytes) {
            Ok(text) => text.to_owned(),
            Err(e) => {
                bad_lines += 1;
                eprintln!(
                    "line {line_number}: not valid UTF-8 (at byte {}); answering it with the invalid bytes replaced",
                    e.valid_up_to()
                );
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        if truncated {
            eprintln!(
                "line {line_number}: longer than {MAX_LINE_BYTES} bytes; the rest was ignored"
            );
        }
        if question.trim().is_empty() {
            continue;
        }
        if explain {
            print_explanation(engine, &question)?;
            println!();
        } else {
            let reply = engine.ask(&question);
            print_reply(engine, &question, &reply, json)?;
            if !json {
                println!();
            }
        }
    }
    Ok(if bad_lines == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Reads one line (without its `\n` or `\r\n`), keeping at most `cap` bytes of it.
/// Returns `None` at end of input, and whether the line was cut.
pub fn read_capped_line(
    input: &mut impl BufRead,
    cap: usize,
) -> io::Result<Option<(Vec<u8>, bool)>> {
    let mut line = Vec::new();
    let mut truncated = false;
    let mut read_any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        read_any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = cap.saturating_sub(line.len());
        if chunk.len() > room {
            truncated = true;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let consumed = done.unwrap_or(buf.len());
        input.consume(consumed);
        if done.is_some() {
            break;
        }
    }
    if !read_any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some((line, truncated)))
}

fn timeline_command(engine: &Engine, query: TimelineQuery, json: bool) -> Result<ExitCode> {
    if let (Some(from), Some(to)) = (&query.from, &query.to)
        && from.start() > to.end()
    {
        bail!("--from {from} is after --to {to}");
    }
    let kb = engine.knowledge();
    if let Some(topic) = &query.topic {
        let t = topic.trim().to_lowercase();
        if !kb.topics().iter().any(|k| k.contains(&t)) {
            bail!(
                "no topic contains {topic:?}; topics are: {}",
                kb.topics().join(", ")
            );
        }
    }
    let facts = timeline::timeline(kb, &query);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&render::timeline_json(kb, &facts))?
        );
    } else {
        print!("{}", render::timeline_text(kb, &facts));
    }
    Ok(ExitCode::SUCCESS)
}

fn fact_command(engine: &Engine, id: Option<&str>, json: bool) -> Result<ExitCode> {
    let kb = engine.knowledge();
    let fact = match id {
        Some(id) => match engine.fact(id) {
            Some(fact) => fact,
            None => {
                let mut close: Vec<(usize, &str)> = kb
                    .facts
                    .iter()
                    .map(|f| (strsim::levenshtein(id, f.id.as_str()), f.id.as_str()))
                    .collect();
                close.sort();
                let close: Vec<&str> = close.iter().take(3).map(|(_, id)| *id).collect();
                bail!(
                    "no fact with id {id:?}; did you mean: {}?",
                    close.join(", ")
                );
            }
        },
        None => {
            // The one place randomness enters: the engine picks by a seed the caller gives.
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            engine
                .fact_by_seed(seed)
                .context("the knowledge base has no facts")?
        }
    };
    if json {
        let value = serde_json::json!({
            "fact_id": fact.id.as_str(),
            "topic": fact.topic,
            "answer": fact.answer,
            "date": fact.date.map(|d| d.to_string()),
            "date_text": fact.date_label(),
            "questions": fact.questions,
            "citations": render::citations(kb, fact),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render::fact_text(kb, fact));
    }
    Ok(ExitCode::SUCCESS)
}

fn check_command(dir: &Path, config: &Config) -> Result<ExitCode> {
    let freshness = live::Freshness {
        today: jiff::ZonedDateTime::now().date(),
        stale_after_days: config.curation.stale_after_days,
    };
    let inspected = live::inspect(dir, &config.engine, Some(freshness))
        .with_context(|| format!("cannot read the knowledge base in {}", dir.display()))?;
    let errors = inspected.errors().count();
    let warnings = inspected.warnings().count();
    let mut out = io::stdout().lock();
    for p in &inspected.problems {
        writeln!(out, "{p}")?;
    }
    writeln!(
        out,
        "{} source(s), {} fact(s), {} example question(s): {errors} error(s), {warnings} warning(s)",
        inspected.sources, inspected.facts, inspected.questions
    )?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn eval_command(engine: &Engine, file: &Path, json: bool, failures: bool) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read question set {}", file.display()))?;
    let questions = eval::parse(&text).with_context(|| format!("in {}", file.display()))?;
    if questions.is_empty() {
        bail!("{} has no questions", file.display());
    }
    let report = eval::evaluate(engine, &questions);
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render(failures));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_capped_lines() {
        let mut input = io::Cursor::new(b"one\r\ntwo\n\nthree-long-line\nlast".to_vec());
        let mut lines = Vec::new();
        while let Some((line, cut)) = read_capped_line(&mut input, 5).unwrap() {
            lines.push((String::from_utf8(line).unwrap(), cut));
        }
        assert_eq!(
            lines,
            [
                ("one".into(), false),
                ("two".into(), false),
                ("".into(), false),
                ("three".into(), true),
                ("last".into(), false)
            ]
        );
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
