//! Checks responses against the published Siro OpenAPI document in `../shared/reference`:
//! types, nullability, required fields, enums, items and `anyOf`, recursively.

use serde_json::Value;
use std::sync::OnceLock;

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/siro/external-api.openapi.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).expect("the OpenAPI document parses")
    })
}

/// The response schema of `method path` for `status` (paths as the document spells them).
pub fn response_schema(path: &str, method: &str, status: u16) -> &'static Value {
    let op = &spec()["paths"][path][method];
    assert!(
        op.is_object(),
        "no operation {method} {path} in the contract"
    );
    let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no {status} schema for {method} {path}");
    schema
}

/// Asserts that `value` conforms to the response schema of `method path` for `status`.
pub fn assert_conforms(path: &str, method: &str, status: u16, value: &Value) {
    let mut errors = Vec::new();
    check(
        response_schema(path, method, status),
        value,
        "$",
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "{method} {path} {status} breaks the published schema:\n  {}\nin {value:#}",
        errors.join("\n  ")
    );
}

fn check(schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if v.is_null() {
        let nullable = schema["nullable"].as_bool().unwrap_or(false)
            || schema
                .get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|alts| alts.iter().any(|a| a["nullable"].as_bool() == Some(true)));
        // A schema with no type at all (`{nullable: true}`) admits null too.
        if !nullable && schema.get("type").is_some() {
            errors.push(format!("{at}: null where the contract does not allow it"));
        }
        return;
    }
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        let ok = alts.iter().any(|alt| {
            let mut e = Vec::new();
            check(alt, v, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches none of anyOf"));
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let type_ok = match ty {
        None => true,
        Some("string") => v.is_string(),
        Some("number") => v.is_number(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("boolean") => v.is_boolean(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        Some(_) => true,
    };
    if !type_ok {
        errors.push(format!("{at}: expected {}, got {v}", ty.unwrap_or("?")));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {options:?}"));
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), errors);
        }
    }
    if let Some(obj) = v.as_object() {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{at}.{r}: required but missing"));
                }
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(val) = obj.get(k) {
                    check(sub, val, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
}
