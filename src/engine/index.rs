//! The inverted index over the facts, built once at load, and the scoring of candidate
//! facts against a question.
//!
//! Each fact is a document of terms from its example questions, answer, quotes and
//! topic. A question is scored against a candidate fact two ways, both weighted by
//! inverse document frequency so that "grain" counts for more than "russia":
//! - *coverage*: how much of the question's weight the fact's terms cover at all. An
//!   unknown word ("Kursk") covers nothing anywhere, which is how questions the
//!   documents do not answer are told apart;
//! - *similarity*: the weighted Dice overlap with the fact's closest example question,
//!   which rewards the wording a fact was curated for.

use rustc_hash::FxHashMap;

/// Postings longer than this are not walked to find candidates (the term is too common
/// to say which facts are meant); such terms still count when candidates are scored. This
/// keeps the cost of a question bounded as the knowledge base grows.
const MAX_WALKED_POSTINGS: usize = 4096;

/// How many of the best partial matches are scored in full.
const MAX_CANDIDATES: usize = 64;

#[derive(Debug, Default)]
struct Doc {
    /// Every term of the fact, sorted, without repeats.
    terms: Vec<u32>,
    /// The terms of what the fact states (its answer and quotes, not its example
    /// questions), sorted, without repeats.
    content: Vec<u32>,
    /// Each example question's terms, sorted, without repeats, with their total weight.
    questions: Vec<(Vec<u32>, f32)>,
}

/// A query term: its id when the knowledge base has it, and its weight.
#[derive(Debug, Clone)]
pub struct QueryTerm {
    pub text: String,
    pub id: Option<u32>,
    pub weight: f32,
}

/// How well one fact matches a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub doc: usize,
    pub coverage: f32,
    pub similarity: f32,
    /// The example question the similarity came from.
    pub best_question: usize,
}

impl Match {
    /// The combined score in [0, 1].
    pub fn score(&self) -> f32 {
        0.5 * self.coverage + 0.5 * self.similarity
    }
}

/// The knowledge base's terms, numbered in the order they are first met. (Scores add
/// up term weights in the order of their numbers.)
#[derive(Debug, Default)]
pub struct Dictionary {
    numbers: FxHashMap<String, u32>,
    /// Number -> term.
    terms: Vec<String>,
}

impl Dictionary {
    /// The number of `term`, numbering it if it is new.
    pub fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.numbers.get(term) {
            return id;
        }
        let id = u32::try_from(self.terms.len()).expect("under 2^32 terms");
        self.numbers.insert(term.to_owned(), id);
        self.terms.push(term.to_owned());
        id
    }

    pub fn get(&self, term: &str) -> Option<u32> {
        self.numbers.get(term).copied()
    }

    pub fn term(&self, id: u32) -> &str {
        &self.terms[id as usize]
    }

    fn len(&self) -> usize {
        self.terms.len()
    }
}

#[derive(Debug)]
pub struct Index {
    dictionary: Dictionary,
    idf: Vec<f32>,
    postings: Vec<Vec<u32>>,
    docs: Vec<Doc>,
}

/// The terms of one fact, by field, numbered by the index's dictionary.
pub struct DocTerms {
    pub questions: Vec<Vec<u32>>,
    pub content: Vec<u32>,
}

impl Index {
    pub fn build(dictionary: Dictionary, docs: impl IntoIterator<Item = DocTerms>) -> Index {
        let mut postings = vec![Vec::new(); dictionary.len()];
        let mut index_docs = Vec::new();
        for (doc_id, doc) in docs.into_iter().enumerate() {
            let mut all = Vec::new();
            let mut questions = Vec::new();
            for mut ids in doc.questions {
                ids.sort_unstable();
                ids.dedup();
                all.extend_from_slice(&ids);
                questions.push((ids, 0.0));
            }
            let mut content = doc.content;
            content.sort_unstable();
            content.dedup();
            all.extend_from_slice(&content);
            all.sort_unstable();
            all.dedup();
            for &t in &all {
                postings[t as usize].push(doc_id as u32);
            }
            index_docs.push(Doc {
                terms: all,
                content,
                questions,
            });
        }
        let n = index_docs.len() as f32;
        let idf: Vec<f32> = postings.iter().map(|p| idf(n, p.len() as f32)).collect();
        for doc in &mut index_docs {
            for (terms, weight) in &mut doc.questions {
                *weight = terms.iter().map(|&t| idf[t as usize]).sum();
            }
        }
        Index {
            dictionary,
            idf,
            postings,
            docs: index_docs,
        }
    }

    /// Whether document `doc` has `term`.
    pub fn doc_contains(&self, doc: usize, term: &str) -> bool {
        self.dictionary
            .get(term)
            .is_some_and(|id| self.docs[doc].terms.binary_search(&id).is_ok())
    }

    /// Whether what document `doc` states (not its example questions) has `term`.
    pub fn content_contains(&self, doc: usize, term: &str) -> bool {
        self.dictionary
            .get(term)
            .is_some_and(|id| self.docs[doc].content.binary_search(&id).is_ok())
    }

    /// The terms of document `doc`.
    pub fn doc_terms(&self, doc: usize) -> impl Iterator<Item = &str> {
        self.docs[doc]
            .terms
            .iter()
            .map(|&id| self.dictionary.term(id))
    }

    /// The weight of a term the knowledge base does not have: that of a term in no fact.
    fn unknown_weight(&self) -> f32 {
        idf(self.docs.len() as f32, 0.0)
    }

