//! Kubernetes protobuf request bodies (`k8s\0` + `runtime.Unknown`) decoded into the same
//! JSON objects a JSON body gives: Secret, ConfigMap, Namespace and DeleteOptions — what
//! helm's release storage and `kubectl create namespace|secret|configmap` send.
//!
//! A small hand-written wire decoder: these five messages are all the server needs, where
//! a generated crate would compile every Kubernetes message.

use crate::funcs::encoding::base64_encode;
use serde_json::{Map, Value as Json, json};

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid protobuf body: {0}")]
pub struct ProtoError(pub String);

fn err(s: &str) -> ProtoError {
    ProtoError(s.to_string())
}

/// One field of a message: number and raw payload.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| err("truncated varint"))?;
            self.pos += 1;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(err("varint too long"))
    }

    fn next(&mut self) -> Result<Option<(u64, Wire<'a>)>, ProtoError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let field = tag >> 3;
        let wire = match tag & 7 {
            0 => Wire::Varint(self.varint()?),
            2 => {
                let len = self.varint()? as usize;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or_else(|| err("truncated field"))?;
                let bytes = &self.buf[self.pos..end];
                self.pos = end;
                Wire::Bytes(bytes)
            }
            1 => {
                self.pos += 8;
                Wire::Fixed
            }
            5 => {
                self.pos += 4;
                Wire::Fixed
            }
            _ => return Err(err("unsupported wire type")),
        };
        if self.pos > self.buf.len() {
            return Err(err("truncated field"));
        }
        Ok(Some((field, wire)))
    }
}

fn string(b: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(b.to_vec()).map_err(|_| err("string is not UTF-8"))
}

/// Decodes a map entry `{1: key, 2: value}`.
fn entry(b: &[u8]) -> Result<(String, &[u8]), ProtoError> {
    let mut r = Reader::new(b);
    let (mut key, mut value): (String, &[u8]) = (String::new(), &[]);
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(k)) => key = string(k)?,
            (2, Wire::Bytes(v)) => value = v,
            _ => {}
        }
    }
    Ok((key, value))
}

fn time(b: &[u8]) -> Result<Json, ProtoError> {
    let mut r = Reader::new(b);
    let mut seconds = 0i64;
    while let Some((f, w)) = r.next()? {
        if let (1, Wire::Varint(v)) = (f, w) {
            seconds = v as i64;
        }
    }
    let ts = jiff::Timestamp::from_second(seconds).map_err(|_| err("time out of range"))?;
    Ok(json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn owner_reference(b: &[u8]) -> Result<Json, ProtoError> {
    let mut r = Reader::new(b);
    let mut out = Map::default();
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(v)) => {
                out.insert("kind".into(), json!(string(v)?));
            }
            (3, Wire::Bytes(v)) => {
                out.insert("name".into(), json!(string(v)?));
            }
            (4, Wire::Bytes(v)) => {
                out.insert("uid".into(), json!(string(v)?));
            }
            (5, Wire::Bytes(v)) => {
                out.insert("apiVersion".into(), json!(string(v)?));
            }
            (6, Wire::Varint(v)) => {
                out.insert("controller".into(), json!(v != 0));
            }
            (7, Wire::Varint(v)) => {
                out.insert("blockOwnerDeletion".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    Ok(Json::Object(out))
}

fn managed_fields_entry(b: &[u8]) -> Result<Json, ProtoError> {
    let mut r = Reader::new(b);
    let mut out = Map::default();
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(v)) => {
                out.insert("manager".into(), json!(string(v)?));
            }
            (2, Wire::Bytes(v)) => {
                out.insert("operation".into(), json!(string(v)?));
            }
            (3, Wire::Bytes(v)) => {
                out.insert("apiVersion".into(), json!(string(v)?));
            }
            (4, Wire::Bytes(v)) => {
                out.insert("time".into(), time(v)?);
            }
            (6, Wire::Bytes(v)) => {
                out.insert("fieldsType".into(), json!(string(v)?));
            }
            (7, Wire::Bytes(v)) => {
                let mut fr = Reader::new(v);
                while let Some((ff, fw)) = fr.next()? {
                    if let (1, Wire::Bytes(raw)) = (ff, fw) {
                        let parsed: Json =
                            serde_json::from_slice(raw).map_err(|_| err("fieldsV1 is not JSON"))?;
                        out.insert("fieldsV1".into(), parsed);
                    }
                }
            }
            (8, Wire::Bytes(v)) => {
                out.insert("subresource".into(), json!(string(v)?));
            }
            _ => {}
        }
    }
    Ok(Json::Object(out))
}

