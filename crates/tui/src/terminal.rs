//! Running the workbench on a real terminal: alternate screen, raw mode, restore on exit
//! and on panic (ratatui's init installs the hook), resize, one event loop.
//!
//! The loop blocks on input until the next tick. It turns fast ([`TICK`], 100 ms) while
//! something happens: background work runs (the spinner turns, and the turn after it
//! ended shows its result), or a key or a resize came within [`ACTIVE`] (what a key
//! started, a check or a save, shows at once). Otherwise it turns once a second
//! ([`IDLE_TICK`]) and draws on each such turn: figures, ages and clocks move on, screens
//! re-read their data when due (`:instances` each second), the tree looks at jobs/, and
//! the store's changes by others arrive. A key is answered at once whatever the pace:
//! input wakes the loop, and the first tick after a key comes within [`TICK`].
//! Waking ten times a second for nothing kept an idle workbench busy
//! (bench/results/workbench.txt); drawing every tick did on `:instances`
//! (bench/results/instances.txt).

use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};

use super::keys::Key;
use super::view;
use super::workbench::Workbench;

/// How often the loop turns while something happens.
const TICK: Duration = Duration::from_millis(100);
/// How often the loop turns, and draws, when nothing happens.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// How long after a key or a resize the loop keeps turning fast.
const ACTIVE: Duration = Duration::from_secs(3);
/// How often the screen is drawn while the loop turns fast and nothing asks for it.
const REDRAW: Duration = Duration::from_secs(1);

/// When the loop ticks and draws: the pace policy, apart from the terminal so it can be
/// tested with made-up times.
#[derive(Debug)]
struct Pace {
    next_tick: Instant,
    /// Turn fast until then (the last key or resize plus [`ACTIVE`]).
    active_until: Option<Instant>,
    drawn_at: Option<Instant>,
    dirty: bool,
    was_busy: bool,
}

impl Pace {
    fn new(now: Instant) -> Pace {
        Pace {
            next_tick: now,
            active_until: None,
            drawn_at: None,
            dirty: true,
            was_busy: false,
        }
    }

    fn tick_due(&self, now: Instant) -> bool {
        now >= self.next_tick
    }

    /// A tick ended at `now`; `busy`: background work runs.
    fn ticked(&mut self, now: Instant, busy: bool) {
        // the spinner turns while background work runs; the turn after it stopped shows
        // the work's result
        self.dirty |= busy || self.was_busy;
        self.was_busy = busy;
        let fast = busy || self.active_until.is_some_and(|t| now < t);
        if fast {
            self.next_tick = now + TICK;
        } else {
            self.next_tick = now + IDLE_TICK;
            // the once-a-second redraw rides on the idle tick: one wake-up, not two
            self.dirty = true;
        }
    }

    /// A key or a resize came at `now`: draw, and tick soon and often for a while.
    fn input(&mut self, now: Instant) {
        self.dirty = true;
        self.active_until = Some(now + ACTIVE);
        self.next_tick = self.next_tick.min(now + TICK);
    }

    fn draw_due(&self, now: Instant) -> bool {
        self.dirty
            || self
                .drawn_at
                .is_none_or(|t| now.duration_since(t) >= REDRAW)
    }

    fn drawn(&mut self, now: Instant) {
        self.drawn_at = Some(now);
        self.dirty = false;
    }

    /// How long to wait for input before the next tick.
    fn wait(&self, now: Instant) -> Duration {
        self.next_tick.saturating_duration_since(now)
    }
}

/// Whether background work runs: the store link's (the spinner) or a screen's.
fn busy(app: &Workbench, spin_before: usize) -> bool {
    app.spin != spin_before || app.screens.iter().any(|s| s.busy())
}

