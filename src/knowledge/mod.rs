//! The knowledge base: source documents, curated facts and the lexicon of aliases, as
//! loaded from a `knowledge/` directory.
//!
//! Loading reads the files and checks everything that can be checked without the answer
//! engine (see [`check`]); any error stops the load with the file and line at fault. This
//! module does no matching: that is [`crate::engine`].

pub mod check;
mod model;

pub use check::{Problem, Severity};
pub use model::{Alias, Citation, Contrast, Entity, Fact, FactId, Lexicon, Origin, Source, Supply};

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::timeline::FactDate;

/// Why a knowledge base could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} problem(s) in the knowledge base:\n{}", .0.len(), check::render(.0))]
    Invalid(Vec<Problem>),
}

/// A loaded and checked knowledge base. Immutable once built.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub sources: BTreeMap<String, Source>,
    pub facts: Vec<Fact>,
    pub lexicon: Lexicon,
    /// Warnings found while loading (they do not stop the load).
    pub warnings: Vec<Problem>,
}

impl KnowledgeBase {
    /// Reads `dir/sources/*.txt` (+ `.toml` metadata), `dir/facts/*.toml` and
    /// `dir/aliases.toml`, then checks them. Files are read in name order, so the
    /// result does not depend on the file system's listing order.
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let (kb, problems) = Self::load_unchecked(dir)?;
        let (errors, warnings): (Vec<_>, Vec<_>) = problems
            .into_iter()
            .partition(|p| p.severity == Severity::Error);
        if !errors.is_empty() {
            return Err(LoadError::Invalid(errors));
        }
        Ok(KnowledgeBase { warnings, ..kb })
    }

    /// Like [`load`](Self::load), but returns every problem found instead of stopping at
    /// errors; used by `parley check`, which reports them all.
    pub fn load_unchecked(dir: &Path) -> Result<(Self, Vec<Problem>), LoadError> {
        let mut problems = Vec::new();
        let sources = load_sources(&dir.join("sources"), &mut problems)?;
        let mut facts = Vec::new();
        for path in files_with_extension(&dir.join("facts"), "toml")? {
            let text = read(&path)?;
            model::parse_facts(&path, &text, &mut facts, &mut problems);
        }
        let lexicon_path = dir.join("aliases.toml");
        let lexicon = if lexicon_path.exists() {
            let text = read(&lexicon_path)?;
            model::parse_lexicon(&lexicon_path, &text, &mut problems)
        } else {
            Lexicon::default()
        };
        let kb = KnowledgeBase {
            sources,
            facts,
            lexicon,
            warnings: Vec::new(),
        };
        problems.extend(check::structure(&kb));
        Ok((kb, problems))
    }

    /// Builds a knowledge base from parts already in memory (for tests and benchmarks),
    /// with the same checks as [`load`](Self::load).
    pub fn from_parts(
        sources: Vec<Source>,
        facts: Vec<Fact>,
        lexicon: Lexicon,
    ) -> Result<Self, LoadError> {
        let kb = KnowledgeBase {
            sources: sources.into_iter().map(|s| (s.id.clone(), s)).collect(),
            facts,
            lexicon,
            warnings: Vec::new(),
        };
        let problems = check::structure(&kb);
        let (errors, warnings): (Vec<_>, Vec<_>) = problems
            .into_iter()
            .partition(|p| p.severity == Severity::Error);
        if !errors.is_empty() {
            return Err(LoadError::Invalid(errors));
        }
        Ok(KnowledgeBase { warnings, ..kb })
    }

    pub fn fact(&self, id: &str) -> Option<&Fact> {
        self.facts.iter().find(|f| f.id.as_str() == id)
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.get(id)
    }

    /// The topics of the facts, sorted and without repeats.
    pub fn topics(&self) -> Vec<&str> {
        let mut topics: Vec<&str> = self.facts.iter().map(|f| f.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        topics
    }
}

fn load_sources(
    dir: &Path,
    problems: &mut Vec<Problem>,
) -> Result<BTreeMap<String, Source>, LoadError> {
    let mut sources = BTreeMap::new();
    for path in files_with_extension(dir, "txt")? {
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = fs::read(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Problem::error(
                    &path,
                    None,
                    format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
                ));
                continue;
            }
        };
        let meta_path = path.with_extension("toml");
        let meta = if meta_path.exists() {
            model::parse_source_meta(&meta_path, &read(&meta_path)?, problems)
        } else {
            problems.push(Problem::error(
                &meta_path,
                None,
                "missing: every source needs its metadata file (at least a title)",
            ));
            model::SourceMeta::default()
        };
        sources.insert(
            id.clone(),
            Source {
                id,
                title: meta.title,
                publisher: meta.publisher,
                author: meta.author,
                date: meta.date,
                checked: meta.checked,
                url: meta.url,
                text,
                origin: Origin::new(&path, None),
            },
        );
    }
    Ok(sources)
}

fn read(path: &Path) -> Result<String, LoadError> {
    fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The files of `dir` whose names end in `.ext`, sorted by name.
fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, LoadError> {
    let entries = fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses a fact's `date` field, for callers that build facts in memory.
pub fn parse_date(text: &str) -> Option<FactDate> {
    text.parse().ok()
}
