//! Flink's legacy group windows, `GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k` with
//! `TUMBLE_START` / `TUMBLE_END` / `TUMBLE_ROWTIME` (and HOP, SESSION), rewritten into the
//! window table function form the engine runs: the FROM table becomes the window table,
//! the group window becomes `window_start, window_end`, `*_START` reads `window_start`,
//! `*_END` `window_end` and `*_ROWTIME` `window_end - 1 ms`. A select item that is only
//! such a call keeps the name the user wrote. What is not a legacy group window is left
//! for `rewrite.rs`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, Query, Select,
    SelectItem, SetExpr, Spanned, TableAlias, TableFactor, VisitorMut, visit_expressions_mut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::interval::interval_ms;
use super::rewrite::plain_table;
use super::tvf::WindowCall;
use super::window::{WindowKind, WindowSpec, Windowing};
use crate::error::{EngineError, Result};

/// The group window functions and the window functions' auxiliary functions.
const GROUP_WINDOWS: [&str; 3] = ["TUMBLE", "HOP", "SESSION"];
const AUXILIARY: [&str; 3] = ["_START", "_END", "_ROWTIME"];

/// Rewrites every SELECT with a legacy group window; at most one per query.
pub struct LegacyWindows<'q> {
    /// The query as written, to say where a mismatched call is.
    pub query: &'q str,
    pub window: Option<WindowCall>,
    pub error: Option<EngineError>,
}

impl VisitorMut for LegacyWindows<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = q.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        match rewrite_select(select, self.query) {
            Ok(None) => ControlFlow::Continue(()),
            Ok(Some(_)) if self.window.is_some() => {
                self.error = Some(EngineError::unsupported(
                    "more than one group window in a query (stacked windows)",
                    None,
                ));
                ControlFlow::Break(())
            }
            Ok(Some(call)) => {
                self.window = Some(call);
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// A group window as written: its kind, time column and intervals (ms), and its text.
struct GroupWindow {
    kind: &'static str,
    time_column: String,
    intervals: Vec<i64>,
    text: String,
}

/// Reads `TUMBLE(ts, size)`, `HOP(ts, slide, size)`, `SESSION(ts, gap)` (also as the
/// argument list of an auxiliary function of `kind`).
fn read_window(kind: &'static str, call: &Expr, args: &FunctionArguments) -> Result<GroupWindow> {
    let want = if kind == "HOP" { 3 } else { 2 };
    let usage = match kind {
        "TUMBLE" => "TUMBLE(ts, INTERVAL '1' MINUTE)",
        "HOP" => "HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) (slide, then size)",
        _ => "SESSION(ts, INTERVAL '5' MINUTE)",
    };
    let exprs: Vec<&Expr> = match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let arity = match args {
        FunctionArguments::List(list) => list.args.len(),
        _ => 0,
    };
    if exprs.len() != want || arity != want {
        return Err(EngineError::Plan(format!(
            "`{call}`: the group window {kind} takes {want} arguments, as in {usage}"
        )));
    }
    let time_column = match exprs[0] {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(ids) if !ids.is_empty() => ids[ids.len() - 1].value.clone(),
        other => {
            return Err(EngineError::Plan(format!(
                "`{call}`: the first argument of {kind} is the event-time column, not `{other}`"
            )));
        }
    };
    let names: &[&str] = match kind {
        "TUMBLE" => &["SIZE"],
        "HOP" => &["SLIDE", "SIZE"],
        _ => &["GAP"],
    };
    let intervals = exprs[1..]
        .iter()
        .zip(names)
        .map(|(e, n)| interval_ms(kind, n, e))
        .collect::<Result<Vec<_>>>()?;
    Ok(GroupWindow {
        kind,
        time_column,
        intervals,
        text: call.to_string(),
    })
}

impl GroupWindow {
    fn windowing(&self) -> Result<Windowing> {
        let kind = match (self.kind, self.intervals.as_slice()) {
            ("TUMBLE", [size]) => WindowKind::Tumble { size: *size },
            ("HOP", [slide, size]) => WindowKind::Hop {
                slide: *slide,
                size: *size,
            },
            (_, [gap]) if *gap > 0 => {
                return Ok(Windowing::Session {
                    gap: *gap,
                    partition: Vec::new(),
                });
            }
            _ => {
                return Err(EngineError::Plan(format!(
                    "`{}`: the SESSION gap must be positive",
                    self.text
                )));
            }
        };
        Ok(Windowing::Fixed(WindowSpec::new(kind, 0)?))
    }

    fn same_as(&self, other: &GroupWindow) -> bool {
        self.kind == other.kind
            && self.time_column.eq_ignore_ascii_case(&other.time_column)
            && self.intervals == other.intervals
    }
}

/// The group window function named by `name` (upper case), if it is one.
fn group_window_kind(name: &str) -> Option<&'static str> {
    GROUP_WINDOWS.into_iter().find(|k| *k == name)
}

/// The group window and auxiliary part of `name` (`TUMBLE_START` → TUMBLE, `_START`).
fn auxiliary(name: &str) -> Option<(&'static str, &'static str)> {
    GROUP_WINDOWS.into_iter().find_map(|k| {
        let rest = name.strip_prefix(k)?;
        AUXILIARY.into_iter().find(|a| *a == rest).map(|a| (k, a))
    })
}

fn function_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_uppercase()),
        _ => None,
    }
}

