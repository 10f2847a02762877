//! Arbitrary input never panics and always yields a valid reply.

use proptest::prelude::*;

use parley::Reply;
use parley::engine::AbstainReason;

use crate::util::engine;

fn check_reply(question: &str) {
    let reply = engine().ask(question);
    let confidence = reply.confidence();
    assert!((0.0..=1.0).contains(&confidence), "confidence {confidence}");
    match &reply {
        Reply::Answer { fact, .. } => {
            assert!(confidence >= engine().config().answer_threshold);
            let kb = engine().knowledge();
            for c in &fact.citations {
                assert!(kb.source(&c.source).unwrap().text.contains(&c.quote));
            }
        }
        Reply::Abstain {
            reason,
            suggestions,
            ..
        } => {
            assert!(suggestions.len() <= engine().config().max_suggestions);
            if matches!(reason, AbstainReason::Empty | AbstainReason::TooLong) {
                assert!(suggestions.is_empty());
            }
        }
    }
    // The same question gives the same reply.
    assert_eq!(
        format!("{reply:?}"),
        format!("{:?}", engine().ask(question))
    );
}

/// Words from the domain, so that generated questions often come close to facts.
const WORDS: &[&str] = &[
    "when",
    "who",
    "why",
    "how many",
    "where",
    "grain",
    "deal",
    "russia",
    "ukraine",
    "kyiv",
    "zelensky",
    "putin",
    "icc",
    "uae",
    "qatar",
    "205",
    "swap",
    "truce",
    "istanbul",
    "nato",
    "@everyone",
    "<@123>",
    "**",
    "did",
    "the",
    "not",
    "never",
    "withdraw",
    "2022",
    "\u{0}",
    "🇺🇦",
    "Ⅻ",
    "ﬁ",
    "İ",
    "ß",
    "e\u{301}",
    "\u{202e}",
    "||x||",
    "`",
    "https://x.y/z",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_unicode_text_gets_a_valid_reply(question in any::<String>()) {
        check_reply(&question);
    }

    #[test]
    fn any_mix_of_domain_words_gets_a_valid_reply(
        words in proptest::collection::vec(proptest::sample::select(WORDS), 0..24)
    ) {
        check_reply(&words.join(" "));
    }

    #[test]
    fn long_inputs_are_refused_not_processed(extra in 1usize..5000) {
        let question = "a".repeat(engine().config().max_question_chars + extra);
        let reply = engine().ask(&question);
        let too_long = matches!(reply, Reply::Abstain { reason: AbstainReason::TooLong, .. });
        prop_assert!(too_long, "{:?}", reply);
    }
}
