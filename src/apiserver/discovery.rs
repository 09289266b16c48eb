//! Discovery (legacy documents and aggregated `APIGroupDiscoveryList`), `/version`, and the
//! OpenAPI v3 documents clients read to decide that the server validates fields.

use super::handlers::Reply;
use super::resources::{Registry, Resource};
use super::status::ApiError;
use crate::k8s::KubeVersion;
use bytes::Bytes;
use serde_json::{Map, Value as Json, json};
use sha2::Digest as _;

/// `/version`.
pub fn version(v: &KubeVersion) -> Reply {
    Reply::ok(&json!({
        "major": v.major.to_string(),
        "minor": v.minor.to_string(),
        "emulationMajor": v.major.to_string(),
        "emulationMinor": v.minor.to_string(),
        "minCompatibilityMajor": v.major.to_string(),
        "minCompatibilityMinor": v.minor.saturating_sub(1).to_string(),
        "gitVersion": v.git_version(),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    }))
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The aggregated discovery version the client asks for, if any (`v2` or `v2beta1`).
pub fn wants_aggregated(accept: &str) -> Option<&'static str> {
    for part in accept.split(',') {
        if !part.contains("as=APIGroupDiscoveryList") || !part.contains("g=apidiscovery.k8s.io") {
            continue;
        }
        if part.contains("v=v2beta1") {
            return Some("v2beta1");
        }
        if part.contains("v=v2") {
            return Some("v2");
        }
    }
    None
}

