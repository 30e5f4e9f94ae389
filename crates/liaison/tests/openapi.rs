//! The OpenAPI document: served as built, unchanged unless its snapshot is updated with it,
//! sound as OpenAPI 3.1, true to the routes, and browsable at `/docs` with nothing fetched
//! from elsewhere.

mod common;

use liaison_store_sqlite::SqliteStore;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

fn document() -> Value {
    serde_json::to_value(liaison_api::openapi::<SqliteStore>()).expect("the document serializes")
}

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every `(method, path)` the document describes.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((m.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

/// The document changes only together with its snapshot: a change to a route, a parameter or
/// a shape shows in review. `LIAISON_UPDATE_SNAPSHOTS=1` rewrites it.
#[test]
fn the_document_matches_its_snapshot() {
    let text = serde_json::to_string_pretty(&document()).expect("pretty") + "\n";
    let path = snapshot_path();
    if std::env::var_os("LIAISON_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &text).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "the OpenAPI document differs from {}; if the change is meant, rerun with \
         LIAISON_UPDATE_SNAPSHOTS=1 and commit the new snapshot",
        path.display()
    );
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// What OpenAPI 3.1 requires of a document beyond its JSON Schema: every reference resolves,
/// operation ids are unique, every templated path parameter is declared as a required path
/// parameter (and no other), parameters are unique per location, and every operation answers
/// something.
#[test]
fn the_document_is_sound_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        assert!(resolve(&doc, r).is_some(), "dangling reference {r}");
    }

    let schemes: HashSet<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes")
        .keys()
        .collect();
    let mut ids = HashSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("an operation id");
        assert!(ids.insert(id.to_owned()), "operation id {id} is used twice");
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut seen = HashSet::new();
        let mut in_path = BTreeSet::new();
        for p in &params {
            let (name, at) = (
                p["name"].as_str().expect("name"),
                p["in"].as_str().expect("in"),
            );
            assert!(
                ["query", "header", "path", "cookie"].contains(&at),
                "{method} {path}: `{name}` is in `{at}`"
            );
            assert!(seen.insert((name, at)), "{method} {path}: `{name}` twice");
            assert!(
                p["schema"].is_object(),
                "{method} {path}: `{name}` has no schema"
            );
            if at == "path" {
                assert_eq!(
                    p["required"], true,
                    "{method} {path}: `{name}` not required"
                );
                in_path.insert(name.to_owned());
            }
        }
        assert_eq!(templated, in_path, "{method} {path}: path parameters");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path}: no success"
        );
        for (status, r) in responses {
            assert!(
                status.len() == 3 && status.parse::<u16>().is_ok(),
                "{method} {path}: status {status}"
            );
            assert!(r["description"].is_string(), "{method} {path} {status}");
            assert!(
                !r["description"].as_str().unwrap_or("").is_empty(),
                "{method} {path} {status}: empty description"
            );
        }
        if let Some(body) = op.get("requestBody") {
            assert!(
                body["content"]["application/json"]["schema"].is_object(),
                "{method} {path}: a body without a JSON schema"
            );
        }
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().expect("requirement").keys() {
                assert!(schemes.contains(name), "{method} {path}: scheme {name}");
            }
        }
    }
    for requirement in doc["security"].as_array().expect("global security") {
        for name in requirement.as_object().expect("requirement").keys() {
            assert!(schemes.contains(name), "unknown security scheme {name}");
        }
    }
}

/// Liaison's own operations under `/v1`, which no published contract has: the recordings
/// issue asks for them.
const OWN: [(&str, &str); 5] = [
    ("get", "/v1/core/recordings/{id}/match"),
    ("post", "/v1/core/mobile-events"),
    ("post", "/v1/core/matching/rematch"),
    ("get", "/v1/core/matching/settings"),
    ("put", "/v1/core/matching/settings"),
];

/// Every operation under `/v1` is one of Siro's published contracts (the org-token API or the
/// gateway's), at the same path with the same method, or one of Liaison's own named above:
/// the face invents nothing else.
#[test]
fn every_integrations_operation_is_in_the_published_contract() {
    let contract = |file: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../../shared/reference/siro")
                    .join(file),
            )
            .expect("the published contract"),
        )
        .expect("it parses")
    };
    let published = [
        contract("external-api.openapi.json"),
        contract("gateway-api-subset.openapi.json"),
    ];
    let mut count = 0;
    let mut own = 0;
    for (method, path, _) in operations(&document()) {
        if !path.starts_with("/v1/") {
            continue;
        }
        if OWN.contains(&(method.as_str(), path.as_str())) {
            own += 1;
            continue;
        }
        count += 1;
        assert!(
            published
                .iter()
                .any(|p| p["paths"][&path][&method].is_object()),
            "{method} {path} is not in Siro's published contracts"
        );
    }
    assert_eq!(
        count, 52,
        "the integrations face answers 52 published operations"
    );
    assert_eq!(own, OWN.len(), "every one of Liaison's own is documented");
}

/// The document a server serves is the one the code builds, and each operation it describes
/// reaches a handler, under both the face's base paths: the face's own "route not found" or
/// 405 would mean a documented route is not served.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let server = common::sqlite().await;
    let served = server.get("/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, document());
    for (method, path, _) in operations(&document()) {
        let concrete = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
        let under_both_bases = match concrete.strip_prefix("/v1") {
            Some(rest) => vec![
                format!("/v1{rest}"),
                format!("{}{rest}", liaison_api::INTEGRATIONS_PUBLISHED_BASE),
            ],
            None => vec![concrete.clone()],
        };
        for full in under_both_bases {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = (m != Method::GET && m != Method::DELETE).then(|| serde_json::json!({}));
            let reply = server.call(m, &full, Some(&server.token), body).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {full}"
            );
            assert_ne!(
                reply.body,
                serde_json::json!({"error": "Route not found"}),
                "{method} {full} is documented but not routed"
            );
            assert!(
                !reply.status.is_server_error(),
                "{method} {full}: {reply:?}"
            );
        }
    }
    server.stop().await;
}

/// `/docs` is a working Swagger UI page whose every asset is served by Liaison itself.
#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_from_the_binary() {
    let server = common::sqlite().await;
    let page = server
        .client
        .get(format!("{}/docs/", server.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let target = piece.split('"').next().unwrap_or_default();
            assert!(
                !target.contains("://") && !target.starts_with("//"),
                "the docs page loads {target} from elsewhere"
            );
            assets.push(target.trim_start_matches("./").to_owned());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    for asset in &assets {
        let r = server
            .client
            .get(format!("{}/docs/{asset}", server.base))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), StatusCode::OK, "/docs/{asset}");
        let bytes = r.bytes().await.expect("bytes");
        assert!(!bytes.is_empty(), "/docs/{asset} is empty");
    }
    let init = server
        .client
        .get(format!("{}/docs/swagger-initializer.js", server.base))
        .send()
        .await
        .expect("initializer")
        .text()
        .await
        .expect("text");
    assert!(
        init.contains("\"/openapi.json\""),
        "the page reads Liaison's document"
    );
    server.stop().await;
}
