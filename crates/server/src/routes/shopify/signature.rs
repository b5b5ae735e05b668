//! Shopify's webhook signature: base64(HMAC-SHA256(secret, raw body)),
//! checked in constant time against every live secret of the shop.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` is the signature of `body` under one of `secrets`.
pub fn verify(body: &[u8], header: &str, secrets: &[String]) -> bool {
    let Ok(claimed) = STANDARD.decode(header.trim()) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&claimed).is_ok()
    })
}

/// The header value Shopify would send for `body` (tests and benchmarks).
pub fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A public vector (SQLPage's test suite), recomputed independently.
    const SECRET: &str = "test-webhook-secret";
    const BODY: &[u8] = br#"{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}"#;
    const HEADER: &str = "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw=";

    #[test]
    fn the_public_vector_verifies() {
        assert_eq!(sign(BODY, SECRET), HEADER);
        assert!(verify(BODY, HEADER, &[SECRET.to_owned()]));
    }

    #[test]
    fn any_live_secret_will_do_and_nothing_else() {
        let rotation = ["new-secret".to_owned(), SECRET.to_owned()];
        assert!(verify(BODY, HEADER, &rotation));
        assert!(!verify(BODY, HEADER, &["other".to_owned()]));
        assert!(!verify(BODY, HEADER, &[]));
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert!(!verify(&tampered, HEADER, &[SECRET.to_owned()]));
        assert!(!verify(BODY, "not base64!", &[SECRET.to_owned()]));
        assert!(!verify(BODY, "", &[SECRET.to_owned()]));
    }
}