    /// The question's distinct terms, with their ids and weights.
    pub fn query(&self, terms: &[String]) -> Vec<QueryTerm> {
        let mut out: Vec<QueryTerm> = Vec::with_capacity(terms.len());
        for t in terms {
            if out.iter().any(|q| q.text == *t) {
                continue;
            }
            let id = self.dictionary.get(t);
            let weight = id.map_or_else(|| self.unknown_weight(), |id| self.idf[id as usize]);
            out.push(QueryTerm {
                text: t.clone(),
                id,
                weight,
            });
        }
        out
    }

    /// Scores the facts that share terms with the query, best first (ties by document
    /// order, which callers make the order of fact ids).
    pub fn search(&self, query: &[QueryTerm]) -> Vec<Match> {
        let total: f32 = query.iter().map(|q| q.weight).sum();
        if total <= 0.0 {
            return Vec::new();
        }
        let mut known: Vec<&QueryTerm> = query.iter().filter(|q| q.id.is_some()).collect();
        known.sort_by_key(|q| self.postings[q.id.unwrap_or_default() as usize].len());
        // Partial scores from the postings of the rarer terms.
        let mut partial: FxHashMap<u32, f32> = FxHashMap::default();
        for (i, q) in known.iter().enumerate() {
            let postings = &self.postings[q.id.unwrap_or_default() as usize];
            // The rarest term is always walked, so a question made only of common terms
            // still finds candidates.
            if i > 0 && postings.len() > MAX_WALKED_POSTINGS {
                break;
            }
            for &doc in postings.iter().take(MAX_WALKED_POSTINGS) {
                *partial.entry(doc).or_default() += q.weight;
            }
        }
        let mut candidates: Vec<(u32, f32)> = partial.into_iter().collect();
        let best_first = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // Common terms give thousands of partial matches: select the best before sorting.
        if candidates.len() > MAX_CANDIDATES {
            candidates.select_nth_unstable_by(MAX_CANDIDATES, best_first);
            candidates.truncate(MAX_CANDIDATES);
        }
        candidates.sort_by(best_first);

        let ids: Vec<u32> = {
            let mut ids: Vec<u32> = known.iter().filter_map(|q| q.id).collect();
            ids.sort_unstable();
            ids
        };
        let weight_of = |id: u32| {
            query
                .iter()
                .find(|q| q.id == Some(id))
                .map_or(0.0, |q| q.weight)
        };
        let mut matches: Vec<Match> = candidates
            .into_iter()
            .map(|(doc_id, _)| {
                let doc = &self.docs[doc_id as usize];
                let covered: f32 = ids
                    .iter()
                    .filter(|id| doc.terms.binary_search(id).is_ok())
                    .map(|&id| weight_of(id))
                    .sum();
                let (best_question, similarity) = doc
                    .questions
                    .iter()
                    .enumerate()
                    .map(|(i, (terms, qweight))| {
                        let shared: f32 = ids
                            .iter()
                            .filter(|id| terms.binary_search(id).is_ok())
                            .map(|&id| weight_of(id))
                            .sum();
                        (i, 2.0 * shared / (total + qweight))
                    })
                    .fold(
                        (0, 0.0f32),
                        |best, cur| if cur.1 > best.1 { cur } else { best },
                    );
                Match {
                    doc: doc_id as usize,
                    coverage: covered / total,
                    similarity,
                    best_question,
                }
            })
            .collect();
        matches.sort_by(|a, b| b.score().total_cmp(&a.score()).then(a.doc.cmp(&b.doc)));
        matches
    }
}

/// BM25's inverse document frequency: always positive, highest for rare terms.
fn idf(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of documents given as (example questions, content), terms split on
    /// spaces.
    fn index(docs: &[(&[&str], &str)]) -> Index {
        let mut dictionary = Dictionary::default();
        let mut split = |s: &str| s.split(' ').map(|t| dictionary.intern(t)).collect();
        let docs: Vec<DocTerms> = docs
            .iter()
            .map(|(questions, content)| DocTerms {
                questions: questions.iter().map(|q| split(q)).collect(),
                content: split(content),
            })
            .collect();
        Index::build(dictionary, docs)
    }

    fn terms(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn ranks_the_fact_that_covers_the_rare_terms() {
        let index = index(&[
            (
                &["grain agreement sign"],
                "russia ukraine grain agreement turkey",
            ),
            (
                &["russia withdraw grain agreement"],
                "russia withdraw grain",
            ),
            (&["exchange pow"], "russia ukraine exchange pow 205"),
        ]);
        let q = index.query(&terms("russia withdraw grain"));
        let found = index.search(&q);
        assert_eq!(found[0].doc, 1);
        assert!((found[0].coverage - 1.0).abs() < 1e-6);
        assert!(found[0].score() > found[1].score());
    }

    #[test]
    fn unknown_terms_lower_coverage() {
        let index = index(&[(&["grain agreement"], "grain agreement")]);
        let known = index.search(&index.query(&terms("grain agreement")));
        let unknown = index.search(&index.query(&terms("grain agreement kursk")));
        assert!(unknown[0].coverage < known[0].coverage);
        assert!(index.search(&index.query(&terms("kursk"))).is_empty());
    }

    #[test]
    fn repeated_terms_count_once() {
        let index = index(&[(&["a b"], "a b")]);
        assert_eq!(index.query(&terms("a a b")).len(), 2);
    }
}
