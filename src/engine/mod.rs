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
//!
//! Its hash maps use FxHash, which is several times faster than the standard library's
//! SipHash on short keys such as words, and the same on every run. Their keys are the
//! knowledge base's own words and numbers (a question's words are only looked up), so
//! SipHash's defence against inputs crafted to collide is not needed.

mod analyzer;
mod index;
mod intent;
mod stopwords;
pub mod text;

pub use analyzer::Analyzed;
pub use intent::{Intent, Precision};

use std::sync::LazyLock;

use regex::Regex;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::EngineConfig;
use crate::knowledge::{Fact, KnowledgeBase, Problem, Severity, Supply};
use analyzer::{Analyzer, AnalyzerBuilder};
use index::{DocTerms, Index, Match, QueryTerm};

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
    /// The fact names every person, place, body and number the question names.
    pub names_match: bool,
    /// The fact does not contradict what the question presupposes.
    pub premise_holds: bool,
    /// The fact is as precise as the question insists ("what exact day").
    pub precise_enough: bool,
    /// The fact is about what the question names only to set the time ("after Russia
    /// withdrew"): the question is not about it, so it casts no shadow.
    pub background: bool,
    pub best_question: &'e str,
}

impl Candidate<'_> {
    pub fn eligible(&self) -> bool {
        self.supplies_wanted
            && self.subjects_match
            && self.names_match
            && self.premise_holds
            && self.precise_enough
    }

    /// Why the candidate cannot answer, if it cannot.
    pub fn ineligible_because(&self) -> Option<&'static str> {
        if !self.supplies_wanted {
            Some("does not supply what is asked")
        } else if !self.subjects_match {
            Some("about another actor")
        } else if !self.names_match {
            Some("does not name what the question names")
        } else if !self.premise_holds {
            Some("contradicts the question's premise")
        } else if !self.precise_enough {
            Some("not as precise as asked")
        } else {
            None
        }
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
    /// Canonical word -> entity name, for reading a question's subjects.
    entities: FxHashMap<String, String>,
    names: Names,
    /// Document -> the entities its fact mentions or that act in it.
    doc_entities: Vec<Vec<String>>,
    /// Document -> the terms its fact states only as negated ("would *not join*").
    doc_negated: Vec<FxHashSet<String>>,
    /// Document -> how precise its fact is.
    doc_precision: Vec<Precise>,
}

/// The precisions a fact can answer with (see [`intent::Precision`]).
#[derive(Debug, Clone, Copy, Default)]
struct Precise {
    day: bool,
    hour: bool,
    count: bool,
}

impl Precise {
    fn of(fact: &Fact) -> Precise {
        static WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b").expect("valid regex")
        });
        static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)\b\d{1,2}(?::\d{2}|\s*[ap]\.?m\b)|o'clock").expect("valid regex")
        });
        static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?i)(?:\b(nearly|about|around|roughly|almost|some|over|more than|up to|at least|approximately)\s+)?\b(\d[\d,]*)\b")
                .expect("valid regex")
        });
        let texts: Vec<&str> = std::iter::once(fact.answer.as_str())
            .chain(fact.citations.iter().map(|c| c.quote.as_str()))
            .collect();
        let any = |re: &Regex| texts.iter().any(|t| re.is_match(t));
        let has_digit = texts.iter().any(|t| t.bytes().any(|b| b.is_ascii_digit()));
        let count = has_digit
            && texts.iter().any(|t| {
                NUMBER.captures_iter(t).any(|c| {
                    let number = c[2].replace(',', "");
                    c.get(1).is_none() && is_count(&number)
                })
            });
        Precise {
            day: fact.date.is_some_and(|d| d.day.is_some()) || any(&WEEKDAY),
            hour: (has_digit || texts.iter().any(|t| t.contains("clock"))) && any(&CLOCK),
            count,
        }
    }

    fn meets(self, precision: Option<Precision>) -> bool {
        match precision {
            None => true,
            Some(Precision::Day) => self.day,
            Some(Precision::Hour) => self.hour,
            Some(Precision::Count) => self.count,
        }
    }
}

