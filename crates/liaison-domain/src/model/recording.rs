//! Recordings: a conversation a rep recorded, which CRM records it is linked to and why, and
//! what was said in it.

use crate::field::RecordingField;
use crate::ids::*;
use crate::issues::{Issue, Issues, PathSeg};
use crate::matching::{self, GeoPoint, Rule, Span, Standing};
use crate::rules::{MAX_EXTERNAL_ID, MAX_TEXT, text_issue};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest transcript a recording may carry, in bytes of its JSON.
pub const MAX_TRANSCRIPT_BYTES: usize = 5 * 1024 * 1024;
/// The longest deep link, in bytes.
pub const MAX_DEEP_LINK: usize = 8192;

/// One stretch of speech, timed from the recording's start.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Utterance {
    pub utterance: String,
    pub speaker_tag: String,
    pub start_time_in_millis: u64,
    pub end_time_in_millis: u64,
    pub confidence: Option<f64>,
}

/// What was said: plain text, or timed utterances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transcript {
    Text(String),
    Utterances(Vec<Utterance>),
}

impl Transcript {
    /// Where the last utterance ends, in milliseconds from the start.
    pub fn speech_end_ms(&self) -> Option<u64> {
        match self {
            Transcript::Text(_) => None,
            Transcript::Utterances(u) => u.iter().map(|u| u.end_time_in_millis).max(),
        }
    }

    /// What is wrong with it, if anything: an utterance that ends before it starts, text a
    /// store cannot keep, or more than `MAX_TRANSCRIPT_BYTES` in all.
    pub fn issues(&self, field: RecordingField) -> Issues {
        let mut issues = Issues::default();
        let mut size = 0usize;
        match self {
            Transcript::Text(t) => {
                size = t.len();
                if t.contains('\0') {
                    issues.push(Issue::custom(
                        vec![field.into()],
                        "String must not contain the NUL character (U+0000)",
                    ));
                }
            }
            Transcript::Utterances(list) => {
                for (i, u) in list.iter().enumerate() {
                    let at =
                        |key: &str| -> Vec<PathSeg> { vec![field.into(), i.into(), key.into()] };
                    size += u.utterance.len() + u.speaker_tag.len() + 64;
                    if u.end_time_in_millis < u.start_time_in_millis {
                        issues.push(Issue::custom(
                            at("endTimeInMillis"),
                            "An utterance must not end before it starts",
                        ));
                    }
                    if let Some(issue) = text_issue(at("utterance"), &u.utterance, usize::MAX) {
                        issues.push(issue);
                    }
                    if let Some(issue) = text_issue(at("speakerTag"), &u.speaker_tag, MAX_TEXT) {
                        issues.push(issue);
                    }
                    if u.confidence.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
                        issues.push(Issue::custom(
                            at("confidence"),
                            "Confidence must be a number from 0 to 1",
                        ));
                    }
                }
            }
        }
        if size > MAX_TRANSCRIPT_BYTES {
            issues.push(Issue::too_big(
                vec![field.into()],
                MAX_TRANSCRIPT_BYTES as f64,
                "bytes",
            ));
        }
        issues
    }
}

/// The CRM records a recording is linked to. The engagement's link is matching's to make
/// (unless someone made it by hand); the others are made by hand or by a deep link, and what
/// the engagement links to fills in the ones left empty when the recording is shown.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Links {
    pub engagement: Option<RecordId>,
    pub opportunity: Option<RecordId>,
    pub account: Option<RecordId>,
    pub contact: Option<RecordId>,
    pub lead: Option<RecordId>,
}

/// The kind of CRM record a link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkKind {
    Engagement,
    Opportunity,
    Account,
    Contact,
    Lead,
}

impl LinkKind {
    pub const ALL: [LinkKind; 5] = [
        LinkKind::Account,
        LinkKind::Lead,
        LinkKind::Opportunity,
        LinkKind::Engagement,
        LinkKind::Contact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Engagement => "ENGAGEMENT",
            LinkKind::Opportunity => "OPPORTUNITY",
            LinkKind::Account => "ACCOUNT",
            LinkKind::Contact => "CONTACT",
            LinkKind::Lead => "LEAD",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn record_kind(self) -> super::RecordKind {
        use super::RecordKind;
        match self {
            LinkKind::Engagement => RecordKind::Engagement,
            LinkKind::Opportunity => RecordKind::Opportunity,
            LinkKind::Account => RecordKind::Account,
            LinkKind::Contact => RecordKind::Contact,
            LinkKind::Lead => RecordKind::Lead,
        }
    }
}

impl Links {
    pub fn get(&self, kind: LinkKind) -> Option<RecordId> {
        match kind {
            LinkKind::Engagement => self.engagement,
            LinkKind::Opportunity => self.opportunity,
            LinkKind::Account => self.account,
            LinkKind::Contact => self.contact,
            LinkKind::Lead => self.lead,
        }
    }

