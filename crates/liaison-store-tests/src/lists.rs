//! The list contract: every filter, group, search, order and direction, and keyset positions
//! on both sides, checked case by case and against an in-memory model on random records and
//! random queries.

use crate::fixtures::*;
use liaison_domain::model::*;
use liaison_domain::values::{ActivityType, Direction};
use liaison_domain::*;
use liaison_store::*;
use std::cmp::Ordering;
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------------
// The model: what a list means, written plainly over rows in memory.

/// The activity type of each engagement type, as `engagement_types` holds it.
type Activities = HashMap<EngagementTypeId, ActivityType>;

fn field_value(r: &RecordRow, f: Field, types: &Activities) -> Option<Value> {
    let id = |u: Option<uuid::Uuid>| u.map(Value::Id);
    match f {
        Field::Id => id(Some(r.id.uuid())),
        Field::Connection => id(Some(r.connection.uuid())),
        Field::ExternalId => Some(Value::Text(r.external_id.clone())),
        Field::RecordingId => r.recording_id.clone().map(Value::Text),
        Field::Account => id(r.refs.account.map(RecordId::uuid)),
        Field::Contact => id(r.refs.contact.map(RecordId::uuid)),
        Field::Lead => id(r.refs.lead.map(RecordId::uuid)),
        Field::Opportunity => id(r.refs.opportunity.map(RecordId::uuid)),
        Field::Owner => id(r.refs.owner.map(CrmUserId::uuid)),
        Field::EngagementType => id(r.refs.engagement_type.map(EngagementTypeId::uuid)),
        Field::ActivityType => r
            .refs
            .engagement_type
            .and_then(|t| types.get(&t))
            .map(|a| Value::ActivityType(*a)),
        Field::Title => r.indexed.title.clone().map(Value::Text),
        Field::Direction => r.indexed.direction.map(Value::Direction),
        Field::IsPrivate => Some(Value::Bool(r.indexed.is_private)),
        Field::StartTime => r.indexed.start_time.map(Value::Time),
        Field::EndTime => r.indexed.end_time.map(Value::Time),
        Field::CreatedAt => Some(Value::Time(r.created_at)),
        Field::UpdatedAt => Some(Value::Time(r.updated_at)),
        Field::RemoteCreatedAt => r.indexed.remote_created_at.map(Value::Time),
        Field::RemoteUpdatedAt => r.remote_updated_at.map(Value::Time),
        Field::DeletedAt => r.deleted_at.map(Value::Time),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Id(x), Value::Id(y)) => x.cmp(y),
        _ => panic!("the model compares values of one type"),
    }
}

fn holds(r: &RecordRow, f: &Filter, types: &Activities) -> bool {
    let v = field_value(r, f.field(), types);
    match f.test() {
        Test::Eq(want) => v.as_ref() == Some(want),
        Test::In(want) => v.is_some_and(|v| want.contains(&v)),
        Test::Cmp(c, want) => v.is_some_and(|v| {
            let o = compare(&v, want);
            match c {
                Cmp::Gt => o == Ordering::Greater,
                Cmp::Gte => o != Ordering::Less,
                Cmp::Lt => o == Ordering::Less,
                Cmp::Lte => o != Ordering::Greater,
            }
        }),
        Test::IsNull(null) => v.is_none() == *null,
    }
}

/// Where a record stands in `sort`, ascending: no value first, then by value, then by id.
fn order(a: &RecordRow, b: &RecordRow, sort: Sort) -> Ordering {
    let key = |r: &RecordRow| sort_key(r, sort.field);
    let (ka, kb) = (key(a), key(b));
    let by_value = match (&ka.value, &kb.value) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => compare(x, y),
    };
    let o = by_value.then(ka.id.cmp(&kb.id));
    match sort.dir {
        Dir::Asc => o,
        Dir::Desc => o.reverse(),
    }
}