fn gv(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn strings(v: &[String]) -> Json {
    json!(v)
}

fn resource_entry(r: &Resource) -> Json {
    let mut e = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": strings(&r.verbs),
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = strings(&r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = strings(&r.categories);
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Json> = r
            .subresources
            .iter()
            .map(|s| {
                let (group, version) = match &s.api_version {
                    Some(av) => match av.split_once('/') {
                        Some((g, v)) => (g.to_string(), v.to_string()),
                        None => (String::new(), av.clone()),
                    },
                    None => (r.group.clone(), r.version.clone()),
                };
                json!({
                    "subresource": s.name,
                    "responseKind": {"group": group, "version": version, "kind": s.kind},
                    "verbs": strings(&s.verbs),
                })
            })
            .collect();
        e["subresources"] = Json::Array(subs);
    }
    e
}

fn aggregated(registry: &Registry, core: bool, version: &str) -> Reply {
    let items: Vec<Json> = registry
        .groups()
        .iter()
        .filter(|g| g.name.is_empty() == core)
        .map(|g| {
            let versions: Vec<Json> = g
                .versions
                .iter()
                .map(|v| {
                    let resources: Vec<Json> = registry
                        .resources_of(&g.name, v)
                        .map(|r| resource_entry(r))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g.name, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    });
    Reply::Typed(
        200,
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
        format!("application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"),
    )
}

/// `/api`.
pub fn api(registry: &Registry, accept: &str, host: &str) -> Reply {
    if let Some(v) = wants_aggregated(accept) {
        return aggregated(registry, true, v);
    }
    Reply::ok(&json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }))
}

fn group_doc(registry: &Registry, name: &str) -> Option<Json> {
    let g = registry.groups().iter().find(|g| g.name == name)?;
    let versions: Vec<Json> = g
        .versions
        .iter()
        .map(|v| json!({"groupVersion": gv(name, v), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Json::Null);
    Some(json!({"name": name, "versions": versions, "preferredVersion": preferred}))
}

/// `/apis`.
pub fn apis(registry: &Registry, accept: &str) -> Reply {
    if let Some(v) = wants_aggregated(accept) {
        return aggregated(registry, false, v);
    }
    let groups: Vec<Json> = registry
        .groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .filter_map(|g| group_doc(registry, &g.name))
        .collect();
    Reply::ok(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

/// `/apis/<group>`.
pub fn group(registry: &Registry, name: &str) -> Reply {
    match group_doc(registry, name) {
        Some(mut doc) if !name.is_empty() => {
            let map = doc.as_object_mut().map(std::mem::take).unwrap_or_default();
            let mut out = Map::default();
            out.insert("kind".into(), json!("APIGroup"));
            out.insert("apiVersion".into(), json!("v1"));
            out.extend(map);
            Reply::ok(&Json::Object(out))
        }
        _ => ApiError::no_route().into(),
    }
}

/// `/api/v1`, `/apis/<group>/<version>`.
pub fn group_version(registry: &Registry, group: &str, version: &str) -> Reply {
    if !registry.serves(group, version) {
        return ApiError::no_route().into();
    }
    let mut resources = Vec::new();
    for r in registry.resources_of(group, version) {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": strings(&r.verbs),
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = strings(&r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = strings(&r.categories);
        }
        resources.push(e);
        for s in &r.subresources {
            let mut e = json!({
                "name": format!("{}/{}", r.plural, s.name),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s.kind,
                "verbs": strings(&s.verbs),
            });
            if let Some(av) = &s.api_version {
                let (g, v) = av.split_once('/').unwrap_or(("", av));
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            resources.push(e);
        }
    }
    Reply::ok(&json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv(group, version),
        "resources": resources,
    }))
}

fn openapi_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn param(name: &str, kind: &str) -> Json {
    json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}})
}

/// The OpenAPI v3 document of one group/version: every resource's item path with a PATCH
/// operation tagged with its group/version/kind and the `fieldValidation` parameter — what
/// kubectl and helm look for before trusting the server's field validation. No component
/// schemas: partial ones would mislead kubectl's patch computation.
fn openapi_doc(
    registry: &Registry,
    version_info: &KubeVersion,
    group: &str,
    version: &str,
) -> Json {
    let mut paths = Map::default();
    for r in registry.resources_of(group, version) {
        if !r.allows("patch") {
            continue;
        }
        let prefix = format!("/{}", openapi_path(group, version));
        let item = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        let mut content = Map::default();
        let mut media = vec![
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ];
        if r.custom.is_none() {
            media.push("application/strategic-merge-patch+json");
        }
        for m in media {
            content.insert(m.into(), json!({"schema": {"type": "object"}}));
        }
        let mut path_params = vec![
            json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}),
        ];
        if r.namespaced {
            path_params.push(json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}}));
        }
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        paths.insert(
            item,
            json!({
                "parameters": path_params,
                "get": {
                    "operationId": format!("read{}", r.kind),
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                },
                "patch": {
                    "operationId": format!("patch{}", r.kind),
                    "parameters": [
                        param("dryRun", "string"),
                        param("fieldManager", "string"),
                        param("fieldValidation", "string"),
                        param("force", "boolean"),
                    ],
                    "requestBody": {"content": content, "required": true},
                    "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                },
            }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version_info.git_version()},
        "paths": paths,
        "components": {"schemas": components(registry, version_info, group, version)},
    })
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A bundle definition as an OpenAPI component: `$ref`s into `#/components/schemas`
/// (wrapped in `allOf` when they carry siblings, as Kubernetes writes them), nullable type
/// lists back to one type. The `x-kubernetes-*` merge metadata stays, so clients compute
/// patches from it as they would from a real server's.
fn to_component(node: &Json, refs: &mut Vec<String>) -> Json {
    match node {
        Json::Object(m) => {
            let mut out = Map::default();
            let mut target = None;
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Json::String(r)) => {
                        let name = r.strip_prefix("#/$defs/").unwrap_or(r).to_string();
                        refs.push(name.clone());
                        target = Some(format!("#/components/schemas/{name}"));
                    }
                    ("type", Json::Array(types)) => {
                        if let Some(t) = types.iter().find(|t| *t != "null") {
                            out.insert("type".into(), t.clone());
                        }
                    }
                    _ => {
                        out.insert(k.clone(), to_component(v, refs));
                    }
                }
            }
            match target {
                Some(r) if out.is_empty() => json!({"$ref": r}),
                Some(r) => {
                    out.insert("allOf".into(), json!([{"$ref": r}]));
                    Json::Object(out)
                }
                None => Json::Object(out),
            }
        }
        Json::Array(items) => Json::Array(items.iter().map(|i| to_component(i, refs)).collect()),
        other => other.clone(),
    }
}

/// The component name Kubernetes gives a custom resource: reversed group, version, kind.
fn crd_component_name(r: &Resource) -> String {
    let mut parts: Vec<&str> = r.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), r.version, r.kind)
}

