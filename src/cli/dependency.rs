//! `pack dependency list CHART`: the dependencies Chart.yaml declares and whether
//! `charts/` has them.

use super::{CliResult, Context};
use crate::chart::{self, Chart, Dependency};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DependencyArgs {
    #[command(subcommand)]
    pub command: DependencyCommand,
}

#[derive(Debug, Subcommand)]
pub enum DependencyCommand {
    /// List the chart's dependencies and their status in charts/.
    #[command(visible_alias = "ls")]
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A chart directory or .tgz archive.
    pub chart: PathBuf,
}

pub fn run(args: &DependencyArgs) -> CliResult {
    match &args.command {
        DependencyCommand::List(a) => list(a),
    }
}

fn list(args: &ListArgs) -> CliResult {
    let chart =
        chart::load(&args.chart).context(format!("loading chart {}", args.chart.display()))?;
    if chart.metadata.dependencies.is_empty() {
        println!("WARNING: no dependencies at {}", args.chart.display());
        return Ok(());
    }
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "REPOSITORY".to_owned(),
        "STATUS".to_owned(),
    ]];
    for dep in &chart.metadata.dependencies {
        rows.push([
            dep.name.clone(),
            dep.version.clone(),
            dep.repository.clone(),
            status(&chart, dep).to_owned(),
        ]);
    }
    print!("{}", table(&rows));
    Ok(())
}

/// Helm's statuses: `ok` (archive of a matching version), `unpacked` (directory of a
/// matching version), `missing`, `wrong version`, `invalid version`, `misnamed`, `too many
/// matches`.
pub fn status(chart: &Chart, dep: &Dependency) -> &'static str {
    let archives: Vec<&Chart> = chart
        .dependencies
        .iter()
        .filter(|c| {
            c.origin
                .rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with(&format!("{}-", dep.name)) && f.ends_with(".tgz"))
        })
        .collect();
    let check = |c: &Chart, found: &'static str| -> &'static str {
        if c.name() != dep.name {
            return "misnamed";
        }
        match crate::versions::Constraints::parse(&dep.version) {
            Err(_) => "invalid version",
            Ok(cons) => match cons.matches_str(&c.metadata.version) {
                Ok(true) => found,
                _ => "wrong version",
            },
        }
    };
    match archives.as_slice() {
        [one] => check(one, "ok"),
        [_, _, ..] => "too many matches",
        [] => {
            let dir_origin = format!("{}/charts/{}", chart.origin, dep.name);
            match chart.dependencies.iter().find(|c| c.origin == dir_origin) {
                Some(c) => check(c, "unpacked"),
                None => "missing",
            }
        }
    }
}

/// Columns padded to their widest cell and separated by tabs, like Helm's tables.
fn table(rows: &[[String; 4]]) -> String {
    let mut widths = [0usize; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out.push('\n');
    out
}
