//! Release commands with Helm's flags: install, upgrade, rollback, uninstall, list,
//! history, status, get. Each connects (kubeconfig, or the embedded cluster when there is
//! none), picks the storage driver (`HELM_DRIVER`), and calls one action.

use super::values_flags::ValuesFlags;
use super::{CliResult, GlobalArgs, OutputFormat};
use crate::action::lifecycle::{self, ApplyOptions, InstallRequest, UpgradeRequest, ValueReuse};
use crate::action::template::TemplateRequest;
use crate::cluster::{Cluster, Target};
use crate::release::storage::Storage;
use crate::release::{Release, status};
use crate::render::ReleaseInfo;
use crate::settings::Dirs;
use crate::values::ValueOptions;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Flags install and upgrade share.
#[derive(Debug, Args, Clone)]
pub struct ApplyFlags {
    /// Field manager for server-side apply (Helm's, so helm and pack can alternate).
    #[arg(long, default_value = "helm", value_name = "NAME")]
    pub field_manager: String,
    /// Take over fields other managers own instead of failing on conflicts.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Adopt existing objects that lack this release's ownership marks.
    #[arg(long)]
    pub take_ownership: bool,
    /// Do not run hooks.
    #[arg(long)]
    pub no_hooks: bool,
    /// How long to wait for hooks (e.g. 5m, 90s).
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// A description for this revision.
    #[arg(long)]
    pub description: Option<String>,
    /// Do not print NOTES.txt.
    #[arg(long)]
    pub hide_notes: bool,
    /// Wait until the release's resources are ready (Deployments available, Jobs started,
    /// PVCs bound…), up to --timeout; `hookOnly` waits for hooks only (the default).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "watcher", value_name = "STRATEGY")]
    pub wait: Option<WaitStrategy>,
    /// With --wait, Jobs must complete.
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// On failure, uninstall a new release or roll an upgrade back (implies --wait).
    #[arg(long, visible_alias = "atomic")]
    pub rollback_on_failure: bool,
    /// When an upgrade fails, delete the objects it created.
    #[arg(long)]
    pub cleanup_on_fail: bool,
    /// Apply rendered objects without checking them against the Kubernetes schemas first.
    #[arg(long)]
    pub disable_openapi_validation: bool,
    /// Do not check values against the charts' values.schema.json.
    #[arg(long)]
    pub skip_schema_validation: bool,
}

/// `--wait` strategies, with Helm 4's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaitStrategy {
    /// Readiness rules of helm's watcher (kstatus).
    Watcher,
    /// Helm 3's waiter: polled every 2 s; enough replicas ready allowing for
    /// maxUnavailable, Services with an IP, PVCs bound.
    Legacy,
    /// Only hooks are waited for.
    #[value(name = "hookOnly")]
    HookOnly,
}

/// Resources seen while waiting, with their latest state (for the live display).
static WAITING: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
/// A resource waited for: its name, when first seen, how long until ready, its last state.
type Timing = (String, std::time::Instant, Option<Duration>, String);
/// Every resource waited for (for the final table).
static TIMES: std::sync::Mutex<Vec<Timing>> = std::sync::Mutex::new(Vec::new());

