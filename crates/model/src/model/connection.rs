//! `Connection`: how to reach one data source in one environment — the one type the
//! store hands out (`DataSource::connection`), the engine's resolver maps names to, and
//! the app's connectivity check, catalog and topic creation take. Pure data: reading the
//! password is I/O and happens at the moment of use (`weir_engine::resolve::password`).

use std::collections::BTreeMap;
use std::fmt;

use super::{DataSourceDecl, DataSourceKind};

/// Where a data source is and how to log in to it.
#[derive(Clone, PartialEq)]
pub struct Connection {
    pub kind: DataSourceKind,
    /// host:port, a URL, or (Kafka) a broker list.
    pub address: String,
    pub user: Option<String>,
    /// A reference (`env:WEIR_SECRET_NAME`, `file:NAME`; see [`super::secret::SecretRef`]),
    /// read only at use and only from weir's namespace. Never printed.
    pub password: Option<String>,
    /// Kind-specific options: `database` for MySQL and PostgreSQL, `db` for Redis,
    /// librdkafka client properties for Kafka.
    pub options: BTreeMap<String, String>,
}

impl Connection {
    /// A connection without user, password or options.
    pub fn new(kind: DataSourceKind, address: impl Into<String>) -> Self {
        Connection {
            kind,
            address: address.into(),
            user: None,
            password: None,
            options: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for Connection {
    /// Everything but the password, which shows as `<hidden>` when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("kind", &self.kind)
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("options", &self.options)
            .finish()
    }
}

impl From<&DataSourceDecl> for Connection {
    fn from(d: &DataSourceDecl) -> Self {
        Connection {
            kind: d.kind,
            address: d.address.clone(),
            user: d.user.clone(),
            password: d.password.clone(),
            options: d.options.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let mut c = Connection::new(DataSourceKind::Kafka, "k:9092");
        c.user = Some("svc".into());
        c.password = Some("s3cret-literal".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("<hidden>") && shown.contains("svc"),
            "{shown}"
        );
    }
}