/// The terms that name something, which a fact must share with a question to answer it.
#[derive(Debug, Default)]
struct Names {
    /// Stems of the words for a side -> the side.
    sides: FxHashMap<String, String>,
    /// Stems of people's names -> their side.
    people: FxHashMap<String, String>,
    /// Stems of the knowledge base's proper nouns: places, bodies, months.
    proper: FxHashSet<String>,
    /// Stems of contradicting word groups.
    contrasts: Vec<(Vec<String>, Vec<String>)>,
    /// Stems a presupposing question must share with the fact that answers it.
    presupposed: FxHashSet<String>,
    /// Stems of the months' names.
    months: FxHashSet<String>,
}

impl Names {
    fn is_named(&self, term: &str) -> bool {
        self.sides.contains_key(term)
            || self.people.contains_key(term)
            || self.proper.contains(term)
            || is_count(term)
    }
}

/// A number that is not a year: "205", "60". A question that names one is about that
/// number, and a fact without it does not answer it ("the 60-day truce"). Years are too
/// often added as context ("in Istanbul in 2022") to be held to that.
fn is_count(term: &str) -> bool {
    term.bytes().all(|b| b.is_ascii_digit())
        && !(term.len() == 4 && (b"19".contains(&term.as_bytes()[0]) || term.starts_with("20")))
}

/// Titles that are capitalised before names but name no one by themselves, and the
/// generic heads of names ("Black *Sea*", "White *House*") that questions use as
/// ordinary words ("another way to export by sea").
const TITLES: &[&str] = &["President", "Ukrainian", "Russian", "US", "Sea", "House"];

/// The capitalised words of `texts` that never appear in lower case in them and do not
/// start a sentence: the proper nouns.
fn proper_nouns<'a>(texts: impl IntoIterator<Item = &'a str> + Clone) -> Vec<String> {
    let mut capital: Vec<String> = Vec::new();
    for_each_word(texts.clone(), |word, first_upper, sentence_start| {
        if first_upper && !sentence_start && !TITLES.contains(&word) {
            capital.push(word.to_owned());
        }
    });
    if capital.is_empty() {
        return capital;
    }
    // The texts are read again for the few capitalised words only, rather than keeping
    // every word seen in lower case: the lower-case forms not yet seen in lower case.
    let mut unseen: FxHashSet<String> = capital.iter().map(|w| w.to_lowercase()).collect();
    for_each_word(texts, |word, first_upper, _| {
        if !first_upper && !unseen.is_empty() {
            unseen.remove(&word.to_lowercase());
        }
    });
    capital.retain(|w| unseen.contains(&w.to_lowercase()));
    capital.sort();
    capital.dedup();
    capital
}

