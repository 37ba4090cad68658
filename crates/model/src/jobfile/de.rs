// Long because serde's `Deserializer` trait has one method per data shape, each of which
// must collect problems and keep spans; they belong together.
//! Decoding a RON value tree (`syntax`) into serde types, collecting problems instead of
//! stopping at the first: unknown and duplicate fields are reported and skipped, and every
//! error carries the span of the value it is about, with a "did you mean" hint where a
//! name is close to a valid one.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::syntax::{Field, Ident, Kind, MapEntry, Span, Value};

/// One problem found while decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub span: Span,
    /// A stable, kebab-case name of the rule, e.g. `unknown-field`.
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

/// A decoding error; `span` is filled in by the innermost value that saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError(pub Box<Problem>, bool);

impl DeError {
    fn new(code: &'static str, message: String, hint: Option<String>) -> Self {
        DeError(
            Box::new(Problem {
                span: Span::default(),
                code,
                message,
                hint,
            }),
            false,
        )
    }

    fn at(mut self, span: Span) -> Self {
        if !self.1 {
            self.0.span = span;
            self.1 = true;
        }
        self
    }

    pub fn into_problem(self) -> Problem {
        *self.0
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for DeError {}

/// The closest of `candidates` to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'de>(
    name: &str,
    candidates: impl IntoIterator<Item = &'de str>,
) -> Option<&'de str> {
    let lower = name.to_lowercase().replace(['_', '-'], "");
    candidates
        .into_iter()
        .map(|c| {
            let cl = c.to_lowercase().replace(['_', '-'], "");
            let score = if cl == lower {
                1.0
            } else {
                strsim::jaro_winkler(&lower, &cl)
            };
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "none".into(),
        [one] => format!("`{one}`"),
        _ => {
            let names: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            names.join(", ")
        }
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new("invalid-value", msg.to_string(), None)
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new("wrong-type", format!("expected {exp}, found {unexp}"), None)
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let hint = match unexp {
            de::Unexpected::Signed(i) if i < 0 => Some("this value cannot be negative".to_string()),
            _ => None,
        };
        DeError::new(
            "invalid-value",
            format!("invalid value {unexp}: expected {exp}"),
            hint,
        )
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::new(
            "wrong-length",
            format!("expected {exp}, found {len} item(s)"),
            None,
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = match did_you_mean(variant, expected.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!("expected one of {}", one_of(expected)),
        };
        DeError::new(
            "unknown-variant",
            format!("unknown variant `{variant}`"),
            Some(hint),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let hint = match did_you_mean(field, expected.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!("valid fields: {}", one_of(expected)),
        };
        DeError::new(
            "unknown-field",
            format!("unknown field `{field}`"),
            Some(hint),
        )
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::new(
            "missing-field",
            format!("missing field `{field}`"),
            Some(format!("add `{field}: ...` (see formats/job-v1.md)")),
        )
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(
            "duplicate-field",
            format!("field `{field}` is given twice"),
            Some("keep one of them".into()),
        )
    }
}

/// Decode `value` into `T`, adding non-fatal problems (unknown or duplicate fields) to
/// `problems`; a fatal problem is returned as the error.
pub fn decode<T: de::DeserializeOwned>(
    value: &Value,
    problems: &RefCell<Vec<Problem>>,
) -> Result<T, Problem> {
    T::deserialize(ValueNode { v: value, problems })
        .map_err(|e| e.at(value.head_span()).into_problem())
}

#[derive(Clone, Copy)]
struct ValueNode<'de> {
    v: &'de Value,
    problems: &'de RefCell<Vec<Problem>>,
}

impl<'de> ValueNode<'de> {
    fn wrong(&self, exp: &str) -> DeError {
        DeError::new(
            "wrong-type",
            format!("expected {exp}, found {}", self.v.kind.describe()),
            None,
        )
        .at(self.v.head_span())
    }

    fn child(&self, v: &'de Value) -> ValueNode<'de> {
        ValueNode {
            v,
            problems: self.problems,
        }
    }

    /// Check fields against the struct's list, reporting unknown and duplicate ones, and
    /// hand the rest to the visitor.
    fn visit_fields<V: Visitor<'de>>(
        &self,
        owner: &str,
        fields: &'de [Field],
        known: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut kept: Vec<&'de Field> = Vec::new();
        for f in fields {
            let name = f.name.name.as_str();
            if !known.contains(&name) {
                let hint = match did_you_mean(name, known.iter().copied()) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("valid fields of {owner}: {}", one_of(known)),
                };
                self.problems.borrow_mut().push(Problem {
                    span: f.name.span,
                    code: "unknown-field",
                    message: format!("unknown field `{name}` in {owner}"),
                    hint: Some(hint),
                });
            } else if kept.iter().any(|k| k.name.name == name) {
                self.problems.borrow_mut().push(Problem {
                    span: f.name.span,
                    code: "duplicate-field",
                    message: format!("field `{name}` is given twice in {owner}"),
                    hint: Some("remove one of them; the first is used".into()),
                });
            } else {
                kept.push(f);
            }
        }
        let acc = StructAccess {
            fields: kept.into_iter(),
            current: None,
            problems: self.problems,
        };
        visitor.visit_map(acc).map_err(|e| {
            let e = if e.0.code == "missing-field" && !e.1 {
                let mut e = e;
                e.0.message = format!("{} in {owner}", e.0.message);
                e
            } else {
                e
            };
            e.at(self.v.head_span())
        })
    }
}

impl<'de> de::Deserializer<'de> for ValueNode<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.v.head_span();
        let r = match &self.v.kind {
            Kind::Unit => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Int(i) => {
                if let Ok(u) = u64::try_from(*i) {
                    visitor.visit_u64(u)
                } else if let Ok(s) = i64::try_from(*i) {
                    visitor.visit_i64(s)
                } else {
                    // every number of a job is a u8, u32 or u64: this one fits none
                    let hint = if *i < 0 {
                        "this value cannot be negative"
                    } else {
                        "the largest number a job holds is 18446744073709551615 (u64)"
                    };
                    Err(DeError::new(
                        "invalid-value",
                        format!("integer `{i}` is out of range"),
                        Some(hint.into()),
                    ))
                }
            }
            Kind::Float(f) => visitor.visit_f64(*f),
            Kind::Str(s) => visitor.visit_str(s),
            Kind::Char(c) => visitor.visit_char(*c),
            Kind::Ident(i) if i.name == "None" => visitor.visit_none(),
            Kind::Ident(i) => visitor.visit_str(&i.name),
            Kind::Tuple {
                name: Some(n),
                items,
                ..
            } if n.name == "Some" && items.len() == 1 => visitor.visit_some(self.child(&items[0])),
            Kind::List { items, .. } | Kind::Tuple { items, .. } => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                problems: self.problems,
            }),
            Kind::Map { entries, .. } => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                current: None,
                problems: self.problems,
            }),
            Kind::Struct { fields, .. } => visitor.visit_map(StructAccess {
                fields: fields.iter().collect::<Vec<_>>().into_iter(),
                current: None,
                problems: self.problems,
            }),
        };
        r.map_err(|e| e.at(span))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Str(s) => visitor
                .visit_str::<DeError>(s)
                .map_err(|e| e.at(self.v.span)),
            Kind::Ident(i) if i.name != "None" => Err(DeError::new(
                "wrong-type",
                format!("expected a string, found `{}`", i.name),
                Some(format!("write it in double quotes: \"{}\"", i.name)),
            )
            .at(i.span)),
            _ => Err(self.wrong("a string in double quotes")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Ident(i) if i.name == "None" => visitor.visit_none(),
            Kind::Tuple {
                name: Some(n),
                items,
                ..
            } if n.name == "Some" => match items.as_slice() {
                [inner] => visitor.visit_some(self.child(inner)),
                _ => Err(
                    DeError::new("wrong-type", "`Some` takes exactly one value".into(), None)
                        .at(n.span),
                ),
            },
            // implicit `Some`: a bare value where an optional one is expected
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Unit => visitor.visit_unit(),
            Kind::Tuple {
                name: None, items, ..
            } if items.is_empty() => visitor.visit_unit(),
            _ => Err(self.wrong("`()`")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::List { items, .. }
            | Kind::Tuple {
                name: None, items, ..
            } => visitor
                .visit_seq(SeqAccess {
                    items: items.iter(),
                    problems: self.problems,
                })
                .map_err(|e| e.at(self.v.head_span())),
            Kind::Unit => visitor.visit_seq(SeqAccess {
                items: [].iter(),
                problems: self.problems,
            }),
            _ => Err(self.wrong("a list `[...]`")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Tuple {
                name: None, items, ..
            }
            | Kind::List { items, .. } => {
                if items.len() != len {
                    return Err(DeError::new(
                        "wrong-length",
                        format!("expected a tuple of {len} values, found {}", items.len()),
                        None,
                    )
                    .at(self.v.head_span()));
                }
                visitor
                    .visit_seq(SeqAccess {
                        items: items.iter(),
                        problems: self.problems,
                    })
                    .map_err(|e| e.at(self.v.head_span()))
            }
            _ => Err(self.wrong(&format!("a tuple of {len} values `(...)`"))),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Map { entries, .. } => {
                let mut seen: Vec<&Kind> = Vec::new();
                for e in entries {
                    if seen.contains(&&e.key.kind) {
                        self.problems.borrow_mut().push(Problem {
                            span: e.key.span,
                            code: "duplicate-key",
                            message: format!("map key {} is given twice", e.key.kind.describe()),
                            hint: Some("remove one of them; the last one would win".into()),
                        });
                    } else {
                        seen.push(&e.key.kind);
                    }
                }
                visitor
                    .visit_map(MapAccess {
                        entries: entries.iter(),
                        current: None,
                        problems: self.problems,
                    })
                    .map_err(|e| e.at(self.v.head_span()))
            }
            _ => Err(self.wrong("a map `{\"key\": \"value\", ...}`")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Struct {
                name: given,
                fields: body,
                ..
            } => {
                if let Some(given) = given
                    && given.name != name
                    && name.chars().next().is_some_and(char::is_uppercase)
                {
                    return Err(DeError::new(
                        "wrong-type",
                        format!("expected `{name}(...)`, found `{}(...)`", given.name),
                        Some(format!("write `{name}(`")),
                    )
                    .at(given.span));
                }
                self.visit_fields(name, body, fields, visitor)
            }
            Kind::Unit => self.visit_fields(name, &[], fields, visitor),
            Kind::Tuple {
                name: given, items, ..
            } if items.is_empty() => {
                let _ = given;
                self.visit_fields(name, &[], fields, visitor)
            }
            Kind::Tuple { .. } => Err(DeError::new(
                "wrong-type",
                format!(
                    "expected named fields `{name}(field: value, ...)`, found {}",
                    self.v.kind.describe()
                ),
                Some(format!("fields of {name}: {}", one_of(fields))),
            )
            .at(self.v.head_span())),
            _ => Err(self.wrong(&format!("`{name}(...)` with fields"))),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (ident, body) = match &self.v.kind {
            Kind::Ident(i) => (i, Body::None),
            Kind::Tuple {
                name: Some(i),
                items,
                ..
            } => (i, Body::Tuple(items)),
            Kind::Struct {
                name: Some(i),
                fields,
                ..
            } => (i, Body::Struct(fields)),
            _ => {
                return Err(DeError::new(
                    "wrong-type",
                    format!(
                        "expected one of {}, found {}",
                        one_of(variants),
                        self.v.kind.describe()
                    ),
                    None,
                )
                .at(self.v.head_span()));
            }
        };
        let _ = name;
        visitor
            .visit_enum(EnumAccess {
                node: self,
                ident,
                body,
            })
            .map_err(|e| e.at(ident.span))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.v.kind {
            Kind::Ident(i) => visitor.visit_str(&i.name),
            Kind::Str(s) => visitor.visit_str(s),
            _ => Err(self.wrong("a name")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
    }
}

struct SeqAccess<'de> {
    items: std::slice::Iter<'de, Value>,
    problems: &'de RefCell<Vec<Problem>>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(v) => seed
                .deserialize(ValueNode {
                    v,
                    problems: self.problems,
                })
                .map(Some)
                .map_err(|e| e.at(v.head_span())),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'de> {
    entries: std::slice::Iter<'de, MapEntry>,
    current: Option<&'de MapEntry>,
    problems: &'de RefCell<Vec<Problem>>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        self.current = self.entries.next();
        match self.current {
            None => Ok(None),
            Some(e) => seed
                .deserialize(ValueNode {
                    v: &e.key,
                    problems: self.problems,
                })
                .map(Some)
                .map_err(|er| er.at(e.key.span)),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let e = self
            .current
            .ok_or_else(|| de::Error::custom("map value without a key"))?;
        seed.deserialize(ValueNode {
            v: &e.value,
            problems: self.problems,
        })
        .map_err(|er| er.at(e.value.head_span()))
    }
}

struct StructAccess<'de> {
    fields: std::vec::IntoIter<&'de Field>,
    current: Option<&'de Field>,
    problems: &'de RefCell<Vec<Problem>>,
}

impl<'de> de::MapAccess<'de> for StructAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        self.current = self.fields.next();
        match self.current {
            None => Ok(None),
            Some(f) => {
                let key: de::value::StrDeserializer<'_, DeError> =
                    f.name.name.as_str().into_deserializer();
                seed.deserialize(key)
                    .map(Some)
                    .map_err(|e| e.at(f.name.span))
            }
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let f = self
            .current
            .ok_or_else(|| de::Error::custom("field value without a name"))?;
        seed.deserialize(ValueNode {
            v: &f.value,
            problems: self.problems,
        })
        .map_err(|e| e.at(f.value.head_span()))
    }
}

enum Body<'de> {
    None,
    Tuple(&'de [Value]),
    Struct(&'de [Field]),
}

struct EnumAccess<'de> {
    node: ValueNode<'de>,
    ident: &'de Ident,
    body: Body<'de>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess<'de> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let key: de::value::StrDeserializer<'_, DeError> =
            self.ident.name.as_str().into_deserializer();
        let v = seed.deserialize(key).map_err(|e| e.at(self.ident.span))?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for EnumAccess<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.body {
            Body::None => Ok(()),
            _ => Err(DeError::new(
                "wrong-type",
                format!("`{}` takes no parameters", self.ident.name),
                Some(format!("write just `{}`", self.ident.name)),
            )
            .at(self.ident.span)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.body {
            Body::Tuple([inner]) => seed.deserialize(self.node.child(inner)),
            // `Name(field: ...)`: the variant's struct written without extra parentheses
            Body::Struct(_) => seed.deserialize(self.node),
            _ => Err(DeError::new(
                "wrong-type",
                format!(
                    "`{}` needs a value: `{}(...)`",
                    self.ident.name, self.ident.name
                ),
                None,
            )
            .at(self.ident.span)),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DeError> {
        match self.body {
            Body::Tuple(items) if items.len() == len => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                problems: self.node.problems,
            }),
            _ => Err(DeError::new(
                "wrong-type",
                format!(
                    "`{}` takes {len} values: `{}(a, b)`",
                    self.ident.name, self.ident.name
                ),
                None,
            )
            .at(self.ident.span)),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.body {
            Body::Struct(body) => self
                .node
                .visit_fields(&self.ident.name, body, fields, visitor),
            _ => Err(DeError::new(
                "wrong-type",
                format!(
                    "`{}` needs named fields: `{}({})`",
                    self.ident.name,
                    self.ident.name,
                    fields
                        .iter()
                        .map(|f| format!("{f}: ..."))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            )
            .at(self.ident.span)),
        }
    }
}
