//! The serde model of the knowledge files, and the types the rest of parley uses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::check::Problem;
use super::line_of;
use crate::timeline::FactDate;

/// Where something was read from: the file, and the line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<PathBuf>,
    pub line: Option<usize>,
}

impl Origin {
    pub fn new(file: &Path, line: Option<usize>) -> Self {
        Origin {
            file: Arc::new(file.to_path_buf()),
            line,
        }
    }

    /// An origin for facts built in memory rather than read from a file.
    pub fn memory() -> Self {
        Origin::new(Path::new("<memory>"), None)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.file.display(), line),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// A source document, kept byte for byte, with its metadata. Empty metadata fields are
/// unknown.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub publisher: String,
    pub author: String,
    /// When it was published, `YYYY-MM-DD`.
    pub date: String,
    /// When a curator last checked it still holds, `YYYY-MM-DD`.
    pub checked: String,
    pub url: String,
    pub text: String,
    pub origin: Origin,
}

impl Source {
    /// How current the source is known to be: the later of its publication date and
    /// the date it was last checked. `None` for an undated source (or a malformed
    /// date, which `parley check` reports).
    pub fn as_of(&self) -> Option<jiff::civil::Date> {
        [&self.date, &self.checked]
            .into_iter()
            .filter_map(|d| d.trim().parse::<jiff::civil::Date>().ok())
            .max()
    }

    /// How current the source is, as answers say it: "as of 2025-05-16" or "undated
    /// source".
    pub fn freshness(&self) -> String {
        match self.as_of() {
            Some(date) => format!("as of {date}"),
            None => "undated source".to_string(),
        }
    }
}

/// A fact's stable identifier (kebab-case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactId(pub String);

impl FactId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of information a fact supplies, matched against what a question asks for:
/// a "when" question needs a fact that supplies a date, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Supply {
    /// A date or a time ("when").
    Date,
    /// A number, an amount or a duration ("how many", "how long").
    Number,
    /// A person, country or organisation ("who", "which country").
    Actor,
    /// A person named in the fact ("who were the negotiators", "which leader"); also
    /// an actor.
    Person,
    /// A place ("where").
    Place,
    /// A city, town or suburb named in the fact ("which city"); also a place.
    City,
    /// A reason or cause ("why").
    Reason,
}

impl Supply {
    pub const ALL: [Supply; 7] = [
        Supply::Date,
        Supply::Number,
        Supply::Actor,
        Supply::Person,
        Supply::Place,
        Supply::City,
        Supply::Reason,
    ];

    /// The coarser kind this one is a case of: a city is a place, a person an actor.
    pub fn broader(self) -> Option<Supply> {
        match self {
            Supply::Person => Some(Supply::Actor),
            Supply::City => Some(Supply::Place),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Supply::Date => "date",
            Supply::Number => "number",
            Supply::Actor => "actor",
            Supply::Person => "person",
            Supply::Place => "place",
            Supply::City => "city",
            Supply::Reason => "reason",
        }
    }
}

/// A verbatim quote from a source that supports a fact.
#[derive(Debug, Clone)]
pub struct Citation {
    pub source: String,
    pub quote: String,
    pub origin: Origin,
}

/// A curated fact: a short answer, the questions it answers, and its citations.
#[derive(Debug, Clone)]
pub struct Fact {
    pub id: FactId,
    pub topic: String,
    pub answer: String,
    pub questions: Vec<String>,
    /// The date as precisely as the source gives it.
    pub date: Option<FactDate>,
    /// The date as the source words it ("early April 2022"); brackets mark what the
    /// sentence leaves implicit and the same source supplies.
    pub date_text: Option<String>,
    pub supplies: Vec<Supply>,
    /// The sides (entity names of the lexicon) that act in the fact.
    pub actors: Vec<String>,
    pub citations: Vec<Citation>,
    pub origin: Origin,
}

impl Fact {
    /// The date as the source words it, or the ISO date when no wording was recorded.
    pub fn date_label(&self) -> Option<String> {
        match (&self.date_text, &self.date) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(date)) => Some(date.to_string()),
            (None, None) => None,
        }
    }
}

