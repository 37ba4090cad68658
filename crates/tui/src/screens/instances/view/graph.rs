//! The job graph, live: the graph editor's layout of the instance's job, read-only, each
//! box's kind line replaced by the operator's rate, each edge coloured by the
//! backpressure of the node it enters. When the drawing does not fit, the view falls back
//! to one line per layer: `clicks 1.2k/s → pv 1.2k/s → out 1.1k/s`.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use weir_app::instances::Figures;

use super::format;
use crate::graph::layout::{Layout, fit, layout};
use crate::graph::render::{Charset, render_lines};
use crate::graph::{Graph, GraphNode, dag, job_graph};
use crate::model::Job;
use crate::screens::graph::select::path_cells;
use crate::theme::Theme;

/// Width reserved for the rate line inside a box (`999.9k/s`).
const RATE_ROOM: usize = 8;

/// The job drawn once (the layout does not change while the instance runs).
pub struct LiveGraph {
    /// Node ids and kinds in job order.
    nodes: Vec<(String, String)>,
    /// Edges by node index.
    edges: Vec<(usize, usize)>,
    layout: Layout,
    /// The drawing without figures, one row of chars per line.
    rows: Vec<Vec<char>>,
}

/// The style of a backpressure figure: ok below 0.5, warning below 0.9, error above.
pub fn pressure_style(theme: &Theme, bp: f64) -> Style {
    if bp >= 0.9 {
        theme.error()
    } else if bp >= 0.5 {
        theme.warning()
    } else {
        theme.ok()
    }
}

/// The rate an operator's box shows: what it emits (a sink: what it writes).
pub fn node_rate(figures: Option<&Figures>, id: &str) -> Option<f64> {
    figures.and_then(|f| f.node(id)).map(|n| n.rate_out)
}

fn node_pressure(figures: Option<&Figures>, id: &str) -> Option<f64> {
    figures.and_then(|f| f.node(id)).map(|n| n.backpressure)
}

impl LiveGraph {
    /// The drawing of `job`: boxes at least wide enough for a rate.
    pub fn of(job: &Job) -> LiveGraph {
        let graph = job_graph(job);
        let nodes: Vec<(String, String)> = graph
            .nodes
            .iter()
            .map(|n| (n.id.clone(), n.kind.clone()))
            .collect();
        // the kind line is redrawn with the rate: make room for it
        let padded = Graph {
            nodes: graph
                .nodes
                .iter()
                .map(|n| {
                    let kind = format!("{:<width$}", n.kind, width = RATE_ROOM);
                    GraphNode::new(n.id.clone(), kind)
                })
                .collect(),
            edges: graph.edges.clone(),
        };
        let layout = layout(&padded);
        let rows = render_lines(&layout, Charset::Unicode)
            .into_iter()
            .map(|r| {
                let mut v: Vec<char> = r.chars().collect();
                v.resize(layout.width, ' ');
                v
            })
            .collect();
        LiveGraph {
            nodes,
            edges: graph.edges,
            layout,
            rows,
        }
    }

    /// The operators, `(id, kind)` in job order.
    pub fn nodes(&self) -> &[(String, String)] {
        &self.nodes
    }

    /// Width and height of the full drawing.
    pub fn size(&self) -> (usize, usize) {
        (self.layout.width, self.layout.height)
    }

    /// The drawing clipped to `w` × `h` cells from its top left, with the figures in the
    /// boxes and the edges coloured.
    pub fn lines(
        &self,
        figures: Option<&Figures>,
        theme: &Theme,
        w: usize,
        h: usize,
    ) -> Vec<Line<'static>> {
        let mut rows = self.rows.clone();
        let mut styles: Vec<Vec<Style>> = rows
            .iter()
            .map(|r| vec![Style::default(); r.len()])
            .collect();
        for e in &self.layout.edges {
            let id = self.nodes.get(e.to).map_or("", |n| n.0.as_str());
            let st = match node_pressure(figures, id) {
                Some(bp) => pressure_style(theme, bp),
                None => theme.muted(),
            };
            for (x, y) in path_cells(e) {
                if let Some(cell) = styles.get_mut(y).and_then(|r| r.get_mut(x)) {
                    *cell = st;
                }
            }
        }
        for b in &self.layout.boxes {
            let (id, kind) = match self.nodes.get(b.node) {
                Some((id, kind)) => (id.as_str(), kind.as_str()),
                None => continue,
            };
            let inner = b.w.saturating_sub(2);
            let room = inner.saturating_sub(2);
            let (text, st) = match node_rate(figures, id) {
                Some(r) => (format::rate(r), theme.accent()),
                None => (kind.to_string(), theme.muted()),
            };
            let text: Vec<char> = fit(&text, room).chars().collect();
            let y = b.y + 1;
            let Some(row) = rows.get_mut(y) else { continue };
            let pad = inner.saturating_sub(text.len()) / 2;
            for k in 0..inner {
                let x = b.x + 1 + k;
                let ch = if k >= pad && k - pad < text.len() {
                    text[k - pad]
                } else {
                    ' '
                };
                if let Some(c) = row.get_mut(x) {
                    *c = ch;
                }
                if let Some(s) = styles.get_mut(y).and_then(|r| r.get_mut(x)) {
                    *s = st;
                }
            }
        }
        rows.iter()
            .zip(&styles)
            .take(h)
            .map(|(row, st)| {
                let mut spans: Vec<Span<'static>> = Vec::new();
                let mut run = String::new();
                let mut run_style = Style::default();
                for (x, c) in row.iter().enumerate().take(w) {
                    let s = st.get(x).copied().unwrap_or_default();
                    if s != run_style && !run.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut run), run_style));
                    }
                    run_style = s;
                    run.push(*c);
                }
                if !run.is_empty() {
                    spans.push(Span::styled(run, run_style));
                }
                Line::from(spans)
            })
            .collect()
    }

    /// The graph in one line, layer by layer: `clicks 1.2k/s → pv 1.2k/s → out 1.1k/s`;
    /// nodes of one layer are separated by `,`; each arrow takes the colour of the highest
    /// backpressure of the layer it enters.
    pub fn chain(&self, figures: Option<&Figures>, theme: &Theme) -> Line<'static> {
        let layer_of = dag::layers(self.nodes.len(), &self.edges);
        let depth = layer_of.iter().copied().max().map_or(0, |m| m + 1);
        let mut spans: Vec<Span<'static>> = Vec::new();
        for layer in 0..depth {
            let members: Vec<usize> = (0..self.nodes.len())
                .filter(|i| layer_of.get(*i) == Some(&layer))
                .collect();
            if layer > 0 {
                let bp = members
                    .iter()
                    .filter_map(|i| node_pressure(figures, &self.nodes[*i].0))
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
                let st = bp.map_or(theme.muted(), |bp| pressure_style(theme, bp));
                spans.push(Span::styled(" → ", st));
            }
            for (k, i) in members.iter().enumerate() {
                if k > 0 {
                    spans.push(Span::raw(", "));
                }
                let id = &self.nodes[*i].0;
                spans.push(Span::raw(id.clone()));
                if let Some(r) = node_rate(figures, id) {
                    spans.push(Span::styled(
                        format!(" {}", format::rate(r)),
                        theme.accent(),
                    ));
                }
            }
        }
        Line::from(spans)
    }
}
