//! Replies, facts and timelines as text for a terminal and as JSON for tools. Pure: the
//! command line prints what these return.
//!
//! The JSON shape of a reply is a contract other tools depend on: `question`, `answered`,
//! `answer`, `confidence`, `fact_id`, `citations` (`source`, `title`, `quote`, `as_of`:
//! the source's date as `YYYY-MM-DD`, or null when undated) and `suggestions`, and
//! nothing else.

use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::{AbstainReason, Reply};
use crate::knowledge::{Fact, KnowledgeBase};

#[derive(Debug, Serialize)]
pub struct CitationJson<'a> {
    pub source: &'a str,
    pub title: &'a str,
    pub quote: &'a str,
    pub as_of: Option<String>,
    #[serde(skip)]
    pub freshness: String,
}

#[derive(Debug, Serialize)]
pub struct ReplyJson<'a> {
    pub question: &'a str,
    pub answered: bool,
    pub answer: Option<&'a str>,
    pub confidence: f64,
    pub fact_id: Option<&'a str>,
    pub citations: Vec<CitationJson<'a>>,
    pub suggestions: Vec<&'a str>,
}

pub fn citations<'a>(kb: &'a KnowledgeBase, fact: &'a Fact) -> Vec<CitationJson<'a>> {
    fact.citations
        .iter()
        .map(|c| {
            let source = kb.source(&c.source);
            CitationJson {
                source: &c.source,
                title: source.map_or("", |s| s.title.as_str()),
                quote: &c.quote,
                as_of: source.and_then(|s| s.as_of()).map(|d| d.to_string()),
                freshness: source.map_or_else(|| "undated source".into(), |s| s.freshness()),
            }
        })
        .collect()
}

/// Rounds a confidence for display and JSON, so that output is stable to read and diff.
fn round(confidence: f64) -> f64 {
    (confidence * 1000.0).round() / 1000.0
}

pub fn reply_json<'a>(
    kb: &'a KnowledgeBase,
    question: &'a str,
    reply: &Reply<'a>,
) -> ReplyJson<'a> {
    ReplyJson {
        question,
        answered: reply.fact().is_some(),
        answer: reply.fact().map(|f| f.answer.as_str()),
        confidence: round(reply.confidence()),
        fact_id: reply.fact().map(|f| f.id.as_str()),
        citations: reply.fact().map(|f| citations(kb, f)).unwrap_or_default(),
        suggestions: reply.suggestions().iter().map(|s| s.question).collect(),
    }
}

/// A fact's citations as quote blocks, each with its source's title.
fn write_citations(out: &mut String, kb: &KnowledgeBase, fact: &Fact) {
    for c in citations(kb, fact) {
        let _ = writeln!(out, "  > {}", c.quote);
        let _ = writeln!(out, "  — {} ({})", c.title, c.freshness);
    }
}

/// A fact for a person: the answer, its date, its citations.
pub fn fact_text(kb: &KnowledgeBase, fact: &Fact) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", fact.answer);
    let _ = writeln!(out);
    write_citations(&mut out, kb, fact);
    let _ = writeln!(out);
    let mut footer = format!("fact: {} · topic: {}", fact.id, fact.topic);
    if let Some(date) = fact.date_label() {
        let _ = write!(footer, " · date: {date}");
    }
    let _ = writeln!(out, "{footer}");
    out
}

/// A reply for a person.
pub fn reply_text(kb: &KnowledgeBase, reply: &Reply<'_>, max_chars: usize) -> String {
    match reply {
        Reply::Answer { fact, confidence } => {
            let mut out = fact_text(kb, fact);
            out.pop();
            let _ = writeln!(out, " · confidence: {:.2}", round(*confidence));
            out
        }
        Reply::Abstain {
            reason,
            suggestions,
            ..
        } => {
            let mut out = match reason {
                AbstainReason::Empty => {
                    "That question has no words in it. Ask about the Russia–Ukraine talks, for example: \"When was the grain deal signed?\""
                        .to_string()
                }
                AbstainReason::TooLong => format!(
                    "That question is too long: ask it in at most {max_chars} characters."
                ),
                AbstainReason::NotCovered => {
                    "The documents I answer from do not cover that.".to_string()
                }
                AbstainReason::Ambiguous => {
                    "I am not sure which of these you mean, so I will not guess.".to_string()
                }
            };
            out.push('\n');
            if !suggestions.is_empty() {
                let _ = writeln!(out, "\nQuestions I can answer that come close:");
                for s in suggestions {
                    let _ = writeln!(out, "  - {}", s.question);
                }
            } else if matches!(reason, AbstainReason::NotCovered) {
                let topics = kb.topics().join(", ");
                let _ = writeln!(out, "\nI can answer questions on: {topics}.");
            }
            out
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TimelineEntryJson<'a> {
    pub date: String,
    pub date_text: Option<String>,
    pub fact_id: &'a str,
    pub topic: &'a str,
    pub answer: &'a str,
    pub citations: Vec<CitationJson<'a>>,
}

pub fn timeline_json<'a>(kb: &'a KnowledgeBase, facts: &[&'a Fact]) -> Vec<TimelineEntryJson<'a>> {
    facts
        .iter()
        .map(|f| TimelineEntryJson {
            date: f.date.map(|d| d.to_string()).unwrap_or_default(),
            date_text: f.date_label(),
            fact_id: f.id.as_str(),
            topic: &f.topic,
            answer: &f.answer,
            citations: citations(kb, f),
        })
        .collect()
}

pub fn timeline_text(kb: &KnowledgeBase, facts: &[&Fact]) -> String {
    let mut out = String::new();
    if facts.is_empty() {
        let _ = writeln!(out, "No dated facts match.");
        return out;
    }
    for f in facts {
        let _ = writeln!(out, "{}  {}", f.date_label().unwrap_or_default(), f.answer);
        write_citations(&mut out, kb, f);
        let _ = writeln!(out, "  [{}]", f.id);
        let _ = writeln!(out);
    }
    out.pop();
    out
}
