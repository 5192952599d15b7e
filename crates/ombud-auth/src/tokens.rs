use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Number of random bytes in an opaque token, before base64url encoding.
const TOKEN_RANDOM_BYTES: usize = 32;

/// Number of characters after the prefix that `Debug` shows, enough to tell tokens
/// apart in logs without revealing a usable part of the secret.
const DEBUG_VISIBLE_CHARS: usize = 4;

/// Kind of an opaque bearer token, which fixes its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    PersonalAccessToken,
    RefreshToken,
    DxKey,
    MagicLinkTicket,
}

impl TokenKind {
    /// All token kinds, in declaration order.
    pub const ALL: [TokenKind; 4] = [
        TokenKind::PersonalAccessToken,
        TokenKind::RefreshToken,
        TokenKind::DxKey,
        TokenKind::MagicLinkTicket,
    ];

    /// Returns the prefix that every token of this kind starts with.
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::PersonalAccessToken => "ombud_pat_",
            TokenKind::RefreshToken => "ombud_rt_",
            TokenKind::DxKey => "dxk_",
            TokenKind::MagicLinkTicket => "ombud_ml_",
        }
    }

    /// Detects the kind of a presented token from its prefix, or returns `None` when no
    /// known prefix matches. The token itself is not validated.
    pub fn from_token(token: &str) -> Option<TokenKind> {
        TokenKind::ALL
            .into_iter()
            .find(|kind| token.starts_with(kind.prefix()))
    }
}

/// Plaintext of an opaque token, which the server shows to the user once and never stores.
pub struct SecretToken(String);

impl SecretToken {
    /// Returns the full plaintext, for sending it to the user.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = TokenKind::from_token(&self.0).map_or("", TokenKind::prefix);

        let visible: String = self.0[prefix.len()..]
            .chars()
            .take(DEBUG_VISIBLE_CHARS)
            .collect();

        write!(formatter, "SecretToken({prefix}{visible}…)")
    }
}

/// Newly issued token: the plaintext for the user and the hash for the database.
#[derive(Debug)]
pub struct IssuedToken {
    pub plaintext: SecretToken,
    pub hash: String,
}

/// Creates a token of the given kind from 32 random bytes of the operating system's
/// generator, encoded as base64url without padding after the kind's prefix.
pub fn issue_token(kind: TokenKind) -> IssuedToken {
    let mut random = [0_u8; TOKEN_RANDOM_BYTES];
    OsRng.fill_bytes(&mut random);

    let plaintext = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(random));
    let hash = hash_token(&plaintext);

    IssuedToken {
        plaintext: SecretToken(plaintext),
        hash,
    }
}

/// Hashes a full token, prefix included, to the lowercase hex SHA-256 that the
/// database stores.
///
/// A plain hash without salt is enough because tokens carry 256 random bits, so
/// guessing a token from its hash is infeasible, and the hash can serve as a lookup key.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths, not on their
/// content.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_has_prefix_and_length() {
        for kind in TokenKind::ALL {
            let issued = issue_token(kind);
            let plaintext = issued.plaintext.expose();

            assert!(
                plaintext.starts_with(kind.prefix()),
                "{kind:?}: {plaintext}"
            );

            let encoded = &plaintext[kind.prefix().len()..];
            // 32 bytes in base64 without padding take ceil(32 * 4 / 3) = 43 characters.
            assert_eq!(encoded.len(), 43, "{kind:?}");

            let decoded = URL_SAFE_NO_PAD.decode(encoded);
            assert_eq!(decoded.map(|bytes| bytes.len()).ok(), Some(32), "{kind:?}");
        }
    }

    #[test]
    fn issued_token_prefixes_are_exact() {
        assert_eq!(TokenKind::PersonalAccessToken.prefix(), "ombud_pat_");
        assert_eq!(TokenKind::RefreshToken.prefix(), "ombud_rt_");
        assert_eq!(TokenKind::DxKey.prefix(), "dxk_");
        assert_eq!(TokenKind::MagicLinkTicket.prefix(), "ombud_ml_");
    }

    #[test]
    fn issued_token_hash_matches_plaintext() {
        let issued = issue_token(TokenKind::RefreshToken);

        assert_eq!(issued.hash, hash_token(issued.plaintext.expose()));
        assert_eq!(issued.hash.len(), 64);
        assert!(
            issued
                .hash
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "hash is not lowercase hex: {}",
            issued.hash
        );
    }

    #[test]
    fn issued_tokens_differ() {
        let first = issue_token(TokenKind::DxKey);
        let second = issue_token(TokenKind::DxKey);

        assert_ne!(first.plaintext.expose(), second.plaintext.expose());
        assert_ne!(first.hash, second.hash);
    }

    #[test]
    fn hash_token_known_vector() {
        // SHA-256 of "abc" from FIPS 180-2, appendix B.1.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_shows_only_prefix_and_four_chars() {
        let issued = issue_token(TokenKind::PersonalAccessToken);
        let plaintext = issued.plaintext.expose();
        let expected = format!("SecretToken({}…)", &plaintext[..14]);

        let debug = format!("{:?}", issued.plaintext);

        assert_eq!(debug, expected);
        assert!(!debug.contains(&plaintext[14..]));

        let issued_debug = format!("{issued:?}");
        assert!(!issued_debug.contains(plaintext), "{issued_debug}");
    }

    #[test]
    fn from_token_detects_kind() {
        assert_eq!(
            TokenKind::from_token("ombud_pat_abc"),
            Some(TokenKind::PersonalAccessToken)
        );
        assert_eq!(
            TokenKind::from_token("ombud_rt_abc"),
            Some(TokenKind::RefreshToken)
        );
        assert_eq!(TokenKind::from_token("dxk_abc"), Some(TokenKind::DxKey));
        assert_eq!(
            TokenKind::from_token("ombud_ml_abc"),
            Some(TokenKind::MagicLinkTicket)
        );
        assert_eq!(TokenKind::from_token("ghp_abc"), None);
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"same bytes", b"same bytes"));
        assert!(!constant_time_eq(b"same bytes", b"same bytez"));
        assert!(!constant_time_eq(b"short", b"shorter"));
        assert!(constant_time_eq(b"", b""));
    }
}
