//! Which engagement a recording belongs to: one pure rule over the recording, the engagements
//! that could be it and the organization's settings, giving every candidate's score and the
//! reason for the outcome, so that each decision can be explained and made again.
//!
//! The rule, in order: a manual decision stands; a deep link names its engagement; otherwise
//! the eligible engagements (appointments, live, with the recording's user among their reps,
//! in the widened time window) are scored, and the best is linked when it is the only one or
//! beats the runner-up by the margin. The outcome depends only on the set of candidates, never
//! on the order they are given in.

use crate::ids::{RecordId, UserId};
use crate::values::ActivityType;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// The longest tolerance a setting may name: a day on either side.
pub const MAX_TOLERANCE_MINUTES: u32 = 24 * 60;

/// The bounds of the farthest a recording may be made from an engagement's account and still
/// be of it.
pub const MAX_DISTANCE_METERS: std::ops::RangeInclusive<u32> = 100..=100_000;

/// The longest an engagement may last and still be an appointment, and a recording still be
/// of one: hours, never weeks. A store finds candidates by a window of start times this much
/// wider.
pub const LONGEST_APPOINTMENT: TimeDelta = TimeDelta::days(7);

/// How far apart an account and a recording may be before location counts for nothing.
const GEO_SCALE_METERS: f64 = 5_000.0;

/// The weights of a score's components: with or without a location, and for a recording
/// with a duration or one that is an instant. An instant's overlap is only whether it lies
/// inside the appointment, which says little when appointments are back to back (a recording
/// started early for the second lies in the first), so for it how near it starts weighs more.
/// Each set sums to 1, so a score is in [0, 1].
const fn weights(geo: bool, instant: bool) -> Weights {
    match (geo, instant) {
        (false, false) => Weights {
            overlap: 0.7,
            proximity: 0.3,
            geo: 0.0,
        },
        (false, true) => Weights {
            overlap: 0.3,
            proximity: 0.7,
            geo: 0.0,
        },
        (true, false) => Weights {
            overlap: 0.5,
            proximity: 0.2,
            geo: 0.3,
        },
        (true, true) => Weights {
            overlap: 0.2,
            proximity: 0.5,
            geo: 0.3,
        },
    }
}

/// A candidate without coordinates, beside a recording with them: neither near nor far.
const GEO_UNKNOWN: f64 = 0.5;

struct Weights {
    overlap: f64,
    proximity: f64,
    geo: f64,
}

/// An organization's matching settings: how far before an engagement's start and after its
/// end a recording may lie and still be a candidate, how far from the engagement's account it
/// may be made (when both places are known), and by how much the best candidate must beat
/// the runner-up to be linked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Settings {
    before_minutes: u32,
    after_minutes: u32,
    margin: f64,
    max_distance_meters: Option<u32>,
}

/// A setting out of its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("a tolerance is at most {MAX_TOLERANCE_MINUTES} minutes")]
    Tolerance,
    #[error("the margin is a number from 0 to 1")]
    Margin,
    #[error(
        "the largest distance is from {} to {} meters, or none",
        MAX_DISTANCE_METERS.start(),
        MAX_DISTANCE_METERS.end()
    )]
    Distance,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            before_minutes: 60,
            after_minutes: 60,
            margin: 0.15,
            max_distance_meters: Some(3_000),
        }
    }
}

impl Settings {
    pub fn new(
        before_minutes: u32,
        after_minutes: u32,
        margin: f64,
    ) -> Result<Self, SettingsError> {
        if before_minutes > MAX_TOLERANCE_MINUTES || after_minutes > MAX_TOLERANCE_MINUTES {
            return Err(SettingsError::Tolerance);
        }
        if !(margin.is_finite() && (0.0..=1.0).contains(&margin)) {
            return Err(SettingsError::Margin);
        }
        Ok(Settings {
            before_minutes,
            after_minutes,
            margin,
            ..Settings::default()
        })
    }

    /// The same with another largest distance, or none (location then only scores).
    pub fn with_max_distance(self, meters: Option<u32>) -> Result<Self, SettingsError> {
        if meters.is_some_and(|m| !MAX_DISTANCE_METERS.contains(&m)) {
            return Err(SettingsError::Distance);
        }
        Ok(Settings {
            max_distance_meters: meters,
            ..self
        })
    }

    pub fn max_distance_meters(&self) -> Option<u32> {
        self.max_distance_meters
    }

    pub fn before_minutes(&self) -> u32 {
        self.before_minutes
    }

    pub fn after_minutes(&self) -> u32 {
        self.after_minutes
    }

    pub fn margin(&self) -> f64 {
        self.margin
    }

