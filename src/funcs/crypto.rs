//! Sprig's crypto functions: `genPrivateKey`, `genCA`, `genCAWithKey`, `genSelfSignedCert`,
//! `genSelfSignedCertWithKey`, `genSignedCert`, `genSignedCertWithKey`, `buildCustomCert`,
//! `encryptAES`, `decryptAES`, `bcrypt`, `htpasswd` and `derivePassword`.
//!
//! Certificates are built the way Sprig asks Go's `crypto/x509` for them, so they carry the
//! same fields: an RSA 2048 key unless one is given, a random 128-bit serial, subject (and,
//! for self-signed ones, issuer) `CN=<cn>`, validity from now for DAYS × 24 h, key usage
//! digitalSignature + keyEncipherment (+ keyCertSign for a CA) marked critical, extended key
//! usage serverAuth + clientAuth, critical basic constraints (CA:TRUE for `genCA`), a
//! subject key identifier for CAs (Go 1.25's truncated SHA-256), an authority key identifier
//! on certificates signed by a CA, and DNS and IP subject alternative names in that order.
//! RSA keys sign with PKCS #1 v1.5 SHA-256, P-256 keys with ECDSA SHA-256, Ed25519 keys
//! purely. Keys are written as Sprig writes them: `RSA PRIVATE KEY` (PKCS #1), `EC PRIVATE
//! KEY` (SEC 1) or `PRIVATE KEY` (PKCS #8, Ed25519). Certificates are maps `{Cert, Key}` of
//! PEM strings (Sprig's `certificate` struct), and a map with those keys is accepted as a CA.
//!
//! Differences from Helm: DSA keys (`genPrivateKey "dsa"`, a `DSA PRIVATE KEY`) are refused,
//! as Go has deprecated `crypto/dsa`; only P-256 EC keys are read.

use super::args::{
    arity, expect_int_lenient as int_arg, expect_str_literal as str_arg,
    go_literal_type_name as go_type, piped_first as first, piped_last as last,
};
use super::encoding::{base64_decode, base64_encode, parse_addr};
use super::random::random_bytes;
use super::{Func, FuncError, FuncResult};
use crate::value::{Map, Value};
use hmac::{Hmac, Mac};
use rand_core::OsRng;
use sha2::{Digest, Sha256};

/// The functions of this module.
///
/// `derivePassword COUNTER TYPE PASSWORD USER SITE` has no single subject; a filter pipe fills
/// its last argument, as Go pipelines do.
pub const FUNCS: &[Func] = &[
    last("genPrivateKey", gen_private_key),
    first("genCA", gen_ca),
    first("genCAWithKey", gen_ca_with_key),
    first("genSelfSignedCert", gen_self_signed_cert),
    first("genSelfSignedCertWithKey", gen_self_signed_cert_with_key),
    first("genSignedCert", gen_signed_cert),
    first("genSignedCertWithKey", gen_signed_cert_with_key),
    last("buildCustomCert", build_custom_cert),
    last("encryptAES", encrypt_aes),
    last("decryptAES", decrypt_aes),
    last("bcrypt", bcrypt_fn),
    last("htpasswd", htpasswd),
    last("derivePassword", derive_password),
];

// ---------------------------------------------------------------------------------------------
// Arguments.

/// A `[]interface{}` argument (`nil` is an empty list).
fn list_arg(v: &Value) -> Result<&[Value], FuncError> {
    match v {
        Value::Null => Ok(&[]),
        Value::List(l) => Ok(l),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            go_type(other)
        ))),
    }
}

/// Sprig's `certificate` struct, as a map with `Cert` and `Key`.
fn cert_arg(v: &Value) -> Result<(String, String), FuncError> {
    match v {
        Value::Map(m) => {
            let field = |k: &str| match m.get(k) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            Ok((field("Cert"), field("Key")))
        }
        other => Err(FuncError::new(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            go_type(other)
        ))),
    }
}

fn cert_value(cert: String, key: String) -> Value {
    let mut m = Map::default();
    m.insert("Cert".into(), Value::String(cert));
    m.insert("Key".into(), Value::String(key));
    Value::Map(m)
}

// ---------------------------------------------------------------------------------------------
// DER.

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(items: &[&[u8]]) -> Vec<u8> {
    der(0x30, &items.concat())
}

/// An INTEGER from an unsigned big-endian number.
fn uint(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|&b| b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    der(0x02, &content)
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        content.extend(tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    der(0x06, &content)
}

fn bit_string(bytes: &[u8], unused: u8) -> Vec<u8> {
    let mut content = vec![unused];
    content.extend_from_slice(bytes);
    der(0x03, &content)
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    der(0x04, bytes)
}

const OID_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10_045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10_045, 3, 1, 7];
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10_045, 4, 3, 2];
const OID_ED25519: &[u64] = &[1, 3, 101, 112];
const OID_CN: &[u64] = &[2, 5, 4, 3];

/// One parsed TLV.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

const MALFORMED: &str = "x509: malformed certificate";

fn read_tlv(b: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let bad = || "asn1: syntax error: data truncated".to_owned();
    let (&tag, rest) = b.split_first().ok_or_else(bad)?;
    let (&len0, mut rest) = rest.split_first().ok_or_else(bad)?;
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad());
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return Err(bad());
    }
    let header = b.len() - rest.len();
    Ok((
        Tlv {
            tag,
            content: &rest[..len],
            raw: &b[..header + len],
        },
        &rest[len..],
    ))
}

