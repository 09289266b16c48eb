//! Install, upgrade, rollback and uninstall: chart + values + render (the template action)
//! orchestrated with release storage and the cluster client, the way Helm 4 does them —
//! server-side apply under Helm's field manager, Helm's ownership marks, records written
//! before and after so a failure is recorded and never loses the previous revision.

use super::template::{TemplateError, TemplateRequest, TemplateResult, render_loaded};
use crate::chart::{self, Chart};
use crate::cluster::{Cluster, ClusterError};
use crate::manifest::{self, Manifest};
use crate::release::storage::{Storage, StorageError};
use crate::release::{self, Info, Release, status};
use crate::value::{Map, Value};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::Read;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// Loading, values or rendering failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// Loading the chart failed.
    #[error(transparent)]
    Load(#[from] chart::LoadError),
    /// Release storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The cluster refused or failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Anything the user must fix (name in use, no such release, ownership…).
    #[error("{0}")]
    User(String),
    /// The operation failed after its record was written; the record says so.
    #[error("{0}")]
    Failed(String),
}

fn user(msg: impl Into<String>) -> LifecycleError {
    LifecycleError::User(msg.into())
}

/// Settings shared by install, upgrade and rollback.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `--field-manager` (Helm's `helm` by default, so helm and pack can alternate).
    pub field_manager: String,
    /// `--force-conflicts`.
    pub force_conflicts: bool,
    /// `--take-ownership`.
    pub take_ownership: bool,
    /// `--description`.
    pub description: Option<String>,
    /// `--no-hooks`.
    pub no_hooks: bool,
    /// `--timeout` for hooks and waiting.
    pub timeout: std::time::Duration,
    /// `--wait`: the release's resources must become ready.
    pub wait: bool,
    /// `--wait=legacy`: Helm 3's readiness rules, polled.
    pub wait_legacy: bool,
    /// `--wait-for-jobs`: Jobs must complete, not merely start.
    pub wait_for_jobs: bool,
    /// `--rollback-on-failure` (`--atomic`): a failed install is uninstalled, a failed
    /// upgrade rolled back.
    pub rollback_on_failure: bool,
    /// `--cleanup-on-fail`: a failed upgrade deletes the objects it created.
    pub cleanup_on_fail: bool,
    /// Hears each resource's change of state while waiting.
    pub report: fn(&str, &super::wait::State),
    /// `--disable-openapi-validation`: apply rendered objects without checking them
    /// against the Kubernetes schemas first.
    pub disable_openapi_validation: bool,
}

fn no_report(_: &str, _: &super::wait::State) {}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            field_manager: "helm".into(),
            force_conflicts: false,
            take_ownership: false,
            description: None,
            no_hooks: false,
            timeout: std::time::Duration::from_secs(300),
            wait: false,
            wait_legacy: false,
            wait_for_jobs: false,
            rollback_on_failure: false,
            cleanup_on_fail: false,
            report: no_report,
            disable_openapi_validation: false,
        }
    }
}

