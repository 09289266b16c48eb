//! Resource requests: create, get, list, replace, patch, delete (with finalizers, garbage
//! collection and namespace termination), the status and scale subresources, and CRDs.

use super::fieldcheck::{self, Mode};
use super::meta::{self, meta_str};
use super::patch::{smp, ssa};
use super::resources::Resource;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiError, cause, success_status};
use super::store::{Key, Object, Txn};
use super::{CRD_STORAGE, Shared, defaults, present, protobuf, route::ResourcePath, watch};
use crate::k8s::schema::SchemaNode;
use bytes::Bytes;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// Anything else.
    Other,
}

/// A request as handlers see it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Query parameters.
    pub query: HashMap<String, String>,
    /// `Accept` header.
    pub accept: String,
    /// `Content-Type` header.
    pub content_type: String,
    /// Body.
    pub body: Bytes,
    /// `User-Agent` header (names the field manager when `fieldManager` is absent).
    pub user_agent: String,
}

/// What a handler answers.
pub enum Reply {
    /// A JSON body with a status code, optional `Warning` headers.
    Json(u16, Bytes, Vec<String>),
    /// A JSON body with a special media type (aggregated discovery).
    Typed(u16, Bytes, String),
    /// A stream of newline-separated JSON events.
    Stream(tokio::sync::mpsc::Receiver<Bytes>),
    /// Plain text.
    Text(u16, String),
}

impl Reply {
    /// 200 with a JSON value.
    pub fn ok(v: &Json) -> Reply {
        Reply::Json(
            200,
            Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            vec![],
        )
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply::Json(
            e.code,
            Bytes::from(serde_json::to_vec(&e.to_status()).unwrap_or_default()),
            vec![],
        )
    }
}

fn media(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// The request body as JSON, from JSON, YAML or protobuf.
pub fn parse_body(req: &Request) -> Result<Json, ApiError> {
    match media(&req.content_type) {
        "" | "application/json" | "*/*" => serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("the body of the request was not valid JSON: {e}"))
        }),
        "application/yaml" => {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::bad_request("the YAML body is not UTF-8"))?;
            let value = crate::value::yaml::from_str(text, crate::value::yaml::Flavor::Yaml11)
                .map_err(|e| ApiError::bad_request(format!("the YAML body is invalid: {e}")))?;
            Ok(value.to_json_for_validation())
        }
        "application/vnd.kubernetes.protobuf" => protobuf::decode(&req.body).map_err(|e| {
            if e.0.contains("not supported") {
                ApiError::unsupported_media_type(&format!(
                    "application/vnd.kubernetes.protobuf ({})",
                    e.0
                ))
            } else {
                ApiError::bad_request(e.to_string())
            }
        }),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

fn object_reply(code: u16, obj: &Object, res: &Resource) -> Reply {
    Reply::Json(code, present(obj, res), vec![])
}

fn warned_reply(code: u16, obj: &Object, res: &Resource, warnings: Vec<String>) -> Reply {
    Reply::Json(code, present(obj, res), warnings)
}

fn field_mode(req: &Request) -> Result<Mode, ApiError> {
    Mode::parse(req.query.get("fieldValidation").map(String::as_str))
}

/// The schema writes are merged and tracked with: the bundle's for built-ins, the CRD's
/// for custom resources.
fn schema_for(shared: &Shared, res: &Resource) -> Option<SchemaNode> {
    match &res.custom {
        Some(custom) => custom.schema.clone().map(SchemaNode::standalone),
        None => {
            let schemas = crate::k8s::Schemas::for_version(&shared.kube_version).ok()?;
            SchemaNode::root(schemas, &res.api_version(), &res.kind)
        }
    }
}

/// Who writes: `fieldManager`, else the User-Agent's program name (as the real server).
fn writer_of(req: &Request, res: &Resource, sub: Option<&str>) -> Result<ssa::Writer, ApiError> {
    let manager = match req.query.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => m.clone(),
        None => req
            .user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string(),
    };
    if manager.len() > 128 {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            vec![cause(
                "FieldValueTooLong",
                "fieldManager",
                "Too long: may not be more than 128 bytes",
            )],
        ));
    }
    Ok(ssa::Writer {
        manager,
        api_version: res.api_version(),
        subresource: sub.map(str::to_string),
    })
}

/// Checks a custom resource against its CRD version's schema (types, required fields,
/// enums, bounds…), worded like the real server's 422.
fn validate_custom(res: &Resource, obj: &Json) -> Result<(), ApiError> {
    let Some(schema) = res.custom.as_ref().and_then(|c| c.schema.as_ref()) else {
        return Ok(());
    };
    let Ok(validator) = jsonschema::validator_for(&crate::k8s::crd::json_schema(schema)) else {
        return Ok(());
    };
    let causes: Vec<_> = validator
        .iter_errors(obj)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_string();
            let field = crate::k8s::crd::field_path(&pointer);
            let value = obj.pointer(&pointer).cloned().unwrap_or(Json::Null);
            cause(
                "FieldValueInvalid",
                &field,
                format!("Invalid value: {value}: {field} in body: {e}"),
            )
        })
        .collect();
    if causes.is_empty() {
        return Ok(());
    }
    let group_kind = format!("{}.{}", res.kind, res.group);
    Err(ApiError::invalid(
        "",
        &group_kind,
        meta_str(obj, "name").unwrap_or_default(),
        causes,
    ))
}