/// The whole answer to `q` (without its position and limit), in order.
fn model(rows: &[RecordRow], types: &Activities, q: &RecordQuery) -> Vec<RecordId> {
    let needle = q
        .search
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(search_key);
    let mut hits: Vec<&RecordRow> = rows
        .iter()
        .filter(|r| r.kind == q.kind)
        .filter(|r| q.include_hidden || r.is_live())
        .filter(|r| {
            q.groups
                .iter()
                .all(|g| g.iter().any(|f| holds(r, f, types)))
        })
        .filter(|r| match &needle {
            None => true,
            Some(n) => r
                .indexed
                .title_key()
                .is_some_and(|t| t.contains(n.as_str())),
        })
        .collect();
    hits.sort_by(|a, b| order(a, b, q.sort));
    hits.into_iter().map(|r| r.id).collect()
}

// ---------------------------------------------------------------------------------------------
// Walking a list through the store.

fn by_id(rows: &[RecordRow], id: RecordId) -> &RecordRow {
    rows.iter()
        .find(|r| r.id == id)
        .expect("a row of the fixture")
}

/// Every page from the start, each after the last row of the one before.
async fn walk_forward<S: Store>(store: &S, org: OrgId, q: &RecordQuery) -> Vec<RecordId> {
    let mut tx = read(store).await;
    let mut out = vec![];
    let mut seek = None;
    loop {
        let page = tx
            .list_records(org, &RecordQuery { seek, ..q.clone() })
            .await
            .unwrap();
        assert!(page.len() <= q.limit as usize, "page over its limit");
        let Some(last) = page.last() else { break };
        seek = Some(Seek {
            side: Side::After,
            key: sort_key(last, q.sort.field),
        });
        out.extend(ids(&page));
        assert!(out.len() <= 2000, "paging does not end");
    }
    out
}

/// Every page from past the end back to the start, each before the first row of the one
/// after it; the pages come in order, so the walk is read back to front.
async fn walk_backward<S: Store>(
    store: &S,
    org: OrgId,
    q: &RecordQuery,
    end: SortKey,
) -> Vec<RecordId> {
    let mut tx = read(store).await;
    let mut pages: Vec<Vec<RecordId>> = vec![];
    let mut key = end;
    loop {
        let seek = Some(Seek {
            side: Side::Before,
            key: key.clone(),
        });
        let page = tx
            .list_records(org, &RecordQuery { seek, ..q.clone() })
            .await
            .unwrap();
        assert!(page.len() <= q.limit as usize, "page over its limit");
        let Some(first) = page.first() else { break };
        key = sort_key(first, q.sort.field);
        pages.push(ids(&page));
        assert!(pages.len() <= 2000, "paging does not end");
    }
    pages.into_iter().rev().flatten().collect()
}

/// A key past every row of the order `sort`.
fn past_the_end(sort: Sort) -> SortKey {
    let (id, value) = match sort.dir {
        Dir::Asc => (uuid::Uuid::max(), big(sort.field)),
        // Descending, the rows without a value come last: past them is a NULL and the
        // smallest id.
        Dir::Desc => (uuid::Uuid::nil(), None),
    };
    SortKey { value, id }
}

