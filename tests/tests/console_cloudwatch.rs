//! The console's CloudWatch source against a CloudWatch-compatible server (moto) with the
//! real SDK: backfill with pagination, live-tail frames, polling follow, and a reconnect
//! through an outage without gap or duplicate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use zoomwatch_e2e::moto::Moto;
use zoomwatch_ingest::send::unix_now;
use zoomwatch_log::Sink;
use zoomwatch_log::aws::logs_client;
use zoomwatch_log::sink::CloudWatchSink;
use zoomwatch_log::source::cloudwatch::{self, CloudWatchSource};
use zoomwatch_log::source::{SourceEvent, Status};
use zoomwatch_shared::{Envelope, Received, RecordV1, normalize};

const GROUP: &str = "/zoomwatch/events";

fn records(from: u32, n: u32) -> Vec<RecordV1> {
    let now = unix_now() * 1000;
    (from..from + n)
        .map(|i| {
            let body = format!(r#"{{"event":"meeting.participant_joined","event_ts":{i},"payload":{{"object":{{"uuid":"u{}","id":1,"topic":"Sync","participant":{{"user_name":"p{i}","user_id":"{i}","email":"p{i}@acme.example","id":"Z{i}"}}}}}}}}"#, i % 7);
            normalize(Envelope::parse(body.as_bytes()).unwrap(), &Received { received_at_ms: now, request: None })
        })
        .collect()
}

async fn sdk_for(url: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_cloudwatchlogs::config::Credentials::new("test", "test", None, None, "t");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .load()
        .await
}

/// Collects events until `want` distinct records arrived (or the channel closed).
async fn collect(rx: &mut mpsc::Receiver<SourceEvent>, want: usize, ids: &mut Vec<String>, statuses: &mut Vec<Status>, skipped: &mut u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ids.len() < want {
        match tokio::time::timeout_at(deadline, rx.recv()).await.expect("records did not arrive in time") {
            Some(SourceEvent::Records(b)) => ids.extend(b.into_iter().map(|r| r.id)),
            Some(SourceEvent::Skipped(n)) => *skipped += n,
            Some(SourceEvent::Status(s)) => statuses.push(s),
            Some(SourceEvent::Position(_)) => panic!("a log group has no file positions"),
            None => return,
        }
    }
}

/// Puts `(timestamp, record)` events into `stream`, 500 a call (PutLogEvents takes at most
/// 1 MB: a few hundred records).
async fn put_stamped(writer: &aws_sdk_cloudwatchlogs::Client, stream: &str, events: &[(i64, &RecordV1)]) {
    for chunk in events.chunks(500) {
        let mut req = writer.put_log_events().log_group_name(GROUP).log_stream_name(stream);
        for (ts, r) in chunk {
            let line = zoomwatch_shared::lines::to_line(r);
            req = req.log_events(aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(*ts).message(line).build().unwrap());
        }
        req.send().await.unwrap();
    }
}

#[tokio::test]
async fn backfill_pages_and_skips_garbage() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let writer = logs_client(&sdk, Some(Duration::from_secs(30)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    CloudWatchSink::new(writer.clone(), GROUP, Duration::from_secs(60)).write(records(0, 12_000)).await.unwrap();
    // Platform lines in the same group (as with the stdout sink) are skipped, not fatal.
    writer.create_log_stream().log_group_name(GROUP).log_stream_name("platform").send().await.unwrap();
    let ev = |m: &str| aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(unix_now() * 1000).message(m).build().unwrap();
    writer
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("platform")
        .log_events(ev("START RequestId: 1 Version: $LATEST"))
        .log_events(ev("{\"not\":\"a record\"}"))
        .send()
        .await
        .unwrap();
    // A forged meeting event in an analyst's response stream (the only kind of stream IAM
    // lets analysts write) is not believed: skipped like garbage.
    let forged_stream = "2026/12/07/zoomwatch-response/mallory";
    writer.create_log_stream().log_group_name(GROUP).log_stream_name(forged_stream).send().await.unwrap();
    let forged = zoomwatch_shared::lines::to_line(&records(50_000, 1)[0]);
    writer.put_log_events().log_group_name(GROUP).log_stream_name(forged_stream).log_events(ev(&forged)).send().await.unwrap();
    // In ana's own stream (which the analyst policy lets only ana write), her verdict is
    // believed and one in bob's name is not; nor is anything in a stream whose name
    // matches the policy's glob for ana but says she is bob.
    let verdict = |who: &str, alert: &str| {
        zoomwatch_shared::lines::to_line(&zoomwatch_shared::audit::triage_record(who, None, alert, "false-positive", "", unix_now() * 1000))
    };
    for (stream, line) in [
        ("2026/12/07/zoomwatch-response/ana/01", verdict("ana", "a-1")),
        ("2026/12/07/zoomwatch-response/ana/02", verdict("bob", "a-2")),
        ("2026/12/07/zoomwatch-response/bob/zoomwatch-response/ana/03", verdict("bob", "a-3")),
    ] {
        writer.create_log_stream().log_group_name(GROUP).log_stream_name(stream).send().await.unwrap();
        writer.put_log_events().log_group_name(GROUP).log_stream_name(stream).log_events(ev(&line)).send().await.unwrap();
    }

    let (tx, mut rx) = mpsc::channel(16);
    let opts = CloudWatchSource {
        group: GROUP.into(),
        since_ms: unix_now() * 1000 - 3_600_000,
        follow: false,
        poll_only: true,
        poll_every: Duration::from_secs(1),
        pattern: None,
    };
    tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&sdk, None), opts, tx));
    let (mut ids, mut statuses, mut skipped) = (Vec::new(), Vec::new(), 0);
    collect(&mut rx, usize::MAX, &mut ids, &mut statuses, &mut skipped).await;
    assert_eq!(ids.len(), 12_001, "the records and ana's own verdict");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 12_001, "no duplicates across pages");
    assert_eq!(skipped, 5, "two platform lines, the forged event and the two verdicts in bob's name");
    assert_eq!(statuses.last(), Some(&Status::Done));
}

