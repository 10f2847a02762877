//! When a server's fact of the day is due: a local time of day in an IANA time zone,
//! turned into instants. Pure: the current instant is always an argument, never read
//! from a clock, so every rule below is a table test.
//!
//! The rules, where the calendar is awkward:
//! - A time that does not exist on a spring-forward day (02:30 in New York on the day
//!   clocks jump from 02:00 to 03:00) posts at the first instant after the gap (03:00),
//!   not an hour late as "compatible" disambiguation would have it.
//! - A time that happens twice on a fall-back day posts once, at the first occurrence.
//! - A local date that never happens in the zone (Samoa skipped 30 December 2011 when
//!   it moved across the date line) has no post.
//!
//! Time zones come from the IANA database compiled into parley, so results do not
//! depend on the tzdata installed on the machine.

use std::sync::LazyLock;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};

/// The compiled-in time zone database (not the machine's, which may be older or absent).
static ZONES: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// How far ahead [`next_post_at`] looks for a date that has a post. A date is skipped
/// only when it does not exist in the zone, which happens at most once in a row.
const LOOKAHEAD_DAYS: usize = 8;

/// A daily post time: a local time of day in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub time: Time,
    pub zone: TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("time {0:?} is not HH:MM (24-hour clock, two digits each, e.g. 09:00 or 18:30)")]
    TimeFormat(String),
    #[error("time {0:?} does not exist: hours go from 00 to 23 and minutes from 00 to 59")]
    TimeRange(String),
    #[error("{0:?} is not a known IANA time zone (examples: Europe/Kyiv, America/New_York, UTC)")]
    UnknownZone(String),
}

impl Schedule {
    /// A schedule from the text a server admin types: `"HH:MM"` and an IANA zone name.
    pub fn parse(time: &str, zone: &str) -> Result<Schedule, ScheduleError> {
        Ok(Schedule {
            time: parse_time(time)?,
            zone: parse_zone(zone)?,
        })
    }

    /// The zone's IANA name in its canonical spelling (the lookup ignores case), the
    /// form to store. `None` only for a zone built by hand rather than by [`parse_zone`].
    pub fn zone_name(&self) -> Option<&str> {
        self.zone.iana_name()
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02} {}",
            self.time.hour(),
            self.time.minute(),
            self.zone_name().unwrap_or("(unnamed time zone)")
        )
    }
}

/// Parses `"HH:MM"` on the 24-hour clock. Exactly two digits each: `"7:5"` is more
/// likely a typo than 07:05, and `"24:00"` would be the next day.
pub fn parse_time(text: &str) -> Result<Time, ScheduleError> {
    let text = text.trim();
    let format = || ScheduleError::TimeFormat(text.to_string());
    let (hours, minutes) = text.split_once(':').ok_or_else(format)?;
    let two_digits = |part: &str| -> Result<i8, ScheduleError> {
        if part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| format())
        } else {
            Err(format())
        }
    };
    let (hour, minute) = (two_digits(hours)?, two_digits(minutes)?);
    Time::new(hour, minute, 0, 0).map_err(|_| ScheduleError::TimeRange(text.to_string()))
}

/// Looks up an IANA zone name (case-insensitive). `Etc/Unknown` is refused: it names
/// no place, so a post time in it means nothing.
pub fn parse_zone(name: &str) -> Result<TimeZone, ScheduleError> {
    let name = name.trim();
    match ZONES.get(name) {
        Ok(zone) if !zone.is_unknown() => Ok(zone),
        _ => Err(ScheduleError::UnknownZone(name.to_string())),
    }
}

/// Every zone name the compiled-in database knows, for offering choices as an admin
/// types; each one is accepted by [`parse_zone`].
pub fn zone_names() -> impl Iterator<Item = String> {
    ZONES
        .available()
        .map(|name| name.as_str().to_string())
        .filter(|name| name != "Etc/Unknown")
}

/// The calendar date on the wall at `at` in `zone`.
pub fn local_date(at: Timestamp, zone: &TimeZone) -> Date {
    zone.to_datetime(at).date()
}

