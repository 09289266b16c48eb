//! Release records exactly as Helm 4 stores them: the release JSON (`pkg/release/v1`
//! keys), gzip + base64 encoded, in a Secret `sh.helm.release.v1.<name>.v<revision>` with
//! Helm's labels — so helm reads pack's releases and pack reads helm's.

pub mod lock;
pub mod storage;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Release states, with Helm's spelling.
pub mod status {
    /// The current revision.
    pub const DEPLOYED: &str = "deployed";
    /// An older revision.
    pub const SUPERSEDED: &str = "superseded";
    /// An operation on it failed.
    pub const FAILED: &str = "failed";
    /// Uninstalled with `--keep-history`.
    pub const UNINSTALLED: &str = "uninstalled";
    /// Being uninstalled.
    pub const UNINSTALLING: &str = "uninstalling";
    /// Being installed.
    pub const PENDING_INSTALL: &str = "pending-install";
    /// Being upgraded.
    pub const PENDING_UPGRADE: &str = "pending-upgrade";
    /// Being rolled back.
    pub const PENDING_ROLLBACK: &str = "pending-rollback";

    /// Whether an operation is under way (another must not start).
    pub fn is_pending(s: &str) -> bool {
        s.starts_with("pending-")
    }
}

/// `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Info {
    /// First install time (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub first_deployed: String,
    /// This revision's time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_deployed: String,
    /// Uninstall time.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deleted: String,
    /// What happened ("Install complete").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// One of [`status`].
    #[serde(default)]
    pub status: String,
    /// Rendered NOTES.txt.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Anything else Helm writes here, kept as is.
    #[serde(flatten)]
    pub other: BTreeMap<String, Json>,
}

/// One revision of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Release {
    /// Release name.
    pub name: String,
    /// Timestamps, status, notes.
    pub info: Info,
    /// The chart as Helm stores it (metadata, templates, values, files…), kept verbatim.
    #[serde(default, skip_serializing_if = "Json::is_null")]
    pub chart: Json,
    /// User-supplied values only.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub config: Json,
    /// The rendered manifests, `---\n# Source: …` joined.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// Hooks, kept verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<Json>,
    /// Revision.
    pub version: i64,
    /// Namespace.
    pub namespace: String,
    /// `ssa` or `csa` (absent in Helm 3 records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_method: Option<String>,
    /// Custom labels (kept on the storage object, not in the JSON).
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
}

fn is_empty_map(v: &Json) -> bool {
    v.is_null() || v.as_object().is_some_and(|m| m.is_empty())
}

/// Why a record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Not base64.
    #[error("the release record is not base64: {0}")]
    Base64(String),
    /// Not gzip.
    #[error("the release record is not gzip: {0}")]
    Gzip(std::io::Error),
    /// Not the release JSON.
    #[error("the release record is not release JSON: {0}")]
    Json(serde_json::Error),
}

impl Release {
    /// The storage object's name: `sh.helm.release.v1.<name>.v<revision>`.
    pub fn key(&self) -> String {
        key(&self.name, self.version)
    }

    /// `base64(gzip(json))`, Helm's encoding.
    pub fn encode(&self) -> Result<String, RecordError> {
        let json = serde_json::to_vec(self).map_err(RecordError::Json)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&json).map_err(RecordError::Gzip)?;
        let bytes = gz.finish().map_err(RecordError::Gzip)?;
        Ok(crate::funcs::encoding::base64_encode(&bytes))
    }

    /// Reads Helm's encoding (plain JSON inside is accepted too, as Helm does).
    pub fn decode(text: &str) -> Result<Release, RecordError> {
        let raw = crate::funcs::encoding::base64_decode(text.trim().as_bytes())
            .map_err(RecordError::Base64)?;
        let json = if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
            let mut out = Vec::new();
            GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(RecordError::Gzip)?;
            out
        } else {
            raw
        };
        serde_json::from_slice(&json).map_err(RecordError::Json)
    }
}

/// `sh.helm.release.v1.<name>.v<revision>`.
pub fn key(name: &str, revision: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{revision}")
}

/// Whether a release name is valid (Helm: ≤ 53 characters, a DNS subdomain).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 53
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Now, as Helm writes release times.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_helm_fields() {
        let text = json!({
            "name": "demo",
            "info": {"first_deployed": "2026-01-01T00:00:00Z", "last_deployed": "2026-01-01T00:00:00Z",
                     "deleted": "", "description": "Install complete", "status": "deployed",
                     "notes": "hi", "resources": {"x": 1}},
            "chart": {"metadata": {"name": "c", "version": "1.0.0"}, "templates": [], "values": {}},
            "manifest": "---\n# Source: c/templates/x.yaml\nkind: ConfigMap\n",
            "version": 1, "namespace": "default", "apply_method": "ssa"
        });
        let r: Release = serde_json::from_value(text).expect("parse");
        assert_eq!(r.info.other["resources"], json!({"x": 1}));
        let encoded = r.encode().expect("encode");
        let back = Release::decode(&encoded).expect("decode");
        assert_eq!(back, r);
        let out = serde_json::to_value(&back).expect("json");
        assert!(out.get("config").is_none(), "empty config is omitted");
        assert!(out["info"].get("deleted").is_none());
        assert_eq!(back.key(), "sh.helm.release.v1.demo.v1");
        // Plain (not gzipped) JSON is read too.
        let plain = crate::funcs::encoding::base64_encode(
            br#"{"name":"x","info":{"status":"deployed"},"version":2,"namespace":"n"}"#,
        );
        assert_eq!(Release::decode(&plain).expect("plain").version, 2);
    }

    #[test]
    fn names() {
        assert!(valid_name("demo-1"));
        assert!(!valid_name("Demo"));
        assert!(!valid_name(&"a".repeat(54)));
        assert!(!valid_name("-x"));
    }
}
