//! Checks of a knowledge base that need no answer engine: the structure of facts and
//! sources, verbatim quotes, and which source sentences no fact cites.
//!
//! Every problem names the file and, where it can, the line. The check that needs the
//! engine (an example question answered by another fact) is
//! [`Engine::collisions`](crate::engine::Engine::collisions).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use super::{KnowledgeBase, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One thing wrong with the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub origin: Origin,
    pub message: String,
}

impl Problem {
    pub fn error(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            origin: Origin::new(file, line),
            message: message.into(),
        }
    }

    pub fn at(severity: Severity, origin: &Origin, message: impl Into<String>) -> Self {
        Problem {
            severity,
            origin: origin.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {label}: {}", self.origin, self.message)
    }
}

/// One problem a line.
pub fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fewest example questions a fact may have.
pub const MIN_QUESTIONS: usize = 4;

/// Structural checks: ids, sources, verbatim quotes, dates, questions, actors.
pub fn structure(kb: &KnowledgeBase) -> Vec<Problem> {
    use Severity::{Error, Warning};
    let mut problems = Vec::new();
    for source in kb.sources.values() {
        if source.title.trim().is_empty() {
            problems.push(Problem::at(
                Error,
                &source.origin,
                format!("source `{}` has no title in its metadata", source.id),
            ));
        }
        for (field, value) in [("date", &source.date), ("checked", &source.checked)] {
            if !value.trim().is_empty() && value.trim().parse::<jiff::civil::Date>().is_err() {
                problems.push(Problem::at(
                    Error,
                    &source.origin,
                    format!(
                        "source `{}` has {field} = {value:?}: write it as YYYY-MM-DD, or leave it empty when unknown",
                        source.id
                    ),
                ));
            }
        }
    }
    let entity_names: Vec<&str> = kb
        .lexicon
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    let mut seen: HashMap<&str, &Origin> = HashMap::new();
    for fact in &kb.facts {
        let id = fact.id.as_str();
        let at = &fact.origin;
        if let Some(first) = seen.insert(id, at) {
            problems.push(Problem::at(
                Error,
                at,
                format!("duplicate fact id `{id}` (first at {first})"),
            ));
        }
        if !is_kebab_case(id) {
            problems.push(Problem::at(
                Error,
                at,
                format!("fact id `{id}` is not kebab-case (a-z, 0-9 and single dashes)"),
            ));
        }
        if fact.topic.trim().is_empty() {
            problems.push(Problem::at(
                Error,
                at,
                format!("fact `{id}` has an empty topic"),
            ));
        }
        if fact.answer.trim().is_empty() {
            problems.push(Problem::at(
                Error,
                at,
                format!("fact `{id}` has an empty answer"),
            ));
        }
        let questions = fact
            .questions
            .iter()
            .filter(|q| !q.trim().is_empty())
            .count();
        if questions < MIN_QUESTIONS {
            problems.push(Problem::at(
                Error,
                at,
                format!(
                    "fact `{id}` has {questions} example question(s); at least {MIN_QUESTIONS} are needed"
                ),
            ));
        }
        if fact.citations.is_empty() {
            problems.push(Problem::at(
                Error,
                at,
                format!("fact `{id}` has no citation"),
            ));
        }
        if fact.date_text.is_some() && fact.date.is_none() {
            problems.push(Problem::at(
                Warning,
                at,
                format!("fact `{id}` has a date_text but no date: it stays off the timeline"),
            ));
        }
        for actor in &fact.actors {
            if !entity_names.contains(&actor.as_str()) {
                problems.push(Problem::at(
                    Error,
                    at,
                    format!("fact `{id}`: actor `{actor}` is not an [[entity]] of the lexicon"),
                ));
            }
        }
        for citation in &fact.citations {
            if !kb.sources.contains_key(&citation.source) {
                problems.push(Problem::at(
                    Error,
                    &citation.origin,
                    format!(
                        "fact `{id}` cites unknown source `{}` (known: {})",
                        citation.source,
                        kb.sources.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
                continue;
            }
            if citation.quote.trim().is_empty() {
                problems.push(Problem::at(
                    Error,
                    &citation.origin,
                    format!("fact `{id}` has an empty quote"),
                ));
            }
        }
    }
    problems.extend(misquotes(kb));
    for alias in &kb.lexicon.aliases {
        if alias.canonical.trim().is_empty() || alias.variants.iter().any(|v| v.trim().is_empty()) {
            problems.push(Problem::at(
                Error,
                &Origin::new(Path::new("aliases.toml"), None),
                format!("alias `{}` has an empty form", alias.canonical),
            ));
        }
    }
    problems
}

/// Every quote that is not a verbatim substring of its source. All the quotes of a
/// source are looked for in one pass over it (Aho-Corasick), so that the check stays
/// linear in the size of the knowledge base.
fn misquotes(kb: &KnowledgeBase) -> Vec<Problem> {
    let mut problems = Vec::new();
    for source in kb.sources.values() {
        let citations: Vec<(&super::Fact, &super::Citation)> = kb
            .facts
            .iter()
            .flat_map(|f| f.citations.iter().map(move |c| (f, c)))
            .filter(|(_, c)| c.source == source.id && !c.quote.trim().is_empty())
            .collect();
        if citations.is_empty() {
            continue;
        }
        let automaton =
            match aho_corasick::AhoCorasick::new(citations.iter().map(|(_, c)| &c.quote)) {
                Ok(automaton) => automaton,
                Err(e) => {
                    problems.push(Problem::at(
                        Severity::Error,
                        &source.origin,
                        format!("cannot search the quotes of source `{}`: {e}", source.id),
                    ));
                    continue;
                }
            };
        let mut found = vec![false; citations.len()];
        for m in automaton.find_overlapping_iter(&source.text) {
            found[m.pattern().as_usize()] = true;
        }
        for ((fact, citation), found) in citations.iter().zip(found) {
            if !found {
                problems.push(Problem::at(
                    Severity::Error,
                    &citation.origin,
                    format!(
                        "fact `{}`: quote not found verbatim in source `{}`: {:?}{}",
                        fact.id,
                        citation.source,
                        citation.quote,
                        near_miss_hint(&source.text, &citation.quote)
                    ),
                ));
            }
        }
    }
    problems
}

/// Says where a quote stops matching its source, which is what a curator needs to fix it.
fn near_miss_hint(text: &str, quote: &str) -> String {
    let mut longest = 0;
    for (i, _) in quote.char_indices().skip(1) {
        if !text.contains(&quote[..i]) {
            break;
        }
        longest = i;
    }
    if longest == 0 {
        String::new()
    } else {
        let rest: String = quote[longest..].chars().take(20).collect();
        format!(" (matches up to byte {longest}, then differs at {rest:?})")
    }
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A sentence of a source document, by byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub range: Range<usize>,
    pub line: usize,
}

/// Splits a source into sentences: one or more per line, split after `.`, `?` or `!`
/// when a capital letter or a quote follows. Lines of the form `- Heading -` are section
/// headings, not sentences.
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end();
        let is_heading = content.starts_with("- ") && content.ends_with(" -");
        if !content.trim().is_empty() && !is_heading {
            let bytes = content.as_bytes();
            let mut start = 0;
            for j in 0..bytes.len() {
                let ends = matches!(bytes[j], b'.' | b'?' | b'!')
                    && bytes.get(j + 1) == Some(&b' ')
                    && bytes
                        .get(j + 2)
                        .is_some_and(|b| b.is_ascii_uppercase() || *b == b'"');
                if ends {
                    out.push(Sentence {
                        range: offset + start..offset + j + 1,
                        line: i + 1,
                    });
                    start = j + 2;
                }
            }
            if start < content.len() {
                out.push(Sentence {
                    range: offset + start..offset + content.len(),
                    line: i + 1,
                });
            }
        }
        offset += line.len();
    }
    out
}

/// Warns about every source sentence that no fact's quote overlaps.
pub fn coverage(kb: &KnowledgeBase) -> Vec<Problem> {
    let mut problems = Vec::new();
    for source in kb.sources.values() {
        let quoted: Vec<Range<usize>> = kb
            .facts
            .iter()
            .flat_map(|f| &f.citations)
            .filter(|c| c.source == source.id && !c.quote.is_empty())
            .flat_map(|c| {
                source
                    .text
                    .match_indices(c.quote.as_str())
                    .map(|(i, m)| i..i + m.len())
                    .collect::<Vec<_>>()
            })
            .collect();
        for sentence in sentences(&source.text) {
            let cited = quoted
                .iter()
                .any(|q| q.start < sentence.range.end && sentence.range.start < q.end);
            if !cited {
                let text = &source.text[sentence.range.clone()];
                problems.push(Problem::at(
                    Severity::Warning,
                    &Origin::new(&source.origin.file, Some(sentence.line)),
                    format!("no fact cites this sentence: {text:?}"),
                ));
            }
        }
    }
    problems
}

/// Warns about facts whose sources are all older than `stale_after_days` on `today`
/// (by the later of their publication and checked dates), and once about each undated
/// source, whose age cannot be told.
pub fn freshness(
    kb: &KnowledgeBase,
    today: jiff::civil::Date,
    stale_after_days: u32,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for source in kb.sources.values() {
        if source.as_of().is_none() {
            let facts = kb
                .facts
                .iter()
                .filter(|f| f.citations.iter().any(|c| c.source == source.id))
                .count();
            problems.push(Problem::at(
                Severity::Warning,
                &source.origin,
                format!(
                    "source `{}` is undated: the freshness of the {facts} fact(s) citing it cannot be checked (set date or checked in its metadata when known)",
                    source.id
                ),
            ));
        }
    }
    let limit = today.saturating_sub(jiff::Span::new().days(i64::from(stale_after_days)));
    for fact in &kb.facts {
        let newest = fact
            .citations
            .iter()
            .map(|c| kb.source(&c.source).and_then(|s| s.as_of()))
            .collect::<Option<Vec<_>>>()
            .and_then(|dates| dates.into_iter().max());
        if let Some(newest) = newest.filter(|d| *d < limit) {
            problems.push(Problem::at(
                Severity::Warning,
                &fact.origin,
                format!(
                    "fact `{}` rests only on sources last dated {newest}, more than {stale_after_days} days ago: check it still holds",
                    fact.id
                ),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_skips_headings() {
        let text = "First one. Second \"one\" here.\n- Heading -\nThird, on March 23 and 24.\n";
        let got: Vec<&str> = sentences(text)
            .iter()
            .map(|s| &text[s.range.clone()])
            .collect();
        assert_eq!(
            got,
            [
                "First one.",
                "Second \"one\" here.",
                "Third, on March 23 and 24."
            ]
        );
        assert_eq!(sentences(text)[2].line, 3);
    }

    #[test]
    fn kebab_case_ids() {
        for ok in ["grain-deal", "latest-exchange-205", "a"] {
            assert!(is_kebab_case(ok), "{ok}");
        }
        for bad in ["", "Grain", "grain_deal", "-x", "x-", "a--b", "é"] {
            assert!(!is_kebab_case(bad), "{bad}");
        }
    }

    #[test]
    fn hint_points_at_the_first_difference() {
        let hint = near_miss_hint(
            "Russia withdrew in July 2023.",
            "Russia withdrew in June 2023.",
        );
        assert!(
            hint.contains("byte 21, then differs at \"ne 2023.\""),
            "{hint}"
        );
    }
}
