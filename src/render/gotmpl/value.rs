//! Values as Go templates see them: Go's "missing" (invalid) value apart from a nil
//! interface, maps shared by reference (so `set` and `merge` change them in place, as in
//! Go), and Helm's objects with methods (`Files`, `APIVersions`, `KubeVersion`).

use crate::funcs::args::GoType;
use crate::funcs::format::go_sprint_value;
use crate::render::files::Files;
use crate::value::{Map, Value};
use indexmap::IndexMap;
use std::cell::RefCell;
use std::rc::Rc;

/// A map's entries in insertion order (foldhash: field lookups are most of execution's
/// hashing, and SipHash showed in profiles).
pub type Fields = IndexMap<String, V, foldhash::fast::RandomState>;

/// A map shared by reference.
pub type VMap = Rc<RefCell<Fields>>;

/// A value during execution.
#[derive(Clone, Debug, Default)]
pub enum V {
    /// Go's invalid `reflect.Value`: a missing pipeline result; prints `<no value>`.
    #[default]
    Missing,
    /// A nil interface: a null value or a missing map key; a field of it is an error.
    Nil,
    /// A boolean.
    Bool(bool),
    /// A Go `int`: template constants, `len`, indexes, `.Release.Revision`.
    Int(i64),
    /// A Go `int64`: `--set` numbers and Sprig's arithmetic.
    Int64(i64),
    /// A float64.
    Float(f64),
    /// A string.
    Str(Rc<str>),
    /// A byte slice (`Files.GetBytes`, the values of `.Files`).
    Bytes(Rc<[u8]>),
    /// A slice.
    List(Rc<Vec<V>>),
    /// A map.
    Map(VMap),
    /// One of Helm's objects.
    Obj(Rc<Obj>),
}

/// Helm's objects with methods.
#[derive(Debug)]
pub enum Obj {
    /// `.Files` (or the result of `.Files.Glob`).
    Files(Files),
    /// `.Capabilities.APIVersions` (`Has`).
    ApiVersions(Vec<String>),
    /// `.Capabilities.KubeVersion`: fields, printed as its version.
    KubeVersion(Fields, String),
    /// A Go struct (`.Capabilities`, `.Capabilities.HelmVersion`): a missing field is an
    /// error, unlike a map's missing key.
    Struct(&'static str, Fields),
}

/// Records where, in `plain` (the conversion of `v`, at its final address), the values whose
/// Go type the value model does not tell apart (`int`, `[]byte`) are.
pub fn mark(v: &V, plain: &Value, ints: &mut Vec<(*const Value, GoType)>) {
    match (v, plain) {
        (V::Int(_), Value::Int(_)) => ints.push((plain as *const Value, GoType::Int)),
        (V::Bytes(_), Value::String(_)) => ints.push((plain as *const Value, GoType::Bytes)),
        (V::List(l), Value::List(p)) => {
            for (a, b) in l.iter().zip(p) {
                mark(a, b, ints);
            }
        }
        (V::Map(m), Value::Map(p)) => {
            let m = m.borrow();
            for (k, a) in m.iter() {
                if let Some(b) = p.get(k) {
                    mark(a, b, ints);
                }
            }
        }
        _ => {}
    }
}

impl V {
    /// A string value.
    pub fn str(s: &str) -> V {
        V::Str(Rc::from(s))
    }

    /// A new shared map.
    pub fn map(m: Fields) -> V {
        V::Map(Rc::new(RefCell::new(m)))
    }

    /// Go's `isTrue`: the truth of a value for `if`, `with`, `and`, `or`, `not`.
    pub fn truth(&self) -> bool {
        match self {
            V::Missing | V::Nil => false,
            V::Bool(b) => *b,
            V::Int(i) | V::Int64(i) => *i != 0,
            V::Float(f) => *f != 0.0,
            V::Str(s) => !s.is_empty(),
            V::Bytes(b) => !b.is_empty(),
            V::List(l) => !l.is_empty(),
            V::Map(m) => !m.borrow().is_empty(),
            V::Obj(o) => match &**o {
                Obj::Files(f) => f.names().next().is_some(),
                Obj::ApiVersions(v) => !v.is_empty(),
                Obj::KubeVersion(..) | Obj::Struct(..) => true,
            },
        }
    }

    /// Missing and nil become one: what a pipeline stage hands on (Go unwraps interfaces
    /// after each command, turning a nil interface into an invalid value).
    pub fn settle(self) -> V {
        match self {
            V::Nil => V::Missing,
            v => v,
        }
    }

