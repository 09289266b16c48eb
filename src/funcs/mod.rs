//! Helm's template function library (Sprig's and Helm's own functions), one plain Rust
//! function per name over the shared value model, shared by both template front ends.
//!
//! Every function takes its arguments in Sprig's (Go's) order — `trimSuffix "-" .X` is
//! `trimSuffix(["-", X])` — and says, through [`Pipe`], where the piped value goes when a
//! native template uses it as a filter (`X | trimSuffix("-")`).

pub mod args;
pub mod crypto;
pub mod dicts;
pub mod encoding;
pub mod escape;
pub mod format;
pub mod lists;
pub mod logic;
pub mod path;
pub mod random;
pub mod regex;
pub mod semver;
pub mod serial;
pub mod strings;
#[cfg(test)]
mod tests_core;
pub mod time;
pub mod yaml;

use crate::value::Value;

/// What a function returns.
pub type FuncResult = Result<Value, FuncError>;

/// A function that could not produce a value; the message is shown to the chart author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        FuncError(msg.into())
    }
}

/// Where the piped value goes when the function is used as a native filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipe {
    /// Last argument, as in Go pipelines: `X | trimSuffix("-")` is `trimSuffix("-", X)`.
    Last,
    /// First argument, for functions whose subject comes first in Sprig:
    /// `Values | hasKey("k")` is `hasKey(Values, "k")`.
    First,
}

/// One library function.
#[derive(Clone, Copy)]
pub struct Func {
    /// The name templates call it by (Helm's).
    pub name: &'static str,
    /// The implementation, taking arguments in Sprig's order.
    pub call: fn(&[Value]) -> FuncResult,
    /// Where a filter's piped value goes.
    pub pipe: Pipe,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Func({})", self.name)
    }
}

/// Every library function, each name once.
pub fn all() -> Vec<Func> {
    let groups: &[&[Func]] = &[
        strings::FUNCS,
        lists::FUNCS,
        dicts::FUNCS,
        logic::FUNCS,
        path::FUNCS,
        format::FUNCS,
        yaml::FUNCS,
        encoding::FUNCS,
        escape::FUNCS,
        crypto::FUNCS,
        random::FUNCS,
        regex::FUNCS,
        semver::FUNCS,
        serial::FUNCS,
        time::FUNCS,
    ];
    groups.iter().flat_map(|g| g.iter().copied()).collect()
}

/// The function of this name.
pub fn find(name: &str) -> Option<Func> {
    all().into_iter().find(|f| f.name == name)
}