/// Complete component schemas for a group/version: every served kind's definition and what
/// it refers to, and custom resources' schemas from their CRDs.
fn components(
    registry: &Registry,
    v: &KubeVersion,
    group: &str,
    version: &str,
) -> Map<String, Json> {
    let schemas = crate::k8s::Schemas::for_version(v).ok();
    let mut out = Map::default();
    let mut queue: Vec<String> = Vec::new();
    for r in registry.resources_of(group, version) {
        match &r.custom {
            Some(custom) => {
                let mut schema = custom
                    .schema
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object"}));
                let mut refs = Vec::new();
                schema = to_component(&schema, &mut refs);
                schema["type"] = json!("object");
                if !schema["properties"].is_object() {
                    schema["properties"] = json!({});
                }
                schema["properties"]["apiVersion"] = json!({"type": "string"});
                schema["properties"]["kind"] = json!({"type": "string"});
                schema["properties"]["metadata"] =
                    json!({"allOf": [{"$ref": format!("#/components/schemas/{OBJECT_META}")}]});
                schema["x-kubernetes-group-version-kind"] =
                    json!([{"group": r.group, "version": r.version, "kind": r.kind}]);
                out.insert(crd_component_name(r), schema);
                queue.push(OBJECT_META.to_string());
            }
            None => {
                if let Some(name) =
                    schemas.and_then(|s| s.definition_name(&r.api_version(), &r.kind))
                {
                    queue.push(name.to_string());
                }
            }
        }
    }
    let Some(schemas) = schemas else {
        return out;
    };
    while let Some(name) = queue.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Ok(Some(def)) = schemas.definition(&name) else {
            continue;
        };
        let mut refs = Vec::new();
        out.insert(name, to_component(&def, &mut refs));
        queue.extend(refs);
    }
    out
}

fn hash(doc: &[u8]) -> String {
    let digest = sha2::Sha512::digest(doc);
    digest.iter().take(32).map(|b| format!("{b:02X}")).collect()
}

/// Documents already built, per group/version, for one registry (a CRD change makes a new
/// registry, and so new documents and hashes).
#[derive(Default)]
pub struct OpenApiCache {
    docs: std::sync::Mutex<std::collections::HashMap<String, (usize, Bytes, String)>>,
}

fn doc_bytes(
    registry: &std::sync::Arc<Registry>,
    cache: &OpenApiCache,
    v: &KubeVersion,
    group: &str,
    version: &str,
) -> (Bytes, String) {
    let key = format!("{group}/{version}");
    let id = std::sync::Arc::as_ptr(registry) as usize;
    if let Some((rid, bytes, h)) = cache
        .docs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        && *rid == id
    {
        return (bytes.clone(), h.clone());
    }
    let bytes = Bytes::from(
        serde_json::to_vec(&openapi_doc(registry, v, group, version)).unwrap_or_default(),
    );
    let h = hash(&bytes);
    cache
        .docs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, (id, bytes.clone(), h.clone()));
    (bytes, h)
}

/// `/openapi/v3`: one entry per group/version, with a content hash in the URL.
pub fn openapi_index(
    registry: &std::sync::Arc<Registry>,
    cache: &OpenApiCache,
    v: &KubeVersion,
) -> Reply {
    let mut paths = Map::default();
    for g in registry.groups() {
        for version in &g.versions {
            let path = openapi_path(&g.name, version);
            let (_, h) = doc_bytes(registry, cache, v, &g.name, version);
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={h}")}),
            );
        }
    }
    Reply::ok(&json!({"paths": paths}))
}

/// `/openapi/v3/<path>`.
pub fn openapi_document(
    registry: &std::sync::Arc<Registry>,
    cache: &OpenApiCache,
    v: &KubeVersion,
    path: &str,
) -> Reply {
    let (group, version) = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["api", version] => (String::new(), version.to_string()),
        ["apis", group, version] => (group.to_string(), version.to_string()),
        _ => return ApiError::no_route().into(),
    };
    if !registry.serves(&group, &version) {
        return ApiError::no_route().into();
    }
    Reply::Json(
        200,
        doc_bytes(registry, cache, v, &group, &version).0,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_accept_headers() {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(wants_aggregated(accept), Some("v2"));
        assert_eq!(wants_aggregated("application/json, */*"), None);
        assert_eq!(
            wants_aggregated(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some("v2beta1")
        );
    }

    #[test]
    fn openapi_documents_tag_patch_operations() {
        let v = KubeVersion::default();
        let registry = Registry::builtin(&v);
        let doc = openapi_doc(&registry, &v, "apps", "v1");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "fieldValidation"))
        );
        let doc = openapi_doc(&registry, &v, "", "v1");
        assert!(doc["paths"].get("/api/v1/namespaces/{name}").is_some());
    }
}