    /// Go's type name, for error messages (`interface {}` for a nil from a map).
    pub fn go_type(&self) -> &'static str {
        match self {
            V::Missing => "<nil>",
            V::Nil => "interface {}",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Int64(_) => "int64",
            V::Float(_) => "float64",
            V::Str(_) => "string",
            V::Bytes(_) => "[]uint8",
            V::List(_) => "[]interface {}",
            V::Map(_) => "map[string]interface {}",
            V::Obj(o) => match &**o {
                Obj::Files(_) => "engine.files",
                Obj::ApiVersions(_) => "common.VersionSet",
                Obj::KubeVersion(..) => "*common.KubeVersion",
                Obj::Struct(name, _) => name,
            },
        }
    }

    /// The value as plain data for the function library.
    pub fn to_value(&self) -> Value {
        match self {
            V::Missing | V::Nil => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) | V::Int64(i) => Value::Int(*i),
            V::Float(f) => Value::Float(*f),
            V::Str(s) => Value::String(s.to_string()),
            V::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
            V::List(l) => Value::List(l.iter().map(V::to_value).collect()),
            V::Map(m) => Value::Map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
            V::Obj(o) => match &**o {
                Obj::Files(f) => {
                    let mut m = Map::default();
                    for n in f.names() {
                        m.insert(n.to_owned(), Value::String(f.text(n)));
                    }
                    Value::Map(m)
                }
                Obj::ApiVersions(v) => {
                    Value::List(v.iter().map(|s| Value::String(s.clone())).collect())
                }
                Obj::KubeVersion(fields, _) | Obj::Struct(_, fields) => Value::Map(
                    fields
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_value()))
                        .collect(),
                ),
            },
        }
    }

    /// Plain data as a value (maps become new shared maps).
    pub fn from_value(v: &Value) -> V {
        match v {
            Value::Null => V::Nil,
            Value::Bool(b) => V::Bool(*b),
            Value::Int(i) => V::Int64(*i),
            Value::Float(f) => V::Float(*f),
            Value::String(s) => V::str(s),
            Value::List(l) => V::List(Rc::new(l.iter().map(V::from_value).collect())),
            Value::Map(m) => V::from_map(m),
        }
    }

    /// A map converted (Go templates' own copy of it).
    pub fn from_map(m: &Map) -> V {
        V::map(
            m.iter()
                .map(|(k, v)| (k.clone(), V::from_value(v)))
                .collect(),
        )
    }

    /// Plain data moved in (no string copies for the top level).
    pub fn from_owned(v: Value) -> V {
        match v {
            Value::String(s) => V::Str(Rc::from(s)),
            Value::List(l) => V::List(Rc::new(l.into_iter().map(V::from_owned).collect())),
            Value::Map(m) => V::map(m.into_iter().map(|(k, v)| (k, V::from_owned(v))).collect()),
            other => V::from_value(&other),
        }
    }

    /// True when a Go `int` or `[]byte` is in the value (see [`mark`]).
    pub fn has_int(&self) -> bool {
        match self {
            V::Int(_) | V::Bytes(_) => true,
            V::List(l) => l.iter().any(V::has_int),
            V::Map(m) => m.borrow().values().any(V::has_int),
            _ => false,
        }
    }

    /// Integers that are Go `int` become a result of this kind when `from_owned` meets them
    /// in a function's answer.
    pub fn with_go_ints(self) -> V {
        match self {
            V::Int64(i) => V::Int(i),
            V::List(l) => V::List(Rc::new(
                Rc::try_unwrap(l)
                    .unwrap_or_else(|l| (*l).clone())
                    .into_iter()
                    .map(V::with_go_ints)
                    .collect(),
            )),
            other => other,
        }
    }

    /// What `{{ value }}` prints (before Helm removes `<no value>`).
    pub fn print(&self, out: &mut String) {
        match self {
            V::Missing | V::Nil => out.push_str("<no value>"),
            V::Str(s) => out.push_str(s),
            V::Int(i) | V::Int64(i) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{i}");
            }
            V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Bytes(b) => {
                let items: Vec<String> = b.iter().map(u8::to_string).collect();
                out.push('[');
                out.push_str(&items.join(" "));
                out.push(']');
            }
            V::Obj(o) if matches!(&**o, Obj::KubeVersion(..)) => {
                if let Obj::KubeVersion(_, s) = &**o {
                    out.push_str(s);
                }
            }
            other => out.push_str(&go_sprint_value(&other.to_value())),
        }
    }
}