/// What to install.
#[derive(Debug, Clone, Default)]
pub struct InstallRequest {
    /// Chart, release name/namespace, values.
    pub template: TemplateRequest,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--dry-run` (render and check, store and apply nothing).
    pub dry_run: bool,
    /// `--replace`: reuse the name of an uninstalled or failed release.
    pub replace: bool,
    /// `--skip-crds`.
    pub skip_crds: bool,
    /// `--labels`.
    pub labels: BTreeMap<String, String>,
    /// Apply settings.
    pub apply: ApplyOptions,
}

/// The chart as Helm stores it in a release record.
pub fn chart_record(c: &Chart) -> Json {
    let b64 = crate::funcs::encoding::base64_encode;
    let files = |fs: &[chart::ChartFile]| -> Vec<Json> {
        fs.iter()
            .map(|f| json!({"name": f.name, "data": b64(&f.data)}))
            .collect()
    };
    let mut out = json!({
        "metadata": c.metadata.to_value().to_json_for_validation(),
        "templates": files(&c.templates),
        "values": c.values.to_json_for_validation(),
        "files": files(&c.files),
    });
    if let Some(lock) = &c.lock {
        out["lock"] = lock.to_json_for_validation();
    }
    if let Some(schema) = &c.schema {
        out["schema"] = json!(b64(schema));
    }
    out
}

/// The manifest text Helm stores: `---\n# Source: …\n<doc>` for each document.
fn manifest_text(items: &[Manifest]) -> String {
    let mut out = String::new();
    manifest::write_documents(items, &mut out);
    out
}

fn hook_records(hooks: &[Manifest]) -> Vec<Json> {
    hooks
        .iter()
        .filter_map(|h| {
            let hook = h.hook.as_ref()?;
            Some(json!({
                "name": h.name, "kind": h.kind, "path": h.source, "manifest": h.content,
                "events": hook.events, "last_run": {"started_at": "", "completed_at": "", "phase": ""},
                "weight": hook.weight, "delete_policies": hook.delete_policies,
            }))
        })
        .collect()
}

/// The objects of a stored manifest text, in order (comment-only documents dropped).
pub fn objects_of(manifest_text: &str) -> Vec<Json> {
    manifest::documents(manifest_text)
        .into_iter()
        .filter_map(|(_, doc)| {
            crate::value::yaml::from_str(doc, crate::value::yaml::Flavor::Yaml11)
                .ok()
                .map(|v| v.to_json_for_validation())
        })
        .filter(|v| v.is_object() && v.get("kind").is_some())
        .collect()
}

/// Identity of an object across revisions: apiVersion's group, kind, namespace, name.
fn identity(obj: &Json, namespace: &str) -> (String, String, String, String) {
    let group = obj["apiVersion"]
        .as_str()
        .and_then(|a| a.split_once('/').map(|(g, _)| g.to_string()))
        .unwrap_or_default();
    (
        group,
        obj["kind"].as_str().unwrap_or_default().to_string(),
        obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or(namespace)
            .to_string(),
        obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Helm's ownership marks on a live object.
pub fn mark(obj: &mut Json, name: &str, namespace: &str) {
    let meta = &mut obj["metadata"];
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    meta["labels"]["app.kubernetes.io/managed-by"] = json!("Helm");
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    meta["annotations"]["meta.helm.sh/release-name"] = json!(name);
    meta["annotations"]["meta.helm.sh/release-namespace"] = json!(namespace);
}

/// Checks that an existing object belongs to the release (Helm's wording).
fn check_owner(
    live: &kube::api::DynamicObject,
    obj: &Json,
    name: &str,
    namespace: &str,
) -> Result<(), LifecycleError> {
    let labels = live.metadata.labels.clone().unwrap_or_default();
    let annotations = live.metadata.annotations.clone().unwrap_or_default();
    let mut problems = Vec::new();
    match labels.get("app.kubernetes.io/managed-by").map(String::as_str) {
        Some("Helm") => {}
        Some(other) => problems.push(format!("label validation error: key \"app.kubernetes.io/managed-by\" must equal \"Helm\": current value is \"{other}\"")),
        None => problems.push("label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"".to_string()),
    }
    for (key, want) in [
        ("meta.helm.sh/release-name", name),
        ("meta.helm.sh/release-namespace", namespace),
    ] {
        match annotations.get(key).map(String::as_str) {
            Some(v) if v == want => {}
            Some(v) => problems.push(format!("annotation validation error: key \"{key}\" must equal \"{want}\": current value is \"{v}\"")),
            None => problems.push(format!("annotation validation error: missing key \"{key}\": must be set to \"{want}\"")),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(user(format!(
        "{} \"{}\" in namespace \"{}\" exists and cannot be imported into the current release: invalid ownership metadata; {}\n(pass --take-ownership to adopt it)",
        obj["kind"].as_str().unwrap_or_default(),
        obj["metadata"]["name"].as_str().unwrap_or_default(),
        obj["metadata"]["namespace"].as_str().unwrap_or(namespace),
        problems.join("; ")
    )))
}

fn base_release(
    req: &TemplateRequest,
    rendered: &TemplateResult,
    record: Json,
    version: i64,
) -> Release {
    let now = release::now();
    Release {
        name: req.release.name.clone(),
        info: Info {
            first_deployed: now.clone(),
            last_deployed: now,
            status: status::PENDING_INSTALL.into(),
            notes: rendered.notes.clone().unwrap_or_default(),
            ..Info::default()
        },
        chart: record,
        config: Value::Map(rendered.config.clone()).to_json_for_validation(),
        manifest: manifest_text(&rendered.manifests),
        hooks: hook_records(&rendered.hooks),
        version,
        namespace: req.release.namespace.clone(),
        apply_method: Some("ssa".into()),
        labels: BTreeMap::new(),
    }
}

/// Applies objects in order with ownership marks.
async fn apply_all(
    cluster: &Cluster,
    objects: &[Json],
    rel: &Release,
    opts: &ApplyOptions,
) -> Result<(), LifecycleError> {
    for obj in objects {
        let mut obj = obj.clone();
        mark(&mut obj, &rel.name, &rel.namespace);
        cluster
            .apply(&obj, &rel.namespace, &opts.field_manager, opts.force_conflicts)
            .await
            .map_err(|e| match e {
                ClusterError::Kube(kube::Error::Api(s)) if s.code == 409 => user(format!(
                    "conflict occurred while applying object {}/{} {}: {}\n(pass --force-conflicts to take the fields over)",
                    rel.namespace,
                    obj["metadata"]["name"].as_str().unwrap_or_default(),
                    obj["kind"].as_str().unwrap_or_default(),
                    s.message
                )),
                other => other.into(),
            })?;
    }
    Ok(())
}

/// A hook record's object and delete policies, an earlier run of it deleted first when
/// the policies ask (`before-hook-creation`, also Helm's default); `None` for an empty hook.
async fn prepare_hook(
    cluster: &Cluster,
    hook: &Json,
    namespace: &str,
) -> Result<Option<(Json, Vec<String>)>, LifecycleError> {
    let Some(obj) = objects_of(hook["manifest"].as_str().unwrap_or_default())
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let policies: Vec<String> = hook["delete_policies"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if policies.is_empty() || policies.iter().any(|p| p == "before-hook-creation") {
        cluster.delete(&obj, namespace).await?;
    }
    Ok(Some((obj, policies)))
}

/// Runs the hooks of one event: each applied (after deleting an earlier instance), Jobs
/// waited for until complete and Pods until succeeded, then deleted when their policy says.
async fn run_hooks(
    cluster: &Cluster,
    rel: &Release,
    event: &str,
    opts: &ApplyOptions,
) -> Result<(), LifecycleError> {
    if opts.no_hooks {
        return Ok(());
    }
    let mut hooks: Vec<&Json> = rel
        .hooks
        .iter()
        .filter(|h| {
            h["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x == event))
        })
        .collect();
    hooks.sort_by_key(|h| {
        (
            h["weight"].as_i64().unwrap_or(0),
            h["name"].as_str().unwrap_or_default().to_string(),
        )
    });
    let mut succeeded = Vec::new();
    for hook in hooks {
        let Some((obj, policies)) = prepare_hook(cluster, hook, &rel.namespace).await? else {
            continue;
        };
        let policies: Vec<&str> = policies.iter().map(String::as_str).collect();
        cluster
            .apply(&obj, &rel.namespace, &opts.field_manager, true)
            .await?;
        let outcome = wait_hook(cluster, &obj, &rel.namespace, opts.timeout).await;
        if let Err(e) = outcome {
            if policies.contains(&"hook-failed") {
                cluster.delete(&obj, &rel.namespace).await?;
            }
            return Err(LifecycleError::Failed(format!(
                "{event} hook {} failed: {e}",
                hook["name"].as_str().unwrap_or_default()
            )));
        }
        if policies.contains(&"hook-succeeded") {
            succeeded.push(obj);
        }
    }
    for obj in succeeded.iter().rev() {
        cluster.delete(obj, &rel.namespace).await?;
    }
    Ok(())
}

async fn wait_hook(
    cluster: &Cluster,
    obj: &Json,
    namespace: &str,
    timeout: std::time::Duration,
) -> Result<(), String> {
    let kind = obj["kind"].as_str().unwrap_or_default();
    if kind != "Job" && kind != "Pod" {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let live = cluster
            .get(obj, namespace)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(live) = live {
            let status = &live.data["status"];
            if kind == "Pod" {
                match status["phase"].as_str() {
                    Some("Succeeded") => return Ok(()),
                    Some("Failed") => return Err("pod failed".into()),
                    _ => {}
                }
            } else if let Some(conditions) = status["conditions"].as_array() {
                for c in conditions {
                    if c["status"] == "True" && c["type"] == "Complete" {
                        return Ok(());
                    }
                    if c["status"] == "True" && c["type"] == "Failed" {
                        return Err(format!(
                            "job failed: {}",
                            c["message"].as_str().unwrap_or("BackoffLimitExceeded")
                        ));
                    }
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err("timed out waiting for the condition".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Applies the chart's `crds/` and waits until each is Established, so the custom
/// resources of the same release can be created (Helm fails there).
async fn install_crds(
    cluster: &Cluster,
    crds: &[(String, String)],
    namespace: &str,
    opts: &ApplyOptions,
) -> Result<(), LifecycleError> {
    let objects: Vec<Json> = crds.iter().flat_map(|(_, text)| objects_of(text)).collect();
    if objects.is_empty() {
        return Ok(());
    }
    for crd in &objects {
        cluster
            .apply(crd, namespace, &opts.field_manager, true)
            .await?;
    }
    let mut quiet = |_: &str, _: &super::wait::State| {};
    super::wait::wait_ready(
        cluster,
        &objects,
        namespace,
        opts.timeout,
        false,
        &mut quiet,
    )
    .await
    .map_err(|e| LifecycleError::Failed(format!("CRDs not established: {e}")))
}

/// `--wait`: every applied object ready within the timeout.
async fn wait_for(
    cluster: &Cluster,
    objects: &[Json],
    rel: &Release,
    opts: &ApplyOptions,
) -> Result<(), LifecycleError> {
    if !opts.wait {
        return Ok(());
    }
    let report = opts.report;
    let mut hear = move |name: &str, state: &super::wait::State| report(name, state);
    let rules = if opts.wait_legacy {
        super::wait::Rules::Legacy
    } else {
        super::wait::Rules::Watcher
    };
    super::wait::wait_with(
        cluster,
        objects,
        &rel.namespace,
        opts.timeout,
        opts.wait_for_jobs,
        rules,
        &mut hear,
    )
    .await
    .map_err(LifecycleError::Failed)
}

/// One test hook's run.
#[derive(Debug, Clone)]
pub struct TestRun {
    /// Hook name.
    pub name: String,
    /// Kind of the hook object.
    pub kind: String,
    /// When it started and ended (RFC 3339).
    pub started: String,
    /// When it completed.
    pub completed: String,
    /// `Succeeded` or `Failed`.
    pub phase: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// `pack test`: runs the release's `test` hooks in order (weight, then name), each awaited,
/// records their last run on the release, and reports each.
pub async fn test(
    cluster: &Cluster,
    storage: &Storage,
    namespace: &str,
    name: &str,
    opts: &ApplyOptions,
) -> Result<(Release, Vec<TestRun>), LifecycleError> {
    let history = storage.history(namespace, name).await?;
    let Some(mut rel) = current(&history).cloned() else {
        return Err(user(format!(
            "release: not found: \"{name}\" in namespace \"{namespace}\""
        )));
    };
    let mut order: Vec<usize> = (0..rel.hooks.len())
        .filter(|&i| {
            rel.hooks[i]["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x == "test" || x == "test-success"))
        })
        .collect();
    order.sort_by_key(|&i| {
        (
            rel.hooks[i]["weight"].as_i64().unwrap_or(0),
            rel.hooks[i]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    });
    let mut runs = Vec::new();
    for i in order {
        let hook = rel.hooks[i].clone();
        let Some((obj, policies)) = prepare_hook(cluster, &hook, namespace).await? else {
            continue;
        };
        let policies: Vec<&str> = policies.iter().map(String::as_str).collect();
        let started = release::now();
        cluster
            .apply(&obj, namespace, &opts.field_manager, true)
            .await?;
        let outcome = wait_hook(cluster, &obj, namespace, opts.timeout).await;
        let completed = release::now();
        let phase = if outcome.is_ok() {
            "Succeeded"
        } else {
            "Failed"
        };
        rel.hooks[i]["last_run"] =
            json!({"started_at": started, "completed_at": completed, "phase": phase});
        if (outcome.is_ok() && policies.contains(&"hook-succeeded"))
            || (outcome.is_err() && policies.contains(&"hook-failed"))
        {
            cluster.delete(&obj, namespace).await?;
        }
        runs.push(TestRun {
            name: hook["name"].as_str().unwrap_or_default().to_string(),
            kind: hook["kind"].as_str().unwrap_or_default().to_string(),
            started,
            completed,
            phase: phase.to_string(),
            error: outcome.err(),
        });
    }
    storage.update(&rel).await?;
    Ok((rel, runs))
}

/// Named fail points for crash tests: `PACK_FAILPOINT=<name>` makes the process die there,
/// as a killed pack would.
pub fn fail_point(name: &str) {
    if std::env::var("PACK_FAILPOINT").is_ok_and(|v| v == name) {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "pack: fail point {name}: exiting");
        std::process::exit(137);
    }
}

/// Repairs a release whose last operation was interrupted (`pending-*`): that revision is
/// marked failed, and the last deployed one stays the deployed one.
pub async fn recover(
    storage: &Storage,
    namespace: &str,
    name: &str,
) -> Result<Option<Release>, LifecycleError> {
    let history = storage.history(namespace, name).await?;
    let Some(last) = history.last().cloned() else {
        return Err(user(format!(
            "release: not found: \"{name}\" in namespace \"{namespace}\""
        )));
    };
    if !status::is_pending(&last.info.status) {
        return Ok(None);
    }
    let mut rel = last;
    let was = rel.info.status.clone();
    rel.info.status = status::FAILED.into();
    rel.info.description = format!(
        "Interrupted during {}; recovered by pack recover",
        was.trim_start_matches("pending-")
    );
    storage.update(&rel).await?;
    Ok(Some(rel))
}

/// Records a failure on the release and returns the error to report.
async fn fail(
    storage: &Storage,
    mut rel: Release,
    verb: &str,
    err: LifecycleError,
) -> LifecycleError {
    rel.info.status = status::FAILED.into();
    rel.info.description = format!("{verb} \"{}\" failed: {err}", rel.name);
    rel.info.last_deployed = release::now();
    if let Err(e) = storage.update(&rel).await {
        return LifecycleError::Failed(format!("{err} (and recording the failure failed: {e})"));
    }
    err
}

/// How many times a render may be repeated to answer the `lookup`s it makes.
const LOOKUP_ROUNDS: usize = 4;

/// Renders against a live cluster: a render's `lookup`s are fetched from the cluster and the
/// chart rendered again with the answers, until a render asks nothing new (templates run
/// synchronously; the cluster is asynchronous). Values read from stdin (`-f -`) are read
/// once and given to every round.
async fn render_live(
    cluster: &Cluster,
    chart: &chart::Chart,
    treq: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<TemplateResult, LifecycleError> {
    let mut input = Vec::new();
    if treq.values.values_files.iter().any(|f| f == "-") {
        stdin
            .read_to_end(&mut input)
            .map_err(|e| user(format!("reading values from stdin: {e}")))?;
    }
    let table = std::sync::Arc::new(crate::render::LookupTable::default());
    let mut req = treq.clone();
    req.lookup = Some(table.clone());
    let mut round = 0;
    loop {
        // A round may also fail on an answer it did not have yet (`len` of a list not
        // fetched): only a render with nothing left to fetch has the last word.
        let result = render_loaded(chart.clone(), &req, &mut &input[..]);
        let missing = table.take_missing();
        round += 1;
        if missing.is_empty() || round >= LOOKUP_ROUNDS {
            return Ok(result?);
        }
        for key in missing {
            let found = cluster
                .lookup(&key.api_version, &key.kind, &key.namespace, &key.name)
                .await
                .map_err(|e| {
                    user(format!(
                        "lookup {:?} {:?} {:?} {:?}: {e}",
                        key.api_version, key.kind, key.namespace, key.name
                    ))
                })?;
            table.insert(key, Value::from(found));
        }
    }
}

/// Checks the rendered objects and hooks against the schemas of the cluster's Kubernetes
/// version (the nearest bundled one outside 1.31–1.37) before anything is applied: the
/// chart's CRDs, rendered CRDs and, for custom resources still unknown, the cluster's own
/// CRDs check custom resources. Every problem is reported at once, on its template line.
async fn check_rendered(
    cluster: &Cluster,
    rendered: &TemplateResult,
    caps: &crate::k8s::Capabilities,
    apply: &ApplyOptions,
) -> Result<(), LifecycleError> {
    use crate::validate::{Validator, report};
    if apply.disable_openapi_validation {
        return Ok(());
    }
    let minor = |release: &str| {
        release
            .split('.')
            .nth(1)
            .and_then(|m| m.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let validator = Validator::new(&caps.kube_version, true).or_else(|e| {
        let all = crate::k8s::schema::bundled_versions().map_err(|_| e)?;
        let mine = minor(&caps.kube_version.minor_release());
        let nearest = all
            .iter()
            .min_by_key(|v| minor(v).abs_diff(mine))
            .and_then(|v| crate::k8s::KubeVersion::parse(&format!("{v}.0")).ok())
            .unwrap_or_default();
        Validator::new(&nearest, true)
    });
    let Ok(mut validator) = validator else {
        return Ok(());
    };
    let docs = rendered.manifests.iter().chain(&rendered.hooks);
    let inputs = report::rendered(&mut validator, docs, &rendered.crds, &rendered.sources);
    let mut findings = report::check(&mut validator, &inputs);
    if findings.iter().any(|f| f.status == report::Status::Skipped)
        && let Ok(list) = cluster
            .lookup(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "",
            )
            .await
    {
        for crd in list
            .get("items")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let _ = validator.add_crd(&Value::from(crd.clone()));
        }
        // Only the custom resources that had no schema are checked again.
        let skipped: Vec<usize> = (0..findings.len())
            .filter(|&i| findings[i].status == report::Status::Skipped)
            .collect();
        let again: Vec<report::Input<'_>> = skipped.iter().map(|&i| inputs[i].clone()).collect();
        for (i, f) in skipped
            .into_iter()
            .zip(report::check_learned(&validator, &again, false))
        {
            findings[i] = f;
        }
    }
    let problems = report::invalid_lines(&findings);
    if problems.is_empty() {
        return Ok(());
    }
    Err(user(format!(
        "{} problem(s) in rendered objects (Kubernetes {}); nothing was changed (--disable-openapi-validation skips this check):\n  {}",
        problems.len(),
        validator.release(),
        problems.join("\n  ")
    )))
}

/// Renders the release an install would make, without a cluster (`--dry-run=client`:
/// offline capabilities unless `req.template.capabilities` is set).
pub fn render_release(
    req: &InstallRequest,
    version: i64,
    stdin: &mut dyn Read,
) -> Result<(Release, TemplateResult), LifecycleError> {
    let (chart, record, treq) = install_render_request(req, version)?;
    let rendered = render_loaded(chart, &treq, stdin)?;
    Ok((
        install_release(req, &treq, &rendered, record, version),
        rendered,
    ))
}

/// The chart, its record and the render request of an install at `version`.
fn install_render_request(
    req: &InstallRequest,
    version: i64,
) -> Result<(chart::Chart, Json, TemplateRequest), LifecycleError> {
    let name = &req.template.release.name;
    if !release::valid_name(name) {
        return Err(user(format!(
            "release name \"{name}\" is invalid: it must be a lowercase DNS subdomain of at most 53 characters"
        )));
    }
    let chart = chart::load(&req.template.chart)?;
    let record = chart_record(&chart);
    let mut treq = req.template.clone();
    treq.release.revision = version;
    treq.release.is_upgrade = false;
    Ok((chart, record, treq))
}

/// The record of an install underway.
fn install_release(
    req: &InstallRequest,
    treq: &TemplateRequest,
    rendered: &TemplateResult,
    record: Json,
    version: i64,
) -> Release {
    let mut rel = base_release(treq, rendered, record, version);
    rel.labels = req.labels.clone();
    rel.info.description = "Initial install underway".into();
    rel
}

/// [`render_release`] against a live cluster (`lookup` answered from it).
pub(crate) async fn render_release_live(
    cluster: &Cluster,
    req: &InstallRequest,
    version: i64,
    stdin: &mut dyn Read,
) -> Result<(Release, TemplateResult), LifecycleError> {
    let (chart, record, treq) = install_render_request(req, version)?;
    let rendered = render_live(cluster, &chart, &treq, stdin).await?;
    Ok((
        install_release(req, &treq, &rendered, record, version),
        rendered,
    ))
}

/// Installs a chart as a new release.
pub async fn install(
    cluster: &Cluster,
    storage: &Storage,
    req: &InstallRequest,
    stdin: &mut dyn Read,
) -> Result<Release, LifecycleError> {
    let name = &req.template.release.name;
    let ns = &req.template.release.namespace;
    let history = storage.history(ns, name).await?;
    let mut version = 1;
    if let Some(last) = history.last() {
        let reusable = matches!(
            last.info.status.as_str(),
            status::UNINSTALLED | status::FAILED
        );
        if !(req.replace && reusable) {
            return Err(user(format!(
                "cannot re-use a name that is still in use: release \"{name}\" exists in namespace \"{ns}\" (status {})",
                last.info.status
            )));
        }
        version = last.version + 1;
    }
    let mut with_caps = req.clone();
    let caps = cluster.capabilities().await?;
    with_caps.template.capabilities = Some(caps.clone());
    let (mut rel, rendered) = render_release_live(cluster, &with_caps, version, stdin).await?;
    check_rendered(cluster, &rendered, &caps, &req.apply).await?;
    let objects: Vec<Json> = rendered
        .manifests
        .iter()
        .filter(|m| !m.kind.is_empty())
        .map(|m| m.object.to_json_for_validation())
        .collect();
    if !req.apply.take_ownership {
        for obj in &objects {
            // A kind not served yet (its CRD comes with this chart) has no objects to own.
            let live = match cluster.get(obj, ns).await {
                Err(ClusterError::UnknownKind { .. }) => None,
                other => other?,
            };
            if let Some(live) = live {
                check_owner(&live, obj, name, ns)?;
            }
        }
    }
    if req.dry_run {
        rel.info.description = "Dry run complete".into();
        return Ok(rel);
    }
    if req.create_namespace {
        cluster.ensure_namespace(ns).await?;
    }
    if let Some(last) = history.last() {
        let mut old = last.clone();
        old.info.status = status::SUPERSEDED.into();
        storage.update(&old).await?;
    }
    storage.create(&rel).await?;
    let result: Result<(), LifecycleError> = async {
        if !req.skip_crds {
            install_crds(cluster, &rendered.crds, ns, &req.apply).await?;
        }
        run_hooks(cluster, &rel, "pre-install", &req.apply).await?;
        apply_all(cluster, &objects, &rel, &req.apply).await?;
        wait_for(cluster, &objects, &rel, &req.apply).await?;
        run_hooks(cluster, &rel, "post-install", &req.apply).await
    }
    .await;
    if let Err(e) = result {
        let name = rel.name.clone();
        let err = fail(storage, rel, "Release", e).await;
        if req.apply.rollback_on_failure {
            uninstall(cluster, storage, ns, &name, false, &req.apply).await?;
            return Err(LifecycleError::Failed(format!(
                "release {name} failed, and has been uninstalled due to rollback-on-failure being set: {err}"
            )));
        }
        return Err(err);
    }
    rel.info.status = status::DEPLOYED.into();
    rel.info.description = req
        .apply
        .description
        .clone()
        .unwrap_or_else(|| "Install complete".into());
    storage.update(&rel).await?;
    Ok(rel)
}

/// How an upgrade treats the previous release's values (Helm's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueReuse {
    /// Reuse the old values only when no value flag is given.
    #[default]
    Default,
    /// `--reuse-values`.
    Reuse,
    /// `--reset-values`.
    Reset,
    /// `--reset-then-reuse-values`.
    ResetThenReuse,
}

/// What to upgrade.
#[derive(Debug, Clone, Default)]
pub struct UpgradeRequest {
    /// Chart, release name/namespace, values.
    pub template: TemplateRequest,
    /// Value reuse.
    pub reuse: ValueReuse,
    /// `--install`: install when the release does not exist.
    pub install: bool,
    /// `--create-namespace` (with `--install`).
    pub create_namespace: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--history-max` (0 = unlimited).
    pub history_max: usize,
    /// `--skip-crds`: leave the chart's crds/ as they are (pack upgrades them otherwise).
    pub skip_crds: bool,
    /// Apply settings.
    pub apply: ApplyOptions,
}

/// The deployed revision an operation starts from (or the last one after a failure).
fn current(history: &[Release]) -> Option<&Release> {
    history
        .iter()
        .rev()
        .find(|r| r.info.status == status::DEPLOYED)
        .or_else(|| {
            history
                .last()
                .filter(|r| matches!(r.info.status.as_str(), status::FAILED | status::SUPERSEDED))
        })
}

fn json_to_map(v: &Json) -> Map {
    match Value::from_json(&v.to_string()) {
        Ok(Value::Map(m)) => m,
        _ => Map::default(),
    }
}

/// Deletes the oldest revisions beyond `max` (keeping the last deployed one).
async fn prune(storage: &Storage, history: &[Release], max: usize) -> Result<(), LifecycleError> {
    if max == 0 || history.len() < max {
        return Ok(());
    }
    let deployed = history
        .iter()
        .rev()
        .find(|r| r.info.status == status::DEPLOYED)
        .map(|r| r.version);
    let excess = history.len() + 1 - max;
    for r in history
        .iter()
        .filter(|r| Some(r.version) != deployed)
        .take(excess)
    {
        storage.delete(&r.namespace, &r.name, r.version).await?;
    }
    Ok(())
}

/// Hands a client-side-applied object's fields to server-side apply, as Helm 4 does when a
/// Helm 3 release is upgraded: the field manager's `Update` entry becomes its `Apply`
/// entry, so fields the chart no longer sets are removed by the apply that follows.
async fn migrate_to_ssa(
    cluster: &Cluster,
    obj: &Json,
    namespace: &str,
    manager: &str,
) -> Result<(), LifecycleError> {
    let Some(live) = cluster.get(obj, namespace).await? else {
        return Ok(());
    };
    let Some(entries) = live.metadata.managed_fields.as_ref() else {
        return Ok(());
    };
    let mut entries: Vec<Json> = entries
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    let has_apply = entries
        .iter()
        .any(|e| e["manager"] == manager && e["operation"] == "Apply");
    let mut changed = false;
    for e in entries.iter_mut() {
        if !has_apply
            && e["manager"] == manager
            && e["operation"] == "Update"
            && e.get("subresource").is_none()
        {
            e["operation"] = json!("Apply");
            changed = true;
        }
    }
    if changed {
        let patch = json!({"metadata": {"managedFields": entries, "resourceVersion": live.metadata.resource_version}});
        cluster.merge_patch(obj, namespace, &patch).await?;
    }
    Ok(())
}

/// Moves the cluster from one manifest to another: applies the new objects, deletes the
/// old ones the new manifest no longer has (unless they are marked to be kept).
async fn transition(
    cluster: &Cluster,
    old_manifest: &str,
    new_objects: &[Json],
    rel: &Release,
    opts: &ApplyOptions,
    from_client_side: bool,
) -> Result<(), LifecycleError> {
    let old = objects_of(old_manifest);
    if from_client_side {
        for obj in &old {
            migrate_to_ssa(cluster, obj, &rel.namespace, &opts.field_manager).await?;
        }
    }
    if !opts.take_ownership {
        let known: Vec<_> = old.iter().map(|o| identity(o, &rel.namespace)).collect();
        for obj in new_objects {
            if !known.contains(&identity(obj, &rel.namespace))
                && let Some(live) = cluster.get(obj, &rel.namespace).await?
            {
                check_owner(&live, obj, &rel.name, &rel.namespace)?;
            }
        }
    }
    apply_all(cluster, new_objects, rel, opts).await?;
    let keep: Vec<_> = new_objects
        .iter()
        .map(|o| identity(o, &rel.namespace))
        .collect();
    let mut gone: Vec<&Json> = old
        .iter()
        .filter(|o| !keep.contains(&identity(o, &rel.namespace)))
        .collect();
    gone.reverse();
    for obj in gone {
        let live = cluster.get(obj, &rel.namespace).await.ok().flatten();
        let kept = live.and_then(|l| l.metadata.annotations).is_some_and(|a| {
            a.get("helm.sh/resource-policy")
                .is_some_and(|p| p == "keep")
        });
        if !kept {
            cluster.delete(obj, &rel.namespace).await?;
        }
    }
    Ok(())
}

/// Upgrades a release to a chart (or installs it with `--install`).
pub async fn upgrade(
    cluster: &Cluster,
    storage: &Storage,
    req: &UpgradeRequest,
    stdin: &mut dyn Read,
) -> Result<Release, LifecycleError> {
    let name = &req.template.release.name;
    let ns = &req.template.release.namespace;
    let history = storage.history(ns, name).await?;
    let Some(last) = history.last().cloned() else {
        if req.install {
            let install_req = InstallRequest {
                template: req.template.clone(),
                create_namespace: req.create_namespace,
                dry_run: req.dry_run,
                apply: req.apply.clone(),
                ..InstallRequest::default()
            };
            return install(cluster, storage, &install_req, stdin).await;
        }
        return Err(user(format!("\"{name}\" has no deployed releases")));
    };
    if status::is_pending(&last.info.status) {
        return Err(user(format!(
            "another operation (install/upgrade/rollback) is in progress on release \"{name}\" (status {}); if it was interrupted, run `pack recover {name}`",
            last.info.status
        )));
    }
    if req.install && last.info.status == status::UNINSTALLED {
        let install_req = InstallRequest {
            template: req.template.clone(),
            replace: true,
            dry_run: req.dry_run,
            apply: req.apply.clone(),
            ..InstallRequest::default()
        };
        return install(cluster, storage, &install_req, stdin).await;
    }
    let Some(cur) = current(&history).cloned() else {
        return Err(user(format!("\"{name}\" has no deployed releases")));
    };
    let version = last.version + 1;
    let chart = chart::load(&req.template.chart)?;
    let record = chart_record(&chart);
    let mut treq = req.template.clone();
    treq.release.revision = version;
    treq.release.is_upgrade = true;
    treq.capabilities = Some(cluster.capabilities().await?);
    // Helm's rules (§3.5 of the reference): reset → new values only; reuse → the old
    // chart's values with the old config over them replace the new defaults, and the new
    // values go over the old config; reset-then-reuse → new defaults, old config, new
    // values; default → the old config only when no value flag is given.
    let old_config = json_to_map(&cur.config);
    match req.reuse {
        ValueReuse::Default if req.template.values.is_empty() => {
            treq.base_config = Some(old_config)
        }
        ValueReuse::Reuse => {
            let mut defaults = old_config.clone();
            let mut ignored = Vec::new();
            crate::values::coalesce::coalesce_tables(
                &mut defaults,
                &json_to_map(&cur.chart["values"]),
                &mut ignored,
            );
            treq.replace_defaults = Some(Value::Map(defaults));
            treq.base_config = Some(old_config);
        }
        ValueReuse::ResetThenReuse => treq.base_config = Some(old_config),
        _ => {}
    }
    let rendered = render_live(cluster, &chart, &treq, stdin).await?;
    if let Some(caps) = &treq.capabilities {
        check_rendered(cluster, &rendered, caps, &req.apply).await?;
    }
    let mut rel = base_release(&treq, &rendered, record, version);
    rel.info.first_deployed = cur.info.first_deployed.clone();
    rel.info.status = status::PENDING_UPGRADE.into();
    rel.info.description = "Preparing upgrade".into();
    rel.labels = cur.labels.clone();
    if req.dry_run {
        rel.info.description = "Dry run complete".into();
        return Ok(rel);
    }
    let objects: Vec<Json> = rendered
        .manifests
        .iter()
        .filter(|m| !m.kind.is_empty())
        .map(|m| m.object.to_json_for_validation())
        .collect();
    prune(storage, &history, req.history_max).await?;
    storage.create(&rel).await?;
    fail_point("upgrade-after-record");
    let result: Result<(), LifecycleError> = async {
        // Unlike Helm, CRDs are upgraded too (server-side apply), unless --skip-crds.
        if !req.skip_crds {
            install_crds(cluster, &rendered.crds, ns, &req.apply).await?;
        }
        run_hooks(cluster, &rel, "pre-upgrade", &req.apply).await?;
        transition(
            cluster,
            &cur.manifest,
            &objects,
            &rel,
            &req.apply,
            cur.apply_method.as_deref() != Some("ssa"),
        )
        .await?;
        wait_for(cluster, &objects, &rel, &req.apply).await?;
        run_hooks(cluster, &rel, "post-upgrade", &req.apply).await
    }
    .await;
    if let Err(e) = result {
        let err = fail(storage, rel, "Upgrade", e).await;
        if req.apply.cleanup_on_fail {
            // Objects this upgrade brought in (not in the deployed manifest) go again.
            let old: Vec<_> = objects_of(&cur.manifest)
                .iter()
                .map(|o| identity(o, ns))
                .collect();
            for obj in objects.iter().filter(|o| !old.contains(&identity(o, ns))) {
                let _ = cluster.delete(obj, ns).await;
            }
        }
        if req.apply.rollback_on_failure {
            let back = ApplyOptions {
                rollback_on_failure: false,
                ..req.apply.clone()
            };
            Box::pin(rollback(
                cluster,
                storage,
                ns,
                name,
                cur.version,
                req.history_max,
                &back,
            ))
            .await?;
            return Err(LifecycleError::Failed(format!(
                "release {name} failed, and has been rolled back due to rollback-on-failure being set: {err}"
            )));
        }
        return Err(err);
    }
    let mut old = cur.clone();
    old.info.status = status::SUPERSEDED.into();
    storage.update(&old).await?;
    rel.info.status = status::DEPLOYED.into();
    rel.info.description = req
        .apply
        .description
        .clone()
        .unwrap_or_else(|| "Upgrade complete".into());
    storage.update(&rel).await?;
    Ok(rel)
}

/// Rolls a release back to an earlier revision (0 = the one before the current).
pub async fn rollback(
    cluster: &Cluster,
    storage: &Storage,
    namespace: &str,
    name: &str,
    revision: i64,
    history_max: usize,
    opts: &ApplyOptions,
) -> Result<Release, LifecycleError> {
    let history = storage.history(namespace, name).await?;
    let Some(last) = history.last().cloned() else {
        return Err(user(format!(
            "release: not found: \"{name}\" in namespace \"{namespace}\""
        )));
    };
    if status::is_pending(&last.info.status) && last.info.status != status::PENDING_INSTALL {
        return Err(user(format!(
            "another operation (install/upgrade/rollback) is in progress on release \"{name}\""
        )));
    }
    let cur = current(&history).cloned().unwrap_or_else(|| last.clone());
    let target_rev = if revision > 0 {
        revision
    } else {
        cur.version - 1
    };
    let Some(target) = history.iter().find(|r| r.version == target_rev).cloned() else {
        return Err(user(format!(
            "release \"{name}\" has no revision {target_rev}"
        )));
    };
    let mut rel = target.clone();
    rel.version = last.version + 1;
    rel.info = Info {
        first_deployed: cur.info.first_deployed.clone(),
        last_deployed: release::now(),
        status: status::PENDING_ROLLBACK.into(),
        description: format!("Rollback to {target_rev}"),
        notes: target.info.notes.clone(),
        ..Info::default()
    };
    rel.apply_method = Some("ssa".into());
    prune(storage, &history, history_max).await?;
    storage.create(&rel).await?;
    let objects = objects_of(&rel.manifest);
    let result: Result<(), LifecycleError> = async {
        run_hooks(cluster, &rel, "pre-rollback", opts).await?;
        transition(
            cluster,
            &cur.manifest,
            &objects,
            &rel,
            opts,
            cur.apply_method.as_deref() != Some("ssa"),
        )
        .await?;
        wait_for(cluster, &objects, &rel, opts).await?;
        run_hooks(cluster, &rel, "post-rollback", opts).await
    }
    .await;
    if let Err(e) = result {
        return Err(fail(storage, rel, "Rollback", e).await);
    }
    for r in history.iter().filter(|r| r.info.status == status::DEPLOYED) {
        let mut old = r.clone();
        old.info.status = status::SUPERSEDED.into();
        storage.update(&old).await?;
    }
    rel.info.status = status::DEPLOYED.into();
    storage.update(&rel).await?;
    Ok(rel)
}

/// What uninstall did.
#[derive(Debug, Clone, Default)]
pub struct Uninstalled {
    /// The last revision, as recorded.
    pub release: Release,
    /// Objects kept by `helm.sh/resource-policy: keep` (`Kind/name`).
    pub kept: Vec<String>,
}

/// Uninstalls a release: its objects in Helm's uninstall order, then its records (unless
/// `keep_history`).
pub async fn uninstall(
    cluster: &Cluster,
    storage: &Storage,
    namespace: &str,
    name: &str,
    keep_history: bool,
    opts: &ApplyOptions,
) -> Result<Option<Uninstalled>, LifecycleError> {
    let history = storage.history(namespace, name).await?;
    let Some(last) = history.last().cloned() else {
        return Ok(None);
    };
    if last.info.status == status::UNINSTALLED {
        if keep_history {
            return Err(user(format!("release \"{name}\" is already uninstalled")));
        }
        for r in &history {
            storage.delete(namespace, name, r.version).await?;
        }
        return Ok(Some(Uninstalled {
            release: last,
            kept: vec![],
        }));
    }
    let mut rel = last.clone();
    rel.info.status = status::UNINSTALLING.into();
    rel.info.deleted = release::now();
    storage.update(&rel).await?;
    run_hooks(cluster, &rel, "pre-delete", opts).await?;
    let mut docs: Vec<Manifest> = manifest::documents(&rel.manifest)
        .into_iter()
        .filter_map(|(_, text)| {
            let object =
                crate::value::yaml::from_str(text, crate::value::yaml::Flavor::Yaml11).ok()?;
            let kind = object
                .get_path(["kind"])
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let name = object
                .get_path(["metadata", "name"])
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some(Manifest {
                source: String::new(),
                content: text.to_string(),
                object,
                kind,
                name,
                hook: None,
            })
        })
        .filter(|m| !m.kind.is_empty())
        .collect();
    manifest::sort_install_order(&mut docs);
    docs.reverse();
    let mut kept = Vec::new();
    for m in &docs {
        let obj = m.object.to_json_for_validation();
        if obj["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" {
            kept.push(format!("{}/{}", m.kind, m.name));
            continue;
        }
        cluster.delete(&obj, namespace).await?;
    }
    run_hooks(cluster, &rel, "post-delete", opts).await?;
    rel.info.status = status::UNINSTALLED.into();
    rel.info.description = "Uninstallation complete".into();
    if keep_history {
        for r in history
            .iter()
            .filter(|r| r.info.status == status::DEPLOYED && r.version != rel.version)
        {
            let mut old = r.clone();
            old.info.status = status::SUPERSEDED.into();
            storage.update(&old).await?;
        }
        storage.update(&rel).await?;
    } else {
        for r in &history {
            storage.delete(namespace, name, r.version).await?;
        }
    }
    Ok(Some(Uninstalled { release: rel, kept }))
}
