#![doc = "Domain rules of ombud: data subject DIDs, the privacy vocabulary, rights request \
          deadlines, consent purposes and signed consent cookies."]

mod consent;
mod consent_cookie;
mod deadline;
mod did;
mod error;
mod vocabulary;

pub use consent::{consent_value_text, parse_purposes};
pub use consent_cookie::{ConsentCookieClaims, ConsentCookieSigner, verify};
pub use deadline::response_due_at;
pub use did::did_for;
pub use error::PrivacyError;
pub use vocabulary::{
    ConsentMode, Jurisdiction, LegalBasis, MembershipRole, PurposeCategory, RequestStatus,
    RequestType,
};
