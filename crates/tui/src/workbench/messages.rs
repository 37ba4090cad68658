//! What the workbench said and what happened to its user, kept to be read whole: every
//! status message, error and background result goes through [`Workbench::say`] into the
//! message log (the last 200, with their time; `:messages` lists them, newest first,
//! wrapped), and the notices of the store link (a request of mine decided, an alert
//! firing) into the notifications (`:notifications`), shown on the status bar of every
//! screen as they arrive. Both read the workbench's clock, which a headless script pins
//! ([`Workbench::set_clock`]) so that frames do not depend on when they were drawn.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use weir_app::notices::NoticeLevel;

use super::Workbench;
use crate::action::Level;
use crate::overlay::{LogLine, Overlay};

/// How many messages (and notifications) are kept.
pub const KEEP: usize = 200;

/// The time the workbench reads: the system's, or a fixed one for tests and scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<SystemTime>,
}

impl Clock {
    pub fn now(&self) -> SystemTime {
        self.fixed.unwrap_or_else(SystemTime::now)
    }
}

/// `hh:mm:ss` of `t`, in UTC.
pub fn hms(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One message: when it was said (last, if it was said several times in a row), how
/// loud, what, and how many times in a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub at: SystemTime,
    pub level: Level,
    pub text: String,
    pub times: usize,
}

/// The last [`KEEP`] messages, oldest first; a message repeated in a row is kept once
/// with a count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    entries: VecDeque<Entry>,
}

impl Log {
    /// Keep `text`; false when it repeats the last message (counted, not added).
    pub fn push(&mut self, at: SystemTime, level: Level, text: &str) -> bool {
        if let Some(last) = self.entries.back_mut()
            && last.level == level
            && last.text == text
        {
            last.times += 1;
            last.at = at;
            return false;
        }
        self.entries.push_back(Entry {
            at,
            level,
            text: text.to_string(),
            times: 1,
        });
        while self.entries.len() > KEEP {
            self.entries.pop_front();
        }
        true
    }

    pub fn last(&self) -> Option<&Entry> {
        self.entries.back()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The messages, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().rev()
    }

    /// The overlay's lines, newest first.
    fn lines(&self) -> Vec<LogLine> {
        self.newest_first()
            .map(|e| LogLine {
                at: hms(e.at),
                level: e.level,
                text: match e.times {
                    1 => e.text.clone(),
                    n => format!("{} (×{n})", e.text),
                },
            })
            .collect()
    }
}

/// The status bar's level for a notice.
fn notice_level(level: NoticeLevel) -> Level {
    match level {
        NoticeLevel::Ok => Level::Ok,
        NoticeLevel::Warning => Level::Warning,
        NoticeLevel::Alert => Level::Error,
    }
}

impl Workbench {
    /// Show `msg` on the status bar and keep it in the message log; an empty message
    /// clears the status bar (and is not kept).
    pub fn say(&mut self, level: Level, msg: impl Into<String>) {
        let msg = msg.into();
        if msg.is_empty() {
            self.status = None;
            return;
        }
        let at = self.clock.now();
        self.log.push(at, level, &msg);
        self.said_since_key += 1;
        self.status = Some((level, msg));
    }

    /// Read the time from a fixed clock (`Some`), or from the system again (`None`):
    /// the message log and the notifications are stamped with it.
    pub fn set_clock(&mut self, fixed: Option<SystemTime>) {
        self.clock = Clock { fixed };
    }

    /// The workbench's time now.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Every status message kept (`:messages`).
    pub fn messages(&self) -> &Log {
        &self.log
    }

    /// Every notification kept (`:notifications`).
    pub fn notifications(&self) -> &Log {
        &self.notes
    }

    /// Notifications that arrived since `:notifications` was last opened.
    pub fn unread_notifications(&self) -> usize {
        self.unread_notes
    }

    /// Messages said since the last key press that the status bar no longer shows (a
    /// later one replaced them before the user could read them).
    pub fn unseen_messages(&self) -> usize {
        self.said_since_key.saturating_sub(1)
    }

    /// A status set directly (`app.status = …`, by the command line's set-up) is kept
    /// in the log too.
    pub(super) fn catch_status(&mut self) {
        let Some((level, msg)) = &self.status else {
            return;
        };
        let logged = self
            .log
            .last()
            .is_some_and(|e| e.level == *level && e.text == *msg);
        if !logged {
            let (level, msg) = (*level, msg.clone());
            self.log.push(self.clock.now(), level, &msg);
        }
    }

    /// Take the store link's notices: each is kept, counted as unread and said on the
    /// status bar of whatever screen is open, unless that bar shows the answer to the
    /// user's last key (then the ✉ badge and `:notifications` have it).
    pub(super) fn take_notices(&mut self) {
        let Some(link) = self.store.as_mut() else {
            return;
        };
        for n in link.take_notices() {
            let level = notice_level(n.level);
            let at = self.clock.now();
            self.notes.push(at, level, &n.text);
            self.unread_notes += 1;
            if self.said_since_key > 0 {
                // the answer to the user's last key stays on the status bar: the notice
                // waits under the ✉ badge and in the log
                self.log.push(at, level, &n.text);
            } else {
                self.say(level, n.text);
            }
        }
    }

    /// `:messages` or `:notifications`: the kept entries whole, newest first.
    pub(super) fn show_log(&mut self, notifications: bool) {
        let (title, lines, empty) = if notifications {
            self.unread_notes = 0;
            (
                "notifications",
                self.notes.lines(),
                "no notifications yet: decisions on your requests and alerts appear here",
            )
        } else {
            (
                "messages",
                self.log.lines(),
                "no messages yet: everything the status bar says is kept here",
            )
        };
        self.overlay = Some(Overlay::Log {
            title,
            lines,
            empty,
            top: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_log_keeps_the_last_messages_and_counts_repeats() {
        let t = UNIX_EPOCH + Duration::from_secs(86_400 * 3 + 3600 * 13 + 62);
        assert_eq!(hms(t), "13:01:02");
        let mut log = Log::default();
        assert!(log.push(t, Level::Error, "boom"));
        assert!(!log.push(t, Level::Error, "boom"));
        assert!(log.push(t, Level::Info, "boom"));
        assert_eq!(log.len(), 2);
        let lines = log.lines();
        assert_eq!(lines[1].text, "boom (×2)");
        assert_eq!(lines[0].level, Level::Info);
        for i in 0..KEEP + 10 {
            log.push(t, Level::Info, &format!("m{i}"));
        }
        assert_eq!(log.len(), KEEP);
        assert_eq!(
            log.newest_first().next().map(|e| e.text.as_str()),
            Some("m209")
        );
    }
}
