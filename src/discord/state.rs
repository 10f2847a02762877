//! What the bot remembers between events, in memory: cooldowns and the replies whose
//! questions may still be edited. Pure: the time is passed in. Both forget on restart,
//! which loses nothing that matters: a cooldown or an edit window is a few minutes long.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Entries are pruned once a map holds this many, so that memory stays bounded however
/// many people ask.
const PRUNE_AT: usize = 10_000;

/// Per-user and per-channel cooldowns between answers.
#[derive(Debug)]
pub struct Cooldowns {
    user: Duration,
    channel: Duration,
    users: HashMap<u64, Instant>,
    channels: HashMap<u64, Instant>,
    /// Users already told to wait during their current cooldown: one notice each, so
    /// that spamming the bot does not make it spam the channel.
    noticed: HashMap<u64, Instant>,
}

/// Why a question must wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wait {
    pub remaining: Duration,
    /// Whether to tell the user (the first refusal of a cooldown).
    pub notify: bool,
}

impl Cooldowns {
    pub fn new(user: Duration, channel: Duration) -> Cooldowns {
        Cooldowns {
            user,
            channel,
            users: HashMap::new(),
            channels: HashMap::new(),
            noticed: HashMap::new(),
        }
    }

    /// Takes an answer for `user` in `channel` at `now`, or says how long to wait.
    pub fn take(&mut self, user: u64, channel: u64, now: Instant) -> Result<(), Wait> {
        let left = |last: Option<&Instant>, period: Duration| {
            last.map(|t| period.saturating_sub(now.saturating_duration_since(*t)))
                .unwrap_or_default()
        };
        let remaining = left(self.users.get(&user), self.user)
            .max(left(self.channels.get(&channel), self.channel));
        if !remaining.is_zero() {
            let notify = self
                .noticed
                .get(&user)
                .is_none_or(|t| now.saturating_duration_since(*t) >= self.user.max(self.channel));
            if notify {
                self.noticed.insert(user, now);
            }
            return Err(Wait { remaining, notify });
        }
        if self.users.len() >= PRUNE_AT || self.channels.len() >= PRUNE_AT {
            self.prune(now);
        }
        if !self.user.is_zero() {
            self.users.insert(user, now);
        }
        if !self.channel.is_zero() {
            self.channels.insert(channel, now);
        }
        self.noticed.remove(&user);
        Ok(())
    }

    fn prune(&mut self, now: Instant) {
        let (user, channel) = (self.user, self.channel);
        let longest = user.max(channel);
        self.users
            .retain(|_, t| now.saturating_duration_since(*t) < user);
        self.channels
            .retain(|_, t| now.saturating_duration_since(*t) < channel);
        self.noticed
            .retain(|_, t| now.saturating_duration_since(*t) < longest);
    }
}

/// A reply parley posted to a question message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub asker: u64,
    pub channel: u64,
    pub reply: u64,
    /// Whether the reply is an embed (or plain text, where embeds are not allowed).
    pub embed: bool,
}

/// The replies whose questions may still be edited, by question message id.
#[derive(Debug)]
pub struct RecentReplies {
    window: Duration,
    replies: HashMap<u64, (Posted, Instant)>,
}

impl RecentReplies {
    pub fn new(window: Duration) -> RecentReplies {
        RecentReplies {
            window,
            replies: HashMap::new(),
        }
    }

    pub fn record(&mut self, question: u64, posted: Posted, now: Instant) {
        if self.replies.len() >= PRUNE_AT {
            let window = self.window;
            self.replies
                .retain(|_, (_, t)| now.saturating_duration_since(*t) < window);
        }
        self.replies.insert(question, (posted, now));
    }

    /// The reply to `question`, if it was posted within the edit window.
    pub fn get(&self, question: u64, now: Instant) -> Option<Posted> {
        self.replies
            .get(&question)
            .filter(|(_, t)| now.saturating_duration_since(*t) < self.window)
            .map(|(p, _)| *p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_user_waits_out_their_cooldown_and_is_told_once() {
        let t0 = Instant::now();
        let mut c = Cooldowns::new(5 * S, Duration::ZERO);
        assert_eq!(c.take(1, 10, t0), Ok(()));
        let first = c.take(1, 10, t0 + S).unwrap_err();
        assert_eq!(first.remaining, 4 * S);
        assert!(first.notify);
        assert!(!c.take(1, 10, t0 + 2 * S).unwrap_err().notify);
        assert_eq!(
            c.take(2, 10, t0 + 2 * S),
            Ok(()),
            "another user is not held"
        );
        assert_eq!(c.take(1, 10, t0 + 5 * S), Ok(()));
        assert!(
            c.take(1, 10, t0 + 6 * S).unwrap_err().notify,
            "a new cooldown, a new notice"
        );
    }

    #[test]
    fn a_channel_cooldown_holds_everyone_in_it() {
        let t0 = Instant::now();
        let mut c = Cooldowns::new(Duration::ZERO, 2 * S);
        assert_eq!(c.take(1, 10, t0), Ok(()));
        assert_eq!(c.take(2, 10, t0 + S).unwrap_err().remaining, S);
        assert_eq!(c.take(2, 11, t0 + S), Ok(()));
        assert_eq!(c.take(2, 10, t0 + 2 * S), Ok(()));
    }

    #[test]
    fn zero_turns_cooldowns_off() {
        let t0 = Instant::now();
        let mut c = Cooldowns::new(Duration::ZERO, Duration::ZERO);
        for _ in 0..3 {
            assert_eq!(c.take(1, 1, t0), Ok(()));
        }
    }

    #[test]
    fn memory_stays_bounded() {
        let t0 = Instant::now();
        let mut c = Cooldowns::new(S, S);
        for i in 0..(3 * PRUNE_AT as u64) {
            let _ = c.take(i, i, t0 + Duration::from_millis(i));
        }
        assert!(c.users.len() <= PRUNE_AT + 1);
    }

    #[test]
    fn edits_are_followed_within_the_window_only() {
        let t0 = Instant::now();
        let mut r = RecentReplies::new(300 * S);
        let posted = Posted {
            asker: 1,
            channel: 2,
            reply: 3,
            embed: true,
        };
        r.record(42, posted, t0);
        assert_eq!(r.get(42, t0 + 299 * S), Some(posted));
        assert_eq!(r.get(42, t0 + 300 * S), None);
        assert_eq!(r.get(7, t0), None);
    }
}
