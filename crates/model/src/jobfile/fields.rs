//! What the graph editor needs to know about the fields of a type without a list per
//! type: serde hands every `Deserializer` the field names of a struct
//! (`deserialize_struct`), so a tiny probe that records them gives the field list of any
//! operator kind, and a probe that answers every request with the simplest value builds
//! an operator with empty required fields and default optional ones. Also: printing a
//! value of the syntax tree on one line, as a form row shows it.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::syntax::{self, Field, Kind, Value};
use crate::model::{Node, OPERATOR_KINDS};

/// The field names of operator `kind` (e.g. `KafkaSource`), in struct order, as job files
/// spell them (serde renames applied). None for an unknown kind.
pub fn operator_fields(kind: &str) -> Option<&'static [&'static str]> {
    match probe(kind, Plan::Record) {
        Err(ProbeError::Fields(f)) => Some(f),
        _ => None,
    }
}

/// The field names of a struct type, e.g. `struct_fields::<JobConfig>()`.
pub fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    match T::deserialize(StructProbe { plan: Plan::Record }) {
        Err(ProbeError::Fields(f)) => Some(f),
        _ => None,
    }
}

/// Fields of operator `kind` that have no default: a job file must give them.
pub fn required_fields(kind: &str) -> Vec<&'static str> {
    let Some(fields) = operator_fields(kind) else {
        return Vec::new();
    };
    fields
        .iter()
        .copied()
        .filter(|f| {
            matches!(
                probe(kind, Plan::Except(f)),
                Err(ProbeError::Missing(m)) if m == *f
            )
        })
        .collect()
}

/// A new operator of `kind` with id `id`: required fields empty (`""`, `[]`, 0, the first
/// variant of an enum), every other field its default. None for an unknown kind.
pub fn skeleton(kind: &str, id: &str) -> Option<Node> {
    let required = required_fields(kind);
    let mut op = probe(kind, Plan::Only(&required)).ok()?;
    op.set_id(id.to_string());
    Some(op)
}

/// Every operator kind with its field names (for tests and documentation).
pub fn all_operator_fields() -> Vec<(&'static str, &'static [&'static str])> {
    OPERATOR_KINDS
        .iter()
        .filter_map(|(k, _)| Some((*k, operator_fields(k)?)))
        .collect()
}

/// The fields of an operator value as written in a file: `Kind(a: 1)` or `Kind((a: 1))`.
pub fn operator_body(v: &Value) -> Option<&[Field]> {
    match &v.kind {
        Kind::Struct { fields, .. } => Some(fields),
        Kind::Tuple {
            name: Some(_),
            items,
            ..
        } if items.len() == 1 => match &items[0].kind {
            Kind::Struct { fields, .. } => Some(fields),
            Kind::Unit => Some(&[]),
            _ => None,
        },
        _ => None,
    }
}

/// The present fields of an operator and their values printed on one line, in the order
/// serde writes them (absent optional fields are missing).
pub fn operator_values(op: &Node) -> Vec<(String, String)> {
    let Ok(text) = ron::to_string(op) else {
        return Vec::new();
    };
    let Ok(doc) = syntax::parse(&text) else {
        return Vec::new();
    };
    operator_body(&doc.value)
        .unwrap_or_default()
        .iter()
        .map(|f| (f.name.name.clone(), one_line(&f.value)))
        .collect()
}

/// The top-level fields of any serialisable struct printed on one line each.
pub fn struct_values<T: serde::Serialize>(value: &T) -> Vec<(String, String)> {
    let Ok(text) = ron::to_string(value) else {
        return Vec::new();
    };
    let Ok(doc) = syntax::parse(&text) else {
        return Vec::new();
    };
    match &doc.value.kind {
        Kind::Struct { fields, .. } => fields
            .iter()
            .map(|f| (f.name.name.clone(), one_line(&f.value)))
            .collect(),
        _ => Vec::new(),
    }
}

pub use super::print::{escaped, one_line};

// ---- the probes ----

/// What the struct probe does with the struct it is asked for.
#[derive(Clone, Copy)]
enum Plan<'a> {
    /// Fail with the field list.
    Record,
    /// Supply every field but this one, each with its simplest value.
    Except(&'a str),
    /// Supply only these fields.
    Only(&'a [&'static str]),
}