fn object_meta(b: &[u8]) -> Result<Json, ProtoError> {
    let mut r = Reader::new(b);
    let mut out = Map::default();
    let mut labels = Map::default();
    let mut annotations = Map::default();
    let mut owners = Vec::new();
    let mut finalizers = Vec::new();
    let mut managed = Vec::new();
    while let Some((f, w)) = r.next()? {
        let name = match f {
            1 => "name",
            2 => "generateName",
            3 => "namespace",
            5 => "uid",
            6 => "resourceVersion",
            _ => "",
        };
        match (f, w) {
            (1 | 2 | 3 | 5 | 6, Wire::Bytes(v)) => {
                let s = string(v)?;
                if !s.is_empty() {
                    out.insert(name.into(), json!(s));
                }
            }
            (7, Wire::Varint(v)) => {
                out.insert("generation".into(), json!(v as i64));
            }
            (8, Wire::Bytes(v)) if !v.is_empty() => {
                out.insert("creationTimestamp".into(), time(v)?);
            }
            (9, Wire::Bytes(v)) => {
                out.insert("deletionTimestamp".into(), time(v)?);
            }
            (10, Wire::Varint(v)) => {
                out.insert("deletionGracePeriodSeconds".into(), json!(v as i64));
            }
            (11, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                labels.insert(k, json!(string(val)?));
            }
            (12, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                annotations.insert(k, json!(string(val)?));
            }
            (13, Wire::Bytes(v)) => owners.push(owner_reference(v)?),
            (14, Wire::Bytes(v)) => finalizers.push(json!(string(v)?)),
            (17, Wire::Bytes(v)) => managed.push(managed_fields_entry(v)?),
            _ => {}
        }
    }
    if !labels.is_empty() {
        out.insert("labels".into(), Json::Object(labels));
    }
    if !annotations.is_empty() {
        out.insert("annotations".into(), Json::Object(annotations));
    }
    if !owners.is_empty() {
        out.insert("ownerReferences".into(), Json::Array(owners));
    }
    if !finalizers.is_empty() {
        out.insert("finalizers".into(), Json::Array(finalizers));
    }
    if !managed.is_empty() {
        out.insert("managedFields".into(), Json::Array(managed));
    }
    Ok(Json::Object(out))
}

fn b64(v: &[u8]) -> Json {
    json!(base64_encode(v))
}

fn secret(b: &[u8], out: &mut Map<String, Json>) -> Result<(), ProtoError> {
    let mut r = Reader::new(b);
    let (mut data, mut string_data) = (Map::default(), Map::default());
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(v)) => {
                out.insert("metadata".into(), object_meta(v)?);
            }
            (2, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                data.insert(k, b64(val));
            }
            (3, Wire::Bytes(v)) => {
                out.insert("type".into(), json!(string(v)?));
            }
            (4, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                string_data.insert(k, json!(string(val)?));
            }
            (5, Wire::Varint(v)) => {
                out.insert("immutable".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    if !data.is_empty() {
        out.insert("data".into(), Json::Object(data));
    }
    if !string_data.is_empty() {
        out.insert("stringData".into(), Json::Object(string_data));
    }
    Ok(())
}

fn config_map(b: &[u8], out: &mut Map<String, Json>) -> Result<(), ProtoError> {
    let mut r = Reader::new(b);
    let (mut data, mut binary) = (Map::default(), Map::default());
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(v)) => {
                out.insert("metadata".into(), object_meta(v)?);
            }
            (2, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                data.insert(k, json!(string(val)?));
            }
            (3, Wire::Bytes(v)) => {
                let (k, val) = entry(v)?;
                binary.insert(k, b64(val));
            }
            (4, Wire::Varint(v)) => {
                out.insert("immutable".into(), json!(v != 0));
            }
            _ => {}
        }
    }
    if !data.is_empty() {
        out.insert("data".into(), Json::Object(data));
    }
    if !binary.is_empty() {
        out.insert("binaryData".into(), Json::Object(binary));
    }
    Ok(())
}

fn namespace(b: &[u8], out: &mut Map<String, Json>) -> Result<(), ProtoError> {
    let mut r = Reader::new(b);
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(v)) => {
                out.insert("metadata".into(), object_meta(v)?);
            }
            (2, Wire::Bytes(v)) => {
                let mut fr = Reader::new(v);
                let mut finalizers = Vec::new();
                while let Some((ff, fw)) = fr.next()? {
                    if let (1, Wire::Bytes(s)) = (ff, fw) {
                        finalizers.push(json!(string(s)?));
                    }
                }
                let mut spec = Map::default();
                if !finalizers.is_empty() {
                    spec.insert("finalizers".into(), Json::Array(finalizers));
                }
                out.insert("spec".into(), Json::Object(spec));
            }
            _ => {}
        }
    }
    Ok(())
}

