//! `pack create NAME`: scaffolds a new native chart.

use super::CliResult;
use crate::chart::create;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  pack create webapp && pack template demo ./webapp")]
pub struct CreateArgs {
    /// The chart to create: a directory path whose last part is the chart name.
    pub name: PathBuf,
}

pub fn run(args: &CreateArgs) -> CliResult {
    let dir = create::create(&args.name)?;
    println!("Creating {}", dir.display());
    Ok(())
}
