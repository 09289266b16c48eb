//! What pack knows about Kubernetes itself: versions, offline capabilities and the bundled
//! OpenAPI schemas (with their merge metadata) for Kubernetes 1.31–1.37.

pub mod capabilities;
pub mod crd;
pub mod schema;
pub mod version;

pub use capabilities::Capabilities;
pub use schema::{MergeInfo, SchemaError, Schemas};
pub use version::{KubeVersion, KubeVersionError};
