//! Reading untrusted JSON into typed inputs while collecting every problem, with its path,
//! instead of stopping at the first (clients fix all their fields in one round).

use liaison_domain::field::Field;
use liaison_domain::time::{Instant, parse_instant};
use liaison_domain::{Issue, Issues, Patch, PathSeg, rules};
use serde_json::{Map, Value};

/// The JSON type name of a value, as validation messages spell it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON object being read, with where it sits in the document.
pub struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: Vec<PathSeg>,
}

/// Collects issues while fields are read.
#[derive(Default)]
pub struct Reader {
    pub issues: Issues,
}

impl Reader {
    pub fn finish<T>(self, value: T) -> Result<T, Issues> {
        self.issues.into_result(value)
    }

    /// The whole document (or a batch item) as an object.
    pub fn root<'a>(&mut self, v: &'a Value, path: Vec<PathSeg>) -> Option<Obj<'a>> {
        match v {
            Value::Object(map) => Some(Obj { map, path }),
            other => {
                self.issues
                    .push(Issue::wrong_type(path, "object", type_name(other)));
                None
            }
        }
    }

    fn at(obj: &Obj, key: &str) -> Vec<PathSeg> {
        let mut p = obj.path.clone();
        p.push(PathSeg::Key(key.to_owned()));
        p
    }

    /// A field of any type: absent, null, or present.
    fn raw<'a>(obj: &Obj<'a>, key: &str) -> Patch<&'a Value> {
        match obj.map.get(key) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(v) => Patch::Value(v),
        }
    }

    fn typed<'a, T>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        expected: &str,
        f: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Patch<T> {
        match Self::raw(obj, key) {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => match f(v) {
                Some(t) => Patch::Value(t),
                None => {
                    self.issues.push(Issue::wrong_type(
                        Self::at(obj, key),
                        expected,
                        type_name(v),
                    ));
                    Patch::Absent
                }
            },
        }
    }

    /// A text within `max` bytes and without NUL; one that is not is reported and dropped.
    fn bounded_text(&mut self, path: Vec<PathSeg>, s: &str, max: usize) -> Option<String> {
        match rules::text_issue(path, s, max) {
            Some(issue) => {
                self.issues.push(issue);
                None
            }
            None => Some(s.to_owned()),
        }
    }

    fn string_within(&mut self, obj: &Obj, key: &str, max: usize) -> Patch<String> {
        match self.typed(obj, key, "string", Value::as_str) {
            Patch::Value(s) => match self.bounded_text(Self::at(obj, key), s, max) {
                Some(s) => Patch::Value(s),
                None => Patch::Absent,
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    /// An internal id of `field`; text that cannot be one is reported as naming nothing.
    pub fn id<I>(
        &mut self,
        obj: &Obj,
        key: &str,
        field: Field,
        parse: fn(&str) -> Option<I>,
    ) -> Patch<I> {
        match self.string(obj, key) {
            Patch::Value(raw) => match parse(&raw) {
                Some(id) => Patch::Value(id),
                None => {
                    self.issues
                        .push(Issue::unknown(Self::at(obj, key), field, &raw));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    /// A short text (`rules::MAX_TEXT`).
    pub fn string(&mut self, obj: &Obj, key: &str) -> Patch<String> {
        self.string_within(obj, key, rules::MAX_TEXT)
    }

    /// A long text (`rules::MAX_LONG_TEXT`): an engagement's content.
    pub fn long_string(&mut self, obj: &Obj, key: &str) -> Patch<String> {
        self.string_within(obj, key, rules::MAX_LONG_TEXT)
    }

    /// An optional external id (`rules::MAX_EXTERNAL_ID`).
    pub fn external_id(&mut self, obj: &Obj, key: &str) -> Patch<String> {
        self.string_within(obj, key, rules::MAX_EXTERNAL_ID)
    }

    pub fn number(&mut self, obj: &Obj, key: &str) -> Patch<f64> {
        self.typed(obj, key, "number", Value::as_f64)
    }

    pub fn boolean(&mut self, obj: &Obj, key: &str) -> Patch<bool> {
        self.typed(obj, key, "boolean", Value::as_bool)
    }

    /// A required number.
    pub fn required_number(&mut self, obj: &Obj, key: &str) -> Option<f64> {
        match self.number(obj, key) {
            Patch::Value(n) => Some(n),
            Patch::Null => {
                self.issues
                    .push(Issue::wrong_type(Self::at(obj, key), "number", "null"));
                None
            }
            Patch::Absent => {
                // A value of the wrong type was reported by `number`.
                if !obj.map.contains_key(key) {
                    self.issues
                        .push(Issue::required(Self::at(obj, key), "number"));
                }
                None
            }
        }
    }

    /// A required, non-empty short text.
    pub fn required_string(&mut self, obj: &Obj, key: &str) -> Option<String> {
        self.required_within(obj, key, rules::MAX_TEXT)
    }

    /// A required, non-empty external id.
    pub fn required_external_id(&mut self, obj: &Obj, key: &str) -> Option<String> {
        self.required_within(obj, key, rules::MAX_EXTERNAL_ID)
    }

    fn required_within(&mut self, obj: &Obj, key: &str, max: usize) -> Option<String> {
        match Self::raw(obj, key) {
            Patch::Absent => {
                self.issues
                    .push(Issue::required(Self::at(obj, key), "string"));
                None
            }
            Patch::Null => {
                self.issues
                    .push(Issue::wrong_type(Self::at(obj, key), "string", "null"));
                None
            }
            Patch::Value(Value::String(s)) if s.trim().is_empty() => {
                self.issues.push(Issue::empty_string(Self::at(obj, key)));
                None
            }
            Patch::Value(Value::String(s)) => self.bounded_text(Self::at(obj, key), s, max),
            Patch::Value(v) => {
                self.issues.push(Issue::wrong_type(
                    Self::at(obj, key),
                    "string",
                    type_name(v),
                ));
                None
            }
        }
    }

    /// A required string that may be empty (parts of an address).
    pub fn required_string_allow_empty(&mut self, obj: &Obj, key: &str) -> Option<String> {
        match Self::raw(obj, key) {
            Patch::Value(Value::String(s)) => {
                self.bounded_text(Self::at(obj, key), s, rules::MAX_TEXT)
            }
            Patch::Absent => {
                self.issues
                    .push(Issue::required(Self::at(obj, key), "string"));
                None
            }
            Patch::Null => {
                self.issues
                    .push(Issue::wrong_type(Self::at(obj, key), "string", "null"));
                None
            }
            Patch::Value(v) => {
                self.issues.push(Issue::wrong_type(
                    Self::at(obj, key),
                    "string",
                    type_name(v),
                ));
                None
            }
        }
    }

    pub fn instant(&mut self, obj: &Obj, key: &str) -> Patch<Instant> {
        match self.string(obj, key) {
            Patch::Value(s) => match parse_instant(&s) {
                Some(t) => Patch::Value(t),
                None => {
                    self.issues.push(Issue::bad_date(Self::at(obj, key), &s));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    pub fn required_instant(&mut self, obj: &Obj, key: &str) -> Option<Instant> {
        match self.instant(obj, key) {
            Patch::Value(t) => Some(t),
            Patch::Absent if obj.map.get(key).is_some() => None,
            _ => {
                self.issues
                    .push(Issue::required(Self::at(obj, key), "string"));
                None
            }
        }
    }

    pub fn enumeration<E>(
        &mut self,
        obj: &Obj,
        key: &str,
        options: &[&str],
        parse: impl Fn(&str) -> Option<E>,
    ) -> Patch<E> {
        match self.string(obj, key) {
            Patch::Value(s) => match parse(&s) {
                Some(e) => Patch::Value(e),
                None => {
                    self.issues
                        .push(Issue::bad_enum(Self::at(obj, key), options, &s));
                    Patch::Absent
                }
            },
            Patch::Null => Patch::Null,
            Patch::Absent => Patch::Absent,
        }
    }

    /// A list of short texts.
    pub fn string_list(&mut self, obj: &Obj, key: &str) -> Patch<Vec<String>> {
        self.list_within(obj, key, rules::MAX_TEXT)
    }

    /// A list of external ids.
    pub fn external_id_list(&mut self, obj: &Obj, key: &str) -> Patch<Vec<String>> {
        self.list_within(obj, key, rules::MAX_EXTERNAL_ID)
    }

    fn list_within(&mut self, obj: &Obj, key: &str, max: usize) -> Patch<Vec<String>> {
        let items = self.array(obj, key);
        items.map(|items| {
            items
                .into_iter()
                .filter_map(|(path, v)| match v {
                    Value::String(s) => self.bounded_text(path, s, max),
                    other => {
                        self.issues
                            .push(Issue::wrong_type(path, "string", type_name(other)));
                        None
                    }
                })
                .collect()
        })
    }

    /// An array field, with each element's path.
    pub fn array<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Patch<Vec<(Vec<PathSeg>, &'a Value)>> {
        let path = Self::at(obj, key);
        self.typed(obj, key, "array", |v| {
            v.as_array().map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut p = path.clone();
                        p.push(PathSeg::Index(i));
                        (p, item)
                    })
                    .collect()
            })
        })
    }

    /// An object field.
    pub fn object<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Patch<Obj<'a>> {
        let path = Self::at(obj, key);
        self.typed(obj, key, "object", |v| {
            v.as_object().map(|map| Obj { map, path })
        })
    }

    /// An element of an array that must be an object.
    pub fn element<'a>(&mut self, path: Vec<PathSeg>, v: &'a Value) -> Option<Obj<'a>> {
        self.root(v, path)
    }

    /// A number that must satisfy `check`; `bounds` says which range it is, for the message.
    pub fn bounded(
        &mut self,
        obj: &Obj,
        key: &str,
        min: Option<f64>,
        max: Option<f64>,
        what: &str,
    ) -> Patch<f64> {
        match self.number(obj, key) {
            Patch::Value(n) => {
                if let Some(m) = min.filter(|m| n < *m) {
                    self.issues
                        .push(Issue::too_small(Self::at(obj, key), m, what));
                    return Patch::Absent;
                }
                if let Some(m) = max.filter(|m| n > *m) {
                    self.issues
                        .push(Issue::too_big(Self::at(obj, key), m, what));
                    return Patch::Absent;
                }
                Patch::Value(n)
            }
            other => other,
        }
    }
}

/// The keys a body may carry; any other is refused, as a contract's
/// `additionalProperties: false` has it.
pub fn only_known(r: &mut Reader, o: &Obj, known: &[&str]) {
    for key in o.map.keys() {
        if !known.contains(&key.as_str()) {
            let mut path = o.path.clone();
            path.push(PathSeg::Key(key.clone()));
            r.issues
                .push(Issue::custom(path, format!("Unrecognized key: `{key}`")));
        }
    }
}