/// Rewrites `select` if its GROUP BY holds a group window; returns the window call.
fn rewrite_select(select: &mut Select, query: &str) -> Result<Option<WindowCall>> {
    let GroupByExpr::Expressions(group, _) = &mut select.group_by else {
        return Ok(None);
    };
    let at: Vec<usize> = group
        .iter()
        .enumerate()
        .filter(|(_, e)| function_name(e).is_some_and(|n| group_window_kind(&n).is_some()))
        .map(|(i, _)| i)
        .collect();
    let window = match at.as_slice() {
        [] => {
            refuse_orphans(select)?;
            return Ok(None);
        }
        [i] => {
            let e = &group[*i];
            let (Some(name), Expr::Function(f)) = (function_name(e), e) else {
                return Ok(None);
            };
            let kind = group_window_kind(&name).unwrap_or("TUMBLE");
            read_window(kind, e, &f.args)?
        }
        _ => {
            return Err(EngineError::unsupported(
                "several group windows in one GROUP BY",
                Some("group by one window: GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), key"),
            ));
        }
    };
    let i = at[0];
    group.splice(
        i..=i,
        [
            Expr::Identifier(Ident::new("window_start")),
            Expr::Identifier(Ident::new("window_end")),
        ],
    );

    let table = match select.from.as_mut_slice() {
        [from] if from.joins.is_empty() => match &mut from.relation {
            TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = name
                    .0
                    .iter()
                    .map(|p| p.to_string().trim_matches(['`', '"']).to_string())
                    .collect::<Vec<_>>()
                    .join(".");
                // `t.col` keeps working: the window table is called what the user called t
                let alias = alias.take().unwrap_or_else(|| TableAlias {
                    explicit: true,
                    name: Ident::new(name.0.last().map_or(table.clone(), |p| {
                        p.to_string().trim_matches(['`', '"']).to_string()
                    })),
                    columns: Vec::new(),
                    at: None,
                });
                from.relation = plain_table(Some(alias))?;
                table
            }
            _ => return Err(needs_table(&window)),
        },
        _ => return Err(needs_table(&window)),
    };

    // an item that is just `TUMBLE_START(...)` keeps that as its name
    for item in select.projection.iter_mut() {
        if let SelectItem::UnnamedExpr(e) = item
            && function_name(e).is_some_and(|n| auxiliary(&n).is_some())
        {
            let alias = Ident::new(e.to_string());
            *item = SelectItem::ExprWithAlias {
                expr: e.clone(),
                alias,
            };
        }
    }
    let rowtime = rowtime_expr()?;
    let mut replace = |e: &mut Expr| -> ControlFlow<EngineError> {
        let Some((kind, part)) = function_name(e).as_deref().and_then(auxiliary) else {
            return ControlFlow::Continue(());
        };
        let Expr::Function(f) = &*e else {
            return ControlFlow::Continue(());
        };
        let call = match read_window(kind, e, &f.args) {
            Ok(c) => c,
            Err(err) => return ControlFlow::Break(err),
        };
        if !call.same_as(&window) {
            let start = e.span().start;
            let at = if start.line == 0 {
                String::new()
            } else {
                let at = weir_model::jobfile::sql::offset_of(query, start);
                format!(" (at byte {at} of the query)")
            };
            return ControlFlow::Break(EngineError::Plan(format!(
                "`{}` does not match the group window `{}` of the GROUP BY: a {kind}{part} call takes the same arguments as the GROUP BY window{at}",
                call.text, window.text
            )));
        }
        *e = match part {
            "_START" => Expr::Identifier(Ident::new("window_start")),
            "_END" => Expr::Identifier(Ident::new("window_end")),
            _ => rowtime.clone(),
        };
        ControlFlow::Continue(())
    };
    if let ControlFlow::Break(e) = visit_expressions_mut(&mut select.projection, &mut replace) {
        return Err(e);
    }
    if let Some(having) = &mut select.having
        && let ControlFlow::Break(e) = visit_expressions_mut(having, &mut replace)
    {
        return Err(e);
    }
    Ok(Some(WindowCall {
        table,
        time_column: window.time_column.clone(),
        windowing: window.windowing()?,
    }))
}

