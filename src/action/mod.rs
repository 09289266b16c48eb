//! What commands do, as library calls: each action orchestrates chart loading, values,
//! rendering, manifests (and later validation, storage and the cluster) and is testable
//! without the command line.

pub mod lint;
pub mod template;

pub use template::{TemplateError, TemplateRequest, TemplateResult, render_chart, render_loaded};