    fn before(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.before_minutes))
    }

    fn after(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.after_minutes))
    }

    /// The distance in start times at which proximity reaches nothing: the whole tolerance,
    /// and never less than a minute.
    fn horizon(&self) -> TimeDelta {
        (self.before() + self.after()).max(TimeDelta::minutes(1))
    }

    /// When a recording must begin to be a candidate's of an engagement spanning `span`: from
    /// the tolerance before its start, less the longest a recording may last, to the
    /// tolerance after its end. What a store searches when the engagement changes.
    pub fn recording_starts(&self, span: Span) -> Span {
        let start = span
            .start
            .checked_sub_signed(self.before() + LONGEST_APPOINTMENT)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let end = span
            .end
            .checked_add_signed(self.after())
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Span { start, end }
    }

    /// The window of engagement times a recording spanning `span` may match, for a store to
    /// find the candidates by: an engagement is one when it ends at or after `start` and
    /// starts at or before `end`.
    pub fn window(&self, span: Span) -> Span {
        Span {
            start: span
                .start
                .checked_sub_signed(self.after())
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            end: span
                .end
                .checked_add_signed(self.before())
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

/// A closed interval of time; an instant when its ends are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Span {
    /// The span from `start` to `end`; `None` when `end` is before `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Span> {
        (end >= start).then_some(Span { start, end })
    }

    pub fn instant(at: DateTime<Utc>) -> Span {
        Span { start: at, end: at }
    }

    /// An engagement's span: from its start to its end, or the instant of its start when it
    /// has no end or an end before its start.
    pub fn of_engagement(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Span {
        end.and_then(|e| Span::new(start, e))
            .unwrap_or(Span::instant(start))
    }

    /// A recording's span: from its creation for its duration; without a duration, to the end
    /// of its last utterance (milliseconds from its start); without either, an instant.
    pub fn of_recording(
        created: DateTime<Utc>,
        duration_ms: Option<u64>,
        last_utterance_end_ms: Option<u64>,
    ) -> Span {
        let length = duration_ms
            .or(last_utterance_end_ms)
            .and_then(|ms| i64::try_from(ms).ok())
            .and_then(TimeDelta::try_milliseconds)
            .unwrap_or_default();
        let end = created.checked_add_signed(length).unwrap_or(created);
        Span {
            start: created,
            end,
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    fn length(&self) -> TimeDelta {
        self.end - self.start
    }

    /// Whether they share an instant (touching ends do).
    pub fn intersects(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// The length they share.
    fn shared(&self, other: &Span) -> TimeDelta {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (end - start).max(TimeDelta::zero())
    }
}

/// A place on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoPoint {
    latitude: f64,
    longitude: f64,
}

impl GeoPoint {
    /// `None` unless the latitude is in [-90, 90] and the longitude in [-180, 180].
    pub fn new(latitude: f64, longitude: f64) -> Option<GeoPoint> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            GeoPoint {
                latitude,
                longitude,
            },
        )
    }

    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// The great-circle distance, by the haversine formula on a sphere of the Earth's mean
    /// radius: within 0.5% of the ellipsoid's, far finer than a score needs.
    pub fn meters_to(&self, other: &GeoPoint) -> f64 {
        const EARTH_RADIUS_METERS: f64 = 6_371_008.8;
        let (p1, p2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dp = p2 - p1;
        let dl = (other.longitude - self.longitude).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_METERS * h.sqrt().min(1.0).asin()
    }
}

/// What matching needs to know of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The workspace user who recorded it.
    pub user: UserId,
    pub span: Span,
    pub location: Option<GeoPoint>,
}

/// What matching needs to know of an engagement that may be the recording's.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub engagement: RecordId,
    /// Its engagement type's activity type; `None` when it has no type.
    pub activity_type: Option<ActivityType>,
    /// `None` when it has no start time.
    pub span: Option<Span>,
    pub live: bool,
    /// The workspace users its reps are linked to.
    pub rep_users: Vec<UserId>,
    /// Where its account is, when known.
    pub location: Option<GeoPoint>,
}

/// What was decided about the recording before the rule runs, by someone or by its deep link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Standing {
    /// Nothing: the scores decide.
    #[default]
    Automatic,
    /// The deep link it was recorded from named this engagement.
    DeepLink(RecordId),
    /// A person linked it to this engagement, or unlinked it (`None`).
    Manual(Option<RecordId>),
}

/// Why the recording is linked where it is, or is not linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rule {
    Manual,
    DeepLink,
    SoleCandidate,
    ClearWinner,
    Tie,
    NoCandidate,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Manual => "MANUAL",
            Rule::DeepLink => "DEEP_LINK",
            Rule::SoleCandidate => "SOLE_CANDIDATE",
            Rule::ClearWinner => "CLEAR_WINNER",
            Rule::Tie => "TIE",
            Rule::NoCandidate => "NO_CANDIDATE",
        }
    }
}

/// An eligible engagement with its score and what the score is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub engagement: RecordId,
    /// In [0, 1]: the weighted sum of the components below.
    pub score: f64,
    /// The share of the shorter of the two spans that lies in the other, in [0, 1]; when
    /// either is an instant, 1 if they meet and 0 if not.
    pub overlap: f64,
    /// How near their start times are, in [0, 1]: 1 at the same instant, 0 at the sum of the
    /// tolerances (or a minute, when they are zero) or farther.
    pub proximity: f64,
    /// How near the recording was made to the engagement's account, in [0, 1], when the
    /// recording has a location (a half when the account has none).
    pub geo: Option<f64>,
    /// Between their start times, in milliseconds.
    pub start_distance_ms: i64,
    pub distance_meters: Option<f64>,
}