fn children(b: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

/// The parts of a certificate a signer needs.
struct ParsedCert {
    subject: Vec<u8>,
    spki: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
}

fn parse_cert(der_bytes: &[u8]) -> Result<ParsedCert, String> {
    let (cert, rest) = read_tlv(der_bytes)?;
    if cert.tag != 0x30 || !rest.is_empty() {
        return Err(MALFORMED.to_owned());
    }
    let parts = children(cert.content)?;
    if parts.len() != 3 || parts[0].tag != 0x30 {
        return Err(MALFORMED.to_owned());
    }
    let tbs = children(parts[0].content)?;
    let mut i = usize::from(tbs.first().is_some_and(|t| t.tag == 0xa0));
    // serial, signature, issuer, validity, subject, spki
    if tbs.len() < i + 6 {
        return Err("x509: malformed tbs certificate".to_owned());
    }
    i += 4;
    let subject = tbs[i].raw.to_vec();
    let spki = tbs[i + 1].raw.to_vec();
    let mut subject_key_id = None;
    for t in &tbs[i + 2..] {
        if t.tag != 0xa3 {
            continue;
        }
        let (exts, _) = read_tlv(t.content)?;
        for ext in children(exts.content)? {
            let fields = children(ext.content)?;
            if fields.first().map(|f| f.raw) == Some(oid(&[2, 5, 29, 14]).as_slice())
                && let Some(value) = fields.last()
            {
                let (inner, _) = read_tlv(value.content)?;
                subject_key_id = Some(inner.content.to_vec());
            }
        }
    }
    Ok(ParsedCert {
        subject,
        spki,
        subject_key_id,
    })
}

// ---------------------------------------------------------------------------------------------
// PEM.

fn pem_encode(label: &str, der_bytes: &[u8]) -> String {
    let b64 = base64_encode(der_bytes);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block: its type and bytes (`None` when there is none, as Go's `pem.Decode`).
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut rest = text;
    loop {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + 11..];
        let type_end = after.find("-----")?;
        let label = &after[..type_end];
        let body_start = &after[type_end + 5..];
        let end_marker = format!("-----END {label}-----");
        if label.contains('\n') || !body_start.starts_with(['\n', '\r']) {
            rest = after;
            continue;
        }
        let Some(end) = body_start.find(&end_marker) else {
            rest = after;
            continue;
        };
        let body = &body_start[..end];
        // Skip RFC 1421 headers ("Key: value" lines before a blank line).
        let body = match body.find("\n\n") {
            Some(i) if body[..i].contains(':') => &body[i + 2..],
            _ => body,
        };
        let b64: Vec<u8> = body.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        match base64_decode(&b64) {
            Ok(bytes) => return Some((label.to_owned(), bytes)),
            Err(_) => {
                rest = after;
                continue;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys.

enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
    Ed(ed25519_dalek::SigningKey),
}

/// 2048-bit RSA keys being generated ahead of use (see [`pregenerate_rsa_2048`]).
static RSA_POOL: std::sync::Mutex<Vec<std::sync::mpsc::Receiver<rsa::RsaPrivateKey>>> =
    std::sync::Mutex::new(Vec::new());

/// Starts generating `count` 2048-bit RSA keys on background threads, for a render whose
/// templates call `genCA`/`genSignedCert`/`genSelfSignedCert`: key generation (tens of
/// milliseconds each) then overlaps loading, values and parsing instead of following them.
/// Keys are random either way; one not taken is simply dropped with the process.
pub fn pregenerate_rsa_2048(count: usize) {
    let Ok(mut pool) = RSA_POOL.lock() else {
        return;
    };
    for _ in pool.len()..count {
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("pack-rsa".into())
            .spawn(move || {
                if let Ok(PrivateKey::Rsa(k)) = generate_rsa(2048) {
                    let _ = tx.send(*k);
                }
            });
        if spawned.is_ok() {
            pool.push(rx);
        }
    }
}

/// A new RSA key: one generated ahead when there is one for this size, else a fresh one.
fn new_rsa(bits: usize) -> Result<PrivateKey, FuncError> {
    if bits == 2048 {
        let ahead = RSA_POOL.lock().ok().and_then(|mut p| p.pop());
        if let Some(rx) = ahead
            && let Ok(k) = rx.recv()
        {
            return Ok(PrivateKey::Rsa(Box::new(k)));
        }
    }
    generate_rsa(bits)
}

/// A new RSA key with public exponent 65537: AWS-LC's for the sizes it makes, else its two
/// primes searched on two cores.
fn generate_rsa(bits: usize) -> Result<PrivateKey, FuncError> {
    use aws_lc_rs::encoding::AsDer;
    use num_bigint_dig::RandPrime;
    use rsa::pkcs8::DecodePrivateKey;
    let size = match bits {
        2048 => Some(aws_lc_rs::rsa::KeySize::Rsa2048),
        3072 => Some(aws_lc_rs::rsa::KeySize::Rsa3072),
        4096 => Some(aws_lc_rs::rsa::KeySize::Rsa4096),
        8192 => Some(aws_lc_rs::rsa::KeySize::Rsa8192),
        _ => None,
    };
    if let Some(size) = size
        && let Ok(pair) = aws_lc_rs::rsa::KeyPair::generate(size)
        && let Ok(der) = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&pair)
        && let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_der(der.as_ref())
    {
        return Ok(PrivateKey::Rsa(Box::new(key)));
    }
    if bits < 64 {
        return rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| FuncError::new(format!("error generating rsa key: {e}")));
    }
    let e = rsa::BigUint::from(65_537u32);
    loop {
        // Each prime has its top two bits set, so the product has exactly `bits` bits.
        let (p, q) = std::thread::scope(|s| {
            let other = s.spawn(|| OsRng.gen_prime(bits / 2));
            let p = OsRng.gen_prime(bits - bits / 2);
            (p, other.join())
        });
        let Ok(q) = q else {
            return Err(FuncError::new(
                "error generating rsa key: prime search failed",
            ));
        };
        if p == q || (&p * &q).bits() != bits {
            continue;
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_p_q(p, q, e.clone()) {
            return Ok(PrivateKey::Rsa(Box::new(k)));
        }
    }
}

impl PrivateKey {
    fn ec_point(k: &p256::SecretKey) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        k.public_key().to_encoded_point(false).as_bytes().to_vec()
    }

    /// The DER SubjectPublicKeyInfo.
    fn spki(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                let pk = seq(&[&uint(&k.n().to_bytes_be()), &uint(&k.e().to_bytes_be())]);
                seq(&[&seq(&[&oid(OID_RSA), &[0x05, 0x00]]), &bit_string(&pk, 0)])
            }
            PrivateKey::Ec(k) => seq(&[
                &seq(&[&oid(OID_EC_PUBLIC_KEY), &oid(OID_P256)]),
                &bit_string(&Self::ec_point(k), 0),
            ]),
            PrivateKey::Ed(k) => seq(&[
                &seq(&[&oid(OID_ED25519)]),
                &bit_string(k.verifying_key().as_bytes(), 0),
            ]),
        }
    }

    /// The key's public bits (the SubjectPublicKeyInfo's BIT STRING contents).
    fn public_bits(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                seq(&[&uint(&k.n().to_bytes_be()), &uint(&k.e().to_bytes_be())])
            }
            PrivateKey::Ec(k) => Self::ec_point(k),
            PrivateKey::Ed(k) => k.verifying_key().as_bytes().to_vec(),
        }
    }

    /// Sprig's `pemBlockForKey`.
    fn to_pem(&self) -> Result<String, FuncError> {
        Ok(match self {
            PrivateKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                let doc = k
                    .to_pkcs1_der()
                    .map_err(|e| FuncError::new(format!("error pem-encoding key: {e}")))?;
                pem_encode("RSA PRIVATE KEY", doc.as_bytes())
            }
            PrivateKey::Ec(k) => {
                let body = seq(&[
                    &uint(&[1]),
                    &octets(&k.to_bytes()),
                    &der(0xa0, &oid(OID_P256)),
                    &der(0xa1, &bit_string(&Self::ec_point(k), 0)),
                ]);
                pem_encode("EC PRIVATE KEY", &body)
            }
            PrivateKey::Ed(k) => {
                let body = seq(&[
                    &uint(&[0]),
                    &seq(&[&oid(OID_ED25519)]),
                    &octets(&octets(&k.to_bytes())),
                ]);
                pem_encode("PRIVATE KEY", &body)
            }
        })
    }

    fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(_) => seq(&[&oid(OID_SHA256_RSA), &[0x05, 0x00]]),
            PrivateKey::Ec(_) => seq(&[&oid(OID_ECDSA_SHA256)]),
            PrivateKey::Ed(_) => seq(&[&oid(OID_ED25519)]),
        }
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, FuncError> {
        match self {
            PrivateKey::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg))
                .map_err(|e| FuncError::new(format!("error creating certificate: {e}"))),
            PrivateKey::Ec(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k).sign(msg);
                let (r, s) = sig.split_bytes();
                Ok(seq(&[&uint(&r), &uint(&s)]))
            }
            PrivateKey::Ed(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
        }
    }
}