/// The instant of the post for local date `date`, or `None` when that date never
/// happens in the zone (or lies outside the range of representable instants).
pub fn scheduled_at(date: Date, schedule: &Schedule) -> Option<Timestamp> {
    let wall = DateTime::from_parts(date, schedule.time);
    let at = match schedule.zone.to_ambiguous_timestamp(wall).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(wall).ok()?,
        // The first occurrence: a repeated hour must not post twice, and the earlier one
        // is when people expect it.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(wall).ok()?,
        // Read with the offset after the gap, the wall time names an instant before the
        // transition; the transition itself is the first instant after the gap.
        AmbiguousOffset::Gap { after, .. } => {
            let before_gap = after.to_timestamp(wall).ok()?;
            schedule.zone.following(before_gap).next()?.timestamp()
        }
    };
    // A gap that swallows the rest of the day lands on the next date, which has its own
    // post: this date then has none.
    (local_date(at, &schedule.zone) == date).then_some(at)
}

/// The next instant, at or after `now`, at which a post is scheduled for a local date
/// after `last_posted`. The posting loop sleeps until then and asks [`due`].
///
/// `None` only when no such instant is representable (the end of the calendar), or the
/// zone has no post on any of the next days, which no real zone does.
pub fn next_post_at(
    now: Timestamp,
    schedule: &Schedule,
    last_posted: Option<Date>,
) -> Option<Timestamp> {
    // Start a day early: where a zone's offset moves back across midnight, today's
    // wall date can come round before yesterday's post time has passed.
    let mut date = local_date(now, &schedule.zone).yesterday().ok()?;
    if let Some(last) = last_posted
        && last >= date
    {
        date = last.tomorrow().ok()?;
    }
    for _ in 0..LOOKAHEAD_DAYS {
        if let Some(at) = scheduled_at(date, schedule)
            && at >= now
        {
            return Some(at);
        }
        date = date.tomorrow().ok()?;
    }
    None
}