/// After a wait: a table of every resource waited for, its final state and how long it
/// took to become ready.
fn print_wait_summary() {
    let rows = TIMES.lock().map(|t| t.clone()).unwrap_or_default();
    if rows.is_empty() {
        return;
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(8).max(8);
    let mut err = anstream::stderr();
    use std::io::Write as _;
    let _ = writeln!(err, "{:<width$}  {:<8}  READY AFTER", "RESOURCE", "STATE");
    for (name, _, ready, last) in &rows {
        let after = ready.map_or_else(|| "-".to_string(), |d| format!("{:.1}s", d.as_secs_f64()));
        let _ = writeln!(err, "{name:<width$}  {last:<8}  {after}");
    }
}
/// Lines the live display drew last time (to redraw over them).
static DRAWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn report(name: &str, state: &crate::action::wait::State) {
    use crate::action::wait::State;
    use std::io::{IsTerminal as _, Write as _};
    if let Ok(mut times) = TIMES.lock() {
        let word = match state {
            State::Current => "ready",
            State::InProgress(_) => "waiting",
            State::Failed(_) => "failed",
        };
        match times.iter_mut().find(|t| t.0 == name) {
            Some(t) => {
                if *state == State::Current && t.2.is_none() {
                    t.2 = Some(t.1.elapsed());
                }
                t.3 = word.to_string();
            }
            None => times.push((
                name.to_string(),
                std::time::Instant::now(),
                (*state == State::Current).then(Duration::default),
                word.to_string(),
            )),
        }
    }
    let mut err = std::io::stderr().lock();
    if !err.is_terminal() {
        // Plain log lines for logs and CI.
        let _ = match state {
            State::Current => writeln!(err, "ready: {name}"),
            State::InProgress(why) => writeln!(err, "waiting: {name}: {why}"),
            State::Failed(why) => writeln!(err, "failed: {name}: {why}"),
        };
        return;
    }
    let text = match state {
        State::Current => "ready".to_string(),
        State::InProgress(why) => format!("waiting: {why}"),
        State::Failed(why) => format!("failed: {why}"),
    };
    let mut rows = WAITING.lock().unwrap_or_else(|p| p.into_inner());
    match rows.iter_mut().find(|(n, _)| n == name) {
        Some(row) => row.1 = text,
        None => rows.push((name.to_string(), text)),
    }
    // Redraw: one line per resource, then a bar for the release.
    let drawn = DRAWN.load(std::sync::atomic::Ordering::Relaxed);
    if drawn > 0 {
        let _ = write!(err, "\x1b[{drawn}A");
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (n, t) in rows.iter() {
        let color = if t == "ready" {
            "32"
        } else if t.starts_with("failed") {
            "31"
        } else {
            "33"
        };
        let _ = writeln!(err, "\x1b[2K  {n:<width$}  \x1b[{color}m{t}\x1b[0m");
    }
    let ready = rows.iter().filter(|(_, t)| t == "ready").count();
    let total = rows.len().max(1);
    let filled = ready * 30 / total;
    let _ = writeln!(
        err,
        "\x1b[2K  [{}{}] {ready}/{} ready",
        "#".repeat(filled),
        "-".repeat(30 - filled),
        rows.len()
    );
    DRAWN.store(rows.len() + 1, std::sync::atomic::Ordering::Relaxed);
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut seen = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => {
                return Err(format!(
                    "invalid duration {s:?}: use units h, m, s, ms (e.g. 5m30s)"
                ));
            }
        };
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        total += n * unit;
        num.clear();
        seen = true;
    }
    if !num.is_empty() {
        return Err(format!("invalid duration {s:?}: missing unit (e.g. 300s)"));
    }
    if !seen {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(total))
}

impl From<&ApplyFlags> for ApplyOptions {
    fn from(f: &ApplyFlags) -> Self {
        ApplyOptions {
            field_manager: f.field_manager.clone(),
            force_conflicts: f.force_conflicts,
            take_ownership: f.take_ownership,
            description: f.description.clone(),
            no_hooks: f.no_hooks,
            timeout: f.timeout,
            wait: f.rollback_on_failure
                || matches!(f.wait, Some(WaitStrategy::Watcher | WaitStrategy::Legacy)),
            wait_legacy: f.wait == Some(WaitStrategy::Legacy),
            wait_for_jobs: f.wait_for_jobs,
            rollback_on_failure: f.rollback_on_failure,
            cleanup_on_fail: f.cleanup_on_fail,
            report,
            disable_openapi_validation: f.disable_openapi_validation,
        }
    }
}

