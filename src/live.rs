//! The knowledge base being served, and reloading it without a restart.
//!
//! [`inspect`] loads a knowledge base directory and checks it fully, as `parley check`
//! does: structure (ids, verbatim quotes, dates), coverage, freshness, and the
//! collisions between facts that only a built engine can see. [`Live`] holds the
//! engine that answers; [`Live::reload`] builds a new one beside it from the files and
//! swaps it in with one atomic pointer store, only when it passed every check. A
//! question holds the engine it started on (an `Arc`) until it is answered, so a reload
//! never changes an answer half-way; the old engine is freed when its last question is
//! done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use jiff::civil::Date;

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::knowledge::{self, Fact, KnowledgeBase, LoadError, Problem, Severity, check};

/// When a fact's sources count as old: for the freshness warnings.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub today: Date,
    pub stale_after_days: u32,
}

/// A knowledge base as read and checked: every problem, errors first, and the engine
/// when there was no error.
#[derive(Debug)]
pub struct Inspected {
    pub problems: Vec<Problem>,
    pub engine: Option<Engine>,
    pub sources: usize,
    pub facts: usize,
    pub questions: usize,
}

impl Inspected {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }
}

/// Reads `dir` and checks it fully. Fails only when the files cannot be read at all;
/// a knowledge base with errors is returned with its problems and no engine.
pub fn inspect(
    dir: &Path,
    config: &EngineConfig,
    freshness: Option<Freshness>,
) -> Result<Inspected, LoadError> {
    let (kb, mut problems) = KnowledgeBase::load_unchecked(dir)?;
    let structural_errors = problems.iter().any(|p| p.severity == Severity::Error);
    problems.extend(check::coverage(&kb));
    if let Some(f) = freshness {
        problems.extend(check::freshness(&kb, f.today, f.stale_after_days));
    }
    let (sources, facts) = (kb.sources.len(), kb.facts.len());
    let questions = kb.facts.iter().map(|f| f.questions.len()).sum();
    let mut engine = None;
    if !structural_errors {
        // Collisions need a working engine, which needs a structurally sound base.
        let built = Engine::new(
            KnowledgeBase {
                warnings: problems
                    .iter()
                    .filter(|p| p.severity == Severity::Warning)
                    .cloned()
                    .collect(),
                ..kb
            },
            config.clone(),
        );
        problems.extend(built.collisions());
        engine = Some(built);
    }
    problems.sort_by(|a, b| {
        (a.severity, a.origin.file.as_ref(), a.origin.line).cmp(&(
            b.severity,
            b.origin.file.as_ref(),
            b.origin.line,
        ))
    });
    if problems.iter().any(|p| p.severity == Severity::Error) {
        engine = None;
    }
    Ok(Inspected {
        problems,
        engine,
        sources,
        facts,
        questions,
    })
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot read the knowledge base in {dir}: {source}")]
    Unreadable {
        dir: PathBuf,
        #[source]
        source: LoadError,
    },
    #[error("the knowledge base in {dir} has {} error(s):\n{}", .errors.len(), knowledge::check::render(.errors))]
    Invalid { dir: PathBuf, errors: Vec<Problem> },
}

impl ReloadError {
    /// The problems, one per line, for a log or a reply.
    pub fn problems(&self) -> Vec<String> {
        match self {
            ReloadError::Unreadable { source, .. } => vec![source.to_string()],
            ReloadError::Invalid { errors, .. } => errors.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// What a successful reload changed, by fact id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reloaded {
    pub facts: usize,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Facts whose answer, date, example questions or citations changed.
    pub changed: Vec<String>,
    pub warnings: usize,
}

impl Reloaded {
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl std::fmt::Display for Reloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} facts", self.facts)?;
        if self.is_unchanged() {
            return write!(f, ", none changed");
        }
        for (label, ids) in [
            ("added", &self.added),
            ("removed", &self.removed),
            ("changed", &self.changed),
        ] {
            if !ids.is_empty() {
                write!(f, "; {label}: {}", ids.join(", "))?;
            }
        }
        Ok(())
    }
}

/// The engine that answers now, swapped whole by [`reload`](Self::reload).
#[derive(Debug)]
pub struct Live {
    dir: PathBuf,
    current: ArcSwap<Engine>,
    /// One reload at a time: two at once would both build, and the slower could swap
    /// in files older than the faster one read.
    reloading: Mutex<()>,
}

