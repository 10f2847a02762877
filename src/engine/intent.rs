//! What a question asks for, read from its shape: a date ("when"), a number ("how
//! many"), an actor ("who", "which country"), a place ("where") or a reason ("why"); and
//! who it says did something ("why did *Ukraine* withdraw"), so that a fact about what
//! someone else did is not offered as the answer.

use std::sync::LazyLock;

use regex::Regex;

use crate::knowledge::Supply;

/// What a question asks for. `wants` is empty when any fact may answer ("what did
/// Russia demand", yes/no questions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intent {
    pub wants: Vec<Supply>,
    /// Entities the question names as doing the thing asked about.
    pub subjects: Vec<String>,
    /// The subjects follow "did", "has", "will"…, so they act ("what did *Ukraine*
    /// want"); after "was", "is"… they may only describe ("was *Ukrainian* grain
    /// exported").
    pub subjects_act: bool,
    /// A "wh" question takes what it says for granted ("why did the West agree" assumes
    /// the West agreed); a yes/no question does not.
    pub presupposes: bool,
    /// How precise an answer the question insists on, if more than usual.
    pub precision: Option<Precision>,
    /// Entities named only to set the time of what is asked ("how did Ukraine export
    /// grain *after Russia* withdrew?"): the answer need not be about them.
    pub background: Vec<String>,
}

/// A precision a question insists on: "what *exact day*", "what *time*", "*exactly* how
/// many". A fact that is vaguer ("July 2022", "dozens") does not answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// A day: a date to the day, or a weekday.
    Day,
    /// A time of day.
    Hour,
    /// A count, not "dozens" or "nearly".
    Count,
}

impl Intent {
    /// Whether a fact that supplies `supplies` can answer. A fact that names a city
    /// answers "where", one that names a person answers "who"; not the other way round.
    pub fn accepts(&self, supplies: &[Supply]) -> bool {
        self.wants.is_empty()
            || self
                .wants
                .iter()
                .any(|w| supplies.iter().any(|s| s == w || s.broader() == Some(*w)))
    }

    /// Whether a fact whose actors are `actors` is about what the question's subjects
    /// did: one of them acts in it ("will Zelensky and Putin meet" is about the fact in
    /// which Zelensky calls for a meeting). A fact that names no actors constrains
    /// nothing.
    pub fn subjects_match(&self, actors: &[String]) -> bool {
        actors.is_empty()
            || self.subjects.is_empty()
            || self.subjects.iter().any(|s| actors.contains(s))
    }
}

struct Shape {
    pattern: Regex,
    wants: &'static [Supply],
}

/// Question shapes, over lowercased canonical words joined by single spaces. The one
/// that matches earliest in the question decides ("when and where" asks for a date);
/// of two that match at the same place, the first listed (finer shapes come first).
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    use Supply::*;
    let shape = |pattern: &str, wants: &'static [Supply]| Shape {
        pattern: Regex::new(pattern).expect("valid regex"),
        wants,
    };
    vec![
        shape(
            r"\b(?:when|since when|how long ago|(?:what|which) (?:date|day|month|year|time)|in what year|on what day|what was the date|dates?)\b",
            &[Date],
        ),
        shape(
            r"\b(?:how (?:many|much|long|big|large)|number of|what (?:number|amount|percentage|share|figure)|how many days)\b",
            &[Number],
        ),
        shape(
            r"\b(?:(?:in )?(?:which (?:\w+ )?|what )(?:city|cities|town|towns|suburb|suburbs))\b",
            &[City],
        ),
        shape(
            r"\b(?:where|(?:which|what) (?:place|places|sea|port|ports|region|part|coast|location|venue)|in what place)\b",
            &[Place],
        ),
        shape(
            r"\b(?:which|what) (?:country|countries|nation|nations)\b",
            &[Actor, Place],
        ),
        shape(
            r"\b(?:(?:which (?:\w+ )?|what )(?:person|people|leader|leaders|president|official|officials|negotiator|negotiators|envoy|envoys|diplomat|diplomats|delegate|delegates|representative|representatives|commissioner)|who (?:was|were|is|are) (?:the )?(?:\w+ )?(?:negotiators?|officials?|envoys?|diplomats?|delegates?|delegation|representatives?|president|leader|commissioner)|(?:what|whose) (?:is|was|were|are) (?:the |their |his |her )?names?|names? of)\b",
            &[Person],
        ),
        shape(
            r"\b(?:who|whom|whose|(?:which|what) (?:side|sides|organization|organisation|organizations|organisations|body|group|mediator|mediators|state|states|court))\b",
            &[Actor],
        ),
        shape(
            r"\b(?:why|for what reason|how come|what (?:was|is|were|are) the reasons?|(?:what|which) reasons?|what (?:caused|led to|prompted|triggered|made)|reason for|reasons for)\b",
            &[Reason],
        ),
    ]
});

