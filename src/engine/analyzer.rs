//! Words to index terms, the same way for facts and questions: aliases rewritten to their
//! canonical form, stopwords dropped, the rest stemmed. For questions, misspelt words are
//! first corrected against the knowledge base's own vocabulary.

use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};
use rustc_hash::{FxHashMap, FxHashSet};

use super::index::Dictionary;
use super::stopwords::{self, is_stopword};
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

/// Common English words (SCOWL, size 35: see `english.NOTICE`), one a line, sorted.
const ENGLISH: &str = include_str!("english.txt");

/// Whether `word` is a common English word. A word that is one is taken as written
/// rather than "corrected" into a knowledge base word ("joint" is not "join", "head"
/// is not "held"); a word that is not one is a typo, and is corrected more boldly.
fn is_english(word: &str) -> bool {
    static WORDS: std::sync::LazyLock<FxHashSet<&'static str>> =
        std::sync::LazyLock::new(|| ENGLISH.lines().collect());
    WORDS.contains(word)
}

/// Variants of aliases by their first word: (variant words, canonical words), longest
/// variant first.
type AliasTable = FxHashMap<String, Vec<(Vec<String>, Vec<String>)>>;

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

/// Turns text into terms. Built by an [`AnalyzerBuilder`] from the lexicon and the
/// knowledge base's texts.
pub struct Analyzer {
    rules: Rules,
    vocabulary: Vocabulary,
    /// Stems of the vocabulary: a word whose stem is known ("sever" for "severed") is
    /// not a typo.
    known_stems: FxHashSet<String>,
    question_fixes: FxHashMap<&'static str, Vec<String>>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("aliases", &self.rules.aliases.len())
            .field("vocabulary", &self.vocabulary.counts.len())
            .finish()
    }
}

impl Analyzer {
    /// Analyzes knowledge base text: no typo correction.
    pub fn analyze_text(&self, text: &str) -> Analyzed {
        self.rules.analyze_words(&text::tokenize(text), Vec::new())
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
            } else if let Some((a, b)) = self
                .vocabulary
                .split(&word)
                .filter(|_| !self.known_stems.contains(&self.stem(&word)))
            {
                corrections.push((word.clone(), format!("{a} {b}")));
                words.push(a.to_owned());
                words.push(b.to_owned());
            } else {
                words.push(word);
            }
        }
        self.rules.analyze_words(&words, corrections)
    }

    pub fn stem(&self, word: &str) -> String {
        self.rules.stem(word)
    }
}

/// Builds an [`Analyzer`] while the knowledge base's texts are analyzed for the index,
/// so that each text is tokenized once: for its terms, and for the vocabulary that typos
/// in questions are corrected to. It numbers the terms for the index as it meets them.
pub struct AnalyzerBuilder {
    rules: Rules,
    vocabulary: VocabularyBuilder,
    terms: TermNumbers,
}

impl AnalyzerBuilder {
    /// A builder whose vocabulary so far is the lexicon's words.
    pub fn new(lexicon: &Lexicon) -> Self {
        let mut aliases = AliasTable::default();
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
        AnalyzerBuilder {
            rules: Rules {
                aliases,
                stemmer: Stemmer::create(Algorithm::English),
            },
            vocabulary,
            terms: TermNumbers::default(),
        }
    }

    /// The terms of a knowledge base text, whose words join the vocabulary.
    pub fn learn(&mut self, text: &str) -> Vec<u32> {
        with_words(text, |words| {
            self.vocabulary.add_words(words);
            self.terms_of(words)
        })
    }

    /// Adds the words of a text to the vocabulary.
    pub fn add_to_vocabulary(&mut self, text: &str) {
        with_words(text, |words| self.vocabulary.add_words(words));
    }

    /// The terms of a text whose words do not join the vocabulary.
    pub fn terms(&mut self, text: &str) -> Vec<u32> {
        with_words(text, |words| self.terms_of(words))
    }

