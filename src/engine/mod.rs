//! The answer engine: a question in, a [`Reply`] out.
//!
//! ```text
//! question ─► text (strip chat markup, fold) ─► analyzer (typos, aliases, stems)
//!          ─► intent (what is asked for, who acted) ─► index (candidates, scores)
//!          ─► decide (eligibility, confidence, margin) ─► Reply
//! ```
//!
//! The engine is pure and synchronous: it reads no clock, does no I/O after it is built,
//! and knows nothing of Discord or of any runtime. It is immutable once built and
//! `Send + Sync`, so one engine can serve every thread; a reload builds a new one.

mod analyzer;
mod index;
mod intent;
mod stopwords;
pub mod text;

pub use analyzer::Analyzed;
pub use intent::Intent;

use std::collections::HashMap;

use crate::config::EngineConfig;
use crate::knowledge::{Fact, KnowledgeBase, Problem, Severity};
use analyzer::Analyzer;
use index::{DocTerms, Index, Match};

/// Why parley did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbstainReason {
    /// Nothing to answer: no words at all (empty, only emoji or punctuation).
    Empty,
    /// Longer than a question can reasonably be.
    TooLong,
    /// The documents do not cover the question well enough.
    NotCovered,
    /// Two facts match about equally well; parley cannot tell which is meant.
    Ambiguous,
}

/// A fact parley could answer instead, with the example question that fits best.
#[derive(Debug, Clone)]
pub struct Suggestion<'e> {
    pub fact: &'e Fact,
    pub question: &'e str,
}

/// The engine's reply to a question. "No answer" is a value, not an error.
#[derive(Debug, Clone)]
pub enum Reply<'e> {
    Answer {
        fact: &'e Fact,
        /// Calibrated confidence in [0, 1].
        confidence: f64,
    },
    Abstain {
        reason: AbstainReason,
        /// The confidence of the best candidate, which was too low to answer.
        confidence: f64,
        suggestions: Vec<Suggestion<'e>>,
    },
}

impl<'e> Reply<'e> {
    pub fn fact(&self) -> Option<&'e Fact> {
        match self {
            Reply::Answer { fact, .. } => Some(fact),
            Reply::Abstain { .. } => None,
        }
    }

    pub fn confidence(&self) -> f64 {
        match self {
            Reply::Answer { confidence, .. } | Reply::Abstain { confidence, .. } => *confidence,
        }
    }

    pub fn suggestions(&self) -> &[Suggestion<'e>] {
        match self {
            Reply::Answer { .. } => &[],
            Reply::Abstain { suggestions, .. } => suggestions,
        }
    }
}

/// One fact considered for a question, with everything that went into its confidence.
#[derive(Debug, Clone)]
pub struct Candidate<'e> {
    pub fact: &'e Fact,
    pub coverage: f64,
    pub similarity: f64,
    pub score: f64,
    /// The fact supplies what the question asks for (a date for "when", ...).
    pub supplies_wanted: bool,
    /// The fact is about what the question's subject did.
    pub subjects_match: bool,
    pub best_question: &'e str,
}

impl Candidate<'_> {
    pub fn eligible(&self) -> bool {
        self.supplies_wanted && self.subjects_match
    }
}

/// Everything the engine worked out for a question: for `parley ask --explain` and tests.
#[derive(Debug, Clone)]
pub struct Explanation<'e> {
    pub analyzed: Analyzed,
    pub intent: Intent,
    /// Terms the knowledge base does not have at all.
    pub unknown_terms: Vec<String>,
    pub candidates: Vec<Candidate<'e>>,
    pub reply: Reply<'e>,
}

/// The answer engine over one knowledge base.
#[derive(Debug)]
pub struct Engine {
    kb: KnowledgeBase,
    config: EngineConfig,
    analyzer: Analyzer,
    index: Index,
    /// Index document number -> position in `kb.facts`; documents are in fact-id order
    /// so that ties between equal scores go to the smaller id.
    doc_fact: Vec<usize>,
    /// Canonical word -> entity name.
    entities: HashMap<String, String>,
}