fn parse_sec1(bytes: &[u8]) -> Result<PrivateKey, String> {
    let (top, _) = read_tlv(bytes)?;
    let fields = children(top.content)?;
    let key = fields
        .get(1)
        .filter(|f| f.tag == 0x04)
        .ok_or("x509: failed to parse EC private key")?;
    for f in &fields[2..] {
        if f.tag == 0xa0 && f.content != oid(OID_P256).as_slice() {
            return Err("x509: unknown elliptic curve".to_owned());
        }
    }
    let mut d = [0u8; 32];
    if key.content.len() > 32 {
        return Err("x509: invalid private key length".to_owned());
    }
    d[32 - key.content.len()..].copy_from_slice(key.content);
    p256::SecretKey::from_bytes(&d.into())
        .map(PrivateKey::Ec)
        .map_err(|_| "x509: invalid elliptic curve private key value".to_owned())
}

fn parse_pkcs8(bytes: &[u8]) -> Result<PrivateKey, String> {
    let (top, _) = read_tlv(bytes)?;
    let fields = children(top.content)?;
    let (Some(alg), Some(key)) = (fields.get(1), fields.get(2)) else {
        return Err("asn1: structure error".to_owned());
    };
    let alg_fields = children(alg.content)?;
    let alg_oid = alg_fields.first().map(|t| t.raw).unwrap_or_default();
    if alg_oid == oid(OID_RSA).as_slice() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        rsa::RsaPrivateKey::from_pkcs1_der(key.content)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}"))
    } else if alg_oid == oid(OID_EC_PUBLIC_KEY).as_slice() {
        parse_sec1(key.content)
    } else if alg_oid == oid(OID_ED25519).as_slice() {
        let (inner, _) = read_tlv(key.content)?;
        let seed: [u8; 32] = inner
            .content
            .try_into()
            .map_err(|_| "x509: invalid Ed25519 private key length".to_owned())?;
        Ok(PrivateKey::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)))
    } else {
        Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".to_owned())
    }
}

/// Sprig's `parsePrivateKeyPEM`.
fn parse_private_key_pem(text: &str) -> Result<PrivateKey, String> {
    let (label, bytes) = pem_decode(text).ok_or("no PEM data in input")?;
    if label == "PRIVATE KEY" {
        return parse_pkcs8(&bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {label}"));
    };
    match kind {
        "RSA" => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            rsa::RsaPrivateKey::from_pkcs1_der(&bytes)
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .map_err(|e| format!("parsing RSA private key from PEM: {e}"))
        }
        "EC" => parse_sec1(&bytes).map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => Err("parsing DSA private key from PEM: DSA keys are not supported".to_owned()),
        _ => Err(format!("invalid private key type {label}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates.

/// Go's `encoding/asn1` choice for a plain string: PrintableString when it can be one.
fn asn1_string(s: &str) -> Vec<u8> {
    let printable = s.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'/' | b' ' | b':' | b'=' | b'?'
            )
    });
    der(if printable { 0x13 } else { 0x0c }, s.as_bytes())
}

fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    let atv = seq(&[&oid(OID_CN), &asn1_string(cn)]);
    seq(&[&der(0x31, &atv)])
}

