//! Property tests of the sync rules through HTTP on SQLite: idempotency of any payload,
//! absent/null/value per field, and account merges against a union-find model.

mod common;

use common::TestServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::runtime::Runtime;

/// Few cases, each a handful of real HTTP round trips against one server; `PROPTEST_CASES`
/// asks for a deeper run.
fn config() -> Config {
    let deeper = std::env::var_os("PROPTEST_CASES").is_some();
    Config {
        cases: if deeper { Config::default().cases } else { 24 },
        // Failures found once are replayed first, from `properties.proptest-regressions`.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        ..Config::default()
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs `property` over `strategy` against one SQLite server, stopping the server before
/// reporting the outcome so that a failure still removes its database.
fn check<S: Strategy>(
    strategy: S,
    property: impl Fn(&TestServer, &Runtime, usize, S::Value) -> Result<(), TestCaseError>,
) {
    let rt = runtime();
    let s = rt.block_on(common::sqlite());
    // Every case (shrinking included) gets a number, so that it can use external ids no
    // other case touched.
    let case = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config());
    let outcome = runner.run(&strategy, |value| {
        property(&s, &rt, case.fetch_add(1, Ordering::Relaxed), value)
    });
    rt.block_on(s.stop());
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

async fn sync_as(s: &TestServer, token: &str, body: &Value) -> Value {
    let r = s
        .call(
            Method::PUT,
            "/v1/integrations/sync/engagements",
            Some(token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{body}: {r:?}");
    r.body["data"].clone()
}

/// An instant as a CRM may send it: `T` or space separated (the latter without a zone, read
/// as UTC), with 0 to 9 fractional digits.
fn instant_text(t: chrono::DateTime<chrono::Utc>, digits: usize, spaced: bool) -> String {
    let mut s = t
        .format(if spaced {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%dT%H:%M:%S"
        })
        .to_string();
    if digits > 0 {
        let nanos = format!("{:09}", t.timestamp_subsec_nanos());
        s.push('.');
        s.push_str(&nanos[..digits]);
    }
    if !spaced {
        s.push('Z');
    }
    s
}

/// Drops the sub-second digits a text with `digits` of them cannot carry.
fn truncate_nanos(nanos: u32, digits: usize) -> u32 {
    let unit = 10u32.pow(9 - digits as u32);
    nanos / unit * unit
}

#[derive(Debug, Clone)]
struct Times {
    start_secs: i64,
    start_nanos: u32,
    length_secs: i64,
    length_nanos: u32,
    digits: usize,
    spaced: bool,
}

impl Times {
    /// Both ends, written with the same precision, so that `end >= start` holds as sent.
    fn texts(&self) -> (String, String) {
        let nanos = |n| truncate_nanos(n, self.digits);
        let start = chrono::DateTime::from_timestamp(self.start_secs, nanos(self.start_nanos))
            .expect("in range");
        let length = chrono::Duration::seconds(self.length_secs)
            + chrono::Duration::nanoseconds(nanos(self.length_nanos).into());
        (
            instant_text(start, self.digits, self.spaced),
            instant_text(start + length, self.digits, self.spaced),
        )
    }
}

fn times() -> impl Strategy<Value = Times> {
    (
        1_500_000_000i64..2_000_000_000,
        0u32..1_000_000_000,
        0i64..3 * 86_400,
        0u32..1_000_000_000,
        0usize..=9,
        any::<bool>(),
    )
        .prop_map(
            |(start_secs, start_nanos, length_secs, length_nanos, digits, spaced)| Times {
                start_secs,
                start_nanos,
                length_secs,
                length_nanos,
                digits,
                spaced,
            },
        )
}

#[derive(Debug, Clone)]
struct Rep {
    email: Option<String>,
    name: Option<String>,
    share: Option<f64>,
}

#[derive(Debug, Clone)]
struct AccountPart {
    name: Option<String>,
    phones: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
struct OpportunityPart {
    amount: Option<f64>,
    disposition: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct EngagementPayload {
    subject: Option<String>,
    content: Option<String>,
    direction: Option<&'static str>,
    times: Option<Times>,
    localized: Option<String>,
    account: Option<AccountPart>,
    opportunity: Option<OpportunityPart>,
    reps: Vec<Rep>,
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn engagement_payload() -> impl Strategy<Value = EngagementPayload> {
    let rep = (
        proptest::option::of("[a-z]{1,8}@example\\.com"),
        proptest::option::of("[A-Z][a-z]{0,7}( [A-Z][a-z]{0,7})?"),
        proptest::option::of(0.0f64..=1.0),
    )
        .prop_map(|(email, name, share)| Rep { email, name, share });
    let account = (
        proptest::option::of(text()),
        proptest::option::of(proptest::collection::vec("\\+?[0-9 ]{1,12}", 0..3)),
    )
        .prop_map(|(name, phones)| AccountPart { name, phones });
    let opportunity = (
        proptest::option::of(0.0f64..1e9),
        proptest::option::of(proptest::sample::select(vec!["OPEN", "WON", "LOST"])),
    )
        .prop_map(|(amount, disposition)| OpportunityPart {
            amount,
            disposition,
        });
    (
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(proptest::sample::select(vec!["INBOUND", "OUTBOUND"])),
            proptest::option::of(times()),
            proptest::option::of(
                "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]",
            ),
        ),
        (
            proptest::option::of(account),
            proptest::option::of(opportunity),
            proptest::collection::vec(rep, 0..4),
        ),
    )
        .prop_map(
            |((subject, content, direction, times, localized), (account, opportunity, reps))| {
                EngagementPayload {
                    subject,
                    content,
                    direction,
                    times,
                    localized,
                    account,
                    opportunity,
                    reps,
                }
            },
        )
}

impl EngagementPayload {
    /// The JSON body; `case` makes every external id in it new to the server.
    fn json(&self, case: usize) -> Value {
        let mut o = Map::new();
        o.insert("externalId".into(), json!(format!("idem-{case}")));
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        };
        put("subject", self.subject.clone().map(Value::from));
        put("content", self.content.clone().map(Value::from));
        put("direction", self.direction.map(Value::from));
        put(
            "startTimeLocalized",
            self.localized.clone().map(Value::from),
        );
        if let Some(t) = &self.times {
            let (start, end) = t.texts();
            put("startTime", Some(json!(start)));
            put("endTime", Some(json!(end)));
        }
        put(
            "account",
            self.account.as_ref().map(|a| {
                let mut acc = json!({"externalId": format!("idem-acc-{case}")});
                if let Some(n) = &a.name {
                    acc["name"] = json!(n);
                }
                if let Some(p) = &a.phones {
                    acc["phoneNumbers"] = json!(p);
                }
                acc
            }),
        );
        put(
            "opportunity",
            self.opportunity.as_ref().map(|op| {
                let mut opp = json!({"externalId": format!("idem-opp-{case}")});
                if let Some(a) = op.amount {
                    opp["amount"] = json!(a);
                }
                if let Some(d) = op.disposition {
                    opp["disposition"] = json!(d);
                }
                opp
            }),
        );
        if !self.reps.is_empty() {
            let reps: Vec<Value> = self
                .reps
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    // Distinct reps: one payload naming one rep twice says two things of them.
                    let mut rep = json!({"externalId": format!("idem-rep-{case}-{j}")});
                    if let Some(e) = &r.email {
                        rep["email"] = json!(e);
                    }
                    if let Some(n) = &r.name {
                        rep["name"] = json!(n);
                    }
                    if let Some(sh) = r.share {
                        rep["shareOfSale"] = json!(sh);
                    }
                    rep
                })
                .collect();
            put("engagementUsers", Some(Value::Array(reps)));
        }
        Value::Object(o)
    }
}

#[test]
fn any_payload_synced_twice_changes_nothing() {
    check(engagement_payload(), |s, rt, case, payload| {
        rt.block_on(async {
            let body = payload.json(case);
            let first = sync_as(s, &s.token, &body).await;
            let events = s.events().await.len();
            // Long enough that a rewrite would show in `updatedAt`, which has milliseconds.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            let second = sync_as(s, &s.token, &body).await;
            prop_assert_eq!(&second, &first, "payload {}", body);
            prop_assert_eq!(
                s.events().await.len(),
                events,
                "the second sync of {} appended events",
                body
            );
            // What was stored reads back as what the sync answered.
            let got = s
                .get(&format!(
                    "/v1/integrations/engagements/{}",
                    first["id"].as_str().unwrap()
                ))
                .await;
            prop_assert_eq!(&got.body, &first);
            Ok(())
        })
    });
}

/// What a second sync says of one field.
#[derive(Debug, Clone)]
enum Change<T> {
    Absent,
    Null,
    Value(T),
}

fn change<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Change<T>> {
    prop_oneof![
        Just(Change::Absent),
        Just(Change::Null),
        value.prop_map(Change::Value),
    ]
}

#[derive(Debug, Clone)]
struct FieldChanges {
    subject: Change<String>,
    content: Change<String>,
    direction: Change<&'static str>,
    localized: Change<String>,
}

fn directions() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["INBOUND", "OUTBOUND"])
}

#[test]
fn absent_keeps_null_clears_value_replaces() {
    let strategy = (
        (text(), text(), directions(), text()),
        (
            change(text()),
            change(text()),
            change(directions()),
            change(text()),
        ),
    )
        .prop_map(|(stored, (subject, content, direction, localized))| {
            (
                stored,
                FieldChanges {
                    subject,
                    content,
                    direction,
                    localized,
                },
            )
        });
    check(
        strategy,
        |s, rt, case, ((subject, content, direction, localized), changes)| {
            rt.block_on(async {
                let ext = format!("patch-{case}");
                let old = json!({"externalId": ext, "subject": subject, "content": content,
                "direction": direction, "startTimeLocalized": localized});
                let stored = sync_as(s, &s.token, &old).await;
                let mut body = json!({"externalId": ext});
                let fields: [(&str, Change<String>); 4] = [
                    ("subject", changes.subject.clone()),
                    ("content", changes.content.clone()),
                    (
                        "direction",
                        match &changes.direction {
                            Change::Absent => Change::Absent,
                            Change::Null => Change::Null,
                            Change::Value(d) => Change::Value((*d).to_owned()),
                        },
                    ),
                    ("startTimeLocalized", changes.localized.clone()),
                ];
                for (field, c) in &fields {
                    match c {
                        Change::Absent => {}
                        Change::Null => body[*field] = Value::Null,
                        Change::Value(v) => body[*field] = json!(v),
                    }
                }
                let after = sync_as(s, &s.token, &body).await;
                for (field, c) in &fields {
                    match c {
                        Change::Absent => prop_assert_eq!(
                            &after[*field],
                            &stored[*field],
                            "absent {} must keep it",
                            field
                        ),
                        Change::Null => prop_assert!(
                            after.get(*field).is_none(),
                            "null {} must clear it: {}",
                            field,
                            after
                        ),
                        Change::Value(v) => prop_assert_eq!(&after[*field], &json!(v)),
                    }
                }
                prop_assert_eq!(&after["id"], &stored["id"]);
                let got = s
                    .get(&format!(
                        "/v1/integrations/engagements/{}",
                        stored["id"].as_str().unwrap()
                    ))
                    .await;
                prop_assert_eq!(&got.body, &after);
                Ok(())
            })
        },
    );
}

/// One merge as the CRM reports it: account `loser` is now part of account `into`.
#[derive(Debug, Clone)]
struct Merge {
    loser: usize,
    into: usize,
    /// Reported on the survivor (`mergedFromExternalIds`) or on the loser
    /// (`mergedToExternalId`).
    on_survivor: bool,
}

fn merges() -> impl Strategy<Value = (usize, Vec<Merge>)> {
    (2usize..=6).prop_flat_map(|n| {
        let merge = (0..n, 1..n, any::<bool>()).prop_map(move |(loser, step, on_survivor)| Merge {
            loser,
            // Never the loser itself.
            into: (loser + step) % n,
            on_survivor,
        });
        (Just(n), proptest::collection::vec(merge, 1..8))
    })
}

/// The model: a union-find where merging `a` into `b` makes `a`'s set part of `b`'s, with
/// `b`'s root surviving.
struct Survivors(Vec<usize>);

impl Survivors {
    fn find(&self, mut i: usize) -> usize {
        while self.0[i] != i {
            i = self.0[i];
        }
        i
    }

    fn merge(&mut self, loser: usize, into: usize) {
        let (a, b) = (self.find(loser), self.find(into));
        if a != b {
            self.0[a] = b;
        }
    }
}

#[test]
fn merges_leave_every_reference_on_the_survivor() {
    check(merges(), |s, rt, case, (n, ops)| {
        rt.block_on(async {
            // An organization per case: its account list is exactly this case's accounts.
            let token = s.token_for(&format!("merge-org-{case}"), "crm", "all").await;
            let mut accounts = Vec::with_capacity(n);
            let mut engagements = Vec::with_capacity(n);
            for i in 0..n {
                let e = sync_as(
                    s,
                    &token,
                    &json!({"externalId": format!("e{i}"), "account": {"externalId": format!("a{i}"), "name": format!("A{i}")}}),
                )
                .await;
                accounts.push(e["accountId"].as_str().unwrap().to_owned());
                engagements.push(e["id"].as_str().unwrap().to_owned());
            }
            let mut model = Survivors((0..n).collect());
            for op in &ops {
                let body = if op.on_survivor {
                    json!({"externalId": "carrier", "account": {"externalId": format!("a{}", op.into),
                        "mergedFromExternalIds": [format!("a{}", op.loser)]}})
                } else {
                    json!({"externalId": "carrier", "account": {"externalId": format!("a{}", op.loser),
                        "mergedToExternalId": format!("a{}", op.into)}})
                };
                model.merge(op.loser, op.into);
                let carrier = sync_as(s, &token, &body).await;
                // The account a sync names resolves to what it now stands for.
                prop_assert_eq!(
                    carrier["accountId"].as_str(),
                    Some(accounts[model.find(op.into)].as_str()),
                    "after {:?}",
                    op
                );
            }
            let call = |path: String| {
                let token = token.clone();
                async move { s.call(Method::GET, &path, Some(&token), None).await }
            };
            for i in 0..n {
                let e = call(format!("/v1/integrations/engagements/{}", engagements[i])).await;
                let survivor = &accounts[model.find(i)];
                prop_assert_eq!(
                    e.body["accountId"].as_str(),
                    Some(survivor.as_str()),
                    "engagement e{} of account a{}",
                    i,
                    i
                );
                prop_assert_eq!(e.body["account"]["id"].as_str(), Some(survivor.as_str()));
                let a = call(format!("/v1/integrations/accounts/{}", accounts[i])).await;
                let expected = if model.find(i) == i {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                prop_assert_eq!(a.status, expected, "account a{}", i);
            }
            let list = call("/v1/integrations/accounts".into()).await;
            let mut listed: Vec<String> = list
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned())
                .collect();
            listed.sort();
            let mut survivors: Vec<String> = (0..n)
                .filter(|&i| model.find(i) == i)
                .map(|i| accounts[i].clone())
                .collect();
            survivors.sort();
            prop_assert_eq!(listed, survivors);
            Ok(())
        })
    });
}
