//! Exactly once into the log across receiver instances: two `zoomwatch-ingest serve`
//! processes sharing a claim store (DynamoDB in moto), CloudWatch behind the fault proxy.
//! The same signed webhook delivered to both, and retried after CloudWatch accepted the
//! first write late, is stored once; with the claim store unreachable, events still land
//! (at least once) and the receiver says why.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use zoomwatch_e2e::faults::{Fault, FaultProxy};
use zoomwatch_e2e::moto::{Moto, read_all};
use zoomwatch_e2e::process::{self, Process};
use zoomwatch_e2e::{SECRET, fixtures};
use zoomwatch_ingest::send::{Sender, unix_now};
use zoomwatch_shared::signature::Secret;

const GROUP: &str = "/zoomwatch/events";
const TABLE: &str = "zoomwatch-claims";

/// `zoomwatch-ingest serve` writing to the log group through `endpoint` (the proxy),
/// claiming in TABLE, with a short lease so the test need not wait 30 s.
fn receiver(endpoint: &str, moto: &Moto, dir: &Path, name: &str) -> (Process, String) {
    let mut env: Vec<(String, String)> = moto.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push(("AWS_ENDPOINT_URL".into(), endpoint.to_owned()));
    process::receiver(GROUP, &["--claims", &format!("dynamodb:{TABLE}"), "--claim-lease", "5"], &env, dir, name)
}

/// Zoom's side: one event, signed once, sent (and re-sent) byte for byte to `url`.
async fn deliver(url: &str, body: &[u8], ts: i64) -> (u16, String) {
    let sender = Sender::with_timeout(url, Secret::new(SECRET), Duration::from_secs(3)).unwrap();
    match sender.send(body.to_vec(), Some(ts)).await {
        Ok(d) => (d.status, d.body),
        Err(e) => (0, e.to_string()),
    }
}

fn status_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| v["status"].as_str().map(str::to_owned)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_receivers_sharing_claims_store_each_event_once() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_a, a_url) = receiver(&proxy.url, &moto, dir.path(), "a");
    let (b, b_url) = receiver(&proxy.url, &moto, dir.path(), "b");
    // The first receiver created the table (TTL on expires_at); the second found it.
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let ttl = ddb.describe_time_to_live().table_name(TABLE).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|t| t.attribute_name()), Some("expires_at"));

    // 1. CloudWatch accepts the write only after the 2 s budget: A cannot tell whether it
    //    landed, answers 503, and leaves the claim "unknown".
    let raid = std::fs::read(fixtures().join("meeting.participant_joined__guest_real.json")).unwrap();
    let ts = unix_now();
    proxy.set("PutLogEvents", Fault::Slow(Duration::from_secs(3)));
    let (status, body) = deliver(&a_url, &raid, ts).await;
    assert_eq!(status, 503, "{body}");
    proxy.clear();
    // 2. Zoom's retry reaches B at once: A's lease still holds it off (the late write may
    //    still be on its way).
    let (status, body) = deliver(&b_url, &raid, ts).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("another receiver"), "{body}");
    // 3. After the lease, B settles the claim by looking in the log: the late write is
    //    there, so B answers duplicate and writes nothing.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, body) = deliver(&b_url, &raid, ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "duplicate"), "{body}\n{}", b.said());
    // 4. And A, asked again, finds the claim stored.
    let (status, body) = deliver(&a_url, &raid, ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "duplicate"), "{body}");

    // A plain event: stored by B; the same delivery to A is a duplicate.
    let started = std::fs::read(fixtures().join("meeting.started.json")).unwrap();
    let (status, body) = deliver(&b_url, &started, ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "stored"), "{body}");
    let (status, body) = deliver(&a_url, &started, ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "duplicate"), "{body}");

    // A write CloudWatch refused outright (throttled: nothing stored) releases the claim,
    // so the retry to the other receiver writes it at once.
    let ended = std::fs::read(fixtures().join("meeting.ended.json")).unwrap();
    proxy.set("PutLogEvents", Fault::Throttle);
    let (status, _) = deliver(&a_url, &ended, ts).await;
    assert_eq!(status, 503);
    proxy.clear();
    let (status, body) = deliver(&b_url, &ended, ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "stored"), "{body}\n{}", b.said());

    // A URL validation replayed to the other receiver is answered there too, recorded once.
    let validation = std::fs::read(fixtures().join("endpoint.url_validation.json")).unwrap();
    for url in [&a_url, &b_url] {
        let (status, body) = deliver(url, &validation, ts).await;
        assert!(status == 200 && body.contains("encryptedToken"), "{body}");
    }

    let stored = read_all(&logs, GROUP).await;
    let events: Vec<&str> = stored.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(stored.len(), 4, "each event once: {events:?}");
    let ids: std::collections::HashSet<&str> = stored.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{events:?}");
    assert!(stored.iter().all(|r| r.request.as_ref().is_some_and(|q| q.claim.is_none())), "every one was claimed");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_claim_store_unreachable_events_still_land_and_the_receiver_says_why() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, a_url) = receiver(&proxy.url, &moto, dir.path(), "a");
    // DynamoDB resets every connection; CloudWatch works.
    proxy.set("PutItem", Fault::Reset);
    let ts = unix_now();
    let mut ids = Vec::new();
    for name in ["meeting.started.json", "meeting.participant_joined.json", "meeting.ended.json"] {
        let (status, body) = deliver(&a_url, &std::fs::read(fixtures().join(name)).unwrap(), ts).await;
        assert_eq!((status, status_of(&body).as_str()), (200, "stored"), "{name}: {body}");
        ids.push(serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned());
    }
    let stored = read_all(&logs, GROUP).await;
    assert_eq!(stored.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), ids);
    for r in &stored {
        assert_eq!(r.request.as_ref().and_then(|q| q.claim.as_deref()), Some("unavailable"), "marked: may be stored twice");
    }
    let log = a.said();
    assert_eq!(log.matches("claim store unreachable").count(), 1, "said once, not per record: {log}");
    assert!(log.contains(TABLE), "{log}");
    // The store back: the next event is claimed again.
    proxy.clear();
    let (status, body) = deliver(&a_url, &std::fs::read(fixtures().join("meeting.created.json")).unwrap(), ts).await;
    assert_eq!((status, status_of(&body).as_str()), (200, "stored"), "{body}");
    let last = read_all(&logs, GROUP).await.pop().unwrap();
    assert_eq!(last.request.and_then(|q| q.claim), None);
}