    fn terms_of(&mut self, words: &[&str]) -> Vec<u32> {
        let AnalyzerBuilder { rules, terms, .. } = self;
        rules
            .rewrite_aliases(words)
            .into_iter()
            .filter(|w| !is_stopword(w))
            .map(|w| terms.of_word(rules, w))
            .collect()
    }

    /// The term of one word: its stem.
    pub fn word_term(&mut self, word: &str) -> u32 {
        self.terms.of_word(&self.rules, word)
    }

    /// A term taken as it is, not stemmed: a year.
    pub fn term(&mut self, term: &str) -> u32 {
        self.terms.dictionary.intern(term)
    }

    /// The analyzer, and the terms of the texts analyzed, numbered.
    pub fn build(self) -> (Analyzer, Dictionary) {
        let question_fixes = QUESTION_WORD_FIXES
            .iter()
            .map(|(from, to)| (*from, to.split(' ').map(str::to_owned).collect()))
            .collect();
        let vocabulary = self.vocabulary.build();
        let TermNumbers {
            dictionary,
            by_word,
        } = self.terms;
        let known_stems = vocabulary
            .counts
            .keys()
            .map(|w| match by_word.get(w) {
                Some(&term) => dictionary.term(term).to_owned(),
                None => self.rules.stem(w),
            })
            .collect();
        let analyzer = Analyzer {
            rules: self.rules,
            vocabulary,
            known_stems,
            question_fixes,
        };
        (analyzer, dictionary)
    }
}

/// Calls `f` with the words of `text`, borrowed from its normalized form rather than
/// copied one by one as [`text::tokenize`] does.
fn with_words<R>(text: &str, f: impl FnOnce(&[&str]) -> R) -> R {
    let normal = text::normalize(text);
    let words: Vec<&str> = text::words(&normal).collect();
    f(&words)
}

/// The terms met so far, numbered, and the term of each word met.
#[derive(Default)]
struct TermNumbers {
    dictionary: Dictionary,
    /// Word -> the number of its stem. The knowledge base repeats its words many times
    /// over, and stemming is the costliest step of analysis.
    by_word: FxHashMap<String, u32>,
}

impl TermNumbers {
    fn of_word(&mut self, rules: &Rules, word: &str) -> u32 {
        if let Some(&term) = self.by_word.get(word) {
            return term;
        }
        let term = self.dictionary.intern(&rules.stem(word));
        self.by_word.insert(word.to_owned(), term);
        term
    }
}

/// What analyzing knowledge base text and questions share: aliases, stopwords, stems.
struct Rules {
    /// First word of a variant -> (variant words, canonical words), longest variant first.
    aliases: AliasTable,
    stemmer: Stemmer,
}

