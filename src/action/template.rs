//! Rendering a chart offline into sorted manifests and hooks (`pack template`, and the
//! first half of install and upgrade).

use crate::chart::{self, KubeVersionMismatch, LoadError};
use crate::k8s::{Capabilities, KubeVersion};
use crate::manifest::{self, Manifest, ManifestError};
use crate::render::{self, ReleaseInfo, RenderFailure, RenderOptions};
use crate::values::{self, ComputeError, ValueOptions, ValuesError};
use std::io::Read;
use std::path::PathBuf;

/// What to render.
#[derive(Clone, Debug, Default)]
pub struct TemplateRequest {
    /// A chart directory or archive.
    pub chart: PathBuf,
    /// Release name, namespace, revision, install or upgrade.
    pub release: ReleaseInfo,
    /// `-f` and `--set*`.
    pub values: ValueOptions,
    /// `--kube-version` (default v1.35.0).
    pub kube_version: Option<KubeVersion>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// Undefined values are errors.
    pub strict: bool,
    /// A live cluster's capabilities (instead of the offline defaults and the two flags
    /// above).
    pub capabilities: Option<Capabilities>,
    /// Values an upgrade carries over, under the user's new ones.
    pub base_config: Option<crate::value::Map>,
    /// Defaults that replace the chart's own (`upgrade --reuse-values`: the old chart's
    /// values with the old release's config over them).
    pub replace_defaults: Option<crate::value::Value>,
    /// Answers for `lookup` from a live cluster (install and upgrade); `None` offline.
    pub lookup: Option<std::sync::Arc<render::LookupTable>>,
}

/// What rendering produced.
#[derive(Clone, Debug, Default)]
pub struct TemplateResult {
    /// Documents, in Helm's install order.
    pub manifests: Vec<Manifest>,
    /// Hooks, in install order of their kinds.
    pub hooks: Vec<Manifest>,
    /// CRD files of the chart and its subcharts: (`chart/crds/x.yaml`, text).
    pub crds: Vec<(String, String)>,
    /// The root chart's NOTES.txt.
    pub notes: Option<String>,
    /// What Helm would print as warnings.
    pub warnings: Vec<String>,
    /// The user-supplied values (a release's `config`).
    pub config: crate::value::Map,
    /// Template sources by rendered path (`chart/templates/x.yaml`), to point validation
    /// problems at template lines.
    pub sources: std::collections::HashMap<String, String>,
}

