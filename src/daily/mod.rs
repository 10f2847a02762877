//! The fact of the day, decided: when a server's post is due ([`schedule`]) and which
//! fact it gets ([`rotation`]). Pure and synchronous like the engine: the current
//! instant, the server's settings and its history are arguments. Reading the clock,
//! sleeping, sending and recording belong to the Discord adapter and [`crate::store`].
//!
//! The posting loop this is made for, per server:
//! 1. `due(now, schedule, last claimed date, catch_up)` names the local date owed, if any;
//! 2. the fact is [`rotation::choose`]n from the server's current cycle;
//! 3. the claim (server, date, fact, [`nonce`]) is stored before sending, and marked
//!    sent after, so a restart resends an unsent claim with the same nonce instead of
//!    choosing again;
//! 4. sleep until `next_post_at(now, schedule, last claimed date)`.

pub mod rotation;
pub mod schedule;

use jiff::civil::Date;

pub use rotation::{Candidate, Choice, choose, next_fact};
pub use schedule::{Schedule, ScheduleError, due, local_date, next_post_at};

/// The message nonce for a server's post on a local date: the same for every attempt,
/// so Discord can recognise a resend of a message it already has, and different for
/// every (server, date). Discord allows 25 characters: the guild id in base 36 (at most
/// 13) and the date as `YYYYMMDD` need 22 with the separator.
pub fn nonce(guild: u64, date: Date) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut base36 = Vec::new();
    let mut rest = guild;
    loop {
        base36.push(char::from(DIGITS[(rest % 36) as usize]));
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    let guild: String = base36.into_iter().rev().collect();
    format!(
        "{guild}-{:04}{:02}{:02}",
        date.year(),
        date.month(),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let date: Date = "2024-06-15".parse().unwrap();
        let max = nonce(u64::MAX, date);
        assert_eq!(max, "3w5e11264sgsf-20240615");
        assert!(max.len() <= 25);
        assert_eq!(nonce(0, date), "0-20240615");
        assert_eq!(nonce(35, date), "z-20240615");
        assert_eq!(nonce(36, date), "10-20240615");
        assert_ne!(nonce(36, date), nonce(36, "2024-06-16".parse().unwrap()));
    }
}
