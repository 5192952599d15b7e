use chrono::{DateTime, Months, TimeDelta, Utc};

use crate::Jurisdiction;

/// Calendar days that a business has to respond to a CCPA request.
const CCPA_RESPONSE_DAYS: i64 = 45;

/// Computes when the response to a rights request received at `received_at` is due.
///
/// GDPR Art. 12(3) allows one month from receipt, so the deadline is the same date in the
/// next month at the same time. When that date does not exist, as for 31 January, the
/// deadline is the last day of the next month. CCPA allows 45 calendar days. Neither
/// rule includes the extensions that both laws allow on notice to the data subject.
pub fn response_due_at(received_at: DateTime<Utc>, jurisdiction: Jurisdiction) -> DateTime<Utc> {
    let due_at = match jurisdiction {
        // chrono moves to the last day of the month when the day does not exist.
        Jurisdiction::Gdpr => received_at.checked_add_months(Months::new(1)),
        Jurisdiction::Ccpa => received_at.checked_add_signed(TimeDelta::days(CCPA_RESPONSE_DAYS)),
    };

    // Only receipt times within 45 days of chrono's maximum date (end of year 262142)
    // overflow, so saturating there affects no real request.
    due_at.unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn gdpr_ordinary_date() {
        let due_at = response_due_at(at("2025-03-14T09:30:15Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2025-04-14T09:30:15Z"));
    }

    #[test]
    fn gdpr_january_31_non_leap_year() {
        let due_at = response_due_at(at("2025-01-31T23:59:59Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2025-02-28T23:59:59Z"));
    }

    #[test]
    fn gdpr_january_31_leap_year() {
        let due_at = response_due_at(at("2024-01-31T08:00:00Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2024-02-29T08:00:00Z"));
    }

    #[test]
    fn gdpr_january_29_non_leap_year() {
        let due_at = response_due_at(at("2023-01-29T12:00:00Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2023-02-28T12:00:00Z"));
    }

    #[test]
    fn gdpr_march_31_to_april_30() {
        let due_at = response_due_at(at("2025-03-31T10:00:00Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2025-04-30T10:00:00Z"));
    }

    #[test]
    fn gdpr_december_31_crosses_year() {
        let due_at = response_due_at(at("2024-12-31T17:45:00Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2025-01-31T17:45:00Z"));
    }

    #[test]
    fn gdpr_keeps_subsecond_time() {
        let due_at = response_due_at(at("2025-06-01T00:00:00.123456Z"), Jurisdiction::Gdpr);

        assert_eq!(due_at, at("2025-07-01T00:00:00.123456Z"));
    }

    #[test]
    fn ccpa_adds_45_days() {
        let due_at = response_due_at(at("2025-01-01T12:00:00Z"), Jurisdiction::Ccpa);

        assert_eq!(due_at, at("2025-02-15T12:00:00Z"));
    }

    #[test]
    fn ccpa_counts_february_29() {
        let due_at = response_due_at(at("2024-02-01T06:15:00Z"), Jurisdiction::Ccpa);

        assert_eq!(due_at, at("2024-03-17T06:15:00Z"));
    }

    #[test]
    fn ccpa_crosses_year() {
        let due_at = response_due_at(at("2024-12-15T00:00:00Z"), Jurisdiction::Ccpa);

        assert_eq!(due_at, at("2025-01-29T00:00:00Z"));
    }

    #[test]
    fn overflow_saturates_at_maximum() {
        let due_at = response_due_at(DateTime::<Utc>::MAX_UTC, Jurisdiction::Gdpr);

        assert_eq!(due_at, DateTime::<Utc>::MAX_UTC);
    }
}
