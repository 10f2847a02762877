//! `parley report`: what the curation log says, for the people who keep the knowledge
//! base. Pure: the log entries and the engine come in, a [`Report`] goes out.
//!
//! Unanswered questions are grouped when they are near-duplicates: the same terms
//! after the engine's analysis (stopwords dropped, words stemmed, typos of known words
//! corrected), with typos of words the knowledge base does not know folded into their
//! most frequent spelling in the log. "wh0 mediated teh grain deal" and "who mediated
//! the grain deal?" are one group; "sanctoins on oil" and "sanctions on oil" too.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::Engine;
use crate::store::{LoggedAnswer, LoggedQuestion};

/// At most this many example questions per group or fact.
const EXAMPLES: usize = 3;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// The start of the period, RFC 3339, or null for everything logged.
    pub since: Option<String>,
    pub unanswered: Vec<Group>,
    /// Facts with at least one 👎, most 👎 first.
    pub disliked: Vec<FactVotes>,
    /// Every fact answered in the period, most answered first.
    pub answers: Vec<FactCount>,
}

/// Near-duplicate unanswered questions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// How many times it was asked.
    pub count: usize,
    /// The terms the group shares (after folding).
    pub terms: Vec<String>,
    /// The most frequent wordings, most frequent first.
    pub examples: Vec<String>,
    /// How many of them were answered, with low confidence, rather than not at all.
    pub low_confidence: usize,
    /// The fact that came closest most often when they were asked.
    pub closest_fact: Option<String>,
    /// The fact the knowledge base answers the first example with now, if any: a
    /// group that is answered now may already be fixed.
    pub answered_now: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FactVotes {
    pub fact: String,
    pub unhelpful: u32,
    pub helpful: u32,
    pub answers: usize,
    /// Questions whose answer got a 👎, most 👎 first.
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FactCount {
    pub fact: String,
    pub answers: usize,
    pub helpful: u32,
    pub unhelpful: u32,
}

/// Builds the report. `since` is only echoed back (the caller has already chosen the
/// entries).
pub fn build(
    engine: &Engine,
    since: Option<String>,
    questions: &[LoggedQuestion],
    answers: &[LoggedAnswer],
) -> Report {
    Report {
        since,
        unanswered: group(engine, questions),
        disliked: disliked(answers),
        answers: answer_counts(answers),
    }
}

/// The question's terms as the engine reads them, and those it does not know.
fn analyse(engine: &Engine, question: &str) -> (Vec<String>, Vec<String>) {
    let e = engine.explain(question);
    (e.analyzed.terms, e.unknown_terms)
}

/// Whether two spellings of an unknown word are close enough to be one word mistyped:
/// one edit in words of 4 to 7 letters, two from 8 (counting the longer: the words
/// are stems, and a misspelt word often keeps a suffix its stem loses).
fn same_word(a: &str, b: &str) -> bool {
    let len = a.chars().count().max(b.chars().count());
    let allowed = match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::osa_distance(a, b) <= allowed
}

/// Groups near-duplicate questions, most asked first.
pub fn group(engine: &Engine, questions: &[LoggedQuestion]) -> Vec<Group> {
    let analysed: Vec<(Vec<String>, Vec<String>)> = questions
        .iter()
        .map(|q| analyse(engine, &q.question))
        .collect();
    // Unknown words, most frequent first (then alphabetically, for a stable result);
    // each is folded into the first more frequent one it is a typo of.
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for (_, unknown) in &analysed {
        for term in unknown {
            *frequency.entry(term).or_default() += 1;
        }
    }
    let mut by_frequency: Vec<(&str, usize)> = frequency.into_iter().collect();
    by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut canonical: HashMap<&str, &str> = HashMap::new();
    let mut heads: Vec<&str> = Vec::new();
    for (term, _) in &by_frequency {
        let head = heads
            .iter()
            .find(|h| same_word(h, term))
            .copied()
            .unwrap_or_else(|| {
                heads.push(term);
                term
            });
        canonical.insert(term, head);
    }

    struct Building<'a> {
        terms: Vec<String>,
        count: usize,
        wordings: BTreeMap<&'a str, usize>,
        low_confidence: usize,
        closest: BTreeMap<&'a str, usize>,
        first_seen: usize,
    }
    let mut groups: HashMap<Vec<String>, Building<'_>> = HashMap::new();
    for (i, (q, (terms, _))) in questions.iter().zip(&analysed).enumerate() {
        let mut key: Vec<String> = terms
            .iter()
            .map(|t| {
                canonical
                    .get(t.as_str())
                    .map_or(t.as_str(), |c| c)
                    .to_string()
            })
            .collect();
        key.sort_unstable();
        key.dedup();
        if key.is_empty() {
            // No content word at all: only the same wording is the same question.
            key.push(q.question.clone());
        }
        let g = groups.entry(key.clone()).or_insert_with(|| Building {
            terms: key,
            count: 0,
            wordings: BTreeMap::new(),
            low_confidence: 0,
            closest: BTreeMap::new(),
            first_seen: i,
        });
        g.count += 1;
        *g.wordings.entry(&q.question).or_default() += 1;
        g.low_confidence += usize::from(q.answered.is_some());
        if let Some(first) = q.closest.first() {
            *g.closest.entry(first).or_default() += 1;
        }
    }
    let mut built: Vec<Building<'_>> = groups.into_values().collect();
    built.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_seen.cmp(&b.first_seen)));
    built
        .into_iter()
        .map(|g| {
            let examples = most_frequent(&g.wordings, EXAMPLES);
            let now = examples.first().map(|q| engine.explain(q));
            let answered_now = now
                .as_ref()
                .and_then(|e| e.reply.fact())
                .map(|f| f.id.to_string());
            // The log's closest fact; for entries logged without one, today's.
            let closest_fact = most_frequent(&g.closest, 1).into_iter().next().or_else(|| {
                now.as_ref()
                    .and_then(|e| e.candidates.first())
                    .map(|c| c.fact.id.to_string())
            });
            Group {
                count: g.count,
                terms: g.terms,
                examples,
                low_confidence: g.low_confidence,
                closest_fact,
                answered_now,
            }
        })
        .collect()
}