static PRECISIONS: LazyLock<Vec<(Regex, Precision)>> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("valid regex");
    vec![
        (
            re(
                r"\b(?:(?:what|which|exact|precise|specific) (?:time|hour)|at what time|what o ?clock)\b",
            ),
            Precision::Hour,
        ),
        (
            re(
                r"\b(?:(?:what|which|exact|precise|specific) (?:\w+ )?(?:day|date)|on what day|exactly when|when exactly)\b",
            ),
            Precision::Day,
        ),
        (
            re(
                r"\b(?:exactly how many|how many exactly|(?:exact|precise) (?:\w+ )?(?:number|count|figure|toll|tally))\b",
            ),
            Precision::Count,
        ),
    ]
});

/// Shapes that take their subject for granted besides the wh-questions of [`SHAPES`]:
/// "how did the truce go", "what was the outcome of the meeting".
static PRESUPPOSING_SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:how (?:did|does|do|has|have|had|was|were|is|are)|(?:what|which) (?:was|were|is|are))\b")
        .expect("valid regex")
});

/// Nouns after which "where" and "when" open a relative clause, not a question: "is
/// there an *area where* they still cooperate" asks whether, not where.
const RELATIVE_ANTECEDENTS: &[&str] = &[
    "area",
    "areas",
    "place",
    "places",
    "city",
    "country",
    "countries",
    "region",
    "point",
    "case",
    "cases",
    "time",
    "times",
    "day",
    "days",
    "moment",
    "period",
    "year",
    "month",
    "week",
    "one",
    "situation",
    "somewhere",
    "anywhere",
    "everywhere",
];

/// Whether a match of a question shape that follows `before` is a relative clause.
fn is_relative(before: &str, matched: &str) -> bool {
    (matched == "where" || matched == "when")
        && before
            .split_whitespace()
            .next_back()
            .is_some_and(|w| RELATIVE_ANTECEDENTS.contains(&w))
}

/// Auxiliary verbs after which a question names its subject: "why *did* Ukraine ...".
const AUXILIARIES: &[&str] = &[
    "did", "does", "do", "has", "have", "had", "is", "was", "were", "are", "will", "would", "can",
    "could", "should",
];

/// Reads the intent from a question's canonical words; `entity_of` maps a canonical word
/// to the entity it stands for.
pub fn read(words: &[String], entity_of: impl Fn(&str) -> Option<String>) -> Intent {
    let text = words.join(" ");
    let wants = SHAPES
        .iter()
        .filter_map(|s| {
            s.pattern
                .find_iter(&text)
                .find(|m| !is_relative(&text[..m.start()], m.as_str()))
                .map(|m| (m.start(), s.wants))
        })
        .min_by_key(|(start, _)| *start)
        .map(|(_, wants)| wants.to_vec())
        .unwrap_or_default();
    let presupposes = !wants.is_empty() || PRESUPPOSING_SHAPE.is_match(&text);
    let precision = PRECISIONS
        .iter()
        .find(|(pattern, _)| pattern.is_match(&text))
        .map(|&(_, precision)| precision);
    let (subjects, subjects_act) = subjects(words, &entity_of);
    Intent {
        wants,
        subjects,
        subjects_act,
        presupposes,
        precision,
        background: background(words, &entity_of),
    }
}

/// Words that open a clause setting the time of the main one.
const TEMPORAL: &[&str] = &["after", "once", "since", "before", "following", "when"];

/// The entities that open a temporal clause after the question's first word: "after
/// *Russia* withdrew", "once *Moscow* left" (but not "when did Russia ...").
fn background(words: &[String], entity_of: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (i, pair) in words.windows(2).enumerate() {
        if !TEMPORAL.contains(&pair[0].as_str()) || (i == 0 && pair[0] == "when") {
            continue;
        }
        let next = if pair[1] == "the" {
            words.get(i + 2)
        } else {
            Some(&pair[1])
        };
        if let Some(entity) = next.and_then(|w| entity_of(w))
            && !found.contains(&entity)
        {
            found.push(entity);
        }
    }
    found
}

