//! Which fact a server sees today: every fact once before any repeats, in an order of
//! the server's own, with a fact's anniversary taking precedence. Pure: the history is
//! an argument; the store keeps it.
//!
//! The order is not a shuffled list but a ranking: each fact's rank is a hash of the
//! server's seed and the fact's id. A shuffle of the whole list would reorder every
//! remaining fact whenever the knowledge base gains or loses one; a ranking moves only
//! the fact that changed, so a server's order survives edits and a new fact simply
//! takes its place in the current cycle. The hash is written out here (FNV-1a and the
//! SplitMix64 finaliser) rather than taken from `std`, whose hasher may change between
//! Rust releases.

use std::collections::HashSet;

use jiff::civil::Date;

use crate::knowledge::Fact;
use crate::timeline::FactDate;

/// What the rotation needs to know of a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub date: Option<FactDate>,
}

impl<'a> From<&'a Fact> for Candidate<'a> {
    fn from(fact: &'a Fact) -> Self {
        Candidate {
            id: fact.id.as_str(),
            date: fact.date,
        }
    }
}

/// The fact to post, and whether it opens a new cycle (the caller then records it under
/// the next cycle number, which leaves the old history behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<'a> {
    pub fact: &'a str,
    pub new_cycle: bool,
}

/// The next fact for a server in the current cycle: an unseen fact whose anniversary
/// is `today` if there is one, otherwise the unseen fact ranked first for `seed`.
/// `None` when every fact has been seen (or there are none): the cycle is over.
///
/// Ids in `seen` that are no longer in `facts` are ignored, so removing a fact from the
/// knowledge base never blocks a cycle from ending.
pub fn next_fact<'a, S: AsRef<str>>(
    facts: &[Candidate<'a>],
    seen: &[S],
    seed: u64,
    today: Date,
) -> Option<&'a str> {
    let seen: HashSet<&str> = seen.iter().map(AsRef::as_ref).collect();
    let key = seed_key(seed);
    let unseen = || facts.iter().filter(|f| !seen.contains(f.id));
    let first = |candidates: &mut dyn Iterator<Item = &Candidate<'a>>| {
        candidates
            .min_by_key(|f| (rank(key, f.id), f.id))
            .map(|f| f.id)
    };
    let mut anniversaries = unseen().filter(|f| f.date.is_some_and(|d| is_anniversary(&d, today)));
    first(&mut anniversaries).or_else(|| first(&mut unseen()))
}

/// [`next_fact`], starting a new cycle when the current one is over. `seen` is the
/// current cycle in posting order: its last entry (yesterday's fact) is kept back on the
/// first day of the new cycle, so the end of one cycle never repeats at the start of
/// the next. `None` only when there are no facts.
pub fn choose<'a, S: AsRef<str>>(
    facts: &[Candidate<'a>],
    seen: &[S],
    seed: u64,
    today: Date,
) -> Option<Choice<'a>> {
    if let Some(fact) = next_fact(facts, seen, seed, today) {
        return Some(Choice {
            fact,
            new_cycle: false,
        });
    }
    let previous: Vec<&str> = seen.last().map(AsRef::as_ref).into_iter().collect();
    let none: [&str; 0] = [];
    let fact = next_fact(facts, &previous, seed, today)
        .or_else(|| next_fact(facts, &none, seed, today))?;
    Some(Choice {
        fact,
        new_cycle: true,
    })
}

/// Whether `today` is an anniversary of `date`: same month and day, in a later year.
/// Only dates known to the day count. A fact dated 29 February has its anniversary only
/// in leap years: "on this day" must be true, and 28 February or 1 March is not that
/// day. In other years it comes up in its turn like any other fact.
pub fn is_anniversary(date: &FactDate, today: Date) -> bool {
    let (Some(month), Some(day)) = (date.month, date.day) else {
        return false;
    };
    date.year < i32::from(today.year())
        && i8::try_from(month) == Ok(today.month())
        && i8::try_from(day) == Ok(today.day())
}

/// Spreads a server seed over all 64 bits, so that neighbouring seeds (consecutive
/// guild ids) give unrelated orders.
fn seed_key(seed: u64) -> u64 {
    splitmix64(seed)
}