/// Whether `dryRun=All` was asked for.
fn dry_run(req: &Request) -> bool {
    req.query.get("dryRun").is_some_and(|v| v == "All")
}

fn namespace_key(ns: &str) -> Key {
    Key::new("/namespaces", "", ns)
}

/// Checks that a namespace exists and accepts new content.
fn check_namespace(txn: &Txn<'_>, ns: &str, res: &Resource, name: &str) -> Result<(), ApiError> {
    match txn.get(&namespace_key(ns)) {
        None => Err(ApiError::not_found("", "namespaces", ns)),
        Some(n) if n.value()["metadata"].get("deletionTimestamp").is_some() => {
            Err(ApiError::forbidden(
                &res.group,
                &res.plural,
                name,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Routes a resource request.
pub async fn resource(shared: Arc<Shared>, req: Request, path: ResourcePath) -> Reply {
    match resource_inner(shared, req, path).await {
        Ok(reply) => reply,
        Err(e) => e.into(),
    }
}

async fn resource_inner(
    shared: Arc<Shared>,
    req: Request,
    path: ResourcePath,
) -> Result<Reply, ApiError> {
    let registry = shared.registry();
    let res = registry
        .get(&path.group, &path.version, &path.plural)
        .cloned()
        .ok_or_else(ApiError::no_route)?;
    if path.namespace.is_some() && !res.namespaced {
        return Err(ApiError::no_route());
    }
    let ns = path.namespace.clone();
    if res.namespaced && ns.is_none() && (path.name.is_some() || req.method != Method::Get) {
        return Err(ApiError::no_route());
    }
    if let Some(sub) = &path.subresource
        && res.subresource(sub).is_none()
    {
        return Err(ApiError::no_route());
    }
    let watching = path.watch_prefix
        || req
            .query
            .get("watch")
            .is_some_and(|v| v == "true" || v == "1");
    let sub = path.subresource.as_deref();
    let verb_check = |verb: &str| {
        if res.allows(verb) || path.subresource.is_some() {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({verb} {})",
                res.plural
            )))
        }
    };
    let ns_str = ns.as_deref().unwrap_or_default();
    match (req.method, path.name.as_deref(), sub) {
        (Method::Get, None, _) if watching => {
            verb_check("watch")?;
            watch::watch(shared, &req, res, ns)
        }
        (Method::Get, None, _) => {
            verb_check("list")?;
            list(&shared, &req, &res, ns.as_deref())
        }
        (Method::Get, Some(name), None | Some("status")) => {
            verb_check("get")?;
            let key = Key::new(&res.storage_key(), ns_str, name);
            let state = shared.store.read();
            let obj = state
                .get(&key)
                .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
            Ok(object_reply(200, obj, &res))
        }
        (Method::Get, Some(name), Some("log")) => {
            // Simulated pods run no containers: their logs exist and are empty.
            let key = Key::new(&res.storage_key(), ns_str, name);
            if shared.store.read().get(&key).is_none() {
                return Err(ApiError::not_found(&res.group, &res.plural, name));
            }
            Ok(Reply::Text(200, String::new()))
        }
        (Method::Get, Some(name), Some("scale")) => {
            let key = Key::new(&res.storage_key(), ns_str, name);
            let state = shared.store.read();
            let obj = state
                .get(&key)
                .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
            Ok(Reply::ok(&scale_of(&res, &obj.value())))
        }
        (Method::Post, None, None) => {
            verb_check("create")?;
            create(&shared, &req, res, ns).await
        }
        (Method::Put, Some(name), None | Some("status") | Some("finalize")) => {
            verb_check("update")?;
            let body = parse_body(&req)?;
            update(
                &shared,
                &req,
                res,
                ns,
                name.to_string(),
                body,
                sub.map(str::to_string),
            )
            .await
        }
        (Method::Put | Method::Patch, Some(name), Some("scale")) => {
            scale(&shared, &req, res, ns, name.to_string()).await
        }
        (Method::Patch, Some(name), None | Some("status")) => {
            verb_check("patch")?;
            patch(
                &shared,
                &req,
                res,
                ns,
                name.to_string(),
                sub.map(str::to_string),
            )
            .await
        }
        (Method::Delete, Some(name), None) => {
            verb_check("delete")?;
            delete(&shared, &req, res, ns, name.to_string()).await
        }
        (Method::Delete, None, None) => {
            verb_check("deletecollection")?;
            delete_collection(&shared, &req, res, ns).await
        }
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// The position a continue token encodes: the last key returned.
fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let raw = serde_json::to_vec(&json!({"rv": rv, "ns": ns, "name": name})).unwrap_or_default();
    crate::funcs::encoding::base64_encode(&raw)
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: malformed token");
    let raw = crate::funcs::encoding::base64_decode(token.as_bytes()).map_err(|_| bad())?;
    let v: Json = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok((
        v["rv"].as_u64().ok_or_else(bad)?,
        v["ns"].as_str().ok_or_else(bad)?.to_string(),
        v["name"].as_str().ok_or_else(bad)?.to_string(),
    ))
}

/// Whether an object passes both selectors (parsing it only for unusual field selectors).
pub fn selected(labels: &LabelSelector, fields: &FieldSelector, key: &Key, obj: &Object) -> bool {
    if !labels.matches_with(|k| obj.label(k)) {
        return false;
    }
    if fields.needs_object() {
        fields.matches(&obj.value())
    } else {
        fields.matches_name(&key.namespace, &key.name)
    }
}

/// Parses `labelSelector` and `fieldSelector`.
pub fn selectors(
    req: &Request,
    res: &Resource,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(req.query.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(
        req.query.get("fieldSelector").map_or("", String::as_str),
        &res.plural,
    )?;
    Ok((labels, fields))
}

fn list(
    shared: &Shared,
    req: &Request,
    res: &Resource,
    ns: Option<&str>,
) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req, res)?;
    let limit: usize = match req.query.get("limit").map(String::as_str) {
        None | Some("") | Some("0") => usize::MAX,
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?,
    };
    let after = match req.query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (_, cns, cname) = decode_continue(token)?;
            Some((cns, cname))
        }
        None => None,
    };
    let state = shared.store.read();
    let rv = state.rv();
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(b"{\"kind\":");
    body.extend_from_slice(&serde_json::to_vec(&res.list_kind).unwrap_or_default());
    body.extend_from_slice(b",\"apiVersion\":");
    body.extend_from_slice(&serde_json::to_vec(&res.api_version()).unwrap_or_default());
    let mut items = Vec::with_capacity(1024);
    let mut count = 0usize;
    let mut last: Option<(String, String)> = None;
    let mut more = false;
    let storage = res.storage_key();
    for ((ons, oname), obj) in state.range(&storage, ns, after) {
        if let Some(pinned) = fields.pinned_name()
            && pinned != oname
        {
            continue;
        }
        if !selected(&labels, &fields, &Key::new(&storage, ons, oname), obj) {
            continue;
        }
        if count == limit {
            more = true;
            break;
        }
        if count > 0 {
            items.push(b',');
        }
        items.extend_from_slice(&present(obj, res));
        count += 1;
        last = Some((ons.clone(), oname.clone()));
    }
    drop(state);
    body.extend_from_slice(b",\"metadata\":{\"resourceVersion\":\"");
    body.extend_from_slice(rv.to_string().as_bytes());
    body.push(b'"');
    if more && let Some((lns, lname)) = last {
        body.extend_from_slice(b",\"continue\":\"");
        body.extend_from_slice(encode_continue(rv, &lns, &lname).as_bytes());
        body.push(b'"');
    }
    body.extend_from_slice(b"},\"items\":[");
    body.extend_from_slice(&items);
    body.extend_from_slice(b"]}");
    Ok(Reply::Json(200, Bytes::from(body), vec![]))
}

