//! Words to index terms, the same way for facts and questions: aliases rewritten to their
//! canonical form, stopwords dropped, the rest stemmed. For questions, misspelt words are
//! first corrected against the knowledge base's own vocabulary.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

use super::stopwords::is_stopword;
use super::text;
use crate::knowledge::Lexicon;

/// Common misspellings and chat forms of question words. They are too short for edit
/// distance to correct safely ("wen" is one edit from "men" and "win"), so they are
/// listed.
const QUESTION_WORD_FIXES: &[(&str, &str)] = &[
    ("wen", "when"),
    ("whn", "when"),
    ("wehn", "when"),
    ("whens", "when"),
    ("wat", "what"),
    ("wut", "what"),
    ("wht", "what"),
    ("whta", "what"),
    ("waht", "what"),
    ("whats", "what"),
    ("hw", "how"),
    ("hows", "how"),
    ("howmany", "how many"),
    ("howlong", "how long"),
    ("whos", "who"),
    ("hu", "who"),
    ("wher", "where"),
    ("whre", "where"),
    ("wheres", "where"),
    ("wich", "which"),
    ("whcih", "which"),
    ("whihc", "which"),
    ("y", "why"),
    ("wy", "why"),
    ("whys", "why"),
];

/// Variants of aliases by their first word: (variant words, canonical words), longest
/// variant first.
type AliasTable = HashMap<String, Vec<(Vec<String>, Vec<String>)>>;

/// A text taken apart for matching.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analyzed {
    /// Canonical words in order, stopwords included (question shape is read from them).
    pub words: Vec<String>,
    /// Index terms: stems of the content words, in order.
    pub terms: Vec<String>,
    /// Misspelt words and what they were read as.
    pub corrections: Vec<(String, String)>,
}

/// Turns text into terms. Built once from the lexicon and the knowledge base's texts.
pub struct Analyzer {
    /// First word of a variant -> (variant words, canonical words), longest variant first.
    aliases: AliasTable,
    stemmer: Stemmer,
    vocabulary: Vocabulary,
    /// Stems of the vocabulary: a word whose stem is known ("sever" for "severed") is
    /// not a typo.
    known_stems: HashSet<String>,
    question_fixes: HashMap<&'static str, Vec<String>>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("aliases", &self.aliases.len())
            .field("vocabulary", &self.vocabulary.counts.len())
            .finish()
    }
}

