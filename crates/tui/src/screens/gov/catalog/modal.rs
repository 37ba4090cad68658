//! The catalog's modals: choosing the Kafka data source a topic is published to (`p`/`P`;
//! the publication request is sent in the background and its number shown when the store
//! answers), and the permission request form for the selected table or topic (`r`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use weir_app::AppError;
use weir_app::governance::{DataSourceKind, Env, Request, TopicState};
use weir_app::store_link::Pending;

use super::tree::Node;
use super::{Catalog, Mode};
use crate::action::{Action, Level, Outcome};
use crate::overlay::centered;
use crate::screens::Context;
use crate::screens::gov::perm_form::PermForm;
use crate::screens::gov::{error_text, hints, row_style};
use crate::theme::Theme;

/// Choosing the Kafka data source a topic is published to.
pub(super) struct Publish {
    pub topic: String,
    pub env: Env,
    pub choices: Vec<String>,
    pub at: usize,
}

/// A publication request on its way to the store.
pub(super) struct Publishing {
    topic: String,
    env: Env,
    datasource: String,
    pending: Pending<Result<Request, AppError>>,
}

impl Catalog {
    /// Open the data source chooser to publish the selected topic to `env`.
    pub(super) fn publish(&mut self, env: Env) -> Outcome {
        let Some(t) = self.topic() else {
            return Self::status(Level::Info, "select a topic to publish");
        };
        if !self.caps.design.contains(&t.project) {
            return Self::status(
                Level::Warning,
                format!(
                    "topics of project {} are published by its project admins and developers; you are {}",
                    t.project, self.caps.who
                ),
            );
        }
        let from = match env {
            Env::Prod => TopicState::Test,
            _ => TopicState::Design,
        };
        if t.state != from {
            return Self::status(
                Level::Warning,
                format!(
                    "topic {} is {}; publishing to {} needs it in {}",
                    t.name,
                    t.state.as_str(),
                    env.as_str(),
                    from.as_str()
                ),
            );
        }
        let choices: Vec<String> = self
            .world
            .sources
            .iter()
            .filter(|d| {
                d.kind == DataSourceKind::Kafka
                    && match env {
                        Env::Prod => d.env.has_prod(),
                        _ => d.env.has_test(),
                    }
            })
            .map(|d| d.name.clone())
            .collect();
        if choices.is_empty() {
            return Self::status(
                Level::Warning,
                format!(
                    "no kafka data source serves {}; a data admin adds one in :datasources",
                    env.as_str()
                ),
            );
        }
        // publishing to prod goes to the cluster the topic is tested on, if it serves prod
        let at = t
            .test_datasource
            .as_ref()
            .and_then(|d| choices.iter().position(|c| c == d))
            .unwrap_or(0);
        self.mode = Mode::Publish(Publish {
            topic: t.name.clone(),
            env,
            choices,
            at,
        });
        Outcome::Consumed
    }

    /// Send the chosen publication to the store, in the background.
    pub(super) fn send_publication(&mut self, cx: &Context) -> Outcome {
        let Some(link) = cx.store else {
            return Outcome::Consumed;
        };
        let Mode::Publish(p) = std::mem::replace(&mut self.mode, Mode::Tree) else {
            return Outcome::Consumed;
        };
        let Some(ds) = p.choices.get(p.at).cloned() else {
            return Outcome::Consumed;
        };
        if let Some(other) = &self.publishing {
            return Self::status(
                Level::Warning,
                format!(
                    "still sending the publication of {}: wait for it, then publish again",
                    other.topic
                ),
            );
        }
        let label = format!("publishing {} to {} on {ds}…", p.topic, p.env.as_str());
        let (topic, env, on) = (p.topic.clone(), p.env, ds.clone());
        let pending = link.spawn(label, move |gov, _| async move {
            gov.publish_topic(&topic, env, &on).await
        });
        self.publishing = Some(Publishing {
            topic: p.topic,
            env: p.env,
            datasource: ds,
            pending,
        });
        // the spinner says what runs; an older message would only distract
        Self::status(Level::Info, "")
    }

    /// The publication's answer, once it arrived: the request's number, or why not.
    pub(super) fn published(&mut self, cx: &Context) -> Option<Action> {
        let p = self.publishing.as_mut()?;
        let result = match p.pending.poll() {
            Some(result) => result,
            None if p.pending.running() => return None,
            None => Err(AppError::Internal(
                "the publication stopped without an answer".into(),
            )),
        };
        let p = self.publishing.take()?;
        Some(match result {
            Ok(r) => {
                self.reload(cx);
                self.select(&Node::Topic(p.topic.clone(), Some(p.datasource.clone())));
                Action::StoreWritten(
                    Level::Ok,
                    format!(
                        "request #{} sent to data admins: publish topic {} to {} on {}",
                        r.id,
                        p.topic,
                        p.env.as_str(),
                        p.datasource
                    ),
                )
            }
            Err(e) => Action::Status(Level::Error, error_text(&e)),
        })
    }

    /// Open the permission request form for the selected table or topic.
    pub(super) fn request(&mut self, cx: &Context) -> Outcome {
        if !self.caps.request {
            return Self::status(
                Level::Warning,
                format!(
                    "data admins do not request permissions; they grant them in :grants (you are {})",
                    self.caps.who
                ),
            );
        }
        let target = match self.current() {
            Some(Node::Table(ds, t, _)) => (ds.clone(), t.clone()),
            Some(Node::Topic(name, Some(ds))) => (ds.clone(), name.clone()),
            Some(Node::Topic(name, None)) => {
                return Self::status(
                    Level::Warning,
                    format!("topic {name} lives on no cluster yet; publish it first"),
                );
            }
            _ => {
                return Self::status(
                    Level::Info,
                    "select a table or topic to request permission on",
                );
            }
        };
        self.mode = Mode::Perm(Box::new(PermForm::new(cx, Some(target))));
        Outcome::Consumed
    }
}

/// The data source chooser of a publication, centred over `area`.
pub(super) fn draw_publish(p: &Publish, frame: &mut Frame, area: Rect, theme: &Theme) {
    let h = (p.choices.len() as u16 + 5).min(area.height);
    let w = 56.min(area.width);
    let r = centered(area, w, h);
    frame.render_widget(Clear, r);
    let block = theme.pane(format!(" publish {} to {} ", p.topic, p.env.as_str()), true);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let mut lines = vec![Line::styled(
        format!("kafka data source serving {}:", p.env.as_str()),
        theme.muted(),
    )];
    for (i, c) in p.choices.iter().enumerate() {
        let mark = if i == p.at { "› " } else { "  " };
        lines.push(Line::styled(
            format!("{mark}{c}"),
            row_style(theme, i, p.at, true),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(hints(
        theme,
        &[
            ("Enter", "send for approval"),
            ("↑↓", "choose"),
            ("Esc", "cancel"),
        ],
    ));
    frame.render_widget(Paragraph::new(crate::printable::lines(lines)), inner);
}