impl Rules {
    /// Rewrites aliases, then stems the words that are not stopwords.
    fn analyze_words(&self, words: &[String], corrections: Vec<(String, String)>) -> Analyzed {
        let words: Vec<String> = self
            .rewrite_aliases(words)
            .into_iter()
            .map(str::to_owned)
            .collect();
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

    fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// `words` with aliases rewritten to their canonical words.
    fn rewrite_aliases<'a>(&'a self, words: &'a [impl AsRef<str>]) -> Vec<&'a str> {
        let mut out = Vec::with_capacity(words.len());
        let mut rest = words;
        while let Some(first) = rest.first() {
            let matched = self
                .aliases
                .get(first.as_ref())
                .and_then(|variants| {
                    variants.iter().find(|(variant, _)| {
                        variant.len() <= rest.len()
                            && variant.iter().zip(rest).all(|(v, w)| v == w.as_ref())
                    })
                })
                .or_else(|| {
                    // A possessive or plural written without an apostrophe
                    // ("washingtons negotiators") is the one-word alias it ends in.
                    let bare = first.as_ref().strip_suffix('s').filter(|b| b.len() >= 4)?;
                    self.aliases
                        .get(bare)?
                        .iter()
                        .find(|(variant, _)| variant.len() == 1 && variant[0] == bare)
                });
            match matched {
                Some((variant, canonical)) => {
                    out.extend(canonical.iter().map(String::as_str));
                    rest = &rest[variant.len()..];
                }
                None => {
                    out.push(first.as_ref());
                    rest = &rest[1..];
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct VocabularyBuilder {
    counts: FxHashMap<String, u32>,
}

impl VocabularyBuilder {
    fn add_words(&mut self, words: &[impl AsRef<str>]) {
        for w in words.iter().map(AsRef::as_ref) {
            if w.chars().all(char::is_alphabetic) && !is_stopword(w) {
                match self.counts.get_mut(w) {
                    Some(count) => *count += 1,
                    None => {
                        self.counts.insert(w.to_owned(), 1);
                    }
                }
            }
        }
    }

    fn build(self) -> Vocabulary {
        // Stopwords are correction targets too, so that "happend" is read as the filler
        // it is rather than as an unknown word; they carry no count, so a knowledge base
        // word as close wins. (The counts never hold a stopword.)
        let filler =
            stopwords::all().filter(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic));
        let mut words: Vec<&str> = self.counts.keys().map(String::as_str).collect();
        for w in filler {
            words.push(w);
        }
        words.sort_unstable();
        words.dedup();
        let tree = BkTree::new(words);
        Vocabulary {
            counts: self.counts,
            tree,
        }
    }
}

/// The knowledge base's words, for typo correction.
struct Vocabulary {
    counts: FxHashMap<String, u32>,
    tree: BkTree,
}

impl Vocabulary {
    /// The knowledge base word that `word` is most likely a misspelling of, if any.
    ///
    /// A common English word is not corrected: it means what it says, and the knowledge
    /// base simply does not use it. Other words are: those of four letters for one edit
    /// that keeps their first letter ("deel", "qatr"), of five letters for one edit, and
    /// longer ones for up to two ("invaid", "prisnor"). Of equally close candidates the
    /// one with the same first letter wins, then the more frequent, then the
    /// alphabetically first, so that the correction is deterministic.
    fn correct(&self, word: &str) -> Option<&str> {
        let len = word.chars().count();
        if len < 4
            || self.counts.contains_key(word)
            || is_stopword(word)
            || !word.chars().all(char::is_alphabetic)
            || is_english(word)
        {
            return None;
        }
        let max = match len {
            0..=5 => 1,
            _ => 2,
        };
        let first = word.chars().next();
        self.tree
            .find(word, max)
            .into_iter()
            .filter(|(candidate, _)| len > 4 || candidate.chars().next() == first)
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

    /// Two knowledge base words that `word` runs together ("warcrimes"), if it is made
    /// of exactly two of at least three letters each. Of several splits, the one with
    /// the longer first word.
    fn split<'w>(&self, word: &'w str) -> Option<(&'w str, &'w str)> {
        if word.len() < 6 || !word.is_ascii() || self.counts.contains_key(word) {
            return None;
        }
        (3..=word.len() - 3)
            .rev()
            .map(|i| word.split_at(i))
            .find(|(a, b)| self.counts.contains_key(*a) && self.counts.contains_key(*b))
    }
}

/// A BK-tree over the vocabulary under optimal string alignment distance (edits,
/// including swaps of adjacent letters), so that a look-up visits a small part of it.
///
/// A look-up still visits thousands of nodes when two edits are allowed, so the tree is
/// laid out flat once built: the nodes in breadth-first order, each node's children
/// consecutive, and the words one after another, rather than each node, word and list
/// of children in an allocation of its own.
struct BkTree {
    /// The nodes' words, one after another.
    text: String,
    nodes: Vec<BkNode>,
}

struct BkNode {
    /// Where the node's word is in `text`.
    word: Range<u32>,
    /// The distance from its parent's word to its word (0 for the root).
    distance: u32,
    /// Its children, which are consecutive nodes.
    children: Range<u32>,
}

impl BkTree {
    /// Builds the tree from `words` in the order given. Optimal string alignment
    /// distance breaks the triangle inequality, so a look-up can miss a word within
    /// reach; which ones depends on the order.
    fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        // The tree as it grows: each node's word and its (distance, child) edges.
        let mut growing: Vec<(&str, Vec<(usize, usize)>)> = Vec::new();
        for word in words {
            if growing.is_empty() {
                growing.push((word, Vec::new()));
                continue;
            }
            let pattern = OsaPattern::new(word);
            let mut at = 0;
            loop {
                let d = pattern.distance(growing[at].0);
                if d == 0 {
                    break;
                }
                match growing[at].1.iter().find(|(cd, _)| *cd == d) {
                    Some(&(_, child)) => at = child,
                    None => {
                        let index = growing.len();
                        growing.push((word, Vec::new()));
                        growing[at].1.push((d, index));
                        break;
                    }
                }
            }
        }
        let offset = |n: usize| u32::try_from(n).expect("vocabulary under 4 GB");
        let mut text = String::new();
        let mut nodes = Vec::with_capacity(growing.len());
        // (node of `growing`, distance from its parent), in breadth-first order.
        let mut queue = if growing.is_empty() {
            Vec::new()
        } else {
            vec![(0, 0)]
        };
        while let Some(&(at, distance)) = queue.get(nodes.len()) {
            let (word, edges) = &growing[at];
            let start = text.len();
            text.push_str(word);
            let first_child = queue.len();
            queue.extend(edges.iter().map(|&(d, child)| (child, d)));
            nodes.push(BkNode {
                word: offset(start)..offset(text.len()),
                distance: offset(distance),
                children: offset(first_child)..offset(queue.len()),
            });
        }
        BkTree { text, nodes }
    }

    fn word(&self, node: &BkNode) -> &str {
        &self.text[node.word.start as usize..node.word.end as usize]
    }

    /// Every word within `max` edits of `word` that the tree leads to, with its distance.
    fn find(&self, word: &str, max: usize) -> Vec<(&str, usize)> {
        let mut found = Vec::new();
        if self.nodes.is_empty() {
            return found;
        }
        let pattern = OsaPattern::new(word);
        let mut stack = vec![0];
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at];
            let d = pattern.distance(self.word(node));
            if d <= max {
                found.push((self.word(node), d));
            }
            for child in node.children.start as usize..node.children.end as usize {
                let cd = self.nodes[child].distance as usize;
                if cd + max >= d && cd <= d + max {
                    stack.push(child);
                }
            }
        }
        found
    }
}

/// A word prepared for computing its optimal string alignment distance to other words
/// (insertions, deletions, substitutions and swaps of adjacent characters, no character
/// edited twice) with Hyyrö's bit-parallel algorithm ("A bit-vector algorithm for
/// computing Levenshtein and Damerau edit distances", 2003): one step of a few
/// machine-word operations per character of the other word, where the dynamic
/// programming table takes one step per pair of characters.
struct OsaPattern {
    len: usize,
    /// For each ASCII character, the positions where the word has it, as bits.
    ascii: [u64; 128],
    /// The same for the word's other characters.
    other: Vec<(char, u64)>,
}

// Words have at most `MAX_WORD_CHARS` characters, so a pattern's positions fit in a `u64`.
const _: () = assert!(text::MAX_WORD_CHARS <= u64::BITS as usize);

impl OsaPattern {
    /// `word` must be at most [`text::MAX_WORD_CHARS`] characters long, as every word
    /// that [`text::tokenize`] yields is.
    fn new(word: &str) -> Self {
        let mut pattern = OsaPattern {
            len: 0,
            ascii: [0; 128],
            other: Vec::new(),
        };
        for (j, c) in word.chars().enumerate() {
            assert!(j < text::MAX_WORD_CHARS, "word too long: {word:?}");
            let bit = 1 << j;
            match pattern.ascii.get_mut(c as usize) {
                Some(bits) => *bits |= bit,
                None => match pattern.other.iter_mut().find(|(o, _)| *o == c) {
                    Some((_, bits)) => *bits |= bit,
                    None => pattern.other.push((c, bit)),
                },
            }
            pattern.len = j + 1;
        }
        pattern
    }

    fn positions(&self, c: char) -> u64 {
        match self.ascii.get(c as usize) {
            Some(&bits) => bits,
            None => self
                .other
                .iter()
                .find(|(o, _)| *o == c)
                .map_or(0, |&(_, bits)| bits),
        }
    }

    /// The distance from this word to `other`. The table's column for each character
    /// of `other` is kept as bit vectors of its vertical differences (+1 and -1), and
    /// the distance follows the change in its last cell.
    fn distance(&self, other: &str) -> usize {
        if self.len == 0 {
            return other.chars().count();
        }
        let last = 1u64 << (self.len - 1);
        let (mut plus, mut minus) = (!0u64, 0u64);
        let (mut diagonal_zero, mut previous_match) = (0u64, 0u64);
        let mut distance = self.len;
        for c in other.chars() {
            let matches = self.positions(c);
            let swap = ((!diagonal_zero & matches) << 1) & previous_match;
            diagonal_zero = (((matches & plus).wrapping_add(plus)) ^ plus) | matches | minus | swap;
            let across_plus = minus | !(diagonal_zero | plus);
            let across_minus = plus & diagonal_zero;
            if across_plus & last != 0 {
                distance += 1;
            }
            if across_minus & last != 0 {
                distance -= 1;
            }
            let across_plus = (across_plus << 1) | 1;
            let across_minus = across_minus << 1;
            plus = across_minus | !(diagonal_zero | across_plus);
            minus = across_plus & diagonal_zero;
            previous_match = matches;
        }
        distance
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
        let mut builder = AnalyzerBuilder::new(&lexicon);
        builder.add_to_vocabulary(
            "Zelensky met officials in Istanbul about the exchange of prisoners of war.",
        );
        builder.build().0
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
        // Unknown words stay as they are.
        assert_eq!(a.analyze_question("kursk").words, ["kursk"]);
        // Longer non-words for two edits, four letters for one that keeps the first.
        assert_eq!(a.analyze_question("prisnors").words, ["pow"]);
        assert_eq!(a.analyze_question("kyev").words, ["kyiv"]);
        assert_eq!(a.analyze_question("lyiv").words, ["lyiv"]);
        // An English word is taken as written, however close to a known one: "meet"
        // is not "met"; a non-word as close is corrected.
        assert_eq!(a.analyze_question("meet").words, ["meet"]);
        assert_eq!(a.analyze_question("mett").words, ["met"]);
        // Filler is a correction target: a misspelt filler word is no unknown term.
        assert!(a.analyze_question("what happend").terms.is_empty());
    }

    #[test]
    fn fixes_question_words() {
        let a = analyzer();
        assert_eq!(a.analyze_question("wen did").words, ["when", "did"]);
        assert_eq!(a.analyze_question("howmany").words, ["how", "many"]);
    }

    #[test]
    fn osa_distance_matches_strsim() {
        // Every word of up to five letters over three letters, which has every kind and
        // combination of edit, and a few longer and non-ASCII words.
        let mut words = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|w| ['a', 'b', 'c'].map(|c| format!("{w}{c}")))
                .collect();
            words.extend(last.iter().cloned());
        }
        words.extend(
            [
                "kyiv",
                "kiyv",
                "istanbul",
                "istanbull",
                "zelensky",
                "zelenksy",
                "переговоры",
                "перегвооры",
                "türkiye",
                "turkiye",
                "abcdefghijklmnopqrstuvwxyzabcdef",
                "bacdefghijklmnopqrstuvwxyzabcdfe",
            ]
            .map(String::from),
        );
        for a in &words {
            let pattern = OsaPattern::new(a);
            for b in &words {
                assert_eq!(pattern.distance(b), strsim::osa_distance(a, b), "{a} {b}");
            }
        }
    }

    #[test]
    fn bk_tree_finds_everything_within_the_distance() {
        let words = [
            "grain", "grains", "train", "brain", "rain", "gain", "russia", "prussia",
        ];
        let tree = BkTree::new(words);
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