/// `--dry-run` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    /// Render offline; do not contact the cluster.
    Client,
    /// Render with the cluster's capabilities and check against it; change nothing.
    Server,
    /// Not a dry run.
    None,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Release name and chart (a directory or .tgz); with --generate-name only the chart.
    #[arg(value_name = "[NAME] CHART", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Generate the release name.
    #[arg(short = 'g', long)]
    pub generate_name: bool,
    /// Create the release namespace if it does not exist.
    #[arg(long)]
    pub create_namespace: bool,
    /// Change nothing: `client` renders offline, `server` also checks names and
    /// ownership against the cluster (bare --dry-run is client).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "client", value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Reuse the name of an uninstalled or failed release.
    #[arg(long)]
    pub replace: bool,
    /// Do not install the chart's crds/.
    #[arg(long)]
    pub skip_crds: bool,
    /// Labels for the release record (k=v,k2=v2).
    #[arg(long, value_delimiter = ',', value_name = "K=V")]
    pub labels: Vec<String>,
    /// Output format of the result.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub apply: ApplyFlags,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Release name.
    pub name: String,
    /// Chart (a directory or .tgz).
    pub chart: PathBuf,
    /// Install when the release does not exist.
    #[arg(short, long)]
    pub install: bool,
    /// Create the namespace (with --install).
    #[arg(long)]
    pub create_namespace: bool,
    /// Merge the last release's values under the new ones.
    #[arg(long, conflicts_with_all = ["reset_values", "reset_then_reuse_values"])]
    pub reuse_values: bool,
    /// Use only the chart's defaults and the new values.
    #[arg(long, conflicts_with = "reset_then_reuse_values")]
    pub reset_values: bool,
    /// The new chart's defaults, then the last release's values, then the new ones.
    #[arg(long)]
    pub reset_then_reuse_values: bool,
    /// Keep at most this many revisions (0 = all).
    #[arg(long, default_value_t = 10, env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
    /// Render and check against the cluster, but change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave the chart's crds/ as they are (pack upgrades them by default, unlike Helm).
    #[arg(long)]
    pub skip_crds: bool,
    /// Output format of the result.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub apply: ApplyFlags,
    #[command(flatten)]
    pub source: super::package::ChartSourceFlags,
    #[command(flatten)]
    pub values: ValuesFlags,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(subcommand)]
    pub what: DiffWhat,
    /// Exit with status 2 when there are changes (0 when none), for CI.
    #[arg(long, global = true)]
    pub exit_code: bool,
    /// Show Secret data instead of masking it.
    #[arg(long, global = true)]
    pub show_secrets: bool,
    /// Lines of context around each change.
    #[arg(short = 'C', long, default_value_t = 3, global = true)]
    pub context: usize,
    /// Output format: table is a colored unified diff per object.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub output: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum DiffWhat {
    /// What `install` would do.
    Install(InstallArgs),
    /// What `upgrade` would do.
    Upgrade(UpgradeArgs),
    /// What `rollback` would do.
    Rollback(RollbackArgs),
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Release name.
    pub name: String,
    /// Revision to return to (default: the one before the current).
    pub revision: Option<i64>,
    /// Keep at most this many revisions (0 = all).
    #[arg(long, default_value_t = 10, env = "HELM_MAX_HISTORY")]
    pub history_max: usize,
    #[command(flatten)]
    pub apply: ApplyFlags,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Release names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Keep the release records (status uninstalled).
    #[arg(long)]
    pub keep_history: bool,
    /// A release that does not exist is not an error.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Do not run hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Releases in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only names matching this regular expression.
    #[arg(short, long, value_name = "REGEX")]
    pub filter: Option<String>,
    /// Only deployed releases.
    #[arg(long)]
    pub deployed: bool,
    /// Only failed releases.
    #[arg(long)]
    pub failed: bool,
    /// Only pending releases.
    #[arg(long)]
    pub pending: bool,
    /// Only superseded releases.
    #[arg(long)]
    pub superseded: bool,
    /// Only uninstalled releases (with --keep-history).
    #[arg(long)]
    pub uninstalled: bool,
    /// Print names only (Helm's -q; -s works too).
    #[arg(short = 'q', long, short_alias = 's')]
    pub short: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Release name.
    pub name: String,
    /// How long each test may take.
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Print the logs of test pods.
    #[arg(long)]
    pub logs: bool,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Release name.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Release name.
    pub name: String,
    /// At most this many revisions.
    #[arg(long, default_value_t = 256)]
    pub max: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Release name.
    pub name: String,
    /// A revision other than the last.
    #[arg(long)]
    pub revision: Option<i64>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(subcommand)]
    pub what: GetWhat,
}

#[derive(Debug, Args)]
pub struct GetCommon {
    /// Release name.
    pub name: String,
    /// A revision other than the last.
    #[arg(long)]
    pub revision: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// The rendered manifests.
    Manifest(GetCommon),
    /// The user-supplied values (all computed values with --all).
    Values {
        #[command(flatten)]
        common: GetCommon,
        /// All values, chart defaults included.
        #[arg(short, long)]
        all: bool,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = OutputFormat::Yaml)]
        output: OutputFormat,
    },
    /// The rendered NOTES.txt.
    Notes(GetCommon),
    /// The hooks' manifests.
    Hooks(GetCommon),
    /// Name, chart, revision, status, dates.
    Metadata {
        #[command(flatten)]
        common: GetCommon,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Everything above.
    All(GetCommon),
}

type Boxed = Box<dyn std::error::Error + Send + Sync>;

