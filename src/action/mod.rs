//! What commands do, as library calls: each action orchestrates chart loading, values,
//! rendering, manifests, release storage and the cluster client, and is testable without
//! the command line (in-memory storage, the in-process API server).

pub mod diff;
pub mod lifecycle;
pub mod lint;
pub mod template;
pub mod wait;

pub use template::{TemplateError, TemplateRequest, TemplateResult, render_chart, render_loaded};
