//! The user's keymap file, `<config dir>/keymap.ron` (formats/keymap.md): only overrides
//! of the built-in bindings in `keymap.rs`, e.g. `Keymap(graph: {"A": "add-node", "a":
//! "none"})`. Every bad entry is reported and skipped; the good ones still apply.

use std::cell::RefCell;
use std::path::Path;

use super::config::{self, FileKind};
use super::keymap::{CONTEXTS, DEFAULTS, Keymap};
use super::keys::{Key, parse_keys};
use crate::jobfile::Diagnostic;
use crate::jobfile::de::{self, Problem};
use crate::jobfile::syntax::{self, Kind, LineIndex, MapEntry, Span, Value};

/// The keymap file's name inside the config directory.
pub const FILE_NAME: &str = "keymap.ron";

/// The action that removes a built-in binding.
pub const UNBIND: &str = "none";

const KIND: FileKind = FileKind {
    what: "keymap",
    head: "Keymap",
    doc: "formats/keymap.md",
};

/// Named keys, for "did you mean" on a misspelt `<...>`.
const KEY_NAMES: &[&str] = &[
    "Enter", "Esc", "Tab", "BS", "Del", "Up", "Down", "Left", "Right", "Home", "End", "PageUp",
    "PageDown", "Space", "lt", "gt", "bar", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
    "F10", "F11", "F12",
];

/// One entry of a keymap file: bind `key` in `context` to `action`, or unbind it (`None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub context: &'static str,
    pub key: Key,
    pub action: Option<String>,
}

/// The built-in keymap with the user's overrides from `<config dir>/keymap.ron`. A
/// missing file (or no config directory) is not an error.
pub fn load(config_dir: Option<&Path>) -> (Keymap, Vec<Diagnostic>) {
    let Some(dir) = config_dir else {
        return (Keymap::defaults(), Vec::new());
    };
    let path = dir.join(FILE_NAME);
    match config::read(&path) {
        Ok(None) => (Keymap::defaults(), Vec::new()),
        Ok(Some(src)) => {
            let (overrides, diagnostics) = parse(&path.display().to_string(), &src);
            (apply(&overrides), diagnostics)
        }
        Err(d) => (Keymap::defaults(), vec![*d]),
    }
}

/// The built-in bindings with `overrides` applied in order.
pub fn apply(overrides: &[Override]) -> Keymap {
    // Keymap has no way to remove a binding, so the table is rebuilt from the defaults.
    let mut table: Vec<(&str, Key, String)> = DEFAULTS
        .iter()
        .filter_map(
            |(ctx, keys, action, _)| match parse_keys(keys).ok()?.as_slice() {
                [key] => Some((*ctx, *key, action.to_string())),
                _ => None,
            },
        )
        .collect();
    for o in overrides {
        table.retain(|(ctx, key, _)| !(*ctx == o.context && *key == o.key));
        if let Some(action) = &o.action {
            table.push((o.context, o.key, action.clone()));
        }
    }
    let mut keymap = Keymap::default();
    for (ctx, key, action) in table {
        keymap.bind(ctx, key, &action);
    }
    keymap
}

/// Read a keymap file's overrides, with every problem in it (`file` is how diagnostics
/// name it). Entries with problems are left out; the others are returned.
pub fn parse(file: &str, src: &str) -> (Vec<Override>, Vec<Diagnostic>) {
    if config::is_blank(src) {
        return (Vec::new(), Vec::new());
    }
    let doc = match syntax::parse(src) {
        Ok(doc) => doc,
        Err(e) => {
            let d = config::syntax_diagnostic(file, &LineIndex::new(src), e, &KIND);
            return (Vec::new(), vec![d]);
        }
    };
    let mut problems = Vec::new();
    let overrides = overrides(&doc.value, &LineIndex::new(src), &mut problems);
    (overrides, config::diagnostics(file, src, problems))
}