/// Connects, runs `f` with the cluster and storage, and closes an in-process server.
pub(super) fn with_cluster<T>(
    global: &GlobalArgs,
    f: impl AsyncFnOnce(&Cluster, &Storage) -> Result<T, Boxed>,
) -> Result<T, Boxed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let target = Target {
            kubeconfig: global.kubeconfig.clone(),
            context: global.kube_context.clone(),
            embedded_dir: Dirs::from_env().cluster_data(),
        };
        let cluster = Cluster::connect(&target).await?;
        if let Some(dir) = &cluster.embedded_dir {
            eprintln!(
                "pack: no kubeconfig found; using the embedded cluster in {}",
                dir.display()
            );
        }
        let driver = std::env::var("HELM_DRIVER").unwrap_or_default();
        let storage = Storage::by_name(&driver, cluster.client.clone()).ok_or_else(|| {
            format!(
                "HELM_DRIVER={driver:?} is not a storage driver: use secret, configmap or memory"
            )
        })?;
        let out = f(&cluster, &storage).await;
        cluster.close().await;
        out
    })
}

/// Runs a mutating operation under the release's lock.
async fn locked<T>(
    cluster: &Cluster,
    namespace: &str,
    release: &str,
    op: impl AsyncFnOnce() -> Result<T, Boxed>,
) -> Result<T, Boxed> {
    let lock = crate::release::lock::Lock::acquire(&cluster.client, namespace, release).await?;
    let out = op().await;
    lock.release().await;
    out
}

fn chart_name(r: &Release) -> String {
    format!(
        "{}-{}",
        r.chart["metadata"]["name"].as_str().unwrap_or_default(),
        r.chart["metadata"]["version"].as_str().unwrap_or_default()
    )
}

fn app_version(r: &Release) -> &str {
    r.chart["metadata"]["appVersion"]
        .as_str()
        .unwrap_or_default()
}

fn summary(r: &Release) -> serde_json::Value {
    serde_json::json!({
        "name": r.name, "namespace": r.namespace, "revision": r.version.to_string(),
        "updated": r.info.last_deployed, "status": r.info.status, "chart": chart_name(r),
        "app_version": app_version(r),
    })
}

fn print_data(v: &serde_json::Value, output: OutputFormat) -> CliResult {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string(v)?),
        _ => {
            let value = crate::value::Value::from_json(&v.to_string())?;
            print!("{}", crate::value::yaml::to_string(&value));
        }
    }
    Ok(())
}

/// An RFC 3339 time in the local zone, as Helm prints it (Go's `time.ANSIC`:
/// `Sat Dec  5 02:12:10 2026`); unparsable text as it is.
fn ansic(rfc3339: &str) -> String {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%a %b %e %H:%M:%S %Y")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

fn print_release(r: &Release, output: OutputFormat, hide_notes: bool) -> CliResult {
    if output != OutputFormat::Table {
        return print_data(&serde_json::to_value(r)?, output);
    }
    println!("NAME: {}", r.name);
    println!("LAST DEPLOYED: {}", ansic(&r.info.last_deployed));
    println!("NAMESPACE: {}", r.namespace);
    println!("STATUS: {}", r.info.status);
    println!("REVISION: {}", r.version);
    if !r.info.description.is_empty() {
        println!("DESCRIPTION: {}", r.info.description);
    }
    if !hide_notes && !r.info.notes.trim().is_empty() {
        println!("NOTES:\n{}", r.info.notes.trim_end());
    }
    Ok(())
}

fn table(rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", line.join("\t").trim_end());
    }
}

fn template_request(
    name: &str,
    chart: PathBuf,
    global: &GlobalArgs,
    values: &ValuesFlags,
    source: &super::package::ChartSourceFlags,
    apply: &ApplyFlags,
) -> Result<TemplateRequest, Boxed> {
    // A repository chart (`REPO/CHART`, `--repo URL`, a chart URL) is downloaded first.
    let chart = super::package::resolve_chart(&chart, source)?;
    Ok(TemplateRequest {
        chart,
        release: ReleaseInfo {
            name: name.to_string(),
            namespace: global.namespace().to_string(),
            revision: 1,
            is_upgrade: false,
        },
        values: ValueOptions::from(values),
        skip_schema_validation: apply.skip_schema_validation,
        ..TemplateRequest::default()
    })
}

fn generated_name(chart: &std::path::Path) -> String {
    let base = chart
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("release")
        .to_lowercase();
    let base: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!(
        "{}-{}",
        base.trim_matches('-'),
        jiff::Timestamp::now().as_second()
    )
}

