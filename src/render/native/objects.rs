//! Template objects with methods: `Files` (Get, GetBytes, Glob, Lines, AsConfig,
//! AsSecrets) and `Capabilities.APIVersions` (Has).

use super::{MjMap, from_mj, to_mj};
use crate::chart::ChartFile;
use crate::value::{Map, Value};
use minijinja::value::{Enumerator, Object, ObjectExt, ObjectRepr};
use minijinja::{Error, ErrorKind, State, Value as MjValue};
use std::sync::Arc;

/// `.Files`: every non-template file of one chart, by path.
#[derive(Debug)]
pub struct Files {
    files: Vec<(String, Arc<[u8]>)>,
}

impl Files {
    /// The files of a chart (`ChartFile` paths relative to the chart root), sorted.
    pub fn new(files: &[ChartFile]) -> Files {
        let mut files: Vec<(String, Arc<[u8]>)> = files
            .iter()
            .map(|f| (f.name.clone(), Arc::from(f.data.as_slice())))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Files { files }
    }

    fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_ref())
    }

    fn text(&self, name: &str) -> String {
        self.get(name)
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_default()
    }

    /// A map of base name → content for `AsConfig`/`AsSecrets`, later names winning.
    fn by_basename(&self, encode: impl Fn(&[u8]) -> String) -> Value {
        let mut m = Map::new();
        for (name, data) in &self.files {
            let base = name.rsplit('/').next().unwrap_or(name);
            m.insert(base.to_owned(), Value::String(encode(data)));
        }
        m.sort_keys();
        Value::Map(m)
    }
}

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
                this.files
                    .iter()
                    .map(|(n, _)| MjValue::from(n.as_str()))
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
            "Lines" => {
                let text = self.text(&one_string(method, args)?);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                if text.is_empty() {
                    return Ok(MjValue::from(Vec::<MjValue>::new()));
                }
                Ok(MjValue::from(
                    text.split('\n').map(MjValue::from).collect::<Vec<_>>(),
                ))
            }
            "Glob" => {
                let pattern = one_string(method, args)?;
                let files = self
                    .files
                    .iter()
                    .filter(|(n, _)| glob_match(&pattern, n))
                    .cloned()
                    .collect();
                Ok(MjValue::from_object(Files { files }))
            }
            // Helm's toYAML: sorted keys, final newline trimmed.
            "AsConfig" => Ok(MjValue::from(crate::value::emit::to_yaml_helm(
                &self.by_basename(|d| String::from_utf8_lossy(d).into_owned()),
            ))),
            "AsSecrets" => Ok(MjValue::from(crate::value::emit::to_yaml_helm(
                &self.by_basename(base64_encode),
            ))),
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

/// Helm's `.Files.Glob` matching (gobwas/glob with `/` as separator): `*` and `?` stay
/// inside a path segment, `**` crosses segments, `[…]` classes, `{a,b}` alternatives.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) if rest.first() == Some(&'*') => {
                let rest = &rest[1..];
                (0..=n.len()).any(|i| go(rest, &n[i..]))
            }
            Some(('*', rest)) => {
                for i in 0..=n.len() {
                    if go(rest, &n[i..]) {
                        return true;
                    }
                    if i < n.len() && n[i] == '/' {
                        break;
                    }
                }
                false
            }
            Some(('?', rest)) => n.first().is_some_and(|c| *c != '/') && go(rest, &n[1..]),
            Some(('[', rest)) => {
                let Some(close) = rest.iter().position(|c| *c == ']') else {
                    return false;
                };
                let (class, after) = (&rest[..close], &rest[close + 1..]);
                let Some(&c) = n.first() else { return false };
                let (negate, class) = match class.first() {
                    Some('!') | Some('^') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(after, &n[1..])
            }
            Some(('{', rest)) => {
                let Some(close) = rest.iter().position(|c| *c == '}') else {
                    return false;
                };
                let after = &rest[close + 1..];
                rest[..close].split(|c| *c == ',').any(|alt| {
                    let mut candidate: Vec<char> = alt.to_vec();
                    candidate.extend_from_slice(after);
                    go(&candidate, n)
                })
            }
            Some(('\\', rest)) if !rest.is_empty() => {
                n.first() == Some(&rest[0]) && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Converts a method's or function's arguments for library calls.
pub fn args_to_values(args: &[MjValue]) -> Vec<Value> {
    args.iter().map(from_mj).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_rules() {
        for (p, n, want) in [
            ("*.txt", "a.txt", true),
            ("*.txt", "dir/a.txt", false),
            ("**.txt", "dir/a.txt", true),
            ("files/**", "files/a/b.conf", true),
            ("files/*", "files/a/b.conf", false),
            ("files/?.conf", "files/a.conf", true),
            ("files/[ab].conf", "files/b.conf", true),
            ("files/[!ab].conf", "files/b.conf", false),
            ("*.{yaml,json}", "x.json", true),
            ("*.{yaml,json}", "x.toml", false),
        ] {
            assert_eq!(glob_match(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn base64() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"hello world"), "aGVsbG8gd29ybGQ=");
    }
}