fn overrides(root: &Value, index: &LineIndex<'_>, problems: &mut Vec<Problem>) -> Vec<Override> {
    let not_a_keymap = |span: Span, found: String| Problem {
        span,
        code: "not-a-keymap",
        message: format!("expected `Keymap(...)`, found {found}"),
        hint: Some("a keymap file holds one `Keymap(global: {\"<C-q>\": \"quit\"}, ...)`".into()),
    };
    let fields = match &root.kind {
        Kind::Struct {
            name: Some(n),
            fields,
            ..
        } if n.name != "Keymap" => {
            problems.push(not_a_keymap(n.span, format!("`{}(...)`", n.name)));
            fields.as_slice()
        }
        Kind::Struct { fields, .. } => fields.as_slice(),
        Kind::Unit => &[],
        other => {
            problems.push(not_a_keymap(root.head_span(), other.describe()));
            &[]
        }
    };
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for f in fields {
        let name = f.name.name.as_str();
        let Some(context) = CONTEXTS.iter().copied().find(|c| *c == name) else {
            let hint = match de::did_you_mean(name, CONTEXTS) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("the contexts are {}", CONTEXTS.join(", ")),
            };
            problems.push(Problem {
                span: f.name.span,
                code: "unknown-context",
                message: format!("unknown key context `{name}`"),
                hint: Some(hint),
            });
            continue;
        };
        if seen.contains(&context) {
            problems.push(Problem {
                span: f.name.span,
                code: "duplicate-context",
                message: format!("context `{context}` is given twice"),
                hint: Some("merge its bindings into the first one; this one is ignored".into()),
            });
            continue;
        }
        seen.push(context);
        let Kind::Map { entries, .. } = &f.value.kind else {
            problems.push(Problem {
                span: f.value.head_span(),
                code: "wrong-type",
                message: format!(
                    "`{context}` must be a map `{{\"key\": \"action\", ...}}`, found {}",
                    f.value.kind.describe()
                ),
                hint: Some(format!(
                    "e.g. {context}: {{\"<C-x>\": \"{}\"}}",
                    example(context)
                )),
            });
            continue;
        };
        out.extend(context_overrides(context, entries, index, problems));
    }
    out
}

