//! The one list contract every face translates its query syntax into: typed filters in groups
//! (OR inside a group, AND across groups), a title search, an order on one field in either
//! direction with the id breaking ties, a keyset position on either side, and a limit.
//!
//! The rules of a list (which fields exist, which tests each takes, where NULLs sort, what a
//! position means) are settled here once and compiled into a small `Plan` of conditions on
//! columns; each backend only renders the plan in its own SQL dialect.

use crate::Instant;
pub use liaison_domain::field::Field;
use liaison_domain::model::{RecordKind, search_key};
use liaison_domain::values::{ActivityType, Direction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most values one `in` test may list.
pub const MAX_IN_VALUES: usize = 500;
/// The most filters one query may carry, across all its groups.
pub const MAX_FILTERS: usize = 64;

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Id,
    Text,
    Time,
    Bool,
    ActivityType,
    Direction,
}

/// What the list contract knows of each field: the type of its values, whether a record may
/// lack one, and the column that holds it.
pub trait FieldColumn {
    fn value_type(self) -> ValueType;
    fn nullable(self) -> bool;
    /// The column of `records` that holds the field (for `ActivityType`, the column of
    /// `engagement_types`). Both backends' schemas use these names.
    fn column(self) -> &'static str;
}

impl FieldColumn for Field {
    fn value_type(self) -> ValueType {
        use Field::*;
        match self {
            Id | Connection | Account | Contact | Lead | Opportunity | Owner | EngagementType => {
                ValueType::Id
            }
            ExternalId | RecordingId | Title => ValueType::Text,
            StartTime | EndTime | CreatedAt | UpdatedAt | RemoteCreatedAt | RemoteUpdatedAt
            | DeletedAt => ValueType::Time,
            IsPrivate => ValueType::Bool,
            ActivityType => ValueType::ActivityType,
            Direction => ValueType::Direction,
        }
    }

    fn nullable(self) -> bool {
        !matches!(
            self,
            Field::Id
                | Field::Connection
                | Field::ExternalId
                | Field::IsPrivate
                | Field::CreatedAt
                | Field::UpdatedAt
        )
    }

    fn column(self) -> &'static str {
        use Field::*;
        match self {
            Id => "id",
            Connection => "connection_id",
            ExternalId => "external_id",
            RecordingId => "recording_id",
            Account => "account_id",
            Contact => "contact_id",
            Lead => "lead_id",
            Opportunity => "opportunity_id",
            Owner => "owner_id",
            EngagementType => "engagement_type_id",
            ActivityType => "activity_type",
            Title => "title",
            Direction => "direction",
            IsPrivate => "is_private",
            StartTime => "start_time",
            EndTime => "end_time",
            CreatedAt => "created_at",
            UpdatedAt => "updated_at",
            RemoteCreatedAt => "remote_created_at",
            RemoteUpdatedAt => "remote_updated_at",
            DeletedAt => "deleted_at",
        }
    }
}

/// A value a filter compares a field with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Id(Uuid),
    Text(String),
    Time(Instant),
    Bool(bool),
    ActivityType(ActivityType),
    Direction(Direction),
}

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Id(_) => ValueType::Id,
            Value::Text(_) => ValueType::Text,
            Value::Time(_) => ValueType::Time,
            Value::Bool(_) => ValueType::Bool,
            Value::ActivityType(_) => ValueType::ActivityType,
            Value::Direction(_) => ValueType::Direction,
        }
    }
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// What a filter asks of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Value),
    In(Vec<Value>),
    /// Only on instants.
    Cmp(Cmp, Value),
    /// `true`: the record has no value; `false`: it has one.
    IsNull(bool),
}

/// One test of one field, checked when made: the value fits the field, ranges only on
/// instants, "is null" only on fields that can be empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    field: Field,
    test: Test,
}

