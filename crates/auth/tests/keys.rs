//! Integration tests of `KeySet`: JWKS shape and RFC 7638 kids, and the
//! embedded-mode key directory (generate once, reload the same kid).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use passerelle_auth::keys::{KeySet, generate_ed25519_pem};
use serde_json::json;
use sha2::{Digest, Sha256};

/// A fresh, empty directory under the system temp dir.
struct TempDir(std::path::PathBuf);
impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("passerelle-auth-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn jwks_has_public_key_and_thumbprint_kid() {
    let pem = generate_ed25519_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let keys = KeySet::ed25519_from_pem(&pem, &[]).unwrap();
    let jwks = keys.jwks();
    let key = &jwks["keys"][0];
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], keys.active_kid());
    let x = key["x"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(x).unwrap().len(), 32);
    assert!(key.get("d").is_none(), "no private part in the JWKS");

    // RFC 7638 thumbprint.
    let canonical = json!({"crv": "Ed25519", "kty": "OKP", "x": x}).to_string();
    assert_eq!(
        keys.active_kid(),
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    );
    // Debug shows kids, not key material.
    let dbg = format!("{keys:?}");
    assert!(dbg.contains(keys.active_kid()));
    assert!(!dbg.contains("PRIVATE"));
}

#[test]
fn rfc8037_thumbprint_vector() {
    // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    let pem = "-----BEGIN PRIVATE KEY-----\n\
               MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
               -----END PRIVATE KEY-----\n";
    let keys = KeySet::ed25519_from_pem(pem, &[]).unwrap();
    assert_eq!(
        keys.jwks()["keys"][0]["x"],
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    );
    assert_eq!(
        keys.active_kid(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn key_dir_generates_once_then_reloads() {
    let dir = TempDir::new();
    let keys_dir = dir.0.join("keys");
    let (first, generated) = KeySet::ed25519_load_or_generate_dir(&keys_dir).unwrap();
    assert!(generated);
    let files: Vec<_> = std::fs::read_dir(&keys_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("ed25519-") && name.ends_with(".pem"),
        "{name}"
    );
    // ed25519-YYYYmmddHHMMSS-<8 chars of kid>.pem
    assert_eq!(
        name.len(),
        "ed25519-".len() + 14 + 1 + 8 + ".pem".len(),
        "{name}"
    );
    assert!(name.contains(&first.active_kid()[..8]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (again, generated) = KeySet::ed25519_load_or_generate_dir(&keys_dir).unwrap();
    assert!(!generated);
    assert_eq!(again.active_kid(), first.active_kid());

    // A newer file (sorts last) becomes active; the old one verifies only.
    std::fs::write(
        keys_dir.join("ed25519-29991231235959-zzzzzzzz.pem"),
        generate_ed25519_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(keys_dir.join("notes.txt"), "ignored").unwrap();
    let (rotated, generated) = KeySet::ed25519_load_or_generate_dir(&keys_dir).unwrap();
    assert!(!generated);
    assert_ne!(rotated.active_kid(), first.active_kid());
    let kids: Vec<String> = rotated.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kids,
        vec![
            rotated.active_kid().to_owned(),
            first.active_kid().to_owned()
        ]
    );

    // A broken key file is a Config error.
    std::fs::write(keys_dir.join("ed25519-00000000000000-broken.pem"), "junk").unwrap();
    assert!(KeySet::ed25519_load_or_generate_dir(&keys_dir).is_err());
}