fn big(field: SortField) -> Option<Value> {
    match field {
        SortField::Id => None,
        SortField::Title => Some(Value::Text("\u{10FFFF}".repeat(4))),
        _ => Some(Value::Time(at(253_402_300_799_999_999))),
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

struct Fixture {
    t: Tenant,
    rows: Vec<RecordRow>,
    types: Activities,
}

/// Engagements with every list field spread over a few values, so that ties, NULLs and
/// overlaps are common, plus a few records of other kinds.
async fn fixture<S: Store>(store: &S, seed: u64, n: usize) -> Fixture {
    let t = tenant(store).await;
    let mut rng = Rng(seed | 1);
    let second = Connection {
        id: ConnectionId::new(),
        org: t.org,
        name: "second".into(),
        created_at: minute(0),
    };
    let meeting = EngagementType {
        activity_type: ActivityType::Meeting,
        ..engagement_type(&t, Some("m"), "Meeting")
    };
    let call = EngagementType {
        activity_type: ActivityType::Call,
        ..engagement_type(&t, Some("c"), "Call")
    };
    let mut tx = begin(store).await;
    tx.insert_connection(&second).await.unwrap();
    tx.put_engagement_type(&meeting).await.unwrap();
    tx.put_engagement_type(&call).await.unwrap();
    tx.commit().await.unwrap();
    let types: Activities = [
        (meeting.id, ActivityType::Meeting),
        (call.id, ActivityType::Call),
    ]
    .into();
    let accounts = [RecordId::new(), RecordId::new()];
    let owners = [CrmUserId::new(), CrmUserId::new()];
    let titles = ["Demo", "demo call", "Zoë", "Ärger", "intro", "b"];
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let conn = if rng.one_in(4) {
            Tenant {
                org: t.org,
                connection: second.id,
            }
        } else {
            Tenant {
                org: t.org,
                connection: t.connection,
            }
        };
        let kind = if rng.one_in(8) {
            RecordKind::Account
        } else {
            RecordKind::Engagement
        };
        let mut r = record(&conn, kind, &format!("ext-{}", i % 17));
        r.external_id = format!("ext-{i}");
        r.created_at = minute(rng.below(6) as i64);
        r.updated_at = minute(rng.below(6) as i64 + 10);
        r.recording_id = rng.one_in(3).then(|| format!("rec-{}", rng.below(3)));
        r.refs.account = rng.pick_some(&accounts);
        r.refs.owner = rng.pick_some(&owners);
        r.refs.engagement_type = rng.pick_some(&[meeting.id, call.id, EngagementTypeId::new()]);
        r.remote_updated_at = rng.maybe_time(20);
        r.indexed = Indexed {
            title: rng.pick_some(&titles).map(str::to_owned),
            start_time: rng.maybe_time(30),
            end_time: rng.maybe_time(40),
            direction: rng.pick_some(&[Direction::Inbound, Direction::Outbound]),
            is_private: rng.one_in(3),
            remote_created_at: rng.maybe_time(50),
            contacts: vec![],
        };
        if rng.one_in(10) {
            r.deleted_at = Some(minute(60));
        } else if rng.one_in(12) {
            r.merged_into = Some(RecordId::new());
        }
        rows.push(r);
    }
    insert_all(store, &rows).await;
    Fixture { t, rows, types }
}

/// A small deterministic generator (xorshift64*), so a failing case can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Clone>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize].clone()
    }
    /// One of `from`, or none about a third of the time.
    fn pick_some<T: Clone>(&mut self, from: &[T]) -> Option<T> {
        (!self.one_in(3)).then(|| self.pick(from))
    }
    fn maybe_time(&mut self, base: i64) -> Option<Instant> {
        (!self.one_in(4)).then(|| minute(base + self.below(5) as i64))
    }
}

fn random_filter(rng: &mut Rng, f: &Fixture) -> Filter {
    let row = &f.rows[rng.below(f.rows.len() as u64) as usize];
    let field = rng.pick(&Field::ALL);
    // A value some record has (often this one's), else one of the field's type.
    let value = field_value(row, field, &f.types).unwrap_or_else(|| match field.value_type() {
        ValueType::Id => Value::Id(uuid::Uuid::now_v7()),
        ValueType::Text => Value::Text("nobody has this".into()),
        ValueType::Time => Value::Time(minute(33)),
        ValueType::Bool => Value::Bool(true),
        ValueType::ActivityType => Value::ActivityType(ActivityType::Email),
        ValueType::Direction => Value::Direction(Direction::Inbound),
    });
    let test = match rng.below(4) {
        0 if field.nullable() => Test::IsNull(rng.one_in(2)),
        1 if field.value_type() == ValueType::Time => {
            Test::Cmp(rng.pick(&[Cmp::Gt, Cmp::Gte, Cmp::Lt, Cmp::Lte]), value)
        }
        2 => {
            let other = &f.rows[rng.below(f.rows.len() as u64) as usize];
            let mut vs = vec![value];
            vs.extend(field_value(other, field, &f.types));
            if rng.one_in(5) {
                vs.clear();
            }
            Test::In(vs)
        }
        _ => Test::Eq(value),
    };
    Filter::new(field, test).expect("a well-typed filter")
}