/// Run until the user quits. The terminal is restored whatever happens.
pub fn run(mut app: Workbench) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> std::io::Result<()> {
        let mut pace = Pace::new(Instant::now());
        loop {
            if pace.tick_due(Instant::now()) {
                let spin = app.spin;
                app.tick();
                pace.ticked(Instant::now(), busy(&app, spin));
            }
            if pace.draw_due(Instant::now()) {
                terminal.draw(|f| view::draw(&mut app, f))?;
                pace.drawn(Instant::now());
            }
            if app.quit {
                return Ok(());
            }
            if !event::poll(pace.wait(Instant::now()))? {
                continue;
            }
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    app.handle_key(Key::from_event(&k));
                    pace.input(Instant::now());
                }
                // the next draw uses the new size
                Event::Resize(..) => pace.input(Instant::now()),
                _ => {}
            }
        }
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks `pace` as the loop does from `start` for `span` (busy as `busy` says at
    /// each tick); returns the times of the ticks and of the draws, from `start`.
    fn run_idle(
        pace: &mut Pace,
        start: Instant,
        span: Duration,
        busy: impl Fn(Duration) -> bool,
    ) -> (Vec<Duration>, Vec<Duration>) {
        let (mut ticks, mut draws) = (Vec::new(), Vec::new());
        let mut now = start;
        while now < start + span {
            if pace.tick_due(now) {
                ticks.push(now - start);
                pace.ticked(now, busy(now - start));
            }
            if pace.draw_due(now) {
                draws.push(now - start);
                pace.drawn(now);
            }
            now += pace.wait(now).max(Duration::from_millis(1));
        }
        (ticks, draws)
    }

    #[test]
    fn an_idle_workbench_wakes_once_a_second_to_tick_and_draw() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let (ticks, draws) = run_idle(&mut pace, start, Duration::from_secs(10), |_| false);
        assert_eq!(ticks.len(), 10, "{ticks:?}");
        assert_eq!(ticks, draws, "every idle tick draws, nothing else does");
        assert!(ticks.windows(2).all(|w| w[1] - w[0] == IDLE_TICK));
    }

    #[test]
    fn a_key_is_drawn_at_once_and_the_loop_turns_fast_for_a_while() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let (_, _) = run_idle(&mut pace, start, Duration::from_millis(1500), |_| false);
        // idle: the next tick is up to a second away
        let key_at = start + Duration::from_millis(1500);
        assert!(pace.wait(key_at) > TICK);
        pace.input(key_at);
        assert!(pace.draw_due(key_at), "a key is drawn at once");
        assert!(
            pace.wait(key_at) <= TICK,
            "the first tick after a key comes soon"
        );
        let (ticks, _) = run_idle(&mut pace, key_at, Duration::from_secs(6), |_| false);
        let fast = ticks.iter().filter(|t| **t <= ACTIVE).count();
        assert!(fast >= 29, "ticks every 100 ms for {ACTIVE:?}: {ticks:?}");
        let late: Vec<_> = ticks.iter().filter(|t| **t > ACTIVE).collect();
        assert!(
            late.windows(2).all(|w| *w[1] - *w[0] == IDLE_TICK),
            "then once a second again: {late:?}"
        );
    }

    #[test]
    fn background_work_turns_the_spinner_every_tick_and_shows_its_end() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        // work runs from 0.5 s to 2 s (as the first idle tick after 0.5 s sees it)
        let running = |t: Duration| t >= Duration::from_millis(500) && t < Duration::from_secs(2);
        let (ticks, draws) = run_idle(&mut pace, start, Duration::from_secs(3), running);
        let busy_ticks: Vec<_> = ticks.iter().filter(|t| running(**t)).collect();
        assert!(busy_ticks.len() >= 9, "{ticks:?}");
        for t in &busy_ticks {
            assert!(
                draws.contains(t),
                "the spinner is drawn at {t:?}: {draws:?}"
            );
        }
        let ended = ticks
            .iter()
            .find(|t| !running(**t) && **t >= Duration::from_secs(2));
        let ended = ended.copied().unwrap_or_default();
        assert!(
            ended < Duration::from_millis(2100),
            "the end is seen soon: {ended:?}"
        );
        assert!(draws.contains(&ended), "and drawn: {draws:?}");
    }

    #[test]
    fn while_turning_fast_without_changes_it_still_draws_once_a_second() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.drawn(start);
        pace.input(start);
        pace.drawn(start);
        let (_, draws) = run_idle(&mut pace, start, Duration::from_millis(2500), |_| false);
        assert_eq!(
            draws,
            vec![Duration::from_secs(1), Duration::from_secs(2)],
            "{draws:?}"
        );
    }
}
