//! Which key runs which action, per context. Built-in defaults live here; a user's
//! keymap file (`keymap_file.rs`) holds only overrides on top of them.

use std::collections::{BTreeMap, HashMap};

use super::keys::{Key, parse_keys};

/// Key contexts: `global` applies everywhere unless the active context binds the key.
pub const CONTEXTS: [&str; 16] = [
    "global",
    "tree",
    "graph",
    "sql",
    "form",
    "datasources",
    "catalog",
    "requests",
    "inbox",
    "grants",
    "versions",
    "diff",
    "releases",
    "instances",
    "instance",
    "alerts",
];

mod defaults;

pub use defaults::DEFAULTS;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    /// context → key → action
    bindings: BTreeMap<String, HashMap<Key, String>>,
}

impl Keymap {
    pub fn defaults() -> Keymap {
        let mut km = Keymap::default();
        for (ctx, keys, action, _) in DEFAULTS {
            if let Ok(k) = parse_keys(keys)
                && let [key] = k.as_slice()
            {
                km.bind(ctx, *key, action);
            }
        }
        km
    }

    pub fn bind(&mut self, context: &str, key: Key, action: &str) {
        self.bindings
            .entry(context.to_string())
            .or_default()
            .insert(key, action.to_string());
    }

    /// The action for `key` in `context`, falling back to the global bindings.
    pub fn action(&self, context: &str, key: Key) -> Option<&str> {
        self.bindings
            .get(context)
            .and_then(|m| m.get(&key))
            .or_else(|| self.bindings.get("global").and_then(|m| m.get(&key)))
            .map(String::as_str)
    }

    /// The action bound in exactly this context (no global fallback).
    pub fn local_action(&self, context: &str, key: Key) -> Option<&str> {
        self.bindings
            .get(context)
            .and_then(|m| m.get(&key))
            .map(String::as_str)
    }

    /// Keys bound in `context` (and global), for the help screen: (key, action).
    pub fn bindings(&self, context: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for ctx in [context, "global"] {
            if let Some(m) = self.bindings.get(ctx) {
                let mut local: Vec<(String, String)> =
                    m.iter().map(|(k, a)| (k.notation(), a.clone())).collect();
                local.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                for (k, a) in local {
                    if !out.iter().any(|(o, _)| *o == k) {
                        out.push((k, a));
                    }
                }
            }
            if context == "global" {
                break;
            }
        }
        out
    }

    /// Known action names of a context (from the defaults), for checking keymap files.
    pub fn known_actions(context: &str) -> Vec<&'static str> {
        let mut v: Vec<&str> = DEFAULTS
            .iter()
            .filter(|(c, ..)| *c == context || *c == "global")
            .map(|(_, _, a, _)| *a)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// What an action does, from the defaults.
    pub fn describe(context: &str, action: &str) -> &'static str {
        DEFAULTS
            .iter()
            .find(|(c, _, a, _)| *c == context && *a == action)
            .or_else(|| DEFAULTS.iter().find(|(_, _, a, _)| *a == action))
            .map_or("", |(_, _, _, d)| d)
    }
}