/// Fills in what CRDs get from the server: accepted names and conditions.
fn crd_status(obj: &mut Json) -> Result<(), ApiError> {
    let name = meta_str(obj, "name").unwrap_or_default().to_string();
    let spec = &obj["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default();
    let mut causes = Vec::new();
    if group.is_empty() {
        causes.push(cause("FieldValueRequired", "spec.group", "Required value"));
    }
    if plural.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.names.plural",
            "Required value",
        ));
    }
    if kind.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.names.kind",
            "Required value",
        ));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(cause(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    if versions.is_empty() {
        causes.push(cause(
            "FieldValueRequired",
            "spec.versions",
            "Required value: must have exactly one version marked as storage version",
        ));
    }
    let storage: Vec<&Json> = versions
        .iter()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .collect();
    if !versions.is_empty() && storage.len() != 1 {
        causes.push(cause(
            "FieldValueInvalid",
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version",
        ));
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            &name,
            causes,
        ));
    }
    let mut accepted = spec["names"].clone();
    accepted["singular"] = json!(
        spec["names"]["singular"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase())
    );
    accepted["listKind"] = json!(
        spec["names"]["listKind"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{kind}List"))
    );
    let stored = storage
        .first()
        .and_then(|v| v["name"].as_str())
        .unwrap_or_default();
    let now = meta::now();
    let mut stored_versions: Vec<Json> = obj["status"]["storedVersions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !stored_versions.iter().any(|v| v == stored) {
        stored_versions.push(json!(stored));
    }
    obj["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}
        ],
        "acceptedNames": accepted,
        "storedVersions": stored_versions,
    });
    Ok(())
}

