//! Fixed value lists of the privacy domain. Each value has one stored and serialized
//! string, which `as_str` returns and `parse` accepts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::PrivacyError;

/// Declares a vocabulary enum with `ALL`, `parse`, `as_str`, `Display`, `FromStr` and
/// serde as its string. The optional `aliases` block lists extra spellings that `parse`
/// accepts but `as_str` never returns.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($kind:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
        $( aliases { $( $alias:literal => $target:ident, )+ } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[Self] = &[ $( Self::$variant, )+ ];

            const ALIASES: &[(&'static str, Self)] = &[ $( $( ($alias, Self::$target), )+ )? ];

            /// Parses the stored string (or an accepted short code). Matching is exact and
            /// case-sensitive.
            pub fn parse(value: &str) -> Result<Self, PrivacyError> {
                if let Some(found) = Self::ALL.iter().find(|candidate| candidate.as_str() == value) {
                    return Ok(*found);
                }

                if let Some((_, target)) = Self::ALIASES.iter().find(|(alias, _)| *alias == value) {
                    return Ok(*target);
                }

                Err(PrivacyError::InvalidValue {
                    kind: $kind,
                    value: value.to_owned(),
                    expected: expected_values(Self::ALL, Self::ALIASES, Self::as_str),
                })
            }

            /// Returns the stored and serialized string.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = PrivacyError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Formats the accepted values for an error message, with each short code and its target.
fn expected_values<T: Copy>(
    all: &[T],
    aliases: &[(&'static str, T)],
    as_str: fn(&T) -> &'static str,
) -> String {
    let mut expected = all.iter().map(as_str).collect::<Vec<_>>().join(", ");

    if !aliases.is_empty() {
        let short_codes = aliases
            .iter()
            .map(|(alias, target)| format!("{alias} for {}", as_str(target)))
            .collect::<Vec<_>>()
            .join(", ");
        expected.push_str(&format!(", or the short codes {short_codes}"));
    }

    expected
}

vocabulary! {
    /// Data subject right that a rights request exercises.
    pub enum RequestType ("request type") {
        Access => "access",
        Rectification => "rectification",
        Erasure => "erasure",
        Portability => "portability",
        Restriction => "restriction",
        Objection => "objection",
        /// CCPA right to opt out of the sale or sharing of personal information.
        OptOutOfSale => "opt_out_of_sale",
        /// CCPA right to limit the use of sensitive personal information.
        LimitSensitive => "limit_sensitive",
        /// Right not to be subject to a decision based solely on automated processing.
        AutomatedDecision => "automated_decision",
        WithdrawConsent => "withdraw_consent",
        /// Question or complaint that fits no specific right.
        General => "general",
    }
    aliases {
        "rectify" => Rectification,
        "restrict" => Restriction,
        "export" => Portability,
        "object" => Objection,
        "noSale" => OptOutOfSale,
    }
}

vocabulary! {
    /// Processing state of a rights request.
    pub enum RequestStatus ("request status") {
        Submitted => "submitted",
        InProgress => "in_progress",
        /// Waiting for the data subject, for example to verify their identity.
        AwaitingInformation => "awaiting_information",
        /// Response deadline extended beyond the statutory period.
        Extended => "extended",
        Completed => "completed",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
}

vocabulary! {
    /// Lawful basis for processing under GDPR Art. 6(1).
    pub enum LegalBasis ("legal basis") {
        Consent => "consent",
        Contract => "contract",
        LegalObligation => "legal_obligation",
        VitalInterests => "vital_interests",
        PublicTask => "public_task",
        LegitimateInterests => "legitimate_interests",
    }
}

vocabulary! {
    /// Category of a processing purpose, used to group purposes in consent banners.
    pub enum PurposeCategory ("purpose category") {
        /// Strictly necessary processing, which needs no consent.
        Essential => "essential",
        Functional => "functional",
        Analytics => "analytics",
        Marketing => "marketing",
        Advertising => "advertising",
        Personalization => "personalization",
        /// Purpose defined by the data controller that fits no other category.
        Custom => "custom",
    }
}

vocabulary! {
    /// Collection mode of the consent for a purpose.
    pub enum ConsentMode ("consent mode") {
        /// Processing starts only after the data subject grants consent.
        OptIn => "opt_in",
        /// Processing runs until the data subject objects.
        OptOut => "opt_out",
        /// The data subject is informed but has no choice.
        NoticeOnly => "notice_only",
    }
}

vocabulary! {
    /// Role of a user within a data controller's organization.
    pub enum MembershipRole ("membership role") {
        Owner => "owner",
        Admin => "admin",
        PrivacyOfficer => "privacy_officer",
        Developer => "developer",
        Viewer => "viewer",
    }
}

vocabulary! {
    /// Privacy law whose rules, such as response deadlines, apply to a request.
    pub enum Jurisdiction ("jurisdiction") {
        /// EU General Data Protection Regulation.
        Gdpr => "gdpr",
        /// California Consumer Privacy Act.
        Ccpa => "ccpa",
    }
}

vocabulary! {
    /// Safeguard under which personal data goes to a processor outside the EEA
    /// (GDPR Chapter V).
    pub enum TransferSafeguard ("transfer safeguard") {
        /// The destination has an adequacy decision (Art. 45).
        AdequacyDecision => "adequacy_decision",
        /// Standard contractual clauses adopted by the Commission (Art. 46(2)(c)).
        StandardContractualClauses => "standard_contractual_clauses",
        /// Binding corporate rules of the processor's group (Art. 47).
        BindingCorporateRules => "binding_corporate_rules",
        /// A derogation for a specific situation (Art. 49).
        Derogation => "derogation",
        /// No safeguard, for example because the data stays within the EEA.
        NoSafeguard => "none",
    }
}

vocabulary! {
    /// Kind of document a privacy notice is.
    pub enum NoticeKind ("notice kind") {
        PrivacyPolicy => "privacy_policy",
        CookiePolicy => "cookie_policy",
        Terms => "terms",
        /// CCPA notice given at or before the point of collection.
        NoticeAtCollection => "notice_at_collection",
        Other => "other",
    }
}

vocabulary! {
    /// Kind of value a data subject identifier hashes, which names where it comes from.
    pub enum IdentifierKind ("identifier kind") {
        Email => "email",
        Phone => "phone",
        ShopifyCustomer => "shopify_customer",
        StripeCustomer => "stripe_customer",
        MailchimpMember => "mailchimp_member",
        WoocommerceCustomer => "woocommerce_customer",
        /// An identifier from a system without its own kind.
        External => "external",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        fn check<T>(
            all: &[T],
            as_str: fn(&T) -> &'static str,
            parse: fn(&str) -> Result<T, PrivacyError>,
        ) where
            T: PartialEq + fmt::Debug,
        {
            for value in all {
                assert_eq!(parse(as_str(value)).as_ref(), Ok(value));
            }
        }

        check(RequestType::ALL, RequestType::as_str, RequestType::parse);
        check(
            RequestStatus::ALL,
            RequestStatus::as_str,
            RequestStatus::parse,
        );
        check(LegalBasis::ALL, LegalBasis::as_str, LegalBasis::parse);
        check(
            PurposeCategory::ALL,
            PurposeCategory::as_str,
            PurposeCategory::parse,
        );
        check(ConsentMode::ALL, ConsentMode::as_str, ConsentMode::parse);
        check(
            MembershipRole::ALL,
            MembershipRole::as_str,
            MembershipRole::parse,
        );
        check(Jurisdiction::ALL, Jurisdiction::as_str, Jurisdiction::parse);
        check(
            TransferSafeguard::ALL,
            TransferSafeguard::as_str,
            TransferSafeguard::parse,
        );
        check(NoticeKind::ALL, NoticeKind::as_str, NoticeKind::parse);
        check(
            IdentifierKind::ALL,
            IdentifierKind::as_str,
            IdentifierKind::parse,
        );
    }

    #[test]
    fn value_lists_are_complete() {
        assert_eq!(RequestType::ALL.len(), 11);
        assert_eq!(RequestStatus::ALL.len(), 7);
        assert_eq!(LegalBasis::ALL.len(), 6);
        assert_eq!(PurposeCategory::ALL.len(), 7);
        assert_eq!(ConsentMode::ALL.len(), 3);
        assert_eq!(MembershipRole::ALL.len(), 5);
        assert_eq!(Jurisdiction::ALL.len(), 2);
        assert_eq!(TransferSafeguard::ALL.len(), 5);
        assert_eq!(NoticeKind::ALL.len(), 5);
        assert_eq!(IdentifierKind::ALL.len(), 7);
    }

    #[test]
    fn stored_strings_are_snake_case() {
        assert_eq!(RequestType::OptOutOfSale.as_str(), "opt_out_of_sale");
        assert_eq!(RequestType::LimitSensitive.as_str(), "limit_sensitive");
        assert_eq!(
            RequestStatus::AwaitingInformation.as_str(),
            "awaiting_information"
        );
        assert_eq!(
            LegalBasis::LegitimateInterests.as_str(),
            "legitimate_interests"
        );
        assert_eq!(ConsentMode::NoticeOnly.as_str(), "notice_only");
        assert_eq!(MembershipRole::PrivacyOfficer.as_str(), "privacy_officer");
    }

    #[test]
    fn request_type_accepts_short_codes() {
        let cases = [
            ("rectify", RequestType::Rectification),
            ("restrict", RequestType::Restriction),
            ("export", RequestType::Portability),
            ("object", RequestType::Objection),
            ("noSale", RequestType::OptOutOfSale),
        ];

        for (short_code, expected) in cases {
            assert_eq!(
                RequestType::parse(short_code),
                Ok(expected),
                "short code {short_code}"
            );
        }
    }

    #[test]
    fn short_codes_stay_input_only() {
        assert_eq!(
            RequestType::parse("export").map(|value| value.as_str()),
            Ok("portability")
        );
        assert_eq!(
            RequestType::parse("noSale").map(|value| value.to_string()),
            Ok("opt_out_of_sale".to_owned())
        );
    }

    #[test]
    fn parse_rejects_unknown_value() {
        let error = RequestStatus::parse("done").unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid request status \"done\": expected one of submitted, in_progress, \
             awaiting_information, extended, completed, rejected, cancelled"
        );
    }

    #[test]
    fn parse_is_case_sensitive() {
        assert!(Jurisdiction::parse("GDPR").is_err());
        assert!(RequestType::parse("nosale").is_err());
        assert!(RequestType::parse(" access").is_err());
    }

    #[test]
    fn request_type_error_lists_short_codes() {
        let message = RequestType::parse("delete").unwrap_err().to_string();

        assert!(message.starts_with(
            "invalid request type \"delete\": expected one of access, rectification,"
        ));
        assert!(message.contains("general, or the short codes rectify for rectification"));
        assert!(message.contains("noSale for opt_out_of_sale"));
    }

    #[test]
    fn serde_uses_stored_string() {
        let json = serde_json::to_string(&RequestType::WithdrawConsent).unwrap();
        assert_eq!(json, "\"withdraw_consent\"");

        let parsed: LegalBasis = serde_json::from_str("\"public_task\"").unwrap();
        assert_eq!(parsed, LegalBasis::PublicTask);

        let alias: RequestType = serde_json::from_str("\"rectify\"").unwrap();
        assert_eq!(alias, RequestType::Rectification);
    }

    #[test]
    fn serde_rejects_unknown_value() {
        let error = serde_json::from_str::<ConsentMode>("\"opt-in\"").unwrap_err();

        assert!(error.to_string().contains(
            "invalid consent mode \"opt-in\": expected one of opt_in, opt_out, notice_only"
        ));
    }

    #[test]
    fn from_str_matches_parse() {
        assert_eq!(
            "privacy_officer".parse::<MembershipRole>(),
            Ok(MembershipRole::PrivacyOfficer)
        );
        assert_eq!("ccpa".parse::<Jurisdiction>(), Ok(Jurisdiction::Ccpa));
    }
}