/// The overrides of one context's map; problems are reported and their entries skipped.
fn context_overrides(
    context: &'static str,
    entries: &[MapEntry],
    index: &LineIndex<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Override> {
    let mut out = Vec::new();
    let mut keys: Vec<(Key, Span)> = Vec::new();
    for e in entries {
        let key = string(&e.key, problems).and_then(|text| match one_key(&text) {
            Ok(k) => Some(k),
            Err((message, hint)) => {
                problems.push(Problem {
                    span: e.key.span,
                    code: "bad-key",
                    message,
                    hint,
                });
                None
            }
        });
        let key = key.filter(|k| {
            let first = keys.iter().find(|(seen, _)| seen == k).map(|(_, s)| *s);
            match first {
                Some(span) => {
                    problems.push(Problem {
                        span: e.key.span,
                        code: "duplicate-key",
                        message: format!("key `{}` is bound twice in {context}", k.notation()),
                        hint: Some(format!(
                            "remove one of them; the first, on line {}, is used",
                            index.line_col(span.start).0
                        )),
                    });
                    false
                }
                None => {
                    keys.push((*k, e.key.span));
                    true
                }
            }
        });
        let action =
            string(&e.value, problems).and_then(|text| match check_action(context, &text) {
                Ok(a) => Some(a),
                Err(hint) => {
                    problems.push(Problem {
                        span: e.value.span,
                        code: "unknown-action",
                        message: format!("unknown action `{text}` in {context}"),
                        hint: Some(hint),
                    });
                    None
                }
            });
        let (Some(key), Some(action)) = (key, action) else {
            continue;
        };
        if action.is_none() && !bound_by_default(context, key) {
            let hint = if context != "global" && bound_by_default("global", key) {
                format!(
                    "here it runs its global binding; unbind it under global (for every context), or bind it in {context} to another action"
                )
            } else {
                "nothing to unbind: remove this entry".to_string()
            };
            problems.push(Problem {
                span: e.key.span,
                code: "not-bound",
                message: format!(
                    "key `{}` has no binding in {context} to remove",
                    key.notation()
                ),
                hint: Some(hint),
            });
            continue;
        }
        out.push(Override {
            context,
            key,
            action,
        });
    }
    out
}

/// A string value, or a problem (a bare name gets a "write it in quotes" hint).
fn string(v: &Value, problems: &mut Vec<Problem>) -> Option<String> {
    let inner = RefCell::new(Vec::new());
    let r = de::decode::<String>(v, &inner);
    problems.extend(inner.into_inner());
    match r {
        Ok(s) => Some(s),
        Err(mut p) => {
            if matches!(&v.kind, Kind::Ident(i) if i.name == "None") {
                p.hint = Some(format!("to unbind a key write \"{UNBIND}\""));
            }
            problems.push(p);
            None
        }
    }
}

/// Exactly one key in vim notation; else the message and a hint.
fn one_key(text: &str) -> Result<Key, (String, Option<String>)> {
    let keys = match parse_keys(text) {
        Ok(keys) => keys,
        Err(e) => return Err((e.to_string(), Some(named_key_hint(text)))),
    };
    match keys.as_slice() {
        [key] => Ok(*key),
        [] => Err((
            "the key is empty".into(),
            Some("write a key such as \"a\", \"<C-s>\" or \"<Enter>\"".into()),
        )),
        many => {
            let bracketed = format!("<{text}>");
            let hint = if parse_keys(&bracketed).is_ok_and(|k| k.len() == 1) {
                format!("named keys go in angle brackets: did you mean \"{bracketed}\"?")
            } else {
                "a keymap binds single keys; sequences such as `gg` are not supported".into()
            };
            Err((
                format!("`{text}` is {} keys, not one", many.len()),
                Some(hint),
            ))
        }
    }
}

/// "Did you mean" for the first `<...>` name in `text` that is not a key.
fn named_key_hint(text: &str) -> String {
    let all = "named keys: <Enter> <Esc> <Tab> <S-Tab> <BS> <Del> <Up> <Down> <Left> <Right> \
<Home> <End> <PageUp> <PageDown> <Space> <lt> <gt> <bar> <F1>…<F12>, with C- A- S- for Ctrl, Alt, Shift";
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let group = &rest[open..open + close + 1];
        rest = &rest[open + close + 1..];
        if parse_keys(group).is_ok() {
            continue;
        }
        let inner = &group[1..group.len() - 1];
        let mut name = inner;
        while name.len() > 2
            && matches!(
                &name.as_bytes()[..2],
                [b'c' | b'C' | b'a' | b'A' | b's' | b'S' | b'm' | b'M', b'-']
            )
        {
            name = &name[2..];
        }
        let prefix = &inner[..inner.len() - name.len()];
        if let Some(m) = de::did_you_mean(name, KEY_NAMES.iter().copied()) {
            return format!("did you mean \"<{prefix}{m}>\"?");
        }
    }
    all.to_string()
}

/// The action an entry binds (`None` unbinds), or a hint about the unknown name.
fn check_action(context: &str, action: &str) -> Result<Option<String>, String> {
    if action == UNBIND {
        return Ok(None);
    }
    let known = Keymap::known_actions(context);
    if known.contains(&action) {
        return Ok(Some(action.to_string()));
    }
    if let Some(m) = de::did_you_mean(action, known.iter().copied()) {
        return Err(format!("did you mean \"{m}\"?"));
    }
    let elsewhere: Vec<&str> = CONTEXTS
        .iter()
        .copied()
        .filter(|c| Keymap::known_actions(c).contains(&action))
        .collect();
    if !elsewhere.is_empty() {
        return Err(format!(
            "`{action}` is an action of {}; bind it there",
            elsewhere.join(", ")
        ));
    }
    Err(format!(
        "actions of {context}: {}; or \"{UNBIND}\" to unbind the key",
        known.join(", ")
    ))
}

fn bound_by_default(context: &str, key: Key) -> bool {
    DEFAULTS.iter().any(|(ctx, keys, ..)| {
        *ctx == context && parse_keys(keys).is_ok_and(|k| k.as_slice() == [key])
    })
}

