//! The worker's `/metrics` endpoint: the Prometheus text exposition of every instance it
//! runs, refreshed each second. One read-only route over plain HTTP/1.1; written here
//! rather than pulling an HTTP server crate into the build for it.

use std::sync::{Arc, RwLock};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::AppError;

/// Serves `exposition` on `addr` (`127.0.0.1:9464`, port 0 for any); returns the address
/// it listens on.
pub(super) async fn serve(addr: &str, exposition: Arc<RwLock<String>>) -> Result<String, AppError> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        AppError::User(format!(
            "--metrics-addr {addr}: cannot listen there ({e}); choose a free address, e.g. 127.0.0.1:9464"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_string());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let exposition = exposition.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                // the request line and headers; the body (if any) is ignored
                while read < buf.len() {
                    match stream.read(&mut buf[read..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                    if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..read]);
                let line = head.lines().next().unwrap_or("");
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let path = path.split('?').next().unwrap_or("");
                let (status, kind, body) = match (method, path) {
                    ("GET", "/metrics") => (
                        "200 OK",
                        "text/plain; version=0.0.4; charset=utf-8",
                        exposition.read().map(|e| e.clone()).unwrap_or_default(),
                    ),
                    ("GET", "/") => (
                        "200 OK",
                        "text/plain; charset=utf-8",
                        "weir worker: metrics at /metrics\n".to_string(),
                    ),
                    ("GET", _) => (
                        "404 Not Found",
                        "text/plain; charset=utf-8",
                        "not found; metrics are at /metrics\n".to_string(),
                    ),
                    _ => (
                        "405 Method Not Allowed",
                        "text/plain; charset=utf-8",
                        "only GET\n".to_string(),
                    ),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(bound)
}

/// The checkpoint gauges of the instances that take checkpoints (`weir_checkpoint_*`),
/// labelled by instance and job; each instance is `(id, job, figures)`.
pub(super) fn checkpoint_metrics(
    instances: &[(String, String, crate::instances::CheckpointFigures)],
) -> String {
    use crate::instances::CheckpointFigures as F;
    if instances.is_empty() {
        return String::new();
    }
    type Value = fn(&F) -> Option<f64>;
    let series: [(&str, &str, &str, Value); 7] = [
        (
            "weir_checkpoint_last_id",
            "gauge",
            "Id of the last completed checkpoint or savepoint.",
            |f| f.last_id.map(|v| v as f64),
        ),
        (
            "weir_checkpoint_age_seconds",
            "gauge",
            "Seconds since the last checkpoint completed.",
            |f| f.age_ms.map(|v| v as f64 / 1000.0),
        ),
        (
            "weir_checkpoint_duration_seconds",
            "gauge",
            "How long the last checkpoint took, barrier to manifest.",
            |f| f.last_id.map(|_| f.duration_ms as f64 / 1000.0),
        ),
        (
            "weir_checkpoint_size_bytes",
            "gauge",
            "Bytes of state in the last checkpoint.",
            |f| f.last_id.map(|_| f.size as f64),
        ),
        (
            "weir_checkpoint_alignment_seconds",
            "gauge",
            "Longest barrier alignment of the last checkpoint.",
            |f| f.last_id.map(|_| f.alignment_ms as f64 / 1000.0),
        ),
        (
            "weir_checkpoints_completed_total",
            "counter",
            "Checkpoints and savepoints completed by this run.",
            |f| Some(f.completed as f64),
        ),
        (
            "weir_checkpoints_failed_total",
            "counter",
            "Checkpoints and savepoints that failed or were aborted in this run.",
            |f| Some(f.failed as f64),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in series {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (id, job, f) in instances {
            if let Some(v) = value(f) {
                out.push_str(&format!(
                    "{name}{{instance=\"{}\",job=\"{}\"}} {v}\n",
                    label(id),
                    label(job)
                ));
            }
        }
    }
    out
}

/// A label value in the exposition format: `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
