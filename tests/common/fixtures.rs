//! A stored instance for screen tests: fixed times (12:06–12:09:59 on 2026-12-07), a
//! version-3 test instance on worker `w-local-1`, in `state`.
#![allow(dead_code)]

use weir::app::instances::{DesiredState, Instance, InstanceState, StartPosition};

pub fn instance(id: i64, job: &str, state: InstanceState) -> Instance {
    Instance {
        id,
        job: job.into(),
        version: Some(3),
        release: None,
        env: "test".into(),
        parallelism: 2,
        memory_mib: 1024,
        start: StartPosition::Latest,
        params: serde_json::json!({}),
        state,
        desired: DesiredState::Running,
        worker: Some("w-local-1".into()),
        heartbeat_at: Some("2026-12-07T12:09:59Z".into()),
        started_at: Some("2026-12-07T12:07:00Z".into()),
        stopped_at: None,
        error: None,
        source_path: None,
        text_hash: None,
        created_by: "bob".into(),
        created_at: "2026-12-07T12:06:58Z".into(),
    }
}
