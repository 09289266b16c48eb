//! Label selectors (`k=v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`) and field
//! selectors (`metadata.name`, `metadata.namespace`, and a few per-kind fields), parsed
//! from query strings and matched against objects.

use super::status::ApiError;
use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    terms: Vec<(String, Op)>,
}

fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    name_ok && prefix_ok
}

fn valid_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Splits on commas that are not inside parentheses.
fn split_terms(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unmatched ')'".into());
                }
            }
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unmatched '('".into());
    }
    out.push(&s[start..]);
    Ok(out)
}

fn parse_set(rest: &str) -> Result<Vec<String>, String> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or("expected a parenthesised list of values")?;
    let values: Vec<String> = inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err("a set needs at least one value".into());
    }
    Ok(values)
}

impl LabelSelector {
    /// Parses `labelSelector`; errors are 400s worded after the real server's.
    pub fn parse(s: &str) -> Result<LabelSelector, ApiError> {
        let bad =
            |why: String| ApiError::bad_request(format!("unable to parse requirement: {why}"));
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(LabelSelector { terms });
        }
        for term in split_terms(s).map_err(bad)? {
            let term = term.trim();
            if term.is_empty() {
                return Err(bad("found '', expected: identifier".into()));
            }
            let (key, op) = if let Some(key) = term.strip_prefix('!') {
                (key.trim().to_string(), Op::NotExists)
            } else if let Some((k, v)) = term.split_once("!=") {
                (k.trim().to_string(), Op::NotEq(v.trim().to_string()))
            } else if let Some((k, v)) = term.split_once("==") {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some((k, v)) = term.split_once('=') {
                (k.trim().to_string(), Op::Eq(v.trim().to_string()))
            } else if let Some(pos) = term.find(" notin ").or_else(|| term.find(" notin(")) {
                let set = parse_set(&term[pos + 6..]).map_err(bad)?;
                (term[..pos].trim().to_string(), Op::NotIn(set))
            } else if let Some(pos) = term.find(" in ").or_else(|| term.find(" in(")) {
                let set = parse_set(&term[pos + 3..]).map_err(bad)?;
                (term[..pos].trim().to_string(), Op::In(set))
            } else {
                (term.to_string(), Op::Exists)
            };
            if !valid_key(&key) {
                return Err(bad(format!("invalid label key \"{key}\"")));
            }
            let values: Vec<&String> = match &op {
                Op::Eq(v) | Op::NotEq(v) => vec![v],
                Op::In(vs) | Op::NotIn(vs) => vs.iter().collect(),
                _ => vec![],
            };
            if let Some(v) = values.iter().find(|v| !valid_value(v)) {
                return Err(bad(format!("invalid label value: \"{v}\"")));
            }
            terms.push((key, op));
        }
        Ok(LabelSelector { terms })
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether an object's labels match.
    pub fn matches(&self, object: &Json) -> bool {
        let labels = object["metadata"]["labels"].as_object();
        self.matches_with(|k| labels.and_then(|l| l.get(k)).and_then(Json::as_str))
    }

    /// Whether labels, looked up by `label`, match.
    pub fn matches_with<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.terms.iter().all(|(key, op)| {
            let v = label(key);
            match op {
                Op::Eq(want) => v == Some(want.as_str()),
                Op::NotEq(want) => v != Some(want.as_str()),
                Op::In(set) => v.is_some_and(|v| set.iter().any(|s| s == v)),
                Op::NotIn(set) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }
}

/// A parsed field selector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    terms: Vec<(Vec<String>, bool, String)>,
}

/// Field selectors the real server supports beyond `metadata.name`/`metadata.namespace`,
/// by plural resource.
fn extra_fields(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "secrets" => &["type"],
        "events" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "namespaces" => &["status.phase"],
        "nodes" => &["spec.unschedulable"],
        "replicasets" | "replicationcontrollers" => &["status.replicas"],
        "jobs" => &["status.successful"],
        "persistentvolumes" | "persistentvolumeclaims" => &["status.phase"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses `fieldSelector` for a resource; unsupported fields are 400s.
    pub fn parse(s: &str, plural: &str) -> Result<FieldSelector, ApiError> {
        let mut terms = Vec::new();
        for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace")
                && !extra_fields(plural).contains(&field)
            {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push((
                field.split('.').map(str::to_string).collect(),
                eq,
                value.trim().to_string(),
            ));
        }
        Ok(FieldSelector { terms })
    }

    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The single name `metadata.name=x` pins, if any (lets a list skip scanning).
    pub fn pinned_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|(path, eq, _)| {
                *eq && path.len() == 2 && path[0] == "metadata" && path[1] == "name"
            })
            .map(|(_, _, v)| v.as_str())
    }

    /// Whether matching needs more than the object's name and namespace.
    pub fn needs_object(&self) -> bool {
        self.terms.iter().any(|(path, _, _)| {
            !(path.len() == 2
                && path[0] == "metadata"
                && (path[1] == "name" || path[1] == "namespace"))
        })
    }

    /// Whether an object matches, knowing only its namespace and name (when
    /// `needs_object` is false).
    pub fn matches_name(&self, namespace: &str, name: &str) -> bool {
        self.terms.iter().all(|(path, eq, want)| {
            let have = if path[1] == "name" { name } else { namespace };
            (have == want) == *eq
        })
    }

    /// Whether an object matches.
    pub fn matches(&self, object: &Json) -> bool {
        self.terms.iter().all(|(path, eq, want)| {
            let mut v = object;
            for part in path {
                v = &v[part.as_str()];
            }
            let have = match v {
                Json::String(s) => s.clone(),
                Json::Null => String::new(),
                Json::Bool(b) => b.to_string(),
                Json::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            (have == *want) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Json) -> Json {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_selector_syntax() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let yes = [
            "",
            "app=web",
            "app==web",
            "app!=db",
            "app in (web,db)",
            "tier notin (back)",
            "app",
            "!missing",
            "app=web,tier=front",
            "missing!=x",
        ];
        for s in yes {
            assert!(LabelSelector::parse(s).expect(s).matches(&o), "{s}");
        }
        let no = [
            "app=db",
            "app notin (web)",
            "missing",
            "!app",
            "app in (db)",
            "app=web,tier=back",
        ];
        for s in no {
            assert!(!LabelSelector::parse(s).expect(s).matches(&o), "{s}");
        }
    }

    #[test]
    fn bad_label_selectors_are_400() {
        for s in ["app=web,", "a b c", "app in web", "app=(x", "-bad=x"] {
            let err = LabelSelector::parse(s).expect_err(s);
            assert_eq!(err.code, 400, "{s}");
        }
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let s = FieldSelector::parse("metadata.name=a,metadata.namespace!=other", "configmaps")
            .expect("parse");
        assert!(s.matches(&o));
        assert_eq!(s.pinned_name(), Some("a"));
        assert!(
            !FieldSelector::parse("metadata.name=b", "configmaps")
                .expect("parse")
                .matches(&o)
        );
        let err = FieldSelector::parse("spec.replicas=1", "configmaps").expect_err("unsupported");
        assert_eq!(err.message, "field label not supported: spec.replicas");
        assert!(FieldSelector::parse("type=Opaque", "secrets").is_ok());
    }
}
