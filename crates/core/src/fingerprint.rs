//! Visitor fingerprints: opaque ids of one browser session.

use std::fmt;

/// A fingerprint that exists is valid: 1–128 characters of `[A-Za-z0-9_.:-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a fingerprint is 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'")]
pub struct InvalidFingerprint;

impl Fingerprint {
    pub fn parse(raw: &str) -> Result<Self, InvalidFingerprint> {
        let ok = (1..=128).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidFingerprint) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        assert!(Fingerprint::parse("FP-8a3c").is_ok());
        assert!(Fingerprint::parse("a.b:c_d-e").is_ok());
        assert!(Fingerprint::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        assert_eq!(Fingerprint::parse(""), Err(InvalidFingerprint));
        assert_eq!(Fingerprint::parse(&"x".repeat(129)), Err(InvalidFingerprint));
        assert_eq!(Fingerprint::parse("a b"), Err(InvalidFingerprint));
        assert_eq!(Fingerprint::parse("é"), Err(InvalidFingerprint));
    }
}
