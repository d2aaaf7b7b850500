//! The router as Lambda sees it: API Gateway HTTP API (payload v2, base64 body) and REST
//! API (v1, mixed-case headers) events, deserialized by `lambda_http` itself, without a
//! Lambda runtime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::lambda::lambda_router;
use zoomwatch_ingest::router;
use zoomwatch_ingest::send::unix_now;
use zoomwatch_log::sink::{Durability, FileSink};
use zoomwatch_shared::SecretSet;
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::signature::{Secret, sign};

const SECRET: &str = "lambda-events-secret";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../testdata/zoom/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn v2_event(body: &[u8], ts: &str, sig: &str) -> String {
    json!({
        "version": "2.0", "routeKey": "POST /zoom/webhook", "rawPath": "/zoom/webhook", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-zm-request-timestamp": ts, "x-zm-signature": sig, "user-agent": "Zoom Marketplace/1.0a"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "http": {"method": "POST", "path": "/zoom/webhook", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "Zoom Marketplace/1.0a"},
            "requestId": "Jx1abcDEFghIJ=", "routeKey": "POST /zoom/webhook", "stage": "$default", "time": "28/Nov/2026:07:00:00 +0000", "timeEpoch": 1_795_849_200_000_i64},
        "body": base64::engine::general_purpose::STANDARD.encode(body), "isBase64Encoded": true
    })
    .to_string()
}

fn v1_event(body: &[u8], ts: &str, sig: &str) -> String {
    json!({
        "resource": "/zoom/webhook", "path": "/zoom/webhook", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Zm-Request-Timestamp": ts, "X-ZM-Signature": sig, "User-Agent": "Zoom Marketplace/1.0a"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "X-Zm-Request-Timestamp": [ts], "X-ZM-Signature": [sig], "User-Agent": ["Zoom Marketplace/1.0a"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": {"resourcePath": "/zoom/webhook", "httpMethod": "POST", "path": "/prod/zoom/webhook", "accountId": "123456789012",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "prod", "identity": {"sourceIp": "198.51.100.8", "userAgent": "Zoom Marketplace/1.0a"}, "apiId": "xyz"},
        "body": String::from_utf8(body.to_vec()).unwrap(), "isBase64Encoded": false
    })
    .to_string()
}

async fn invoke(event: &str, file: &std::path::Path) -> (u16, Value) {
    let sink = FileSink::open(file, Durability::Fsync).unwrap();
    let app = lambda_router(router(ReceiverConfig::new(SecretSet::parse(SECRET).unwrap()), sink));
    let req = lambda_http::request::from_str(event).expect("lambda_http parses the event");
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn stored(file: &std::path::Path) -> Vec<RecordV1> {
    std::fs::read_to_string(file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn http_api_v2_base64_body_is_verified_on_the_decoded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.jsonl");
    // The non-ASCII body whose bytes change if anything re-encodes it.
    let body = fixture("meeting.started__unicode_escapes_signed.json");
    let ts = unix_now().to_string();
    let sig = sign(&Secret::new(SECRET), &ts, &body);
    let (status, resp) = invoke(&v2_event(&body, &ts, &sig), &file).await;
    assert_eq!(status, 200, "{resp}");
    let r = &stored(&file)[0];
    let req = r.request.as_ref().unwrap();
    assert_eq!(req.source_ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(req.request_id.as_deref(), Some("Jx1abcDEFghIJ="));
    assert_eq!(req.user_agent.as_deref(), Some("Zoom Marketplace/1.0a"));
}

#[tokio::test]
async fn rest_api_v1_with_mixed_case_headers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.jsonl");
    let body = fixture("meeting.participant_joined.json");
    let ts = unix_now().to_string();
    let sig = sign(&Secret::new(SECRET), &ts, &body);
    let (status, _) = invoke(&v1_event(&body, &ts, &sig), &file).await;
    assert_eq!(status, 200);
    let r = &stored(&file)[0];
    assert_eq!(r.request.as_ref().unwrap().source_ip.as_deref(), Some("198.51.100.8"));

    let (status, resp) = invoke(&v1_event(&body, &ts, "v0=0000000000000000000000000000000000000000000000000000000000000000"), &file).await;
    assert_eq!(status, 401);
    assert_eq!(resp["error"], "signature mismatch");
}

/// The template's REST API front (`WebhookFront: rest-api-waf`) declares every media type
/// binary, so the body arrives base64-encoded and the signature is checked on the bytes.
#[tokio::test]
async fn rest_api_v1_base64_body_as_the_waf_front_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.jsonl");
    let body = fixture("meeting.started__unicode_escapes_signed.json");
    let ts = unix_now().to_string();
    let sig = sign(&Secret::new(SECRET), &ts, &body);
    let mut event: Value = serde_json::from_str(&v1_event(&body, &ts, &sig)).unwrap();
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&body));
    event["isBase64Encoded"] = json!(true);
    event["requestContext"]["stage"] = json!("live");
    let (status, resp) = invoke(&event.to_string(), &file).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(stored(&file)[0].event, "meeting.started");
    assert!(include_str!("../../template.yaml").contains(r#"BinaryMediaTypes: ["*/*"]"#), "the REST front no longer sends raw bytes");
}

#[tokio::test]
async fn url_validation_through_api_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let body = fixture("endpoint.url_validation.json");
    let ts = unix_now().to_string();
    let sig = sign(&Secret::new(SECRET), &ts, &body);
    let (status, resp) = invoke(&v2_event(&body, &ts, &sig), &dir.path().join("e.jsonl")).await;
    assert_eq!(status, 200);
    assert_eq!(resp["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let expected = zoomwatch_shared::signature::url_validation_token(&Secret::new(SECRET), "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(resp["encryptedToken"], expected);
}