impl Live {
    /// Serves `engine`, which was loaded from `dir`.
    pub fn new(engine: Engine, dir: impl Into<PathBuf>) -> Live {
        Live {
            dir: dir.into(),
            current: ArcSwap::from_pointee(engine),
            reloading: Mutex::new(()),
        }
    }

    /// The engine to answer with. Hold it for the whole question.
    pub fn engine(&self) -> Arc<Engine> {
        self.current.load_full()
    }

    /// The knowledge base directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads the knowledge base again from its directory, checks it fully, and serves
    /// it if it passed; otherwise the current one keeps serving. Blocks while it builds
    /// (run it on a blocking thread).
    pub fn reload(&self) -> Result<Reloaded, ReloadError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.engine();
        let inspected =
            inspect(&self.dir, old.config(), None).map_err(|source| ReloadError::Unreadable {
                dir: self.dir.clone(),
                source,
            })?;
        let warnings = inspected.warnings().count();
        let Some(engine) = inspected.engine else {
            return Err(ReloadError::Invalid {
                dir: self.dir.clone(),
                errors: inspected.errors().cloned().collect(),
            });
        };
        let mut reloaded = diff(old.knowledge(), engine.knowledge());
        reloaded.warnings = warnings;
        self.current.store(Arc::new(engine));
        Ok(reloaded)
    }
}

impl Live {
    /// [`reload`](Self::reload), logged: what changed, or every problem found.
    /// `trigger` says what asked for it (`SIGHUP`, `/reload`, a file change).
    pub fn reload_logged(&self, trigger: &str) -> Result<Reloaded, ReloadError> {
        let result = self.reload();
        match &result {
            Ok(reloaded) => tracing::info!(trigger, "knowledge base reloaded: {reloaded}"),
            Err(e) => tracing::error!(
                trigger,
                "knowledge base not reloaded, the old one keeps serving: {e}"
            ),
        }
        result
    }
}

/// The facts added, removed and changed from `old` to `new`.
fn diff(old: &KnowledgeBase, new: &KnowledgeBase) -> Reloaded {
    fn by_id(kb: &KnowledgeBase) -> BTreeMap<&str, &Fact> {
        kb.facts.iter().map(|f| (f.id.as_str(), f)).collect()
    }
    fn same(a: &Fact, b: &Fact) -> bool {
        a.answer == b.answer
            && a.topic == b.topic
            && a.date == b.date
            && a.date_text == b.date_text
            && a.questions == b.questions
            && a.supplies == b.supplies
            && a.actors == b.actors
            && a.citations.len() == b.citations.len()
            && a.citations
                .iter()
                .zip(&b.citations)
                .all(|(x, y)| x.source == y.source && x.quote == y.quote)
    }
    let (old, new_facts) = (by_id(old), by_id(new));
    let mut reloaded = Reloaded {
        facts: new.facts.len(),
        ..Reloaded::default()
    };
    for (id, fact) in &new_facts {
        match old.get(id) {
            None => reloaded.added.push(id.to_string()),
            Some(before) if !same(before, fact) => reloaded.changed.push(id.to_string()),
            Some(_) => {}
        }
    }
    reloaded.removed = old
        .keys()
        .filter(|id| !new_facts.contains_key(*id))
        .map(|id| id.to_string())
        .collect();
    reloaded
}

/// How long the files must be quiet before a change is reloaded: an editor's save, or
/// a `git pull` of many files, is one reload.
const QUIET: std::time::Duration = std::time::Duration::from_millis(500);

/// Reloads `live` when a file under its directory changes, until dropped.
pub struct Watcher {
    _debouncer: notify_debouncer_mini::Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
}

/// Starts watching the knowledge directory. Only `.toml` and `.txt` files count, so an
/// editor's swap and backup files do not reload anything.
pub fn watch(live: Arc<Live>) -> Result<Watcher, notify_debouncer_mini::notify::Error> {
    use notify_debouncer_mini::notify::RecursiveMode;
    let dir = live.dir().to_path_buf();
    let mut debouncer = notify_debouncer_mini::new_debouncer(
        QUIET,
        move |events: notify_debouncer_mini::DebounceEventResult| match events {
            Ok(events) => {
                if events.iter().any(|e| is_knowledge_file(&e.path)) {
                    let _ = live.reload_logged("file change");
                }
            }
            Err(e) => tracing::warn!("watching the knowledge base failed: {e}"),
        },
    )?;
    debouncer.watcher().watch(&dir, RecursiveMode::Recursive)?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

fn is_knowledge_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.') || n.ends_with('~'));
    !hidden
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "toml" || e == "txt")
}
