//! Running the workbench on a real terminal: alternate screen, raw mode, restore on exit
//! and on panic (ratatui's init installs the hook), resize, one event loop.

use std::time::Duration;

use crossterm::event::{self, Event, KeyEventKind};

use super::keys::Key;
use super::view;
use super::workbench::Workbench;

/// Run until the user quits. The terminal is restored whatever happens.
pub fn run(mut app: Workbench) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> std::io::Result<()> {
        loop {
            app.tick();
            terminal.draw(|f| view::draw(&mut app, f))?;
            if app.quit {
                return Ok(());
            }
            if !event::poll(Duration::from_millis(100))? {
                continue;
            }
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    app.handle_key(Key::from_event(&k))
                }
                // the next draw uses the new size
                Event::Resize(..) => {}
                _ => {}
            }
        }
    })();
    ratatui::restore();
    result
}
