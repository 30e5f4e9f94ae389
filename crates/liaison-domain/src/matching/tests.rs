use super::*;
use crate::time::parse_instant;
use proptest::prelude::*;

fn at(text: &str) -> DateTime<Utc> {
    parse_instant(text).unwrap_or_else(|| panic!("a test time: {text}"))
}

fn span(start: &str, end: &str) -> Span {
    Span::new(at(start), at(end)).expect("a test span")
}

fn rep() -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(1))
}

fn other_rep() -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(2))
}

fn id(n: u128) -> RecordId {
    RecordId::from_uuid(uuid::Uuid::from_u128(n))
}

fn recording(start: &str, end: &str) -> Recording {
    Recording {
        user: rep(),
        span: span(start, end),
        location: None,
    }
}

fn appointment(n: u128, start: &str, end: &str) -> Candidate {
    Candidate {
        engagement: id(n),
        activity_type: Some(ActivityType::Appointment),
        span: Some(span(start, end)),
        live: true,
        rep_users: vec![rep()],
        location: None,
    }
}

fn auto(r: &Recording, cs: &[Candidate]) -> Decision {
    decide(r, Standing::Automatic, cs, &Settings::default())
}

/// One row of the table: what is recorded, what is synced, and what must be decided.
struct Case {
    name: &'static str,
    recording: Recording,
    standing: Standing,
    candidates: Vec<Candidate>,
    linked: Option<u128>,
    rule: Rule,
}