fn needs_table(window: &GroupWindow) -> EngineError {
    EngineError::unsupported(
        format!(
            "the group window `{}` over a join, subquery or table function",
            window.text
        ),
        Some("a group window reads one input table directly: FROM t GROUP BY TUMBLE(ts, ...)"),
    )
}

/// `*_ROWTIME`: the window's last millisecond, as Flink's rowtime of a group window.
fn rowtime_expr() -> Result<Expr> {
    Parser::new(&GenericDialect {})
        .try_with_sql("window_end - INTERVAL '1 millisecond'")
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| EngineError::Plan(format!("internal: rowtime expression: {e}")))
}

/// An auxiliary function (`TUMBLE_START(...)`) in a SELECT without a group window.
fn refuse_orphans(select: &mut Select) -> Result<()> {
    let mut found = None;
    let _ = visit_expressions_mut(&mut select.projection, |e: &mut Expr| {
        if let Some(n) = function_name(e)
            && let Some((kind, _)) = auxiliary(&n)
        {
            found = Some((n, kind));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    match found {
        Some((name, kind)) => Err(EngineError::Plan(format!(
            "{name}(...) needs its group window in the GROUP BY of the same SELECT, e.g. GROUP BY {kind}(ts, INTERVAL '1' MINUTE)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::rewrite::{WINDOW_TABLE, rewrite};
    use crate::sql::window::Windowing;

    #[test]
    fn tumble_becomes_the_window_table_with_the_names_kept() {
        let r = rewrite("SELECT k, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, TUMBLE_END(t.ts, INTERVAL '60' SECOND), TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE) AS rt, COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k").unwrap();
        let w = r.window.unwrap();
        assert_eq!((w.table.as_str(), w.time_column.as_str()), ("t", "ts"));
        assert!(matches!(w.windowing, Windowing::Fixed(_)));
        assert_eq!(r.source, WINDOW_TABLE);
        let text = r.statements[0].to_string();
        assert!(text.contains("window_start AS ws"), "{text}");
        assert!(
            text.contains("window_end AS TUMBLE_END(t.ts, INTERVAL '60' SECOND)"),
            "{text}"
        );
        assert!(
            text.contains("window_end - INTERVAL '1 millisecond' AS rt"),
            "{text}"
        );
        assert!(
            text.contains("GROUP BY window_start, window_end, k"),
            "{text}"
        );
        assert!(
            text.contains(&format!("FROM {WINDOW_TABLE} AS t")),
            "{text}"
        );
    }

    #[test]
    fn session_and_hop_read_their_intervals() {
        let r = rewrite("SELECT SESSION_START(ts, INTERVAL '5' MINUTE), COUNT(*) FROM t GROUP BY k, SESSION(ts, INTERVAL '5' MINUTE)").unwrap();
        assert_eq!(
            r.window.unwrap().windowing,
            Windowing::Session {
                gap: 300_000,
                partition: vec![]
            }
        );
        let r = rewrite("SELECT HOP_END(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) FROM t GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)").unwrap();
        assert!(matches!(r.window.unwrap().windowing, Windowing::Fixed(_)));
    }

    #[test]
    fn mismatched_arguments_name_both_calls() {
        let e = rewrite("SELECT TUMBLE_END(ts, INTERVAL '5' MINUTE), COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)").unwrap_err().to_string();
        assert!(
            e.contains("TUMBLE_END(ts, INTERVAL '5' MINUTE)")
                && e.contains("TUMBLE(ts, INTERVAL '1' MINUTE)"),
            "{e}"
        );
        let e = rewrite("SELECT HOP_START(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)").unwrap_err().to_string();
        assert!(e.contains("HOP_START") && e.contains("TUMBLE(ts"), "{e}");
        let e = rewrite("SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) FROM t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("GROUP BY TUMBLE"), "{e}");
        let e = rewrite("SELECT COUNT(*) FROM t GROUP BY TUMBLE(ts)")
            .unwrap_err()
            .to_string();
        assert!(e.contains("takes 2 arguments"), "{e}");
    }
}
