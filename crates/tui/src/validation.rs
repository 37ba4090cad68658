//! The workbench's one validation: exactly the checks of plain `weir validate` (offline:
//! the model's rules, sources without `fields`, the engine's SQL planning; no store's
//! catalog), run on a thread of its own so typing never waits for SQL planning.
//!
//! [`validate`] is the check itself (the parity test holds it to `weir validate`'s
//! diagnostics). A [`Validator`] runs it in the background: [`Validator::request`] hands it
//! a text, the thread waits until no newer text came for [`DEBOUNCE`] and checks the
//! newest; [`Validator::poll`] (from a screen's `tick`) returns the verdict of the text
//! last requested and drops those of older texts. Until then the text is
//! [`Validator::pending`] and screens show "checking…".
//!
//! [`query_problems`] places a verdict's diagnostics in one SQL node's query, for the SQL
//! editor.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::jobfile::syntax::{self, Kind, LineIndex, Span, Value};
use crate::jobfile::{Checked, Diagnostic};

/// How long the text must rest before it is checked.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// What the workbench's verdict is based on, for the status line and help.
pub const BASIS: &str = "as weir validate finds it, offline";

/// The workbench's check of one job text: `weir validate FILE` without `--store`.
pub fn validate(file: &str, text: &str) -> Checked {
    weir_app::jobs::schema::check_source(file, text, None)
}

/// [`validate`] of a file on disk, as `weir validate FILE` reads it (Home's verdicts).
pub fn validate_file(path: &std::path::Path) -> Checked {
    weir_app::jobs::schema::check_file(path, None)
}

/// One text to check.
struct Request {
    generation: u64,
    file: String,
    /// What the request is known by: the text, or what the text is made from.
    key: String,
    text: Text,
    /// When it was asked for: it is checked once nothing newer came for the debounce.
    at: Instant,
}

/// The text to check, or how to write it (on the validator's thread: writing a job's
/// text is work the UI thread need not do while someone types).
enum Text {
    Ready(String),
    Render(Box<dyn FnOnce() -> String + Send>),
}

/// The validator thread's inbox, and its outbox of verdicts by request generation.
type Channel = (Sender<Request>, Receiver<(u64, Verdict)>);

/// The verdict on one text.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What the request was known by (the text, unless made by [`Validator::request_rendered`]).
    pub key: String,
    /// The text checked.
    pub text: String,
    pub checked: Checked,
    /// How long the check took, on the validator's thread.
    pub took: Duration,
}

/// A background validator of one stream of texts (a job being edited, a query being
/// typed): latest request wins.
pub struct Validator {
    debounce: Duration,
    /// The thread's inbox and outbox; started at the first request.
    channel: Option<Channel>,
    /// The generation of the last request; verdicts of older ones are dropped.
    generation: u64,
    /// The text last requested, while its verdict has not arrived.
    waiting: Option<String>,
    /// The text of the last verdict handed out.
    settled: Option<String>,
    /// A verdict reached on this thread (no validator thread), not yet handed out.
    ready: Option<Verdict>,
}

impl Default for Validator {
    fn default() -> Self {
        Validator::new(DEBOUNCE)
    }
}

impl Validator {
    pub fn new(debounce: Duration) -> Validator {
        Validator {
            debounce,
            channel: None,
            generation: 0,
            waiting: None,
            settled: None,
            ready: None,
        }
    }

    /// Check `text` in the background once it rests for the debounce (`now`: at once).
    /// Asking again for the text being checked, or already checked, does nothing.
    pub fn request(&mut self, file: &str, text: &str, now: bool) {
        self.send(file, text, Text::Ready(text.to_string()), now);
    }

    /// [`Validator::request`] of the text `render` writes, known by `key` (the query
    /// typed, for the job that holds it): the text is written on the validator's thread.
    pub fn request_rendered(
        &mut self,
        file: &str,
        key: &str,
        render: impl FnOnce() -> String + Send + 'static,
        now: bool,
    ) {
        self.send(file, key, Text::Render(Box::new(render)), now);
    }

    fn send(&mut self, file: &str, key: &str, text: Text, now: bool) {
        let same = |t: &Option<String>| t.as_deref() == Some(key);
        if same(&self.waiting) || (self.waiting.is_none() && same(&self.settled)) {
            return;
        }
        self.generation += 1;
        let at = if now {
            Instant::now()
                .checked_sub(self.debounce)
                .unwrap_or_else(Instant::now)
        } else {
            Instant::now()
        };
        let request = Request {
            generation: self.generation,
            file: file.to_string(),
            key: key.to_string(),
            text,
            at,
        };
        self.waiting = Some(key.to_string());
        if self.channel.is_none() {
            self.channel = start(self.debounce);
        }
        let sent = match &self.channel {
            Some((tx, _)) => tx.send(request).map_err(|e| e.0),
            None => Err(request),
        };
        if let Err(request) = sent {
            // no thread (the system refused one, or it ended): check here, at once
            self.channel = None;
            let verdict = run(request);
            self.deliver(verdict);
        }
    }

    /// Record `verdict` as the answer to the last request, checked on this thread.
    fn deliver(&mut self, verdict: Verdict) {
        self.waiting = None;
        self.settled = Some(verdict.key.clone());
        self.ready = Some(verdict);
    }

