//! pack: a Kubernetes package manager — Helm-compatible charts and releases, native Jinja
//! templates, an embedded API server.

pub mod action;
pub mod apiserver;
pub mod bytes;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod funcs;
pub mod heap;
pub mod k8s;
pub mod manifest;
pub mod memcopy;
pub mod release;
pub mod render;
pub mod repo;
pub mod settings;
pub mod timing;
pub mod validate;
pub mod value;
pub mod values;
pub mod versions;