impl Plan<'_> {
    fn keeps(&self, field: &str) -> bool {
        match self {
            Plan::Record => false,
            Plan::Except(f) => *f != field,
            Plan::Only(list) => list.contains(&field),
        }
    }
}

#[derive(Debug)]
enum ProbeError {
    Fields(&'static [&'static str]),
    Missing(&'static str),
    Other(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Fields(list) => write!(f, "fields {list:?}"),
            ProbeError::Missing(m) => write!(f, "missing field `{m}`"),
            ProbeError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ProbeError {}

impl de::Error for ProbeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ProbeError::Other(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        ProbeError::Missing(field)
    }
}

fn probe(kind: &str, plan: Plan<'_>) -> Result<Node, ProbeError> {
    <Node as serde::Deserialize>::deserialize(EnumProbe { kind, plan })
}

/// Answers `deserialize_enum` with variant `kind` whose body is a struct probe.
struct EnumProbe<'a> {
    kind: &'a str,
    plan: Plan<'a>,
}

impl<'de> de::Deserializer<'de> for EnumProbe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        Err(ProbeError::Other("the probe only answers enums".into()))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

impl<'de> de::EnumAccess<'de> for EnumProbe<'_> {
    type Error = ProbeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ProbeError> {
        let name: de::value::StrDeserializer<'_, ProbeError> = self.kind.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for EnumProbe<'_> {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Err(ProbeError::Other("not a struct variant".into()))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(StructProbe { plan: self.plan })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, ProbeError> {
        Err(ProbeError::Other("not a struct variant".into()))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, ProbeError> {
        Err(ProbeError::Other("not a newtype variant".into()))
    }
}

/// Answers `deserialize_struct` by the plan.
struct StructProbe<'a> {
    plan: Plan<'a>,
}

impl<'de> de::Deserializer<'de> for StructProbe<'_> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        Err(ProbeError::Other("the probe only answers structs".into()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if let Plan::Record = self.plan {
            return Err(ProbeError::Fields(fields));
        }
        let keep: Vec<&'static str> = fields
            .iter()
            .copied()
            .filter(|f| self.plan.keeps(f))
            .collect();
        visitor.visit_map(ZeroMap {
            keys: Box::new(keep.into_iter()),
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

macro_rules! zero {
    ($($method:ident => $visit:ident($($arg:expr)?)),*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
            v.$visit($($arg)?)
        })*
    };
}

/// The simplest value of whatever type asks: false, 0, "", [], {}, None, the first
/// variant, a struct with every field simplest.
struct Zero;

impl<'de> de::Deserializer<'de> for Zero {
    type Error = ProbeError;

