//! `pack package CHART...`: chart directories to reproducible `<name>-<version>.tgz`
//! archives, and `pack repo index DIR`: a repository's `index.yaml`.

use super::{CliResult, Context};
use crate::repo::{self, PackageOptions};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Chart directories to package.
    #[arg(required = true, value_name = "CHART")]
    pub charts: Vec<PathBuf>,
    /// Directory to write the archives to.
    #[arg(short = 'd', long, default_value = ".", value_name = "DIR")]
    pub destination: PathBuf,
    /// Set the chart's version (Chart.yaml `version`) in the archive.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Set the chart's appVersion in the archive.
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
}

pub fn package(args: &PackageArgs) -> CliResult {
    let opts = PackageOptions {
        destination: args.destination.clone(),
        version: args.version.clone(),
        app_version: args.app_version.clone(),
        mtime: None,
    };
    for chart in &args.charts {
        let p = repo::package(chart, &opts).context(format!("packaging {}", chart.display()))?;
        println!(
            "Successfully packaged chart and saved it to: {}",
            p.path.display()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Write DIR/index.yaml for the chart archives in DIR and its subdirectories.
    Index(IndexArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The directory holding the chart archives.
    pub dir: PathBuf,
    /// URL of the repository (archive URLs are this joined with their path under DIR).
    #[arg(long, default_value = "", value_name = "URL")]
    pub url: String,
    /// Keep the entries of this existing index that DIR does not have.
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,
    /// Write the index as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn repo(args: &RepoArgs) -> CliResult {
    match &args.command {
        RepoCommand::Index(a) => index(a),
    }
}

fn index(args: &IndexArgs) -> CliResult {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a directory", args.dir.display()).into());
    }
    let (index, skipped) = repo::index_dir(&args.dir, &args.url, args.merge.as_deref())
        .context(format!("indexing {}", args.dir.display()))?;
    for s in &skipped {
        anstream::eprintln!("warning: skipping {}: {}", s.path, s.reason);
    }
    repo::index::write(&index, &args.dir, args.json)
        .context(format!("writing {}/index.yaml", args.dir.display()))?;
    Ok(())
}
