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

/// (context, key, action, what it does). Action names are what palette entries and
/// keymap files use.
pub const DEFAULTS: &[(&str, &str, &str, &str)] = &[
    ("global", ":", "palette", "open the command palette"),
    ("global", "?", "help", "show the keys of this screen"),
    (
        "global",
        "<F1>",
        "help",
        "show the keys (also in text editors)",
    ),
    ("global", "/", "filter", "filter the list"),
    ("global", "<Esc>", "back", "go back / close"),
    (
        "global",
        "<Tab>",
        "focus-next",
        "switch between the tree and the main pane",
    ),
    ("global", "<C-q>", "quit", "quit weir"),
    ("global", "<C-s>", "save", "save the job"),
    ("global", "<C-r>", "reload", "reload the job from disk"),
    ("tree", "<Up>", "up", "previous entry"),
    ("tree", "<Down>", "down", "next entry"),
    ("tree", "k", "up", "previous entry"),
    ("tree", "j", "down", "next entry"),
    ("tree", "<Enter>", "open", "open the job / fold the folder"),
    ("tree", "n", "new-job", "create a job in this folder"),
    ("tree", "N", "new-folder", "create a folder"),
    ("tree", "r", "rename", "rename the entry"),
    ("tree", "d", "delete", "delete the entry"),
    ("tree", "m", "move", "move the entry to another folder"),
    ("graph", "<Up>", "up", "select the node above"),
    ("graph", "<Down>", "down", "select the node below"),
    ("graph", "<Left>", "left", "select the node to the left"),
    ("graph", "<Right>", "right", "select the node to the right"),
    ("graph", "e", "next-edge", "select the next edge"),
    ("graph", "E", "prev-edge", "select the previous edge"),
    ("graph", "a", "add-node", "add an operator"),
    (
        "graph",
        "c",
        "connect",
        "connect the selected node to another",
    ),
    ("graph", "x", "disconnect", "remove the selected edge"),
    ("graph", "d", "delete-node", "delete the selected node"),
    (
        "graph",
        "<Enter>",
        "edit-node",
        "edit the node's parameters",
    ),
    (
        "graph",
        "s",
        "edit-sql",
        "edit the SQL of the selected node",
    ),
    ("graph", "g", "edit-config", "edit the job config"),
    ("graph", "v", "validate", "validate the job"),
    (
        "graph",
        "S",
        "submit",
        "submit the saved job as a new version",
    ),
    (
        "graph",
        "L",
        "take-lock",
        "take the job's edit lock (over from its holder)",
    ),
    ("sql", "<C-k>", "validate", "check the SQL"),
    ("sql", "<C-t>", "template", "insert a template"),
    ("sql", "<C-s>", "apply", "apply the SQL to the node"),
    ("form", "<Up>", "up", "previous field"),
    ("form", "<Down>", "down", "next field"),
    ("form", "<Enter>", "edit", "edit the field / finish editing"),
    ("form", "<C-s>", "apply", "apply the form"),
    // governance screens (screens/gov/); their forms take keys directly
    ("datasources", "<Up>", "up", "previous data source"),
    ("datasources", "<Down>", "down", "next data source"),
    ("datasources", "k", "up", "previous data source"),
    ("datasources", "j", "down", "next data source"),
    ("datasources", "n", "new", "create a data source"),
    ("datasources", "e", "edit", "edit the selected data source"),
    (
        "datasources",
        "<Enter>",
        "edit",
        "edit the selected data source",
    ),
    (
        "datasources",
        "t",
        "test",
        "test connectivity (test environment)",
    ),
    (
        "datasources",
        "T",
        "test-prod",
        "test connectivity (production)",
    ),
    (
        "datasources",
        "d",
        "delete",
        "delete the selected data source",
    ),
    ("catalog", "<Up>", "up", "previous entry"),
    ("catalog", "<Down>", "down", "next entry"),
    ("catalog", "k", "up", "previous entry"),
    ("catalog", "j", "down", "next entry"),
    (
        "catalog",
        "<Enter>",
        "open",
        "fold the data source / show the entry",
    ),
    ("catalog", "n", "new-topic", "design a new topic"),
    (
        "catalog",
        "e",
        "edit-topic",
        "edit the selected topic (design only)",
    ),
    ("catalog", "p", "publish-test", "publish the topic to test"),
    (
        "catalog",
        "P",
        "publish-prod",
        "publish the topic to production",
    ),
    (
        "catalog",
        "r",
        "request",
        "request permission on the selected table/topic",
    ),
    (
        "catalog",
        "g",
        "grants",
        "authorization of the selected table/topic",
    ),
    ("catalog", "R", "refresh", "read the catalog again"),
    ("requests", "<Up>", "up", "previous request"),
    ("requests", "<Down>", "down", "next request"),
    ("requests", "k", "up", "previous request"),
    ("requests", "j", "down", "next request"),
    ("requests", "<Left>", "prev-tab", "in progress / finished"),
    ("requests", "<Right>", "next-tab", "in progress / finished"),
    ("requests", "1", "in-progress", "requests in progress"),
    ("requests", "2", "finished", "finished requests"),
    ("requests", "n", "request", "request a permission"),
    ("requests", "w", "withdraw", "withdraw the selected request"),
    ("inbox", "<Up>", "up", "previous request"),
    ("inbox", "<Down>", "down", "next request"),
    ("inbox", "k", "up", "previous request"),
    ("inbox", "j", "down", "next request"),
    (
        "inbox",
        "a",
        "approve",
        "approve the selected request (opinion optional)",
    ),
    (
        "inbox",
        "r",
        "reject",
        "reject the selected request (with an opinion)",
    ),
    (
        "inbox",
        "<Space>",
        "select",
        "select / unselect for bulk approval",
    ),
    (
        "inbox",
        "A",
        "approve-selected",
        "approve every selected request",
    ),
    ("inbox", "R", "refresh", "read the inbox again"),
    (
        "inbox",
        "d",
        "diff",
        "the full diff of the selected release request",
    ),
    ("grants", "<Up>", "up", "previous table"),
    ("grants", "<Down>", "down", "next table"),
    ("grants", "k", "up", "previous table"),
    ("grants", "j", "down", "next table"),
    (
        "grants",
        "<Space>",
        "select",
        "select / unselect the table for batch settings",
    ),
    (
        "grants",
        "w",
        "whitelist",
        "add to the whitelist (selected tables)",
    ),
    (
        "grants",
        "b",
        "blacklist",
        "add to the blacklist (selected tables)",
    ),
    ("grants", "p", "public", "make public (selected tables)"),
    ("grants", "<Right>", "next-grant", "next grant of the table"),
    (
        "grants",
        "<Left>",
        "prev-grant",
        "previous grant of the table",
    ),
    ("grants", "x", "revoke", "revoke the highlighted grant"),
    ("grants", "a", "add-table", "add a table to manage by name"),
    (
        "grants",
        "c",
        "check",
        "the effective right of a user on the table",
    ),
    // the job side: :versions and the diff view (screens/jobs/)
    ("versions", "<Up>", "up", "previous version"),
    ("versions", "<Down>", "down", "next version"),
    ("versions", "k", "up", "previous version"),
    ("versions", "j", "down", "next version"),
    (
        "versions",
        "<Space>",
        "mark",
        "mark / unmark the version (up to two) for a diff",
    ),
    (
        "versions",
        "d",
        "diff",
        "diff the marked versions, or the selected one against the working file",
    ),
    (
        "versions",
        "c",
        "checkout",
        "write the selected version to the working file",
    ),
    (
        "versions",
        "C",
        "checkout-force",
        "check out over edits that no version holds (asks first)",
    ),
    ("versions", "l", "lock", "take the job's free edit lock"),
    (
        "versions",
        "L",
        "take-lock",
        "take the edit lock over from its holder (asks first)",
    ),
    ("versions", "R", "refresh", "read the versions again"),
    ("diff", "<Up>", "up", "select the node above"),
    ("diff", "<Down>", "down", "select the node below"),
    ("diff", "<Left>", "left", "select the node to the left"),
    ("diff", "<Right>", "right", "select the node to the right"),
    ("diff", "j", "next-node", "select the next node"),
    ("diff", "k", "prev-node", "select the previous node"),
    ("diff", "n", "next-change", "jump to the next change"),
    ("diff", "N", "prev-change", "jump to the previous change"),
    (
        "diff",
        "<PageDown>",
        "scroll-down",
        "scroll the detail down",
    ),
    ("diff", "<PageUp>", "scroll-up", "scroll the detail up"),
    ("diff", "q", "close", "close the diff"),
    ("diff", "<Esc>", "close", "close the diff"),
    // :releases (screens/gov/releases/)
    ("releases", "<Up>", "up", "previous release"),
    ("releases", "<Down>", "down", "next release"),
    ("releases", "k", "up", "previous release"),
    ("releases", "j", "down", "next release"),
    ("releases", "<Left>", "prev-tab", "previous state tab"),
    ("releases", "<Right>", "next-tab", "next state tab"),
    ("releases", "1", "tab-all", "every release"),
    (
        "releases",
        "2",
        "tab-pending",
        "releases waiting for approval",
    ),
    ("releases", "3", "tab-approved", "approved releases"),
    ("releases", "4", "tab-live", "live releases"),
    (
        "releases",
        "5",
        "tab-ended",
        "rejected, withdrawn, offline and replaced releases",
    ),
    (
        "releases",
        "g",
        "go-live",
        "take the approved release live (form)",
    ),
    ("releases", "o", "offline", "take the live release offline"),
    (
        "releases",
        "d",
        "diff",
        "the full diff against the live version",
    ),
    (
        "releases",
        "<Enter>",
        "diff",
        "the full diff against the live version",
    ),
    (
        "releases",
        "w",
        "withdraw",
        "withdraw my pending release request",
    ),
    (
        "releases",
        "R",
        "request-release",
        "request the release of a job's latest version",
    ),
    (
        "releases",
        "a",
        "approve",
        "approve the pending release, bound to its hash",
    ),
    // :instances and :alerts (screens/instances/)
    ("instances", "<Up>", "up", "previous instance"),
    ("instances", "<Down>", "down", "next instance"),
    ("instances", "k", "up", "previous instance"),
    ("instances", "j", "down", "next instance"),
    (
        "instances",
        "<Enter>",
        "open",
        "the live view of the selected instance",
    ),
    (
        "instances",
        "s",
        "start",
        "start an instance of a job (form)",
    ),
    (
        "instances",
        "x",
        "stop",
        "stop the selected instance (after a y)",
    ),
    (
        "instances",
        "R",
        "restart",
        "start the selected stopped or failed instance again",
    ),
    (
        "instances",
        "A",
        "toggle-all",
        "also list stopped and failed instances, or not",
    ),
    // the live view of one instance (screens/instances/view/)
    ("instance", "x", "stop", "stop the instance (after a y)"),
    (
        "instance",
        "r",
        "restart",
        "start the stopped or failed instance again",
    ),
    (
        "instance",
        "o",
        "open-job",
        "open the instance's job in the graph editor",
    ),
    ("instance", "a", "show-alerts", "the alerts screen"),
    ("instance", "R", "refresh", "read the figures now"),
    (
        "instance",
        "S",
        "savepoint",
        "take a savepoint of the running instance",
    ),
    ("alerts", "<Up>", "up", "previous alert"),
    ("alerts", "<Down>", "down", "next alert"),
    ("alerts", "k", "up", "previous alert"),
    ("alerts", "j", "down", "next alert"),
    (
        "alerts",
        "<Enter>",
        "open",
        "the live view of the alert's instance",
    ),
];

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