pub fn install(args: &InstallArgs, global: &GlobalArgs) -> CliResult {
    let (name, chart) = match (args.args.as_slice(), args.generate_name) {
        ([chart], true) => (generated_name(std::path::Path::new(chart)), chart.clone()),
        ([name, chart], false) => (name.clone(), chart.clone()),
        ([_], false) => {
            return Err("install needs a release name and a chart (or --generate-name)".into());
        }
        (_, true) => return Err("with --generate-name, give only the chart".into()),
        _ => return Err("install takes [NAME] CHART".into()),
    };
    let mut labels = BTreeMap::new();
    for l in &args.labels {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| format!("--labels takes key=value pairs, got {l:?}"))?;
        labels.insert(k.to_string(), v.to_string());
    }
    let dry_run = args.dry_run.filter(|d| *d != DryRun::None);
    let req = InstallRequest {
        template: template_request(
            &name,
            PathBuf::from(chart),
            global,
            &args.values,
            &args.source,
            &args.apply,
        )?,
        create_namespace: args.create_namespace,
        dry_run: dry_run.is_some(),
        replace: args.replace,
        skip_crds: args.skip_crds,
        labels,
        apply: ApplyOptions::from(&args.apply),
    };
    if dry_run == Some(DryRun::Client) {
        let (mut rel, _) = lifecycle::render_release(&req, 1, &mut std::io::stdin())?;
        rel.info.description = "Dry run complete".into();
        print_release(&rel, args.output, args.apply.hide_notes)?;
        if args.output == OutputFormat::Table {
            println!("MANIFEST:\n{}", rel.manifest);
        }
        return Ok(());
    }
    let ns = global.namespace().to_string();
    let result = with_cluster(global, async |cluster, storage| {
        // The release's lock lives in its namespace, so that comes first.
        if req.create_namespace && !req.dry_run {
            cluster.ensure_namespace(&ns).await?;
        }
        let rel = locked(cluster, &ns, &name, async || {
            Ok(lifecycle::install(cluster, storage, &req, &mut std::io::stdin()).await?)
        })
        .await?;
        // A server dry run also shows what would change, object by object.
        let changes = if req.dry_run {
            Some(crate::action::diff::install(cluster, &req, false, &mut std::io::empty()).await?)
        } else {
            None
        };
        Ok((rel, changes))
    });
    // What waiting saw, also when it failed.
    print_wait_summary();
    let (rel, changes) = result?;
    print_release(&rel, args.output, args.apply.hide_notes)?;
    if dry_run.is_some() && args.output == OutputFormat::Table {
        println!("MANIFEST:\n{}", rel.manifest);
    }
    if let Some(changes) = changes
        && args.output == OutputFormat::Table
    {
        print_changes(&changes);
    }
    Ok(())
}

/// The upgrade an `upgrade` command line asks for (also what `diff upgrade` previews).
fn upgrade_request(args: &UpgradeArgs, global: &GlobalArgs) -> Result<UpgradeRequest, Boxed> {
    let reuse = if args.reuse_values {
        ValueReuse::Reuse
    } else if args.reset_values {
        ValueReuse::Reset
    } else if args.reset_then_reuse_values {
        ValueReuse::ResetThenReuse
    } else {
        ValueReuse::Default
    };
    Ok(UpgradeRequest {
        template: template_request(
            &args.name,
            args.chart.clone(),
            global,
            &args.values,
            &args.source,
            &args.apply,
        )?,
        reuse,
        install: args.install,
        create_namespace: args.create_namespace,
        dry_run: args.dry_run,
        history_max: args.history_max,
        skip_crds: args.skip_crds,
        apply: ApplyOptions::from(&args.apply),
    })
}

pub fn upgrade(args: &UpgradeArgs, global: &GlobalArgs) -> CliResult {
    let req = upgrade_request(args, global)?;
    let ns = global.namespace().to_string();
    let result = with_cluster(global, async |cluster, storage| {
        if req.install && req.create_namespace && !req.dry_run {
            cluster.ensure_namespace(&ns).await?;
        }
        let rel = locked(cluster, &ns, &args.name, async || {
            Ok(lifecycle::upgrade(cluster, storage, &req, &mut std::io::stdin()).await?)
        })
        .await?;
        // A dry run (always checked by the server) also shows what would change.
        let changes = if req.dry_run {
            Some(
                crate::action::diff::upgrade(cluster, storage, &req, false, &mut std::io::empty())
                    .await?,
            )
        } else {
            None
        };
        Ok((rel, changes))
    });
    print_wait_summary();
    let (rel, changes) = result?;
    if args.output == OutputFormat::Table {
        println!("Release \"{}\" has been upgraded. Happy Helming!", rel.name);
    }
    print_release(&rel, args.output, args.apply.hide_notes)?;
    if let Some(changes) = changes
        && args.output == OutputFormat::Table
    {
        print_changes(&changes);
    }
    Ok(())
}

