//! Bearer tokens: `tkd_<id>_<secret>`. The id (8 random bytes, hex) finds
//! the credential without a scan and is safe to log; the secret (32 random
//! bytes, hex) is shown once and only its SHA-256 is stored.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "tkd_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A newly generated token and what is stored of it.
pub struct NewToken {
    pub id: String,
    /// The whole token, for the caller to hand over once.
    pub token: String,
    pub secret_hash: Vec<u8>,
}

/// Generates a token from the operating system's random source.
pub fn generate() -> anyhow::Result<NewToken> {
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut id)?;
    getrandom::getrandom(&mut secret)?;
    let (id, secret) = (hex(&id), hex(&secret));
    Ok(NewToken {
        token: format!("{PREFIX}{id}_{secret}"),
        secret_hash: hash(&secret).to_vec(),
        id,
    })
}

/// Splits a token into its id and secret, if it has the shape of one.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix(PREFIX)?.split_once('_')?;
    let hex_of = |s: &str, bytes: usize| {
        s.len() == bytes * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (hex_of(id, ID_BYTES) && hex_of(secret, SECRET_BYTES)).then_some((id, secret))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares a presented secret with a stored hash in time that does not
/// depend on where they first differ.
pub fn matches(secret: &str, stored_hash: &[u8]) -> bool {
    hash(secret).as_slice().ct_eq(stored_hash).into()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_to_its_id_and_matches_its_hash() {
        let new = generate().unwrap();
        let (id, secret) = parse(&new.token).expect("parses");
        assert_eq!(id, new.id);
        assert!(matches(secret, &new.secret_hash));
        assert_eq!(new.token.len(), PREFIX.len() + 16 + 1 + 64);
    }

    #[test]
    fn tokens_are_not_repeated() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.token, b.token);
    }

    #[test]
    fn a_wrong_secret_does_not_match() {
        let new = generate().unwrap();
        let other = generate().unwrap();
        let (_, other_secret) = parse(&other.token).unwrap();
        assert!(!matches(other_secret, &new.secret_hash));
        assert!(!matches("", &new.secret_hash));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = generate().unwrap().token;
        for bad in [
            "",
            "tkd_",
            "Bearer x",
            &good[..good.len() - 1],
            &good.replace("tkd_", "tkx_"),
            &good.to_uppercase(),
            &format!("{good}0"),
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