    pub fn set(&mut self, kind: LinkKind, to: Option<RecordId>) {
        let slot = match kind {
            LinkKind::Engagement => &mut self.engagement,
            LinkKind::Opportunity => &mut self.opportunity,
            LinkKind::Account => &mut self.account,
            LinkKind::Contact => &mut self.contact,
            LinkKind::Lead => &mut self.lead,
        };
        *slot = to;
    }
}

/// A recording as stored.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub id: RecordingId,
    pub org: OrgId,
    /// The workspace user who recorded it.
    pub user: UserId,
    pub title: Option<String>,
    /// When recording began.
    pub date_created: Instant,
    pub duration_ms: Option<u64>,
    /// Where its last utterance ends, from its start: its length when no duration is given.
    pub speech_end_ms: Option<u64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub deep_link: Option<String>,
    pub links: Links,
    /// What was decided about its engagement before matching runs.
    pub standing: Standing,
    /// The rule that decided its engagement link, when one was decided.
    pub rule: Option<Rule>,
    /// When its engagement link last changed.
    pub linked_at: Option<Instant>,
    /// The contract's fields that Liaison keeps as given (`conversationType`, `source`,
    /// `isPrivate`, `notes`, `transcriptionStatus`, …), by their contract names.
    pub details: Map<String, Value>,
    pub deleted_at: Option<Instant>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

impl Recording {
    /// The time it covers.
    pub fn span(&self) -> Span {
        Span::of_recording(self.date_created, self.duration_ms, self.speech_end_ms)
    }

    pub fn location(&self) -> Option<GeoPoint> {
        GeoPoint::new(self.latitude?, self.longitude?)
    }

    /// What matching needs of it.
    pub fn for_matching(&self) -> matching::Recording {
        matching::Recording {
            user: self.user,
            span: self.span(),
            location: self.location(),
        }
    }
}

/// What a deep link says: the engagement's and the opportunity's external ids, and a title.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeepLink {
    pub appointment_id: Option<String>,
    pub opportunity_id: Option<String>,
    pub title: Option<String>,
}

impl DeepLink {
    /// Reads `siro://record?appointmentId=…&title=…&opportunityId=…` (any scheme and host:
    /// only the query is read). `None` when it is not a URL with a query.
    pub fn parse(url: &str) -> Option<DeepLink> {
        let (head, query) = url.split_once('?')?;
        if !head.contains("://") {
            return None;
        }
        let query = query.split('#').next().unwrap_or("");
        let mut link = DeepLink::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v)?;
            let v = (!v.is_empty()).then_some(v);
            match percent_decode(k)?.as_str() {
                "appointmentId" => link.appointment_id = v,
                "opportunityId" => link.opportunity_id = v,
                "title" => link.title = v,
                _ => {}
            }
        }
        Some(link)
    }
}

/// `+` as a space and `%XX` as its byte; `None` when an escape is broken or the bytes are not
/// UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The CRM object types a create may name in `crmObjects`, and the link each makes.
pub fn crm_object_link(object_type: &str) -> Option<LinkKind> {
    Some(match object_type {
        "Opportunity" => LinkKind::Opportunity,
        "Account" => LinkKind::Account,
        "Contact" => LinkKind::Contact,
        "Lead" => LinkKind::Lead,
        "Engagement" | "Event" | "ServiceAppointment" => LinkKind::Engagement,
        _ => return None,
    })
}

/// A create: what the recorder sends.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingIn {
    pub id: RecordingId,
    /// `None`: the caller's own user, when the credential has one.
    pub user: Option<UserId>,
    pub title: Option<String>,
    pub date_created: Instant,
    pub duration_ms: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub deep_link: Option<String>,
    /// Links the recorder made itself: each a manual decision.
    pub engagement: Option<RecordId>,
    pub opportunity: Option<RecordId>,
    /// `(kind, id or external id)`, in the order given.
    pub crm_objects: Vec<(LinkKind, String)>,
    pub transcript: Option<Transcript>,
    pub details: Map<String, Value>,
}

/// An update: absent fields keep their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordingPatch {
    pub title: crate::Patch<String>,
    pub date_created: Option<Instant>,
    pub duration_ms: crate::Patch<i64>,
    pub latitude: crate::Patch<f64>,
    pub longitude: crate::Patch<f64>,
    pub transcript: crate::Patch<Transcript>,
    /// Contract fields to set (a `null` removes one).
    pub details: Map<String, Value>,
}

