//! Text formats of register values: language tags of privacy notices, country
//! codes of processor locations and the hashes of data subject identifiers.
//! Each function checks a value and returns its canonical spelling, so that
//! equal values are stored equally and unique keys hold.

use crate::PrivacyError;

/// Checks that `tag` is a well-formed BCP 47 language tag (RFC 5646) and
/// returns it in the recommended case: language lowercase, script in title
/// case, region uppercase, everything after a singleton lowercase
/// (`DE-ch` becomes `de-CH`, `zh-hant-tw` becomes `zh-Hant-TW`).
///
/// NOTE: only the syntax is checked: a language of 2 or 3 letters, then
/// subtags of 1 to 8 letters or digits. Subtags are not looked up in the IANA
/// registry, so `xx-QQ` is accepted.
pub fn normalize_language_tag(tag: &str) -> Result<String, PrivacyError> {
    let invalid = || PrivacyError::InvalidLanguageTag {
        value: tag.to_owned(),
    };

    let mut subtags = Vec::new();
    let mut after_singleton = false;
    for (index, subtag) in tag.split('-').enumerate() {
        let well_formed =
            (1..=8).contains(&subtag.len()) && subtag.chars().all(|c| c.is_ascii_alphanumeric());
        if !well_formed {
            return Err(invalid());
        }
        let alphabetic = subtag.chars().all(|c| c.is_ascii_alphabetic());

        let canonical = if index == 0 {
            if !alphabetic || !(2..=3).contains(&subtag.len()) {
                return Err(invalid());
            }
            subtag.to_ascii_lowercase()
        } else if after_singleton {
            subtag.to_ascii_lowercase()
        } else if subtag.len() == 1 {
            // An extension or private-use singleton: the rest of the tag is lowercase.
            after_singleton = true;
            subtag.to_ascii_lowercase()
        } else if alphabetic && subtag.len() == 2 {
            subtag.to_ascii_uppercase()
        } else if alphabetic && subtag.len() == 4 {
            let lower = subtag.to_ascii_lowercase();
            let (first, rest) = lower.split_at(1);
            format!("{}{rest}", first.to_ascii_uppercase())
        } else {
            subtag.to_ascii_lowercase()
        };
        subtags.push(canonical);
    }
    Ok(subtags.join("-"))
}

/// Checks that `code` has the form of an ISO 3166-1 alpha-2 country code and
/// returns it in uppercase (`de` becomes `DE`).
///
/// NOTE: the code is not checked against the ISO list, so an unassigned pair
/// of letters such as `XY` is accepted.
pub fn normalize_country_code(code: &str) -> Result<String, PrivacyError> {
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Ok(code.to_ascii_uppercase());
    }
    Err(PrivacyError::InvalidCountryCode {
        value: code.to_owned(),
    })
}

/// Length in hexadecimal digits of an HMAC-SHA256, the keyed hash that
/// identifiers are stored as.
const IDENTIFIER_HASH_DIGITS: usize = 64;

/// Checks that `hash` is an HMAC-SHA256 written as hexadecimal digits and
/// returns it in lowercase. The error does not repeat the value.
pub fn normalize_identifier_hash(hash: &str) -> Result<String, PrivacyError> {
    if hash.len() == IDENTIFIER_HASH_DIGITS && hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(hash.to_ascii_lowercase());
    }
    Err(PrivacyError::InvalidIdentifierHash {
        length: hash.chars().count(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_take_recommended_case() {
        let cases = [
            ("en", "en"),
            ("DE-ch", "de-CH"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("sr-LATN-rs", "sr-Latn-RS"),
            ("en-US-x-Twain", "en-US-x-twain"),
            ("de-CH-1996", "de-CH-1996"),
            ("xx-qq", "xx-QQ"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_language_tag(input).as_deref(),
                Ok(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_language_tags_are_rejected() {
        for input in [
            "",
            "e",
            "english",
            "en-",
            "-en",
            "en--US",
            "en_US",
            "1a",
            "en-toolongsubtag",
        ] {
            assert_eq!(
                normalize_language_tag(input),
                Err(PrivacyError::InvalidLanguageTag {
                    value: input.to_owned()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn language_tag_error_shows_an_example() {
        let message = normalize_language_tag("en_US").unwrap_err().to_string();

        assert!(message.contains("\"en_US\""), "{message}");
        assert!(message.contains("de-CH"), "{message}");
    }

    #[test]
    fn country_codes_are_uppercased() {
        assert_eq!(normalize_country_code("de").as_deref(), Ok("DE"));
        assert_eq!(normalize_country_code("US").as_deref(), Ok("US"));
    }

    #[test]
    fn malformed_country_codes_are_rejected() {
        for input in ["", "D", "DEU", "D1", "é"] {
            assert!(normalize_country_code(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn identifier_hashes_are_lowercased() {
        let upper = "AB".repeat(32);

        assert_eq!(normalize_identifier_hash(&upper), Ok("ab".repeat(32)));
    }

    #[test]
    fn identifier_hash_must_be_64_hex_digits() {
        let too_short = "ab".repeat(31);
        let not_hex = "zz".repeat(32);

        assert_eq!(
            normalize_identifier_hash(&too_short),
            Err(PrivacyError::InvalidIdentifierHash { length: 62 })
        );
        assert_eq!(
            normalize_identifier_hash(&not_hex),
            Err(PrivacyError::InvalidIdentifierHash { length: 64 })
        );
        let message = normalize_identifier_hash("alice@example.com")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("alice"), "{message}");
    }
}
