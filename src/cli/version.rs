//! `pack version`: pack's version and the Helm and Kubernetes versions it targets.

use super::{CliResult, OutputFormat};
use crate::k8s::capabilities::HELM_VERSION;
use crate::k8s::version::DEFAULT_KUBE_VERSION;
use crate::value::{Map, Value, yaml};
use clap::Args;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print only the version number.
    #[arg(long)]
    pub short: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// pack's version as it prints it (`v0.1.0`).
pub fn pack_version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn info() -> Value {
    let mut m = Map::default();
    m.insert("version".into(), pack_version().into());
    m.insert("helmCompatibility".into(), HELM_VERSION.into());
    m.insert("defaultKubeVersion".into(), DEFAULT_KUBE_VERSION.into());
    m.insert(
        "platform".into(),
        format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH).into(),
    );
    Value::Map(m)
}

pub fn run(args: &VersionArgs) -> CliResult {
    let out = match (args.short, args.output) {
        (true, OutputFormat::Table) => format!("{}\n", pack_version()),
        (_, OutputFormat::Json) => format!("{}\n", info().to_json()),
        (_, OutputFormat::Yaml) => yaml::to_string(&info()),
        (false, OutputFormat::Table) => format!(
            "pack {} (Helm {HELM_VERSION} compatible, default Kubernetes {DEFAULT_KUBE_VERSION}, {}/{})\n",
            pack_version(),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    };
    print!("{out}");
    Ok(())
}
