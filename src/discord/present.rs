//! What parley shows in Discord, as plain data: embeds, their plain-text twins and
//! buttons, always inside Discord's limits. Pure (no serenity types), so every view is
//! tested without a connection; [`super::send`] turns views into serenity builders.
//!
//! Nothing a user typed is ever echoed back: views are built from the knowledge base
//! alone, so a question full of hostile markdown or mentions cannot shape a reply.

use std::fmt::Write as _;

use crate::engine::{AbstainReason, Reply};
use crate::knowledge::{Fact, KnowledgeBase};
use crate::timeline::TimelineQuery;

use super::component::ComponentId;

/// Discord's limits, in characters.
pub mod limits {
    pub const MESSAGE: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const EMBED_TOTAL: usize = 6000;
    pub const BUTTON_LABEL: usize = 80;
    pub const BUTTONS_PER_ROW: usize = 5;
    pub const AUTOCOMPLETE_CHOICES: usize = 25;
    pub const CHOICE_NAME: usize = 100;
}

/// The accent colour of parley's embeds.
pub const COLOUR: u32 = 0x3B_6E_A5;
/// The colour of "not in my sources" embeds.
pub const COLOUR_ABSTAIN: u32 = 0x8A_8F_98;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub title: Option<String>,
    pub description: String,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
    pub colour: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Secondary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub id: ComponentId,
    pub label: String,
    pub style: ButtonStyle,
    pub disabled: bool,
}

/// A message parley sends: an embed, the same as plain text for channels where embeds
/// are not allowed, and buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub embed: Embed,
    pub text: String,
    pub buttons: Vec<Button>,
}

impl View {
    /// A short notice without buttons (errors, cooldowns, refusals).
    pub fn notice(text: impl Into<String>) -> View {
        let text = truncate(&text.into(), limits::MESSAGE);
        View {
            embed: Embed {
                title: None,
                description: text.clone(),
                fields: Vec::new(),
                footer: None,
                colour: COLOUR_ABSTAIN,
            },
            text,
            buttons: Vec::new(),
        }
    }
}

/// Shortens `text` to at most `max` characters, ending with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escapes what Discord would read as markdown, so knowledge-base text shows as
/// written.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(['>', '#', '-']) {
            out.push_str(&line[..line.len() - trimmed.len()]);
            out.push('\\');
            out.push_str(&escape_inline(trimmed));
        } else {
            out.push_str(&escape_inline(line));
        }
    }
    out
}

fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A quotation as a Discord quote block (every line marked).
fn quote_block(quote: &str) -> String {
    quote
        .lines()
        .map(|l| format!("> {}", escape_markdown(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn source_title(kb: &KnowledgeBase, source: &str) -> String {
    kb.source(source)
        .map(|s| s.title.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| source.to_string())
}

/// "as of …" or "undated source".
fn source_freshness(kb: &KnowledgeBase, source: &str) -> String {
    kb.source(source)
        .map_or_else(|| "undated source".into(), |s| s.freshness())
}

/// A fact's citations as quote blocks, each followed by its source's title.
fn citation_blocks(kb: &KnowledgeBase, fact: &Fact) -> String {
    fact.citations
        .iter()
        .map(|c| {
            format!(
                "{}\n— *{}* ({})",
                quote_block(&c.quote),
                escape_markdown(&source_title(kb, &c.source)),
                source_freshness(kb, &c.source)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn fact_footer(fact: &Fact) -> String {
    let mut footer = format!("fact {}", fact.id);
    if let Some(date) = fact.date_label() {
        let _ = write!(footer, " · {date}");
    }
    footer
}

/// An answer: the fact's answer, its citation quoted with the source's title, the fact
/// id in the footer, and a button that shows the full citation.
pub fn answer(kb: &KnowledgeBase, fact: &Fact) -> View {
    let answer = escape_markdown(&fact.answer);
    let citations = citation_blocks(kb, fact);
    let footer = fact_footer(fact);
    let description = truncate(
        &format!("{answer}\n\n{citations}"),
        limits::EMBED_DESCRIPTION,
    );
    let text = truncate(
        &format!("{answer}\n\n{citations}\n-# {footer}"),
        limits::MESSAGE,
    );
    View {
        embed: Embed {
            title: None,
            description,
            fields: Vec::new(),
            footer: Some(truncate(&footer, limits::FOOTER)),
            colour: COLOUR,
        },
        text,
        buttons: vec![Button {
            id: ComponentId::ShowSource {
                fact: fact.id.to_string(),
            },
            label: "Show source".into(),
            style: ButtonStyle::Secondary,
            disabled: false,
        }],
    }
}

/// An answer with 👍 and 👎 buttons for the logged answer `answer`. Views without
/// room for them (a full row) are returned unchanged.
pub fn with_votes(mut view: View, answer: u64) -> View {
    if view.buttons.len() + 2 > limits::BUTTONS_PER_ROW {
        return view;
    }
    for (helpful, label) in [(true, "👍"), (false, "👎")] {
        view.buttons.push(Button {
            id: ComponentId::Vote { answer, helpful },
            label: label.into(),
            style: ButtonStyle::Secondary,
            disabled: false,
        });
    }
    view
}

/// What the bot says for any reply of the engine.
pub fn reply(kb: &KnowledgeBase, reply: &Reply<'_>, max_question_chars: usize) -> View {
    match reply {
        Reply::Answer { fact, .. } => answer(kb, fact),
        Reply::Abstain {
            reason,
            suggestions,
            ..
        } => {
            let opening = match reason {
                AbstainReason::Empty => {
                    "Ask me a question about the Russia–Ukraine talks, for example: *When was the grain deal signed?*".to_string()
                }
                AbstainReason::TooLong => format!(
                    "That is too long for me: ask it in at most {max_question_chars} characters."
                ),
                AbstainReason::NotCovered => {
                    "The documents I answer from do not cover that, so I will not guess.".into()
                }
                AbstainReason::Ambiguous => {
                    "That could mean more than one thing in my documents, so I will not guess.".into()
                }
            };
            let mut description = opening;
            if suggestions.is_empty() {
                let topics = kb.topics().join(", ");
                let _ = write!(description, "\n\nI can answer questions on: {topics}.");
            } else {
                let _ = write!(
                    description,
                    "\n\nQuestions I can answer that come close (press one to ask it):"
                );
                for s in suggestions {
                    let _ = write!(description, "\n• {}", escape_markdown(s.question));
                }
            }
            let buttons = suggestions
                .iter()
                .take(limits::BUTTONS_PER_ROW)
                .filter_map(|s| {
                    let index = s.fact.questions.iter().position(|q| q == s.question)?;
                    Some(Button {
                        id: ComponentId::Ask {
                            fact: s.fact.id.to_string(),
                            question: index,
                        },
                        label: truncate(s.question, limits::BUTTON_LABEL),
                        style: ButtonStyle::Primary,
                        disabled: false,
                    })
                })
                .collect();
            let description = truncate(&description, limits::MESSAGE);
            View {
                embed: Embed {
                    title: None,
                    description: description.clone(),
                    fields: Vec::new(),
                    footer: None,
                    colour: COLOUR_ABSTAIN,
                },
                text: description,
                buttons,
            }
        }
    }
}

/// The full citation of a fact: each quote, with its source's title and every piece of
/// metadata that is known.
pub fn source(kb: &KnowledgeBase, fact: &Fact) -> View {
    let mut fields = Vec::new();
    let mut text = String::new();
    for c in &fact.citations {
        let title = source_title(kb, &c.source);
        let mut value = quote_block(&c.quote);
        if let Some(s) = kb.source(&c.source) {
            for (label, v) in [
                ("Publisher", &s.publisher),
                ("Author", &s.author),
                ("Date", &s.date),
                ("Last checked", &s.checked),
                ("URL", &s.url),
            ] {
                if !v.is_empty() {
                    let _ = write!(value, "\n**{label}:** {}", escape_markdown(v));
                }
            }
            if s.as_of().is_none() {
                value.push_str("\n*Undated source.*");
            }
        }
        let _ = write!(text, "**{}**\n{value}\n\n", escape_markdown(&title));
        fields.push(Field {
            name: truncate(&title, limits::FIELD_NAME),
            value: truncate(&value, limits::FIELD_VALUE),
        });
    }
    fields.truncate(limits::EMBED_FIELDS);
    let footer = fact_footer(fact);
    let _ = write!(text, "-# {footer}");
    View {
        embed: Embed {
            title: Some("Source".into()),
            description: truncate(&escape_markdown(&fact.answer), 1000),
            fields,
            footer: Some(footer),
            colour: COLOUR,
        },
        text: truncate(&text, limits::MESSAGE),
        buttons: Vec::new(),
    }
}

/// A fact on its own (for `/fact`): like an answer, with a title.
pub fn fact(kb: &KnowledgeBase, fact: &Fact) -> View {
    let mut view = answer(kb, fact);
    view.embed.title = Some("A fact from the talks".into());
    view
}

/// The daily post: a fact with its citation, titled so the channel can tell it from an
/// answer to someone's question. `years_ago` is set when the post is the fact's
/// anniversary, and the title then says how long ago it happened.
pub fn fact_of_the_day(kb: &KnowledgeBase, fact: &Fact, years_ago: Option<i32>) -> View {
    let mut view = answer(kb, fact);
    let title = match years_ago {
        Some(1) => format!("{ON_THIS_DAY}, 1 year ago"),
        Some(n) if n > 1 => format!("{ON_THIS_DAY}, {n} years ago"),
        _ => FACT_OF_THE_DAY.to_string(),
    };
    view.text = truncate(&format!("**{title}**\n{}", view.text), limits::MESSAGE);
    view.embed.title = Some(title);
    view
}

const FACT_OF_THE_DAY: &str = "Fact of the day";
const ON_THIS_DAY: &str = "On this day";

/// Whether an embed title is that of a fact-of-the-day post.
pub fn is_fact_of_the_day_title(title: &str) -> bool {
    title == FACT_OF_THE_DAY || title.starts_with(ON_THIS_DAY)
}

/// One page of a timeline, with Previous/Next buttons that only `invoker` may press.
/// `page` is clamped to the pages there are.
pub fn timeline_page(
    kb: &KnowledgeBase,
    facts: &[&Fact],
    query: &TimelineQuery,
    page: usize,
    page_size: usize,
    invoker: u64,
) -> View {
    let page_size = page_size.max(1);
    let pages = facts.len().div_ceil(page_size).max(1);
    let page = page.min(pages - 1);
    let mut title = "Timeline of the talks".to_string();
    if let Some(topic) = &query.topic {
        let _ = write!(title, ": {}", escape_markdown(topic));
    }
    let mut description = String::new();
    if facts.is_empty() {
        description.push_str("No dated facts match.");
        let topics = kb.topics().join(", ");
        let _ = write!(description, " Topics: {topics}.");
    }
    for fact in facts.iter().skip(page * page_size).take(page_size) {
        let date = fact.date_label().unwrap_or_default();
        let entry = format!(
            "**{}** — {}\n-# {}\n\n",
            escape_markdown(&date),
            escape_markdown(&fact.answer),
            fact.id
        );
        // A page fits a plain message as well as an embed.
        if description.chars().count() + entry.chars().count() > limits::MESSAGE - 200 {
            description.push_str("…\n");
            break;
        }
        description.push_str(&entry);
    }
    let description = description.trim_end().to_string();
    let footer = format!("page {} of {pages} · {} dated facts", page + 1, facts.len());
    let text = truncate(
        &format!("**{title}**\n{description}\n-# {footer}"),
        limits::MESSAGE,
    );
    let mut buttons = Vec::new();
    if pages > 1 {
        let id = |page: usize| ComponentId::Page {
            page,
            invoker,
            from: query.from,
            to: query.to,
            topic: query.topic.clone(),
        };
        buttons.push(Button {
            id: id(page.saturating_sub(1)),
            label: "Previous".into(),
            style: ButtonStyle::Secondary,
            disabled: page == 0,
        });
        buttons.push(Button {
            id: id(page + 1),
            label: "Next".into(),
            style: ButtonStyle::Secondary,
            disabled: page + 1 >= pages,
        });
        // Two buttons of one row may not share an id: a disabled button keeps its
        // neighbour's target out of the way.
        if buttons[0].id == buttons[1].id {
            buttons.truncate(1);
        }
    }
    View {
        embed: Embed {
            title: Some(truncate(&title, limits::EMBED_TITLE)),
            description,
            fields: Vec::new(),
            footer: Some(footer),
            colour: COLOUR,
        },
        text,
        buttons,
    }
}

/// The sources, the number of facts and the version.
pub fn about(kb: &KnowledgeBase, version: &str) -> View {
    let mut description = format!(
        "parley answers questions about the direct talks between Russia and Ukraine since 2022, quoting its sources word for word. It knows {} facts from {} source{}:\n",
        kb.facts.len(),
        kb.sources.len(),
        if kb.sources.len() == 1 { "" } else { "s" }
    );
    for s in kb.sources.values() {
        let date = if s.date.is_empty() {
            "undated".to_string()
        } else {
            s.date.clone()
        };
        let _ = write!(
            description,
            "\n• *{}* ({})",
            escape_markdown(&source_title(kb, &s.id)),
            escape_markdown(&date)
        );
    }
    let footer = format!("parley {version}");
    View {
        embed: Embed {
            title: Some("About parley".into()),
            description: truncate(&description, limits::MESSAGE - 100),
            fields: Vec::new(),
            footer: Some(footer.clone()),
            colour: COLOUR,
        },
        text: truncate(&format!("{description}\n-# {footer}"), limits::MESSAGE),
        buttons: Vec::new(),
    }
}

/// How to use parley.
pub fn help(kb: &KnowledgeBase) -> View {
    let topics = kb.topics().join(", ");
    let description = format!(
        "Ask me about the Russia–Ukraine talks since 2022 and I answer with a quote from my sources, or tell you plainly that they do not say.\n\n\
         **Ask** — mention me with your question, send it to me in a DM, or use `/ask`.\n\
         **`/timeline`** — the dated events in order; narrow it with `from`, `to` (YYYY, YYYY-MM or YYYY-MM-DD) and `topic`.\n\
         **`/fact`** — a fact with its citation, optionally from one topic.\n\
         **`/source`** — the full citation of a fact, by its id (shown under every answer).\n\
         **`/about`** — my sources and how many facts I know.\n\n\
         Topics: {topics}."
    );
    View {
        embed: Embed {
            title: Some("How to use parley".into()),
            description: description.clone(),
            fields: Vec::new(),
            footer: None,
            colour: COLOUR,
        },
        text: truncate(&description, limits::MESSAGE),
        buttons: Vec::new(),
    }
}

/// The characters an embed counts against Discord's 6,000-character total.
pub fn embed_chars(embed: &Embed) -> usize {
    let count = |s: &str| s.chars().count();
    embed.title.as_deref().map_or(0, count)
        + count(&embed.description)
        + embed
            .fields
            .iter()
            .map(|f| count(&f.name) + count(&f.value))
            .sum::<usize>()
        + embed.footer.as_deref().map_or(0, count)
}

/// Whether a view is within every limit Discord enforces.
pub fn within_limits(view: &View) -> bool {
    let e = &view.embed;
    let count = |s: &str| s.chars().count();
    count(&view.text) <= limits::MESSAGE
        && e.title
            .as_deref()
            .is_none_or(|t| count(t) <= limits::EMBED_TITLE)
        && count(&e.description) <= limits::EMBED_DESCRIPTION
        && e.fields.len() <= limits::EMBED_FIELDS
        && e.fields
            .iter()
            .all(|f| count(&f.name) <= limits::FIELD_NAME && count(&f.value) <= limits::FIELD_VALUE)
        && e.footer
            .as_deref()
            .is_none_or(|f| count(f) <= limits::FOOTER)
        && embed_chars(e) <= limits::EMBED_TOTAL
        && view.buttons.len() <= limits::BUTTONS_PER_ROW
        && view
            .buttons
            .iter()
            .all(|b| count(&b.label) <= limits::BUTTON_LABEL && b.id.encode().len() <= 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use crate::config::EngineConfig;
    use std::path::Path;
    use std::sync::OnceLock;

    fn engine() -> &'static Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
            Engine::new(KnowledgeBase::load(&dir).unwrap(), EngineConfig::default())
        })
    }

    #[test]
    fn every_fact_fits_discord_in_every_view() {
        let kb = engine().knowledge();
        for f in &kb.facts {
            for view in [
                answer(kb, f),
                source(kb, f),
                fact(kb, f),
                fact_of_the_day(kb, f, Some(i32::MAX)),
            ] {
                assert!(within_limits(&view), "{}: {view:?}", f.id);
                for c in &f.citations {
                    let first_words: String = c.quote.chars().take(40).collect();
                    assert!(
                        view.embed
                            .description
                            .contains(&escape_markdown(&first_words))
                            || view
                                .embed
                                .fields
                                .iter()
                                .any(|x| x.value.contains(&escape_markdown(&first_words))),
                        "{}: the quote is shown",
                        f.id
                    );
                }
            }
        }
        assert!(within_limits(&about(kb, "1.0.0")));
        assert!(within_limits(&help(kb)));
    }

    #[test]
    fn an_answer_quotes_its_source_and_names_the_fact() {
        let kb = engine().knowledge();
        let f = &kb.facts[0];
        let v = answer(kb, f);
        assert!(v.embed.description.starts_with(&escape_markdown(&f.answer)));
        assert!(v.embed.description.contains("\n> "));
        assert!(v.embed.footer.as_deref().unwrap().contains(f.id.as_str()));
        assert!(v.text.contains(f.id.as_str()));
        assert_eq!(
            v.buttons[0].id,
            ComponentId::ShowSource {
                fact: f.id.to_string()
            }
        );
    }

    #[test]
    fn an_abstention_offers_its_suggestions_as_buttons() {
        let e = engine();
        let reply = e.ask("When did Qatar start mediating?");
        assert!(reply.fact().is_none());
        let v = super::reply(e.knowledge(), &reply, 1000);
        assert!(v.text.contains("do not cover"));
        assert_eq!(v.buttons.len(), reply.suggestions().len());
        for (b, s) in v.buttons.iter().zip(reply.suggestions()) {
            let ComponentId::Ask { fact, question } = &b.id else {
                panic!("{b:?}")
            };
            assert_eq!(e.fact(fact).unwrap().questions[*question], s.question);
        }
        assert!(within_limits(&v));
    }

    #[test]
    fn timeline_pages_show_every_dated_fact_once_in_order() {
        let kb = engine().knowledge();
        let query = TimelineQuery::default();
        let facts = crate::timeline::timeline(kb, &query);
        let pages = facts.len().div_ceil(3);
        let mut seen = Vec::new();
        for page in 0..pages {
            let v = timeline_page(kb, &facts, &query, page, 3, 7);
            assert!(within_limits(&v));
            assert_eq!(v.buttons.len(), 2);
            assert_eq!(v.buttons[0].disabled, page == 0);
            assert_eq!(v.buttons[1].disabled, page + 1 == pages);
            for f in &facts {
                if v.embed.description.contains(&format!("-# {}\n", f.id))
                    || v.embed.description.ends_with(&format!("-# {}", f.id))
                {
                    seen.push(f.id.clone());
                }
            }
        }
        let expected: Vec<_> = facts.iter().map(|f| f.id.clone()).collect();
        assert_eq!(seen, expected);
        let past_the_end = timeline_page(kb, &facts, &query, 99, 3, 7);
        assert!(
            past_the_end
                .embed
                .footer
                .unwrap()
                .starts_with(&format!("page {pages} of"))
        );
    }

    #[test]
    fn markdown_in_knowledge_text_is_shown_as_written() {
        assert_eq!(
            escape_markdown("a *b* _c_ `d`"),
            "a \\*b\\* \\_c\\_ \\`d\\`"
        );
        assert_eq!(escape_markdown("> quoted\n# head"), "\\> quoted\n\\# head");
        assert_eq!(escape_markdown("<@123>"), "\\<@123>");
    }

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("ééé", 3), "ééé");
        assert_eq!(truncate("éééé", 3), "éé…");
    }

    #[test]
    fn the_fact_of_the_day_says_what_it_is() {
        let kb = engine().knowledge();
        let f = &kb.facts[0];
        let plain = fact_of_the_day(kb, f, None);
        assert_eq!(plain.embed.title.as_deref(), Some("Fact of the day"));
        assert!(
            plain.embed.description.contains("\n> "),
            "the quote is shown"
        );
        assert!(plain.text.starts_with("**Fact of the day**"));
        let anniversary = fact_of_the_day(kb, f, Some(3));
        assert_eq!(
            anniversary.embed.title.as_deref(),
            Some("On this day, 3 years ago")
        );
        assert_eq!(
            fact_of_the_day(kb, f, Some(1)).embed.title.as_deref(),
            Some("On this day, 1 year ago")
        );
        for view in [plain, anniversary] {
            assert!(within_limits(&view));
        }
    }
}