impl Analyzer {
    /// Builds the analyzer; `texts` are every text of the knowledge base that questions
    /// are matched against, and make up the vocabulary that typos are corrected to.
    pub fn new<'a>(lexicon: &Lexicon, texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut aliases = AliasTable::new();
        let mut vocabulary = VocabularyBuilder::default();
        for alias in &lexicon.aliases {
            let canonical = text::tokenize(&alias.canonical);
            vocabulary.add_words(&canonical);
            // A phrase that is already canonical is kept whole, so that "arrest warrant"
            // is not read as "arrest" + ("warrant" -> "arrest warrant").
            let itself = (canonical.len() > 1).then(|| alias.canonical.clone());
            for variant in alias.variants.iter().chain(itself.as_ref()) {
                let words = text::tokenize(variant);
                if words.is_empty() {
                    continue;
                }
                vocabulary.add_words(&words);
                aliases
                    .entry(words[0].clone())
                    .or_default()
                    .push((words, canonical.clone()));
            }
        }
        for variants in aliases.values_mut() {
            // Longest first, so that "prisoners of war" wins over "prisoners".
            variants.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        }
        for text in texts {
            vocabulary.add_words(&text::tokenize(text));
        }
        let question_fixes = QUESTION_WORD_FIXES
            .iter()
            .map(|(from, to)| (*from, to.split(' ').map(str::to_owned).collect()))
            .collect();
        let stemmer = Stemmer::create(Algorithm::English);
        let vocabulary = vocabulary.build();
        let known_stems = vocabulary
            .counts
            .keys()
            .map(|w| stemmer.stem(w).into_owned())
            .collect();
        Analyzer {
            aliases,
            stemmer,
            vocabulary,
            known_stems,
            question_fixes,
        }
    }

    /// Analyzes knowledge base text: no typo correction.
    pub fn analyze_text(&self, text: &str) -> Analyzed {
        self.analyze_words(text::tokenize(text), Vec::new())
    }

    /// Analyzes a question: question-word fixes and typo correction, then as for text.
    pub fn analyze_question(&self, question: &str) -> Analyzed {
        let mut words = Vec::new();
        let mut corrections = Vec::new();
        for word in text::tokenize(question) {
            if let Some(fixed) = self.question_fixes.get(word.as_str()) {
                words.extend(fixed.iter().cloned());
            } else if let Some(corrected) = self
                .vocabulary
                .correct(&word)
                .filter(|_| !self.known_stems.contains(&self.stem(&word)))
            {
                corrections.push((word, corrected.to_owned()));
                words.push(corrected.to_owned());
            } else {
                words.push(word);
            }
        }
        self.analyze_words(words, corrections)
    }

    fn analyze_words(&self, words: Vec<String>, corrections: Vec<(String, String)>) -> Analyzed {
        let words = self.rewrite_aliases(&words);
        let terms = words
            .iter()
            .filter(|w| !is_stopword(w))
            .map(|w| self.stem(w))
            .collect();
        Analyzed {
            words,
            terms,
            corrections,
        }
    }

    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    fn rewrite_aliases(&self, words: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(words.len());
        let mut i = 0;
        while i < words.len() {
            let matched = self.aliases.get(&words[i]).and_then(|variants| {
                variants
                    .iter()
                    .find(|(variant, _)| words[i..].starts_with(variant))
            });
            match matched {
                Some((variant, canonical)) => {
                    out.extend(canonical.iter().cloned());
                    i += variant.len();
                }
                None => {
                    out.push(words[i].clone());
                    i += 1;
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct VocabularyBuilder {
    counts: HashMap<String, u32>,
}

impl VocabularyBuilder {
    fn add_words(&mut self, words: &[String]) {
        for w in words {
            if w.chars().all(char::is_alphabetic) && !is_stopword(w) {
                *self.counts.entry(w.clone()).or_default() += 1;
            }
        }
    }

    fn build(self) -> Vocabulary {
        let mut words: Vec<&String> = self.counts.keys().collect();
        words.sort();
        let mut tree = BkTree::default();
        for w in words {
            tree.insert(w);
        }
        Vocabulary {
            counts: self.counts,
            tree,
        }
    }
}

/// The knowledge base's words, for typo correction.
struct Vocabulary {
    counts: HashMap<String, u32>,
    tree: BkTree,
}

impl Vocabulary {
    /// The knowledge base word that `word` is most likely a misspelling of, if any.
    ///
    /// Short words are risky to correct ("head" is one edit from "held"), so words of four
    /// letters are corrected only for a swap of two letters ("kiyv"), words of five to
    /// seven letters for one edit, and longer words for up to two. Of equally close
    /// candidates the one with the same first letter wins, then the more frequent, then
    /// the alphabetically first, so that the correction is deterministic.
    fn correct(&self, word: &str) -> Option<&str> {
        let len = word.chars().count();
        if len < 4
            || self.counts.contains_key(word)
            || is_stopword(word)
            || !word.chars().all(char::is_alphabetic)
        {
            return None;
        }
        let max = match len {
            0..=7 => 1,
            _ => 2,
        };
        let first = word.chars().next();
        self.tree
            .find(word, max)
            .into_iter()
            .filter(|(candidate, _)| len > 4 || is_transposition(word, candidate))
            .min_by(|(a, da), (b, db)| {
                let key = |w: &str, d: usize| {
                    (
                        d,
                        w.chars().next() != first,
                        std::cmp::Reverse(self.counts.get(w).copied().unwrap_or(0)),
                    )
                };
                key(a, *da).cmp(&key(b, *db)).then_with(|| a.cmp(b))
            })
            .map(|(w, _)| w)
    }
}

fn is_transposition(a: &str, b: &str) -> bool {
    let mut a: Vec<char> = a.chars().collect();
    let mut b: Vec<char> = b.chars().collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// A BK-tree over the vocabulary under optimal string alignment distance (edits,
/// including swaps of adjacent letters), so that a look-up visits a small part of it.
#[derive(Default)]
struct BkTree {
    nodes: Vec<BkNode>,
}

struct BkNode {
    word: String,
    children: Vec<(usize, usize)>,
}

impl BkTree {
    fn insert(&mut self, word: &str) {
        if self.nodes.is_empty() {
            self.nodes.push(BkNode {
                word: word.to_owned(),
                children: Vec::new(),
            });
            return;
        }
        let mut at = 0;
        loop {
            let d = strsim::osa_distance(&self.nodes[at].word, word);
            if d == 0 {
                return;
            }
            match self.nodes[at].children.iter().find(|(cd, _)| *cd == d) {
                Some(&(_, child)) => at = child,
                None => {
                    let index = self.nodes.len();
                    self.nodes.push(BkNode {
                        word: word.to_owned(),
                        children: Vec::new(),
                    });
                    self.nodes[at].children.push((d, index));
                    return;
                }
            }
        }
    }

    /// Every word within `max` edits of `word`, with its distance.
    fn find(&self, word: &str, max: usize) -> Vec<(&str, usize)> {
        let mut found = Vec::new();
        if self.nodes.is_empty() {
            return found;
        }
        let mut stack = vec![0];
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at];
            let d = strsim::osa_distance(&node.word, word);
            if d <= max {
                found.push((node.word.as_str(), d));
            }
            for &(cd, child) in &node.children {
                if cd + max >= d && cd <= d + max {
                    stack.push(child);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Alias;

    fn analyzer() -> Analyzer {
        let lexicon = Lexicon {
            aliases: vec![
                Alias {
                    canonical: "pow".into(),
                    variants: vec!["prisoners of war".into(), "prisoners".into()],
                },
                Alias {
                    canonical: "kyiv".into(),
                    variants: vec!["kiev".into()],
                },
                Alias {
                    canonical: "withdraw".into(),
                    variants: vec!["pulled out".into(), "withdrew".into()],
                },
            ],
            ..Lexicon::default()
        };
        Analyzer::new(
            &lexicon,
            ["Zelensky met officials in Istanbul about the exchange of prisoners of war."],
        )
    }

    #[test]
    fn aliases_rewrite_longest_first() {
        let a = analyzer();
        assert_eq!(
            a.analyze_text("prisoners of war and prisoners").words,
            ["pow", "and", "pow"]
        );
        assert_eq!(a.analyze_text("Kiev").words, ["kyiv"]);
        assert_eq!(
            a.analyze_question("when russia pulled out").terms,
            ["russia", "withdraw"]
        );
    }

    #[test]
    fn corrects_typos_against_the_vocabulary() {
        let a = analyzer();
        let got = a.analyze_question("zelenksy in istanbull exchnage");
        assert_eq!(got.words, ["zelensky", "in", "istanbull", "exchange"]);
        // "istanbull" needs no correction: it stems to a known term.
        assert_eq!(got.terms, ["zelenski", "istanbul", "exchang"]);
        assert_eq!(got.corrections.len(), 2);
        // Four letters: only a swap is corrected; unknown words stay as they are.
        assert_eq!(a.analyze_question("kursk").words, ["kursk"]);
    }

    #[test]
    fn fixes_question_words() {
        let a = analyzer();
        assert_eq!(a.analyze_question("wen did").words, ["when", "did"]);
        assert_eq!(a.analyze_question("howmany").words, ["how", "many"]);
    }

    #[test]
    fn bk_tree_finds_everything_within_the_distance() {
        let mut tree = BkTree::default();
        let words = [
            "grain", "grains", "train", "brain", "rain", "gain", "russia", "prussia",
        ];
        for w in words {
            tree.insert(w);
        }
        for probe in ["grian", "rusia", "xyz", "gain"] {
            for max in 0..3 {
                let mut got: Vec<&str> =
                    tree.find(probe, max).into_iter().map(|(w, _)| w).collect();
                got.sort();
                let mut want: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| strsim::osa_distance(w, probe) <= max)
                    .collect();
                want.sort();
                assert_eq!(got, want, "{probe} within {max}");
            }
        }
    }
}
