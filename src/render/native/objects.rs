//! Template objects with methods: `Files` (Get, GetBytes, Glob, Lines, AsConfig,
//! AsSecrets) and `Capabilities.APIVersions` (Has).

use super::{MjMap, from_mj, to_mj};
use crate::render::files::Files;
use crate::value::Value;
use minijinja::value::{Enumerator, Object, ObjectExt, ObjectRepr};
use minijinja::{Error, ErrorKind, State, Value as MjValue};
use std::sync::Arc;

fn one_string(method: &str, args: &[MjValue]) -> Result<String, Error> {
    match args {
        [a] => Ok(a.as_str().map_or_else(|| a.to_string(), str::to_owned)),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("Files.{method} takes one argument, a path"),
        )),
    }
}

impl Object for Files {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let name = key.as_str()?;
        self.get(name)
            .map(|d| MjValue::from(String::from_utf8_lossy(d).into_owned()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_enumerator(|this| {
            Box::new(
                this.names()
                    .map(MjValue::from)
                    .collect::<Vec<_>>()
                    .into_iter(),
            )
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[MjValue],
    ) -> Result<MjValue, Error> {
        match method {
            "Get" => Ok(MjValue::from(self.text(&one_string(method, args)?))),
            "GetBytes" => Ok(MjValue::from_bytes(
                self.get(&one_string(method, args)?)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default(),
            )),
            "Lines" => Ok(MjValue::from(
                self.lines(&one_string(method, args)?)
                    .into_iter()
                    .map(MjValue::from)
                    .collect::<Vec<_>>(),
            )),
            "Glob" => Ok(MjValue::from_object(self.glob(&one_string(method, args)?))),
            "AsConfig" => Ok(MjValue::from(self.as_config())),
            "AsSecrets" => Ok(MjValue::from(self.as_secrets())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `Capabilities.APIVersions`: a list of group-versions with `Has`.
#[derive(Debug)]
pub struct ApiVersions(pub Vec<String>);

impl Object for ApiVersions {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let idx = key.as_usize()?;
        self.0.get(idx).map(|s| MjValue::from(s.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[MjValue],
    ) -> Result<MjValue, Error> {
        match (method, args) {
            ("Has", [v]) => {
                let wanted = v.as_str().unwrap_or_default();
                Ok(MjValue::from(self.0.iter().any(|a| a == wanted)))
            }
            ("Has", _) => Err(Error::new(
                ErrorKind::InvalidOperation,
                "APIVersions.Has takes one argument, e.g. \"apps/v1\"",
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `Capabilities`, with `APIVersions` as an object.
pub fn capabilities(data: &Value, api_versions: Vec<String>) -> MjValue {
    let mut m = MjMap::new();
    if let Some(map) = data.as_map() {
        for (k, v) in map {
            if k == "APIVersions" {
                m.insert(
                    MjValue::from(k.as_str()),
                    MjValue::from_object(ApiVersions(api_versions.clone())),
                );
            } else {
                m.insert(MjValue::from(k.as_str()), to_mj(v));
            }
        }
    }
    MjValue::from(m)
}

/// Converts a method's or function's arguments for library calls.
pub fn args_to_values(args: &[MjValue]) -> Vec<Value> {
    args.iter().map(from_mj).collect()
}
