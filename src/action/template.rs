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
    pub sources: std::collections::HashMap<String, std::sync::Arc<str>>,
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
    // With schemas to compile, the render thread starts now and compiles them while the
    // chart loads; else it starts once Go templates are found. Native charts never need it,
    // and starting it for nothing cost the create chart 0.4 ms of its 2.9 after a helm run.
    let mut schemas = Vec::new();
    if !req.skip_schema_validation {
        schema_files(&req.chart, 0, &mut schemas);
    }
    let worker = if schemas.is_empty() {
        None
    } else {
        render::worker::Worker::start()
    };
    if let Some(w) = &worker {
        w.send(move || {
            for path in schemas {
                if let Ok(mut raw) = std::fs::read(&path) {
                    // As the loader reads it, so that the compiled schema is found.
                    chart::strip_bom(&mut raw);
                    values::schema::precompile(raw);
                }
            }
            crate::timing::mark("schemas compiled");
        });
    }
    let c = chart::load(&req.chart)?;
    crate::timing::mark("chart loaded");
    render_loaded_on(c, req, stdin, worker)
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
    /// Documents already parsed while the render ran (see [`manifest::split_with`]).
    pub documents: manifest::ParsedDocuments,
}

/// [`render_chart`] for a chart already in memory (`req.chart` is not read).
pub fn render_loaded(
    chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<TemplateResult, TemplateError> {
    render_loaded_on(chart, req, stdin, None)
}

fn render_loaded_on(
    chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
    worker: Option<render::worker::Worker>,
) -> Result<TemplateResult, TemplateError> {
    let RenderedChart {
        chart,
        mut rendered,
        warnings,
        config,
        mut documents,
    } = render_files_on(chart, req, stdin, worker)?;
    let (mut manifests, mut hooks) = manifest::split_with(&rendered.files, &mut documents)?;
    let sources = rendered
        .files
        .iter_mut()
        .map(|f| (f.path.clone(), std::mem::take(&mut f.template_source)))
        .collect();
    manifest::sort_install_order(&mut manifests);
    manifest::sort_install_order(&mut hooks);
    crate::timing::mark("manifests split and sorted");
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
    chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
) -> Result<RenderedChart, TemplateError> {
    render_files_on(chart, req, stdin, None)
}

/// [`render_files`] on a render thread already started (else one is started here).
fn render_files_on(
    mut chart: chart::Chart,
    req: &TemplateRequest,
    stdin: &mut dyn Read,
    worker: Option<render::worker::Worker>,
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
    // Go templates parse on the render thread and here; RSA keys the templates will ask
    // for are generated meanwhile.
    let sources = render::gotmpl::sources(&chart);
    let keys: usize = sources.iter().map(|s| rsa_key_calls(&s.text)).sum();
    if keys > 0 {
        crate::funcs::crypto::pregenerate_rsa_2048(keys.min(4));
    }
    let helm_templates = !sources.is_empty();
    let worker = if helm_templates {
        worker.or_else(render::worker::Worker::start)
    } else {
        None
    };
    let queue = std::sync::Arc::new(render::gotmpl::ParseQueue::new(sources));
    if let Some(w) = &worker {
        let q = queue.clone();
        w.send(move || {
            q.work();
            crate::timing::mark("templates parsed (its share)");
        });
    }
    // The worker compiles the schemas, then parses its share; here values are computed,
    // then this thread parses its share.
    let computed = values::compute_unchecked(&mut chart, &user)?;
    crate::timing::mark("values computed");
    queue.work();
    crate::timing::mark("templates parsed (its share)");
    let check = !req.skip_schema_validation;
    let opts = RenderOptions {
        strict: req.strict,
        lookup: req.lookup.clone(),
        ..RenderOptions::default()
    };
    let mut documents = manifest::ParsedDocuments::default();
    let (chart, rendered) = match worker {
        // The worker renders while this thread checks the values against the schemas, then
        // parses each file the worker has rendered. Values that fail their schemas fail
        // here, whatever the render gave: Helm checks before it renders.
        Some(w) => {
            let (release, caps) = (req.release.clone(), caps.clone());
            let chart = std::sync::Arc::new(chart);
            let values = std::sync::Arc::new(computed.values);
            let (stream, files) = std::sync::mpsc::channel();
            // Rendered files are parsed here as they come; once its render is done, the
            // worker takes its share of those still waiting.
            let files = std::sync::Arc::new(std::sync::Mutex::new(files));
            let ran = w.submit({
                let (chart, values, files) = (chart.clone(), values.clone(), files.clone());
                move || {
                    let opts = RenderOptions {
                        preparsed: Some(std::sync::Arc::new(std::sync::Mutex::new(queue.take()))),
                        stream: Some(stream),
                        ..opts
                    };
                    let rendered = render::render(&chart, &values, &release, &caps, &opts);
                    // The stream ends here, before anything is set aside to be freed later.
                    drop(opts);
                    let mut documents = manifest::ParsedDocuments::default();
                    parse_streamed(&files, &mut documents);
                    crate::timing::mark("rendered files parsed (its share)");
                    render::worker::discard(values);
                    (chart, rendered, documents)
                }
            });
            let checked = if check {
                values::check_schemas(&chart, &values, &user)
            } else {
                Ok(())
            };
            crate::timing::mark("values checked");
            // Dropped before the worker is done, so that it frees the values.
            drop((chart, values));
            parse_streamed(&files, &mut documents);
            crate::timing::mark("rendered files parsed (its share)");
            let Some((chart, rendered, theirs)) = ran.recv().ok() else {
                return Err(TemplateError::Render(RenderFailure::Template(Box::new(
                    render::RenderError::engine("the template engine crashed".into()),
                ))));
            };
            documents.extend(theirs);
            checked?;
            let chart = std::sync::Arc::try_unwrap(chart).unwrap_or_else(|c| (*c).clone());
            (chart, rendered)
        }
        None => {
            if check {
                values::check_schemas(&chart, &computed.values, &user)?;
            }
            let opts = RenderOptions {
                preparsed: helm_templates
                    .then(|| std::sync::Arc::new(std::sync::Mutex::new(queue.take()))),
                ..opts
            };
            let rendered = render::render(&chart, &computed.values, &req.release, &caps, &opts);
            (chart, rendered)
        }
    };
    let rendered = rendered?;
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
        documents,
    })
}