fn delete_options(b: &[u8], out: &mut Map<String, Json>) -> Result<(), ProtoError> {
    let mut r = Reader::new(b);
    let mut dry_run = Vec::new();
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Varint(v)) => {
                out.insert("gracePeriodSeconds".into(), json!(v as i64));
            }
            (2, Wire::Bytes(v)) => {
                let mut pr = Reader::new(v);
                let mut pre = Map::default();
                while let Some((pf, pw)) = pr.next()? {
                    match (pf, pw) {
                        (1, Wire::Bytes(s)) => {
                            pre.insert("uid".into(), json!(string(s)?));
                        }
                        (2, Wire::Bytes(s)) => {
                            pre.insert("resourceVersion".into(), json!(string(s)?));
                        }
                        _ => {}
                    }
                }
                out.insert("preconditions".into(), Json::Object(pre));
            }
            (3, Wire::Varint(v)) => {
                out.insert("orphanDependents".into(), json!(v != 0));
            }
            (4, Wire::Bytes(v)) => {
                out.insert("propagationPolicy".into(), json!(string(v)?));
            }
            (5, Wire::Bytes(v)) => dry_run.push(json!(string(v)?)),
            _ => {}
        }
    }
    if !dry_run.is_empty() {
        out.insert("dryRun".into(), Json::Array(dry_run));
    }
    Ok(())
}

/// Decodes a `k8s\0`-prefixed body into JSON (with `apiVersion` and `kind` from the
/// envelope). Kinds other than the supported ones are an error the caller turns into 415.
pub fn decode(body: &[u8]) -> Result<Json, ProtoError> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| err("missing the k8s protobuf magic prefix"))?;
    let mut r = Reader::new(rest);
    let (mut api_version, mut kind, mut raw): (String, String, &[u8]) =
        (String::new(), String::new(), &[]);
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(tm)) => {
                let mut tr = Reader::new(tm);
                while let Some((tf, tw)) = tr.next()? {
                    match (tf, tw) {
                        (1, Wire::Bytes(v)) => api_version = string(v)?,
                        (2, Wire::Bytes(v)) => kind = string(v)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(v)) => raw = v,
            _ => {}
        }
    }
    let mut out = Map::default();
    if !api_version.is_empty() {
        out.insert("apiVersion".into(), json!(api_version));
    }
    if !kind.is_empty() {
        out.insert("kind".into(), json!(kind));
    }
    match kind.as_str() {
        "Secret" => secret(raw, &mut out)?,
        "ConfigMap" => config_map(raw, &mut out)?,
        "Namespace" => namespace(raw, &mut out)?,
        "DeleteOptions" => delete_options(raw, &mut out)?,
        other => {
            return Err(ProtoError(format!(
                "protobuf bodies of kind {other:?} are not supported; send JSON"
            )));
        }
    }
    Ok(Json::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8];
        out.push(payload.len() as u8);
        out.extend_from_slice(payload);
        out
    }

    fn map_entry(n: u64, k: &str, v: &[u8]) -> Vec<u8> {
        let mut e = field(1, k.as_bytes());
        e.extend(field(2, v));
        field(n, &e)
    }

    #[test]
    fn decodes_a_secret_like_helm_sends() {
        let mut meta = field(1, b"sh.helm.release.v1.demo.v1");
        meta.extend(field(3, b"default"));
        meta.extend(map_entry(11, "owner", b"helm"));
        meta.extend(map_entry(11, "status", b"deployed"));
        let mut secret = field(1, &meta);
        secret.extend(map_entry(2, "release", b"\x00\x01bin"));
        secret.extend(field(3, b"helm.sh/release.v1"));
        let mut tm = field(1, b"v1");
        tm.extend(field(2, b"Secret"));
        let mut body = b"k8s\0".to_vec();
        body.extend(field(1, &tm));
        body.extend(field(2, &secret));
        let obj = decode(&body).expect("decode");
        assert_eq!(obj["kind"], "Secret");
        assert_eq!(obj["metadata"]["name"], "sh.helm.release.v1.demo.v1");
        assert_eq!(obj["metadata"]["labels"]["status"], "deployed");
        assert_eq!(obj["data"]["release"], "AAFiaW4=");
        assert_eq!(obj["type"], "helm.sh/release.v1");
    }

    #[test]
    fn decodes_delete_options_and_rejects_garbage() {
        let mut tm = field(1, b"meta.k8s.io/v1");
        tm.extend(field(2, b"DeleteOptions"));
        let mut body = b"k8s\0".to_vec();
        body.extend(field(1, &tm));
        body.extend(field(2, &field(4, b"Background")));
        let obj = decode(&body).expect("decode");
        assert_eq!(obj["propagationPolicy"], "Background");
        assert!(decode(b"k8s\0\x0a\xff").is_err());
        assert!(decode(b"{}").is_err());
    }
}