/// The local date whose post is due at `now`: its scheduled instant has come, less than
/// `catch_up` ago, and nothing has been posted for it or any later date. `None` when
/// nothing is due: not yet time, already posted, or missed by more than `catch_up`
/// (the bot was down too long; that day is skipped).
///
/// When windows overlap (a window near a day long), the latest date wins, so one
/// outage never owes two posts.
pub fn due(
    now: Timestamp,
    schedule: &Schedule,
    last_posted: Option<Date>,
    catch_up: Duration,
) -> Option<Date> {
    let earliest = local_date(
        now.saturating_sub(catch_up).unwrap_or(Timestamp::MIN),
        &schedule.zone,
    );
    let mut date = local_date(now, &schedule.zone);
    while date >= earliest && last_posted.is_none_or(|last| date > last) {
        if let Some(at) = scheduled_at(date, schedule)
            && let Ok(late) = Duration::try_from(now.duration_since(at))
            && late < catch_up
        {
            return Some(date);
        }
        date = date.yesterday().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn schedule(time: &str, zone: &str) -> Schedule {
        Schedule::parse(time, zone).unwrap()
    }

    const THREE_HOURS: Duration = Duration::from_secs(3 * 3600);

    #[test]
    fn parses_hh_mm_and_rejects_the_rest() {
        assert_eq!(parse_time("09:00"), Ok(Time::constant(9, 0, 0, 0)));
        assert_eq!(parse_time(" 23:59 "), Ok(Time::constant(23, 59, 0, 0)));
        assert_eq!(parse_time("00:00"), Ok(Time::MIN));
        for bad in [
            "", "7:5", "7:05", "0900", "09:00:00", "09-00", "+9:00", "ab:cd",
        ] {
            assert_eq!(
                parse_time(bad),
                Err(ScheduleError::TimeFormat(bad.trim().into())),
                "{bad:?}"
            );
        }
        for bad in ["25:00", "24:00", "12:60"] {
            assert_eq!(parse_time(bad), Err(ScheduleError::TimeRange(bad.into())));
        }
        let message = parse_time("25:00").unwrap_err().to_string();
        assert!(message.contains("00 to 23"), "{message}");
    }

    #[test]
    fn parses_iana_zones_and_rejects_unknown_ones() {
        let s = schedule("09:00", "europe/kyiv");
        assert_eq!(s.zone_name(), Some("Europe/Kyiv"));
        assert_eq!(s.to_string(), "09:00 Europe/Kyiv");
        assert_eq!(schedule("09:00", "UTC").zone_name(), Some("UTC"));
        for bad in ["", "Mars/Olympus_Mons", "Etc/Unknown", "+03:00"] {
            assert_eq!(
                parse_zone(bad),
                Err(ScheduleError::UnknownZone(bad.into())),
                "{bad:?}"
            );
        }
        let message = parse_zone("Europe/Kiev2").unwrap_err().to_string();
        assert!(message.contains("IANA time zone"), "{message}");
    }

    #[test]
    fn due_exactly_from_the_scheduled_instant_until_the_window_closes() {
        let s = schedule("09:00", "Europe/Kyiv"); // UTC+3 in summer
        let today = day("2024-06-15");
        let cases = [
            ("2024-06-15T05:59:59Z", None),
            ("2024-06-15T06:00:00Z", Some(today)),
            ("2024-06-15T06:00:01Z", Some(today)),
            ("2024-06-15T08:59:59Z", Some(today)),
            ("2024-06-15T09:00:00Z", None),
            ("2024-06-15T09:00:01Z", None),
        ];
        for (now, expected) in cases {
            assert_eq!(
                due(at(now), &s, Some(day("2024-06-14")), THREE_HOURS),
                expected,
                "{now}"
            );
        }
        assert_eq!(
            next_post_at(at("2024-06-15T05:59:59Z"), &s, Some(day("2024-06-14"))),
            Some(at("2024-06-15T06:00:00Z"))
        );
        assert_eq!(
            next_post_at(at("2024-06-15T06:00:00Z"), &s, Some(day("2024-06-14"))),
            Some(at("2024-06-15T06:00:00Z"))
        );
    }

    #[test]
    fn missed_beyond_the_window_waits_for_the_next_day() {
        let s = schedule("09:00", "UTC");
        let now = at("2024-06-15T12:30:00Z");
        assert_eq!(due(now, &s, Some(day("2024-06-14")), THREE_HOURS), None);
        assert_eq!(
            next_post_at(now, &s, Some(day("2024-06-14"))),
            Some(at("2024-06-16T09:00:00Z"))
        );
        // Never posted at all: the same rules.
        assert_eq!(due(now, &s, None, THREE_HOURS), None);
        assert_eq!(
            due(at("2024-06-15T10:00:00Z"), &s, None, THREE_HOURS),
            Some(day("2024-06-15"))
        );
    }

    #[test]
    fn posted_today_is_not_due_again_and_tomorrow_is() {
        let s = schedule("09:00", "UTC");
        let today = Some(day("2024-06-15"));
        assert_eq!(
            due(at("2024-06-15T09:00:05Z"), &s, today, THREE_HOURS),
            None
        );
        assert_eq!(
            next_post_at(at("2024-06-15T09:00:05Z"), &s, today),
            Some(at("2024-06-16T09:00:00Z"))
        );
        assert_eq!(
            due(at("2024-06-16T09:00:00Z"), &s, today, THREE_HOURS),
            Some(day("2024-06-16"))
        );
    }

    #[test]
    fn a_window_past_midnight_owes_the_previous_date() {
        let s = schedule("23:00", "UTC");
        let now = at("2024-06-16T01:00:00Z");
        assert_eq!(
            due(now, &s, Some(day("2024-06-14")), THREE_HOURS),
            Some(day("2024-06-15"))
        );
        assert_eq!(due(now, &s, Some(day("2024-06-15")), THREE_HOURS), None);
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_posts_when_the_gap_ends() {
        // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let s = schedule("02:30", "America/New_York");
        let date = day("2024-03-10");
        assert_eq!(scheduled_at(date, &s), Some(at("2024-03-10T07:00:00Z")));
        assert_eq!(
            next_post_at(at("2024-03-10T05:00:00Z"), &s, Some(day("2024-03-09"))),
            Some(at("2024-03-10T07:00:00Z"))
        );
        let yesterday = Some(day("2024-03-09"));
        assert_eq!(
            due(at("2024-03-10T06:59:59Z"), &s, yesterday, THREE_HOURS),
            None
        );
        assert_eq!(
            due(at("2024-03-10T07:00:00Z"), &s, yesterday, THREE_HOURS),
            Some(date)
        );
        // The day before and after, 02:30 exists and is used as is.
        assert_eq!(
            scheduled_at(day("2024-03-11"), &s),
            Some(at("2024-03-11T06:30:00Z"))
        );
        // Kyiv, 2024-03-31: 03:00 EET jumps to 04:00 EEST (01:00 UTC).
        let kyiv = schedule("03:30", "Europe/Kyiv");
        assert_eq!(
            scheduled_at(day("2024-03-31"), &kyiv),
            Some(at("2024-03-31T01:00:00Z"))
        );
    }

    #[test]
    fn a_time_in_the_fall_back_fold_posts_once_at_the_first_occurrence() {
        // New York, 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
        let s = schedule("01:30", "America/New_York");
        let date = day("2024-11-03");
        let first = at("2024-11-03T05:30:00Z");
        assert_eq!(scheduled_at(date, &s), Some(first));
        let yesterday = Some(day("2024-11-02"));
        assert_eq!(
            next_post_at(at("2024-11-03T04:00:00Z"), &s, yesterday),
            Some(first)
        );
        assert_eq!(due(first, &s, yesterday, THREE_HOURS), Some(date));
        // Posted at the first 01:30: the second one is not a new post.
        let second = at("2024-11-03T06:30:00Z");
        assert_eq!(due(second, &s, Some(date), THREE_HOURS), None);
        assert_eq!(
            next_post_at(second, &s, Some(date)),
            Some(at("2024-11-04T06:30:00Z"))
        );
    }

    #[test]
    fn zones_across_the_date_line() {
        // Kiritimati is UTC+14: its 09:00 on 2 June is 19:00 UTC on 1 June.
        let s = schedule("09:00", "Pacific/Kiritimati");
        let now = at("2024-06-01T19:00:00Z");
        assert_eq!(local_date(now, &s.zone), day("2024-06-02"));
        assert_eq!(
            due(now, &s, Some(day("2024-06-01")), THREE_HOURS),
            Some(day("2024-06-02"))
        );
        // Samoa skipped 30 December 2011: from the 29th the next post is on the 31st.
        let apia = schedule("09:00", "Pacific/Apia");
        assert_eq!(scheduled_at(day("2011-12-30"), &apia), None);
        let after_29th = at("2011-12-29T20:00:00Z"); // 10:00 on the 29th, UTC-10
        assert_eq!(
            next_post_at(after_29th, &apia, Some(day("2011-12-29"))),
            Some(at("2011-12-30T19:00:00Z")) // 09:00 on the 31st, UTC+14
        );
        assert_eq!(
            due(
                at("2011-12-30T19:00:00Z"),
                &apia,
                Some(day("2011-12-29")),
                THREE_HOURS
            ),
            Some(day("2011-12-31"))
        );
    }

    #[test]
    fn leap_days_come_and_go() {
        let s = schedule("09:00", "UTC");
        assert_eq!(
            next_post_at(at("2024-02-28T10:00:00Z"), &s, Some(day("2024-02-28"))),
            Some(at("2024-02-29T09:00:00Z"))
        );
        assert_eq!(
            next_post_at(at("2024-02-29T09:00:01Z"), &s, Some(day("2024-02-29"))),
            Some(at("2024-03-01T09:00:00Z"))
        );
        assert_eq!(
            next_post_at(at("2023-02-28T10:00:00Z"), &s, Some(day("2023-02-28"))),
            Some(at("2023-03-01T09:00:00Z"))
        );
        assert_eq!(
            due(
                at("2024-02-29T09:00:00Z"),
                &s,
                Some(day("2024-02-28")),
                THREE_HOURS
            ),
            Some(day("2024-02-29"))
        );
    }

    #[test]
    fn a_last_post_in_the_future_is_respected() {
        // The clock went back after a post: nothing until the day after that post.
        let s = schedule("09:00", "UTC");
        let last = Some(day("2024-06-20"));
        assert_eq!(due(at("2024-06-15T09:00:00Z"), &s, last, THREE_HOURS), None);
        assert_eq!(
            next_post_at(at("2024-06-15T09:00:00Z"), &s, last),
            Some(at("2024-06-21T09:00:00Z"))
        );
    }
}
