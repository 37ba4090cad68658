//! Keys and their vim-style notation (`a`, `<Enter>`, `<C-s>`, `<S-Tab>`, `<lt>`), shared
//! by headless scripts, keymap files and the help screen.

use crate::refused::Refused;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};

/// A key press: a code and its modifiers. Shift is kept only where it is not already in
/// the character (`A` is just `A`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        match code {
            // Shift is in the character itself: <S-j> is J
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => Key {
                code: KeyCode::Char(c.to_ascii_uppercase()),
                mods: mods - KeyModifiers::SHIFT,
            },
            _ => Key { code, mods },
        }
    }

    pub fn char(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    pub fn ctrl(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    pub fn from_event(e: &KeyEvent) -> Key {
        // terminals report Shift+Tab as BackTab
        match e.code {
            KeyCode::BackTab => Key::new(KeyCode::BackTab, KeyModifiers::NONE),
            code => Key::new(code, e.modifiers),
        }
    }

    pub fn to_event(self) -> KeyEvent {
        KeyEvent {
            code: self.code,
            modifiers: self.mods,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    /// The printable character this key types, if it is one without Ctrl/Alt.
    pub fn typed(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c)
                if !self
                    .mods
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(c)
            }
            _ => None,
        }
    }

    /// Vim notation of this key.
    pub fn notation(&self) -> String {
        let name = match self.code {
            KeyCode::Char('<') => "lt".to_string(),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "BS".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PageUp".into(),
            KeyCode::PageDown => "PageDown".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let mut prefix = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            prefix.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            prefix.push_str("A-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            prefix.push_str("S-");
        }
        let plain_char = matches!(self.code, KeyCode::Char(c) if c != '<' && c != ' ');
        if prefix.is_empty() && plain_char {
            name
        } else {
            format!("<{prefix}{name}>")
        }
    }
}

/// Parse one `<...>` key name (without the brackets).
fn parse_named(inner: &str) -> Result<Key, Refused> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = inner;
    loop {
        let lower = rest.to_ascii_lowercase();
        if rest.len() > 2
            && (lower.starts_with("c-")
                || lower.starts_with("a-")
                || lower.starts_with("s-")
                || lower.starts_with("m-"))
        {
            mods |= match &lower[..1] {
                "c" => KeyModifiers::CONTROL,
                "s" => KeyModifiers::SHIFT,
                _ => KeyModifiers::ALT,
            };
            rest = &rest[2..];
        } else {
            break;
        }
    }
    let code = match rest.to_ascii_lowercase().as_str() {
        "enter" | "cr" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" if mods.contains(KeyModifiers::SHIFT) => {
            mods -= KeyModifiers::SHIFT;
            KeyCode::BackTab
        }
        "tab" => KeyCode::Tab,
        "bs" | "backspace" => KeyCode::Backspace,
        "del" | "delete" => KeyCode::Delete,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "space" => KeyCode::Char(' '),
        "lt" => KeyCode::Char('<'),
        "gt" => KeyCode::Char('>'),
        "bar" => KeyCode::Char('|'),
        f if f.len() >= 2
            && f.starts_with('f')
            && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
        {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        _ if rest.chars().count() == 1 => KeyCode::Char(rest.chars().next().unwrap_or(' ')),
        _ => return Err(format!("unknown key `<{inner}>`").into()),
    };
    Ok(Key::new(code, mods))
}

/// Parse a key sequence such as `:inbox<Enter>` or `<C-s>`. A `<` that does not start a
/// key name is typed as itself.
pub fn parse_keys(s: &str) -> Result<Vec<Key>, Refused> {
    let mut keys = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
            && end > 1
            && !rest[1..end].contains(['<', ' '])
        {
            keys.push(parse_named(&rest[1..end])?);
            rest = &rest[end + 1..];
            continue;
        }
        keys.push(Key::char(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_round_trips() {
        let keys =
            parse_keys(":inbox<Enter><Esc><Tab><S-Tab><C-s><Up>a<lt>b<Space><A-x><F5>").unwrap();
        let text: String = keys.iter().map(Key::notation).collect();
        assert_eq!(
            text,
            ":inbox<Enter><Esc><Tab><S-Tab><C-s><Up>a<lt>b<Space><A-x><F5>"
        );
        assert_eq!(parse_keys("<C-S>").unwrap(), vec![Key::ctrl('S')]);
        assert_eq!(parse_keys("<S-j>").unwrap(), vec![Key::char('J')]);
        assert!(parse_keys("<Nope>").unwrap_err().0.contains("unknown key"));
        assert_eq!(parse_keys("a < b").unwrap().len(), 5);
    }
}
