//! Rules for values that people type into forms, commands and job files alike, so that a
//! topic created with `weir topic create`, one designed in the workbench and a job file
//! that reads it are held to one rule each (issue 15, item 15): catalog field types
//! (which a job must be able to declare), decimal precision and scale, partition counts,
//! retention days and the ports of an address. Each rule returns what is wrong, in
//! words, or `None`; the caller adds where (a field, a span) and how to fix it.

use crate::model::FieldType;
use crate::text::printable;

/// At most this many partitions in a topic: beyond it a cluster suffers long before the
/// topic is useful, and a typo (`99999999999`) should not wait for the approval to fail.
pub const MAX_PARTITIONS: i64 = 10_000;

/// At most this many days of retention (100 years); `retention.ms` of the largest is far
/// inside what Kafka's 64-bit setting holds.
pub const MAX_LIFECYCLE_DAYS: i64 = 36_500;

/// Milliseconds in a day, for `retention.ms`.
pub const DAY_MS: i64 = 86_400_000;

/// The catalog type names a field may have, for messages.
pub const CATALOG_TYPES: &str = "string, boolean, int, bigint, float, double, decimal(p, s), date, timestamp (or varchar, text, integer, long, real, numeric, datetime)";

/// The job model's type for a catalog type name (`string`, `bigint`, `decimal(10,2)`,
/// `timestamp`, …, any case); `None` for a type a job cannot declare.
pub fn catalog_field_type(catalog_type: &str) -> Option<FieldType> {
    let t = catalog_type.trim().to_ascii_lowercase();
    let (base, args) = match t.split_once('(') {
        Some((b, rest)) => (b.trim(), Some(rest.trim_end().strip_suffix(')')?)),
        None => (t.as_str(), None),
    };
    Some(match base {
        "string" | "varchar" | "char" | "text" => FieldType::String,
        "boolean" | "bool" => FieldType::Boolean,
        "int" | "integer" | "smallint" | "tinyint" => FieldType::Int,
        "bigint" | "long" => FieldType::BigInt,
        "float" | "real" => FieldType::Float,
        "double" | "double precision" => FieldType::Double,
        "decimal" | "numeric" => {
            let (p, s) = match args {
                None => (10, 0),
                Some(a) => {
                    let mut parts = a.split(',').map(|x| x.trim().parse::<u8>());
                    let p = parts.next()?.ok()?;
                    let s = match parts.next() {
                        Some(s) => s.ok()?,
                        None => 0,
                    };
                    if parts.next().is_some() {
                        return None;
                    }
                    (p, s)
                }
            };
            FieldType::Decimal(p, s)
        }
        "date" => FieldType::Date,
        "timestamp" | "timestamp_ltz" | "datetime" => FieldType::Timestamp,
        _ => return None,
    })
}

/// `Decimal(p, s)` needs a precision of 1 to 38 and a scale of at most the precision.
pub fn decimal_problem(precision: u8, scale: u8) -> Option<String> {
    (precision == 0 || precision > 38 || scale > precision).then(|| {
        format!(
            "Decimal({precision}, {scale}) is not a valid type: precision is 1 to 38 and scale at most the precision, e.g. Decimal(10, 2)"
        )
    })
}

/// What is wrong with a catalog field's type: not one a job can declare, or an invalid
/// decimal.
pub fn catalog_type_problem(catalog_type: &str) -> Option<String> {
    match catalog_field_type(catalog_type) {
        None => Some(format!(
            "type `{}` is not one a job can read; use {CATALOG_TYPES}",
            printable(catalog_type.trim())
        )),
        Some(FieldType::Decimal(p, s)) => decimal_problem(p, s),
        Some(_) => None,
    }
}

/// A topic has 1 to [`MAX_PARTITIONS`] partitions.
pub fn partitions_problem(partitions: i64) -> Option<String> {
    (!(1..=MAX_PARTITIONS).contains(&partitions)).then(|| {
        format!("{partitions} partitions is out of range; a topic has 1 to {MAX_PARTITIONS}")
    })
}