/// Gives a Service its cluster IP (unless headless or ExternalName) and node ports.
fn allocate_cluster_ip(obj: &mut Json, seq: u64) {
    let spec = &mut obj["spec"];
    if spec["type"] == "ExternalName" {
        return;
    }
    if (spec["type"] == "NodePort" || spec["type"] == "LoadBalancer")
        && let Some(ports) = spec["ports"].as_array_mut()
    {
        for (i, p) in ports.iter_mut().enumerate() {
            if p.get("nodePort").is_none_or(|n| n.is_null() || n == 0) {
                p["nodePort"] = json!(30000 + (seq * 7 + i as u64) % 2768);
            }
        }
    }
    let ip = spec["clusterIP"].as_str().unwrap_or_default();
    if ip.is_empty() {
        let n = seq % 65_000 + 10;
        let ip = format!("10.96.{}.{}", n / 256, n % 256);
        spec["clusterIP"] = json!(ip);
        spec["clusterIPs"] = json!([ip]);
    } else if spec.get("clusterIPs").is_none() {
        spec["clusterIPs"] = json!([ip]);
    }
}

/// Kind-specific work on a new or replaced object, inside the transaction.
fn kind_hooks(
    txn: &Txn<'_>,
    res: &Resource,
    obj: &mut Json,
    old: Option<&Json>,
) -> Result<(), ApiError> {
    match (res.group.as_str(), res.plural.as_str()) {
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            if let Some(old) = old {
                obj["status"]["storedVersions"] = old["status"]["storedVersions"].clone();
            }
            crd_status(obj)
        }
        ("", "services") => {
            if let Some(old) = old {
                for f in ["clusterIP", "clusterIPs"] {
                    if obj["spec"].get(f).is_none_or(|v| v.is_null() || v == "")
                        && let Some(v) = old["spec"].get(f)
                    {
                        obj["spec"][f] = v.clone();
                    }
                }
            }
            allocate_cluster_ip(obj, txn.next_rv());
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn create(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
) -> Result<Reply, ApiError> {
    let mut obj = parse_body(req)?;
    let schema = schema_for(shared, &res);
    let mut warnings =
        fieldcheck::check_duplicates(&req.body, &req.content_type, field_mode(req)?)?;
    warnings.extend(fieldcheck::check(
        &mut obj,
        schema.as_ref(),
        field_mode(req)?,
        &res,
        false,
    )?);
    let name = meta::prepare_create(&res, &mut obj, ns.as_deref())?;
    defaults::apply(&res, &mut obj);
    let writer = writer_of(req, &res, None)?;
    ssa::track_update(None, &mut obj, schema.as_ref(), &writer);
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let op = move |txn: &mut Txn<'_>| {
        if let Some(ns) = &ns {
            check_namespace(txn, ns, &res2, &name)?;
        }
        if txn.get(&key).is_some() {
            return Err(ApiError::already_exists(&res2.group, &res2.plural, &name));
        }
        kind_hooks(txn, &res2, &mut obj, None)?;
        validate_custom(&res2, &obj)?;
        txn.put(&key, obj)
    };
    let stored = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(warned_reply(201, &stored, &res, warnings))
}

/// Replaces `old` with `new` (a PUT, or the result of a patch) inside a transaction.
fn replace_in(
    txn: &mut Txn<'_>,
    res: &Resource,
    key: &Key,
    mut new: Json,
    sub: Option<&str>,
    tracking: Option<(&ssa::Writer, Option<&SchemaNode>)>,
) -> Result<Arc<Object>, ApiError> {
    let name = key.name.as_str();
    let old = txn
        .get(key)
        .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
    if let Some(rv) = meta_str(&new, "resourceVersion").filter(|s| !s.is_empty())
        && rv != old.rv.to_string()
    {
        return Err(ApiError::stale(&res.group, &res.plural, name));
    }
    match meta_str(&new, "name") {
        Some(n) if !n.is_empty() && n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        _ => {
            meta::metadata(&mut new)?.insert("name".into(), json!(name));
        }
    }
    if res.namespaced {
        match meta_str(&new, "namespace") {
            Some(n) if !n.is_empty() && n != key.namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
    }
    let old_value = old.value();
    let mut new = match sub {
        Some("status") => {
            let kind = res.kind.clone();
            meta::check_type(res, &mut new, &kind)?;
            meta::status_update(&old_value, &new)
        }
        Some("finalize") => {
            let mut out = old_value.clone();
            out["spec"]["finalizers"] = new["spec"]["finalizers"].clone();
            out
        }
        _ => {
            meta::prepare_update(res, &mut new, &old_value)?;
            defaults::apply(res, &mut new);
            kind_hooks(txn, res, &mut new, Some(&old_value))?;
            new
        }
    };
    if old_value["metadata"].get("deletionTimestamp").is_some() {
        let finalizers_left = new["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if !finalizers_left {
            // The last finalizer is gone: the object goes now.
            meta::metadata(&mut new)?.remove("finalizers");
            let gone = remove(txn, res, key, Propagation::Background)?;
            return Ok(gone.unwrap_or(old));
        }
    }
    if let Some((writer, schema)) = tracking {
        ssa::track_update(Some(&old_value), &mut new, schema, writer);
    }
    if meta::same_content(&new, &old_value) {
        return Ok(old);
    }
    validate_custom(res, &new)?;
    txn.put(key, new)
}

async fn update(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
    name: String,
    body: Json,
    sub: Option<String>,
) -> Result<Reply, ApiError> {
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let writer = writer_of(req, &res, sub.as_deref())?;
    let schema = schema_for(shared, &res);
    let mode = field_mode(req)?;
    let mut body = body;
    let mut warnings = fieldcheck::check_duplicates(&req.body, &req.content_type, mode)?;
    warnings.extend(fieldcheck::check(
        &mut body,
        schema.as_ref(),
        mode,
        &res,
        false,
    )?);
    let op = move |txn: &mut Txn<'_>| {
        replace_in(
            txn,
            &res2,
            &key,
            body,
            sub.as_deref(),
            Some((&writer, schema.as_ref())),
        )
    };
    let stored = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(warned_reply(200, &stored, &res, warnings))
}

/// Applies a JSON merge patch, JSON patch or strategic merge patch to an object.
pub fn apply_patch(
    content_type: &str,
    target: &mut Json,
    body: &[u8],
    res: &Resource,
    schema: Option<&SchemaNode>,
) -> Result<(), ApiError> {
    match media(content_type) {
        "application/strategic-merge-patch+json" if res.custom.is_none() => {
            let patch: Json = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
            smp::apply(target, &patch, schema).map_err(|e| {
                ApiError::invalid(
                    &res.group,
                    &res.kind,
                    meta_str(target, "name").unwrap_or_default(),
                    vec![cause("FieldValueInvalid", "", e.0)],
                )
            })
        }
        "application/merge-patch+json" => {
            let patch: Json = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
            json_patch::merge(target, &patch);
            Ok(())
        }
        "application/json-patch+json" => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the JSON patch is invalid: {e}")))?;
            json_patch::patch(target, &patch).map_err(|e| {
                ApiError::invalid(
                    &res.group,
                    &res.kind,
                    meta_str(target, "name").unwrap_or_default(),
                    vec![cause("FieldValueInvalid", "", e.to_string())],
                )
            })
        }
        "application/strategic-merge-patch+json" if res.custom.is_some() => Err(
            ApiError::unsupported_media_type(content_type).with_message(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (strategic merge patch is not supported for custom resources such as {})",
                res.kind
            )),
        ),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

async fn patch(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
    name: String,
    sub: Option<String>,
) -> Result<Reply, ApiError> {
    let is_apply = media(&req.content_type) == "application/apply-patch+yaml";
    let force = match req.query.get("force").map(String::as_str) {
        None | Some("") | Some("false") => false,
        Some("true") if is_apply => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![cause(
                    "FieldValueForbidden",
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                )],
            ));
        }
    };
    if is_apply && req.query.get("fieldManager").is_none_or(|m| m.is_empty()) {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            vec![cause(
                "FieldValueRequired",
                "fieldManager",
                "Required value: is required for apply patch",
            )],
        ));
    }
    let writer = writer_of(req, &res, sub.as_deref())?;
    let schema = schema_for(shared, &res);
    if is_apply {
        return apply(shared, req, res, ns, name, sub, writer, schema, force).await;
    }
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let content_type = req.content_type.clone();
    let body = req.body.clone();
    let mode = field_mode(req)?;
    let op = move |txn: &mut Txn<'_>| {
        let old = txn
            .get(&key)
            .ok_or_else(|| ApiError::not_found(&res2.group, &res2.plural, &name))?;
        // The stored resourceVersion stays in the target: a patch that changes it is a
        // precondition the result is checked against.
        let mut target = old.value();
        apply_patch(&content_type, &mut target, &body, &res2, schema.as_ref())?;
        let warnings = fieldcheck::check(&mut target, schema.as_ref(), mode, &res2, true)?;
        let stored = replace_in(
            txn,
            &res2,
            &key,
            target,
            sub.as_deref(),
            Some((&writer, schema.as_ref())),
        )?;
        Ok((stored, warnings))
    };
    let (stored, warnings) = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(warned_reply(200, &stored, &res, warnings))
}