/// The changes a dry run found: a unified diff per changed object and the summary.
fn print_changes(changes: &[crate::action::diff::Change]) {
    use crate::action::diff;
    println!("DIFF:");
    for c in changes.iter().filter(|c| c.kind != diff::ChangeKind::Same) {
        anstream::print!("{}", diff::unified(c, 3, true));
    }
    println!("{}", diff::summary(changes));
}

pub fn diff(args: &DiffArgs, global: &GlobalArgs) -> CliResult {
    use crate::action::diff;
    let changes = match &args.what {
        DiffWhat::Install(a) => {
            let name = a.args.first().cloned().unwrap_or_default();
            let chart = a.args.get(1).cloned().unwrap_or_default();
            let req = InstallRequest {
                template: template_request(
                    &name,
                    PathBuf::from(chart),
                    global,
                    &a.values,
                    &a.source,
                    &a.apply,
                )?,
                apply: ApplyOptions::from(&a.apply),
                ..InstallRequest::default()
            };
            with_cluster(global, async |cluster, _| {
                Ok(diff::install(cluster, &req, args.show_secrets, &mut std::io::stdin()).await?)
            })?
        }
        DiffWhat::Upgrade(a) => {
            let req = upgrade_request(a, global)?;
            with_cluster(global, async |cluster, storage| {
                Ok(diff::upgrade(
                    cluster,
                    storage,
                    &req,
                    args.show_secrets,
                    &mut std::io::stdin(),
                )
                .await?)
            })?
        }
        DiffWhat::Rollback(a) => {
            let ns = global.namespace().to_string();
            with_cluster(global, async |cluster, storage| {
                Ok(diff::rollback(
                    cluster,
                    storage,
                    &ns,
                    &a.name,
                    a.revision.unwrap_or(0),
                    &a.apply.field_manager,
                    args.show_secrets,
                )
                .await?)
            })?
        }
    };
    let changed = changes.iter().any(|c| c.kind != diff::ChangeKind::Same);
    if args.output == OutputFormat::Table {
        // anstream drops the colors when stdout is not a terminal or --color never.
        for c in changes.iter().filter(|c| c.kind != diff::ChangeKind::Same) {
            anstream::print!("{}", diff::unified(c, args.context, true));
        }
        println!("{}", diff::summary(&changes));
    } else {
        let v: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                serde_json::json!({"change": c.kind.as_str(), "object": c.id,
                    "diff": diff::unified(c, args.context, false)})
            })
            .collect();
        print_data(&serde_json::Value::Array(v), args.output)?;
    }
    if args.exit_code && changed {
        return Err(Box::new(super::ExitCodeError {
            code: 2,
            message: String::new(),
        }));
    }
    Ok(())
}

pub fn rollback(args: &RollbackArgs, global: &GlobalArgs) -> CliResult {
    let opts = ApplyOptions::from(&args.apply);
    let ns = global.namespace().to_string();
    with_cluster(global, async |cluster, storage| {
        locked(cluster, &ns, &args.name, async || {
            Ok(lifecycle::rollback(
                cluster,
                storage,
                &ns,
                &args.name,
                args.revision.unwrap_or(0),
                args.history_max,
                &opts,
            )
            .await?)
        })
        .await
    })?;
    println!("Rollback was a success! Happy Helming!");
    Ok(())
}

pub fn uninstall(args: &UninstallArgs, global: &GlobalArgs) -> CliResult {
    let ns = global.namespace().to_string();
    let opts = ApplyOptions {
        no_hooks: args.no_hooks,
        ..ApplyOptions::default()
    };
    with_cluster(global, async |cluster, storage| {
        for name in &args.names {
            match lifecycle::uninstall(cluster, storage, &ns, name, args.keep_history, &opts)
                .await?
            {
                Some(done) => {
                    if !done.kept.is_empty() {
                        println!("These resources were kept due to the resource policy:");
                        for k in &done.kept {
                            println!("[{k}]");
                        }
                    }
                    println!("release \"{name}\" uninstalled");
                }
                None if args.ignore_not_found => {}
                None => {
                    return Err(format!(
                        "uninstall: Release not loaded: {name}: release: not found"
                    )
                    .into());
                }
            }
        }
        Ok(())
    })
}