    zero! {
        deserialize_any => visit_unit(),
        deserialize_bool => visit_bool(false),
        deserialize_i8 => visit_i8(0),
        deserialize_i16 => visit_i16(0),
        deserialize_i32 => visit_i32(0),
        deserialize_i64 => visit_i64(0),
        deserialize_u8 => visit_u8(0),
        deserialize_u16 => visit_u16(0),
        deserialize_u32 => visit_u32(0),
        deserialize_u64 => visit_u64(0),
        deserialize_f32 => visit_f32(0.0),
        deserialize_f64 => visit_f64(0.0),
        deserialize_char => visit_char(' '),
        deserialize_str => visit_str(""),
        deserialize_string => visit_str(""),
        deserialize_bytes => visit_bytes(&[]),
        deserialize_byte_buf => visit_bytes(&[]),
        deserialize_option => visit_none()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_seq(ZeroSeq(0))
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, ProbeError> {
        v.visit_seq(ZeroSeq(len))
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_seq(ZeroSeq(len))
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ProbeError> {
        v.visit_map(ZeroMap {
            keys: Box::new(std::iter::empty()),
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_map(ZeroMap {
            keys: Box::new(fields.iter().copied()),
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        match variants.first() {
            Some(first) => v.visit_enum(ZeroEnum(first)),
            None => Err(ProbeError::Other("an enum without variants".into())),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 unit unit_struct identifier ignored_any
    }
}

struct ZeroSeq(usize);

impl<'de> de::SeqAccess<'de> for ZeroSeq {
    type Error = ProbeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        if self.0 == 0 {
            return Ok(None);
        }
        self.0 -= 1;
        seed.deserialize(Zero).map(Some)
    }
}

struct ZeroMap {
    keys: Box<dyn Iterator<Item = &'static str>>,
}

impl<'de> de::MapAccess<'de> for ZeroMap {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.keys.next() {
            None => Ok(None),
            Some(k) => {
                let key: de::value::StrDeserializer<'_, ProbeError> = k.into_deserializer();
                seed.deserialize(key).map(Some)
            }
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(Zero)
    }
}

struct ZeroEnum(&'static str);

impl<'de> de::EnumAccess<'de> for ZeroEnum {
    type Error = ProbeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ProbeError> {
        let name: de::value::StrDeserializer<'_, ProbeError> = self.0.into_deserializer();
        Ok((seed.deserialize(name)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for ZeroEnum {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(Zero)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, ProbeError> {
        v.visit_seq(ZeroSeq(len))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ProbeError> {
        v.visit_map(ZeroMap {
            keys: Box::new(fields.iter().copied()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobConfig;

    #[test]
    fn every_kind_has_its_fields_in_struct_order() {
        let all = all_operator_fields();
        assert_eq!(all.len(), 14);
        for (kind, fields) in &all {
            assert_eq!(fields.first(), Some(&"id"), "{kind}");
            assert!(fields.contains(&"parallelism"), "{kind}");
        }
        assert_eq!(
            operator_fields("KafkaSource").unwrap(),
            [
                "id",
                "datasource",
                "topic",
                "table",
                "parallelism",
                "start",
                "group",
                "format",
                "lenient",
                "event_time",
                "watermark_ms",
                "fields",
                "properties"
            ]
        );
        assert_eq!(
            operator_fields("Sql").unwrap(),
            ["id", "query", "parallelism"]
        );
        assert!(operator_fields("EsSink").unwrap().contains(&"type"));
        assert_eq!(operator_fields("Nope"), None);
        assert_eq!(
            struct_fields::<JobConfig>().unwrap(),
            [
                "time",
                "checkpoint_interval_ms",
                "parallelism",
                "env",
                "alerts"
            ]
        );
    }

    #[test]
    fn required_fields_and_skeletons() {
        assert_eq!(
            required_fields("KafkaSource"),
            ["id", "datasource", "topic"]
        );
        assert_eq!(required_fields("JdbcSink"), ["id", "datasource", "table"]);
        for (kind, _) in OPERATOR_KINDS {
            let op = skeleton(kind, "n_1").unwrap_or_else(|| panic!("{kind}"));
            assert_eq!(op.kind(), kind);
            assert_eq!(op.id(), "n_1");
            // a skeleton prints and reads back as itself
            let text = ron::to_string(&op).unwrap();
            let back: Node = ron::from_str(&text).unwrap();
            assert_eq!(back, op);
        }
        let Some(Node::JdbcSink(j)) = skeleton("JdbcSink", "out") else {
            panic!()
        };
        assert_eq!(j.batch_size, 1);
    }

    #[test]
    fn values_print_on_one_line() {
        let op = skeleton("JdbcSink", "out").unwrap();
        let v = operator_values(&op);
        let get = |n: &str| v.iter().find(|(k, _)| k == n).map(|(_, x)| x.as_str());
        assert_eq!(get("id"), Some("\"out\""));
        assert_eq!(get("on_error"), Some("Retry(max: 3, backoff_ms: 200)"));
        assert_eq!(get("operation"), Some("Insert"));
        assert_eq!(get("columns"), None);
        let doc = syntax::parse("r#\"a\nb\"#").unwrap();
        assert_eq!(one_line(&doc.value), "\"a\\nb\"");
    }
}
