#![doc = "Domain rules of ombud: data subject DIDs, the privacy vocabulary, rights request \
          deadlines, consent purposes, signed consent cookies and the formats of register values."]

mod consent;
mod consent_cookie;
mod deadline;
mod did;
mod error;
mod formats;
mod vocabulary;

pub use consent::{consent_value_text, parse_purposes};
pub use consent_cookie::{ConsentCookieClaims, ConsentCookieSigner, verify};
pub use deadline::response_due_at;
pub use did::did_for;
pub use error::PrivacyError;
pub use formats::{normalize_country_code, normalize_identifier_hash, normalize_language_tag};
pub use vocabulary::{
    ConsentMode, IdentifierKind, Jurisdiction, LegalBasis, MembershipRole, NoticeKind,
    PurposeCategory, RequestStatus, RequestType, TransferSafeguard,
};