/// Server-side apply: creates the object when absent (201), else merges the configuration
/// into it with field ownership.
#[allow(clippy::too_many_arguments)]
async fn apply(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
    name: String,
    sub: Option<String>,
    writer: ssa::Writer,
    schema: Option<SchemaNode>,
    force: bool,
) -> Result<Reply, ApiError> {
    let text = std::str::from_utf8(&req.body)
        .map_err(|_| ApiError::bad_request("the apply body is not UTF-8"))?;
    let mut applied = crate::value::yaml::from_str(text, crate::value::yaml::Flavor::Yaml11)
        .map_err(|e| {
            ApiError::bad_request(format!("the apply body is not valid YAML or JSON: {e}"))
        })?
        .to_json_for_validation();
    if !applied.is_object() {
        return Err(ApiError::bad_request("the apply body must be an object"));
    }
    for field in ["apiVersion", "kind"] {
        if applied
            .get(field)
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ApiError::bad_request(format!(
                "{field} must be set in an apply configuration"
            )));
        }
    }
    let kind = res.kind.clone();
    meta::check_type(&res, &mut applied, &kind)?;
    match meta_str(&applied, "name") {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        _ => {
            meta::metadata(&mut applied)?.insert("name".into(), json!(name));
        }
    }
    if res.has_status()
        && sub.is_none()
        && let Some(m) = applied.as_object_mut()
    {
        m.remove("status");
    }
    let warnings = fieldcheck::check(&mut applied, schema.as_ref(), field_mode(req)?, &res, true)?;
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let op = move |txn: &mut Txn<'_>| {
        let who = (res2.group.as_str(), res2.plural.as_str(), name.as_str());
        match txn.get(&key) {
            None => {
                if sub.is_some() {
                    return Err(ApiError::not_found(&res2.group, &res2.plural, &name));
                }
                let mut obj = ssa::apply(None, &applied, schema.as_ref(), &writer, force, who)?;
                meta::prepare_create(&res2, &mut obj, ns.as_deref())?;
                defaults::apply(&res2, &mut obj);
                if let Some(ns) = &ns {
                    check_namespace(txn, ns, &res2, &name)?;
                }
                kind_hooks(txn, &res2, &mut obj, None)?;
                validate_custom(&res2, &obj)?;
                Ok((txn.put(&key, obj)?, 201))
            }
            Some(live) => {
                let merged = ssa::apply(
                    Some(&live.value()),
                    &applied,
                    schema.as_ref(),
                    &writer,
                    force,
                    who,
                )?;
                Ok((
                    replace_in(txn, &res2, &key, merged, sub.as_deref(), None)?,
                    200,
                ))
            }
        }
    };
    let (stored, code) = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(warned_reply(code, &stored, &res, warnings))
}