pub fn list(args: &ListArgs, global: &GlobalArgs) -> CliResult {
    let ns = (!args.all_namespaces).then(|| global.namespace().to_string());
    let all = with_cluster(global, async |_, storage| {
        Ok(storage.all(ns.as_deref()).await?)
    })?;
    let filter = args.filter.as_deref().map(regex::Regex::new).transpose()?;
    let mut latest: BTreeMap<(String, String), Release> = BTreeMap::new();
    for r in all {
        let k = (r.namespace.clone(), r.name.clone());
        if latest.get(&k).is_none_or(|l| l.version < r.version) {
            latest.insert(k, r);
        }
    }
    let wanted: Vec<&str> = [
        (args.deployed, status::DEPLOYED),
        (args.failed, status::FAILED),
        (args.superseded, status::SUPERSEDED),
        (args.uninstalled, status::UNINSTALLED),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, s)| *s)
    .collect();
    let mut rows: Vec<&Release> = latest
        .values()
        .filter(|r| filter.as_ref().is_none_or(|f| f.is_match(&r.name)))
        .filter(|r| {
            (wanted.is_empty() && !args.pending)
                || wanted.contains(&r.info.status.as_str())
                || (args.pending && status::is_pending(&r.info.status))
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    if args.short {
        rows.iter().for_each(|r| println!("{}", r.name));
        return Ok(());
    }
    if args.output != OutputFormat::Table {
        let v: Vec<serde_json::Value> = rows.iter().map(|r| summary(r)).collect();
        return print_data(&serde_json::Value::Array(v), args.output);
    }
    let mut t = vec![
        [
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        t.push(vec![
            r.name.clone(),
            r.namespace.clone(),
            r.version.to_string(),
            r.info.last_deployed.clone(),
            r.info.status.clone(),
            chart_name(r),
            app_version(r).to_string(),
        ]);
    }
    table(&t);
    Ok(())
}

fn load_history(global: &GlobalArgs, name: &str) -> Result<Vec<Release>, Boxed> {
    let ns = global.namespace().to_string();
    let history = with_cluster(global, async |_, storage| {
        Ok(storage.history(&ns, name).await?)
    })?;
    if history.is_empty() {
        return Err(format!("release: not found: \"{name}\" in namespace \"{ns}\"").into());
    }
    Ok(history)
}

fn pick(history: Vec<Release>, revision: Option<i64>) -> Result<Release, Boxed> {
    match revision {
        None => history
            .into_iter()
            .last()
            .ok_or_else(|| "release: not found".into()),
        Some(rev) => history
            .into_iter()
            .find(|r| r.version == rev)
            .ok_or_else(|| format!("release: revision {rev} not found").into()),
    }
}

pub fn test(args: &TestArgs, global: &GlobalArgs) -> CliResult {
    let ns = global.namespace().to_string();
    let opts = ApplyOptions {
        timeout: args.timeout,
        ..ApplyOptions::default()
    };
    let (rel, runs, logs) = with_cluster(global, async |cluster, storage| {
        let (rel, runs) = locked(cluster, &ns, &args.name, async || {
            Ok(lifecycle::test(cluster, storage, &ns, &args.name, &opts).await?)
        })
        .await?;
        let mut logs = Vec::new();
        if args.logs {
            let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
                kube::Api::namespaced(cluster.client.clone(), &ns);
            for run in runs.iter().filter(|r| r.kind == "Pod") {
                let text = pods
                    .logs(&run.name, &Default::default())
                    .await
                    .unwrap_or_default();
                logs.push((run.name.clone(), text));
            }
        }
        Ok((rel, runs, logs))
    })?;
    print_release(&rel, OutputFormat::Table, true)?;
    for run in &runs {
        println!("TEST SUITE:     {}", run.name);
        println!("Last Started:   {}", run.started);
        println!("Last Completed: {}", run.completed);
        println!("Phase:          {}", run.phase);
    }
    for (name, text) in logs {
        println!("POD LOGS: {name}\n{text}");
    }
    if let Some(failed) = runs.iter().find(|r| r.phase != "Succeeded") {
        return Err(format!(
            "{} failed: {}",
            failed.name,
            failed.error.clone().unwrap_or_default()
        )
        .into());
    }
    Ok(())
}

pub fn recover(args: &RecoverArgs, global: &GlobalArgs) -> CliResult {
    let ns = global.namespace().to_string();
    let done = with_cluster(global, async |cluster, storage| {
        locked(cluster, &ns, &args.name, async || {
            Ok(lifecycle::recover(storage, &ns, &args.name).await?)
        })
        .await
    })?;
    match done {
        Some(rel) => println!(
            "release \"{}\" recovered: revision {} marked failed ({})",
            rel.name, rel.version, rel.info.description
        ),
        None => println!("release \"{}\" has no interrupted operation", args.name),
    }
    Ok(())
}

pub fn history(args: &HistoryArgs, global: &GlobalArgs) -> CliResult {
    let history = load_history(global, &args.name)?;
    let skip = history.len().saturating_sub(args.max);
    let rows: Vec<&Release> = history.iter().skip(skip).collect();
    if args.output != OutputFormat::Table {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"revision": r.version, "updated": r.info.last_deployed, "status": r.info.status,
                    "chart": chart_name(r), "app_version": app_version(r), "description": r.info.description})
            })
            .collect();
        return print_data(&serde_json::Value::Array(v), args.output);
    }
    let mut t = vec![
        [
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION",
            "DESCRIPTION",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        t.push(vec![
            r.version.to_string(),
            r.info.last_deployed.clone(),
            r.info.status.clone(),
            chart_name(r),
            app_version(r).to_string(),
            r.info.description.clone(),
        ]);
    }
    table(&t);
    Ok(())
}

