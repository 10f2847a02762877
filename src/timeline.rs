//! Dates as precisely as a source gives them, and the timeline of dated facts.
//!
//! A [`FactDate`] is a year, a month or a day; it stands for the whole period, so a fact
//! dated "2022-04" falls within `--from 2022-04-10` (the periods overlap). This module
//! does not parse free wording ("early April"): that is kept verbatim in the fact's
//! `date_text`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::knowledge::{Fact, KnowledgeBase};

/// A date at year, month or day precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FactDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("expected YYYY, YYYY-MM or YYYY-MM-DD")]
    Format,
    #[error("month {0} is not between 1 and 12")]
    Month(u32),
    #[error("day {day} does not exist in {year}-{month:02}")]
    Day { year: i32, month: u8, day: u32 },
}

impl FromStr for FactDate {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, DateError> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let number = |p: &str, len: usize| -> Result<u32, DateError> {
            if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().map_err(|_| DateError::Format)
            } else {
                Err(DateError::Format)
            }
        };
        let (year, month, day) = match parts.as_slice() {
            [y] => (number(y, 4)?, None, None),
            [y, m] => (number(y, 4)?, Some(number(m, 2)?), None),
            [y, m, d] => (number(y, 4)?, Some(number(m, 2)?), Some(number(d, 2)?)),
            _ => return Err(DateError::Format),
        };
        let year = year as i32;
        let month = match month {
            Some(m) if !(1..=12).contains(&m) => return Err(DateError::Month(m)),
            Some(m) => Some(m as u8),
            None => None,
        };
        let day = match (month, day) {
            (Some(m), Some(d)) if d == 0 || d > days_in_month(year, m) as u32 => {
                return Err(DateError::Day {
                    year,
                    month: m,
                    day: d,
                });
            }
            (_, d) => d.map(|d| d as u8),
        };
        Ok(FactDate { year, month, day })
    }
}

impl fmt::Display for FactDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl FactDate {
    /// The first day of the period, as (year, month, day).
    pub fn start(&self) -> (i32, u8, u8) {
        (self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    /// The last day of the period, as (year, month, day).
    pub fn end(&self) -> (i32, u8, u8) {
        let month = self.month.unwrap_or(12);
        let day = self.day.unwrap_or_else(|| days_in_month(self.year, month));
        (self.year, month, day)
    }

    /// Whether the period overlaps `[from, to]` (either bound open).
    pub fn overlaps(&self, from: Option<&FactDate>, to: Option<&FactDate>) -> bool {
        from.is_none_or(|from| self.end() >= from.start())
            && to.is_none_or(|to| self.start() <= to.end())
    }
}

impl Ord for FactDate {
    /// Earlier periods first; of two periods starting the same day, the shorter first.
    fn cmp(&self, other: &Self) -> Ordering {
        self.start()
            .cmp(&other.start())
            .then_with(|| self.end().cmp(&other.end()))
    }
}

impl PartialOrd for FactDate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// What to put on a timeline.
#[derive(Debug, Clone, Default)]
pub struct TimelineQuery {
    pub from: Option<FactDate>,
    pub to: Option<FactDate>,
    /// Keeps facts whose topic contains this word (case-insensitive).
    pub topic: Option<String>,
}

/// The dated facts that match the query, in date order (ties by fact id).
pub fn timeline<'kb>(kb: &'kb KnowledgeBase, query: &TimelineQuery) -> Vec<&'kb Fact> {
    let topic = query.topic.as_ref().map(|t| t.trim().to_lowercase());
    let mut facts: Vec<&Fact> = kb
        .facts
        .iter()
        .filter(|f| {
            f.date
                .is_some_and(|d| d.overlaps(query.from.as_ref(), query.to.as_ref()))
        })
        .filter(|f| {
            topic
                .as_deref()
                .is_none_or(|t| f.topic.to_lowercase().contains(t))
        })
        .collect();
    facts.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.id.cmp(&b.id)));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> FactDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_three_precisions() {
        assert_eq!(d("2022").to_string(), "2022");
        assert_eq!(d("2022-07").to_string(), "2022-07");
        assert_eq!(d("2022-02-24").to_string(), "2022-02-24");
        assert_eq!(d("2024-02-29").day, Some(29));
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "",
            "22",
            "2022-7",
            "2022-13",
            "2022-00",
            "2023-02-29",
            "2022-04-31",
            "2022-07-01-01",
            "early 2022",
            "２０２２",
        ] {
            assert!(bad.parse::<FactDate>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn periods_overlap_ranges() {
        let april = d("2022-04");
        assert!(april.overlaps(Some(&d("2022-04-10")), None));
        assert!(april.overlaps(None, Some(&d("2022-04-01"))));
        assert!(!april.overlaps(Some(&d("2022-05")), None));
        assert!(!april.overlaps(None, Some(&d("2022-03-31"))));
        assert!(d("2022").overlaps(Some(&d("2022-12-31")), Some(&d("2023"))));
    }

    #[test]
    fn orders_by_start_then_shorter_first() {
        let mut dates = [d("2023-07"), d("2022"), d("2022-02-24"), d("2022-02")];
        dates.sort();
        let got: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(got, ["2022", "2022-02", "2022-02-24", "2023-07"]);
    }
}
