use sha3::{Digest, Sha3_256};
use uuid::Uuid;

/// Derives the `did:dep:` identifier of a data subject from its id.
///
/// The method-specific part is the lowercase hex SHA3-256 (FIPS 202, not Keccak) of the
/// id written as 32 lowercase hex characters without hyphens. The DID therefore does not
/// reveal the id, but anyone who has the id can recompute it.
pub fn did_for(id: &Uuid) -> String {
    let simple_id = id.simple().to_string();
    let digest = Sha3_256::digest(simple_id.as_bytes());

    format!("did:dep:{}", hex::encode(digest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn did_matches_published_vector() {
        let id = Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap();

        assert_eq!(
            did_for(&id),
            "did:dep:2135944ab870c8c5f44d4ca3da8550c5fbae6311318db8f9480b5dae5033d32a"
        );
    }

    #[test]
    fn did_ignores_input_spelling() {
        let lower = Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap();
        let upper = Uuid::parse_str("123E4567E89B12D3A456426614174000").unwrap();

        assert_eq!(did_for(&lower), did_for(&upper));
    }

    #[test]
    fn did_differs_per_id() {
        let first = Uuid::from_u128(1);
        let second = Uuid::from_u128(2);

        assert_ne!(did_for(&first), did_for(&second));
        assert_eq!(did_for(&first).len(), "did:dep:".len() + 64);
    }
}