#[tokio::test]
async fn live_tail_frames_then_polling_follow() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let writer = logs_client(&sdk, Some(Duration::from_secs(10)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let sink = CloudWatchSink::new(writer, GROUP, Duration::from_secs(10));
    sink.write(records(0, 50)).await.unwrap();

    let (tx, mut rx) = mpsc::channel(64);
    let opts = CloudWatchSource {
        group: GROUP.into(),
        since_ms: unix_now() * 1000 - 60_000,
        follow: true,
        poll_only: false,
        poll_every: Duration::from_millis(500),
        pattern: None,
    };
    tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&sdk, None), opts, tx));
    let (mut ids, mut statuses, mut skipped) = (Vec::new(), Vec::new(), 0);
    collect(&mut rx, 50, &mut ids, &mut statuses, &mut skipped).await;
    // moto's live tail answers with the stored events and closes each session at once:
    // the source must notice and fall back to polling.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !statuses.iter().any(|s| matches!(s, Status::Reconnecting(m) if m.contains("polling"))) {
        match tokio::time::timeout_at(deadline, rx.recv()).await.expect("no fallback to polling") {
            Some(SourceEvent::Records(b)) => ids.extend(b.into_iter().map(|r| r.id)),
            Some(SourceEvent::Status(s)) => statuses.push(s),
            Some(SourceEvent::Skipped(_)) => {}
            Some(SourceEvent::Position(_)) => panic!("a log group has no file positions"),
            None => panic!("source ended"),
        }
    }
    assert!(statuses.contains(&Status::Live), "live tail frames were handled: {statuses:?}");
    // New records while following (now by polling).
    sink.write(records(50, 30)).await.unwrap();
    collect(&mut rx, 80, &mut ids, &mut statuses, &mut skipped).await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 80, "live tail frames, catch-up sweeps and polls never duplicate");
    assert_eq!(ids.len(), 80);
}

/// A TCP proxy that can be cut and restored. Cutting severs the connections in flight
/// (as a network outage does; a pooled keep-alive connection must not survive it) and
/// drops new ones until restored.
async fn proxy(target: u16) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let flag = flag.clone();
            tokio::spawn(async move {
                if !flag.load(Ordering::SeqCst) {
                    return; // dropped: the client sees a reset
                }
                let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else { return };
                let cut = async {
                    while flag.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    () = cut => {} // both sockets dropped here
                }
            });
        }
    });
    (url, up)
}