/// The `n` most frequent keys, most frequent first (ties in key order).
fn most_frequent(counts: &BTreeMap<&str, usize>, n: usize) -> Vec<String> {
    let mut sorted: Vec<(&str, usize)> = counts.iter().map(|(k, v)| (*k, *v)).collect();
    sorted.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    sorted
        .into_iter()
        .take(n)
        .map(|(k, _)| k.to_string())
        .collect()
}

fn disliked(answers: &[LoggedAnswer]) -> Vec<FactVotes> {
    let mut by_fact: BTreeMap<&str, FactVotes> = BTreeMap::new();
    let mut questions: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for a in answers {
        let v = by_fact.entry(&a.fact).or_insert_with(|| FactVotes {
            fact: a.fact.clone(),
            unhelpful: 0,
            helpful: 0,
            answers: 0,
            questions: Vec::new(),
        });
        v.answers += 1;
        v.helpful += a.helpful;
        v.unhelpful += a.unhelpful;
        if a.unhelpful > 0 {
            *questions
                .entry(&a.fact)
                .or_default()
                .entry(&a.question)
                .or_default() += a.unhelpful as usize;
        }
    }
    let mut list: Vec<FactVotes> = by_fact
        .into_values()
        .filter(|v| v.unhelpful > 0)
        .map(|mut v| {
            v.questions = questions
                .get(v.fact.as_str())
                .map(|q| most_frequent(q, EXAMPLES))
                .unwrap_or_default();
            v
        })
        .collect();
    list.sort_by(|a, b| {
        b.unhelpful
            .cmp(&a.unhelpful)
            .then(a.helpful.cmp(&b.helpful))
            .then(a.fact.cmp(&b.fact))
    });
    list
}

fn answer_counts(answers: &[LoggedAnswer]) -> Vec<FactCount> {
    let mut by_fact: BTreeMap<&str, FactCount> = BTreeMap::new();
    for a in answers {
        let c = by_fact.entry(&a.fact).or_insert_with(|| FactCount {
            fact: a.fact.clone(),
            answers: 0,
            helpful: 0,
            unhelpful: 0,
        });
        c.answers += 1;
        c.helpful += a.helpful;
        c.unhelpful += a.unhelpful;
    }
    let mut list: Vec<FactCount> = by_fact.into_values().collect();
    list.sort_by(|a, b| b.answers.cmp(&a.answers).then(a.fact.cmp(&b.fact)));
    list
}

