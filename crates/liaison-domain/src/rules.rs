//! Pure rules of sync: stale writes, rep linking, engagement times.

use crate::field::Field;
use crate::ids::UserId;
use crate::issues::{Issue, Issues, PathSeg};
use crate::time::Instant;

/// The longest external id a source may send, in bytes (UTF-8).
pub const MAX_EXTERNAL_ID: usize = 512;
/// The longest short text, in bytes: a name, an email, a subject, a phone number, a part of an
/// address, any other id.
pub const MAX_TEXT: usize = 4096;
/// The longest long text, in bytes: an engagement's content (as large as a whole single-record
/// body may be).
pub const MAX_LONG_TEXT: usize = 1024 * 1024;

/// What is wrong with a text a source sent, if anything: no store keeps the NUL character
/// (PostgreSQL refuses it), and each kind of text has its bound.
pub fn text_issue(path: Vec<PathSeg>, s: &str, max: usize) -> Option<Issue> {
    if s.contains('\0') {
        return Some(Issue::custom(
            path,
            "String must not contain the NUL character (U+0000)",
        ));
    }
    (s.len() > max).then(|| Issue::too_long(path, max))
}

/// A write whose `remoteUpdatedAt` is older than the stored one is ignored. A payload without
/// one is never stale (the CRM did not say), and neither is any payload for a record that has
/// no stored `remoteUpdatedAt`.
pub fn is_stale(stored: Option<Instant>, incoming: Option<Instant>) -> bool {
    matches!((stored, incoming), (Some(s), Some(i)) if i < s)
}

/// The form emails are compared in: trimmed, case-insensitive.
pub fn email_key(email: &str) -> Option<String> {
    let key = email.trim().to_lowercase();
    (!key.is_empty()).then_some(key)
}

/// The form full names are compared in: case-insensitive, runs of white space folded.
pub fn name_key(name: &str) -> Option<String> {
    let key = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!key.is_empty()).then_some(key)
}

/// The candidates for linking one CRM user to a workspace user.
#[derive(Debug, Default)]
pub struct LinkCandidates {
    /// Workspace users whose explicit mapping names this CRM user's external id.
    pub explicit: Vec<UserId>,
    /// Workspace users with the same email (case-insensitive).
    pub by_email: Vec<UserId>,
    /// Workspace users with the same full name.
    pub by_name: Vec<UserId>,
}

/// Picks the workspace user a CRM user is linked to: an explicit mapping wins, then the one user
/// with the same email, then the one user with the same full name. An ambiguous match (two reps
/// with one name) links nobody: a wrong link would put one rep's meetings on another's list.
pub fn choose_link(c: &LinkCandidates) -> Option<UserId> {
    fn only(v: &[UserId]) -> Option<UserId> {
        match v {
            [one] => Some(*one),
            _ => None,
        }
    }
    c.explicit
        .first()
        .copied()
        .or_else(|| only(&c.by_email))
        .or_else(|| only(&c.by_name))
}

/// An engagement cannot end before it starts.
pub fn check_times(
    start: Option<Instant>,
    end: Option<Instant>,
    end_path: Vec<PathSeg>,
) -> Result<(), Issues> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(Issues::from(Issue::custom(
            end_path,
            format!(
                "{} must not be before {}",
                Field::EndTime.placeholder(),
                Field::StartTime.placeholder()
            ),
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn stale_only_when_older_than_stored() {
        let t1 = Utc.timestamp_opt(1_000, 0).unwrap();
        let t2 = Utc.timestamp_opt(2_000, 0).unwrap();
        assert!(is_stale(Some(t2), Some(t1)));
        assert!(!is_stale(Some(t1), Some(t1)));
        assert!(!is_stale(Some(t1), Some(t2)));
        assert!(!is_stale(None, Some(t1)));
        assert!(!is_stale(Some(t1), None));
    }

    #[test]
    fn keys_fold_case_and_space() {
        assert_eq!(
            email_key("  John@Example.COM "),
            Some("john@example.com".into())
        );
        assert_eq!(name_key(" John   Sales "), Some("john sales".into()));
        assert_eq!(name_key("   "), None);
    }

    #[test]
    fn explicit_then_unique_email_then_unique_name() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let mut cands = LinkCandidates {
            explicit: vec![],
            by_email: vec![a],
            by_name: vec![b],
        };
        assert_eq!(choose_link(&cands), Some(a));
        cands.explicit = vec![c];
        assert_eq!(choose_link(&cands), Some(c));
        cands.explicit.clear();
        cands.by_email = vec![a, b];
        assert_eq!(choose_link(&cands), Some(b));
        cands.by_name = vec![a, b];
        assert_eq!(choose_link(&cands), None);
    }
}
