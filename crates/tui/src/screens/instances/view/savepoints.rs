//! Savepoints in the instance view (issue 16): this instance's savepoints (id, age, size,
//! path: a section under the log in the wide layout, one line in the narrow one) and `S`,
//! which takes one in the background through the store link (the instance's worker takes
//! it within a second; the app waits up to `SAVEPOINT_WAIT`). Deleting one and starting
//! from one are `weir savepoint delete` and the start form of `:instances`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use weir_app::instances::{InstanceState, SAVEPOINT_WAIT, Savepoint};
use weir_app::store_link::StoreLink;

use super::panes::section;
use super::{Done, InstanceView, Work, format, say};
use crate::action::{Level, Outcome};
use crate::screens::Context;
use crate::theme::Theme;

/// Savepoint rows the wide layout shows at most (the newest).
const ROWS: usize = 5;

impl InstanceView {
    /// The view with this instance's savepoints (tests; `refresh` reads them).
    pub fn with_savepoints(mut self, savepoints: Vec<Savepoint>) -> InstanceView {
        self.savepoints = savepoints
            .into_iter()
            .filter(|s| s.instance == self.id)
            .collect();
        self
    }

    /// This instance's savepoints, oldest first.
    pub fn savepoints(&self) -> &[Savepoint] {
        &self.savepoints
    }

    /// Read this instance's savepoints again; on failure keep what was shown (the
    /// instance's own read says when the store is unreachable).
    pub(super) fn read_savepoints(&mut self, link: &StoreLink) {
        let Some(job) = self.detail.as_ref().map(|d| d.instance.job.clone()) else {
            return;
        };
        if let Ok(all) = link.call(link.gov().savepoints(Some(&job))) {
            let id = self.id;
            self.savepoints = all.into_iter().filter(|s| s.instance == id).collect();
        }
    }

    /// `S`: take a savepoint of the running instance.
    pub(super) fn take_savepoint(&mut self, cx: &Context) -> Outcome {
        if let Some(out) = self.still_working() {
            return out;
        }
        let Some(inst) = self.detail.as_ref().map(|d| &d.instance) else {
            return say(Level::Warning, self.not_read());
        };
        let shown = InstanceView::shown_state(inst);
        if inst.state != InstanceState::Running || shown != "running" {
            let next = if inst.state.is_active() {
                "wait until it runs"
            } else {
                "r restarts it"
            };
            return say(
                Level::Warning,
                format!(
                    "instance #{} is {shown}: a savepoint is taken of a running instance ({next})",
                    inst.id
                ),
            );
        }
        let Some(link) = cx.store else {
            return say(Level::Error, "no metadata store is open".into());
        };
        if let Some(why) = Self::refused_prod(inst, link, "take a savepoint of") {
            return say(Level::Warning, why);
        }
        let id = inst.id;
        let what = format!("taking a savepoint of instance #{id}");
        let pending = link.spawn(format!("{what}…"), move |gov, _| async move {
            gov.take_savepoint(id, false, SAVEPOINT_WAIT)
                .await
                .map(Done::Savepoint)
        });
        self.work = Some(Work { what, pending });
        Outcome::Consumed
    }

    /// A savepoint was taken: list it now, before the next read.
    pub(super) fn taken(&mut self, sp: &Savepoint) -> String {
        if sp.instance == self.id && !self.savepoints.iter().any(|s| s.id == sp.id) {
            self.savepoints.push(sp.clone());
        }
        format!("savepoint #{} taken: {}", sp.id, sp.path)
    }
}

/// `12s`, `3m` ago, or the stamp as stored when it does not read.
fn age(sp: &Savepoint, now_ms: i64) -> String {
    match format::parse_rfc3339_ms(&sp.created_at) {
        Some(at) => format!("{} ago", format::age_secs((now_ms - at) / 1000)),
        None => sp.created_at.clone(),
    }
}

/// Rows the wide layout's section needs: its rule, a header and the newest rows (or the
/// line that says there are none).
pub(super) fn section_height(v: &InstanceView) -> u16 {
    match v.savepoints.len() {
        0 => 2,
        n => 2 + n.min(ROWS) as u16,
    }
}

/// The wide layout's section: the newest savepoints, newest first.
pub(super) fn draw_section(v: &InstanceView, frame: &mut Frame, area: Rect, theme: &Theme) {
    let n = v.savepoints.len();
    let title = match n {
        0 => " savepoints ".to_string(),
        n if n > ROWS => format!(" savepoints · {ROWS} newest of {n} "),
        n => format!(" savepoints · {n} "),
    };
    let inner = section(frame, area, theme, title);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if n == 0 {
        lines.push(Line::styled(
            "no savepoints of this instance yet; S takes one",
            theme.muted(),
        ));
    } else {
        lines.push(Line::styled(
            format!("{:<6} {:>9} {:>8}  {}", "ID", "AGE", "SIZE", "PATH"),
            theme.muted(),
        ));
        for sp in v.savepoints.iter().rev().take(ROWS) {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<6}", format!("#{}", sp.id)), theme.accent()),
                Span::raw(format!(
                    " {:>9} {:>8}  {}",
                    age(sp, v.now_ms),
                    format::bytes(sp.size.max(0) as u64),
                    sp.path
                )),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The narrow layout's line: how many, and the newest.
pub(super) fn summary(v: &InstanceView, theme: &Theme) -> Line<'static> {
    let label = Span::styled("savepoints  ", theme.muted());
    match v.savepoints.last() {
        None => Line::from(vec![
            label,
            Span::styled("none yet · S takes one", theme.muted()),
        ]),
        Some(sp) => Line::from(vec![
            label,
            Span::raw(format!(
                "{} · newest #{} {} ({}) {}",
                v.savepoints.len(),
                sp.id,
                age(sp, v.now_ms),
                format::bytes(sp.size.max(0) as u64),
                sp.path
            )),
        ]),
    }
}