/// Calls `visit` with each word of `texts` (its letters and digits), whether it starts
/// with a capital, and whether it starts a sentence.
fn for_each_word<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    mut visit: impl FnMut(&str, bool, bool),
) {
    let mut word = String::new();
    for text in texts {
        let mut sentence_start = true;
        for raw in text.split_whitespace() {
            word.clear();
            word.extend(raw.chars().filter(|c| c.is_alphanumeric()));
            if let Some(first) = word.chars().next() {
                visit(&word, first.is_uppercase(), sentence_start);
            }
            sentence_start = raw.ends_with(['.', '?', '!', ':', ';']) || raw.starts_with('-');
        }
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

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
        let mut doc_fact: Vec<usize> = (0..kb.facts.len()).collect();
        doc_fact.sort_by(|&a, &b| kb.facts[a].id.cmp(&kb.facts[b].id));
        let mut builder = AnalyzerBuilder::new(&kb.lexicon);
        // A place stands for the side it is in: a fact about Istanbul is about Turkey
        // too ("What did Ukraine want at the talks in Turkey?").
        let place_of: Vec<(String, String)> = kb
            .lexicon
            .entities
            .iter()
            .flat_map(|e| {
                e.places.iter().flat_map(move |p| {
                    text::tokenize(p).into_iter().flat_map(move |w| {
                        e.words.iter().map(move |side| (w.clone(), side.clone()))
                    })
                })
            })
            .collect();
        let docs: Vec<DocTerms> = doc_fact
            .iter()
            .map(|&i| {
                let fact = &kb.facts[i];
                let questions = fact.questions.iter().map(|q| builder.learn(q)).collect();
                let mut content = builder.learn(&fact.answer);
                builder.add_to_vocabulary(&fact.topic);
                content.extend(builder.terms(&fact.topic.replace('-', " ")));
                if let Some(date) = fact.date {
                    // "What happened in July 2022?" should find the facts of that month.
                    content.push(builder.term(&date.year.to_string()));
                    if let Some(m) = date.month {
                        content.push(builder.word_term(MONTHS[usize::from(m) - 1]));
                    }
                }
                for c in &fact.citations {
                    content.extend(builder.learn(&c.quote));
                }
                let lower = fact.answer.to_lowercase();
                if place_of
                    .iter()
                    .any(|(place, _)| lower.contains(place.as_str()))
                {
                    let words = text::tokenize(&fact.answer);
                    for (place, side) in &place_of {
                        if words.contains(place) {
                            content.extend(builder.terms(side));
                        }
                    }
                }
                DocTerms { questions, content }
            })
            .collect();
        let (analyzer, dictionary) = builder.build();
        let index = Index::build(dictionary, docs);
        let mut entities = FxHashMap::default();
        let mut names = Names::default();
        // Stems of places -> the side whose territory they are in.
        let mut places: FxHashMap<String, String> = FxHashMap::default();
        for entity in &kb.lexicon.entities {
            for place in &entity.places {
                for w in text::tokenize(place) {
                    places.insert(analyzer.stem(&w), entity.name.clone());
                }
            }
            for (words, stems) in [
                (&entity.words, &mut names.sides),
                (&entity.people, &mut names.people),
            ] {
                for word in words {
                    for w in text::tokenize(word) {
                        stems.insert(analyzer.stem(&w), entity.name.clone());
                        entities.insert(w, entity.name.clone());
                    }
                }
            }
        }
        let texts = kb.facts.iter().flat_map(|f| {
            std::iter::once(f.answer.as_str()).chain(f.citations.iter().map(|c| c.quote.as_str()))
        });
        for noun in proper_nouns(texts) {
            names.proper.extend(analyzer.analyze_text(&noun).terms);
        }
        let stems = |words: &[String]| -> Vec<String> {
            words
                .iter()
                .flat_map(|w| analyzer.analyze_text(w).terms)
                .collect()
        };
        names.contrasts = kb
            .lexicon
            .contrasts
            .iter()
            .map(|c| (stems(&c.these), stems(&c.those)))
            .collect();
        names.presupposed = stems(&kb.lexicon.presupposed.words).into_iter().collect();
        names.months = MONTHS.iter().map(|m| analyzer.stem(m)).collect();
        let doc_entities = doc_fact
            .iter()
            .enumerate()
            .map(|(doc, &i)| {
                let mut sides: Vec<String> = index
                    .doc_terms(doc)
                    .filter_map(|t| {
                        names
                            .sides
                            .get(t)
                            .or_else(|| names.people.get(t))
                            .or_else(|| places.get(t))
                            .cloned()
                    })
                    .chain(kb.facts[i].actors.iter().cloned())
                    .collect();
                sides.sort();
                sides.dedup();
                sides
            })
            .collect();
        let doc_negated = doc_fact
            .iter()
            .map(|&i| {
                let fact = &kb.facts[i];
                let texts = std::iter::once(fact.answer.as_str())
                    .chain(fact.citations.iter().map(|c| c.quote.as_str()));
                negated_only(&analyzer, texts)
            })
            .collect();
        let doc_precision = doc_fact
            .iter()
            .map(|&i| Precise::of(&kb.facts[i]))
            .collect();
        Engine {
            doc_precision,
            kb,
            config,
            analyzer,
            index,
            doc_fact,
            entities,
            names,
            doc_entities,
            doc_negated,
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
        // What the question itself negates ("who said Ukraine would not join?") is no
        // premise that a negated statement fails to bear out.
        let negated = negated_only(
            &self.analyzer,
            std::iter::once(analyzed.words.join(" ").as_str()),
        );
        let unknown_terms = query
            .iter()
            .filter(|q| q.id.is_none())
            .map(|q| q.text.clone())
            .collect();
        let mut candidates: Vec<Candidate<'_>> = self
            .index
            .search(&query)
            .into_iter()
            .map(|m| self.candidate(&m, &intent, &query, &negated))
            .collect();
        // Stable: equal scores stay in fact-id order.
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        let reply = self.decide(&candidates);
        Explanation {
            analyzed,
            intent,
            unknown_terms,
            candidates,
            reply,
        }
    }

    fn candidate(
        &self,
        m: &Match,
        intent: &Intent,
        query: &[QueryTerm],
        negated: &FxHashSet<String>,
    ) -> Candidate<'_> {
        let fact = &self.kb.facts[self.doc_fact[m.doc]];
        let mut m = m.clone();
        if !intent.presupposes {
            // A yes/no question is answered by a fact that says the contrary: "Does Moscow
            // accept the claims?" by "Moscow denies the claims". The contrary word covers.
            let total: f32 = query.iter().map(|q| q.weight).sum();
            let contrary: f32 = query
                .iter()
                .filter(|q| !self.index.doc_contains(m.doc, &q.text))
                .filter(|q| self.contrary_in(m.doc, &q.text, false))
                .map(|q| q.weight)
                .sum();
            if total > 0.0 {
                m.coverage = (m.coverage + contrary / total).min(1.0);
            }
        }
        // A question that negates ("so no direct talks since?") is about the fact that
        // negates the same thing.
        let agrees = negated.iter().any(|t| self.doc_negated[m.doc].contains(t));
        // "What did Ukraine want?" is about what Ukraine alone did, rather than both sides.
        let focused = intent.subjects_act
            && !intent.subjects.is_empty()
            && fact.actors.len() == intent.subjects.len()
            && fact.actors.iter().all(|a| intent.subjects.contains(a));
        let bonus = if agrees { NEGATION_AGREEMENT } else { 0.0 }
            + if focused { SUBJECT_FOCUS } else { 0.0 };
        Candidate {
            fact,
            coverage: m.coverage as f64,
            similarity: m.similarity as f64,
            score: (m.score() as f64 + bonus).min(1.0),
            supplies_wanted: intent.accepts(&fact.supplies),
            subjects_match: intent.subjects_match(&fact.actors),
            background: !intent.subjects_match(&fact.actors)
                && fact.actors.iter().all(|a| intent.background.contains(a)),
            // A month in a question that asks when is a guess to be corrected ("when did
            // they agree to the corridors, was it in april?"), not a name to match.
            names_match: query.iter().all(|q| {
                self.names_term(m.doc, &q.text)
                    || (intent.wants.contains(&Supply::Date) && self.names.months.contains(&q.text))
                    || self
                        .names
                        .sides
                        .get(&q.text)
                        .is_some_and(|side| intent.background.contains(side))
            }),
            premise_holds: !intent.presupposes || self.premise_holds(m.doc, query, negated),
            precise_enough: self.doc_precision[m.doc].meets(intent.precision),
            best_question: &fact.questions[m.best_question],
        }
    }

    /// Whether the fact of `doc` says the contrary of `term`.
    fn contrary_in(&self, doc: usize, term: &str, statement_only: bool) -> bool {
        let has = |t: &String| {
            if statement_only {
                self.index.content_contains(doc, t)
            } else {
                self.index.doc_contains(doc, t)
            }
        };
        self.names.contrasts.iter().any(|(these, those)| {
            (these.iter().any(|t| t == term) && those.iter().any(has))
                || (those.iter().any(|t| t == term) && these.iter().any(has))
        })
    }

    /// Whether document `doc` accounts for term `t` of a question, when `t` names
    /// something: it has the term itself, or (for a side) mentions that side, or (for a
    /// person) that person's side acts in it.
    fn names_term(&self, doc: usize, t: &str) -> bool {
        if !self.names.is_named(t) || self.index.doc_contains(doc, t) {
            return true;
        }
        let fact = &self.kb.facts[self.doc_fact[doc]];
        if let Some(side) = self.names.people.get(t) {
            return fact.actors.contains(side);
        }
        if let Some(side) = self.names.sides.get(t) {
            return self.doc_entities[doc].contains(side);
        }
        false
    }

    /// Whether the fact of `doc` bears out what a presupposing question takes for
    /// granted: it does not say the contrary of a question's word ("agree" against
    /// "refused"), and it says every presupposed word the question uses ("refuse").
    /// Only what the fact states counts, not its example questions: "did the West
    /// agree ...?" is a fair question to ask of a fact in which the West refused.
    ///
    /// A word the fact states only negated does not bear the premise out: "When did
    /// Ukraine join NATO?" is not answered by "Ukraine would not join NATO".
    fn premise_holds(&self, doc: usize, query: &[QueryTerm], negated: &FxHashSet<String>) -> bool {
        query.iter().map(|q| &q.text).all(|t| {
            (self.index.content_contains(doc, t)
                && (negated.contains(t) || !self.doc_negated[doc].contains(t)))
                || !(self.contrary_in(doc, t, true) || self.names.presupposed.contains(t))
        })
    }

    fn decide<'e>(&'e self, candidates: &[Candidate<'e>]) -> Reply<'e> {
        let best_any = candidates
            .iter()
            .find(|c| !c.background)
            .map_or(0.0, |c| c.score);
        let mut eligible = candidates.iter().filter(|c| c.eligible());
        let (best, runner_up) = (eligible.next(), eligible.next());
        let Some(best) = best else {
            return self.abstain(
                AbstainReason::NotCovered,
                confidence(best_any) * 0.5,
                candidates,
            );
        };
        let shadow = (best_any - best.score).max(0.0) * SHADOW_PENALTY;
        let confidence = confidence(best.score - shadow);
        if confidence < self.config.answer_threshold {
            return self.abstain(AbstainReason::NotCovered, confidence, candidates);
        }
        if let Some(second) = runner_up
            && best.score - second.score < self.config.ambiguity_margin
        {
            return self.abstain(AbstainReason::Ambiguous, confidence, candidates);
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
        candidates: &[Candidate<'e>],
    ) -> Reply<'e> {
        let suggestions = candidates
            .iter()
            .filter(|c| c.score >= self.config.suggestion_floor)
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

/// Words that negate the next few words: "not", "never", "no", and the "t" of "wasn't".
fn is_negator(word: &str, previous: Option<&str>) -> bool {
    matches!(
        word,
        "not"
            | "never"
            | "no"
            | "nor"
            | "without"
            | "didnt"
            | "dont"
            | "doesnt"
            | "isnt"
            | "wasnt"
            | "werent"
            | "arent"
            | "wont"
            | "wouldnt"
            | "cant"
            | "couldnt"
            | "hasnt"
            | "havent"
            | "hadnt"
    ) || (word == "t" && previous.is_some_and(|p| p.ends_with('n')))
}

/// What a question's negation shared with a fact's adds to the fact's score.
const NEGATION_AGREEMENT: f64 = 0.05;

/// What a fact about the question's subjects alone adds to its score.
const SUBJECT_FOCUS: f64 = 0.03;

/// How many words after a negator it reaches: "not *being implemented*", "would not
/// *join*".
const NEGATION_REACH: usize = 3;

/// The terms that `texts` state only within the reach of a negator, never plainly.
fn negated_only<'a>(
    analyzer: &Analyzer,
    texts: impl Iterator<Item = &'a str>,
) -> FxHashSet<String> {
    // Words first, stems last: most texts negate nothing, and stemming is the costly
    // step, so only the few negated words are stemmed (with the plain words that could
    // share their stem).
    static MAY_NEGATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:not|no|never|nor|without)\b|n['’]t\b|\b(?:did|does|do|is|was|were|are|wo|would|ca|could|has|have|had|should)nt\b").expect("valid regex")
    });
    let texts: Vec<&str> = texts.collect();
    if !texts.iter().any(|t| MAY_NEGATE.is_match(t)) {
        return FxHashSet::default();
    }
    let mut negated: Vec<String> = Vec::new();
    let mut plain: Vec<String> = Vec::new();
    for text in texts {
        let words = text::tokenize(text);
        let mut reach = 0;
        for (i, word) in words.iter().enumerate() {
            if is_negator(word, i.checked_sub(1).map(|p| words[p].as_str())) {
                reach = NEGATION_REACH;
                continue;
            }
            if reach > 0 {
                negated.push(word.clone());
            } else {
                plain.push(word.clone());
            }
            reach = reach.saturating_sub(1);
        }
    }
    if negated.is_empty() {
        return FxHashSet::default();
    }
    let stems = |words: &[String]| -> FxHashSet<String> {
        words
            .iter()
            .flat_map(|w| analyzer.analyze_text(w).terms)
            .collect()
    };
    let plain = stems(&plain);
    let mut negated = stems(&negated);
    negated.retain(|t| !plain.contains(t));
    negated
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