fn random_query(rng: &mut Rng, f: &Fixture) -> RecordQuery {
    let mut q = RecordQuery::new(if rng.one_in(6) {
        RecordKind::Account
    } else {
        RecordKind::Engagement
    });
    for _ in 0..rng.below(3) {
        let n = 1 + rng.below(3);
        q.groups
            .push((0..n).map(|_| random_filter(rng, f)).collect());
    }
    if rng.one_in(4) {
        q.search = Some(rng.pick(&["DEMO", "ö", "z", "", "call", "Ä"]).to_owned());
    }
    q.include_hidden = rng.one_in(5);
    q.sort = Sort {
        field: rng.pick(&SortField::ALL),
        dir: rng.pick(&[Dir::Asc, Dir::Desc]),
    };
    q.limit = rng.pick(&[1, 2, 3, 5, 8, 1000]);
    q
}

/// Random records and random queries: the store gives the model's ids in the model's order,
/// and a walk in either direction, page by page, yields the whole answer exactly once.
pub async fn lists_match_the_model<S: Store>(store: &S) {
    for seed in [7, 1_234_567, 42] {
        let f = fixture(store, seed, 90).await;
        let mut rng = Rng(seed.wrapping_mul(31) | 1);
        for case in 0..80 {
            let q = random_query(&mut rng, &f);
            let want = model(&f.rows, &f.types, &q);
            let mut tx = read(store).await;
            let whole = tx
                .list_records(
                    f.t.org,
                    &RecordQuery {
                        limit: 1000,
                        ..q.clone()
                    },
                )
                .await
                .unwrap();
            drop(tx);
            let ctx = format!("seed {seed} case {case}: {q:?}");
            assert_eq!(ids(&whole), want, "whole answer, {ctx}");
            let got: Vec<&RecordRow> = whole.iter().collect();
            for r in got {
                assert_eq!(r, by_id(&f.rows, r.id), "whole rows, {ctx}");
            }
            if q.limit < 1000 {
                assert_eq!(
                    walk_forward(store, f.t.org, &q).await,
                    want,
                    "forward, {ctx}"
                );
                let back = walk_backward(store, f.t.org, &q, past_the_end(q.sort)).await;
                assert_eq!(back, want, "backward, {ctx}");
            }
        }
    }
}

