//! Chart distribution: `package` (a chart directory to a reproducible `.tgz`) and `index`
//! (a repository's `index.yaml`, as Helm writes and reads it). HTTP repositories, pulling,
//! pushing and OCI registries build on these.

pub mod index;
pub mod package;

pub use index::{Index, IndexError, index_dir};
pub use package::{PackageError, PackageOptions, Packaged, package};
