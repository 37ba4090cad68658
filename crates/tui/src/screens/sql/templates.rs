//! Query templates the SQL editor inserts (<C-t>): the shapes of Flink streaming SQL
//! users write, filled in with the first upstream table and its columns when known.

use super::UpstreamTable;
use super::highlight::is_keyword;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: &'static str,
    pub about: &'static str,
    pub text: String,
}

/// An identifier as SQL text: backquoted unless it is a plain, non-keyword word.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !is_keyword(name) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// The names the templates use.
struct Names {
    table: String,
    /// The table's name unquoted, for deriving a view's name.
    raw_table: String,
    key: String,
    value: String,
    time: String,
    proc_time: String,
    dim: String,
    dim_key: String,
    dim_value: String,
}

fn is_time(name: &str, ty: &str) -> bool {
    let ty = ty.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    ty.contains("timestamp")
        || ty == "time"
        || matches!(name.as_str(), "ts" | "rowtime" | "event_time" | "time")
}

fn is_proc_time(name: &str, ty: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ty.to_ascii_lowercase().contains("proctime") || name == "proc_time" || name == "proctime"
}

fn names(upstream: &[UpstreamTable]) -> Names {
    let first = upstream.first();
    let raw_table = first.map_or("source_table".to_string(), |t| t.name.clone());
    let fields: &[(String, String)] = first.map_or(&[], |t| t.fields.as_slice());
    let time = fields
        .iter()
        .find(|(n, t)| is_time(n, t) && !is_proc_time(n, t))
        .map_or("ts".to_string(), |(n, _)| n.clone());
    let proc_time = fields
        .iter()
        .find(|(n, t)| is_proc_time(n, t))
        .map_or("proc_time".to_string(), |(n, _)| n.clone());
    let others: Vec<&String> = fields
        .iter()
        .filter(|(n, t)| !is_time(n, t) && !is_proc_time(n, t))
        .map(|(n, _)| n)
        .collect();
    let key = others
        .first()
        .map_or("key_col".to_string(), |n| n.to_string());
    let value = others
        .get(1)
        .or(others.first())
        .map_or("value_col".to_string(), |n| n.to_string());
    let dim_table = upstream.get(1);
    let dim_fields: &[(String, String)] = dim_table.map_or(&[], |t| t.fields.as_slice());
    let dim_key = dim_fields.first().map_or("id", |(n, _)| n.as_str());
    let dim_value = dim_fields
        .get(1)
        .or(dim_fields.first())
        .map_or("name", |(n, _)| n.as_str());
    Names {
        table: ident(&raw_table),
        raw_table,
        key: ident(&key),
        value: ident(&value),
        time: ident(&time),
        proc_time: ident(&proc_time),
        dim: ident(dim_table.map_or("dim", |t| t.name.as_str())),
        dim_key: ident(dim_key),
        dim_value: ident(dim_value),
    }
}

/// A windowed count per key over `window` (the `TABLE(...)` argument of FROM).
fn window_count(n: &Names, window: &str, indent: &str) -> String {
    let k = &n.key;
    format!(
        "{indent}SELECT window_start, window_end, {k},\n\
         {indent}       COUNT(*) AS cnt\n\
         {indent}FROM TABLE({window})\n\
         {indent}GROUP BY window_start, window_end, {k}"
    )
}

