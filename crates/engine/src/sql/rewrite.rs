//! From the query text as users write it (Flink streaming SQL) to statements DataFusion
//! plans: the window table function in `FROM TABLE(TUMBLE(...))` becomes a plain table
//! (`__weir_window`) whose rows the operator produces itself, and constructs the engine
//! does not run are refused here with an error naming them. Physical-plan checks (joins
//! the parser let through, stacked aggregations, OVER clauses) live in `planner.rs`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Query, Select, SetExpr,
    Statement, TableFactor, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::interval::interval_ms;
use super::window::{WindowKind, WindowSpec};
use crate::error::{EngineError, Result};

/// The name of the table a window table function is replaced by.
pub const WINDOW_TABLE: &str = "__weir_window";

/// A window table function found in the query.
#[derive(Debug, Clone)]
pub struct WindowCall {
    /// The input table it reads (`TABLE t`).
    pub table: String,
    /// The event-time column (`DESCRIPTOR(ts)`).
    pub time_column: String,
    pub spec: WindowSpec,
}

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

    let mut replacer = WindowReplacer::default();
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

/// Replaces `TABLE(TUMBLE|HOP|CUMULATE(...))` by the window table; refuses SESSION and a
/// second window table function.
#[derive(Default)]
struct WindowReplacer {
    window: Option<WindowCall>,
    error: Option<EngineError>,
}

impl VisitorMut for WindowReplacer {
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
            "TUMBLE" | "HOP" | "CUMULATE" => window_call(&name, &f.args),
            "SESSION" => Err(EngineError::unsupported(
                "SESSION windows",
                Some("use TUMBLE, HOP or CUMULATE"),
            )),
            other => Err(EngineError::unsupported(
                format!("table function {other}"),
                Some("the table functions run are TUMBLE, HOP and CUMULATE"),
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
fn plain_table(alias: Option<sqlparser::ast::TableAlias>) -> Result<TableFactor> {
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

/// Reads the arguments of a window table function, positional or named.
fn window_call(name: &str, args: &FunctionArguments) -> Result<WindowCall> {
    let FunctionArguments::List(list) = args else {
        return Err(EngineError::Plan(format!(
            "{name} needs arguments: {name}(TABLE t, DESCRIPTOR(ts), ...)"
        )));
    };
    let positional: &[&str] = match name {
        "TUMBLE" => &["DATA", "TIMECOL", "SIZE", "OFFSET"],
        "HOP" => &["DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"],
        _ => &["DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"],
    };
    let mut named: Vec<(String, &Expr)> = Vec::new();
    for (i, arg) in list.args.iter().enumerate() {
        let (key, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => match positional.get(i) {
                Some(k) => (k.to_string(), e),
                None => {
                    return Err(EngineError::Plan(format!(
                        "{name} takes at most {} arguments",
                        positional.len()
                    )));
                }
            },
            FunctionArg::Named {
                name: n,
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (n.value.to_ascii_uppercase(), e),
            FunctionArg::ExprNamed {
                name: Expr::Identifier(n),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (n.value.to_ascii_uppercase(), e),
            other => {
                return Err(EngineError::Plan(format!(
                    "{name}: cannot read the argument `{other}`"
                )));
            }
        };
        if !positional.contains(&key.as_str()) {
            return Err(EngineError::Plan(format!(
                "{name} has no argument {key}; its arguments are {}",
                positional.join(", ")
            )));
        }
        named.push((key, value));
    }
    let get = |k: &str| named.iter().find(|(n, _)| n == k).map(|(_, e)| *e);
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            EngineError::Plan(format!(
                "{name} is missing its {k} argument ({})",
                positional.join(", ")
            ))
        })
    };
    let table = match need("DATA")? {
        Expr::Identifier(id) => id.value.clone(),
        Expr::CompoundIdentifier(ids) => ids
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join("."),
        other => {
            return Err(EngineError::Plan(format!(
                "{name}: the DATA argument must be TABLE <name>, not `{other}`"
            )));
        }
    };
    let time_column = descriptor(name, need("TIMECOL")?)?;
    let interval = |k: &str| need(k).and_then(|e| interval_ms(name, k, e));
    let kind = match name {
        "TUMBLE" => WindowKind::Tumble {
            size: interval("SIZE")?,
        },
        "HOP" => WindowKind::Hop {
            slide: interval("SLIDE")?,
            size: interval("SIZE")?,
        },
        _ => WindowKind::Cumulate {
            step: interval("STEP")?,
            size: interval("SIZE")?,
        },
    };
    let offset = match get("OFFSET") {
        Some(e) => interval_ms(name, "OFFSET", e)?,
        None => 0,
    };
    Ok(WindowCall {
        table,
        time_column,
        spec: WindowSpec::new(kind, offset)?,
    })
}

fn descriptor(name: &str, e: &Expr) -> Result<String> {
    if let Expr::Function(f) = e
        && f.name.to_string().eq_ignore_ascii_case("DESCRIPTOR")
        && let FunctionArguments::List(list) = &f.args
        && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(col))] = list.args.as_slice()
    {
        match col {
            Expr::Identifier(id) => return Ok(id.value.clone()),
            Expr::CompoundIdentifier(ids) if !ids.is_empty() => {
                return Ok(ids[ids.len() - 1].value.clone());
            }
            _ => {}
        }
    }
    Err(EngineError::Plan(format!(
        "{name}: the time column is given as DESCRIPTOR(column), not `{e}`"
    )))
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
            let group_window = [
                "TUMBLE",
                "HOP",
                "SESSION",
                "CUMULATE",
                "TUMBLE_START",
                "TUMBLE_END",
                "TUMBLE_ROWTIME",
                "HOP_START",
                "HOP_END",
                "HOP_ROWTIME",
                "SESSION_START",
                "SESSION_END",
                "SESSION_ROWTIME",
            ];
            if group_window.contains(&name.as_str()) {
                return ControlFlow::Break(EngineError::unsupported(
                    format!(
                        "group window function {name}(...) (the legacy GROUP BY TUMBLE(ts, ...) syntax)"
                    ),
                    Some(
                        "use the window table functions: FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end",
                    ),
                ));
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

    #[test]
    fn tumble_is_replaced_by_the_window_table() {
        let r = rewrite("SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end").unwrap();
        let w = r.window.unwrap();
        assert_eq!((w.table.as_str(), w.time_column.as_str()), ("clicks", "ts"));
        assert_eq!(w.spec.kind, WindowKind::Tumble { size: 60_000 });
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
        assert_eq!(
            r.window.unwrap().spec.kind,
            WindowKind::Hop {
                slide: 10_000,
                size: 60_000
            }
        );
        let r = rewrite("SELECT * FROM TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, INTERVAL '1' DAY, INTERVAL '5' MINUTE))").unwrap();
        let w = r.window.unwrap();
        assert_eq!(
            w.spec.kind,
            WindowKind::Cumulate {
                step: 3_600_000,
                size: 86_400_000
            }
        );
        assert_eq!(w.spec.offset, 300_000);
    }

    #[test]
    fn refusals_name_the_construct() {
        for (q, what) in [
            ("SELECT * FROM a JOIN b ON a.x = b.x", "JOIN"),
            ("SELECT * FROM t LIMIT 3", "LIMIT"),
            ("SELECT * FROM t ORDER BY x", "ORDER BY"),
            (
                "SELECT * FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                "SESSION",
            ),
            (
                "SELECT COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
                "group window function TUMBLE",
            ),
        ] {
            let e = rewrite(q).unwrap_err().to_string();
            assert!(e.starts_with("unsupported") && e.contains(what), "{q}: {e}");
        }
    }
}