    /// The verdict on the text last requested, once it has arrived (once).
    pub fn poll(&mut self) -> Option<Verdict> {
        if let Some(v) = self.ready.take() {
            return Some(v);
        }
        let mut newest = None;
        if let Some((_, rx)) = &self.channel {
            while let Ok((generation, verdict)) = rx.try_recv() {
                if generation == self.generation {
                    newest = Some(verdict);
                }
            }
        }
        let verdict = newest?;
        self.waiting = None;
        self.settled = Some(verdict.key.clone());
        Some(verdict)
    }

    /// Check `text` here and now (opening a job: the first verdict is shown with the
    /// first frame); a verdict still on its way is dropped.
    pub fn check_now(&mut self, file: &str, text: &str) -> Verdict {
        self.generation += 1;
        self.waiting = None;
        let verdict = run(Request {
            generation: self.generation,
            file: file.to_string(),
            key: text.to_string(),
            text: Text::Ready(text.to_string()),
            at: Instant::now(),
        });
        self.settled = Some(verdict.key.clone());
        verdict
    }

    /// `key` is settled without a check (the model's own rules already refused its
    /// text, and `weir validate` adds nothing to those): a verdict on its way is dropped.
    pub fn settle(&mut self, key: &str) {
        self.generation += 1;
        self.waiting = None;
        self.ready = None;
        self.settled = Some(key.to_string());
    }

    /// The last verdict handed out (or settled) is on `key`, and nothing newer is asked.
    pub fn settled_on(&self, key: &str) -> bool {
        self.waiting.is_none() && self.settled.as_deref() == Some(key)
    }

    /// A text was requested and its verdict has not arrived.
    pub fn pending(&self) -> bool {
        self.waiting.is_some()
    }
}

/// The validator's thread: the newest request once it rests, then its verdict; it ends
/// when its validator is dropped.
fn start(debounce: Duration) -> Option<Channel> {
    let (to_thread, inbox) = mpsc::channel::<Request>();
    let (outbox, from_thread) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weir-validate".into())
        .spawn(move || {
            while let Ok(mut request) = inbox.recv() {
                loop {
                    let rest = (request.at + debounce).saturating_duration_since(Instant::now());
                    match inbox.recv_timeout(rest) {
                        Ok(newer) => request = newer,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                let generation = request.generation;
                let verdict = run(request);
                if outbox.send((generation, verdict)).is_err() {
                    return;
                }
            }
        });
    match spawned {
        Ok(_) => Some((to_thread, from_thread)),
        Err(e) => {
            tracing::warn!("no validator thread ({e}); jobs are checked on the UI thread");
            None
        }
    }
}

fn run(request: Request) -> Verdict {
    let t = Instant::now();
    let text = match request.text {
        Text::Ready(text) => text,
        Text::Render(render) => render(),
    };
    let checked = validate(&request.file, &text);
    Verdict {
        key: request.key,
        text,
        checked,
        took: t.elapsed(),
    }
}

/// A diagnostic placed in a query: byte offsets into the query's text.
#[derive(Debug, Clone, PartialEq)]
pub struct InQuery {
    pub start: usize,
    pub end: usize,
    pub diagnostic: Diagnostic,
}

/// The diagnostics of `checked` (a check of the job text `text`) that point into the
/// `query` of node number `node`, placed in the query's own text; and how many point
/// elsewhere.
pub fn query_problems(
    text: &str,
    node: usize,
    diagnostics: &[Diagnostic],
) -> (Vec<InQuery>, usize) {
    let literal = syntax::parse(text).ok().and_then(|doc| {
        let Some(Kind::List { items, .. }) = doc.value.field("nodes").map(|f| &f.value.kind) else {
            return None;
        };
        let query = body(items.get(node)?).field("query")?;
        Some((query.value.span, decoded_len(&query.value)))
    });
    let index = LineIndex::new(text);
    let mut inside = Vec::new();
    let mut elsewhere = 0;
    for d in diagnostics {
        let at = index.offset(d.line, d.column);
        let end = index.offset(d.end_line, d.end_column).max(at);
        match literal {
            Some((lit, len)) if lit.start <= at && at < lit.end => inside.push(InQuery {
                start: decoded_offset(text, lit, len, at),
                end: decoded_offset(text, lit, len, end.min(lit.end)),
                diagnostic: d.clone(),
            }),
            _ => elsewhere += 1,
        }
    }
    (inside, elsewhere)
}

/// A node's struct: `Sql(id: ...)` or `Sql((id: ...))`.
fn body(v: &Value) -> &Value {
    match &v.kind {
        Kind::Tuple { items, .. } if items.len() == 1 => &items[0],
        _ => v,
    }
}

fn decoded_len(v: &Value) -> usize {
    match &v.kind {
        Kind::Str(s) => s.len(),
        _ => 0,
    }
}

/// The offset in a string literal's decoded text of source offset `at`: the largest
/// decoded offset that maps at or before it ([`syntax::string_offset_to_source`] is
/// monotonic, so a binary search finds it).
fn decoded_offset(src: &str, literal: Span, len: usize, at: usize) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if syntax::string_offset_to_source(src, literal, mid) <= at {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests;
