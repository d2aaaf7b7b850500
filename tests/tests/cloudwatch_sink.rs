//! The receiver's CloudWatch sink with the real AWS SDK against a CloudWatch-compatible
//! server (moto) on loopback: records land and read back; failures answer 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tokio::net::TcpListener;
use zoomwatch_e2e::moto::{Moto, read_all};
use zoomwatch_e2e::{SECRET, fixtures};
use zoomwatch_ingest::config::ReceiverConfig;
use zoomwatch_ingest::send::Sender;
use zoomwatch_ingest::{router, server};
use zoomwatch_log::Sink;
use zoomwatch_log::aws::logs_client;
use zoomwatch_log::sink::{AnySink, CloudWatchSink};
use zoomwatch_shared::record::RecordV1;
use zoomwatch_shared::signature::Secret;
use zoomwatch_shared::{Envelope, Received, SecretSet, normalize};

const GROUP: &str = "/zoomwatch/events";

async fn serve_with(sink: CloudWatchSink) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/zoom/webhook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = ReceiverConfig::new(SecretSet::parse(SECRET).unwrap());
    let task = tokio::spawn(server::serve(listener, router(cfg, AnySink::CloudWatch(sink)), async {
        let _ = rx.await;
    }));
    (url, tx, task)
}

#[tokio::test]
async fn signed_webhooks_land_in_the_log_group() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = logs_client(&sdk, Some(Duration::from_secs(2)));
    client.create_log_group().log_group_name(GROUP).send().await.unwrap();

    let (url, stop, task) = serve_with(CloudWatchSink::new(client.clone(), GROUP, Duration::from_secs(2))).await;
    let sender = Sender::new(url, Secret::new(SECRET)).unwrap();
    let names = [
        "meeting.started.json",
        "meeting.participant_joined__guest_real.json",
        "meeting.participant_left__guest_real.json",
        "recording.completed.json",
        "endpoint.url_validation.json",
    ];
    let mut ids = Vec::new();
    for n in names {
        let d = sender.send(std::fs::read(fixtures().join(n)).unwrap(), None).await.unwrap();
        assert_eq!(d.status, 200, "{n}: {}", d.body);
        if let Some(id) = serde_json::from_str::<serde_json::Value>(&d.body).unwrap()["id"].as_str() {
            ids.push(id.to_owned());
        }
    }
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    let records = read_all(&client, GROUP).await;
    assert_eq!(records.len(), names.len(), "one event per webhook (the URL validation too)");
    for id in &ids {
        assert!(records.iter().any(|r| &r.id == id), "{id} not in the log group");
    }
    let streams = client.describe_log_streams().log_group_name(GROUP).send().await.unwrap();
    let name = streams.log_streams()[0].log_stream_name().unwrap().to_owned();
    assert!(name.contains("/zoomwatch-ingest/"), "{name}");
    let recording = records.iter().find(|r| r.event == "recording.completed").unwrap();
    assert_eq!(recording.raw.value()["object"]["recording_play_passcode"], "[REDACTED]");
}

#[tokio::test]
async fn batches_over_the_service_limits_all_land() {
    let moto = Moto::start();
    let client = logs_client(&moto.sdk_config().await, Some(Duration::from_secs(30)));
    client.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let sink = CloudWatchSink::new(client.clone(), GROUP, Duration::from_secs(60));
    let now = zoomwatch_ingest::send::unix_now() * 1000;
    // 12,000 records of ~1.1 KB: more than one call by count and by bytes.
    let records: Vec<RecordV1> = (0..12_000)
        .map(|i| {
            let body = format!(r#"{{"event":"meeting.participant_joined","event_ts":{i},"payload":{{"object":{{"uuid":"u","id":1,"topic":"{}","participant":{{"user_name":"p{i}","user_id":"{i}"}}}}}}}}"#, "t".repeat(900));
            normalize(Envelope::parse(body.as_bytes()).unwrap(), &Received { received_at_ms: now + i64::from(i % 7), request: None })
        })
        .collect();
    sink.write(records).await.unwrap();
    let back = read_all(&client, GROUP).await;
    assert_eq!(back.len(), 12_000);
    let unique: std::collections::HashSet<&str> = back.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(unique.len(), 12_000);
}

#[tokio::test]
async fn a_missing_log_group_or_unreachable_endpoint_answers_503() {
    let moto = Moto::start();
    let client = logs_client(&moto.sdk_config().await, Some(Duration::from_secs(2)));
    let sink = CloudWatchSink::new(client, "/does/not/exist", Duration::from_secs(2));
    let err = sink.write(vec![]).await;
    assert!(err.is_ok(), "nothing to write is not an error");
    let (url, stop, task) = serve_with(sink).await;
    let sender = Sender::new(url, Secret::new(SECRET)).unwrap();
    let d = sender.send(std::fs::read(fixtures().join("meeting.ended.json")).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 503, "{}", d.body);
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    // Nothing listens on port 9 (discard): connection refused, retried, then 503 within budget.
    let creds = aws_sdk_cloudwatchlogs::config::Credentials::new("test", "test", None, None, "t");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(creds)
        .load()
        .await;
    let sink = CloudWatchSink::new(logs_client(&sdk, Some(Duration::from_secs(2))), GROUP, Duration::from_secs(2));
    let (url, stop, task) = serve_with(sink).await;
    let sender = Sender::new(url, Secret::new(SECRET)).unwrap();
    let d = sender.send(std::fs::read(fixtures().join("meeting.ended.json")).unwrap(), None).await.unwrap();
    assert_eq!(d.status, 503);
    assert!(d.body.contains("retry"), "{}", d.body);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
