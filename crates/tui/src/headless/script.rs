//! The key-script language of headless runs: parsing a script into steps with their line
//! numbers, and every mistake reported as `LINE: what is wrong; what to do` (the caller
//! puts the file name in front). The lines are described in `formats/headless.md`.

use crate::keys::{Key, parse_keys};
use crate::refused::Refused;
use crate::screens::instances::clock::epoch_ms;

/// One line of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Keys(Vec<Key>),
    /// The frame shows the text, in one row or wrapped over rows of one widget.
    Expect(String),
    /// Row N of the frame (1-based, the top row is 1) shows the text.
    ExpectLine(u16, String),
    Wait(u64),
    /// Turn the event loop until the screen shows the text, for at most the milliseconds.
    Until(String, u64),
    Resize(u16, u16),
    /// Act as this user (before the first other step).
    User(String),
    /// The workbench's clock stands at this time, epoch milliseconds (before the first
    /// other step); the text is kept for messages.
    Clock(i64, String),
}

impl Step {
    /// A step that sets the scene (`user`, `clock`) rather than acting on it.
    pub fn is_setting(&self) -> bool {
        matches!(self, Step::User(_) | Step::Clock(..))
    }

    /// A step that checks the screen (and counts as an expectation in a report).
    pub fn is_expectation(&self) -> bool {
        matches!(
            self,
            Step::Expect(_) | Step::ExpectLine(..) | Step::Until(..)
        )
    }
}

/// How long `until` waits without a timeout of its own.
pub const UNTIL_DEFAULT_MS: u64 = 10_000;

/// A parsed script: steps with their 1-based line numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub steps: Vec<(usize, Step)>,
}

impl Script {
    /// The user a `user NAME` line asks to act as, if any.
    pub fn user(&self) -> Option<&str> {
        self.steps.iter().find_map(|(_, s)| match s {
            Step::User(u) => Some(u.as_str()),
            _ => None,
        })
    }
}

/// A line of a script that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong; what to do.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// Parse a size such as `80x24`.
pub fn parse_size(s: &str) -> Result<(u16, u16), Refused> {
    let bad = || format!("size `{s}` is not WIDTHxHEIGHT; write it as 80x24");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u16 = w.trim().parse().map_err(|_| bad())?;
    let h: u16 = h.trim().parse().map_err(|_| bad())?;
    if !(20..=1000).contains(&w) || !(5..=1000).contains(&h) {
        return Err(
            format!("size {w}x{h} is out of range; use 20x5 to 1000x1000, e.g. 80x24").into(),
        );
    }
    Ok((w, h))
}

/// The text between double quotes at the start of `arg` (backslash escapes `\"` and
/// `\\`) and what follows it. `what` names the line for messages, e.g. `expect`.
fn quoted_then<'a>(arg: &'a str, what: &str, example: &str) -> Result<(String, &'a str), Refused> {
    let arg = arg.trim();
    let wrong = || -> Refused {
        format!("`{what} {arg}` has no text in double quotes; write {example}").into()
    };
    let body = arg.strip_prefix('"').ok_or_else(wrong)?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => {
                    return Err(format!(
                        "unknown escape `\\{other}` in {what}'s text; only \\\" and \\\\ are escapes"
                    )
                    .into());
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(format!("{what}'s text has no closing double quote; end it with `\"`").into())
}

/// Text in double quotes and nothing after it.
fn only_quoted(arg: &str, what: &str, example: &str) -> Result<String, Refused> {
    let (text, rest) = quoted_then(arg, what, example)?;
    if !rest.trim().is_empty() {
        return Err(format!(
            "`{}` follows {what}'s text; put everything to match inside the quotes",
            rest.trim()
        )
        .into());
    }
    Ok(text)
}

/// `"text" [MS]` of an `until` line.
fn until(arg: &str) -> Result<Step, Refused> {
    let (text, rest) = quoted_then(arg, "until", "until \"running\" 5000")?;
    let ms = match rest.trim() {
        "" => UNTIL_DEFAULT_MS,
        ms => ms.parse::<u64>().map_err(|_| {
            format!("until's timeout `{ms}` is not milliseconds; write until \"{text}\" 5000")
        })?,
    };
    Ok(Step::Until(text, ms))
}

/// `N "text"` of an `expect-line` line.
fn expect_line(arg: &str) -> Result<Step, Refused> {
    let arg = arg.trim();
    let (n, rest) = arg.split_once(' ').unwrap_or((arg, ""));
    let row = n.parse::<u16>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        format!("expect-line's row `{n}` is not a row number; rows count from 1 at the top: expect-line 1 \"weir\"")
    })?;
    let text = only_quoted(rest, "expect-line", "expect-line 1 \"weir\"")?;
    Ok(Step::ExpectLine(row, text))
}

/// A login as `weir user add` takes it.
fn user(arg: &str) -> Result<Step, Refused> {
    let name = arg.trim();
    let fits = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if !fits {
        return Err(format!(
            "`{name}` is not a login; use 1 to 63 letters, digits, `_`, `-`, `.` or `@`: user dora"
        )
        .into());
    }
    Ok(Step::User(name.to_string()))
}