/// The entities right after the first auxiliary verb that is followed by one ("did Russia
/// and Ukraine sign" names both), skipping "the".
fn subjects(words: &[String], entity_of: &impl Fn(&str) -> Option<String>) -> (Vec<String>, bool) {
    for (i, word) in words.iter().enumerate() {
        if !AUXILIARIES.contains(&word.as_str()) {
            continue;
        }
        let mut found = Vec::new();
        let mut rest = words[i + 1..].iter().map(String::as_str).peekable();
        // "was *the* NATO demand made" names a thing, not who did it.
        let be = matches!(word.as_str(), "is" | "was" | "were" | "are");
        while let Some(w) = rest.next() {
            if w == "the" {
                if be {
                    break;
                }
                continue;
            }
            match entity_of(w) {
                Some(entity) => {
                    if !found.contains(&entity) {
                        found.push(entity);
                    }
                    if rest.peek().is_some_and(|&n| n == "and" || n == "or") {
                        rest.next();
                        continue;
                    }
                    break;
                }
                None => break,
            }
        }
        if !found.is_empty() {
            return (found, !be);
        }
    }
    (Vec::new(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Supply::*;

    fn intent(q: &str) -> Intent {
        let words: Vec<String> = q.split(' ').map(str::to_owned).collect();
        read(&words, |w| match w {
            "russia" | "putin" => Some("russia".into()),
            "ukraine" | "zelensky" => Some("ukraine".into()),
            "turkey" => Some("turkey".into()),
            _ => None,
        })
    }

    #[test]
    fn reads_who_is_named_only_to_set_the_time() {
        assert_eq!(
            intent("how did ukraine export grain after russia withdraw").background,
            ["russia"]
        );
        assert_eq!(
            intent("what did ukraine do once the russia left").background,
            ["russia"]
        );
        assert!(intent("when did russia withdraw").background.is_empty());
        assert!(intent("why did russia withdraw").background.is_empty());
    }

    #[test]
    fn reads_the_precision_insisted_on() {
        let cases: &[(&str, Option<Precision>)] = &[
            (
                "what exact day in july was the agreement signed",
                Some(Precision::Day),
            ),
            (
                "on which day of the week will they meet",
                Some(Precision::Day),
            ),
            ("what time does the meeting start", Some(Precision::Hour)),
            (
                "exactly how many civilians were killed",
                Some(Precision::Count),
            ),
            ("what was the exact death toll", Some(Precision::Count)),
            ("when was the agreement signed", None),
            ("how many soldiers were released", None),
        ];
        for (q, precision) in cases {
            assert_eq!(intent(q).precision, *precision, "{q}");
        }
    }

    #[test]
    fn reads_what_is_asked_for() {
        let cases: &[(&str, &[Supply])] = &[
            ("when was the grain agreement signed", &[Date]),
            ("yo so when did it end", &[Date]),
            ("what year did russia withdraw", &[Date]),
            ("how many soldiers were released", &[Number]),
            ("how long was the pause", &[Number]),
            ("who mediates the exchanges", &[Actor]),
            ("which country hosted the talks", &[Actor, Place]),
            ("where did they meet", &[Place]),
            ("which city was besieged", &[City]),
            ("in which belarus city were the talks", &[City]),
            ("who were the usa negotiators", &[Person]),
            ("which leader invited putin", &[Person]),
            ("who mediated", &[Actor]),
            ("what did people say about the agreement", &[]),
            ("is there any area where russia and ukraine cooperate", &[]),
            ("was there a time when they met", &[]),
            ("why did russia withdraw", &[Reason]),
            ("what was the reason for the collapse", &[Reason]),
            ("when and where did they meet", &[Date]),
            ("what did russia demand", &[]),
            ("did zelensky invite putin", &[]),
        ];
        for (q, want) in cases {
            assert_eq!(intent(q).wants, *want, "{q}");
        }
    }

    #[test]
    fn reads_who_the_question_says_acted() {
        assert_eq!(intent("why did ukraine withdraw").subjects, ["ukraine"]);
        assert_eq!(
            intent("when did the russia and ukraine sign").subjects,
            ["russia", "ukraine"]
        );
        assert_eq!(intent("has putin met zelensky").subjects, ["russia"]);
        assert!(intent("when was the agreement signed").subjects.is_empty());
        assert!(intent("who withdrew").subjects.is_empty());
    }

    #[test]
    fn checks_facts_against_the_intent() {
        let i = intent("why did ukraine withdraw");
        assert!(!i.accepts(&[Date, Actor]));
        assert!(i.accepts(&[Reason]));
        assert!(intent("where did they meet").accepts(&[City]));
        assert!(!intent("which city hosted the talks").accepts(&[Place]));
        assert!(intent("who mediated").accepts(&[Person]));
        assert!(!intent("who were the usa negotiators").accepts(&[Actor]));
        assert!(!i.subjects_match(&["russia".into()]));
        assert!(i.subjects_match(&["russia".into(), "ukraine".into()]));
        assert!(i.subjects_match(&[]));
    }
}
