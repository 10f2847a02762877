//! Chat text to words: strips what Discord adds (mentions, custom emoji, timestamps,
//! markdown, links), folds Unicode (NFKC, lowercase, Latin accents) and splits into
//! words. Knows nothing of the knowledge base; [`super::analyzer`] does the rest.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Discord's markup that carries no words: user, role and channel mentions, custom
/// emoji, timestamps, slash-command mentions, @everyone and @here.
static DISCORD_MARKUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"<(?:@[!&]?\d+|#\d+|a?:[A-Za-z0-9_~]+:\d+|t:-?\d+(?::[tTdDfFR])?|/[^<>:]{1,64}:\d+|id:[a-z]+)>|@(?:everyone|here)\b",
    )
    .expect("valid regex")
});

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:https?://|www\.)\S+").expect("valid regex"));

/// "US", "U.S.", "USA" written in capitals name the country; in lower case "us" is
/// almost always the pronoun, so the country is recognised before case folding.
static US_CAPITALS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bU\.?S\.?(?:A\.?)?(?:\b|$)").expect("valid regex"));

/// Thousands separators inside numbers ("20,000" is one number, not two).
static THOUSANDS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d),(\d{3})\b").expect("valid regex"));

static POSSESSIVE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"'s\b").expect("valid regex"));

/// Words longer than this are not words a question is made of (a pasted hash, a key
/// mash); they are dropped rather than matched.
pub const MAX_WORD_CHARS: usize = 32;

/// Removes Discord markup and links, keeping the words around them.
pub fn strip_chat_markup(text: &str) -> String {
    let text = DISCORD_MARKUP.replace_all(text, " ");
    URL.replace_all(&text, " ").into_owned()
}

/// Folds text for matching: NFKC, the country "US", lower case, Latin accents removed,
/// possessive 's dropped, thousands separators removed.
pub fn fold(text: &str) -> String {
    let nfkc = nfkc(text);
    let text = US_CAPITALS.replace_all(&nfkc, " united states ");
    let lower = text.to_lowercase();
    // Lower-case ASCII has no accents, no "ß" or dotless "i" and no curly quotes.
    let plain = if lower.is_ascii() {
        lower
    } else {
        fold_letters(&lower)
    };
    let unpossessed = POSSESSIVE.replace_all(&plain, "");
    THOUSANDS.replace_all(&unpossessed, "$1$2").into_owned()
}

/// Text in NFKC. Nearly all text already is, which the quick check tells without
/// normalising it.
fn nfkc(text: &str) -> Cow<'_, str> {
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    }
}

/// Folds lower-case letters to plain ones: "ß" to "ss", dotless "i" to "i", accents
/// removed, curly apostrophes straightened.
fn fold_letters(lower: &str) -> String {
    let lower = lower.replace('ß', "ss").replace('ı', "i");
    let unaccented: String = lower.nfd().filter(|c| !is_combining_mark(*c)).collect();
    unaccented.replace(['\u{2019}', '\u{2018}'], "'")
}

/// Splits folded text into words: runs of letters and digits. Overlong runs are dropped.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.chars().count() <= MAX_WORD_CHARS)
}

/// Chat text ready to be split into [`words`]: markup stripped, folded.
pub fn normalize(text: &str) -> String {
    fold(&strip_chat_markup(text))
}

/// The whole pipeline: chat text to words.
pub fn tokenize(text: &str) -> Vec<String> {
    words(&normalize(text)).map(str::to_owned).collect()
}

/// Whether the text has anything a question could be made of (letters or digits).
pub fn has_words(text: &str) -> bool {
    !tokenize(text).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_discord_markup() {
        let cases = [
            (
                "<@123456789012345678> when was it signed",
                "when was it signed",
            ),
            ("<@!1> hi <@&2> <#3>", "hi"),
            ("what <:pepe:123> <a:wave:456> happened", "what happened"),
            ("at <t:1700000000:R> ok", "at ok"),
            ("@everyone @here read", "read"),
            ("see https://example.com/a?b=c and www.x.org/y", "see and"),
        ];
        for (input, want) in cases {
            assert_eq!(tokenize(input).join(" "), want, "{input:?}");
        }
    }

    #[test]
    fn folds_unicode_and_case() {
        assert_eq!(
            tokenize("Türkiye ＫＹＩＶ Zelenskyy's"),
            ["turkiye", "kyiv", "zelenskyy"]
        );
        assert_eq!(
            tokenize("**bold** __und__ ~~x~~ ||spoiler||"),
            ["bold", "und", "x", "spoiler"]
        );
        assert_eq!(
            tokenize("nearly 20,000 children"),
            ["nearly", "20000", "children"]
        );
        assert_eq!(tokenize("a 30-day pause"), ["a", "30", "day", "pause"]);
    }

    #[test]
    fn folds_plain_and_accented_text_alike() {
        for (plain, other) in [
            ("zelensky", "Zelensky\u{2019}s"),
            ("strasse", "Straße"),
            ("cafe", "Cafe\u{301}"),
            ("cafe", "CAFÉ"),
            ("final", "ﬁnal"),
        ] {
            assert_eq!(fold(plain), plain);
            assert_eq!(fold(other), plain, "{other:?}");
        }
    }

    #[test]
    fn recognises_the_us_in_capitals_only() {
        assert_eq!(
            tokenize("did the US mediate"),
            ["did", "the", "united", "states", "mediate"]
        );
        assert_eq!(tokenize("U.S. talks"), ["united", "states", "talks"]);
        assert_eq!(tokenize("tell us"), ["tell", "us"]);
    }

    #[test]
    fn drops_overlong_words_and_emoji() {
        let long = "a".repeat(40);
        assert_eq!(tokenize(&format!("{long} ok 🇺🇦🔥")), ["ok"]);
        assert!(!has_words("🇺🇦🔥 !!! ..."));
    }
}