#[tokio::test]
async fn reconnects_without_gap_or_duplicate() {
    let moto = Moto::start();
    let port: u16 = moto.url.rsplit(':').next().unwrap().parse().unwrap();
    let (proxy_url, up) = proxy(port).await;
    let direct = moto.sdk_config().await;
    let writer = logs_client(&direct, Some(Duration::from_secs(10)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let sink = CloudWatchSink::new(writer, GROUP, Duration::from_secs(10));
    sink.write(records(0, 20)).await.unwrap();

    let reader = sdk_for(&proxy_url).await;
    let (tx, mut rx) = mpsc::channel(64);
    let opts = CloudWatchSource {
        group: GROUP.into(),
        since_ms: unix_now() * 1000 - 60_000,
        follow: true,
        poll_only: true,
        poll_every: Duration::from_millis(300),
        pattern: None,
    };
    tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&reader, None), opts, tx));
    let (mut ids, mut statuses, mut skipped) = (Vec::new(), Vec::new(), 0);
    collect(&mut rx, 20, &mut ids, &mut statuses, &mut skipped).await;

    // Outage: the reader cannot reach the service while records keep arriving. Longer
    // than the SDK's own retries of one call can bridge (three attempts, backing off up
    // to 1 s then 2 s): at least one poll fails and the outage is reported.
    up.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sink.write(records(20, 25)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3000)).await;
    up.store(true, Ordering::SeqCst);
    sink.write(records(45, 5)).await.unwrap();

    collect(&mut rx, 50, &mut ids, &mut statuses, &mut skipped).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (50, 50), "every record once");
    let expected: HashSet<String> = records(0, 50).into_iter().map(|r| r.id).collect();
    assert_eq!(unique.into_iter().cloned().collect::<HashSet<_>>(), expected, "no gap");
    assert!(statuses.iter().any(|s| matches!(s, Status::Reconnecting(_))), "the outage was reported: {statuses:?}");
}

/// FilterLogEvents throttled, then failing with 500, during the backfill (through the
/// fault-injecting proxy): the source says so, backs off, and once the service answers
/// again delivers every record exactly once.
#[tokio::test]
async fn backfill_survives_throttling_and_server_errors() {
    use zoomwatch_e2e::faults::{Fault, FaultProxy};
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url).await;
    let direct = moto.sdk_config().await;
    let writer = logs_client(&direct, Some(Duration::from_secs(10)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let sink = CloudWatchSink::new(writer, GROUP, Duration::from_secs(10));
    sink.write(records(0, 300)).await.unwrap();

    for (fault, words) in [(Fault::Throttle, "Throttling"), (Fault::ServerError, "InternalFailure")] {
        proxy.set("FilterLogEvents", fault);
        let reader = sdk_for(&proxy.url).await;
        let (tx, mut rx) = mpsc::channel(64);
        let opts = CloudWatchSource {
            group: GROUP.into(),
            since_ms: unix_now() * 1000 - 60_000,
            follow: true,
            poll_only: true,
            poll_every: Duration::from_millis(300),
            pattern: None,
        };
        let task = tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&reader, None), opts, tx));
        // The first answers are refusals: the header shows why, and nothing arrives.
        let mut statuses = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !statuses.iter().any(|s| matches!(s, Status::Reconnecting(m) if m.contains(words))) {
            match tokio::time::timeout_at(deadline, rx.recv()).await.expect("the refusal is reported") {
                Some(SourceEvent::Status(s)) => statuses.push(s),
                Some(SourceEvent::Records(b)) => panic!("{} records through a refusing service", b.len()),
                Some(_) => {}
                None => panic!("the source gave up"),
            }
        }
        proxy.clear();
        let (mut ids, mut skipped) = (Vec::new(), 0);
        collect(&mut rx, 300, &mut ids, &mut statuses, &mut skipped).await;
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!((ids.len(), unique.len()), (300, 300), "{words}: every record once");
        // …and goes on following by itself.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !statuses.contains(&Status::Live) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(SourceEvent::Status(s))) => statuses.push(s),
                Ok(Some(SourceEvent::Records(b))) => panic!("{words}: {} records more than written", b.len()),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!("{words}: did not recover: {statuses:?}"),
            }
        }
        task.abort();
    }
    assert!(proxy.count("FilterLogEvents").1 >= 2, "faults were injected");
}