/// Parses rendered files from `files` until the stream ends (several threads may share it).
fn parse_streamed(
    files: &std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
    documents: &mut manifest::ParsedDocuments,
) {
    loop {
        let next = match files.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match next {
            Ok(content) => documents.add_file(&content, false),
            Err(_) => return,
        }
    }
}

/// The `values.schema.json` files of a chart directory and of the unpacked subcharts under
/// its `charts/` (archives are left to be compiled when they are checked).
fn schema_files(dir: &std::path::Path, depth: usize, out: &mut Vec<PathBuf>) {
    let schema = dir.join("values.schema.json");
    if schema.is_file() {
        out.push(schema);
    }
    if depth >= 4 {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("charts")) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                schema_files(&entry.path(), depth + 1, out);
            }
        }
    }
}

/// How many times a template names `genCA`, `genSignedCert` or `genSelfSignedCert`.
fn rsa_key_calls(source: &str) -> usize {
    let b = source.as_bytes();
    let mut count = 0;
    let mut at = 0;
    while let Some(i) = crate::bytes::find(b'g', &b[at..]) {
        let rest = &b[at + i + 1..];
        if rest.starts_with(b"en")
            && (rest[2..].starts_with(b"CA")
                || rest[2..].starts_with(b"SignedCert")
                || rest[2..].starts_with(b"SelfSignedCert"))
        {
            count += 1;
        }
        at += i + 1;
    }
    count
}

fn collect_crds(c: &chart::Chart, prefix: &str, out: &mut Vec<(String, String)>) {
    for f in c.crd_files() {
        out.push((format!("{prefix}/{}", f.name), f.text().into_owned()));
    }
    for sub in &c.dependencies {
        collect_crds(sub, &format!("{prefix}/charts/{}", sub.name()), out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rsa_key_calls_are_counted_by_name() {
        let src = r#"{{ $ca := genCA "x" 365 }}{{ genSignedCert "a" nil nil 1 $ca }}
{{ genSelfSignedCert "b" nil nil 1 }} generated {{ genPrivateKey "rsa" }} {{ genCAx }}"#;
        // genCAx counts too: the scan is a cheap over-estimate that only starts key
        // generation early, never decides what a template gets.
        assert_eq!(super::rsa_key_calls(src), 4);
        assert_eq!(super::rsa_key_calls("no keys here, gen"), 0);
    }
}
