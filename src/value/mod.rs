//! The one value model shared by values, both template front ends and manifests.
//!
//! Maps keep insertion order, integers stay distinct from floats (a native chart prints
//! `1000000`, while the Go-template path can still reproduce Helm's float64 `1e+06`), and
//! `Null` is a value of its own, distinct from a key that is missing.

mod convert;
pub mod emit;
mod fastyaml;
pub mod gojson;
pub mod yaml;

use indexmap::IndexMap;
use std::fmt;

/// An ordered map from string keys to values (Helm's `map[string]interface{}`).
pub type Map = IndexMap<String, Value, foldhash::fast::RandomState>;

/// A dynamically typed value: what YAML, JSON and `--set` produce and templates consume.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// YAML `null`/`~`/empty, JSON `null`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A floating-point number (also integers beyond the `i64` range).
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    List(Vec<Value>),
    /// A mapping with string keys, in insertion order.
    Map(Map),
}

impl Value {
    /// An empty map.
    pub fn map() -> Self {
        Value::Map(Map::default())
    }

    /// The kind of value, in the words error messages use.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, when this is an integer, or a float with no fractional part in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                Some(*f as i64)
            }
            _ => None,
        }
    }

    /// The number as a float, when this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The map, when this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The map, mutably, when this is a map.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list, when this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value under `key` when this is a map (`None` when missing or not a map).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a path of map keys (`["image", "tag"]`); `None` as soon as one is missing.
    pub fn get_path<'a, I, S>(&self, path: I) -> Option<&Value>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str> + 'a,
    {
        path.into_iter()
            .try_fold(self, |cur, key| cur.get(key.as_ref()))
    }

    /// Go's and Sprig's notion of emptiness: false, 0, 0.0, "", empty list or map, and null.
    /// `if`, `with`, `default` and `empty` all use it.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            Value::Float(f) => *f == 0.0,
            Value::String(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
        }
    }

    /// The opposite of [`Value::is_empty`].
    pub fn is_truthy(&self) -> bool {
        !self.is_empty()
    }

    /// Turns every integer into a float, recursively: Helm reads values files through JSON,
    /// so every number in them is a float64 on the Go-template path.
    pub fn ints_to_floats(&mut self) {
        match self {
            Value::Int(i) => *self = Value::Float(*i as f64),
            Value::List(l) => l.iter_mut().for_each(Value::ints_to_floats),
            Value::Map(m) => m.values_mut().for_each(Value::ints_to_floats),
            _ => {}
        }
    }
}

/// Numbers compare by value (`1 == 1.0`), as a user comparing values expects; maps compare
/// regardless of key order.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b
            }
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v))
            }
            _ => false,
        }
    }
}

/// Plain rendering as a template prints a scalar: strings bare, integers as integers,
/// floats in their shortest round-trip form, null as nothing. Collections print as
/// flow-style JSON.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::String(s) => f.write_str(s),
            Value::List(_) | Value::Map(_) => f.write_str(&self.to_json()),
        }
    }
}

/// Shortest decimal form of a float that reads back the same, the way JSON encoders print
/// numbers: whole numbers without a fractional part (`3`), exponent form below 1e-6 and from
/// 1e21 on (`1e+21`, `1e-7`).
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{x:e}");
        return match e.split_once('e') {
            Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
            _ => e,
        };
    }
    format!("{x}")
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

#[cfg(test)]
mod tests;
