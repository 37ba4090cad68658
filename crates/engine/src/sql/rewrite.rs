//! From the query text as users write it (Flink streaming SQL) to statements DataFusion
//! plans: the window table function in `FROM TABLE(TUMBLE(...))` becomes a plain table
//! (`__weir_window`) whose rows the operator produces itself, and constructs the engine
//! does not run are refused here with an error naming them. Physical-plan checks (joins
//! the parser let through, stacked aggregations, OVER clauses) live in `planner.rs`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, GroupByExpr, Query, Select, SetExpr, Statement, TableFactor, Visit, VisitMut, Visitor,
    VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::legacy::LegacyWindows;
pub use super::tvf::WindowCall;
use super::tvf::window_call;
use crate::error::{EngineError, Result};

/// The name of the table a window table function is replaced by.
pub const WINDOW_TABLE: &str = "__weir_window";

/// The query after the rewrite.
#[derive(Debug)]
pub struct Rewritten {
    /// `CREATE VIEW` statements, then the query.
    pub statements: Vec<Statement>,
    pub window: Option<WindowCall>,
    /// The one table the statements read: an input's name or [`WINDOW_TABLE`].
    pub source: String,
}

/// Parse, refuse what we do not run, replace the window table function.
pub fn rewrite(query: &str) -> Result<Rewritten> {
    let mut statements = weir_model::jobfile::sql::parse(query).map_err(|p| {
        EngineError::Plan(format!("{} (at byte {} of the query)", p.message, p.start))
    })?;
    let Some(last) = statements.len().checked_sub(1) else {
        return Err(EngineError::Plan(
            "the SQL operator has no query; write a SELECT over the upstream table".into(),
        ));
    };
    let mut views = Vec::new();
    for (n, st) in statements.iter().enumerate() {
        match st {
            Statement::Query(_) if n == last => {}
            Statement::CreateView(v) if n != last => views.push(unquote(&v.name.to_string())),
            Statement::Query(_) => {
                return Err(EngineError::Plan(
                    "only the last statement of a SQL operator may be a query; name earlier ones with CREATE VIEW name AS ...".into(),
                ));
            }
            other => {
                let text = other.to_string();
                let head: Vec<&str> = text.split_whitespace().take(2).collect();
                return Err(EngineError::unsupported(
                    format!("statement `{}`", head.join(" ")),
                    Some("a SQL operator holds CREATE VIEW statements and one final query"),
                ));
            }
        }
    }

    let mut legacy = LegacyWindows {
        query,
        window: None,
        error: None,
    };
    let _ = VisitMut::visit(&mut statements, &mut legacy);
    if let Some(e) = legacy.error {
        return Err(e);
    }
    let mut replacer = WindowReplacer {
        query,
        window: legacy.window,
        error: None,
    };
    let _ = VisitMut::visit(&mut statements, &mut replacer);
    if let Some(e) = replacer.error {
        return Err(e);
    }

    let mut checker = Checker::default();
    if let ControlFlow::Break(e) = statements.visit(&mut checker) {
        return Err(e);
    }
    let mut sources: Vec<String> = Vec::new();
    for name in checker.relations {
        let bare = unquote(&name);
        let local = views
            .iter()
            .chain(checker.ctes.iter())
            .any(|v| v.eq_ignore_ascii_case(&bare));
        if !local && !sources.iter().any(|s| s.eq_ignore_ascii_case(&bare)) {
            sources.push(bare);
        }
    }
    let source = match sources.len() {
        1 => sources.remove(0),
        0 => {
            return Err(EngineError::Plan(
                "the query reads no table; read the upstream table (FROM <table>)".into(),
            ));
        }
        _ => {
            return Err(EngineError::unsupported(
                format!(
                    "reading several tables in one query ({})",
                    sources.join(", ")
                ),
                Some("joins and unions of streams are not run yet; use one input per SQL operator"),
            ));
        }
    };
    Ok(Rewritten {
        statements,
        window: replacer.window,
        source,
    })
}

fn unquote(name: &str) -> String {
    name.trim_matches(|c| c == '`' || c == '"').to_string()
}

/// Replaces `TABLE(TUMBLE|HOP|CUMULATE|SESSION(...))` by the window table; refuses a
/// second window (table function or legacy group window).
struct WindowReplacer<'q> {
    /// The query as written (a SESSION's `PARTITION BY` is read there).
    query: &'q str,
    window: Option<WindowCall>,
    error: Option<EngineError>,
}