pub fn status_cmd(args: &StatusArgs, global: &GlobalArgs) -> CliResult {
    let rel = pick(load_history(global, &args.name)?, args.revision)?;
    print_release(&rel, args.output, false)
}

pub fn get(args: &GetArgs, global: &GlobalArgs) -> CliResult {
    let common = match &args.what {
        GetWhat::Manifest(c) | GetWhat::Notes(c) | GetWhat::Hooks(c) | GetWhat::All(c) => c,
        GetWhat::Values { common, .. } | GetWhat::Metadata { common, .. } => common,
    };
    let rel = pick(load_history(global, &common.name)?, common.revision)?;
    let hooks = || {
        for h in &rel.hooks {
            println!(
                "---\n# Source: {}\n{}",
                h["path"].as_str().unwrap_or_default(),
                h["manifest"].as_str().unwrap_or_default()
            );
        }
    };
    match &args.what {
        GetWhat::Manifest(_) => println!("{}", rel.manifest),
        GetWhat::Notes(_) => println!("NOTES:\n{}", rel.info.notes.trim_end()),
        GetWhat::Hooks(_) => hooks(),
        GetWhat::Values { all, output, .. } => {
            let values = if *all {
                let mut merged = rel.config.clone();
                if let (Some(m), Some(defaults)) =
                    (merged.as_object_mut(), rel.chart["values"].as_object())
                {
                    for (k, v) in defaults {
                        m.entry(k.clone()).or_insert(v.clone());
                    }
                } else if merged.is_null() {
                    merged = rel.chart["values"].clone();
                }
                merged
            } else {
                rel.config.clone()
            };
            if *output == OutputFormat::Table {
                println!("USER-SUPPLIED VALUES:");
                print_data(&values, OutputFormat::Yaml)?;
            } else {
                print_data(&values, *output)?;
            }
        }
        GetWhat::Metadata { output, .. } => {
            let meta = serde_json::json!({
                "name": rel.name, "chart": rel.chart["metadata"]["name"], "version": rel.chart["metadata"]["version"],
                "appVersion": app_version(&rel), "namespace": rel.namespace, "revision": rel.version,
                "status": rel.info.status, "deployedAt": rel.info.last_deployed, "applyMethod": rel.apply_method,
            });
            if *output == OutputFormat::Table {
                for (k, v) in meta.as_object().into_iter().flatten() {
                    println!(
                        "{}: {}",
                        k.to_uppercase(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    );
                }
            } else {
                print_data(&meta, *output)?;
            }
        }
        GetWhat::All(_) => {
            print_release(&rel, OutputFormat::Table, false)?;
            println!("USER-SUPPLIED VALUES:");
            print_data(&rel.config, OutputFormat::Yaml)?;
            println!("HOOKS:");
            hooks();
            println!("MANIFEST:");
            println!("{}", rel.manifest);
        }
    }
    Ok(())
}