/// An action of `context` for examples in hints.
fn example(context: &str) -> &'static str {
    DEFAULTS
        .iter()
        .find(|(c, ..)| *c == context)
        .map_or("quit", |(_, _, a, _)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<(usize, usize, &'static str)> {
        parse("k.ron", src)
            .1
            .iter()
            .map(|d| (d.line, d.column, d.code))
            .collect()
    }

    #[test]
    fn no_overrides_is_the_defaults() {
        assert_eq!(apply(&[]), Keymap::defaults());
        assert_eq!(parse("k.ron", "// nothing yet\n"), (vec![], vec![]));
        assert_eq!(parse("k.ron", "Keymap()"), (vec![], vec![]));
        assert_eq!(load(None).0, Keymap::defaults());
    }

    #[test]
    fn overrides_bind_and_unbind() {
        let (o, d) = parse(
            "k.ron",
            "Keymap(graph: {\"A\": \"add-node\", \"a\": \"none\"}, global: {\"<C-x>\": \"quit\"})",
        );
        assert!(d.is_empty(), "{d:?}");
        let km = apply(&o);
        assert_eq!(km.action("graph", Key::char('A')), Some("add-node"));
        assert_eq!(km.action("graph", Key::char('a')), None);
        assert_eq!(km.action("tree", Key::ctrl('x')), Some("quit"));
        assert_eq!(km.action("tree", Key::ctrl('q')), Some("quit"));
    }

    #[test]
    fn every_bad_entry_is_reported_and_the_rest_applied() {
        let src = "Keymap(\n  grph: {},\n  graph: {\"gg\": \"up\", \"<Entr>\": \"up\", \"Z\": \"ad-node\", \"Y\": \"open\"},\n  tree: {\"q\": \"none\", \"w\": None, \"<C-s>\": \"none\", x: \"up\"},\n  sql: [],\n  form: {\"J\": \"down\", \"K\": \"up\", \"J\": \"up\"},\n  graph: {},\n)\n";
        let (o, d) = parse("k.ron", src);
        let got: Vec<(usize, usize, &str)> = d.iter().map(|d| (d.line, d.column, d.code)).collect();
        assert_eq!(
            got,
            vec![
                (2, 3, "unknown-context"),
                (3, 11, "bad-key"),
                (3, 23, "bad-key"),
                (3, 44, "unknown-action"),
                (3, 60, "unknown-action"),
                (4, 10, "not-bound"),
                (4, 28, "wrong-type"),
                (4, 34, "not-bound"),
                (4, 51, "wrong-type"),
                (5, 8, "wrong-type"),
                (6, 34, "duplicate-key"),
                (7, 3, "duplicate-context"),
            ]
        );
        assert_eq!(
            o,
            vec![
                Override {
                    context: "form",
                    key: Key::char('J'),
                    action: Some("down".into()),
                },
                Override {
                    context: "form",
                    key: Key::char('K'),
                    action: Some("up".into()),
                },
            ]
        );
        let hints: Vec<&str> = d.iter().filter_map(|d| d.hint.as_deref()).collect();
        assert_eq!(hints[0], "did you mean `graph`?");
        assert_eq!(hints[2], "did you mean \"<Enter>\"?");
        assert_eq!(hints[3], "did you mean \"add-node\"?");
        assert_eq!(
            hints[4],
            "`open` is an action of tree, catalog, instances, alerts; bind it there"
        );
        assert!(
            hints[7].starts_with("here it runs its global binding"),
            "{}",
            hints[7]
        );
    }

    #[test]
    fn keys_must_be_single() {
        assert!(
            one_key("Enter")
                .unwrap_err()
                .1
                .unwrap()
                .contains("\"<Enter>\"")
        );
        assert!(one_key("").unwrap_err().0.contains("empty"));
        assert_eq!(one_key("<C-s>"), Ok(Key::ctrl('s')));
        assert_eq!(
            codes("Keymap(tree: {\"<Nope>\": \"up\"})"),
            vec![(1, 15, "bad-key")]
        );
        assert_eq!(codes("[]"), vec![(1, 1, "not-a-keymap")]);
        assert_eq!(
            codes("Keymap(tree: {\"a\" \"up\"})"),
            vec![(1, 19, "syntax")]
        );
    }
}