/// UTCTime for 1950–2049, GeneralizedTime otherwise (Go's rule).
fn asn1_time(secs: i64) -> Vec<u8> {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let clock = format!(
        "{m:02}{d:02}{:02}{:02}{:02}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if (1950..2050).contains(&y) {
        der(0x17, format!("{:02}{clock}", y % 100).as_bytes())
    } else {
        der(0x18, format!("{y:04}{clock}").as_bytes())
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(id), &[0x01, 0x01, 0xff], &octets(value)])
    } else {
        seq(&[&oid(id), &octets(value)])
    }
}

/// Sprig's `getBaseCertTemplate` inputs, validated as Sprig does.
struct Template {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

fn template(cn: &str, ips: &[Value], dns: &[Value], days: i64) -> Result<Template, FuncError> {
    let mut ip_bytes = Vec::new();
    for ip in ips {
        let Value::String(s) = ip else {
            return Err(FuncError::new(format!(
                "error parsing ip: {} is not a string",
                go_value(ip)
            )));
        };
        ip_bytes.push(parse_ip(s).ok_or_else(|| FuncError::new(format!("error parsing ip: {s}")))?);
    }
    let mut names = Vec::new();
    for d in dns {
        let Value::String(s) = d else {
            return Err(FuncError::new(format!(
                "error processing alternate dns name: {} is not a string",
                go_value(d)
            )));
        };
        names.push(s.clone());
    }
    Ok(Template {
        cn: cn.to_owned(),
        ips: ip_bytes,
        dns: names,
        days,
        is_ca: false,
    })
}

/// Go's `%v` of a scalar, for error messages.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Float(f) => super::serial::go_format_g(*f),
        other => other.to_string(),
    }
}

/// Go's `net.ParseIP`: 4 bytes for IPv4 (as x509 writes them), 16 for IPv6.
fn parse_ip(s: &str) -> Option<Vec<u8>> {
    if s.contains('%') || parse_addr(s).is_err() {
        return None;
    }
    if let Ok(v4) = s.parse::<std::net::Ipv4Addr>() {
        return Some(v4.octets().to_vec());
    }
    let v6: std::net::Ipv6Addr = s.parse().ok()?;
    // An IPv4-mapped address is written as its IPv4 form, as Go's `To4` does.
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => v4.octets().to_vec(),
        None => v6.octets().to_vec(),
    })
}

/// The signer of a certificate: its subject, SubjectPublicKeyInfo and key identifier.
struct Parent<'a> {
    subject: Vec<u8>,
    spki: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    key: &'a PrivateKey,
}

/// Go's `x509.CreateCertificate` for Sprig's templates: the PEM certificate.
fn create_certificate(
    t: &Template,
    key: &PrivateKey,
    parent: Option<Parent<'_>>,
) -> Result<String, FuncError> {
    let spki = key.spki();
    let subject = name(&t.cn);
    let self_skid = || Sha256::digest(key.public_bits())[..20].to_vec();
    let (issuer, signer, parent_skid) = match &parent {
        Some(p) => {
            if p.spki != p.key.spki() {
                return Err(FuncError::new(
                    "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
                ));
            }
            (p.subject.clone(), p.key, p.subject_key_id.clone())
        }
        None => (subject.clone(), key, t.is_ca.then(self_skid)),
    };
    for d in &t.dns {
        if !d.is_ascii() {
            return Err(FuncError::new(format!(
                "error creating certificate: x509: {d:?} cannot be encoded as an IA5String"
            )));
        }
    }
    let mut exts: Vec<Vec<u8>> = Vec::new();
    let key_usage: &[u8] = if t.is_ca {
        &[0x03, 0x02, 0x02, 0xa4]
    } else {
        &[0x03, 0x02, 0x05, 0xa0]
    };
    exts.push(extension(&[2, 5, 29, 15], true, key_usage));
    let eku = seq(&[
        &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
        &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
    ]);
    exts.push(extension(&[2, 5, 29, 37], false, &eku));
    let bc = if t.is_ca {
        seq(&[&[0x01, 0x01, 0xff]])
    } else {
        seq(&[])
    };
    exts.push(extension(&[2, 5, 29, 19], true, &bc));
    if t.is_ca {
        exts.push(extension(&[2, 5, 29, 14], false, &octets(&self_skid())));
    }
    if issuer != subject
        && let Some(skid) = parent_skid.filter(|s| !s.is_empty())
    {
        exts.push(extension(
            &[2, 5, 29, 35],
            false,
            &seq(&[&der(0x80, &skid)]),
        ));
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names: Vec<u8> = Vec::new();
        for d in &t.dns {
            names.extend(der(0x82, d.as_bytes()));
        }
        for ip in &t.ips {
            names.extend(der(0x87, ip));
        }
        exts.push(extension(
            &[2, 5, 29, 17],
            subject == seq(&[]),
            &der(0x30, &names),
        ));
    }
    let serial = uint(&random_bytes(16));
    let now = jiff::Timestamp::now().as_second();
    let not_after = now.saturating_add(t.days.saturating_mul(86_400));
    let validity = seq(&[&asn1_time(now), &asn1_time(not_after)]);
    let sig_alg = signer.signature_algorithm();
    let tbs = seq(&[
        &der(0xa0, &uint(&[2])),
        &serial,
        &sig_alg,
        &issuer,
        &validity,
        &subject,
        &spki,
        &der(0xa3, &der(0x30, &exts.concat())),
    ]);
    let signature = signer.sign(&tbs)?;
    let cert = seq(&[&tbs, &sig_alg, &bit_string(&signature, 0)]);
    Ok(pem_encode("CERTIFICATE", &cert))
}

