//! Helm's provenance files (`<chart>.tgz.prov`): an OpenPGP clear-signed message holding the
//! chart's metadata and the archive's sha256, made with a key from a keyring (`package
//! --sign`) and checked against one (`verify`, `--verify`). Pure-Rust OpenPGP (rPGP).

use crate::value::{Map, Value};
use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, Timestamp};
use std::path::Path;

/// Why signing or verification failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The keyring is unusable or lacks the key.
    #[error("{0}")]
    Keyring(String),
    /// The provenance file is malformed.
    #[error("{0}")]
    Malformed(String),
    /// The signature or the archive's digest does not check out.
    #[error("{0}")]
    Failed(String),
}

/// A verified provenance file: who signed it and what it vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The signing key's user ids (`Name <email>`).
    pub signed_by: Vec<String>,
    /// The signing key's primary fingerprint, upper-case hex.
    pub fingerprint: String,
    /// `sha256:<hex>` of the archive, as the file states and the archive has.
    pub file_hash: String,
}

fn read(path: &Path) -> Result<Vec<u8>, ProvenanceError> {
    std::fs::read(path).map_err(|source| ProvenanceError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Every key in a keyring file: binary (`gpg --export`, `gpg --export-secret-keys`, the
/// legacy `pubring.gpg`/`secring.gpg`) or ASCII-armored.
fn keyring(path: &Path) -> Result<Vec<PublicOrSecret>, ProvenanceError> {
    let bytes = read(path)?;
    let bad = |e: &dyn std::fmt::Display| {
        ProvenanceError::Keyring(format!(
            "{}: not an OpenPGP keyring ({e}). Export one with `gpg --export > pubring.gpg` (or `gpg --export-secret-keys > secring.gpg` to sign); GnuPG 2's pubring.kbx cannot be read",
            path.display()
        ))
    };
    let (keys, _) =
        PublicOrSecret::from_reader_many(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let keys: Vec<PublicOrSecret> = keys.filter_map(Result::ok).collect();
    if keys.is_empty() {
        return Err(bad(&"no keys found"));
    }
    Ok(keys)
}

fn user_ids(details: &pgp::composed::SignedKeyDetails) -> Vec<String> {
    details
        .users
        .iter()
        .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
        .collect()
}

fn public_of(k: &PublicOrSecret) -> SignedPublicKey {
    match k {
        PublicOrSecret::Public(p) => p.clone(),
        PublicOrSecret::Secret(s) => s.to_public_key(),
    }
}

/// The text Helm signs: Chart.yaml's metadata as YAML (sorted keys), the YAML end marker
/// `...` (a `---` line cannot appear in a clear-signed block) and the archive's digest.
pub fn message_block(
    metadata: &crate::chart::Metadata,
    archive_name: &str,
    archive: &[u8],
) -> String {
    let mut text = crate::value::emit::to_yaml_helm(&metadata.to_value());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("\n...\n");
    let mut files = Map::default();
    files.insert(
        archive_name.to_owned(),
        Value::from(format!("sha256:{}", super::package::sha256_hex(archive))),
    );
    let mut sums = Map::default();
    sums.insert("files".into(), Value::Map(files));
    text.push_str(&crate::value::emit::to_yaml_helm(&Value::Map(sums)));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Signs `archive` (its file name as it will be published is `archive_name`) with the
/// secret key whose user id contains `key_name`, from `keyring`; the `.prov` text.
pub fn sign(
    archive: &[u8],
    archive_name: &str,
    key_name: &str,
    keyring_path: &Path,
    passphrase: Option<&str>,
) -> Result<String, ProvenanceError> {
    let chart = crate::chart::load_archive_bytes(archive, archive_name)
        .map_err(|e| ProvenanceError::Malformed(format!("{archive_name}: {e}")))?;
    let keys = keyring(keyring_path)?;
    let secrets: Vec<&SignedSecretKey> = keys
        .iter()
        .filter_map(|k| match k {
            PublicOrSecret::Secret(s) => Some(s),
            PublicOrSecret::Public(_) => None,
        })
        .collect();
    if secrets.is_empty() {
        return Err(ProvenanceError::Keyring(format!(
            "{}: holds no secret keys: export them with `gpg --export-secret-keys > secring.gpg`",
            keyring_path.display()
        )));
    }
    let key = secrets
        .iter()
        .find(|s| user_ids(&s.details).iter().any(|u| u.contains(key_name)))
        .ok_or_else(|| {
            let known: Vec<String> = secrets.iter().flat_map(|s| user_ids(&s.details)).collect();
            ProvenanceError::Keyring(format!(
                "no secret key in {} has a user id containing {key_name:?} (it has: {})",
                keyring_path.display(),
                known.join("; ")
            ))
        })?;
    let text = message_block(&chart.metadata, archive_name, archive);
    let signer = &key.primary_key;
    let password = passphrase
        .map(Password::from)
        .unwrap_or_else(Password::empty);
    let mut config = SignatureConfig::from_key(rand_core::OsRng, signer, SignatureType::Text)
        .map_err(|e| ProvenanceError::Keyring(format!("{key_name}: {e}")))?;
    config.hash_alg = HashAlgorithm::Sha512;
    let sub = |d| Subpacket::regular(d).map_err(|e| ProvenanceError::Keyring(e.to_string()));
    config.hashed_subpackets = vec![
        sub(SubpacketData::SignatureCreationTime(Timestamp::now()))?,
        sub(SubpacketData::IssuerFingerprint(signer.fingerprint()))?,
    ];
    config.unhashed_subpackets = vec![sub(SubpacketData::IssuerKeyId(signer.legacy_key_id()))?];
    let message = CleartextSignedMessage::new(&text, config, signer, &password).map_err(|e| {
        let hint = match (passphrase, signer.secret_params().is_encrypted()) {
            (None, true) => {
                ": the key is protected by a passphrase; give it with --passphrase-file (or PACK_KEY_PASSPHRASE)"
            }
            (Some(_), true) => ": is the passphrase right?",
            _ => "",
        };
        ProvenanceError::Keyring(format!("signing with {key_name:?}: {e}{hint}"))
    })?;
    // Like Helm's (go-crypto's) armor: no CRC-24 line.
    message
        .to_armored_string(pgp::composed::ArmorOptions {
            headers: None,
            include_checksum: false,
        })
        .map_err(|e| ProvenanceError::Keyring(format!("writing the signature: {e}")))
}

/// Checks `prov` (a `.prov` file's bytes) against the keys of `keyring` and the archive:
/// the signature must be good and made by one of them, and `files[archive_name]` must be
/// the archive's sha256.
pub fn verify(
    archive: &[u8],
    archive_name: &str,
    prov: &[u8],
    keyring_path: &Path,
) -> Result<Verified, ProvenanceError> {
    let text = std::str::from_utf8(prov)
        .map_err(|_| ProvenanceError::Malformed(format!("{archive_name}.prov: not text")))?;
    let (message, _) = CleartextSignedMessage::from_string(text).map_err(|e| {
        ProvenanceError::Malformed(format!(
            "{archive_name}.prov: not an OpenPGP clear-signed message ({e})"
        ))
    })?;
    let keys = keyring(keyring_path)?;
    let signer = keys.iter().find_map(|k| {
        let public = public_of(k);
        if message.verify(&public).is_ok() {
            return Some(public);
        }
        public
            .public_subkeys
            .iter()
            .any(|sub| message.verify(sub).is_ok())
            .then_some(public)
    });
    let Some(signer) = signer else {
        let issuers: Vec<String> = message
            .signatures()
            .iter()
            .flat_map(|s| s.issuer_fingerprint().into_iter().map(|f| format!("{f:X}")))
            .collect();
        return Err(ProvenanceError::Failed(format!(
            "{archive_name}.prov: the signature was not made by any key in {}{}, or the signed text was altered",
            keyring_path.display(),
            if issuers.is_empty() {
                String::new()
            } else {
                format!(" (it names key {})", issuers.join(", "))
            }
        )));
    };
    let signed = message.signed_text().replace("\r\n", "\n");
    let Some((_, sums)) = signed.split_once("\n...\n") else {
        return Err(ProvenanceError::Malformed(format!(
            "{archive_name}.prov: the signed text has no `...` line separating the metadata from the file digests"
        )));
    };
    let sums =
        crate::value::yaml::from_str(sums, crate::value::yaml::Flavor::Yaml11).map_err(|e| {
            ProvenanceError::Malformed(format!(
                "{archive_name}.prov: the file digests are not YAML: {e}"
            ))
        })?;
    let stated = sums
        .get("files")
        .and_then(|f| f.get(archive_name))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ProvenanceError::Failed(format!(
                "{archive_name}.prov: vouches for no file named {archive_name}"
            ))
        })?;
    let actual = format!("sha256:{}", super::package::sha256_hex(archive));
    if stated != actual {
        return Err(ProvenanceError::Failed(format!(
            "{archive_name}: the archive's digest {actual} is not the signed {stated}: it was changed after signing"
        )));
    }
    Ok(Verified {
        signed_by: user_ids(&signer.details),
        fingerprint: format!("{:X}", signer.fingerprint()),
        file_hash: actual,
    })
}

/// Reads a keyring file and verifies `archive` with the `.prov` at `prov_path`.
pub fn verify_files(
    archive: &Path,
    prov_path: &Path,
    keyring_path: &Path,
) -> Result<Verified, ProvenanceError> {
    let bytes = read(archive)?;
    let prov = read(prov_path).map_err(|e| match e {
        ProvenanceError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ProvenanceError::Failed(format!(
                "{}: no provenance file: the chart is not signed (or its .prov was not published beside it)",
                prov_path.display()
            ))
        }
        other => other,
    })?;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    verify(&bytes, &name, &prov, keyring_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_text_is_helms() {
        let raw = crate::value::yaml::from_str(
            "name: demo\nversion: 0.1.0\napiVersion: v2\ndescription: \"A: demo\"\nkeywords: [b, a]\n",
            crate::value::yaml::Flavor::Yaml11,
        )
        .unwrap();
        let meta = crate::chart::Metadata::from_value(raw).unwrap();
        let text = message_block(&meta, "demo-0.1.0.tgz", b"archive");
        assert_eq!(
            text,
            "apiVersion: v2\ndescription: 'A: demo'\nkeywords:\n- b\n- a\nname: demo\nversion: 0.1.0\n\n...\nfiles:\n  demo-0.1.0.tgz: sha256:fd6fd3ec9ed24bc8d0cd9c6d8b4ba1aba7ac45c3ffc3b8b3e5e9ef6d0b0e8d1e\n"
                .replace(
                    "fd6fd3ec9ed24bc8d0cd9c6d8b4ba1aba7ac45c3ffc3b8b3e5e9ef6d0b0e8d1e",
                    &super::super::package::sha256_hex(b"archive")
                )
        );
    }

    #[test]
    fn malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = dir.path().join("pubring.gpg");
        std::fs::write(&keyring, b"not a key").unwrap();
        let e = verify(b"x", "demo-0.1.0.tgz", b"hello", &keyring).unwrap_err();
        assert!(
            e.to_string()
                .contains("not an OpenPGP clear-signed message"),
            "{e}"
        );
        let prov = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nx\n-----BEGIN PGP SIGNATURE-----\n\nwsBzBAEBCgAdBQJrE5PC\n-----END PGP SIGNATURE-----\n";
        // A cut-off signature packet.
        let e = verify(b"x", "demo-0.1.0.tgz", prov.as_bytes(), &keyring).unwrap_err();
        assert!(
            e.to_string()
                .contains("demo-0.1.0.tgz.prov: not an OpenPGP"),
            "{e}"
        );
    }
}
