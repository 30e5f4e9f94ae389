//! Validation issues: what is wrong with an input, and where. Every face renders them in its
//! own envelope (the integrations face as Zod issues), so the vocabulary follows Zod's codes.

use crate::field::{AppField, Field, MobileEventField, RecordingField};
use serde::Serialize;
use std::fmt;

/// One step of a path into a JSON document: a key as the face spelled it, an index, or a
/// domain field that the face rendering the issue spells (see `Issues::spelled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSeg {
    Key(String),
    Index(usize),
    #[serde(serialize_with = "field_name")]
    Field(Field),
    #[serde(serialize_with = "recording_field_name")]
    Recording(RecordingField),
    #[serde(serialize_with = "app_field_name")]
    App(AppField),
    #[serde(serialize_with = "mobile_event_field_name")]
    MobileEvent(MobileEventField),
}

fn mobile_event_field_name<S: serde::Serializer>(
    f: &MobileEventField,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

impl From<MobileEventField> for PathSeg {
    fn from(f: MobileEventField) -> Self {
        PathSeg::MobileEvent(f)
    }
}

fn app_field_name<S: serde::Serializer>(f: &AppField, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

impl From<AppField> for PathSeg {
    fn from(f: AppField) -> Self {
        PathSeg::App(f)
    }
}

fn recording_field_name<S: serde::Serializer>(f: &RecordingField, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

impl From<RecordingField> for PathSeg {
    fn from(f: RecordingField) -> Self {
        PathSeg::Recording(f)
    }
}

fn field_name<S: serde::Serializer>(f: &Field, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

impl From<Field> for PathSeg {
    fn from(f: Field) -> Self {
        PathSeg::Field(f)
    }
}

impl From<&str> for PathSeg {
    fn from(s: &str) -> Self {
        PathSeg::Key(s.to_owned())
    }
}

impl From<usize> for PathSeg {
    fn from(i: usize) -> Self {
        PathSeg::Index(i)
    }
}

/// The code of an issue, as Zod names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    InvalidType,
    InvalidEnumValue,
    InvalidString,
    InvalidDate,
    TooSmall,
    TooBig,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub code: IssueCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    pub path: Vec<PathSeg>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
}

impl Issue {
    fn new(code: IssueCode, path: Vec<PathSeg>, message: impl Into<String>) -> Self {
        Issue {
            code,
            expected: None,
            received: None,
            path,
            message: message.into(),
            options: None,
            minimum: None,
            maximum: None,
        }
    }

    /// A required field is missing.
    pub fn required(path: Vec<PathSeg>, expected: &str) -> Self {
        Issue {
            expected: Some(expected.into()),
            received: Some("undefined".into()),
            ..Issue::new(IssueCode::InvalidType, path, "Required")
        }
    }

    pub fn wrong_type(path: Vec<PathSeg>, expected: &str, received: &str) -> Self {
        Issue {
            expected: Some(expected.into()),
            received: Some(received.into()),
            ..Issue::new(
                IssueCode::InvalidType,
                path,
                format!("Expected {expected}, received {received}"),
            )
        }
    }

    pub fn bad_enum(path: Vec<PathSeg>, options: &[&str], received: &str) -> Self {
        let listed = options
            .iter()
            .map(|o| format!("'{o}'"))
            .collect::<Vec<_>>()
            .join(" | ");
        Issue {
            received: Some(received.into()),
            options: Some(options.iter().map(|o| o.to_string()).collect()),
            ..Issue::new(
                IssueCode::InvalidEnumValue,
                path,
                format!("Invalid enum value. Expected {listed}, received '{received}'"),
            )
        }
    }

    pub fn bad_date(path: Vec<PathSeg>, received: &str) -> Self {
        Issue {
            received: Some(received.into()),
            ..Issue::new(
                IssueCode::InvalidDate,
                path,
                "Invalid date: expected RFC 3339 (2024-02-28T20:09:58.692Z) or 2024-02-28 20:09:58.692",
            )
        }
    }

    pub fn too_small(path: Vec<PathSeg>, minimum: f64, what: &str) -> Self {
        Issue {
            minimum: Some(minimum),
            ..Issue::new(
                IssueCode::TooSmall,
                path,
                format!("{what} must be greater than or equal to {minimum}"),
            )
        }
    }

    pub fn too_big(path: Vec<PathSeg>, maximum: f64, what: &str) -> Self {
        Issue {
            maximum: Some(maximum),
            ..Issue::new(
                IssueCode::TooBig,
                path,
                format!("{what} must be less than or equal to {maximum}"),
            )
        }
    }

    /// A text over its bound, in bytes.
    pub fn too_long(path: Vec<PathSeg>, max: usize) -> Self {
        Issue {
            maximum: Some(max as f64),
            ..Issue::new(
                IssueCode::TooBig,
                path,
                format!("String must contain at most {max} byte(s)"),
            )
        }
    }

    pub fn empty_string(path: Vec<PathSeg>) -> Self {
        Issue {
            minimum: Some(1.0),
            ..Issue::new(
                IssueCode::TooSmall,
                path,
                "String must contain at least 1 character(s)",
            )
        }
    }

    /// An id that names nothing the caller can see, in the field `field` (spelled by the face
    /// that renders it).
    pub fn unknown(path: Vec<PathSeg>, field: Field, raw: &str) -> Self {
        Issue::custom(path, format!("Unknown {}: {raw}", field.placeholder()))
    }

    pub fn custom(path: Vec<PathSeg>, message: impl Into<String>) -> Self {
        Issue::new(IssueCode::Custom, path, message)
    }

    /// The path as `a.b[0].c`, for messages.
    pub fn dotted_path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            let name = match seg {
                PathSeg::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                    continue;
                }
                PathSeg::Key(k) => k.as_str(),
                PathSeg::Field(f) => f.name(),
                PathSeg::Recording(f) => f.name(),
                PathSeg::App(f) => f.name(),
                PathSeg::MobileEvent(f) => f.name(),
            };
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(name);
        }
        out
    }
}