/// How dependents are treated when their owner goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now, dependents after it.
    Background,
    /// Delete dependents first, then the owner.
    Foreground,
    /// Keep dependents, without the owner reference.
    Orphan,
}

fn propagation(opts: &Json, req: &Request) -> Result<Propagation, ApiError> {
    let policy = opts["propagationPolicy"]
        .as_str()
        .map(str::to_string)
        .or_else(|| req.query.get("propagationPolicy").cloned());
    match policy.as_deref() {
        None | Some("") | Some("Background") => {
            if opts["orphanDependents"].as_bool() == Some(true) {
                Ok(Propagation::Orphan)
            } else {
                Ok(Propagation::Background)
            }
        }
        Some("Foreground") => Ok(Propagation::Foreground),
        Some("Orphan") => Ok(Propagation::Orphan),
        Some(other) => Err(ApiError::bad_request(format!(
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
        ))),
    }
}

/// Deletes an object now (it has no finalizers left), its dependents per `propagation`,
/// and its namespace when that was terminating and is now empty.
fn remove(
    txn: &mut Txn<'_>,
    res: &Resource,
    key: &Key,
    propagation: Propagation,
) -> Result<Option<Arc<Object>>, ApiError> {
    let Some(obj) = txn.get(key) else {
        return Ok(None);
    };
    let uid = meta_str(&obj.value(), "uid")
        .unwrap_or_default()
        .to_string();
    if key.storage == CRD_STORAGE {
        // Custom resources go with their definition.
        let crd = obj.value();
        let group = crd["spec"]["group"].as_str().unwrap_or_default();
        let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
        let storage = format!("{group}/{plural}");
        for (k, _) in txn.list(&storage, None) {
            txn.delete(&k)?;
        }
    }
    if res.plural == "namespaces" && res.group.is_empty() {
        for storage in txn.storages() {
            for (k, _) in txn.list(&storage, Some(&key.name)) {
                delete_or_mark(txn, &k, Propagation::Background)?;
            }
        }
        if !txn
            .storages()
            .iter()
            .all(|s| txn.list(s, Some(&key.name)).is_empty())
        {
            // Objects with finalizers remain: the namespace stays terminating.
            let mut value = obj.value();
            value["status"]["phase"] = json!("Terminating");
            if value["metadata"].get("deletionTimestamp").is_none() {
                value["metadata"]["deletionTimestamp"] = json!(meta::now());
            }
            return txn.put(key, value).map(Some);
        }
    }
    if propagation == Propagation::Foreground {
        collect_dependents(txn, &uid, Propagation::Background)?;
    }
    let gone = txn.delete(key)?;
    match propagation {
        Propagation::Background => collect_dependents(txn, &uid, Propagation::Background)?,
        Propagation::Orphan => collect_dependents(txn, &uid, Propagation::Orphan)?,
        Propagation::Foreground => {}
    }
    if !key.namespace.is_empty() {
        finish_namespace(txn, &key.namespace)?;
    }
    Ok(gone)
}

