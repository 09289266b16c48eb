//! The one path errors take to the user: a colored `Error:` line, then each cause.

use super::ColorWhen;
use anstream::eprintln;
use anstyle::{AnsiColor, Style};
use std::error::Error as StdError;
use std::fmt;

/// Any error a command returns.
pub type CliError = Box<dyn StdError + Send + Sync + 'static>;
/// What commands return.
pub type CliResult<T = ()> = Result<T, CliError>;

/// An error that says what pack was doing, with the underlying error as its cause.
#[derive(Debug)]
struct ContextError {
    context: String,
    source: CliError,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl StdError for ContextError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Adds what pack was doing to an error: `.context(format!("reading {path}"))`.
pub trait Context<T> {
    /// Wraps the error with a description of the operation that failed.
    fn context(self, context: impl Into<String>) -> CliResult<T>;
}

impl<T, E: StdError + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> CliResult<T> {
        self.map_err(|e| {
            Box::new(ContextError {
                context: context.into(),
                source: Box::new(e),
            }) as CliError
        })
    }
}

/// An error that asks for a specific exit status (e.g. `--exit-code` when there are changes).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitCodeError {
    /// The exit status.
    pub code: u8,
    /// What to print; nothing when empty.
    pub message: String,
}

pub(super) fn set_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Prints the error and its chain of causes to stderr and returns the exit status to use.
pub(super) fn print_error(err: &(dyn StdError + 'static)) -> u8 {
    if let Some(exit) = err.downcast_ref::<ExitCodeError>() {
        if !exit.message.is_empty() {
            eprintln!("{}", exit.message);
        }
        return exit.code;
    }
    let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let dim = Style::new().dimmed();
    // Each distinct message once, an API server's answer by its message alone (kube's own
    // wording repeats it with a dump of the Status).
    let mut lines: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let text = match e.downcast_ref::<kube::Error>() {
            Some(kube::Error::Api(status)) => status.message.clone(),
            _ => e.to_string(),
        };
        if !lines.iter().any(|l| l == &text || l.ends_with(&text)) {
            lines.push(text);
        }
        if matches!(e.downcast_ref::<kube::Error>(), Some(kube::Error::Api(_))) {
            break;
        }
        cur = e.source();
    }
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            eprintln!("{red}Error:{red:#} {line}");
        } else {
            eprintln!("  {dim}caused by:{dim:#} {line}");
        }
    }
    super::EXIT_FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_cause() {
        let err = std::fs::read("/definitely/not/here")
            .context("reading values file /definitely/not/here")
            .unwrap_err();
        assert_eq!(err.to_string(), "reading values file /definitely/not/here");
        let cause = err.source().expect("cause");
        assert!(cause.to_string().contains("No such file"), "{cause}");
    }
}
