//! The ids of parley's buttons. Everything a button needs is in its id (Discord allows
//! 100 characters), so buttons keep working after a restart and no state is kept per
//! message.

use crate::timeline::FactDate;

/// Discord's limit on a component's custom id.
pub const MAX_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentId {
    /// Show a fact's full citation, to the presser only.
    ShowSource { fact: String },
    /// Ask a suggested question: the `question`-th example question of `fact`.
    Ask { fact: String, question: usize },
    /// A 👍 (`helpful`) or 👎 on a logged answer.
    Vote { answer: u64, helpful: bool },
    /// Turn a `/timeline` to `page`; only `invoker` may.
    Page {
        page: usize,
        invoker: u64,
        from: Option<FactDate>,
        to: Option<FactDate>,
        topic: Option<String>,
    },
}

impl ComponentId {
    /// The id as Discord stores it. Fact ids and topics are kebab-case, so `:` cannot
    /// occur inside a part.
    pub fn encode(&self) -> String {
        fn opt(v: Option<String>) -> String {
            v.unwrap_or_else(|| "-".into())
        }
        match self {
            ComponentId::ShowSource { fact } => format!("src:{fact}"),
            ComponentId::Ask { fact, question } => format!("ask:{fact}:{question}"),
            ComponentId::Vote { answer, helpful } => {
                format!("vote:{}:{answer}", if *helpful { "up" } else { "down" })
            }
            ComponentId::Page {
                page,
                invoker,
                from,
                to,
                topic,
            } => format!(
                "tl:{page}:{invoker}:{}:{}:{}",
                opt(from.map(|d| d.to_string())),
                opt(to.map(|d| d.to_string())),
                opt(topic.clone())
            ),
        }
    }

    /// Reads an id back; `None` for anything parley did not make.
    pub fn decode(id: &str) -> Option<ComponentId> {
        fn part(p: &str) -> Option<&str> {
            (!p.is_empty() && p != "-").then_some(p)
        }
        let parts: Vec<&str> = id.split(':').collect();
        match parts.as_slice() {
            ["src", fact] if !fact.is_empty() => Some(ComponentId::ShowSource {
                fact: fact.to_string(),
            }),
            ["ask", fact, question] if !fact.is_empty() => Some(ComponentId::Ask {
                fact: fact.to_string(),
                question: question.parse().ok()?,
            }),
            ["vote", direction, answer] => Some(ComponentId::Vote {
                answer: answer.parse().ok()?,
                helpful: match *direction {
                    "up" => true,
                    "down" => false,
                    _ => return None,
                },
            }),
            ["tl", page, invoker, from, to, topic] => Some(ComponentId::Page {
                page: page.parse().ok()?,
                invoker: invoker.parse().ok()?,
                from: match part(from) {
                    Some(d) => Some(d.parse().ok()?),
                    None => None,
                },
                to: match part(to) {
                    Some(d) => Some(d.parse().ok()?),
                    None => None,
                },
                topic: part(topic).map(str::to_string),
            }),
            _ => None,
        }
    }

    /// Whether the id can be stored in a button (short enough, no `:` inside a part).
    pub fn fits(&self) -> bool {
        let clean = |s: &str| !s.contains(':') && !s.is_empty();
        let parts_ok = match self {
            ComponentId::ShowSource { fact } | ComponentId::Ask { fact, .. } => clean(fact),
            ComponentId::Page { topic, .. } => topic.as_deref().is_none_or(clean),
            ComponentId::Vote { .. } => true,
        };
        parts_ok && self.encode().len() <= MAX_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_id_round_trips() {
        let ids = [
            ComponentId::ShowSource {
                fact: "grain-deal-signed".into(),
            },
            ComponentId::Ask {
                fact: "grain-deal-signed".into(),
                question: 3,
            },
            ComponentId::Page {
                page: 2,
                invoker: 123_456_789_012_345_678,
                from: Some("2022-03".parse().unwrap()),
                to: None,
                topic: Some("grain-deal".into()),
            },
            ComponentId::Page {
                page: 0,
                invoker: 1,
                from: None,
                to: Some("2025".parse().unwrap()),
                topic: None,
            },
            ComponentId::Vote {
                answer: u64::MAX,
                helpful: true,
            },
            ComponentId::Vote {
                answer: 7,
                helpful: false,
            },
        ];
        for id in ids {
            assert!(id.fits(), "{id:?}");
            assert_eq!(ComponentId::decode(&id.encode()), Some(id));
        }
    }

    #[test]
    fn foreign_or_damaged_ids_are_refused() {
        for bad in [
            "",
            "src:",
            "ask:x:y",
            "tl:1:2:3",
            "tl:x:1:-:-:-",
            "tl:0:1:2022-13:-:-",
            "vote:up:",
            "vote:sideways:3",
            "vote:up:-1",
            "other:thing",
        ] {
            assert_eq!(ComponentId::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_overlong_topic_does_not_fit() {
        let id = ComponentId::Page {
            page: 0,
            invoker: u64::MAX,
            from: None,
            to: None,
            topic: Some("x".repeat(80)),
        };
        assert!(!id.fits());
    }
}
