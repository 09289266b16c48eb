//! `.Files`, a chart's non-template files, shared by both template engines: `Get`,
//! `GetBytes`, `Glob` (Helm's gobwas/glob rules), `Lines`, `AsConfig`, `AsSecrets`.

use crate::chart::ChartFile;
use crate::funcs::encoding::base64_encode;
use crate::value::{Map, Value};
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

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_ref())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name)
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_default()
    }

    /// A map of base name → content for `AsConfig`/`AsSecrets`, later names winning.
    pub fn by_basename(&self, encode: impl Fn(&[u8]) -> String) -> Value {
        let mut m = Map::default();
        for (name, data) in &self.files {
            let base = name.rsplit('/').next().unwrap_or(name);
            m.insert(base.to_owned(), Value::String(encode(data)));
        }
        m.sort_keys();
        Value::Map(m)
    }
}

impl Files {
    /// The paths, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(n, _)| n.as_str())
    }

    /// The files whose paths match a glob.
    pub fn glob(&self, pattern: &str) -> Files {
        Files {
            files: self
                .files
                .iter()
                .filter(|(n, _)| glob_match(pattern, n))
                .cloned()
                .collect(),
        }
    }

    /// The lines of a file (no final empty line), empty when it is missing.
    pub fn lines(&self, name: &str) -> Vec<String> {
        let text = self.text(name);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if text.is_empty() {
            return Vec::new();
        }
        text.split('\n').map(str::to_owned).collect()
    }

    /// `AsConfig`: base name → content as Helm's toYaml (sorted keys, no final newline).
    pub fn as_config(&self) -> String {
        crate::value::emit::to_yaml_helm(
            &self.by_basename(|d| String::from_utf8_lossy(d).into_owned()),
        )
    }

    /// `AsSecrets`: base name → base64 content as Helm's toYaml.
    pub fn as_secrets(&self) -> String {
        crate::value::emit::to_yaml_helm(&self.by_basename(base64_encode))
    }
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
}
