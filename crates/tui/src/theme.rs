//! Colours of the workbench. The shipped themes live in themes/*.ron; the `prod` theme
//! is used whenever the environment is production. Loading and its diagnostics are in
//! `theme_file.rs`.

/// The colour type of a theme's slots, for code that builds or checks themes.
pub use ratatui::style::Color;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

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
    /// The colour roles, in the order of the struct's fields (and of theme files).
    pub const ROLES: [&'static str; 15] = [
        "fg",
        "bg",
        "muted",
        "accent",
        "border",
        "border_focus",
        "selection_fg",
        "selection_bg",
        "error",
        "warning",
        "ok",
        "status_fg",
        "status_bg",
        "keyword",
        "string",
    ];

    /// The colour of a role by its field name, as theme files write it.
    pub fn role(&self, role: &str) -> Option<Color> {
        let i = Self::ROLES.iter().position(|r| *r == role)?;
        Some(self.colors()[i])
    }

    /// Every role's colour, in the order of `ROLES`.
    pub fn colors(&self) -> [Color; 15] {
        [
            self.fg,
            self.bg,
            self.muted,
            self.accent,
            self.border,
            self.border_focus,
            self.selection_fg,
            self.selection_bg,
            self.error,
            self.warning,
            self.ok,
            self.status_fg,
            self.status_bg,
            self.keyword,
            self.string,
        ]
    }

    /// The colour of a role by its field name, for setting it from a theme file.
    pub fn role_mut(&mut self, role: &str) -> Option<&mut Color> {
        Some(match role {
            "fg" => &mut self.fg,
            "bg" => &mut self.bg,
            "muted" => &mut self.muted,
            "accent" => &mut self.accent,
            "border" => &mut self.border,
            "border_focus" => &mut self.border_focus,
            "selection_fg" => &mut self.selection_fg,
            "selection_bg" => &mut self.selection_bg,
            "error" => &mut self.error,
            "warning" => &mut self.warning,
            "ok" => &mut self.ok,
            "status_fg" => &mut self.status_fg,
            "status_bg" => &mut self.status_bg,
            "keyword" => &mut self.keyword,
            "string" => &mut self.string,
            _ => return None,
        })
    }

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

    /// The bordered block of a pane, its border marking focus and its title in accent.
    pub fn pane(&self, title: String, focused: bool) -> Block<'static> {
        Block::default()
            .borders(Borders::ALL)
            .border_style(self.border(focused))
            .title(Span::styled(title, self.accent()))
    }

    pub fn status(&self) -> Style {
        Style::default().fg(self.status_fg).bg(self.status_bg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_name_every_colour_in_order() {
        let mut t = Theme::default();
        for (i, role) in Theme::ROLES.iter().enumerate() {
            *t.role_mut(role).unwrap() = Color::Indexed(i as u8);
        }
        for (i, c) in t.colors().iter().enumerate() {
            assert_eq!(*c, Color::Indexed(i as u8), "{}", Theme::ROLES[i]);
            assert_eq!(t.role(Theme::ROLES[i]), Some(*c));
        }
        assert_eq!(t.role("name"), None);
    }
}
