//! What operators rely on, through HTTP, on both backends: rate limits per token, the
//! Prometheus metrics, the readiness probe and request ids.

mod common;

use common::{Reply, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const LIST: &str = "/v1/integrations/engagements";
const BATCH: &str = "/v1/integrations/sync/batch/engagements";

fn header(r: &Reply, name: &str) -> Option<u64> {
    r.headers
        .get(name)
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

/// (limit, remaining, reset) as the `RateLimit-*` headers give them.
fn window(r: &Reply) -> (u64, u64, u64) {
    let get = |n| header(r, n).unwrap_or_else(|| panic!("no {n} on {r:?}"));
    (
        get("ratelimit-limit"),
        get("ratelimit-remaining"),
        get("ratelimit-reset"),
    )
}

async fn list(s: &TestServer, token: &str) -> Reply {
    s.call(Method::GET, LIST, Some(token), None).await
}

async fn a_token_gets_its_limit_then_429_in_the_envelope(s: &TestServer) {
    let token = s.limited_token("acme", "crm", "all", Some(3)).await;
    for remaining in [2, 1, 0] {
        let r = list(s, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let (limit, left, reset) = window(&r);
        assert_eq!((limit, left), (3, remaining));
        // A third of a minute for each request spent.
        assert_eq!(reset, 20 * (3 - remaining));
    }
    let r = list(s, &token).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(window(&r), (3, 0, 60));
    let wait = header(&r, "retry-after").expect("Retry-After");
    assert!((19..=20).contains(&wait), "Retry-After {wait}");
    let msg = r.body["error"]
        .as_str()
        .expect("the face's {error} envelope");
    assert!(msg.contains("3 requests per minute"), "{msg}");
    // Every request counts, writes and refusals alike, whatever the route.
    let r = s
        .call(
            Method::GET,
            "/v1/core/auth/caller-identity",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // Another token of the same organization is counted on its own, at the default.
    let r = s.get(LIST).await;
    assert_eq!(r.status, StatusCode::OK);
    let (limit, left, _) = window(&r);
    assert_eq!(limit, 1000);
    assert!(left < 1000);
}

async fn a_batch_counts_as_one_request(s: &TestServer) {
    let token = s.limited_token("acme", "crm", "all", Some(2)).await;
    let items: Vec<_> = (0..50)
        .map(|i| {
            json!({"externalId": format!("rl-{i}"), "subject": "Call",
                "startTime": "2026-03-01T10:00:00Z", "endTime": "2026-03-01T10:30:00Z"})
        })
        .collect();
    let r = s
        .call(Method::PUT, BATCH, Some(&token), Some(json!(items)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(window(&r).1, 1, "fifty records, one request");
}

async fn a_spent_limit_comes_back_with_time(s: &TestServer) {
    // Sixty a minute: one more each second.
    let token = s.limited_token("acme", "crm", "read", Some(60)).await;
    let mut served = 0;
    let refused = loop {
        let r = list(s, &token).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            break r;
        }
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        served += 1;
        assert!(served <= 90, "the limit never bit");
    };
    assert!(
        served >= 60,
        "only {served} requests before the first refusal"
    );
    let wait = header(&refused, "retry-after").unwrap();
    assert_eq!(wait, 1);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let r = list(s, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn unauthenticated_answers_carry_no_rate(s: &TestServer) {
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get("ratelimit-limit").is_none());
    let r = s.call(Method::GET, LIST, Some("lia_nope"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get("ratelimit-limit").is_none());
}

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

async fn scrape(s: &TestServer) -> Exposition {
    let resp = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = resp.text().await.unwrap();
    openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("not the Prometheus text format ({e:?}):\n{text}"))
}

/// The first sample of `name` whose labels include `labels`.
fn sample<'a>(
    m: &'a Exposition,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a openmetrics_parser::PrometheusValue> {
    let family = m.families.get(name)?;
    family
        .iter_samples()
        .find(|s| {
            let set = s.get_labelset().expect("labels");
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| &s.value)
}

fn number(v: &openmetrics_parser::PrometheusValue) -> f64 {
    use openmetrics_parser::PrometheusValue as V;
    match v {
        V::Counter(c) => c.value.as_f64(),
        V::Gauge(n) | V::Unknown(n) => n.as_f64(),
        other => panic!("not a single number: {other:?}"),
    }
}

fn value(m: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    sample(m, name, labels).map(number)
}

async fn metrics_count_requests_by_route_and_show_the_store(s: &TestServer) {
    s.sync(json!({"externalId": "m-1", "subject": "Visit",
        "startTime": "2026-03-01T10:00:00Z", "endTime": "2026-03-01T11:00:00Z"}))
        .await;
    let id = s.get(LIST).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        assert_eq!(s.get(&format!("{LIST}/{id}")).await.status, StatusCode::OK);
    }
    assert_eq!(s.get("/v1/nowhere").await.status, StatusCode::NOT_FOUND);
    let m = scrape(s).await;
    let route = ("route", "/v1/integrations/engagements/{id}");
    let by_id = [
        ("face", "integrations"),
        route,
        ("method", "GET"),
        ("status", "200"),
    ];
    // Other tests in this process count too: at least ours are there.
    let got = value(&m, "liaison_http_requests_total", &by_id).expect("the route's counter");
    assert!(got >= 3.0, "{got}");
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(value(&m, "liaison_http_requests_total", &unmatched).unwrap() >= 1.0);
    match sample(&m, "liaison_http_request_duration_seconds", &[route]) {
        Some(openmetrics_parser::PrometheusValue::Histogram(h)) => {
            assert!(h.buckets.len() >= 10, "{h:?}");
            let counts: Vec<f64> = h.buckets.iter().map(|b| b.count.as_f64()).collect();
            assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
            assert!(h.count.unwrap_or(0) >= 3, "{h:?}");
        }
        other => panic!("no latency histogram for the route: {other:?}"),
    }
    let max = value(&m, "liaison_db_connections", &[("state", "max")]).unwrap();
    let open = value(&m, "liaison_db_connections", &[("state", "open")]).unwrap();
    let in_use = value(&m, "liaison_db_connections", &[("state", "in_use")]).unwrap();
    assert!(
        max >= 1.0 && open <= max && in_use <= open,
        "{max} {open} {in_use}"
    );
    assert!(value(&m, "liaison_outbox_events", &[]).unwrap() >= 1.0);
    assert!(value(&m, "liaison_outbox_last_seq", &[]).unwrap() >= 1.0);
    assert_eq!(value(&m, "liaison_store_up", &[]), Some(1.0));
}

async fn readiness_follows_the_database(s: &TestServer) {
    let r = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, json!({"status": "ready"}));
    s.break_database().await;
    let started = std::time::Instant::now();
    let r = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
    assert_eq!(r.body["status"], "unavailable");
    assert!(r.body["reason"].is_string());
    assert!(started.elapsed() < Duration::from_secs(10));
    // Liveness is not readiness: the process still runs.
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn request_ids_are_kept_when_sane(s: &TestServer) {
    let send = |id: &'static str| {
        s.client
            .get(format!("{}/healthz", s.base))
            .header("x-request-id", id)
            .send()
    };
    let r = send("trace-0190a6f2.42").await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-0190a6f2.42");
    let r = send("not sane; at all").await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(made).is_ok(), "{made}");
}

on_both!(
    a_token_gets_its_limit_then_429_in_the_envelope,
    a_batch_counts_as_one_request,
    a_spent_limit_comes_back_with_time,
    unauthenticated_answers_carry_no_rate,
    metrics_count_requests_by_route_and_show_the_store,
    readiness_follows_the_database,
    request_ids_are_kept_when_sane,
);