/// Why a query was refused. Faces report it against the parameter that carried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{field:?} takes a value of type {expected:?}")]
    WrongType { field: Field, expected: ValueType },
    #[error("{0:?} cannot be compared with gt, gte, lt or lte")]
    NotOrdered(Field),
    #[error("{0:?} always has a value")]
    NeverNull(Field),
    #[error("an `in` test lists at most {MAX_IN_VALUES} values")]
    TooManyValues(Field),
    #[error("a query carries at most {MAX_FILTERS} filters")]
    TooManyFilters,
}

impl Filter {
    pub fn new(field: Field, test: Test) -> Result<Filter, QueryError> {
        let fits = |v: &Value| {
            if v.value_type() == field.value_type() {
                Ok(())
            } else {
                Err(QueryError::WrongType {
                    field,
                    expected: field.value_type(),
                })
            }
        };
        match &test {
            Test::Eq(v) => fits(v)?,
            Test::In(vs) => {
                if vs.len() > MAX_IN_VALUES {
                    return Err(QueryError::TooManyValues(field));
                }
                vs.iter().try_for_each(fits)?;
            }
            Test::Cmp(_, v) => {
                if field.value_type() != ValueType::Time {
                    return Err(QueryError::NotOrdered(field));
                }
                fits(v)?;
            }
            Test::IsNull(_) => {
                if !field.nullable() {
                    return Err(QueryError::NeverNull(field));
                }
            }
        }
        Ok(Filter { field, test })
    }

    /// `field = value`, checked.
    pub fn eq(field: Field, value: Value) -> Result<Filter, QueryError> {
        Filter::new(field, Test::Eq(value))
    }

    pub fn field(&self) -> Field {
        self.field
    }

    pub fn test(&self) -> &Test {
        &self.test
    }
}

/// A field a list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortField {
    Id,
    CreatedAt,
    UpdatedAt,
    StartTime,
    EndTime,
    Title,
}

impl SortField {
    pub const ALL: [SortField; 6] = [
        SortField::Id,
        SortField::CreatedAt,
        SortField::UpdatedAt,
        SortField::StartTime,
        SortField::EndTime,
        SortField::Title,
    ];

    pub fn field(self) -> Field {
        match self {
            SortField::Id => Field::Id,
            SortField::CreatedAt => Field::CreatedAt,
            SortField::UpdatedAt => Field::UpdatedAt,
            SortField::StartTime => Field::StartTime,
            SortField::EndTime => Field::EndTime,
            SortField::Title => Field::Title,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dir {
    Asc,
    Desc,
}

/// The order of a list: one field in one direction, then the id in the same direction.
/// Records without a value come first in ascending order and last in descending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sort {
    pub field: SortField,
    pub dir: Dir,
}

impl Sort {
    pub const BY_ID: Sort = Sort {
        field: SortField::Id,
        dir: Dir::Asc,
    };
}

/// A record's place in an order: its value of the sort field (none when it has none, and
/// none for the id order, where the id is the whole key) and its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SortKey {
    pub value: Option<Value>,
    pub id: Uuid,
}

/// Which side of a key a page lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// The rows that follow the key in the order.
    After,
    /// The rows nearest before the key; they still come in the query's order.
    Before,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seek {
    pub side: Side,
    pub key: SortKey,
}

/// A list of live records (or all of them, with `include_hidden`) of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordQuery {
    pub kind: RecordKind,
    /// Every group must hold; within a group, any filter.
    pub groups: Vec<Vec<Filter>>,
    /// Titles that contain this text, ignoring case.
    pub search: Option<String>,
    /// Include soft-deleted and merged records.
    pub include_hidden: bool,
    pub sort: Sort,
    pub seek: Option<Seek>,
    pub limit: u32,
    /// Read each record's raw payload too (the default). A read that only shows records may
    /// leave it out, and reads a good deal less; a record read without it must never be
    /// written back, or its payload would be lost.
    pub remote_data: bool,
}