/// The outcome: where the recording is linked, why, and every eligible candidate, best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub linked: Option<RecordId>,
    pub rule: Rule,
    pub candidates: Vec<Scored>,
    pub settings: Settings,
}

/// Whether `candidate` may be the recording's: an appointment (meeting, appointment, event)
/// of at most `LONGEST_APPOINTMENT`, live, with the recording's user among its reps, within
/// the widened window, and, when both
/// places are known, within the largest distance of its account: a recording made across town
/// at the hour of an appointment is of something else (a door knocked on, a call in the car).
pub fn eligible(recording: &Recording, candidate: &Candidate, settings: &Settings) -> bool {
    let Some(span) = candidate.span else {
        return false;
    };
    // The distance last: it is the dearest test, and most candidates fail an earlier one.
    let near = || match (
        recording.location,
        candidate.location,
        settings.max_distance_meters,
    ) {
        (Some(r), Some(c), Some(max)) => r.meters_to(&c) <= f64::from(max),
        _ => true,
    };
    candidate.live
        && candidate
            .activity_type
            .is_some_and(ActivityType::is_appointment)
        && span.length() <= LONGEST_APPOINTMENT
        && recording.span.length() <= LONGEST_APPOINTMENT
        && candidate.rep_users.contains(&recording.user)
        && settings.window(recording.span).intersects(&span)
        && near()
}

/// The scores of an eligible candidate.
pub fn score(recording: &Recording, candidate: &Candidate, settings: &Settings) -> Scored {
    let span = candidate
        .span
        .unwrap_or(Span::instant(recording.span.start));
    let shorter = recording.span.length().min(span.length());
    let overlap = if shorter.is_zero() {
        if recording.span.intersects(&span) {
            1.0
        } else {
            0.0
        }
    } else {
        ratio(recording.span.shared(&span), shorter)
    };
    let start_distance = (recording.span.start - span.start).abs();
    let proximity = 1.0 - ratio(start_distance.min(settings.horizon()), settings.horizon());
    let distance_meters = recording
        .location
        .zip(candidate.location)
        .map(|(r, c)| r.meters_to(&c));
    let geo = recording.location.map(|_| match distance_meters {
        Some(d) => 1.0 - d.min(GEO_SCALE_METERS) / GEO_SCALE_METERS,
        None => GEO_UNKNOWN,
    });
    let w = weights(geo.is_some(), recording.span.length().is_zero());
    let score = w.overlap * overlap + w.proximity * proximity + w.geo * geo.unwrap_or(0.0);
    Scored {
        engagement: candidate.engagement,
        score: score.clamp(0.0, 1.0),
        overlap,
        proximity,
        geo,
        start_distance_ms: start_distance.num_milliseconds(),
        distance_meters,
    }
}

/// `part / whole` for lengths of time, `whole` not zero.
fn ratio(part: TimeDelta, whole: TimeDelta) -> f64 {
    part.as_seconds_f64() / whole.as_seconds_f64()
}

/// Decides where the recording belongs. `candidates` may hold engagements that are not
/// eligible (a store's window query finds more than the rule keeps); they are left out.
pub fn decide(
    recording: &Recording,
    standing: Standing,
    candidates: &[Candidate],
    settings: &Settings,
) -> Decision {
    let mut scored: Vec<Scored> = candidates
        .iter()
        .filter(|c| eligible(recording, c, settings))
        .map(|c| score(recording, c, settings))
        .collect();
    // One engagement given twice must not tie with itself: its best copy stays.
    scored.sort_by(|a, b| {
        a.engagement
            .cmp(&b.engagement)
            .then(b.score.total_cmp(&a.score))
    });
    scored.dedup_by_key(|s| s.engagement);
    // Best first; equal scores in id order, so that the order they came in never matters.
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.engagement.cmp(&b.engagement))
    });
    let (linked, rule) = match standing {
        Standing::Manual(to) => (to, Rule::Manual),
        Standing::DeepLink(to) => (Some(to), Rule::DeepLink),
        Standing::Automatic => match scored.as_slice() {
            [] => (None, Rule::NoCandidate),
            [only] => (Some(only.engagement), Rule::SoleCandidate),
            // To beat is to score more, by at least the margin: with a margin of zero, equal
            // scores are still a tie.
            [best, next, ..]
                if best.score > next.score && best.score - next.score >= settings.margin =>
            {
                (Some(best.engagement), Rule::ClearWinner)
            }
            _ => (None, Rule::Tie),
        },
    };
    Decision {
        linked,
        rule,
        candidates: scored,
        settings: *settings,
    }
}
