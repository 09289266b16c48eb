//! Server-maintained metadata: names checked, uid/creationTimestamp/generation set,
//! server-owned fields kept, the status subresource separated from the main resource.

use super::resources::Resource;
use super::status::{ApiError, cause};
use serde_json::{Map, Value as Json, json};

/// Now, as the API server writes timestamps (RFC 3339, seconds, UTC).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random (version 4) UUID.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Five random lowercase consonants and digits, as `generateName` appends.
pub fn name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut b = [0u8; 5];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b.iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect()
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_label)
}

/// Checks an object name the way the real server does for the resource.
pub fn check_name(resource: &Resource, name: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::invalid(
            &resource.group,
            &resource.kind,
            name,
            vec![cause(
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: \"{name}\": {why}"),
            )],
        )
    };
    let label_only = matches!(
        (resource.group.as_str(), resource.plural.as_str()),
        ("", "namespaces" | "services")
    );
    // RBAC names are path segments: `system:controller:x` is a valid ClusterRole name.
    if resource.group == "rbac.authorization.k8s.io" {
        let why = match name {
            "." => Some("may not be '.'"),
            ".." => Some("may not be '..'"),
            n if n.contains('/') => Some("may not contain '/'"),
            n if n.contains('%') => Some("may not contain '%'"),
            _ => None,
        };
        return match why {
            Some(w) => Err(invalid(w)),
            None => Ok(()),
        };
    }
    if label_only {
        if !is_label(name) {
            return Err(invalid(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ));
        }
        if resource.plural == "services" && !name.as_bytes()[0].is_ascii_lowercase() {
            return Err(invalid(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ));
        }
    } else if !is_subdomain(name) {
        return Err(invalid(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ));
    }
    Ok(())
}

/// The object's `metadata` map (created when missing); 400 when the body is not an object.
pub fn metadata(obj: &mut Json) -> Result<&mut Map<String, Json>, ApiError> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body of the request must be a JSON object"))?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Json::Object(Map::default()));
    if meta.is_null() {
        *meta = Json::Object(Map::default());
    }
    meta.as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))
}

/// A string field of `metadata`.
pub fn meta_str<'a>(obj: &'a Json, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// Checks (and fills in) `apiVersion`/`kind` against the URL's resource.
pub fn check_type(resource: &Resource, obj: &mut Json, kind: &str) -> Result<(), ApiError> {
    let want_api = match &resource.subresources.iter().find(|s| s.kind == kind) {
        Some(sub) if sub.kind != resource.kind => sub.api_version.clone().unwrap_or_default(),
        _ => resource.api_version(),
    };
    let map = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body of the request must be a JSON object"))?;
    match map.get("apiVersion").and_then(Json::as_str) {
        Some(v) if v != want_api => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({want_api})"
            )));
        }
        _ => {}
    }
    match map.get("kind").and_then(Json::as_str) {
        Some(k) if k != kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({kind})"
            )));
        }
        _ => {}
    }
    // apiVersion and kind first, as the real server writes them.
    let mut out = Map::default();
    out.insert("apiVersion".into(), json!(want_api));
    out.insert("kind".into(), json!(kind));
    for (k, v) in std::mem::take(map) {
        if k != "apiVersion" && k != "kind" {
            out.insert(k, v);
        }
    }
    *map = out;
    Ok(())
}

/// Everything but `metadata` and `status`: what a generation bump looks at.
fn spec_part(obj: &Json) -> Vec<(&String, &Json)> {
    obj.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Prepares a new object: namespace from the URL, name (or `generateName`), uid,
/// creationTimestamp, generation, status reset where a status subresource owns it.
pub fn prepare_create(
    resource: &Resource,
    obj: &mut Json,
    namespace: Option<&str>,
) -> Result<String, ApiError> {
    let kind = resource.kind.clone();
    check_type(resource, obj, &kind)?;
    let meta = metadata(obj)?;
    if let Some(ns) = namespace {
        match meta.get("namespace").and_then(Json::as_str) {
            Some(body_ns) if !body_ns.is_empty() && body_ns != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {
                meta.insert("namespace".into(), json!(ns));
            }
        }
    } else {
        meta.remove("namespace");
    }
    let mut name = meta
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        match meta.get("generateName").and_then(Json::as_str) {
            Some(prefix) if !prefix.is_empty() => {
                name = format!("{prefix}{}", name_suffix());
                meta.insert("name".into(), json!(name));
            }
            _ => {
                return Err(ApiError::invalid(
                    &resource.group,
                    &resource.kind,
                    "",
                    vec![cause(
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ));
            }
        }
    }
    if meta
        .get("resourceVersion")
        .and_then(Json::as_str)
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::internal(
            "Internal error occurred: resourceVersion should not be set on objects to be created",
        ));
    }
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "selfLink",
    ] {
        meta.remove(field);
    }
    meta.insert("uid".into(), json!(uuid()));
    meta.insert("creationTimestamp".into(), json!(now()));
    if resource.tracks_generation() {
        meta.insert("generation".into(), json!(1));
    }
    check_name(resource, &name)?;
    if resource.has_status()
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    Ok(name)
}

