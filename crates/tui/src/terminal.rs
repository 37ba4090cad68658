//! Running the workbench on a real terminal: alternate screen, raw mode, restore on exit
//! and on panic (ratatui's init installs the hook), resize, one event loop.
//!
//! The loop blocks on input until the next tick (every 100 ms: background work is polled
//! and screens re-read their data when due) and draws only when something may have
//! changed: after a key or a resize, while background work runs (the spinner turns) and
//! on the turn after it ended, and otherwise once a second (figures, ages and clocks).
//! Drawing every tick kept a workbench on `:instances` busy for nothing
//! (bench/results/instances.txt).

use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};

use super::keys::Key;
use super::view;
use super::workbench::Workbench;

/// How often the loop turns without input.
const TICK: Duration = Duration::from_millis(100);
/// How often the screen is drawn when nothing else asks for it.
const REDRAW: Duration = Duration::from_secs(1);

/// Run until the user quits. The terminal is restored whatever happens.
pub fn run(mut app: Workbench) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> std::io::Result<()> {
        let mut next_tick = Instant::now();
        let mut drawn_at: Option<Instant> = None;
        let mut dirty = true;
        let mut was_busy = false;
        loop {
            if Instant::now() >= next_tick {
                let spin = app.spin;
                app.tick();
                next_tick = Instant::now() + TICK;
                // the spinner turns while background work runs; the turn after it
                // stopped shows the work's result
                let busy = app.spin != spin;
                dirty |= busy || was_busy;
                was_busy = busy;
            }
            if dirty || drawn_at.is_none_or(|t| t.elapsed() >= REDRAW) {
                terminal.draw(|f| view::draw(&mut app, f))?;
                drawn_at = Some(Instant::now());
                dirty = false;
            }
            if app.quit {
                return Ok(());
            }
            if !event::poll(next_tick.saturating_duration_since(Instant::now()))? {
                continue;
            }
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    app.handle_key(Key::from_event(&k));
                    dirty = true;
                }
                // the next draw uses the new size
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    })();
    ratatui::restore();
    result
}