/// Each filter and test on its own, with the answer spelled out.
pub async fn list_filters<S: Store>(store: &S) {
    let f = fixture(store, 99, 0).await;
    let t = &f.t;
    let types: Vec<EngagementTypeId> = f.types.keys().copied().collect();
    let meeting = *types
        .iter()
        .find(|id| f.types[*id] == ActivityType::Meeting)
        .unwrap();
    let mut a = engagement(t, "a", Some(minute(10)));
    a.recording_id = Some("rec-1".into());
    a.refs.engagement_type = Some(meeting);
    a.indexed.title = Some("Quarterly REVIEW".into());
    a.indexed.direction = Some(Direction::Inbound);
    let mut b = engagement(t, "b", Some(minute(20)));
    b.indexed.is_private = true;
    b.indexed.title = Some("Zoë's review".into());
    let no_start = engagement(t, "d", None);
    let mut deleted = engagement(t, "e", Some(minute(12)));
    deleted.deleted_at = Some(minute(30));
    let mut merged = engagement(t, "f", Some(minute(13)));
    merged.merged_into = Some(a.id);
    let acc = record(t, RecordKind::Account, "a");
    insert_all(
        store,
        &[
            a.clone(),
            b.clone(),
            no_start.clone(),
            deleted.clone(),
            merged.clone(),
            acc.clone(),
        ],
    )
    .await;
    let eng = || RecordQuery::new(RecordKind::Engagement);
    let f_ = |field, test| Filter::new(field, test).unwrap();
    let time = |m| Value::Time(minute(m));
    let cases: Vec<(&str, RecordQuery, Vec<&RecordRow>)> = vec![
        ("live", eng(), vec![&a, &b, &no_start]),
        (
            "hidden",
            RecordQuery {
                include_hidden: true,
                ..eng()
            },
            vec![&a, &b, &no_start, &deleted, &merged],
        ),
        (
            "external id",
            eng().and(f_(Field::ExternalId, Test::Eq(Value::Text("a".into())))),
            vec![&a],
        ),
        (
            "recording",
            eng().and(f_(
                Field::RecordingId,
                Test::Eq(Value::Text("rec-1".into())),
            )),
            vec![&a],
        ),
        (
            "window, bounds included",
            eng()
                .and(f_(Field::StartTime, Test::Cmp(Cmp::Gte, time(10))))
                .and(f_(Field::StartTime, Test::Cmp(Cmp::Lte, time(20)))),
            vec![&a, &b],
        ),
        (
            "window, bounds excluded",
            eng()
                .and(f_(Field::StartTime, Test::Cmp(Cmp::Gt, time(10))))
                .and(f_(Field::StartTime, Test::Cmp(Cmp::Lt, time(20)))),
            vec![],
        ),
        (
            "no start time",
            eng().and(f_(Field::StartTime, Test::IsNull(true))),
            vec![&no_start],
        ),
        (
            "a start time",
            eng().and(f_(Field::StartTime, Test::IsNull(false))),
            vec![&a, &b],
        ),
        (
            "private",
            eng().and(f_(Field::IsPrivate, Test::Eq(Value::Bool(true)))),
            vec![&b],
        ),
        (
            "not private",
            eng().and(f_(Field::IsPrivate, Test::Eq(Value::Bool(false)))),
            vec![&a, &no_start],
        ),
        (
            "activity type",
            eng().and(f_(
                Field::ActivityType,
                Test::In(vec![
                    Value::ActivityType(ActivityType::Meeting),
                    Value::ActivityType(ActivityType::Email),
                ]),
            )),
            vec![&a],
        ),
        (
            "no activity type",
            eng().and(f_(Field::ActivityType, Test::IsNull(true))),
            vec![&b, &no_start],
        ),
        (
            "direction",
            eng().and(f_(
                Field::Direction,
                Test::Eq(Value::Direction(Direction::Inbound)),
            )),
            vec![&a],
        ),
        (
            "one group: either",
            RecordQuery {
                groups: vec![vec![
                    f_(Field::IsPrivate, Test::Eq(Value::Bool(true))),
                    f_(Field::StartTime, Test::IsNull(true)),
                ]],
                ..eng()
            },
            vec![&b, &no_start],
        ),
        (
            "two groups: both",
            RecordQuery {
                groups: vec![
                    vec![
                        f_(Field::IsPrivate, Test::Eq(Value::Bool(true))),
                        f_(Field::StartTime, Test::IsNull(true)),
                    ],
                    vec![f_(Field::StartTime, Test::IsNull(false))],
                ],
                ..eng()
            },
            vec![&b],
        ),
        (
            "an empty in-list",
            eng().and(f_(Field::Id, Test::In(vec![]))),
            vec![],
        ),
        (
            "search ignores case",
            RecordQuery {
                search: Some("REVIEW".into()),
                ..eng()
            },
            vec![&a, &b],
        ),
        (
            "search beyond ASCII",
            RecordQuery {
                search: Some("ZOË".into()),
                ..eng()
            },
            vec![&b],
        ),
        (
            "an empty search is none",
            RecordQuery {
                search: Some(String::new()),
                ..eng()
            },
            vec![&a, &b, &no_start],
        ),
        ("kind", RecordQuery::new(RecordKind::Account), vec![&acc]),
        (
            "nothing of a kind",
            RecordQuery::new(RecordKind::Lead),
            vec![],
        ),
    ];
    let mut tx = read(store).await;
    for (name, q, want) in cases {
        let got = tx.list_records(t.org, &q).await.unwrap();
        let mut want: Vec<RecordRow> = want.into_iter().cloned().collect();
        want.sort_by_key(|r| r.id);
        assert_eq!(got, want, "{name}");
        let limited = tx
            .list_records(t.org, &RecordQuery { limit: 2, ..q })
            .await
            .unwrap();
        assert_eq!(
            ids(&limited),
            ids(&want[..want.len().min(2)]),
            "{name}, limit"
        );
    }
    // Filters that cannot mean anything are refused when made.
    assert!(Filter::new(Field::Title, Test::Cmp(Cmp::Gt, Value::Text("a".into()))).is_err());
    assert!(Filter::new(Field::CreatedAt, Test::IsNull(true)).is_err());
    assert!(Filter::eq(Field::StartTime, Value::Text("soon".into())).is_err());
    assert!(Filter::new(Field::Id, Test::In(vec![Value::Id(uuid::Uuid::nil()); 501])).is_err());
}