/// A fact's place in a server's order: lower comes first.
fn rank(key: u64, id: &str) -> u64 {
    splitmix64(key ^ fnv1a(id))
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The SplitMix64 output function: a bijection on `u64` with full avalanche.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("fact-{i:02}")).collect()
    }

    fn undated(ids: &[String]) -> Vec<Candidate<'_>> {
        ids.iter().map(|id| Candidate { id, date: None }).collect()
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    /// A whole cycle's order, fact by fact, as the caller would walk it.
    fn cycle(facts: &[Candidate<'_>], seed: u64, today: Date) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        while let Some(id) = next_fact(facts, &seen, seed, today) {
            seen.push(id.to_string());
        }
        seen
    }

    #[test]
    fn every_fact_once_before_any_repeats() {
        let ids = ids(40);
        let facts = undated(&ids);
        let order = cycle(&facts, 7, day("2024-06-15"));
        assert_eq!(order.len(), 40);
        let distinct: HashSet<&String> = order.iter().collect();
        assert_eq!(distinct.len(), 40);
        assert_eq!(next_fact(&facts, &order, 7, day("2024-06-15")), None);
    }

    #[test]
    fn the_order_is_the_servers_own_and_stable() {
        let ids = ids(20);
        let facts = undated(&ids);
        let today = day("2024-06-15");
        let a = cycle(&facts, 1, today);
        assert_eq!(a, cycle(&facts, 1, today), "deterministic for a seed");
        assert_ne!(a, cycle(&facts, 2, today));
        assert_ne!(a, ids, "not the knowledge-base order");
        // Real guild ids, one apart: still different orders.
        let g = 1_234_567_890_123_456_789;
        assert_ne!(cycle(&facts, g, today), cycle(&facts, g + 1, today));
    }

    #[test]
    fn an_unseen_anniversary_comes_first() {
        let ids = ids(10);
        let today = day("2024-03-29");
        let plain = next_fact(&undated(&ids), &[] as &[&str], 5, today);
        for i in 0..ids.len() {
            let mut facts = undated(&ids);
            facts[i].date = Some("2022-03-29".parse().unwrap());
            assert_eq!(
                next_fact(&facts, &[] as &[&str], 5, today),
                Some(ids[i].as_str())
            );
            // Once seen, the rotation goes on as usual.
            let seen = [ids[i].as_str()];
            assert_eq!(
                next_fact(&facts, &seen, 5, today),
                next_fact(&undated(&ids), &seen, 5, today)
            );
            // Month precision, or the event's own day, is no anniversary.
            for date in ["2022-03", "2024-03-29"] {
                facts[i].date = Some(date.parse().unwrap());
                assert_eq!(next_fact(&facts, &[] as &[&str], 5, today), plain, "{date}");
            }
        }
    }

    #[test]
    fn leap_day_anniversaries_only_in_leap_years() {
        let leap: FactDate = "2020-02-29".parse().unwrap();
        assert!(is_anniversary(&leap, day("2024-02-29")));
        assert!(!is_anniversary(&leap, day("2023-02-28")));
        assert!(!is_anniversary(&leap, day("2023-03-01")));
        let plain: FactDate = "2022-05-16".parse().unwrap();
        assert!(is_anniversary(&plain, day("2023-05-16")));
        assert!(!is_anniversary(&plain, day("2023-05-17")));
        assert!(!is_anniversary(&"2022".parse().unwrap(), day("2023-01-01")));
    }

    #[test]
    fn facts_removed_from_the_knowledge_base_are_ignored() {
        let ids = ids(5);
        let facts = undated(&ids);
        let today = day("2024-06-15");
        let mut seen = vec!["gone-1".to_string(), "gone-2".to_string()];
        seen.extend(cycle(&facts, 3, today).into_iter().take(4));
        let last = next_fact(&facts, &seen, 3, today).unwrap();
        seen.push(last.to_string());
        assert_eq!(next_fact(&facts, &seen, 3, today), None, "the cycle ends");
    }

    #[test]
    fn facts_added_mid_cycle_get_their_turn_and_keep_the_order() {
        let today = day("2024-06-15");
        let old = ids(10);
        let before = cycle(&undated(&old), 9, today);
        let seen: Vec<String> = before[..5].to_vec();
        let mut grown = old.clone();
        grown.push("new-fact".to_string());
        let grown = undated(&grown);
        let mut rest = seen.clone();
        while let Some(id) = next_fact(&grown, &rest, 9, today) {
            rest.push(id.to_string());
        }
        assert_eq!(rest.len(), 11);
        assert!(rest.contains(&"new-fact".to_string()));
        // The old facts keep their relative order.
        let old_order: Vec<&String> = rest.iter().filter(|id| *id != "new-fact").collect();
        assert_eq!(old_order, before.iter().collect::<Vec<_>>());
    }

    #[test]
    fn a_new_cycle_starts_without_repeating_yesterday() {
        let ids = ids(6);
        let facts = undated(&ids);
        let today = day("2024-06-15");
        let order = cycle(&facts, 11, today);
        assert_eq!(
            choose(&facts, &order[..2], 11, today),
            Some(Choice {
                fact: order[2].as_str(),
                new_cycle: false
            })
        );
        // Yesterday's fact opened the cycle: it must not open the next one too.
        let mut reordered = order.clone();
        reordered.rotate_left(1);
        let choice = choose(&facts, &reordered, 11, today).unwrap();
        assert!(choice.new_cycle);
        assert_ne!(choice.fact, order[0]);
        assert_eq!(choice.fact, order[1]);
        // A single fact repeats, as it must.
        let one = undated(&ids[..1]);
        assert_eq!(
            choose(&one, &ids[..1], 11, today),
            Some(Choice {
                fact: "fact-00",
                new_cycle: true
            })
        );
        assert_eq!(choose(&[], &[] as &[&str], 11, today), None);
    }
}