/// Deletes an object, or marks it for deletion when finalizers hold it.
fn delete_or_mark(txn: &mut Txn<'_>, key: &Key, propagation: Propagation) -> Result<(), ApiError> {
    let Some(obj) = txn.get(key) else {
        return Ok(());
    };
    let has_finalizers = obj.value()["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if obj.value()["metadata"].get("deletionTimestamp").is_none() {
            let mut value = obj.value();
            value["metadata"]["deletionTimestamp"] = json!(meta::now());
            value["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            txn.put(key, value)?;
        }
        return Ok(());
    }
    let Some(gone) = txn.delete(key)? else {
        return Ok(());
    };
    let uid = meta_str(&gone.value(), "uid")
        .unwrap_or_default()
        .to_string();
    collect_dependents(txn, &uid, propagation)
}

/// Garbage collection: objects whose owner references name `uid` are deleted (or orphaned).
fn collect_dependents(
    txn: &mut Txn<'_>,
    uid: &str,
    propagation: Propagation,
) -> Result<(), ApiError> {
    if uid.is_empty() {
        return Ok(());
    }
    let mut dependents = Vec::new();
    for storage in txn.storages() {
        for (k, obj) in txn.list(&storage, None) {
            if obj.owners.iter().any(|o| &**o == uid) {
                dependents.push((k, obj));
            }
        }
    }
    for (k, obj) in dependents {
        match propagation {
            Propagation::Orphan => {
                let mut value = obj.value();
                if let Some(refs) = value["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != uid);
                    if refs.is_empty() {
                        value["metadata"]
                            .as_object_mut()
                            .map(|m| m.remove("ownerReferences"));
                    }
                }
                txn.put(&k, value)?;
            }
            _ => delete_or_mark(txn, &k, Propagation::Background)?,
        }
    }
    Ok(())
}

/// Removes a terminating namespace once nothing is left in it.
fn finish_namespace(txn: &mut Txn<'_>, ns: &str) -> Result<(), ApiError> {
    let key = namespace_key(ns);
    let Some(namespace) = txn.get(&key) else {
        return Ok(());
    };
    if namespace.value()["metadata"]
        .get("deletionTimestamp")
        .is_none()
    {
        return Ok(());
    }
    if txn
        .storages()
        .iter()
        .all(|s| txn.list(s, Some(ns)).is_empty())
    {
        txn.delete(&key)?;
    }
    Ok(())
}

fn delete_options(req: &Request) -> Result<Json, ApiError> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    parse_body(req)
}