/// Every order, both directions, NULLs where the contract puts them, ties broken by id, and
/// walks that cross ties and NULL runs at every page size.
pub async fn list_orders_and_positions<S: Store>(store: &S) {
    let t = tenant(store).await;
    let mut rows: Vec<RecordRow> = [Some(5), Some(5), None, Some(3), None, Some(7), Some(5)]
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let mut r = engagement(&t, &format!("e-{i}"), m.map(minute));
            r.indexed.title = m.map(|m| format!("t{m}"));
            r.indexed.end_time = m.map(|m| minute(100 - m));
            r.updated_at = minute(m.unwrap_or(0));
            r
        })
        .collect();
    let mut hidden = engagement(&t, "merged", Some(minute(5)));
    hidden.merged_into = Some(rows[0].id);
    rows.push(hidden);
    insert_all(store, &rows).await;
    let types = Activities::new();
    for field in SortField::ALL {
        for dir in [Dir::Asc, Dir::Desc] {
            for include_hidden in [false, true] {
                let base = RecordQuery {
                    sort: Sort { field, dir },
                    include_hidden,
                    ..RecordQuery::new(RecordKind::Engagement)
                };
                let want = model(&rows, &types, &base);
                assert_eq!(want.len(), if include_hidden { 8 } else { 7 });
                for limit in [1, 2, 3, 100] {
                    let q = RecordQuery {
                        limit,
                        ..base.clone()
                    };
                    let ctx = format!("{field:?} {dir:?} hidden {include_hidden} limit {limit}");
                    assert_eq!(walk_forward(store, t.org, &q).await, want, "forward, {ctx}");
                    let back = walk_backward(store, t.org, &q, past_the_end(q.sort)).await;
                    assert_eq!(back, want, "backward, {ctx}");
                }
                // A page before a key in the middle is the rows nearest to it, in order.
                let mid = sort_key(by_id(&rows, want[4]), field);
                let q = RecordQuery {
                    seek: Some(Seek {
                        side: Side::Before,
                        key: mid.clone(),
                    }),
                    limit: 2,
                    ..base.clone()
                };
                let mut tx = read(store).await;
                let got = ids(&tx.list_records(t.org, &q).await.unwrap());
                assert_eq!(
                    got,
                    want[2..4].to_vec(),
                    "before the fifth, {field:?} {dir:?}"
                );
                let q = RecordQuery {
                    seek: Some(Seek {
                        side: Side::After,
                        key: mid,
                    }),
                    ..q
                };
                let got = ids(&tx.list_records(t.org, &q).await.unwrap());
                assert_eq!(
                    got,
                    want[5..7].to_vec(),
                    "after the fifth, {field:?} {dir:?}"
                );
            }
        }
    }
}