/// A topic keeps its records 1 to [`MAX_LIFECYCLE_DAYS`] days.
pub fn lifecycle_days_problem(days: i64) -> Option<String> {
    (!(1..=MAX_LIFECYCLE_DAYS).contains(&days)).then(|| {
        format!("{days} days is out of range; keep records 1 to {MAX_LIFECYCLE_DAYS} days")
    })
}

/// Every port in `address` (`host:port`, a URL, `[v6]:port`, or a comma-separated broker
/// list of those) is a number from 1 to 65535; a host without a port is fine (the kind's
/// default port applies).
pub fn port_problem(address: &str) -> Option<String> {
    address
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .find_map(|a| {
            let rest = a.split_once("://").map_or(a, |(_, r)| r);
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            let authority = rest.split(['/', '?']).next().unwrap_or("");
            let port = match authority.strip_prefix('[') {
                Some(v6) => v6.split_once("]:").map(|(_, p)| p),
                None => authority.rsplit_once(':').map(|(_, p)| p),
            }?;
            match port.parse::<u32>() {
                Ok(1..=65535) => None,
                _ => Some(format!(
                    "port `{}` in `{}` is not a number from 1 to 65535",
                    printable(port),
                    printable(a)
                )),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_types_are_those_a_job_can_declare() {
        assert_eq!(catalog_field_type(" BigInt "), Some(FieldType::BigInt));
        assert_eq!(
            catalog_field_type("decimal(12, 3)"),
            Some(FieldType::Decimal(12, 3))
        );
        assert_eq!(
            catalog_field_type("numeric"),
            Some(FieldType::Decimal(10, 0))
        );
        assert_eq!(catalog_field_type("nosuchtype"), None);
        assert_eq!(catalog_field_type("decimal(1,2,3)"), None);
        assert_eq!(catalog_field_type("decimal(10"), None);
        assert!(catalog_type_problem("timestamp").is_none());
        assert!(
            catalog_type_problem("nosuchtype")
                .unwrap()
                .starts_with("type `nosuchtype` is not one a job can read")
        );
        assert!(
            catalog_type_problem("decimal(40, 2)")
                .unwrap()
                .contains("precision is 1 to 38")
        );
        assert!(decimal_problem(10, 11).is_some());
        assert!(decimal_problem(38, 38).is_none());
    }

    #[test]
    fn counts_and_days_have_bounds() {
        assert!(partitions_problem(1).is_none());
        assert!(partitions_problem(MAX_PARTITIONS).is_none());
        assert!(partitions_problem(0).is_some());
        assert_eq!(
            partitions_problem(99_999_999_999).as_deref(),
            Some("99999999999 partitions is out of range; a topic has 1 to 10000")
        );
        assert!(lifecycle_days_problem(7).is_none());
        assert!(lifecycle_days_problem(i64::MAX).is_some());
        assert!(lifecycle_days_problem(-1).is_some());
        assert!(MAX_LIFECYCLE_DAYS.checked_mul(DAY_MS).is_some());
    }

    #[test]
    fn ports_are_1_to_65535_in_every_address_form() {
        for ok in [
            "localhost",
            "db:5432",
            "mysql://db.example:3306/shop",
            "b1:9092, b2:9093",
            "PLAINTEXT://b1:9092",
            "[::1]:6379",
            "[::1]",
            "http://es:9200/_search?q=a:b",
        ] {
            assert_eq!(port_problem(ok), None, "{ok}");
        }
        assert_eq!(
            port_problem("db:99999").as_deref(),
            Some("port `99999` in `db:99999` is not a number from 1 to 65535")
        );
        for bad in [
            "b1:9092,b2:0",
            "db:",
            "db:http",
            "[::1]:70000",
            "postgres://u@db:-1/x",
        ] {
            assert!(port_problem(bad).is_some(), "{bad}");
        }
    }
}