/// How steeply confidence rises with the match score, and the score at which it is
/// one half. Chosen on the development question set so that confidence tracks the
/// share of right answers (`parley eval` prints the calibration table).
const CONFIDENCE_SLOPE: f64 = 14.0;
const CONFIDENCE_MIDPOINT: f64 = 0.55;

/// How much a better-matching fact that does not supply what is asked (the "when did
/// Qatar start mediating" case: the Qatar fact has no date) counts against the best fact
/// that does. At 1.0, every point it leads by is a point off the eligible fact's score.
const SHADOW_PENALTY: f64 = 1.0;

impl Engine {
    /// Builds the index. The knowledge base must already be checked (see
    /// [`KnowledgeBase::load`]).
    pub fn new(kb: KnowledgeBase, config: EngineConfig) -> Engine {
        let analyzer = Analyzer::new(
            &kb.lexicon,
            kb.facts.iter().flat_map(|f| {
                f.questions
                    .iter()
                    .map(String::as_str)
                    .chain([f.answer.as_str(), f.topic.as_str()])
                    .chain(f.citations.iter().map(|c| c.quote.as_str()))
            }),
        );
        let mut doc_fact: Vec<usize> = (0..kb.facts.len()).collect();
        doc_fact.sort_by(|&a, &b| kb.facts[a].id.cmp(&kb.facts[b].id));
        let index = Index::build(doc_fact.iter().map(|&i| {
            let fact = &kb.facts[i];
            let mut content = analyzer.analyze_text(&fact.answer).terms;
            content.extend(analyzer.analyze_text(&fact.topic.replace('-', " ")).terms);
            for c in &fact.citations {
                content.extend(analyzer.analyze_text(&c.quote).terms);
            }
            DocTerms {
                questions: fact
                    .questions
                    .iter()
                    .map(|q| analyzer.analyze_text(q).terms)
                    .collect(),
                content,
            }
        }));
        let mut entities = HashMap::new();
        for entity in &kb.lexicon.entities {
            for word in &entity.words {
                for w in text::tokenize(word) {
                    entities.insert(w, entity.name.clone());
                }
            }
        }
        Engine {
            kb,
            config,
            analyzer,
            index,
            doc_fact,
            entities,
        }
    }

    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.kb
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Answers a question, or abstains.
    pub fn ask(&self, question: &str) -> Reply<'_> {
        self.explain(question).reply
    }

    /// Answers a question and shows the work.
    pub fn explain(&self, question: &str) -> Explanation<'_> {
        let empty = |reason| Explanation {
            analyzed: Analyzed::default(),
            intent: Intent::default(),
            unknown_terms: Vec::new(),
            candidates: Vec::new(),
            reply: Reply::Abstain {
                reason,
                confidence: 0.0,
                suggestions: Vec::new(),
            },
        };
        if question.chars().count() > self.config.max_question_chars {
            return empty(AbstainReason::TooLong);
        }
        let analyzed = self.analyzer.analyze_question(question);
        if analyzed.words.is_empty() {
            return empty(AbstainReason::Empty);
        }
        let intent = intent::read(&analyzed.words, |w| self.entities.get(w).cloned());
        let query = self.index.query(&analyzed.terms);
        let unknown_terms = query
            .iter()
            .filter(|q| q.id.is_none())
            .map(|q| q.text.clone())
            .collect();
        let candidates: Vec<Candidate<'_>> = self
            .index
            .search(&query)
            .into_iter()
            .map(|m| self.candidate(&m, &intent))
            .collect();
        let reply = self.decide(&candidates);
        Explanation {
            analyzed,
            intent,
            unknown_terms,
            candidates,
            reply,
        }
    }

    fn candidate(&self, m: &Match, intent: &Intent) -> Candidate<'_> {
        let fact = &self.kb.facts[self.doc_fact[m.doc]];
        Candidate {
            fact,
            coverage: m.coverage as f64,
            similarity: m.similarity as f64,
            score: m.score() as f64,
            supplies_wanted: intent.accepts(&fact.supplies),
            subjects_match: intent.subjects_match(&fact.actors),
            best_question: &fact.questions[m.best_question],
        }
    }

    fn decide<'e>(&'e self, candidates: &[Candidate<'e>]) -> Reply<'e> {
        let best_any = candidates.first().map_or(0.0, |c| c.score);
        let mut eligible = candidates.iter().filter(|c| c.eligible());
        let (best, runner_up) = (eligible.next(), eligible.next());
        let Some(best) = best else {
            return self.abstain(
                AbstainReason::NotCovered,
                confidence(best_any) * 0.5,
                None,
                candidates,
            );
        };
        let shadow = (best_any - best.score).max(0.0) * SHADOW_PENALTY;
        let confidence = confidence(best.score - shadow);
        if confidence < self.config.answer_threshold {
            return self.abstain(AbstainReason::NotCovered, confidence, None, candidates);
        }
        if let Some(second) = runner_up
            && best.score - second.score < self.config.ambiguity_margin
        {
            return self.abstain(AbstainReason::Ambiguous, confidence, None, candidates);
        }
        Reply::Answer {
            fact: best.fact,
            confidence,
        }
    }

    fn abstain<'e>(
        &'e self,
        reason: AbstainReason,
        confidence: f64,
        answered: Option<&Fact>,
        candidates: &[Candidate<'e>],
    ) -> Reply<'e> {
        let suggestions = candidates
            .iter()
            .filter(|c| c.score >= self.config.suggestion_floor)
            .filter(|c| answered.is_none_or(|a| a.id != c.fact.id))
            .take(self.config.max_suggestions)
            .map(|c| Suggestion {
                fact: c.fact,
                question: c.best_question,
            })
            .collect();
        Reply::Abstain {
            reason,
            confidence,
            suggestions,
        }
    }

    /// Looks a fact up by id.
    pub fn fact(&self, id: &str) -> Option<&Fact> {
        self.kb.fact(id)
    }

    /// A fact chosen by `seed` (the caller supplies the randomness).
    pub fn fact_by_seed(&self, seed: u64) -> Option<&Fact> {
        if self.kb.facts.is_empty() {
            return None;
        }
        let i = (seed % self.kb.facts.len() as u64) as usize;
        Some(&self.kb.facts[self.doc_fact[i]])
    }

    /// Every example question that the engine answers with another fact, or does not
    /// answer at all: each is a problem of the knowledge base (a *collision*), because the
    /// question a curator wrote for a fact should find that fact.
    pub fn collisions(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for fact in &self.kb.facts {
            for question in &fact.questions {
                let problem = match self.ask(question) {
                    Reply::Answer { fact: other, .. } if other.id == fact.id => continue,
                    Reply::Answer { fact: other, .. } => {
                        format!(
                            "example question {question:?} of `{}` is answered by `{}`",
                            fact.id, other.id
                        )
                    }
                    Reply::Abstain { reason, .. } => format!(
                        "example question {question:?} of `{}` is not answered ({})",
                        fact.id,
                        match reason {
                            AbstainReason::Ambiguous => "too close to another fact",
                            _ => "too little confidence",
                        }
                    ),
                };
                problems.push(Problem::at(Severity::Error, &fact.origin, problem));
            }
        }
        problems
    }
}

/// Maps a match score to a confidence in [0, 1] (a logistic curve).
fn confidence(score: f64) -> f64 {
    1.0 / (1.0 + (-CONFIDENCE_SLOPE * (score - CONFIDENCE_MIDPOINT)).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_and_sync() {
        assert_send_sync::<Engine>();
    }

    #[test]
    fn confidence_is_monotonic_and_bounded() {
        let mut last = 0.0;
        for i in 0..=100 {
            let c = confidence(i as f64 / 100.0);
            assert!((0.0..=1.0).contains(&c));
            assert!(c >= last);
            last = c;
        }
    }
}
