//! The catalog's live part: the tables (with their columns) of a relational data source,
//! read from its `information_schema` through its [`Connection`] in one environment. Used
//! by the TUI's `:topics` screen in the background; Kafka topics come from the store
//! instead (`Session::topics`). Credentials are references, read at the moment of use by
//! the engine's [`password`](weir_engine::resolve::password) and scrubbed from every
//! message, as in [`connectivity`](super::connectivity).

use sqlx::Connection as _;
use weir_model::model::secret::scrub;
use weir_model::model::{Connection, DataSourceKind};

use super::AppError;
use super::connectivity::{TIMEOUT, database, mysql_login, postgres_login, sql_failed};

/// One table (or view) and its columns as (name, type), in column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// `table`, or `schema.table` outside the endpoint's database / PostgreSQL's `public`.
    pub name: String,
    pub columns: Vec<(String, String)>,
}

/// Schemas that belong to the database server itself, never listed.
const MYSQL_SYSTEM: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];

/// The tables of data source `name` at `connection` (mysql or postgres), sorted by name.
/// Other kinds are refused with a sentence that says so; a server that does not answer
/// within [`TIMEOUT`] is reported as such (external).
pub async fn tables(name: &str, connection: &Connection) -> Result<Vec<TableInfo>, AppError> {
    let kind = connection.kind.name().to_ascii_lowercase();
    if !matches!(
        connection.kind,
        DataSourceKind::Mysql | DataSourceKind::Postgres
    ) {
        return Err(AppError::User(format!("tables are not listed for {kind}")));
    }
    let secret = weir_engine::resolve::password(name, connection)?;
    let work = async {
        match connection.kind {
            DataSourceKind::Mysql => mysql(connection, secret.as_deref()).await,
            _ => postgres(connection, secret.as_deref()).await,
        }
    };
    let result = match tokio::time::timeout(TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(AppError::External(format!(
            "no answer from {kind} at {} within {} s; check the address and that the server runs",
            connection.address,
            TIMEOUT.as_secs()
        ))),
    };
    result.map_err(|e| match (&secret, e) {
        (Some(s), AppError::User(m)) => AppError::User(scrub(&m, s)),
        (Some(s), AppError::External(m)) => AppError::External(scrub(&m, s)),
        (_, e) => e,
    })
}

/// Rows of (schema, table, column, type) in table then column order, grouped into tables.
fn group(rows: Vec<(String, String, String, String)>, home: Option<&str>) -> Vec<TableInfo> {
    let mut out: Vec<TableInfo> = Vec::new();
    for (schema, table, column, ty) in rows {
        let name = if Some(schema.as_str()) == home {
            table
        } else {
            format!("{schema}.{table}")
        };
        match out.last_mut() {
            Some(t) if t.name == name => t.columns.push((column, ty)),
            _ => out.push(TableInfo {
                name,
                columns: vec![(column, ty)],
            }),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn mysql(ep: &Connection, secret: Option<&str>) -> Result<Vec<TableInfo>, AppError> {
    let db = database(ep);
    let mut conn = mysql_login(ep, secret).await?.conn;
    // CASTs: MySQL 8 hands information_schema text out as binary strings
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR), \
         CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) \
         FROM information_schema.COLUMNS \
         WHERE (? IS NULL AND TABLE_SCHEMA NOT IN (?, ?, ?, ?)) OR TABLE_SCHEMA = ? \
         ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
    )
    .bind(db.clone())
    .bind(MYSQL_SYSTEM[0])
    .bind(MYSQL_SYSTEM[1])
    .bind(MYSQL_SYSTEM[2])
    .bind(MYSQL_SYSTEM[3])
    .bind(db.clone())
    .fetch_all(&mut conn)
    .await
    .map_err(|e| {
        sql_failed(
            "logged in, but reading information_schema.COLUMNS failed".into(),
            e,
        )
    })?;
    let _ = conn.close().await;
    Ok(group(rows, db.as_deref()))
}

async fn postgres(ep: &Connection, secret: Option<&str>) -> Result<Vec<TableInfo>, AppError> {
    let mut conn = postgres_login(ep, secret).await?.conn;
    // information_schema's sql_identifier is a domain sqlx does not decode as text
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(table_schema AS TEXT), CAST(table_name AS TEXT), \
         CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
         FROM information_schema.columns \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
         AND table_schema NOT LIKE 'pg_toast%' \
         ORDER BY table_schema, table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| {
        sql_failed(
            "logged in, but reading information_schema.columns failed".into(),
            e,
        )
    })?;
    let _ = conn.close().await;
    Ok(group(rows, Some("public")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(s: &str, t: &str, c: &str, ty: &str) -> (String, String, String, String) {
        (s.into(), t.into(), c.into(), ty.into())
    }

    #[test]
    fn rows_group_into_tables_named_outside_the_home_schema() {
        let got = group(
            vec![
                row("shop", "orders", "id", "int"),
                row("shop", "orders", "total", "decimal(10,2)"),
                row("audit", "log", "at", "datetime"),
            ],
            Some("shop"),
        );
        assert_eq!(
            got,
            vec![
                TableInfo {
                    name: "audit.log".into(),
                    columns: vec![("at".into(), "datetime".into())],
                },
                TableInfo {
                    name: "orders".into(),
                    columns: vec![
                        ("id".into(), "int".into()),
                        ("total".into(), "decimal(10,2)".into())
                    ],
                },
            ]
        );
    }

    #[test]
    fn other_kinds_are_refused_in_words() {
        let ep = Connection::new(DataSourceKind::Redis, "127.0.0.1:6379");
        let e = crate::runtime()
            .unwrap()
            .block_on(tables("cache", &ep))
            .unwrap_err();
        assert_eq!(e.to_string(), "tables are not listed for redis");
    }
}