/// Why a chart could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Loading the chart failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Reading the values flags failed.
    #[error(transparent)]
    Values(#[from] ValuesError),
    /// Computing values failed (dependencies, schema).
    #[error(transparent)]
    Compute(#[from] ComputeError),
    /// `kubeVersion` excludes the target.
    #[error(transparent)]
    KubeVersion(#[from] KubeVersionMismatch),
    /// A library chart cannot be rendered on its own.
    #[error("chart {0} is a library chart: library charts are not installable")]
    Library(String),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] RenderFailure),
    /// A rendered document is not YAML.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Loads, computes values, renders and sorts; `stdin` serves `-f -`.
pub fn render_chart(
    req: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<TemplateResult, TemplateError> {
    render_loaded(chart::load(&req.chart)?, req, stdin)
}

/// A line as Helm 4 logs it to stderr (Go's slog text format): `level=WARN msg="…"`.
pub fn log_line(level: &str, msg: &str) -> String {
    let plain = !msg.is_empty()
        && msg
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
    if plain {
        format!("level={level} msg={msg}")
    } else {
        format!("level={level} msg={}", crate::funcs::format::go_quote(msg))
    }
}

/// A chart rendered to files, before they are split into manifests.
#[derive(Debug)]
pub struct RenderedChart {
    /// The chart, its dependencies processed.
    pub chart: chart::Chart,
    /// Every rendered file and the root's NOTES.txt.
    pub rendered: render::Rendered,
    /// What Helm would print as warnings.
    pub warnings: Vec<String>,
    /// The user-supplied values.
    pub config: crate::value::Map,
}

/// [`render_chart`] for a chart already in memory (`req.chart` is not read).
pub fn render_loaded(
    chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<TemplateResult, TemplateError> {
    let RenderedChart {
        chart,
        mut rendered,
        warnings,
        config,
    } = render_files(chart, req, stdin)?;
    let (mut manifests, mut hooks) = manifest::split(&rendered.files)?;
    let sources = rendered
        .files
        .iter_mut()
        .map(|f| (f.path.clone(), std::mem::take(&mut f.template_source)))
        .collect();
    manifest::sort_install_order(&mut manifests);
    manifest::sort_install_order(&mut hooks);
    let mut crds = Vec::new();
    collect_crds(&chart, chart.name(), &mut crds);
    Ok(TemplateResult {
        manifests,
        hooks,
        crds,
        notes: rendered.notes,
        warnings,
        config,
        sources,
    })
}

/// Loads values and renders a chart in memory to files (`req.chart` is not read).
pub fn render_files(
    mut chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<RenderedChart, TemplateError> {
    if chart.metadata.is_library() {
        return Err(TemplateError::Library(chart.name().to_owned()));
    }
    let caps = match &req.capabilities {
        Some(caps) => caps.clone(),
        None => Capabilities::offline(
            req.kube_version.clone().unwrap_or_default(),
            &req.api_versions,
        ),
    };
    chart.check_kube_version(&caps.kube_version)?;
    if let Some(defaults) = &req.replace_defaults {
        chart.values = defaults.clone();
    }
    let mut user = req.values.build(chart.engine(), stdin)?;
    if let Some(base) = &req.base_config {
        let mut ignored = Vec::new();
        crate::values::coalesce::coalesce_tables(&mut user.values, base, &mut ignored);
    }
    // Go templates parse on another core while values are computed; RSA keys the templates
    // will ask for are generated meanwhile.
    let sources = render::gotmpl::sources(&chart);
    let keys: usize = sources
        .iter()
        .map(|s| {
            ["genCA", "genSignedCert", "genSelfSignedCert"]
                .iter()
                .map(|f| s.matches(f).count())
                .sum::<usize>()
        })
        .sum();
    if keys > 0 {
        crate::funcs::crypto::pregenerate_rsa_2048(keys.min(4));
    }
    let (computed, preparsed) = std::thread::scope(|s| {
        let ahead = if sources.is_empty() {
            None
        } else {
            std::thread::Builder::new()
                .name("pack-preparse".into())
                .stack_size(render::gotmpl::STACK_BYTES)
                .spawn_scoped(s, || render::gotmpl::preparse(sources))
                .ok()
        };
        let computed = values::compute(&mut chart, &user, req.skip_schema_validation);
        let preparsed = ahead.and_then(|h| h.join().ok());
        (computed, preparsed)
    });
    let computed = computed?;
    let rendered = render::render(
        &chart,
        &computed.values,
        &req.release,
        &caps,
        &RenderOptions {
            strict: req.strict,
            preparsed: preparsed.map(|p| std::sync::Arc::new(std::sync::Mutex::new(p))),
            lookup: req.lookup.clone(),
            ..RenderOptions::default()
        },
    )?;
    // Helm's log lines: coalescing notes at INFO, a deprecated chart at WARN.
    let mut warnings: Vec<String> = computed
        .warnings
        .iter()
        .map(|w| log_line("INFO", &w.to_string()))
        .collect();
    if chart.metadata.deprecated {
        warnings.push(log_line("WARN", "this chart is deprecated"));
    }
    Ok(RenderedChart {
        chart,
        rendered,
        warnings,
        config: user.values,
    })
}

fn collect_crds(c: &chart::Chart, prefix: &str, out: &mut Vec<(String, String)>) {
    for f in c.crd_files() {
        out.push((format!("{prefix}/{}", f.name), f.text().into_owned()));
    }
    for sub in &c.dependencies {
        collect_crds(sub, &format!("{prefix}/charts/{}", sub.name()), out);
    }
}
