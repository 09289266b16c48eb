//! `pack completion SHELL`: shell completion scripts generated from the command definition.

use super::{Cli, CliResult};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Debug, Args)]
#[command(after_help = "Load completions in the current bash session:\n  \
                        source <(pack completion bash)")]
pub struct CompletionArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionArgs) -> CliResult {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "pack", &mut std::io::stdout());
    Ok(())
}