/// Shortens `text` to `max` characters, marking the cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Report {
    /// The report as tables for a terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let period = match &self.since {
            Some(since) => format!("since {since}"),
            None => "everything in the log".to_string(),
        };
        let asked: usize = self.unanswered.iter().map(|g| g.count).sum();
        let _ = writeln!(
            out,
            "Unanswered questions, {period}: {asked} asked, {} distinct",
            self.unanswered.len()
        );
        if self.unanswered.is_empty() {
            let _ = writeln!(out, "  (none)");
        } else {
            let _ = writeln!(
                out,
                "  {:>5}  {:<60}  {:<28}  NOTE",
                "COUNT", "QUESTION", "CLOSEST FACT"
            );
            for g in &self.unanswered {
                let note = match (&g.answered_now, g.low_confidence) {
                    (Some(f), _) => format!("answered now: {f}"),
                    (None, n) if n > 0 => format!("{n} answered with low confidence"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  {:>5}  {:<60}  {:<28}  {note}",
                    g.count,
                    clip(g.examples.first().map_or("", String::as_str), 60),
                    clip(g.closest_fact.as_deref().unwrap_or("-"), 28),
                );
                for other in g.examples.iter().skip(1) {
                    let _ = writeln!(out, "  {:>5}  also: {}", "", clip(other, 54));
                }
            }
        }
        let _ = writeln!(out, "\nFacts voted 👎, {period}");
        if self.disliked.is_empty() {
            let _ = writeln!(out, "  (none)");
        } else {
            let _ = writeln!(
                out,
                "  {:>4}  {:>4}  {:>7}  FACT / QUESTIONS VOTED DOWN",
                "DOWN", "UP", "ANSWERS"
            );
            for v in &self.disliked {
                let _ = writeln!(
                    out,
                    "  {:>4}  {:>4}  {:>7}  {}",
                    v.unhelpful, v.helpful, v.answers, v.fact
                );
                for q in &v.questions {
                    let _ = writeln!(out, "  {:>4}  {:>4}  {:>7}    {}", "", "", "", clip(q, 70));
                }
            }
        }
        let total: usize = self.answers.iter().map(|c| c.answers).sum();
        let _ = writeln!(out, "\nAnswers per fact, {period}: {total} in all");
        if self.answers.is_empty() {
            let _ = writeln!(out, "  (none)");
        } else {
            let _ = writeln!(out, "  {:>7}  {:>4}  {:>4}  FACT", "ANSWERS", "UP", "DOWN");
            for c in &self.answers {
                let _ = writeln!(
                    out,
                    "  {:>7}  {:>4}  {:>4}  {}",
                    c.answers, c.helpful, c.unhelpful, c.fact
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jiff::Timestamp;

    use super::*;
    use crate::KnowledgeBase;
    use crate::config::EngineConfig;

    fn engine() -> Engine {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Engine::new(KnowledgeBase::load(&dir).unwrap(), EngineConfig::default())
    }

    /// A question as the bot logs it.
    fn asked(question: &str) -> LoggedQuestion {
        LoggedQuestion {
            question: crate::discord::curation::normalise(question),
            guild: Some(1),
            asked_at: Timestamp::UNIX_EPOCH,
            closest: vec!["grain-deal-signed".into()],
            confidence: 0.2,
            answered: None,
        }
    }

    fn answer(fact: &str, question: &str, helpful: u32, unhelpful: u32) -> LoggedAnswer {
        LoggedAnswer {
            id: 1,
            fact: fact.into(),
            question: question.into(),
            guild: None,
            confidence: 0.9,
            answered_at: Timestamp::UNIX_EPOCH,
            helpful,
            unhelpful,
        }
    }

    #[test]
    fn near_duplicates_are_one_group_with_typos_folded() {
        let engine = engine();
        let log: Vec<LoggedQuestion> = [
            "did the eu put sanctions on russian oil",
            "did the EU put sanctoins on russian oil??",
            "Did the eu put sanctions on Russian oil",
            "who won the eurovision song contest",
            "did the eu put sanctions on russian gas",
            "who won the eurovison song contest",
        ]
        .into_iter()
        .map(asked)
        .collect();
        let groups = group(&engine, &log);
        let counts: Vec<usize> = groups.iter().map(|g| g.count).collect();
        assert_eq!(counts, [3, 2, 1], "{groups:#?}");
        assert_eq!(
            groups[0].examples[0],
            "did the eu put sanctions on russian oil"
        );
        assert_eq!(groups[0].examples.len(), 2, "two distinct wordings");
        assert_eq!(groups[0].closest_fact.as_deref(), Some("grain-deal-signed"));
        assert!(groups[1].examples[0].contains("eurovision"));
        assert!(groups[2].examples[0].ends_with("gas"));
    }

    #[test]
    fn short_unknown_words_are_not_folded() {
        assert!(!same_word("oil", "oik"));
        assert!(same_word("eurovis", "eurovison"));
        assert!(same_word("sanctions", "sanctoins"));
        assert!(same_word("tanker", "tankers"));
        assert!(!same_word("tanker", "banker!!"));
    }

    #[test]
    fn questions_without_content_words_group_only_by_wording() {
        let engine = engine();
        let groups = group(&engine, &[asked("what is it"), asked("who is he")]);
        assert_eq!(groups.len(), 2);
    }

    #[test]
    fn a_group_answered_now_says_so() {
        let engine = engine();
        let groups = group(&engine, &[asked("when was the grain deal signed")]);
        assert!(groups[0].answered_now.is_some());
    }

    #[test]
    fn facts_are_ranked_by_down_votes_with_their_questions() {
        let answers = [
            answer("fact-a", "q1", 1, 0),
            answer("fact-b", "q2", 0, 2),
            answer("fact-b", "q3", 1, 1),
            answer("fact-c", "q4", 0, 1),
            answer("fact-a", "q5", 0, 0),
        ];
        let report = build(&engine(), None, &[], &answers);
        let disliked: Vec<(&str, u32, usize)> = report
            .disliked
            .iter()
            .map(|v| (v.fact.as_str(), v.unhelpful, v.answers))
            .collect();
        assert_eq!(disliked, [("fact-b", 3, 2), ("fact-c", 1, 1)]);
        assert_eq!(report.disliked[0].questions, ["q2", "q3"]);
        let counts: Vec<(&str, usize)> = report
            .answers
            .iter()
            .map(|c| (c.fact.as_str(), c.answers))
            .collect();
        assert_eq!(counts, [("fact-a", 2), ("fact-b", 2), ("fact-c", 1)]);
        let text = report.render();
        assert!(
            text.contains("Answers per fact, everything in the log: 5 in all"),
            "{text}"
        );
    }
}