/// A non-empty list of issues; the error of every parse in Liaison.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Issues(pub Vec<Issue>);

impl Issues {
    pub fn push(&mut self, issue: Issue) {
        self.0.push(issue);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was reported.
    pub fn into_result<T>(self, value: T) -> Result<T, Issues> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The issues with every domain field spelled as a face spells it: in paths, and where a
    /// message names one in braces (`{end_time}`).
    pub fn spelled(mut self, spell: &impl Spelling) -> Self {
        for issue in &mut self.0 {
            for seg in &mut issue.path {
                match seg {
                    PathSeg::Field(f) => *seg = PathSeg::Key(spell.field(*f).to_owned()),
                    PathSeg::Recording(f) => *seg = PathSeg::Key(spell.recording(*f).to_owned()),
                    PathSeg::App(f) => *seg = PathSeg::Key(spell.app(*f).to_owned()),
                    PathSeg::MobileEvent(f) => {
                        *seg = PathSeg::Key(spell.mobile_event(*f).to_owned())
                    }
                    PathSeg::Key(_) | PathSeg::Index(_) => {}
                }
            }
            if issue.message.contains('{') {
                issue.message = spell_message(&issue.message, |f| spell.field(f));
            }
        }
        self
    }

    /// Prefixes every path with `prefix` (used when an item of a batch is checked alone).
    pub fn prefixed(mut self, prefix: &[PathSeg]) -> Self {
        for issue in &mut self.0 {
            let mut path = prefix.to_vec();
            path.append(&mut issue.path);
            issue.path = path;
        }
        self
    }
}

impl From<Issue> for Issues {
    fn from(issue: Issue) -> Self {
        Issues(vec![issue])
    }
}

impl fmt::Display for Issues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|i| format!("{}: {}", i.dotted_path(), i.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// How a face spells the domain's fields.
pub trait Spelling {
    fn field(&self, f: Field) -> &'static str;
    fn recording(&self, f: RecordingField) -> &'static str;
    fn app(&self, f: AppField) -> &'static str;
    fn mobile_event(&self, f: MobileEventField) -> &'static str;
}

/// `message` with each `{field}` it names spelled.
pub fn spell_message(message: &str, spell: impl Fn(Field) -> &'static str) -> String {
    let mut out = message.to_owned();
    for f in Field::ALL {
        let placeholder = f.placeholder();
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, spell(f));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules name fields by the domain's type; the face rendering the issue spells them, in
    /// the path and in the message.
    #[test]
    fn fields_are_spelled_by_the_face() {
        let issues = Issues::from(Issue::custom(
            vec![PathSeg::Index(3), Field::EndTime.into()],
            format!(
                "{} must not be before {}",
                Field::EndTime.placeholder(),
                Field::StartTime.placeholder()
            ),
        ));
        struct Camel;
        impl Spelling for Camel {
            fn field(&self, f: Field) -> &'static str {
                match f {
                    Field::EndTime => "endTime",
                    Field::StartTime => "startTime",
                    _ => "other",
                }
            }
            fn recording(&self, f: RecordingField) -> &'static str {
                match f {
                    RecordingField::DeepLink => "deepLink",
                    _ => "other",
                }
            }
            fn app(&self, f: AppField) -> &'static str {
                match f {
                    AppField::ClientSecret => "clientSecret",
                    _ => "other",
                }
            }
            fn mobile_event(&self, _: MobileEventField) -> &'static str {
                "other"
            }
        }
        struct Snake;
        impl Spelling for Snake {
            fn field(&self, f: Field) -> &'static str {
                match f {
                    Field::EndTime => "end_at",
                    Field::StartTime => "start_at",
                    _ => "other",
                }
            }
            fn recording(&self, _: RecordingField) -> &'static str {
                "other"
            }
            fn app(&self, f: AppField) -> &'static str {
                match f {
                    AppField::ClientSecret => "client_secret",
                    _ => "other",
                }
            }
            fn mobile_event(&self, _: MobileEventField) -> &'static str {
                "other"
            }
        }
        let siro = issues.clone().spelled(&Camel);
        assert_eq!(
            siro.0[0].path,
            vec![PathSeg::Index(3), PathSeg::Key("endTime".into())]
        );
        assert_eq!(siro.0[0].message, "endTime must not be before startTime");
        let v2 = issues.spelled(&Snake);
        assert_eq!(v2.0[0].path[1], PathSeg::Key("end_at".into()));
        assert_eq!(v2.0[0].message, "end_at must not be before start_at");
        let deep = Issues::from(Issue::custom(vec![RecordingField::DeepLink.into()], "bad"));
        assert_eq!(
            deep.spelled(&Camel).0[0].path,
            vec![PathSeg::Key("deepLink".into())]
        );
        let secret = Issues::from(Issue::custom(vec![AppField::ClientSecret.into()], "bad"));
        assert_eq!(
            secret.clone().spelled(&Camel).0[0].path,
            vec![PathSeg::Key("clientSecret".into())]
        );
        assert_eq!(
            secret.spelled(&Snake).0[0].path,
            vec![PathSeg::Key("client_secret".into())]
        );
    }
}
