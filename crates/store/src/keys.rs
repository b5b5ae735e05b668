//! Keys and digests: random public and secret keys, SHA-256 digests of
//! secret keys and of request bodies (idempotency).

use sha2::{Digest, Sha256};

/// A prefixed random token: a UUIDv4 (122 random bits) and 32 bits of another.
pub(crate) fn random_token(prefix: &str) -> String {
    format!("{prefix}{}{}", uuid::Uuid::new_v4().simple(), &uuid::Uuid::new_v4().simple().to_string()[..8])
}

pub(crate) fn sha256_bytes(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub(crate) fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a JSON body in canonical form (object keys sorted, no white
/// space), so that two bodies equal as JSON values have the same digest.
pub fn request_digest(body: &serde_json::Value) -> [u8; 32] {
    // serde_json's Map is ordered by key unless `preserve_order` is enabled;
    // sort explicitly so the digest holds whatever features are unified in.
    fn canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend(serde_json::to_vec(k).unwrap_or_default());
                    out.push(b':');
                    canonical(v, out);
                }
                out.push(b'}');
            }
            serde_json::Value::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    canonical(v, out);
                }
                out.push(b']');
            }
            scalar => out.extend(serde_json::to_vec(scalar).unwrap_or_default()),
        }
    }
    let mut bytes = Vec::with_capacity(256);
    canonical(body, &mut bytes);
    Sha256::digest(&bytes).into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn digests_ignore_key_order_and_white_space() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "s"}}"#).unwrap();
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(request_digest(&a), request_digest(&b));
        assert_ne!(request_digest(&a), request_digest(&json!({"b": 2})));
    }

    #[test]
    fn tokens_are_prefixed_and_distinct() {
        let a = random_token("sk_");
        assert!(a.starts_with("sk_") && a.len() == 43);
        assert_ne!(a, random_token("sk_"));
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