impl RecordQuery {
    pub fn new(kind: RecordKind) -> Self {
        RecordQuery {
            kind,
            groups: Vec::new(),
            search: None,
            include_hidden: false,
            sort: Sort::BY_ID,
            seek: None,
            limit: 100,
            remote_data: true,
        }
    }

    /// Adds a filter that must hold on its own (a group of one).
    pub fn and(mut self, filter: Filter) -> Self {
        self.groups.push(vec![filter]);
        self
    }

    /// The filter count, checked against `MAX_FILTERS`.
    pub fn check(&self) -> Result<(), QueryError> {
        let n: usize = self.groups.iter().map(Vec::len).sum();
        if n > MAX_FILTERS {
            return Err(QueryError::TooManyFilters);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: what a backend renders.

/// A comparison operator as SQL writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Op {
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
        }
    }
}

impl From<Cmp> for Op {
    fn from(c: Cmp) -> Op {
        match c {
            Cmp::Gt => Op::Gt,
            Cmp::Gte => Op::Gte,
            Cmp::Lt => Op::Lt,
            Cmp::Lte => Op::Lte,
        }
    }
}

/// A condition on the columns of `records`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Compare(&'static str, Op, Value),
    In(&'static str, Vec<Value>),
    /// `(column, id) op (value, id)`: past a position in an order, as one comparison that an
    /// index on `(…, column, id)` can seek to. False where the column is NULL.
    RowCompare(&'static str, Op, Value, Uuid),
    IsNull(&'static str, bool),
    /// The column contains the text (both already in search-key form).
    Contains(&'static str, String),
    /// The record's engagement type is one of the organization's types that meet the
    /// condition on `engagement_types`.
    TypeWhere(Box<Cond>),
    /// The inner condition does not hold (and is not unknown).
    Not(Box<Cond>),
    /// Matches nothing (an `in` test with no values).
    Never,
}

/// One term of an `ORDER BY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTerm {
    pub column: &'static str,
    pub dir: Dir,
    /// Only on columns that can be empty: where their NULLs go (first when ascending).
    pub nullable: bool,
}

impl OrderTerm {
    /// The term as SQL writes it, NULLs placed explicitly (SQLite and PostgreSQL disagree on
    /// where they go by default).
    pub fn sql(&self) -> String {
        match (self.dir, self.nullable) {
            (Dir::Asc, false) => format!("{} ASC", self.column),
            (Dir::Desc, false) => format!("{} DESC", self.column),
            (Dir::Asc, true) => format!("{} ASC NULLS FIRST", self.column),
            (Dir::Desc, true) => format!("{} DESC NULLS LAST", self.column),
        }
    }
}

/// A query compiled for a backend: rows of `kind` in the organization that meet `cond`,
/// in `order`, at most `limit`; when `reverse` is set, the rows were read in the opposite
/// order and must be turned around before they are returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: RecordKind,
    pub cond: Cond,
    pub order: Vec<OrderTerm>,
    pub limit: u32,
    pub reverse: bool,
    /// Whether the rows carry their raw payloads (`RecordQuery::remote_data`).
    pub remote_data: bool,
}

impl RecordQuery {
    pub fn plan(&self) -> Plan {
        let mut all = Vec::new();
        if !self.include_hidden {
            all.push(Cond::IsNull("deleted_at", true));
            all.push(Cond::IsNull("merged_into", true));
        }
        for group in &self.groups {
            let any: Vec<Cond> = group.iter().map(filter_cond).collect();
            all.push(match any.len() {
                1 => any.into_iter().next().expect("one"),
                _ => Cond::Any(any),
            });
        }
        if let Some(needle) = self.search.as_deref().filter(|s| !s.is_empty()) {
            all.push(Cond::Contains("title_key", search_key(needle)));
        }
        // Reading the page before a key means reading backwards from it.
        let reverse = matches!(&self.seek, Some(s) if s.side == Side::Before);
        let read_dir = match (self.sort.dir, reverse) {
            (d, false) => d,
            (Dir::Asc, true) => Dir::Desc,
            (Dir::Desc, true) => Dir::Asc,
        };
        if let Some(seek) = &self.seek {
            all.push(seek_cond(self.sort.field, read_dir, &seek.key));
        }
        let field = self.sort.field.field();
        let mut order = Vec::with_capacity(2);
        if field != Field::Id {
            order.push(OrderTerm {
                column: field.column(),
                dir: read_dir,
                nullable: field.nullable(),
            });
        }
        order.push(OrderTerm {
            column: "id",
            dir: read_dir,
            nullable: false,
        });
        Plan {
            kind: self.kind,
            cond: Cond::All(all),
            order,
            limit: self.limit,
            remote_data: self.remote_data,
            reverse,
        }
    }
}

fn filter_cond(f: &Filter) -> Cond {
    let column = f.field.column();
    let on_records = |c: Cond| {
        if f.field == Field::ActivityType {
            Cond::TypeWhere(Box::new(c))
        } else {
            c
        }
    };
    match &f.test {
        Test::Eq(v) => on_records(Cond::Compare(column, Op::Eq, v.clone())),
        Test::In(vs) if vs.is_empty() => Cond::Never,
        Test::In(vs) => on_records(Cond::In(column, vs.clone())),
        Test::Cmp(c, v) => Cond::Compare(column, (*c).into(), v.clone()),
        // A record has an activity type when its engagement type is one of the
        // organization's.
        Test::IsNull(false) if f.field == Field::ActivityType => {
            Cond::TypeWhere(Box::new(Cond::All(vec![])))
        }
        Test::IsNull(true) if f.field == Field::ActivityType => Cond::Any(vec![
            Cond::IsNull(Field::EngagementType.column(), true),
            Cond::Not(Box::new(Cond::TypeWhere(Box::new(Cond::All(vec![]))))),
        ]),
        Test::IsNull(null) => Cond::IsNull(column, *null),
    }
}

/// The rows strictly past `key` when reading in `dir`, NULLs first in ascending order.
fn seek_cond(sort: SortField, dir: Dir, key: &SortKey) -> Cond {
    let id_op = match dir {
        Dir::Asc => Op::Gt,
        Dir::Desc => Op::Lt,
    };
    let past_id = Cond::Compare("id", id_op, Value::Id(key.id));
    let field = sort.field();
    if field == Field::Id {
        return past_id;
    }
    let column = field.column();
    match (&key.value, dir) {
        (Some(v), _) => {
            let past = Cond::RowCompare(column, id_op, v.clone(), key.id);
            // Descending, the NULLs come after every value.
            if dir == Dir::Desc && field.nullable() {
                Cond::Any(vec![past, Cond::IsNull(column, true)])
            } else {
                past
            }
        }
        // Ascending from a NULL: the rest of the NULLs, then every value.
        (None, Dir::Asc) => Cond::Any(vec![
            Cond::All(vec![Cond::IsNull(column, true), past_id.clone()]),
            Cond::IsNull(column, false),
        ]),
        // Descending from a NULL: only the rest of the NULLs.
        (None, Dir::Desc) => Cond::All(vec![Cond::IsNull(column, true), past_id]),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering: the SQL a plan becomes is the same on every backend but for how values are bound
// and for two spellings, so it is written once here against a backend's `SqlOut`.

/// Where a backend's statement is built: text, and values bound in its own placeholders.
pub trait SqlOut {
    /// The function that finds text in text: `instr` (SQLite), `strpos` (PostgreSQL).
    const FIND: &'static str;
    /// The literals of a condition always true and always false.
    const TRUE: &'static str;
    const FALSE: &'static str;

    fn text(&mut self, sql: &str);
    fn value(&mut self, v: &Value);
}

impl Plan {
    /// `SELECT <columns> FROM records` for the plan, in the organization `org`. The caller
    /// hands the rows it read to `finish`.
    ///
    /// The kind and the limit are written into the text, not bound: they shape the statement
    /// (five kinds, a bounded limit) rather than carry data, and a plan made before the values
    /// are known must know them. PostgreSQL compares a prepared statement's generic plan with
    /// the plans it makes for each execution's values; with the limit bound, the generic plan
    /// assumes a tenth of the table is wanted, always looks dearer, and every list is planned
    /// anew (a fifth of a list's database time, in a profile). The limit written is
    /// `read_limit`, so that the limits clients send make few distinct statements.
    pub fn render(&self, columns: &str, org: Uuid, out: &mut impl SqlOut) {
        out.text(&format!("SELECT {columns} FROM records WHERE org_id = "));
        out.value(&Value::Id(org));
        // `as_str` is one of a fixed set of lower-case words: nothing to quote.
        out.text(&format!(" AND kind = '{}' AND ", self.kind.as_str()));
        self.cond.render(org, out);
        let order: Vec<String> = self.order.iter().map(OrderTerm::sql).collect();
        out.text(" ORDER BY ");
        out.text(&order.join(", "));
        out.text(&format!(" LIMIT {}", self.read_limit()));
    }

    /// The rows a statement reads for `limit`: one more than the next multiple of 25, so the
    /// usual page sizes and the row past them that tells whether a page follows (11, 26, 51,
    /// 101, 1,001) are read nearly or exactly, any other reads at most 24 rows more, and a
    /// statement cache holds all of them (41 per shape) instead of up to a thousand.
    pub fn read_limit(&self) -> u32 {
        if self.limit <= 1 {
            return self.limit;
        }
        (self.limit - 1).div_ceil(25) * 25 + 1
    }

    /// Whether its rows carry an opportunity's contacts: only a list of opportunities has any,
    /// and elsewhere the sub-select that reads them costs its planning for nothing.
    pub fn reads_contacts(&self) -> bool {
        self.kind == RecordKind::Opportunity
    }

    /// The plan's rows from those its statement read, in the plan's order: at most `limit`,
    /// turned around when `reverse` is set.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        rows.truncate(self.limit as usize);
        if self.reverse {
            rows.reverse();
        }
        rows
    }
}

impl Cond {
    fn render<O: SqlOut>(&self, org: Uuid, out: &mut O) {
        let joined = |out: &mut O, parts: &[Cond], glue: &str, empty: &str| {
            if parts.is_empty() {
                out.text(empty);
                return;
            }
            out.text("(");
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.text(glue);
                }
                p.render(org, out);
            }
            out.text(")");
        };
        match self {
            Cond::All(parts) => joined(out, parts, " AND ", O::TRUE),
            Cond::Any(parts) => joined(out, parts, " OR ", O::FALSE),
            Cond::Compare(column, op, v) => {
                out.text(&format!("{column} {} ", op.sql()));
                out.value(v);
            }
            Cond::In(column, vs) => {
                out.text(&format!("{column} IN ("));
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        out.text(", ");
                    }
                    out.value(v);
                }
                out.text(")");
            }
            Cond::RowCompare(column, op, v, id) => {
                out.text(&format!("({column}, id) {} (", op.sql()));
                out.value(v);
                out.text(", ");
                out.value(&Value::Id(*id));
                out.text(")");
            }
            Cond::IsNull(column, true) => out.text(&format!("{column} IS NULL")),
            Cond::IsNull(column, false) => out.text(&format!("{column} IS NOT NULL")),
            Cond::Contains(column, needle) => {
                out.text(&format!("{}({column}, ", O::FIND));
                out.value(&Value::Text(needle.clone()));
                out.text(") > 0");
            }
            Cond::TypeWhere(inner) => {
                out.text("engagement_type_id IN (SELECT id FROM engagement_types WHERE org_id = ");
                out.value(&Value::Id(org));
                out.text(" AND ");
                inner.render(org, out);
                out.text(")");
            }
            Cond::Not(inner) => {
                out.text("NOT (");
                inner.render(org, out);
                out.text(")");
            }
            Cond::Never => out.text(O::FALSE),
        }
    }
}