impl VisitorMut for WindowReplacer<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::TableFunction {
            expr: Expr::Function(f),
            alias,
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        let name = f.name.to_string().to_ascii_uppercase();
        let result = match name.as_str() {
            "TUMBLE" | "HOP" | "CUMULATE" | "SESSION" => window_call(&name, &f.args, self.query),
            other => Err(EngineError::unsupported(
                format!("table function {other}"),
                Some("the table functions run are TUMBLE, HOP, CUMULATE and SESSION"),
            )),
        };
        let call = match result {
            Ok(c) => c,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        };
        if self.window.is_some() {
            self.error = Some(EngineError::unsupported(
                "more than one window table function in a query (window joins, stacked windows)",
                None,
            ));
            return ControlFlow::Break(());
        }
        self.window = Some(call);
        let alias = alias.take();
        match plain_table(alias) {
            Ok(t) => *tf = t,
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}

/// `FROM __weir_window [alias]` as a table factor, taken from a parsed query.
pub(super) fn plain_table(alias: Option<sqlparser::ast::TableAlias>) -> Result<TableFactor> {
    let parsed = Parser::parse_sql(&GenericDialect {}, &format!("SELECT * FROM {WINDOW_TABLE}"))
        .map_err(|e| EngineError::Plan(format!("internal: window table rewrite: {e}")))?;
    let factor = parsed.into_iter().next().and_then(|st| match st {
        Statement::Query(q) => match *q.body {
            SetExpr::Select(s) => s.from.into_iter().next().map(|t| t.relation),
            _ => None,
        },
        _ => None,
    });
    match factor {
        Some(TableFactor::Table {
            name,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_hints,
            ..
        }) => Ok(TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_hints,
        }),
        _ => Err(EngineError::Plan(
            "internal: window table rewrite produced no table".into(),
        )),
    }
}

/// Refuses what the engine does not run and collects the tables read.
#[derive(Default)]
struct Checker {
    relations: Vec<String>,
    ctes: Vec<String>,
}