fn key_arg(v: &Value) -> Result<PrivateKey, FuncError> {
    parse_private_key_pem(str_arg(v)?)
        .map_err(|e| FuncError::new(format!("parsing private key: {e}")))
}

fn ca_cert(cn: &str, days: i64, key: PrivateKey) -> FuncResult {
    let mut t = template(cn, &[], &[], days)?;
    t.is_ca = true;
    let cert = create_certificate(&t, &key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

/// `genCA CN DAYS`: a self-signed CA with a new RSA 2048 key.
fn gen_ca(args: &[Value]) -> FuncResult {
    arity("genCA", args, 2)?;
    let (cn, days) = (str_arg(&args[0])?, int_arg(&args[1])?);
    ca_cert(cn, days, new_rsa(2048)?)
}

/// `genCAWithKey CN DAYS KEY`: a self-signed CA for a PEM private key.
fn gen_ca_with_key(args: &[Value]) -> FuncResult {
    arity("genCAWithKey", args, 3)?;
    let (cn, days) = (str_arg(&args[0])?, int_arg(&args[1])?);
    ca_cert(cn, days, key_arg(&args[2])?)
}

fn self_signed(args: &[Value], key: Option<PrivateKey>) -> FuncResult {
    let (cn, ips, dns, days) = (
        str_arg(&args[0])?,
        list_arg(&args[1])?,
        list_arg(&args[2])?,
        int_arg(&args[3])?,
    );
    let t = template(cn, ips, dns, days)?;
    let key = match key {
        Some(k) => k,
        None => new_rsa(2048)?,
    };
    let cert = create_certificate(&t, &key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

/// `genSelfSignedCert CN IPS SANS DAYS`: a self-signed certificate with a new RSA 2048 key.
fn gen_self_signed_cert(args: &[Value]) -> FuncResult {
    arity("genSelfSignedCert", args, 4)?;
    self_signed(args, None)
}

/// `genSelfSignedCertWithKey CN IPS SANS DAYS KEY`.
fn gen_self_signed_cert_with_key(args: &[Value]) -> FuncResult {
    arity("genSelfSignedCertWithKey", args, 5)?;
    let key = key_arg(&args[4])?;
    self_signed(&args[..4], Some(key))
}

fn signed(args: &[Value], key: Option<PrivateKey>) -> FuncResult {
    let (cn, ips, dns, days) = (
        str_arg(&args[0])?,
        list_arg(&args[1])?,
        list_arg(&args[2])?,
        int_arg(&args[3])?,
    );
    let (ca_pem, ca_key_pem) = cert_arg(&args[4])?;
    let (label, ca_der) = pem_decode(&ca_pem)
        .filter(|(l, _)| !l.is_empty())
        .ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    let _ = label;
    let parsed = parse_cert(&ca_der).map_err(|e| {
        FuncError::new(format!(
            "error parsing certificate: decodedSignerCert.Bytes: {e}"
        ))
    })?;
    let signer = parse_private_key_pem(&ca_key_pem)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    let t = template(cn, ips, dns, days)?;
    let key = match key {
        Some(k) => k,
        None => new_rsa(2048)?,
    };
    let parent = Parent {
        subject: parsed.subject,
        spki: parsed.spki,
        subject_key_id: parsed.subject_key_id,
        key: &signer,
    };
    let cert = create_certificate(&t, &key, Some(parent))?;
    Ok(cert_value(cert, key.to_pem()?))
}

/// `genSignedCert CN IPS SANS DAYS CA`: a certificate signed by CA, with a new RSA 2048 key.
fn gen_signed_cert(args: &[Value]) -> FuncResult {
    arity("genSignedCert", args, 5)?;
    signed(args, None)
}

/// `genSignedCertWithKey CN IPS SANS DAYS CA KEY`.
fn gen_signed_cert_with_key(args: &[Value]) -> FuncResult {
    arity("genSignedCertWithKey", args, 6)?;
    let key = key_arg(&args[5])?;
    signed(&args[..5], Some(key))
}

/// `buildCustomCert B64CERT B64KEY`: a `{Cert, Key}` map from base64-encoded PEM, checked.
fn build_custom_cert(args: &[Value]) -> FuncResult {
    arity("buildCustomCert", args, 2)?;
    let (b64cert, b64key) = (str_arg(&args[0])?, str_arg(&args[1])?);
    let cert = base64_decode(b64cert.as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 certificate"))?;
    let key = base64_decode(b64key.as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 private key"))?;
    let (cert, key) = (
        String::from_utf8_lossy(&cert).into_owned(),
        String::from_utf8_lossy(&key).into_owned(),
    );
    let (_, cert_der) =
        pem_decode(&cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    parse_cert(&cert_der).map_err(|e| {
        FuncError::new(format!("error parsing certificate: decodedCert.Bytes: {e}"))
    })?;
    parse_private_key_pem(&key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    Ok(cert_value(cert, key))
}

/// `genPrivateKey TYPE`: a PEM private key; `rsa` (or "") is RSA 4096, `ecdsa` P-256,
/// `ed25519` Ed25519. An unknown type gives the text `Unknown type TYPE`, as in Sprig.
fn gen_private_key(args: &[Value]) -> FuncResult {
    arity("genPrivateKey", args, 1)?;
    let key = match str_arg(&args[0])? {
        "" | "rsa" => new_rsa(4096).map_err(|e| {
            FuncError::new(
                e.0.replace("error generating rsa key", "failed to generate private key"),
            )
        })?,
        "ecdsa" => PrivateKey::Ec(p256::SecretKey::random(&mut OsRng)),
        "ed25519" => {
            let seed: [u8; 32] = random_bytes(32).try_into().unwrap_or([0; 32]);
            PrivateKey::Ed(ed25519_dalek::SigningKey::from_bytes(&seed))
        }
        "dsa" => {
            return Err(FuncError::new(
                "genPrivateKey: DSA keys are not supported (Go has deprecated crypto/dsa); use rsa, ecdsa or ed25519",
            ));
        }
        other => return Ok(Value::String(format!("Unknown type {other}"))),
    };
    Ok(Value::String(key.to_pem()?))
}

// ---------------------------------------------------------------------------------------------
// Symmetric encryption, password hashing, derived passwords.

fn aes_cipher(password: &str) -> aes::Aes256 {
    use aes::cipher::KeyInit;
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    aes::Aes256::new(&key.into())
}

/// `encryptAES PASSWORD PLAINTEXT`: AES-256-CBC (key = password zero-padded or cut to 32
/// bytes), PKCS #7 padding, random IV first, base64 — Sprig's format. "" stays "".
fn encrypt_aes(args: &[Value]) -> FuncResult {
    use aes::cipher::BlockEncrypt;
    arity("encryptAES", args, 2)?;
    let (password, plaintext) = (str_arg(&args[0])?, str_arg(&args[1])?);
    if plaintext.is_empty() {
        return Ok(Value::from(""));
    }
    let cipher = aes_cipher(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let iv = random_bytes(16);
    let mut out = iv.clone();
    let mut prev: [u8; 16] = iv.try_into().unwrap_or([0; 16]);
    for chunk in content.chunks(16) {
        let mut block = [0u8; 16];
        for (i, b) in chunk.iter().enumerate() {
            block[i] = b ^ prev[i];
        }
        let mut ga = block.into();
        cipher.encrypt_block(&mut ga);
        prev = ga.into();
        out.extend_from_slice(&prev);
    }
    Ok(Value::String(base64_encode(&out)))
}

/// `decryptAES PASSWORD CIPHERTEXT`: the inverse of `encryptAES`, failing where Sprig's Go
/// code panics (with Go's runtime messages).
fn decrypt_aes(args: &[Value]) -> FuncResult {
    use aes::cipher::BlockDecrypt;
    arity("decryptAES", args, 2)?;
    let (password, crypt64) = (str_arg(&args[0])?, str_arg(&args[1])?);
    if crypt64.is_empty() {
        return Ok(Value::from(""));
    }
    let crypt = base64_decode(crypt64.as_bytes()).map_err(FuncError::new)?;
    if crypt.len() < 16 {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        )));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err(FuncError::new("crypto/cipher: input not full blocks"));
    }
    let cipher = aes_cipher(password);
    let mut prev: [u8; 16] = iv.try_into().unwrap_or([0; 16]);
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let mut ga = <[u8; 16]>::try_from(chunk).unwrap_or([0; 16]).into();
        cipher.decrypt_block(&mut ga);
        let block: [u8; 16] = ga.into();
        plain.extend(block.iter().zip(prev).map(|(a, b)| a ^ b));
        prev = chunk.try_into().unwrap_or([0; 16]);
    }
    let Some(&last) = plain.last() else {
        return Err(FuncError::new("runtime error: index out of range [-1]"));
    };
    let keep = plain.len() as i64 - i64::from(last);
    if keep < 0 {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:{keep}]"
        )));
    }
    plain.truncate(keep as usize);
    Ok(Value::String(String::from_utf8_lossy(&plain).into_owned()))
}

/// Go's `bcrypt.GenerateFromPassword(password, 10)` in Sprig's `bcrypt`: `$2a$10$…`, or the
/// error text as the result.
fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .to_owned();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// `bcrypt STRING`.
fn bcrypt_fn(args: &[Value]) -> FuncResult {
    arity("bcrypt", args, 1)?;
    Ok(Value::String(bcrypt_hash(str_arg(&args[0])?)))
}

/// `htpasswd USER PASSWORD`: an Apache `user:$2a$10$…` line.
fn htpasswd(args: &[Value]) -> FuncResult {
    arity("htpasswd", args, 2)?;
    let (user, password) = (str_arg(&args[0])?, str_arg(&args[1])?);
    if user.contains(':') {
        return Ok(Value::String(format!("invalid username: {user}")));
    }
    Ok(Value::String(format!("{user}:{}", bcrypt_hash(password))))
}

const PASSWORD_TEMPLATES: &[(&str, &[&str])] = &[
    ("maximum", &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"]),
    (
        "long",
        &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
    ),
    ("medium", &["CvcnoCvc", "CvcCvcno"]),
    ("short", &["Cvcn"]),
    ("basic", &["aaanaaan", "aannaaan", "aaannaaa"]),
    ("pin", &["nnnn"]),
];

fn template_characters(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `derivePassword COUNTER TYPE PASSWORD USER SITE`: the Master Password algorithm, as Sprig.
fn derive_password(args: &[Value]) -> FuncResult {
    arity("derivePassword", args, 5)?;
    let counter = match &args[0] {
        v @ (Value::Int(_) | Value::Float(_)) => match v.as_i64().map(u32::try_from) {
            Some(Ok(c)) => c,
            _ => {
                return Err(FuncError::new(format!(
                    "expected unsigned integer; found {}",
                    go_value(v)
                )));
            }
        },
        other => {
            return Err(FuncError::new(format!(
                "wrong type for value; expected uint32; got {}",
                go_type(other)
            )));
        }
    };
    let kind = str_arg(&args[1])?;
    let (password, user, site) = (str_arg(&args[2])?, str_arg(&args[3])?, str_arg(&args[4])?);
    let Some((_, templates)) = PASSWORD_TEMPLATES.iter().find(|(k, _)| *k == kind) else {
        return Ok(Value::String(format!(
            "cannot find password template {kind}"
        )));
    };
    const SEED: &str = "com.lyndir.masterpassword";
    let mut salt = SEED.as_bytes().to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    let mut msg = SEED.as_bytes().to_vec();
    msg.extend((site.len() as u32).to_be_bytes());
    msg.extend(site.as_bytes());
    msg.extend(counter.to_be_bytes());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = templates[usize::from(seed[0]) % templates.len()];
    let out: String = temp
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_characters(c);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect();
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::der::{Decode, Encode};

    fn pem_der(pem: &str, label: &str) -> Vec<u8> {
        let (l, der) = pem_decode(pem).expect("PEM");
        assert_eq!(l, label);
        der
    }

    fn field<'a>(v: &'a Value, k: &str) -> &'a str {
        v.get(k).and_then(Value::as_str).expect(k)
    }

    struct Checked {
        cert: x509_cert::Certificate,
    }

    impl Checked {
        fn ext(&self, oid: &str) -> Option<(bool, Vec<u8>)> {
            let oid: x509_cert::der::asn1::ObjectIdentifier = oid.parse().unwrap();
            self.cert
                .tbs_certificate
                .extensions
                .as_ref()?
                .iter()
                .find(|e| e.extn_id == oid)
                .map(|e| (e.critical, e.extn_value.as_bytes().to_vec()))
        }
        fn cn(&self, issuer: bool) -> String {
            let name = if issuer {
                &self.cert.tbs_certificate.issuer
            } else {
                &self.cert.tbs_certificate.subject
            };
            name.to_string()
        }
        fn days(&self) -> i64 {
            let v = &self.cert.tbs_certificate.validity;
            let nb = v.not_before.to_unix_duration().as_secs() as i64;
            let na = v.not_after.to_unix_duration().as_secs() as i64;
            let now = jiff::Timestamp::now().as_second();
            assert!((nb - now).abs() < 120, "not before is now");
            (na - nb) / 86_400
        }
    }

    fn check(pem: &str) -> Checked {
        let der = pem_der(pem, "CERTIFICATE");
        let cert = x509_cert::Certificate::from_der(&der).expect("a DER certificate");
        assert_eq!(cert.to_der().unwrap(), der, "canonical DER");
        assert_eq!(cert.tbs_certificate.version, x509_cert::Version::V3);
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        assert!(serial.len() <= 17 && serial.len() >= 8);
        Checked { cert }
    }

    fn verify_rsa(c: &Checked, issuer_key_pem: &str) {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let der = pem_der(issuer_key_pem, "RSA PRIVATE KEY");
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        let tbs = c.cert.tbs_certificate.to_der().unwrap();
        key.to_public_key()
            .verify(
                rsa::Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(&tbs),
                c.cert.signature.raw_bytes(),
            )
            .expect("signature verifies with the issuer's key");
    }

    const KU: &str = "2.5.29.15";
    const EKU: &str = "2.5.29.37";
    const BC: &str = "2.5.29.19";
    const SKI: &str = "2.5.29.14";
    const AKI: &str = "2.5.29.35";
    const SAN: &str = "2.5.29.17";
    const EKU_VALUE: &[u8] = &[
        0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, 0x06, 0x08, 0x2b,
        0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
    ];

    #[test]
    fn ca_then_signed_certificate() {
        let ca = gen_ca(&[Value::from("my ca"), Value::Int(3650)]).unwrap();
        let c = check(field(&ca, "Cert"));
        assert_eq!(c.cn(false), "CN=my ca");
        assert_eq!(c.cn(true), "CN=my ca");
        assert_eq!(c.days(), 3650);
        assert_eq!(c.ext(KU), Some((true, vec![0x03, 0x02, 0x02, 0xa4])));
        assert_eq!(c.ext(EKU), Some((false, EKU_VALUE.to_vec())));
        assert_eq!(c.ext(BC), Some((true, vec![0x30, 0x03, 0x01, 0x01, 0xff])));
        let (_, ski) = c.ext(SKI).expect("a CA has a subject key id");
        assert_eq!(ski.len(), 22);
        assert!(c.ext(AKI).is_none());
        let spki = &c.cert.tbs_certificate.subject_public_key_info;
        assert_eq!(spki.algorithm.oid.to_string(), "1.2.840.113549.1.1.1");
        assert_eq!(spki.subject_public_key.raw_bytes().len(), 270, "RSA 2048");
        let digest = Sha256::digest(spki.subject_public_key.raw_bytes());
        assert_eq!(
            &ski[2..],
            &digest[..20],
            "Go 1.25's truncated SHA-256 key id"
        );
        verify_rsa(&c, field(&ca, "Key"));

        let leaf = gen_signed_cert(&[
            Value::from("svc.example"),
            Value::List(vec![Value::from("10.0.0.1"), Value::from("::1")]),
            Value::List(vec![Value::from("a.example"), Value::from("*.b.example")]),
            Value::Int(30),
            ca.clone(),
        ])
        .unwrap();
        let l = check(field(&leaf, "Cert"));
        assert_eq!(l.cn(false), "CN=svc.example");
        assert_eq!(l.cn(true), "CN=my ca");
        assert_eq!(l.days(), 30);
        assert_eq!(l.ext(KU), Some((true, vec![0x03, 0x02, 0x05, 0xa0])));
        assert_eq!(l.ext(BC), Some((true, vec![0x30, 0x00])));
        assert!(l.ext(SKI).is_none());
        let (_, aki) = l.ext(AKI).unwrap();
        assert_eq!(&aki[4..], &ski[2..], "authority key id is the CA's key id");
        let (critical, san) = l.ext(SAN).unwrap();
        assert!(!critical);
        let mut want = vec![0x30, 0x30, 0x82, 9];
        want.extend(b"a.example");
        want.extend([0x82, 11]);
        want.extend(b"*.b.example");
        want.extend([0x87, 4, 10, 0, 0, 1, 0x87, 16]);
        want.extend([0; 15]);
        want.push(1);
        assert_eq!(san, want);
        verify_rsa(&l, field(&ca, "Key"));
        assert!(field(&leaf, "Key").starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));

        // A certificate signed with a key that is not the CA's.
        let other = gen_ca(&[Value::from("other"), Value::Int(1)]).unwrap();
        let mut mixed = ca.as_map().unwrap().clone();
        mixed.insert("Key".into(), other.get("Key").unwrap().clone());
        let err = gen_signed_cert(&[
            Value::from("x"),
            Value::Null,
            Value::Null,
            Value::Int(1),
            Value::Map(mixed),
        ])
        .unwrap_err();
        assert!(err.0.contains("doesn't match parent's PublicKey"), "{err}");
    }

    #[test]
    fn self_signed_with_ec_and_ed25519_keys() {
        for (kind, label, alg) in [
            ("ecdsa", "EC PRIVATE KEY", "1.2.840.10045.4.3.2"),
            ("ed25519", "PRIVATE KEY", "1.3.101.112"),
        ] {
            let key = gen_private_key(&[Value::from(kind)]).unwrap();
            let key = key.as_str().unwrap();
            pem_der(key, label);
            let cert = gen_self_signed_cert_with_key(&[
                Value::from("e"),
                Value::Null,
                Value::List(vec![Value::from("e.example")]),
                Value::Int(1),
                Value::from(key),
            ])
            .unwrap();
            assert_eq!(field(&cert, "Key"), key, "the key is written back as given");
            let c = check(field(&cert, "Cert"));
            assert_eq!(c.cert.signature_algorithm.oid.to_string(), alg);
            assert_eq!(c.cn(true), "CN=e");
            assert!(c.ext(SKI).is_none() && c.ext(AKI).is_none());
            assert!(c.ext(SAN).is_some());
            // The ECDSA and Ed25519 signatures verify.
            let tbs = c.cert.tbs_certificate.to_der().unwrap();
            let sig = c.cert.signature.raw_bytes();
            let pk = c
                .cert
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            if kind == "ecdsa" {
                use p256::ecdsa::signature::Verifier;
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(pk).unwrap();
                let (seq_tlv, _) = read_tlv(sig).unwrap();
                let rs = children(seq_tlv.content).unwrap();
                let fixed = |b: &[u8]| {
                    let b: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
                    let mut out = [0u8; 32];
                    out[32 - b.len()..].copy_from_slice(&b);
                    out
                };
                let sig = p256::ecdsa::Signature::from_scalars(
                    fixed(rs[0].content),
                    fixed(rs[1].content),
                )
                .unwrap();
                vk.verify(&tbs, &sig).unwrap();
            } else {
                let vk = ed25519_dalek::VerifyingKey::from_bytes(pk.try_into().unwrap()).unwrap();
                let sig = ed25519_dalek::Signature::from_slice(sig).unwrap();
                vk.verify_strict(&tbs, &sig).unwrap();
            }
        }
    }

    #[test]
    fn rsa_private_key_is_4096_bits() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let key = gen_private_key(&[Value::from("rsa")]).unwrap();
        let der = pem_der(key.as_str().unwrap(), "RSA PRIVATE KEY");
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        assert_eq!(key.n().bits(), 4096);
        assert_eq!(key.e(), &rsa::BigUint::from(65_537u32));
        key.validate()
            .expect("a consistent key (primes, exponents, CRT values)");
        // And a CA made with it is signed by it.
        let pem = pem_encode("RSA PRIVATE KEY", &der);
        let ca =
            gen_ca_with_key(&[Value::from("k"), Value::Int(2), Value::from(pem.as_str())]).unwrap();
        verify_rsa(&check(field(&ca, "Cert")), &pem);
    }

    #[test]
    fn dsa_and_unknown_types() {
        assert!(gen_private_key(&[Value::from("dsa")]).is_err());
        assert_eq!(
            gen_private_key(&[Value::from("foo")]).unwrap(),
            Value::from("Unknown type foo")
        );
    }

    #[test]
    fn aes_round_trip() {
        for text in [
            "x",
            "exactly16bytes!!",
            "h\u{e9}llo w\u{f6}rld, a longer text",
        ] {
            for password in ["", "secret", "0123456789abcdef0123456789abcdefXYZ"] {
                let c = encrypt_aes(&[Value::from(password), Value::from(text)]).unwrap();
                let c = c.as_str().unwrap();
                let raw = base64_decode(c.as_bytes()).unwrap();
                assert_eq!(raw.len(), 16 + (text.len() / 16 + 1) * 16);
                let p = decrypt_aes(&[Value::from(password), Value::from(c)]).unwrap();
                assert_eq!(p.as_str(), Some(text));
            }
        }
        let a = encrypt_aes(&[Value::from("k"), Value::from("same")]).unwrap();
        let b = encrypt_aes(&[Value::from("k"), Value::from("same")]).unwrap();
        assert_ne!(a, b, "random IV");
    }

    #[test]
    fn bcrypt_hashes_verify() {
        let line = htpasswd(&[Value::from("user"), Value::from("pass")]).unwrap();
        let (user, hash) = line.as_str().unwrap().split_once(':').unwrap();
        assert_eq!(user, "user");
        assert!(hash.starts_with("$2a$10$") && hash.len() == 60, "{hash}");
        assert!(bcrypt::verify("pass", hash).unwrap());
        // A hash made by Helm verifies with the same password.
        let helm = "$2a$10$UCS4RODwyf8PaTLzxJi6R.w2GxE2GFAUuNyc3S0YvDuNYjSa2gq6G";
        assert!(bcrypt::verify("pass", helm).unwrap());
        let h = bcrypt_fn(&[Value::from("")]).unwrap();
        assert!(bcrypt::verify("", h.as_str().unwrap()).unwrap());
    }
}