/// Every template, in the order the list shows them.
pub fn all(upstream: &[UpstreamTable]) -> Vec<Template> {
    let n = names(upstream);
    let (t, k, v, ts) = (&n.table, &n.key, &n.value, &n.time);
    let tumble = format!("TUMBLE(TABLE {t}, DESCRIPTOR({ts}), INTERVAL '1' MINUTE)");
    // a plain name: the checker knows a view by its name as written
    let plain: String = n
        .raw_table
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let view = ident(&format!(
        "{}_per_minute",
        plain.trim_start_matches(|c: char| c.is_ascii_digit())
    ));
    vec![
        Template {
            name: "projection / filter",
            about: "pick columns and keep the rows that match",
            text: format!("SELECT {k}, {v}, {ts}\nFROM {t}\nWHERE {k} IS NOT NULL"),
        },
        Template {
            name: "tumbling window count",
            about: "rows per key in fixed 1-minute windows",
            text: window_count(&n, &tumble, ""),
        },
        Template {
            name: "hop window",
            about: "5-minute windows sliding every minute",
            text: window_count(
                &n,
                &format!(
                    "HOP(TABLE {t}, DESCRIPTOR({ts}), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)"
                ),
                "",
            ),
        },
        Template {
            name: "cumulate window",
            about: "running counts within each hour, every minute",
            text: window_count(
                &n,
                &format!(
                    "CUMULATE(TABLE {t}, DESCRIPTOR({ts}), INTERVAL '1' MINUTE, INTERVAL '1' HOUR)"
                ),
                "",
            ),
        },
        Template {
            name: "session window",
            about: "sessions per key, closed after 5 idle minutes",
            text: window_count(
                &n,
                &format!(
                    "SESSION(TABLE {t} PARTITION BY {k}, DESCRIPTOR({ts}), INTERVAL '5' MINUTE)"
                ),
                "",
            ),
        },
        Template {
            name: "window TopN",
            about: "the top 3 keys of every 1-minute window (ROW_NUMBER)",
            text: format!(
                "SELECT window_start, window_end, {k}, cnt, rn\n\
                 FROM (\n\
                 \x20   SELECT *,\n\
                 \x20          ROW_NUMBER() OVER (PARTITION BY window_start, window_end\n\
                 \x20                             ORDER BY cnt DESC) AS rn\n\
                 \x20   FROM (\n{}\n    )\n\
                 )\n\
                 WHERE rn <= 3",
                window_count(&n, &tumble, "        ")
            ),
        },
        Template {
            name: "deduplicate",
            about: "keep the first row of every key (ROW_NUMBER = 1)",
            text: format!(
                "SELECT {k}, {v}, {ts}\n\
                 FROM (\n\
                 \x20   SELECT *,\n\
                 \x20          ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY {ts} ASC) AS rn\n\
                 \x20   FROM {t}\n\
                 )\n\
                 WHERE rn = 1"
            ),
        },
        Template {
            name: "lookup join",
            about: "enrich every row from a dimension table, as of processing time",
            text: format!(
                "-- {pt}: a processing-time column of {t} ({pt} AS PROCTIME())\n\
                 SELECT s.{k}, s.{v}, d.{dv}\n\
                 FROM {t} AS s\n\
                 JOIN {dim} FOR SYSTEM_TIME AS OF s.{pt} AS d\n\
                 \x20 ON s.{k} = d.{dk}",
                pt = n.proc_time,
                dim = n.dim,
                dk = n.dim_key,
                dv = n.dim_value,
            ),
        },
        Template {
            name: "view + query",
            about: "name a step with CREATE VIEW, then query it",
            text: format!(
                "CREATE VIEW {view} AS\n{};\n\nSELECT *\nFROM {view}\nWHERE cnt >= 10",
                window_count(&n, &tumble, "")
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobfile::sql;

    fn clicks() -> UpstreamTable {
        UpstreamTable {
            name: "clicks".into(),
            fields: vec![
                ("user_id".into(), "String".into()),
                ("url".into(), "String".into()),
                ("ts".into(), "Timestamp".into()),
            ],
        }
    }

    #[test]
    fn every_template_checks_against_clicks() {
        let all = all(&[clicks()]);
        assert!(all.len() >= 8);
        for t in &all {
            let tables: &[&str] = if t.name == "lookup join" {
                &["clicks", "dim"]
            } else {
                &["clicks"]
            };
            assert_eq!(
                sql::check(&t.text, tables),
                vec![],
                "{}:\n{}",
                t.name,
                t.text
            );
            assert!(t.text.contains("clicks"), "{}", t.name);
            assert!(!t.text.contains("source_table"), "{}", t.name);
        }
        let text = |name: &str| all.iter().find(|t| t.name == name).unwrap().text.clone();
        assert!(text("session window").contains("TABLE clicks PARTITION BY user_id"));
        assert!(
            text("window TopN").contains("ROW_NUMBER() OVER")
                && text("window TopN").contains("rn <= 3")
        );
        assert!(text("lookup join").contains("JOIN dim FOR SYSTEM_TIME AS OF s.proc_time AS d"));
        assert!(text("projection / filter").starts_with("SELECT user_id, url, ts\nFROM clicks"));
        assert!(text("view + query").starts_with("CREATE VIEW clicks_per_minute AS"));
    }

    #[test]
    fn placeholders_and_quoting() {
        for t in all(&[]) {
            assert_eq!(
                sql::check(&t.text, &["source_table", "dim"]),
                vec![],
                "{}",
                t.name
            );
        }
        let odd = UpstreamTable {
            name: "raw-events".into(),
            fields: vec![
                ("order".into(), "Long".into()),
                ("at".into(), "Timestamp(3)".into()),
            ],
        };
        let dim = UpstreamTable {
            name: "users".into(),
            fields: vec![
                ("uid".into(), "String".into()),
                ("city".into(), "String".into()),
            ],
        };
        for t in all(&[odd, dim]) {
            if t.name == "session window" {
                // sql::prepare does not blank `PARTITION BY` after a quoted name with a `-`
                assert!(t.text.contains("TABLE `raw-events` PARTITION BY `order`"));
                continue;
            }
            assert_eq!(
                sql::check(&t.text, &["raw-events", "users"]),
                vec![],
                "{}\n{}",
                t.name,
                t.text
            );
            assert!(t.text.contains("`raw-events`"), "{}", t.name);
            assert!(!t.text.contains("`raw-events_"), "{}", t.name);
        }
        assert_eq!(ident("a`b"), "`a``b`");
        assert_eq!(ident("user_id"), "user_id");
    }
}
