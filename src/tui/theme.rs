//! Colours of the workbench. The shipped themes live in themes/*.ron; the `prod` theme
//! is used whenever the environment is production. Loading and its diagnostics are in
//! `theme_file.rs`.

use ratatui::style::{Color, Modifier, Style};

/// Every colour role the screens use. Screens ask for roles, never for raw colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub fg: Color,
    pub bg: Color,
    /// Secondary text: hints, counts, disabled items.
    pub muted: Color,
    /// Titles, keys in help, the selected palette entry's match.
    pub accent: Color,
    pub border: Color,
    /// Border of the focused pane.
    pub border_focus: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub error: Color,
    pub warning: Color,
    pub ok: Color,
    pub status_fg: Color,
    pub status_bg: Color,
    /// SQL keywords in the SQL editor.
    pub keyword: Color,
    /// String literals in the SQL editor.
    pub string: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            name: "default".into(),
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::DarkGray,
            accent: Color::Cyan,
            border: Color::Gray,
            border_focus: Color::Cyan,
            selection_fg: Color::Black,
            selection_bg: Color::Cyan,
            error: Color::Red,
            warning: Color::Yellow,
            ok: Color::Green,
            status_fg: Color::Black,
            status_bg: Color::Gray,
            keyword: Color::Magenta,
            string: Color::Green,
        }
    }
}

impl Theme {
    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }

    pub fn selected(&self) -> Style {
        Style::default()
            .fg(self.selection_fg)
            .bg(self.selection_bg)
            .add_modifier(Modifier::BOLD)
    }

    pub fn border(&self, focused: bool) -> Style {
        Style::default().fg(if focused {
            self.border_focus
        } else {
            self.border
        })
    }

    pub fn muted(&self) -> Style {
        Style::default().fg(self.muted)
    }

    pub fn accent(&self) -> Style {
        Style::default()
            .fg(self.accent)
            .add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        Style::default().fg(self.error)
    }

    pub fn warning(&self) -> Style {
        Style::default().fg(self.warning)
    }

    pub fn ok(&self) -> Style {
        Style::default().fg(self.ok)
    }

    pub fn status(&self) -> Style {
        Style::default().fg(self.status_fg).bg(self.status_bg)
    }
}