fn clock(arg: &str) -> Result<Step, Refused> {
    let at = arg.trim();
    let ms = epoch_ms(at).filter(|ms| *ms >= 0).ok_or_else(|| {
        format!("`{at}` is not an RFC 3339 time after 1970; write clock 2026-01-01T00:00:00Z")
    })?;
    Ok(Step::Clock(ms, at.to_string()))
}

/// One non-empty, non-comment line.
fn step(line: &str) -> Result<Step, Refused> {
    let trimmed = line.trim_start();
    let (word, arg) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    match word {
        "expect" => only_quoted(arg, "expect", "expect \"saved\"").map(Step::Expect),
        "expect-line" => expect_line(arg),
        "wait" => arg.trim().parse::<u64>().map(Step::Wait).map_err(|_| {
            format!("wait's `{}` is not milliseconds; write wait 100", arg.trim()).into()
        }),
        "until" => until(arg),
        "resize" => {
            parse_size(arg.trim()).map(|(w, h)| Step::Resize(w, h)).map_err(|e| {
                Refused(format!("resize: {e}"))
            })
        }
        "user" => user(arg),
        "clock" => clock(arg),
        _ => parse_keys(line).map(Step::Keys).map_err(|e| {
            Refused(format!(
                "{e}; key names are <Enter>, <Esc>, <Tab>, <BS>, <Up>, <C-x>, <A-x>, <F1> and the like, and <lt> types `<`"
            ))
        }),
    }
}

/// Parse a whole script, reporting every bad line. `user` and `clock` lines set the scene
/// and must come before every other step.
pub fn parse_script(text: &str) -> Result<Script, Vec<ScriptError>> {
    let mut script = Script::default();
    let mut errors = Vec::new();
    let mut first_action: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let no = n + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match step(line) {
            Ok(s) if s.is_setting() => {
                if let Some(first) = first_action {
                    let word = trimmed.split(' ').next().unwrap_or(trimmed);
                    errors.push(ScriptError {
                        line: no,
                        message: format!(
                            "`{word}` comes after the first step (line {first}); move it to the top of the script, before any key, expect, wait, until or resize"
                        ),
                    });
                } else if script
                    .steps
                    .iter()
                    .any(|(_, old)| std::mem::discriminant(old) == std::mem::discriminant(&s))
                {
                    errors.push(ScriptError {
                        line: no,
                        message: "the scene is set once; keep one `user` and one `clock` line"
                            .into(),
                    });
                } else {
                    script.steps.push((no, s));
                }
            }
            Ok(s) => {
                first_action.get_or_insert(no);
                script.steps.push((no, s));
            }
            Err(e) => errors.push(ScriptError {
                line: no,
                message: e.0,
            }),
        }
    }
    if errors.is_empty() {
        Ok(script)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_and_report_every_bad_line() {
        let s = parse_script("# c\n:graph<Enter>\nexpect \"a \\\"b\\\"\"\nwait 5\nresize 100x30\n")
            .unwrap();
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[1].1, Step::Expect("a \"b\"".into()));
        let s = parse_script("until \"running\"\nuntil \"say \\\"hi\\\"\" 250\n").unwrap();
        assert_eq!(
            s.steps,
            [
                (1, Step::Until("running".into(), UNTIL_DEFAULT_MS)),
                (2, Step::Until("say \"hi\"".into(), 250)),
            ]
        );
        let e = parse_script("until running\nuntil \"x\" soon\n").unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[1].message.contains("milliseconds"), "{e:?}");
        let e = parse_script("expect nope\nwait x\nresize 3\n<Bad>\n").unwrap_err();
        assert_eq!(e.len(), 4);
        assert_eq!(
            e.iter().map(|e| e.line).collect::<Vec<_>>(),
            [1, 2, 3, 4],
            "{e:?}"
        );
        assert!(e[3].message.contains("unknown key"));
        // every message says what is wrong; what to do
        for err in &e {
            assert!(err.message.contains("; "), "{err}");
        }
        assert_eq!(
            e[0].to_string(),
            "1: `expect nope` has no text in double quotes; write expect \"saved\""
        );
    }

    #[test]
    fn expect_line_user_and_clock() {
        let s =
            parse_script("user dora\nclock 2026-01-01T00:00:00Z\nexpect-line 24 \"env test\"\n")
                .unwrap();
        assert_eq!(s.user(), Some("dora"));
        assert_eq!(
            s.steps,
            [
                (1, Step::User("dora".into())),
                (
                    2,
                    Step::Clock(1_767_225_600_000, "2026-01-01T00:00:00Z".into())
                ),
                (3, Step::ExpectLine(24, "env test".into())),
            ]
        );
        let e = parse_script("<Down>\nuser dora\nexpect-line 0 \"x\"\nclock soon\nuser a b\n")
            .unwrap_err();
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(e[0].message.contains("move it to the top"), "{e:?}");
        assert!(e[1].message.contains("rows count from 1"), "{e:?}");
        assert!(e[2].message.contains("RFC 3339"), "{e:?}");
        assert!(e[3].message.contains("not a login"), "{e:?}");
        let e = parse_script("user a\nuser b\n").unwrap_err();
        assert_eq!(e[0].line, 2);
    }
}