async fn delete(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
    name: String,
) -> Result<Reply, ApiError> {
    let opts = delete_options(req)?;
    let propagation = propagation(&opts, req)?;
    let dry = dry_run(req)
        || opts["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let op = move |txn: &mut Txn<'_>| {
        let obj = txn
            .get(&key)
            .ok_or_else(|| ApiError::not_found(&res2.group, &res2.plural, &name))?;
        let pre = &opts["preconditions"];
        if let Some(uid) = pre["uid"].as_str()
            && Some(uid) != meta_str(&obj.value(), "uid")
        {
            return Err(ApiError::conflict(
                &res2.group,
                &res2.plural,
                &name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&obj.value(), "uid").unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = pre["resourceVersion"].as_str()
            && rv != obj.rv.to_string()
        {
            return Err(ApiError::conflict(
                &res2.group,
                &res2.plural,
                &name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    obj.rv
                ),
            ));
        }
        let finalizers: Vec<Json> = obj.value()["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let is_namespace = res2.group.is_empty() && res2.plural == "namespaces";
        if !finalizers.is_empty() {
            let mut value = obj.value();
            if value["metadata"].get("deletionTimestamp").is_none() {
                value["metadata"]["deletionTimestamp"] = json!(meta::now());
                value["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            }
            let stored = txn.put(&key, value)?;
            return Ok((stored, false));
        }
        if is_namespace && obj.value()["metadata"].get("deletionTimestamp").is_some() {
            // Already terminating: nothing more to do.
            return Ok((obj, false));
        }
        let gone = remove(txn, &res2, &key, propagation)?;
        let still_there = txn.get(&key);
        match still_there {
            Some(o) => Ok((o, false)),
            None => Ok((gone.unwrap_or(obj), true)),
        }
    };
    let (stored, _gone) = if dry {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(object_reply(200, &stored, &res))
}

async fn delete_collection(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req, &res)?;
    let opts = delete_options(req)?;
    let propagation = propagation(&opts, req)?;
    let storage = res.storage_key();
    let res2 = res.clone();
    let op = move |txn: &mut Txn<'_>| {
        let mut items = Vec::new();
        for (k, obj) in txn.list(&storage, ns.as_deref()) {
            if selected(&labels, &fields, &k, &obj) {
                delete_or_mark(txn, &k, propagation)?;
                if !k.namespace.is_empty() {
                    finish_namespace(txn, &k.namespace)?;
                }
                items.push(obj.value());
            }
        }
        let _ = &res2;
        Ok(items)
    };
    let items = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    let rv = shared.store.read().rv();
    Ok(Reply::ok(&json!({
        "kind": res.list_kind,
        "apiVersion": res.api_version(),
        "metadata": {"resourceVersion": rv.to_string()},
        "items": items,
    })))
}

/// The `autoscaling/v1` Scale view of an object.
fn scale_of(res: &Resource, obj: &Json) -> Json {
    let (spec_path, status_path, selector_path) =
        match res.custom.as_ref().and_then(|c| c.scale.clone()) {
            Some(s) => (s.spec_replicas, s.status_replicas, s.label_selector),
            None => (
                ".spec.replicas".to_string(),
                ".status.replicas".to_string(),
                None,
            ),
        };
    let at = |path: &str| -> Json {
        let mut v = obj;
        for part in path.trim_start_matches('.').split('.') {
            v = &v[part];
        }
        v.clone()
    };
    let selector = match selector_path {
        Some(p) => at(&p),
        None => {
            let labels = obj["spec"]["selector"]["matchLabels"]
                .as_object()
                .or_else(|| obj["spec"]["selector"].as_object())
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            json!(labels)
        }
    };
    let m = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": at(&spec_path).as_i64().unwrap_or(0)},
        "status": {"replicas": at(&status_path).as_i64().unwrap_or(0), "selector": selector},
    })
}

async fn scale(
    shared: &Shared,
    req: &Request,
    res: Arc<Resource>,
    ns: Option<String>,
    name: String,
) -> Result<Reply, ApiError> {
    let key = Key::new(&res.storage_key(), ns.as_deref().unwrap_or_default(), &name);
    let res2 = res.clone();
    let is_patch = req.content_type.contains("patch");
    let content_type = req.content_type.clone();
    let body = if is_patch {
        Json::Null
    } else {
        parse_body(req)?
    };
    let raw = req.body.clone();
    let op = move |txn: &mut Txn<'_>| {
        let old = txn
            .get(&key)
            .ok_or_else(|| ApiError::not_found(&res2.group, &res2.plural, &name))?;
        let mut scale = scale_of(&res2, &old.value());
        if is_patch {
            scale["metadata"]
                .as_object_mut()
                .map(|m| m.remove("resourceVersion"));
            apply_patch(&content_type, &mut scale, &raw, &res2, None)?;
        } else {
            scale = body;
        }
        if let Some(rv) = meta_str(&scale, "resourceVersion").filter(|s| !s.is_empty())
            && rv != old.rv.to_string()
        {
            return Err(ApiError::stale(&res2.group, &res2.plural, &name));
        }
        let replicas = scale["spec"]["replicas"].as_i64().ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                &name,
                vec![cause(
                    "FieldValueRequired",
                    "spec.replicas",
                    "Required value",
                )],
            )
        })?;
        if replicas < 0 {
            return Err(ApiError::invalid(
                "autoscaling",
                "Scale",
                &name,
                vec![cause(
                    "FieldValueInvalid",
                    "spec.replicas",
                    format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                )],
            ));
        }
        let path = res2
            .custom
            .as_ref()
            .and_then(|c| c.scale.as_ref().map(|s| s.spec_replicas.clone()))
            .unwrap_or_else(|| ".spec.replicas".into());
        let mut new = old.value();
        let mut target = &mut new;
        let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        target[parts[parts.len() - 1]] = json!(replicas);
        if meta::same_content(&new, &old.value()) {
            return Ok(old);
        }
        if res2.tracks_generation() {
            let g = new["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            new["metadata"]["generation"] = json!(g);
        }
        txn.put(&key, new)
    };
    let stored = if dry_run(req) {
        shared.store.dry_run(op)?
    } else {
        shared.store.write(op).await?
    };
    Ok(Reply::ok(&scale_of(&res, &stored.value())))
}

/// A `Status` success answer for deletes that report one (kept for collection deletes).
pub fn deleted_status(res: &Resource, name: &str, uid: &str) -> Json {
    success_status(&res.group, &res.plural, name, uid)
}