fn cases() -> Vec<Case> {
    let home = GeoPoint::new(40.7128, -74.0060).unwrap();
    let down_the_road = GeoPoint::new(40.7378, -74.0060).unwrap(); // about 2.8 km away
    let across_town = GeoPoint::new(40.7831, -73.9712).unwrap(); // about 8.3 km away
    let with_location = |mut r: Recording| {
        r.location = Some(home);
        r
    };
    let placed = |mut c: Candidate, p: GeoPoint| {
        c.location = Some(p);
        c
    };
    vec![
        Case {
            name: "exact overlap",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "early recording, inside the tolerance",
            recording: recording("2026-03-02T14:10:00Z", "2026-03-02T14:40:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "late recording, inside the tolerance",
            recording: recording("2026-03-02T16:30:00Z", "2026-03-02T17:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "ends exactly at the tolerance before the start",
            recording: recording("2026-03-02T13:30:00Z", "2026-03-02T14:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "ends a second before the tolerance",
            recording: recording("2026-03-02T13:30:00Z", "2026-03-02T13:59:59Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "starts exactly at the tolerance after the end",
            recording: recording("2026-03-02T17:00:00Z", "2026-03-02T17:20:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "starts a second after the tolerance",
            recording: recording("2026-03-02T17:00:01Z", "2026-03-02T17:20:00Z"),
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "someone else's appointment",
            recording: Recording {
                user: other_rep(),
                ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            },
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "two reps on one appointment, recorded by the second",
            recording: Recording {
                user: other_rep(),
                ..recording("2026-03-02T15:05:00Z", "2026-03-02T15:50:00Z")
            },
            standing: Standing::Automatic,
            candidates: vec![Candidate {
                rep_users: vec![rep(), other_rep()],
                ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            }],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "back-to-back, recorded inside the first",
            recording: recording("2026-03-02T15:05:00Z", "2026-03-02T15:55:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"),
            ],
            linked: Some(1),
            rule: Rule::ClearWinner,
        },
        Case {
            name: "back-to-back, recorded across both halves alike: a tie",
            recording: recording("2026-03-02T15:30:00Z", "2026-03-02T16:30:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"),
            ],
            linked: None,
            rule: Rule::Tie,
        },
        Case {
            name: "a double booking: a tie",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            ],
            linked: None,
            rule: Rule::Tie,
        },
        Case {
            name: "a double booking, broken by where it was recorded",
            recording: with_location(recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")),
            standing: Standing::Automatic,
            candidates: vec![
                placed(
                    appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                    down_the_road,
                ),
                placed(
                    appointment(2, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                    home,
                ),
            ],
            linked: Some(2),
            rule: Rule::ClearWinner,
        },
        Case {
            name: "an appointment farther than the largest distance is none",
            recording: with_location(recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")),
            standing: Standing::Automatic,
            candidates: vec![placed(
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                across_town,
            )],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "calls, emails and untyped engagements are no appointments",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                Candidate {
                    activity_type: Some(ActivityType::Call),
                    ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
                },
                Candidate {
                    activity_type: Some(ActivityType::Email),
                    ..appointment(2, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
                },
                Candidate {
                    activity_type: None,
                    ..appointment(3, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
                },
            ],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "meetings and events are",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![Candidate {
                activity_type: Some(ActivityType::Event),
                ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            }],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "a deleted engagement",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![Candidate {
                live: false,
                ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            }],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "an engagement with no start time",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![Candidate {
                span: None,
                ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            }],
            linked: None,
            rule: Rule::NoCandidate,
        },
        Case {
            name: "an engagement of more than a week is no appointment",
            recording: recording("2026-03-09T15:00:00Z", "2026-03-09T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T14:59:59Z", "2026-03-09T15:00:00Z"),
                appointment(2, "2026-03-02T15:00:00Z", "2026-03-09T15:00:00Z"),
            ],
            linked: Some(2),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "a deep link decides, even against a better score",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::DeepLink(id(2)),
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T16:30:00Z", "2026-03-02T17:00:00Z"),
            ],
            linked: Some(2),
            rule: Rule::DeepLink,
        },
        Case {
            name: "a manual link stands against every score",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Manual(Some(id(9))),
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(9),
            rule: Rule::Manual,
        },
        Case {
            name: "a manual unlink stays unlinked",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Manual(None),
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: None,
            rule: Rule::Manual,
        },
        Case {
            name: "an instant recording inside the appointment",
            recording: Recording {
                span: Span::instant(at("2026-03-02T15:20:00Z")),
                ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            },
            standing: Standing::Automatic,
            candidates: vec![appointment(
                1,
                "2026-03-02T15:00:00Z",
                "2026-03-02T16:00:00Z",
            )],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "an instant late in the first of two back-to-back appointments",
            recording: Recording {
                span: Span::instant(at("2026-03-02T15:40:00Z")),
                ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            },
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"),
            ],
            linked: Some(1),
            rule: Rule::ClearWinner,
        },
        Case {
            name: "an instant a quarter of an hour before the second: too close to call",
            recording: Recording {
                span: Span::instant(at("2026-03-02T15:45:00Z")),
                ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
            },
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(2, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"),
            ],
            linked: None,
            rule: Rule::Tie,
        },
        Case {
            name: "one engagement given twice is one candidate",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
                appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            ],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
        Case {
            name: "the start given in another time zone is the same instant",
            recording: recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            standing: Standing::Automatic,
            candidates: vec![
                appointment(1, "2026-03-02T07:00:00-08:00", "2026-03-02T08:00:00-08:00"),
                appointment(2, "2026-03-02T07:00:00Z", "2026-03-02T08:00:00Z"),
            ],
            linked: Some(1),
            rule: Rule::SoleCandidate,
        },
    ]
}

#[test]
fn the_table_of_scenarios() {
    for case in cases() {
        let d = decide(
            &case.recording,
            case.standing,
            &case.candidates,
            &Settings::default(),
        );
        assert_eq!(d.linked, case.linked.map(id), "{}: {d:#?}", case.name);
        assert_eq!(d.rule, case.rule, "{}: {d:#?}", case.name);
    }
}

#[test]
fn every_eligible_candidate_is_shown_with_its_components_best_first() {
    let r = recording("2026-03-02T15:30:00Z", "2026-03-02T16:30:00Z");
    let d = auto(
        &r,
        &[
            appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
            appointment(2, "2026-03-02T16:00:00Z", "2026-03-02T17:00:00Z"),
            appointment(3, "2026-03-02T20:00:00Z", "2026-03-02T21:00:00Z"),
        ],
    );
    assert_eq!(d.rule, Rule::Tie);
    let ids: Vec<RecordId> = d.candidates.iter().map(|c| c.engagement).collect();
    assert_eq!(
        ids,
        vec![id(1), id(2)],
        "the 20:00 one is out of the window"
    );
    for c in &d.candidates {
        assert_eq!(c.overlap, 0.5);
        assert_eq!(c.start_distance_ms, 30 * 60 * 1000);
        assert_eq!(c.proximity, 0.75);
        assert_eq!(c.geo, None);
        assert!((c.score - (0.7 * 0.5 + 0.3 * 0.75)).abs() < 1e-12);
    }
}

#[test]
fn a_later_and_better_engagement_takes_the_link() {
    let r = recording("2026-03-02T16:20:00Z", "2026-03-02T16:50:00Z");
    let first = appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z");
    let before = auto(&r, std::slice::from_ref(&first));
    assert_eq!(
        (before.linked, before.rule),
        (Some(id(1)), Rule::SoleCandidate)
    );
    let better = appointment(2, "2026-03-02T16:15:00Z", "2026-03-02T17:00:00Z");
    let after = auto(&r, &[first, better]);
    assert_eq!((after.linked, after.rule), (Some(id(2)), Rule::ClearWinner));
}

#[test]
fn a_reschedule_away_and_back() {
    let r = recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z");
    let here = appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z");
    let moved = Candidate {
        span: Some(span("2026-03-03T15:00:00Z", "2026-03-03T16:00:00Z")),
        ..here.clone()
    };
    assert_eq!(auto(&r, std::slice::from_ref(&here)).linked, Some(id(1)));
    let away = auto(&r, &[moved]);
    assert_eq!((away.linked, away.rule), (None, Rule::NoCandidate));
    assert_eq!(auto(&r, &[here]).linked, Some(id(1)));
}

#[test]
fn a_candidate_without_coordinates_is_neither_near_nor_far() {
    let home = GeoPoint::new(40.7128, -74.0060).unwrap();
    let r = Recording {
        location: Some(home),
        ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    };
    let near = Candidate {
        location: Some(home),
        ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    };
    let unknown = appointment(2, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z");
    let d = auto(&r, &[near, unknown]);
    assert_eq!(d.candidates[0].geo, Some(1.0));
    assert_eq!(d.candidates[0].distance_meters, Some(0.0));
    assert_eq!(d.candidates[1].geo, Some(0.5));
    assert_eq!(d.candidates[1].distance_meters, None);
    // A half of the geo weight (0.15) is just the margin: the known-near one wins.
    assert_eq!((d.linked, d.rule), (Some(id(1)), Rule::ClearWinner));
}

#[test]
fn the_settings_widen_and_narrow_the_window() {
    let r = recording("2026-03-02T13:30:00Z", "2026-03-02T13:45:00Z");
    let c = [appointment(
        1,
        "2026-03-02T15:00:00Z",
        "2026-03-02T16:00:00Z",
    )];
    assert_eq!(auto(&r, &c).rule, Rule::NoCandidate);
    let wide = Settings::new(90, 60, 0.15).unwrap();
    assert_eq!(
        decide(&r, Standing::Automatic, &c, &wide).linked,
        Some(id(1))
    );
    let r = recording("2026-03-02T15:30:00Z", "2026-03-02T16:30:00Z");
    let two = [
        appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
        appointment(2, "2026-03-02T16:15:00Z", "2026-03-02T17:00:00Z"),
    ];
    let strict = Settings::new(60, 60, 0.5).unwrap();
    assert_eq!(
        decide(&r, Standing::Automatic, &two, &strict).rule,
        Rule::Tie
    );
    let lax = Settings::new(60, 60, 0.0).unwrap();
    assert_eq!(
        decide(&r, Standing::Automatic, &two, &lax).rule,
        Rule::ClearWinner
    );
    let double = [
        appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
        appointment(2, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
    ];
    assert_eq!(
        decide(&r, Standing::Automatic, &double, &lax).rule,
        Rule::Tie,
        "with no margin, equal scores still tie"
    );
}

#[test]
fn the_largest_distance_can_be_lifted() {
    let home = GeoPoint::new(40.7128, -74.0060).unwrap();
    let r = Recording {
        location: Some(home),
        ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    };
    let far = [Candidate {
        location: GeoPoint::new(40.7831, -73.9712),
        ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    }];
    assert_eq!(auto(&r, &far).rule, Rule::NoCandidate);
    let none = Settings::default().with_max_distance(None).unwrap();
    let d = decide(&r, Standing::Automatic, &far, &none);
    assert_eq!((d.linked, d.rule), (Some(id(1)), Rule::SoleCandidate));
    assert_eq!(
        d.candidates[0].geo,
        Some(0.0),
        "beyond the geo scale it scores nothing"
    );
    let ten_km = Settings::default().with_max_distance(Some(10_000)).unwrap();
    assert_eq!(
        decide(&r, Standing::Automatic, &far, &ten_km).linked,
        Some(id(1))
    );
}

#[test]
fn settings_have_ranges() {
    let d = Settings::default();
    assert_eq!(d.with_max_distance(Some(99)), Err(SettingsError::Distance));
    assert_eq!(
        d.with_max_distance(Some(100_001)),
        Err(SettingsError::Distance)
    );
    assert!(d.with_max_distance(Some(100)).is_ok());
    assert_eq!(Settings::new(1441, 0, 0.1), Err(SettingsError::Tolerance));
    assert_eq!(Settings::new(0, 1441, 0.1), Err(SettingsError::Tolerance));
    assert_eq!(Settings::new(0, 0, 1.01), Err(SettingsError::Margin));
    assert_eq!(Settings::new(0, 0, f64::NAN), Err(SettingsError::Margin));
    assert!(Settings::new(0, 1440, 1.0).is_ok());
    let zero = Settings::new(0, 0, 0.15).unwrap();
    let r = recording("2026-03-02T15:00:00Z", "2026-03-02T15:00:00Z");
    let d = decide(
        &r,
        Standing::Automatic,
        &[appointment(
            1,
            "2026-03-02T15:00:00Z",
            "2026-03-02T16:00:00Z",
        )],
        &zero,
    );
    assert_eq!(
        d.linked,
        Some(id(1)),
        "no tolerance still matches what overlaps"
    );
}

#[test]
fn spans_at_the_ends_of_time_neither_panic_nor_score_nan() {
    let last = DateTime::<Utc>::MAX_UTC;
    let r = Recording {
        span: Span::of_recording(last - TimeDelta::minutes(5), Some(60_000), None),
        ..recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    };
    let c = [Candidate {
        span: Some(Span::of_engagement(
            last - TimeDelta::minutes(10),
            Some(last),
        )),
        ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    }];
    assert_eq!(auto(&r, &c).linked, Some(id(1)));
    // Shorter than a millisecond, but not an instant.
    let t = at("2026-03-02T15:00:00Z");
    let tiny = [Candidate {
        span: Span::new(t, t + TimeDelta::microseconds(10)),
        ..appointment(1, "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    }];
    let d = auto(
        &recording("2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"),
        &tiny,
    );
    assert_eq!(d.candidates[0].overlap, 1.0);
    assert!(!d.candidates[0].score.is_nan());
}

#[test]
fn spans_of_recordings_and_engagements() {
    let t = at("2026-03-02T15:00:00Z");
    let by_duration = Span::of_recording(t, Some(90_000), Some(10_000));
    assert_eq!(by_duration.end(), at("2026-03-02T15:01:30Z"));
    let by_utterance = Span::of_recording(t, None, Some(10_000));
    assert_eq!(by_utterance.end(), at("2026-03-02T15:00:10Z"));
    assert_eq!(Span::of_recording(t, None, None), Span::instant(t));
    assert_eq!(
        Span::of_recording(t, Some(u64::MAX), None),
        Span::instant(t)
    );
    assert_eq!(Span::of_engagement(t, None), Span::instant(t));
    assert_eq!(
        Span::of_engagement(t, Some(at("2026-03-02T14:00:00Z"))),
        Span::instant(t),
        "an end before the start is no end"
    );
    assert!(Span::new(t, at("2026-03-02T14:59:59Z")).is_none());
}

#[test]
fn coordinates_have_ranges_and_distances() {
    assert!(GeoPoint::new(90.01, 0.0).is_none());
    assert!(GeoPoint::new(0.0, -180.01).is_none());
    assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
    let paris = GeoPoint::new(48.8566, 2.3522).unwrap();
    let london = GeoPoint::new(51.5074, -0.1278).unwrap();
    let d = paris.meters_to(&london);
    assert!((d - 343_500.0).abs() < 1_500.0, "{d}");
    assert_eq!(paris.meters_to(&paris), 0.0);
}

fn arb_candidate() -> impl Strategy<Value = Candidate> {
    (
        1u128..40,
        prop::option::weighted(
            0.9,
            prop_oneof![4 => Just(0usize), 2 => Just(1), 1 => Just(2)],
        ),
        // On a coarse grid, so that equal spans (and equal scores) are common.
        prop::option::of((0i64..10, 0i64..3)),
        prop::bool::weighted(0.9),
        prop::collection::vec(prop_oneof![3 => Just(1u128), 1 => 2u128..4], 0..3),
        prop::option::of(prop_oneof![
            Just((0.0, 0.0)),
            (-0.05f64..0.05, -0.05f64..0.05)
        ]),
    )
        .prop_map(|(n, kind, times, live, reps, place)| {
            let base = at("2026-03-02T12:00:00Z");
            Candidate {
                engagement: id(n),
                activity_type: kind.map(|k| {
                    [
                        ActivityType::Appointment,
                        ActivityType::Meeting,
                        ActivityType::Call,
                    ][k]
                }),
                span: times.map(|(start, length)| {
                    let s = base + TimeDelta::minutes(start * 60);
                    Span::of_engagement(s, Some(s + TimeDelta::minutes(length * 30)))
                }),
                live,
                rep_users: reps
                    .into_iter()
                    .map(|u| UserId::from_uuid(uuid::Uuid::from_u128(u)))
                    .collect(),
                location: place.map(|(a, b)| GeoPoint::new(40.7 + a, -74.0 + b).unwrap()),
            }
        })
}

fn arb_recording() -> impl Strategy<Value = Recording> {
    (0i64..20, 0i64..5, any::<bool>()).prop_map(|(start, length, placed)| {
        let s = at("2026-03-02T12:00:00Z") + TimeDelta::minutes(start * 30);
        Recording {
            user: rep(),
            span: Span::new(s, s + TimeDelta::minutes(length * 20)).unwrap(),
            location: placed.then(|| GeoPoint::new(40.7, -74.0).unwrap()),
        }
    })
}

/// Engagements with distinct ids, as a store holds them.
fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec(arb_candidate(), 0..12).prop_map(|mut cs| {
        cs.sort_by_key(|c| c.engagement);
        cs.dedup_by_key(|c| c.engagement);
        cs
    })
}

proptest! {
    #[test]
    fn a_manual_decision_is_never_replaced(
        r in arb_recording(),
        cs in arb_candidates(),
        to in prop::option::of(1u128..40),
    ) {
        let d = decide(&r, Standing::Manual(to.map(id)), &cs, &Settings::default());
        prop_assert_eq!(d.linked, to.map(id));
        prop_assert_eq!(d.rule, Rule::Manual);
    }

    #[test]
    fn the_order_of_arrival_changes_nothing(
        r in arb_recording(),
        cs in arb_candidates(),
        seed in any::<u64>(),
    ) {
        let mut shuffled = cs.clone();
        // A permutation from the seed: enough to reach every order of a dozen.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(auto(&r, &cs), auto(&r, &shuffled));
    }

    #[test]
    fn a_link_goes_to_an_eligible_candidate_that_wins(
        r in arb_recording(),
        cs in arb_candidates(),
    ) {
        let settings = Settings::default();
        let d = auto(&r, &cs);
        for s in &d.candidates {
            prop_assert!((0.0..=1.0).contains(&s.score));
            let c = cs.iter().find(|c| c.engagement == s.engagement).unwrap();
            prop_assert!(eligible(&r, c, &settings));
        }
        prop_assert_eq!(
            d.candidates.len(),
            cs.iter().filter(|c| eligible(&r, c, &settings)).count()
        );
        match d.linked {
            Some(e) => {
                prop_assert_eq!(d.candidates[0].engagement, e);
                if let Some(next) = d.candidates.get(1) {
                    prop_assert!(d.candidates[0].score - next.score >= settings.margin());
                }
            }
            None => prop_assert!(matches!(d.rule, Rule::Tie | Rule::NoCandidate)),
        }
        // And the converse: an only candidate, or a best one clear by the margin, is linked.
        match d.candidates.as_slice() {
            [] => prop_assert_eq!(d.rule, Rule::NoCandidate),
            [only] => prop_assert_eq!(d.linked, Some(only.engagement)),
            [best, next, ..] => {
                let clear = best.score > next.score && best.score - next.score >= settings.margin();
                prop_assert_eq!(d.linked.is_some(), clear);
            }
        }
    }
}
