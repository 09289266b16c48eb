//! The value flags shared by every command that renders a chart (`-f`, `--set*`).

use crate::values::ValueOptions;
use clap::Args;

/// `-f/--values` and the `--set` family, with Helm's names and meaning.
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesFlags {
    /// Values file (YAML); repeatable, later files win. `-` reads standard input.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<String>,
    /// Set values: `a.b=1,c[0]=x` (ints, booleans and null are typed).
    #[arg(long, value_name = "KEY=VAL")]
    pub set: Vec<String>,
    /// Set values, always as strings.
    #[arg(long = "set-string", value_name = "KEY=VAL")]
    pub set_string: Vec<String>,
    /// Set values from JSON: `a={"b":1}` or a whole object `{"a":1}`.
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Set a value to a file's contents: `key=path` (`-` reads standard input).
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// Set one value verbatim: everything after the first `=`.
    #[arg(long = "set-literal", value_name = "KEY=VAL")]
    pub set_literal: Vec<String>,
}

impl From<&ValuesFlags> for ValueOptions {
    fn from(f: &ValuesFlags) -> Self {
        ValueOptions {
            values_files: f.values.clone(),
            set_json: f.set_json.clone(),
            set: f.set.clone(),
            set_string: f.set_string.clone(),
            set_file: f.set_file.clone(),
            set_literal: f.set_literal.clone(),
        }
    }
}