/// Following by polling across page and time boundaries: a burst larger than one page,
/// all at one timestamp, arriving between polls; then events ingested late (older than
/// the newest seen, within the overlap); then more at the newest timestamp. Every record
/// once, none missed, none doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_follows_across_page_and_time_boundaries() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let writer = logs_client(&sdk, Some(Duration::from_secs(30)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let stream = "2026/12/07/zoomwatch-ingest/boundaries";
    writer.create_log_stream().log_group_name(GROUP).log_stream_name(stream).send().await.unwrap();
    let put = |recs: Vec<RecordV1>, ts: i64| {
        let writer = writer.clone();
        async move { put_stamped(&writer, stream, &recs.iter().map(|r| (ts, r)).collect::<Vec<_>>()).await }
    };
    let (tx, mut rx) = mpsc::channel(16);
    let opts = CloudWatchSource {
        group: GROUP.into(),
        since_ms: unix_now() * 1000 - 60_000,
        follow: true,
        poll_only: true,
        poll_every: Duration::from_millis(300),
        pattern: None,
    };
    tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&sdk, None), opts, tx));
    let (mut ids, mut statuses, mut skipped) = (Vec::new(), Vec::new(), 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !statuses.contains(&Status::Live) {
        if let SourceEvent::Status(s) = tokio::time::timeout_at(deadline, rx.recv()).await.expect("never live").expect("ended") {
            statuses.push(s);
        }
    }
    let t = unix_now() * 1000;
    // More than one page of FilterLogEvents (10,000 events), one timestamp.
    put(records(0, 10_500), t).await;
    collect(&mut rx, 10_500, &mut ids, &mut statuses, &mut skipped).await;
    // Late: older than the newest seen, inside the overlap; then the newest again.
    put(records(10_500, 40), t - 2_000).await;
    put(records(10_540, 40), t).await;
    collect(&mut rx, 10_580, &mut ids, &mut statuses, &mut skipped).await;
    // A few more polls find nothing new.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while let Ok(ev) = rx.try_recv() {
        if let SourceEvent::Records(b) = ev {
            ids.extend(b.into_iter().map(|r| r.id));
        }
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (10_580, 10_580), "every record once");
    let expected: HashSet<String> = records(0, 10_580).into_iter().map(|r| r.id).collect();
    assert_eq!(unique.into_iter().cloned().collect::<HashSet<_>>(), expected);
}

/// A backfill longer than a page goes on in time slices after its first page: every
/// record arrives once, in time order, though events share timestamps and fall on the
/// slices' edges (read twice there, deduplicated); the reads really were sliced.
#[tokio::test]
async fn a_long_backfill_is_read_in_time_slices_each_record_once() {
    let moto = Moto::start();
    let proxy = zoomwatch_e2e::faults::FaultProxy::start(&moto.url).await;
    let sdk = sdk_for(&proxy.url).await;
    let writer = logs_client(&sdk, Some(Duration::from_secs(30)));
    writer.create_log_group().log_group_name(GROUP).send().await.unwrap();
    let stream = "2026/12/07/zoomwatch-ingest/slices";
    writer.create_log_stream().log_group_name(GROUP).log_stream_name(stream).send().await.unwrap();
    // 10,000 events in the first second (ten a millisecond); then 15,000 over the next
    // 22 s, two to each millisecond three apart: several pages' worth at either rate.
    let a = unix_now() * 1000 - 40_000;
    let recs = records(0, 25_000);
    let stamp = |i: usize| if i < 10_000 { a + i as i64 / 10 } else { a + 1_000 + (i as i64 - 10_000) / 2 * 3 };
    let events: Vec<(i64, &RecordV1)> = recs.iter().enumerate().map(|(i, r)| (stamp(i), r)).collect();
    put_stamped(&writer, stream, &events).await;
    let order: Vec<(i64, String)> = events.iter().map(|(ts, r)| (*ts, r.id.clone())).collect();
    proxy.take_reads();
    let (tx, mut rx) = mpsc::channel(16);
    let opts = CloudWatchSource { follow: false, ..CloudWatchSource::new(GROUP, a - 5_000) };
    tokio::spawn(cloudwatch::run(zoomwatch_log::aws::logs_client(&sdk, None), opts, tx));
    let (mut ids, mut statuses, mut skipped) = (Vec::new(), Vec::new(), 0);
    collect(&mut rx, usize::MAX, &mut ids, &mut statuses, &mut skipped).await;
    assert!(statuses.contains(&Status::Done), "{statuses:?}");
    assert_eq!(skipped, 0);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (25_000, 25_000), "every record once");
    let rank: std::collections::HashMap<&str, i64> = order.iter().map(|(t, id)| (id.as_str(), *t)).collect();
    assert!(ids.windows(2).all(|w| rank[w[0].as_str()] <= rank[w[1].as_str()]), "in time order");
    let reads = proxy.take_reads();
    let sliced = reads.iter().filter(|r| r.end_ms.is_some()).count();
    assert!(sliced >= 4, "read in slices: {sliced} of {} reads had an end", reads.len());
    // Slices follow each other without a gap: each starts one ms after the previous end.
    let bounded: Vec<(i64, i64)> = reads.iter().filter_map(|r| Some((r.start_ms?, r.end_ms?))).collect();
    assert!(bounded.windows(2).all(|w| w[1].0 == w[0].1 + 1 || w[1] == w[0]), "{bounded:?}");
    // About a page a slice: neither one read per event nor the whole window each time.
    let largest = reads.iter().map(|r| r.events).max().unwrap_or(0);
    assert!(reads.len() <= 30 && largest < 25_000, "{} reads, the largest {largest} events", reads.len());
}