/// Prepares a replacement (PUT) of `old`: identity fields kept, status kept when a status
/// subresource owns it, generation bumped when anything outside metadata/status changed.
pub fn prepare_update(resource: &Resource, obj: &mut Json, old: &Json) -> Result<(), ApiError> {
    let kind = resource.kind.clone();
    check_type(resource, obj, &kind)?;
    let old_meta = old["metadata"].as_object().cloned().unwrap_or_default();
    let meta = metadata(obj)?;
    if let (Some(new_uid), Some(old_uid)) = (
        meta.get("uid").and_then(Json::as_str),
        old_meta.get("uid").and_then(Json::as_str),
    ) && !new_uid.is_empty()
        && new_uid != old_uid
    {
        let name = old_meta
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default();
        return Err(ApiError::conflict(
            &resource.group,
            &resource.plural,
            name,
            &format!(
                "Precondition failed: UID in precondition: {new_uid}, UID in object meta: {old_uid}"
            ),
        ));
    }
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
    ] {
        match old_meta.get(field) {
            Some(v) => {
                meta.insert(field.into(), v.clone());
            }
            None => {
                meta.remove(field);
            }
        }
    }
    meta.remove("selfLink");
    if resource.has_status()
        && let Some(map) = obj.as_object_mut()
    {
        match old.get("status") {
            Some(status) => {
                map.insert("status".into(), status.clone());
            }
            None => {
                map.remove("status");
            }
        }
    }
    if resource.tracks_generation() && spec_part(obj) != spec_part(old) {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        metadata(obj)?.insert("generation".into(), json!(generation));
    }
    Ok(())
}

/// Applies a `/status` write: the stored object with the new status (and nothing else).
pub fn status_update(old: &Json, new: &Json) -> Json {
    let mut out = old.clone();
    if let Some(map) = out.as_object_mut() {
        match new.get("status") {
            Some(status) => {
                map.insert("status".into(), status.clone());
            }
            None => {
                map.remove("status");
            }
        }
    }
    out
}

/// Whether two versions of an object differ in anything but resourceVersion and
/// managedFields timestamps (a no-op write keeps the old revision).
pub fn same_content(a: &Json, b: &Json) -> bool {
    let strip = |v: &Json| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.remove("resourceVersion");
            // A write that changes nothing but its managers' timestamps is no change.
            if let Some(entries) = meta.get_mut("managedFields").and_then(Json::as_array_mut) {
                for e in entries.iter_mut().filter_map(Json::as_object_mut) {
                    e.remove("time");
                }
            }
        }
        v
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::resources::Registry;
    use crate::k8s::KubeVersion;

    fn res(group: &str, plural: &str) -> Resource {
        let r = Registry::builtin(&KubeVersion::default());
        (**r.get(group, "v1", plural).expect("resource")).clone()
    }

    #[test]
    fn create_sets_server_fields() {
        let deploy = res("apps", "deployments");
        let mut obj = json!({"metadata": {"generateName": "web-", "uid": "mine"}, "spec": {}, "status": {"replicas": 3}});
        let name = prepare_create(&deploy, &mut obj, Some("default")).expect("ok");
        assert!(name.starts_with("web-") && name.len() == 9);
        assert_eq!(obj["apiVersion"], "apps/v1");
        assert_eq!(obj["kind"], "Deployment");
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert_eq!(obj["metadata"]["generation"], 1);
        assert_ne!(obj["metadata"]["uid"], "mine");
        assert_eq!(obj["metadata"]["uid"].as_str().map(str::len), Some(36));
        assert!(obj.get("status").is_none());
        let cm = res("", "configmaps");
        let mut obj = json!({"metadata": {"name": "a"}});
        prepare_create(&cm, &mut obj, Some("x")).expect("ok");
        assert!(obj["metadata"].get("generation").is_none());
    }

    #[test]
    fn create_refuses_bad_names_and_mismatches() {
        let cm = res("", "configmaps");
        let err = prepare_create(
            &cm,
            &mut json!({"metadata": {"name": "Bad_Name"}}),
            Some("d"),
        )
        .expect_err("bad name");
        assert_eq!(err.code, 422);
        let err = prepare_create(
            &cm,
            &mut json!({"metadata": {"name": "a", "namespace": "other"}}),
            Some("d"),
        )
        .expect_err("namespace mismatch");
        assert_eq!(err.code, 400);
        let err = prepare_create(
            &cm,
            &mut json!({"kind": "Secret", "metadata": {"name": "a"}}),
            Some("d"),
        )
        .expect_err("kind mismatch");
        assert_eq!(err.code, 400);
        let svc = res("", "services");
        assert!(
            prepare_create(&svc, &mut json!({"metadata": {"name": "1abc"}}), Some("d")).is_err()
        );
    }

    #[test]
    fn update_keeps_identity_and_bumps_generation_on_spec_change() {
        let deploy = res("apps", "deployments");
        let mut old = json!({"metadata": {"name": "a"}, "spec": {"replicas": 1}});
        prepare_create(&deploy, &mut old, Some("d")).expect("create");
        old["status"] = json!({"replicas": 1});
        let mut new = json!({"metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
        prepare_update(&deploy, &mut new, &old).expect("update");
        assert_eq!(new["metadata"]["uid"], old["metadata"]["uid"]);
        assert_eq!(new["metadata"]["generation"], 1);
        assert_eq!(new["status"]["replicas"], 1);
        let mut new = json!({"metadata": {"name": "a"}, "spec": {"replicas": 2}});
        prepare_update(&deploy, &mut new, &old).expect("update");
        assert_eq!(new["metadata"]["generation"], 2);
        let mut new = json!({"metadata": {"name": "a", "uid": "other"}, "spec": {}});
        assert_eq!(
            prepare_update(&deploy, &mut new, &old)
                .expect_err("uid")
                .code,
            409
        );
    }
}
