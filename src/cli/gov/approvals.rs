//! `weir inbox`, `weir approve ID`, `weir reject ID`, `weir audit`.

use clap::Args;
use weir_app::governance::{RequestKind, describe_effect};
use weir_model::text::printable;

use super::{emit, with_store};
use crate::cli::{Global, exit, table};

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Also list what I have decided.
    #[arg(long)]
    pub decided: bool,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The request id, as `weir inbox` shows it.
    pub id: i64,
    /// The approver's opinion (required to reject).
    #[arg(long, default_value = "")]
    pub opinion: String,
    /// Approve a release only if its content hash starts with this prefix (what you
    /// reviewed, as `weir release show ID` prints it).
    #[arg(long, value_name = "PREFIX")]
    pub hash: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries after this id.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
}

pub fn inbox(global: &Global, args: &InboxArgs) -> i32 {
    with_store(global, |gov| async move {
        let items = if args.decided {
            gov.decided_by_me().await?
        } else {
            gov.inbox().await?
        };
        let notices = gov.locks_taken_from_me(0).await?;
        if global.json {
            // A list of requests, as before; scripts read take-overs from `weir audit`.
            emit(global, &items, String::new);
            return Ok(exit::OK);
        }
        for n in &notices {
            outln!(
                "notice: {} took over your edit lock of {} ({} ago)",
                n.by,
                n.job,
                weir_app::jobs::age(&n.at)
            );
        }
        emit(global, &items, || {
            if items.is_empty() {
                return "nothing waiting for you\n".into();
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|r| {
                    vec![
                        format!("#{}", r.id),
                        r.created_at.clone(),
                        r.requester.clone(),
                        r.summary.clone(),
                    ]
                })
                .collect();
            table::render(&["ID", "ASKED", "BY", "WHAT"], &rows)
        });
        Ok(exit::OK)
    })
}

pub fn decide(global: &Global, args: &DecideArgs, approve: bool) -> i32 {
    with_store(global, |gov| async move {
        if !approve && args.hash.is_some() {
            return Err(weir_app::AppError::User(
                "--hash checks what an approval approves; a rejection needs none".into(),
            ));
        }
        // A release is shown as the approver decides it: its diff from the live version
        // and the hash being approved.
        let (request, _) = gov.request(args.id).await?;
        let review = if approve && request.kind == RequestKind::Release {
            Some(gov.review_release(args.id).await?)
        } else {
            None
        };
        let d = if approve {
            gov.approve_checked(args.id, &args.opinion, args.hash.as_deref())
                .await?
        } else {
            gov.reject(args.id, &args.opinion).await?
        };
        if global.json {
            let value = serde_json::json!({ "decision": d, "review": review });
            crate::cli::print_json(&value);
            return Ok(exit::OK);
        }
        if let Some(review) = &review {
            // the diff colours itself; `weir diff` prints the same text
            outp!(
                "{}hash {}\n",
                review.diff.render(crate::cli::job::color(global)),
                review.release.hash
            );
            if let Some(state) = &review.state {
                outp!("{}\n", weir_app::jobs::preview_lines(state).join("\n"));
            }
        }
        emit(global, &d, || {
            let mut out = String::new();
            out.push_str(&format!(
                "request #{} {}: {}\n",
                d.request.id,
                d.request.state.as_str(),
                printable(&d.request.summary)
            ));
            if let Some(effect) = describe_effect(&d.effect) {
                out.push_str(&printable(&effect));
                out.push('\n');
            }
            out
        });
        Ok(exit::OK)
    })
}

pub fn audit(global: &Global, args: &AuditArgs) -> i32 {
    with_store(global, |gov| async move {
        let entries = gov.audit(args.after).await?;
        emit(global, &entries, || {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        format!("{} {}", e.object_kind, e.object_id),
                    ]
                })
                .collect();
            table::render(&["ID", "AT", "ACTOR", "ACTION", "OBJECT"], &rows)
        });
        Ok(exit::OK)
    })
}