impl Visitor for Checker {
    type Break = EngineError;

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<EngineError> {
        if let Some(with) = &q.with {
            self.ctes
                .extend(with.cte_tables.iter().map(|c| c.alias.name.value.clone()));
        }
        if q.limit_clause.is_some() || q.fetch.is_some() {
            return ControlFlow::Break(EngineError::unsupported(
                "LIMIT / FETCH on a stream",
                Some(
                    "for the first N rows of each window use ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...) and WHERE rn <= N",
                ),
            ));
        }
        if q.order_by.is_some() {
            return ControlFlow::Break(EngineError::unsupported(
                "ORDER BY on a stream without a window",
                Some(
                    "rows are emitted as windows fire; to rank rows within a window use ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...)",
                ),
            ));
        }
        if let SetExpr::SetOperation { op, .. } = q.body.as_ref() {
            return ControlFlow::Break(EngineError::unsupported(format!("{op} of streams"), None));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<EngineError> {
        if s.from.len() > 1 || s.from.iter().any(|t| !t.joins.is_empty()) {
            return ControlFlow::Break(EngineError::unsupported(
                "JOIN",
                Some("stream joins, lookup joins and comma joins are not run yet"),
            ));
        }
        if let GroupByExpr::Expressions(exprs, modifiers) = &s.group_by {
            if !modifiers.is_empty() {
                return ControlFlow::Break(EngineError::unsupported(
                    "GROUP BY ... WITH ROLLUP/CUBE",
                    None,
                ));
            }
            for e in exprs {
                if matches!(e, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)) {
                    return ControlFlow::Break(EngineError::unsupported(
                        "GROUPING SETS / ROLLUP / CUBE",
                        None,
                    ));
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<EngineError> {
        match tf {
            TableFactor::MatchRecognize { .. } => {
                ControlFlow::Break(EngineError::unsupported("MATCH_RECOGNIZE", None))
            }
            TableFactor::Table {
                args: Some(_),
                name,
                ..
            } => ControlFlow::Break(EngineError::unsupported(
                format!("table function {name}(...) without TABLE(...)"),
                Some(
                    "write window table functions as FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                ),
            )),
            TableFactor::Table { .. } | TableFactor::Derived { .. } => ControlFlow::Continue(()),
            TableFactor::NestedJoin { .. } => {
                ControlFlow::Break(EngineError::unsupported("JOIN", None))
            }
            other => {
                let text = other.to_string();
                let head: String = text.chars().take(40).collect();
                ControlFlow::Break(EngineError::unsupported(format!("FROM {head}"), None))
            }
        }
    }

    fn pre_visit_relation(&mut self, rel: &sqlparser::ast::ObjectName) -> ControlFlow<EngineError> {
        self.relations.push(rel.to_string());
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<EngineError> {
        if let Expr::Function(f) = e {
            let name = f.name.to_string().to_ascii_uppercase();
            // the legacy group windows of a GROUP BY were rewritten before: what is left
            // is misplaced (outside GROUP BY) or has no group window form (CUMULATE)
            if name == "CUMULATE" {
                return ControlFlow::Break(EngineError::unsupported(
                    "group window function CUMULATE(...) (Flink has no GROUP BY CUMULATE form)",
                    Some(
                        "use the window table function: FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR)) GROUP BY window_start, window_end",
                    ),
                ));
            }
            if ["TUMBLE", "HOP", "SESSION"].contains(&name.as_str()) {
                return ControlFlow::Break(EngineError::unsupported(
                    format!("group window function {name}(...) outside GROUP BY"),
                    Some(
                        "a group window is a GROUP BY item (GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k); select its bounds with TUMBLE_START / TUMBLE_END / TUMBLE_ROWTIME",
                    ),
                ));
            }
            let part = ["TUMBLE", "HOP", "SESSION"]
                .iter()
                .find_map(|w| name.strip_prefix(w).map(|rest| (*w, rest)));
            match part {
                Some((_, "_PROCTIME")) => {
                    return ControlFlow::Break(EngineError::unsupported(
                        format!("{name}(...) (processing time)"),
                        Some("windows run on event time: use the _ROWTIME function instead"),
                    ));
                }
                Some((window, "_START" | "_END" | "_ROWTIME")) => {
                    return ControlFlow::Break(EngineError::unsupported(
                        format!(
                            "{name}(...) outside the SELECT list and HAVING of a GROUP BY {window}(...)"
                        ),
                        Some(
                            "select the window bounds in the query that groups by the window, and filter on them in an outer query",
                        ),
                    ));
                }
                _ => {}
            }
            if matches!(name.as_str(), "PROCTIME" | "CURRENT_WATERMARK") {
                return ControlFlow::Break(EngineError::unsupported(format!("{name}()"), None));
            }
        }
        if matches!(
            e,
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. }
        ) {
            return ControlFlow::Break(EngineError::unsupported("subqueries in expressions", None));
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::window::{WindowKind, WindowSpec, Windowing};

    #[test]
    fn tumble_is_replaced_by_the_window_table() {
        let r = rewrite("SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end").unwrap();
        let w = r.window.unwrap();
        assert_eq!((w.table.as_str(), w.time_column.as_str()), ("clicks", "ts"));
        assert_eq!(
            w.windowing,
            Windowing::Fixed(WindowSpec::new(WindowKind::Tumble { size: 60_000 }, 0).unwrap())
        );
        assert_eq!(r.source, WINDOW_TABLE);
        assert!(
            r.statements[0]
                .to_string()
                .contains(&format!("FROM {WINDOW_TABLE}"))
        );
    }

    #[test]
    fn named_arguments_and_plural_units_are_read() {
        let r = rewrite("SELECT * FROM TABLE(HOP(DATA => TABLE t, TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '10' SECONDS, SIZE => INTERVAL '1' MINUTES)) w").unwrap();
        let spec = |k| Windowing::Fixed(WindowSpec::new(k, 0).unwrap());
        assert_eq!(
            r.window.unwrap().windowing,
            spec(WindowKind::Hop {
                slide: 10_000,
                size: 60_000
            })
        );
        let r = rewrite("SELECT * FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, INTERVAL '1' DAY, INTERVAL '5' MINUTE))").unwrap();
        let w = r.window.unwrap();
        assert_eq!(
            w.windowing,
            Windowing::Fixed(
                WindowSpec::new(
                    WindowKind::Cumulate {
                        step: 3_600_000,
                        size: 86_400_000
                    },
                    300_000
                )
                .unwrap()
            )
        );
    }

    #[test]
    fn session_reads_its_gap_and_partition_keys() {
        for (q, keys) in [
            (
                "SELECT * FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                vec!["k"],
            ),
            (
                "SELECT * FROM TABLE(SESSION(TABLE `t` PARTITION BY (k, `c`), DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                vec!["k", "c"],
            ),
            (
                "SELECT * FROM TABLE(\n SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                vec![],
            ),
        ] {
            let w = rewrite(q).unwrap().window.unwrap();
            assert_eq!(w.table, "t");
            assert_eq!(
                w.windowing,
                Windowing::Session {
                    gap: 60_000,
                    partition: keys.into_iter().map(String::from).collect()
                },
                "{q}"
            );
        }
    }

    #[test]
    fn refusals_name_the_construct() {
        for (q, what) in [
            ("SELECT * FROM a JOIN b ON a.x = b.x", "JOIN"),
            ("SELECT * FROM t LIMIT 3", "LIMIT"),
            ("SELECT * FROM t ORDER BY x", "ORDER BY"),
            (
                "SELECT COUNT(*) FROM t GROUP BY CUMULATE(ts, INTERVAL '1' MINUTE)",
                "group window function CUMULATE",
            ),
            (
                "SELECT * FROM t WHERE TUMBLE(ts, INTERVAL '1' MINUTE) IS NOT NULL",
                "group window function TUMBLE(...) outside GROUP BY",
            ),
            (
                "SELECT TUMBLE_PROCTIME(ts, INTERVAL '1' MINUTE), COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
                "TUMBLE_PROCTIME(...) (processing time)",
            ),
            (
                "SELECT COUNT(*) FROM t WHERE SESSION_END(ts, INTERVAL '1' MINUTE) > ts GROUP BY SESSION(ts, INTERVAL '1' MINUTE)",
                "SESSION_END(...) outside the SELECT list and HAVING",
            ),
        ] {
            let e = rewrite(q).unwrap_err().to_string();
            assert!(e.starts_with("unsupported") && e.contains(what), "{q}: {e}");
        }
    }
}
