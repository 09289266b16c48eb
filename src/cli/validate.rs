//! `pack validate [FILE|DIR|-]…`: checks Kubernetes manifests offline against the
//! schemas of the target Kubernetes version.

use super::{CliResult, ExitCodeError};
use crate::k8s::KubeVersion;
use crate::validate::{Validator, report};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One line per problem (`file:line Kind/name: path: message`).
    Text,
    /// A summary and every object with its problems.
    Json,
    /// JUnit XML, one test case per object (for CI test reports).
    Junit,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pack validate deploy/\n  \
                        pack template demo ./chart | pack validate -\n  \
                        pack validate --schema-location crds/ -o junit manifests/ > report.xml")]
pub struct ValidateArgs {
    /// Files or directories of YAML/JSON manifests (`-` reads standard input).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Kubernetes version whose schemas apply (default v1.35.0).
    #[arg(long, value_name = "VERSION", value_parser = KubeVersion::parse)]
    pub kube_version: Option<KubeVersion>,
    /// CRDs (YAML or JSON) or JSON Schema files (`<group>/<kind>_<version>.json`) for
    /// custom resources: a file or a directory (repeatable). CRDs among the checked
    /// manifests are used too.
    #[arg(long, value_name = "DIR|FILE")]
    pub schema_location: Vec<PathBuf>,
    /// Accept fields the schemas do not know.
    #[arg(long)]
    pub no_strict: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// With text output, print only problems (not a line per valid or skipped object).
    #[arg(long)]
    pub quiet: bool,
    /// Also check custom resources against the CRDs of the configured cluster
    /// (--kubeconfig/--kube-context; without a kubeconfig, pack's embedded one).
    #[arg(long)]
    pub cluster_crds: bool,
}

pub fn run(args: &ValidateArgs, global: &super::GlobalArgs) -> CliResult {
    let version = args.kube_version.clone().unwrap_or_default();
    let mut validator = Validator::new(&version, !args.no_strict)?;
    for loc in &args.schema_location {
        let found = crate::validate::crds::from_location(loc, !args.no_strict)?;
        validator.add_schemas(found);
    }
    if args.cluster_crds {
        let crds = super::release::with_cluster(global, async |cluster, _| {
            Ok(cluster
                .lookup(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    "",
                    "",
                )
                .await?)
        })?;
        for crd in crds
            .get("items")
            .and_then(|i| i.as_array())
            .into_iter()
            .flatten()
        {
            let crd = crate::value::Value::from(crd.clone());
            validator
                .add_crd(&crd)
                .map_err(|e| format!("a CRD of the cluster: {e}"))?;
        }
    }
    let mut sources = Vec::new();
    for p in &args.paths {
        collect(p, &mut sources)?;
    }
    // CRDs anywhere among the manifests check custom resources everywhere: learnt first
    // (files searched on two threads).
    let crds = crate::manifest::map_on_two_cores(&sources, &|source: &Source| {
        let Ok(text) = source.read() else {
            return Vec::new();
        };
        if !text.contains("CustomResourceDefinition") {
            return Vec::new();
        }
        report::documents(&source.name(), &text)
            .into_iter()
            .filter_map(|input| input.object.ok().filter(|v| report::is_crd(v)))
            .map(std::borrow::Cow::into_owned)
            .collect()
    });
    for crd in crds.iter().flatten() {
        // A broken CRD is reported when its file is checked.
        let _ = validator.add_crd(crd);
    }
    // Files are shared out between two threads, each reading, parsing and checking one
    // file at a time: memory holds a file's objects per thread, plus the findings.
    // One file alone (standard input, say) is parsed and checked on two threads instead.
    let validator = &validator;
    let one = sources.len() < 2;
    let check = |source: &Source| {
        let text = source.read()?;
        let named = [(source.name(), text.as_str())];
        let inputs = if one {
            report::documents_of(&named)
        } else {
            report::documents(&named[0].0, &text)
        };
        Ok::<_, String>(report::check_learned(validator, &inputs, one))
    };
    let per_file: Vec<Result<Vec<report::Finding>, String>> = if one {
        sources.iter().map(check).collect()
    } else {
        crate::manifest::map_on_two_cores(&sources, &check)
    };
    let mut findings = Vec::new();
    for found in per_file {
        let found = found?;
        if args.output == ReportFormat::Text {
            print!("{}", report::text(&found, !args.quiet));
        }
        findings.extend(found);
    }
    let s = report::summary(&findings);
    match args.output {
        ReportFormat::Text => {}
        ReportFormat::Json => print!("{}", report::json(&findings, validator.release())),
        ReportFormat::Junit => print!("{}", report::junit(&findings)),
    }
    let summary = format!(
        "{} objects: {} valid, {} invalid, {} skipped (Kubernetes {version})",
        s.valid + s.invalid + s.skipped,
        s.valid,
        s.invalid,
        s.skipped
    );
    if s.invalid > 0 {
        return Err(Box::new(ExitCodeError {
            code: super::EXIT_FAILURE,
            message: summary,
        }));
    }
    if args.output == ReportFormat::Text {
        println!("{summary}");
    }
    Ok(())
}

/// A manifest file, or standard input read once.
enum Source {
    File(PathBuf),
    Stdin(String),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin(_) => "-".into(),
        }
    }

    fn read(&self) -> Result<String, String> {
        match self {
            Source::File(p) => {
                std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
            }
            Source::Stdin(text) => Ok(text.clone()),
        }
    }
}

fn collect(path: &Path, out: &mut Vec<Source>) -> CliResult {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading standard input: {e}"))?;
        out.push(Source::Stdin(text));
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let is_manifest = e
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if e.is_dir() || is_manifest {
                collect(&e, out)?;
            }
        }
        return Ok(());
    }
    out.push(Source::File(path.to_owned()));
    Ok(())
}
