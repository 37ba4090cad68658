//! Unit tests of the instance view: keys without a store, the stop question, the state
//! shown after a stop, and the edge colours of the live graph.

use ratatui::style::Color;
use weir_app::instances::{
    DesiredState, Figures, Instance, InstanceDetail, InstanceState, NodeFigures, StartPosition,
};
use weir_app::project::Project;

use super::InstanceView;
use super::graph::LiveGraph;
use crate::action::{Action, Level, Outcome};
use crate::jobfile::check_source;
use crate::keymap::Keymap;
use crate::keys::Key;
use crate::screens::{Context, Screen};
use crate::theme::Theme;

const JOB: &str = r#"Job(
    version: 1,
    name: "chain",
    nodes: [
        KafkaSource(id: "clicks", datasource: "k", topic: "clicks"),
        Sql(id: "pv", query: "SELECT * FROM clicks"),
        PrintSink(id: "out"),
    ],
    edges: [("clicks", "pv"), ("pv", "out")],
)"#;

fn instance(state: InstanceState) -> Instance {
    Instance {
        id: 7,
        job: "demo/chain".into(),
        version: Some(2),
        release: None,
        env: "test".into(),
        parallelism: 1,
        memory_mib: 512,
        start: StartPosition::Earliest,
        params: serde_json::json!({}),
        state,
        desired: DesiredState::Running,
        worker: None,
        heartbeat_at: None,
        started_at: None,
        stopped_at: None,
        error: None,
        source_path: None,
        text_hash: None,
        created_by: "bob".into(),
        created_at: "2026-12-07T12:00:00Z".into(),
    }
}

fn node(id: &str, rate: f64, bp: f64) -> NodeFigures {
    NodeFigures {
        id: id.into(),
        rate_in: rate,
        rate_out: rate,
        backpressure: bp,
        ..Default::default()
    }
}

fn figures() -> Figures {
    Figures {
        at_ms: 0,
        nodes: vec![
            node("clicks", 1500.0, 0.1),
            node("pv", 900.0, 0.7),
            node("out", 900.0, 0.95),
        ],
        ..Default::default()
    }
}

fn detail(state: InstanceState) -> InstanceDetail {
    InstanceDetail {
        instance: instance(state),
        text: JOB.into(),
        history: vec![figures()],
        log: Vec::new(),
        alerts: Vec::new(),
    }
}

/// Runs `f` with a context that has no store.
fn with_cx<T>(f: impl FnOnce(&Context) -> T) -> T {
    let project = Project {
        root: std::env::temp_dir().join("weir-instance-view-none"),
    };
    let theme = Theme::default();
    let keymap = Keymap::defaults();
    let cx = Context {
        project: &project,
        theme: &theme,
        keymap: &keymap,
        store: None,
    };
    f(&cx)
}

fn status(out: Outcome) -> (Level, String) {
    match out {
        Outcome::Action(Action::Status(l, m)) => (l, m),
        other => panic!("expected a status, got {other:?}"),
    }
}

#[test]
fn the_job_chain_reads_with_a_sink_kind_that_exists() {
    // the fixture must be a job the model reads, or the graph tests test nothing
    let checked = check_source("chain.ron", JOB);
    assert!(checked.job.is_some(), "{:?}", checked.diagnostics);
}

#[test]
fn keys_say_why_without_a_store() {
    with_cx(|cx| {
        let mut v = InstanceView::from_detail(detail(InstanceState::Running), 0);
        let (level, msg) = status(v.handle_key(Key::char('x'), cx));
        assert_eq!(level, Level::Error);
        assert!(msg.contains("no metadata store"), "{msg}");
        let (level, msg) = status(v.handle_key(Key::char('r'), cx));
        assert_eq!(level, Level::Warning);
        assert!(
            msg.contains("only a stopped or failed instance restarts"),
            "{msg}"
        );
        assert_eq!(
            v.handle_key(Key::char('a'), cx),
            Outcome::Action(Action::Open("alerts"))
        );
        let (_, msg) = status(v.handle_key(Key::char('o'), cx));
        assert!(msg.contains("not a job of this checkout"), "{msg}");
        assert_eq!(v.handle_key(Key::char('z'), cx), Outcome::Ignored);
        let mut stopped = InstanceView::from_detail(detail(InstanceState::Stopped), 0);
        let (_, msg) = status(stopped.handle_key(Key::char('x'), cx));
        assert!(msg.contains("nothing to stop"), "{msg}");
    });
}

