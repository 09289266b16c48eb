//! Request paths and query strings: which endpoint a URL names.

use std::collections::HashMap;

/// A resource URL taken apart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourcePath {
    /// API group (empty for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace segment, when present.
    pub namespace: Option<String>,
    /// Plural resource.
    pub plural: String,
    /// Object name, when present.
    pub name: Option<String>,
    /// Subresource, when present.
    pub subresource: Option<String>,
    /// The legacy `/watch/` prefix was used.
    pub watch_prefix: bool,
}

/// What a path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/version`
    Version,
    /// `/healthz`, `/livez`, `/readyz` (and their sub-checks).
    Health,
    /// `/api`
    Api,
    /// `/apis`
    Apis,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`
    GroupVersion(String, String),
    /// `/openapi/v3`
    OpenApiIndex,
    /// `/openapi/v3/<path>`
    OpenApiDoc(String),
    /// A resource collection, object or subresource.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// Takes a path apart. Namespaced-ness is resolved later against the registry, except for
/// the one ambiguity the URL scheme has: `/api/v1/namespaces/<name>/<x>` is a namespace's
/// subresource when `x` is `status` or `finalize`.
pub fn parse(path: &str) -> Route {
    let segs: Vec<String> = path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["api"] => Route::Api,
        ["apis"] => Route::Apis,
        ["apis", group] => Route::Group(group.to_string()),
        ["api", "v1"] => Route::GroupVersion(String::new(), "v1".into()),
        ["apis", group, version] => Route::GroupVersion(group.to_string(), version.to_string()),
        ["openapi", "v3"] => Route::OpenApiIndex,
        ["openapi", "v3", rest @ ..] if !rest.is_empty() => Route::OpenApiDoc(rest.join("/")),
        ["api", "v1", rest @ ..] => resource(String::new(), "v1".into(), rest),
        ["apis", group, version, rest @ ..] => {
            resource(group.to_string(), version.to_string(), rest)
        }
        _ => Route::Unknown,
    }
}

fn resource(group: String, version: String, rest: &[&str]) -> Route {
    let (watch_prefix, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let mut p = ResourcePath {
        group,
        version,
        watch_prefix,
        ..ResourcePath::default()
    };
    let s = |x: &&str| Some(x.to_string());
    match rest {
        ["namespaces", ns, "status" | "finalize"] if group_is_core(&p) => {
            p.plural = "namespaces".into();
            p.name = Some(ns.to_string());
            p.subresource = rest.get(2).map(|x| x.to_string());
        }
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => {
            p.namespace = Some(ns.to_string());
            p.plural = plural.to_string();
            p.name = tail.first().and_then(s);
            p.subresource = tail.get(1).and_then(s);
        }
        [plural, tail @ ..] if tail.len() <= 2 => {
            p.plural = plural.to_string();
            p.name = tail.first().and_then(s);
            p.subresource = tail.get(1).and_then(s);
        }
        _ => return Route::Unknown,
    }
    Route::Resource(p)
}

fn group_is_core(p: &ResourcePath) -> bool {
    p.group.is_empty()
}

/// Decodes `%XX` escapes (and `+` as space when `plus` is set).
fn decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes a path segment.
pub fn percent_decode(s: &str) -> String {
    decode(s, false)
}

/// Parses a query string into a map (last value wins).
pub fn query(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k, true), decode(v, true)),
            None => (decode(pair, true), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Route::Resource(p) => p,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_urls() {
        let p = res("/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (p.namespace.as_deref(), p.plural.as_str(), p.name.as_deref()),
            (Some("default"), "configmaps", Some("x"))
        );
        let p = res("/apis/apps/v1/namespaces/d/deployments/web/scale");
        assert_eq!(p.subresource.as_deref(), Some("scale"));
        let p = res("/api/v1/namespaces/foo");
        assert_eq!(
            (p.plural.as_str(), p.name.as_deref()),
            ("namespaces", Some("foo"))
        );
        let p = res("/api/v1/namespaces/foo/status");
        assert_eq!(
            (
                p.plural.as_str(),
                p.name.as_deref(),
                p.subresource.as_deref()
            ),
            ("namespaces", Some("foo"), Some("status"))
        );
        let p = res("/api/v1/namespaces/foo/pods");
        assert_eq!((p.plural.as_str(), p.name), ("pods", None));
        let p = res("/apis/apps/v1/deployments");
        assert_eq!((p.namespace, p.plural.as_str()), (None, "deployments"));
        let p = res("/api/v1/watch/namespaces/d/pods");
        assert!(p.watch_prefix);
        assert_eq!(
            parse("/apis/apps/v1"),
            Route::GroupVersion("apps".into(), "v1".into())
        );
        assert_eq!(
            parse("/api/v1/"),
            Route::GroupVersion(String::new(), "v1".into())
        );
        assert_eq!(parse("/nope"), Route::Unknown);
    }

    #[test]
    fn queries_are_decoded() {
        let q = query(Some(
            "labelSelector=name%3Ddemo%2Cowner%3Dhelm&limit=500&watch",
        ));
        assert_eq!(q["labelSelector"], "name=demo,owner=helm");
        assert_eq!(q["limit"], "500");
        assert_eq!(q["watch"], "");
        assert_eq!(
            query(Some("a=x+y%")).get("a").map(String::as_str),
            Some("x y%")
        );
    }
}
