//! A small builder for statements whose shape depends on the query: text with numbered
//! placeholders (`?1`, `?2`, …) and the values bound to them, in order.

use rusqlite::types::Value;

pub struct Sql {
    pub text: String,
    pub params: Vec<Value>,
}

/// A value a statement can bind.
pub trait Bind {
    fn value(self) -> Value;
}

impl Bind for uuid::Uuid {
    fn value(self) -> Value {
        Value::Blob(self.as_bytes().to_vec())
    }
}

impl Bind for i64 {
    fn value(self) -> Value {
        Value::Integer(self)
    }
}

impl Bind for bool {
    fn value(self) -> Value {
        Value::Integer(i64::from(self))
    }
}

impl Bind for &str {
    fn value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Sql {
    pub fn new(text: String) -> Self {
        Sql {
            text,
            params: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub fn bind(&mut self, v: impl Bind) -> &mut Self {
        self.params.push(v.value());
        self.text.push('?');
        self.text.push_str(&self.params.len().to_string());
        self
    }

    /// Appends `?a, ?b, …` bound to each value.
    pub fn bind_list<B: Bind>(&mut self, values: impl IntoIterator<Item = B>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self
    }
}