#[test]
fn the_stop_question_names_the_instance_and_any_other_key_cancels() {
    let mut v = InstanceView::from_detail(detail(InstanceState::Running), 0);
    v.confirm = true;
    assert!(v.captures_text());
    assert_eq!(v.mode(), "CONFIRM");
    let f = v.render_text(80, 24);
    assert!(f.contains("stop instance"), "{f}");
    assert!(f.contains("stop #7 demo/chain (test, v2)?"), "{f}");
    with_cx(|cx| {
        let (_, msg) = status(v.handle_key(Key::char('n'), cx));
        assert!(msg.contains("keeps running"), "{msg}");
    });
    assert!(!v.confirm);
}

#[test]
fn an_accepted_stop_shows_stopping_until_the_worker_reports() {
    let mut inst = instance(InstanceState::Running);
    inst.desired = DesiredState::Stopped;
    assert_eq!(InstanceView::shown_state(&inst), "stopping");
    inst.state = InstanceState::Stopped;
    assert_eq!(InstanceView::shown_state(&inst), "stopped");
    let mut d = detail(InstanceState::Running);
    d.instance.desired = DesiredState::Stopped;
    let f = InstanceView::from_detail(d, 0).render_text(80, 24);
    assert!(f.contains("stopping"), "{f}");
}

#[test]
fn edges_take_the_colour_of_their_target_backpressure() {
    let job = check_source("chain.ron", JOB).job.unwrap();
    let g = LiveGraph::of(&job);
    let theme = Theme::default();
    let f = figures();
    let (w, h) = g.size();
    let lines = g.lines(Some(&f), &theme, w, h);
    // the arrow heads, top to bottom: into pv (0.7, warning), into out (0.95, error)
    let arrows: Vec<Option<Color>> = lines
        .iter()
        .flat_map(|l| l.spans.iter())
        .filter(|s| s.content.contains('▼'))
        .map(|s| s.style.fg)
        .collect();
    assert_eq!(arrows, [Some(theme.warning), Some(theme.error)]);
    let text: String = lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(text.contains("1.5k/s"), "{text}");
    assert!(text.contains("900/s"), "{text}");
    // one line when it does not fit
    let chain: String = g
        .chain(Some(&f), &theme)
        .spans
        .iter()
        .map(|s| s.content.as_ref())
        .collect();
    assert_eq!(chain, "clicks 1.5k/s → pv 900/s → out 900/s");
    // a clipped drawing never panics
    assert!(g.lines(Some(&f), &theme, 0, 0).is_empty());
    let _ = g.lines(None, &theme, 3, 2);
}

#[test]
fn a_savepoint_is_taken_only_of_a_running_instance() {
    with_cx(|cx| {
        let mut stopped = InstanceView::from_detail(detail(InstanceState::Stopped), 0);
        let (level, msg) = status(stopped.handle_key(Key::char('S'), cx));
        assert_eq!(level, Level::Warning);
        assert_eq!(
            msg,
            "instance #7 is stopped: a savepoint is taken of a running instance (r restarts it)"
        );
        let mut starting = InstanceView::from_detail(detail(InstanceState::Starting), 0);
        let (_, msg) = status(starting.handle_key(Key::char('S'), cx));
        assert!(
            msg.contains("is starting") && msg.contains("wait until it runs"),
            "{msg}"
        );
        let mut d = detail(InstanceState::Running);
        d.instance.desired = DesiredState::Stopped;
        let mut stopping = InstanceView::from_detail(d, 0);
        let (_, msg) = status(stopping.handle_key(Key::char('S'), cx));
        assert!(msg.contains("is stopping"), "{msg}");
        // a running one gets as far as the store
        let mut running = InstanceView::from_detail(detail(InstanceState::Running), 0);
        let (level, msg) = status(running.perform("savepoint", cx));
        assert_eq!(level, Level::Error);
        assert!(msg.contains("no metadata store"), "{msg}");
        assert!(!running.busy());
    });
}