/// The checks every recording's own fields pass, whether created or updated: a duration
/// that is not negative, coordinates in range (both or neither), a deep link that parses,
/// and a transcript that passes `Transcript::issues`.
pub fn recording_issues(
    duration_ms: Option<i64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    deep_link: Option<&str>,
    transcript: Option<&Transcript>,
) -> Issues {
    let mut issues = Issues::default();
    if duration_ms.is_some_and(|d| d < 0) {
        issues.push(Issue::too_small(
            vec![RecordingField::Duration.into()],
            0.0,
            "number",
        ));
    }
    if latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l)) {
        issues.push(Issue::custom(
            vec![RecordingField::Latitude.into()],
            "Latitude must be a number from -90 to 90",
        ));
    }
    if longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l)) {
        issues.push(Issue::custom(
            vec![RecordingField::Longitude.into()],
            "Longitude must be a number from -180 to 180",
        ));
    }
    if latitude.is_some() != longitude.is_some() {
        let missing = if latitude.is_none() {
            RecordingField::Latitude
        } else {
            RecordingField::Longitude
        };
        issues.push(Issue::custom(
            vec![missing.into()],
            "Latitude and longitude come together",
        ));
    }
    if let Some(link) = deep_link {
        if let Some(issue) = text_issue(vec![RecordingField::DeepLink.into()], link, MAX_DEEP_LINK)
        {
            issues.push(issue);
        } else {
            match DeepLink::parse(link) {
                None => issues.push(Issue::custom(
                    vec![RecordingField::DeepLink.into()],
                    "Not a deep link (scheme://host?appointmentId=…&opportunityId=…)",
                )),
                // What it says, decoded, is bounded as the fields it stands for are.
                Some(d) => {
                    let bounds = [
                        (d.appointment_id.as_deref(), MAX_EXTERNAL_ID),
                        (d.opportunity_id.as_deref(), MAX_EXTERNAL_ID),
                        (d.title.as_deref(), MAX_TEXT),
                    ];
                    for (value, max) in bounds {
                        if let Some(issue) = value
                            .and_then(|v| text_issue(vec![RecordingField::DeepLink.into()], v, max))
                        {
                            issues.push(issue);
                        }
                    }
                }
            }
        }
    }
    if let Some(t) = transcript {
        let field = match t {
            Transcript::Text(_) => RecordingField::Transcript,
            Transcript::Utterances(_) => RecordingField::Utterances,
        };
        issues.0.extend(t.issues(field).0);
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_links_read_their_query() {
        let link = DeepLink::parse(
            "siro://record?appointmentId=appt%2042&title=Roof+check&opportunityId=opp-1",
        )
        .unwrap();
        assert_eq!(link.appointment_id.as_deref(), Some("appt 42"));
        assert_eq!(link.title.as_deref(), Some("Roof check"));
        assert_eq!(link.opportunity_id.as_deref(), Some("opp-1"));
        assert_eq!(
            DeepLink::parse("siro://record?title=x").unwrap(),
            DeepLink {
                title: Some("x".into()),
                ..DeepLink::default()
            }
        );
        assert!(DeepLink::parse("not a link").is_none());
        assert!(DeepLink::parse("siro://record?appointmentId=%zz").is_none());
        assert!(DeepLink::parse("siro://record?appointmentId=%ff").is_none());
    }

    fn utterance(start: u64, end: u64) -> Utterance {
        Utterance {
            utterance: "hello".into(),
            speaker_tag: "0".into(),
            start_time_in_millis: start,
            end_time_in_millis: end,
            confidence: None,
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let paths = |i: Issues| -> Vec<String> { i.0.iter().map(Issue::dotted_path).collect() };
        assert!(recording_issues(Some(0), Some(90.0), Some(-180.0), None, None).is_empty());
        assert_eq!(
            paths(recording_issues(
                Some(-1),
                Some(91.0),
                Some(0.0),
                None,
                None
            )),
            ["duration", "latitude"]
        );
        assert_eq!(
            paths(recording_issues(None, Some(1.0), None, None, None)),
            ["longitude"]
        );
        assert_eq!(
            paths(recording_issues(None, None, None, Some("nope"), None)),
            ["deep_link"]
        );
        for decoded in [
            "siro://record?title=a%00b".to_owned(),
            format!("siro://record?appointmentId={}", "x".repeat(513)),
            format!("siro://record?title={}", "A".repeat(4097)),
        ] {
            assert_eq!(
                paths(recording_issues(None, None, None, Some(&decoded), None)),
                ["deep_link"],
                "{decoded:.40}"
            );
        }
        let t = Transcript::Utterances(vec![utterance(0, 10), utterance(20, 15)]);
        assert_eq!(
            paths(recording_issues(None, None, None, None, Some(&t))),
            ["utterances[1].endTimeInMillis"]
        );
        let big = Transcript::Text("a".repeat(MAX_TRANSCRIPT_BYTES + 1));
        assert_eq!(
            paths(recording_issues(None, None, None, None, Some(&big))),
            ["transcript"]
        );
        assert_eq!(t.speech_end_ms(), Some(15));
    }
}