/// Variant spellings and phrases that mean the same as a canonical form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub canonical: String,
    pub variants: Vec<String>,
}

/// A side or body, and the canonical words that stand for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    pub name: String,
    pub words: Vec<String>,
    /// People who act for it ("putin" for Russia). A question that names a person is
    /// answered only by a fact that names them too, or in which their side acts.
    #[serde(default)]
    pub people: Vec<String>,
    /// Places the sources put in its territory ("istanbul" for Turkey): a fact that
    /// names one mentions the side. Unlike `words`, a question naming the place is not
    /// taken to name the side (a fact about Turkey says nothing of Istanbul).
    #[serde(default)]
    pub places: Vec<String>,
}

/// Two groups of words that contradict each other ("agree" and "refuse"). A question
/// that presupposes one ("why did the West *agree* ...") is not answered by a fact that
/// says the other.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contrast {
    pub these: Vec<String>,
    pub those: Vec<String>,
}

/// The knowledge base's own vocabulary rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    #[serde(default, rename = "alias")]
    pub aliases: Vec<Alias>,
    #[serde(default, rename = "entity")]
    pub entities: Vec<Entity>,
    #[serde(default, rename = "contrast")]
    pub contrasts: Vec<Contrast>,
    #[serde(default)]
    pub presupposed: Presupposed,
}

/// Words that a presupposing question ("why did ... *refuse*") must share with a fact
/// for the fact to answer it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presupposed {
    pub words: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceMeta {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub publisher: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub checked: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactFile {
    #[serde(default)]
    fact: Vec<Spanned<RawFact>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    id: String,
    topic: String,
    answer: String,
    questions: Vec<String>,
    #[serde(default)]
    date: Option<Spanned<String>>,
    #[serde(default)]
    date_text: Option<String>,
    #[serde(default)]
    supplies: Vec<Supply>,
    #[serde(default)]
    actors: Vec<String>,
    #[serde(default)]
    citations: Vec<Spanned<RawCitation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCitation {
    source: String,
    quote: String,
}

fn toml_error(path: &Path, text: &str, e: toml::de::Error) -> Problem {
    let line = e.span().map(|s| line_of(text, s.start));
    Problem::error(path, line, e.message().trim().to_string())
}

pub(super) fn parse_source_meta(
    path: &Path,
    text: &str,
    problems: &mut Vec<Problem>,
) -> SourceMeta {
    toml::from_str(text).unwrap_or_else(|e| {
        problems.push(toml_error(path, text, e));
        SourceMeta::default()
    })
}

pub(super) fn parse_lexicon(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Lexicon {
    toml::from_str(text).unwrap_or_else(|e| {
        problems.push(toml_error(path, text, e));
        Lexicon::default()
    })
}

pub(super) fn parse_facts(
    path: &Path,
    text: &str,
    facts: &mut Vec<Fact>,
    problems: &mut Vec<Problem>,
) {
    let file: FactFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            problems.push(toml_error(path, text, e));
            return;
        }
    };
    for spanned in file.fact {
        let line = line_of(text, spanned.span().start);
        let raw = spanned.into_inner();
        let date = raw.date.and_then(|d| {
            let date_line = line_of(text, d.span().start);
            let d = d.into_inner();
            match d.parse::<FactDate>() {
                Ok(date) => Some(date),
                Err(e) => {
                    problems.push(Problem::error(
                        path,
                        Some(date_line),
                        format!("fact `{}`: bad date {d:?}: {e}", raw.id),
                    ));
                    None
                }
            }
        });
        let citations = raw
            .citations
            .into_iter()
            .map(|c| {
                let origin = Origin::new(path, Some(line_of(text, c.span().start)));
                let c = c.into_inner();
                Citation {
                    source: c.source,
                    quote: c.quote,
                    origin,
                }
            })
            .collect();
        facts.push(Fact {
            id: FactId(raw.id),
            topic: raw.topic,
            answer: raw.answer,
            questions: raw.questions,
            date,
            date_text: raw.date_text,
            supplies: raw.supplies,
            actors: raw.actors,
            citations,
            origin: Origin::new(path, Some(line)),
        });
    }
}
