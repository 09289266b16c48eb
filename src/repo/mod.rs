//! Chart distribution: `package` (a chart directory to a reproducible `.tgz`), `index` (a
//! repository's `index.yaml`, as Helm writes and reads it) and `http` (configured HTTP
//! repositories: add, update, search, download) and `dependency` (Chart.lock, filling
//! `charts/`), `oci` (OCI registries: push, pull, login) and `provenance` (`.prov` signing
//! and verification).

pub mod dependency;
pub mod http;
pub mod index;
pub mod oci;
pub mod package;
pub mod provenance;
pub mod serve;

pub use index::{Index, IndexError, index_dir};
pub use package::{PackageError, PackageOptions, Packaged, package};
