//! A fault-injecting HTTP proxy for the AWS SDK's JSON protocol, on a loopback port in
//! front of moto. Requests pass through unchanged until a [`Fault`] is set for an
//! operation (by its `X-Amz-Target`, e.g. `Logs_20140328.PutLogEvents`), or drawn at
//! random (seeded) for each request: then it answers 500, throttles, forwards late,
//! answers late after forwarding at once, accepts only part of a `PutLogEvents` batch
//! (the rest is really dropped, and `rejectedLogEventsInfo` says so), or resets the
//! connection.
//!
//! It also records each `FilterLogEvents` read (its `filterPattern`, `startTime`, `endTime` and the
//! number of events answered), and can apply regex filter patterns (`%…%`) to moto's
//! answers as CloudWatch Logs does — moto matches every event for them — so a test sees
//! what a real log group would send.
//!
//! A minimal HTTP/1.1 server (keep-alive, `Content-Length` bodies — what the SDK sends);
//! the forwarded request and moto's answer are otherwise untouched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the requests of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 `InternalFailure` (the SDK retries it).
    ServerError,
    /// 400 `ThrottlingException` (the SDK retries it with back-off).
    Throttle,
    /// Forwarded after this delay (past the caller's budget).
    Slow(Duration),
    /// `PutLogEvents`: only the first half of the batch is forwarded; the answer reports
    /// the rest as too new (`rejectedLogEventsInfo.tooNewLogEventStartIndex`).
    Partial,
    /// The connection is reset without an answer.
    Reset,
    /// Forwarded at once (the write lands), answered only after this delay (past the
    /// caller's budget): a late acceptance.
    LateAnswer(Duration),
    /// This status and AWS error (`__type`, `message`): an access denial, an expired
    /// session.
    Answer(u16, &'static str, &'static str),
}

/// One `FilterLogEvents` request and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// `filterPattern`, if sent.
    pub pattern: Option<String>,
    /// `startTime` (Unix ms), if sent.
    pub start_ms: Option<i64>,
    /// `endTime` (Unix ms), if sent.
    pub end_ms: Option<i64>,
    /// Events in the answer (after the pattern, when patterns are applied).
    pub events: usize,
}

/// Faults drawn at random (seeded) for one operation.
struct Random {
    state: u64,
    probability: f64,
    kinds: Vec<Fault>,
}

impl Random {
    /// xorshift64*: enough for choosing faults, and the same seed gives the same draws.
    fn next(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(&mut self) -> Option<Fault> {
        if self.kinds.is_empty() || self.next() >= self.probability {
            return None;
        }
        let i = ((self.next() * self.kinds.len() as f64) as usize).min(self.kinds.len() - 1);
        Some(self.kinds[i])
    }
}

/// A fault's name in [`FaultProxy::injected`].
pub fn fault_name(f: Fault) -> &'static str {
    match f {
        Fault::ServerError => "500",
        Fault::Throttle => "throttled",
        Fault::Slow(_) => "accepted late",
        Fault::Partial => "partial batch",
        Fault::Reset => "connection reset",
        Fault::LateAnswer(_) => "answered late",
        Fault::Answer(..) => "refused",
    }
}

#[derive(Default)]
struct Shared {
    faults: Mutex<HashMap<String, Fault>>,
    random: Mutex<HashMap<String, Random>>,
    injected: Mutex<HashMap<String, u64>>,
    counts: Mutex<HashMap<String, (u64, u64)>>,
    reads: Mutex<Vec<Read>>,
    apply_patterns: std::sync::atomic::AtomicBool,
}

/// The proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy forwarding to `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared: Arc<Shared> = Arc::default();
        let client = reqwest::Client::builder().no_proxy().build().expect("http client");
        let upstream = upstream.trim_end_matches('/').to_owned();
        let sh = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (sh, client, upstream) = (sh.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, sh, client, upstream).await;
                });
            }
        });
        Self { url, shared, task }
    }

    /// Applies regex filter patterns (`%…%`) of `FilterLogEvents` to moto's answers, as
    /// CloudWatch Logs does (moto returns every event for them).
    pub fn apply_regex_patterns(&self, on: bool) {
        self.shared.apply_patterns.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The `FilterLogEvents` reads so far, and forgets them.
    pub fn take_reads(&self) -> Vec<Read> {
        std::mem::take(&mut *self.shared.reads.lock().expect("reads"))
    }

    /// Injects `fault` into requests for `operation` (`PutLogEvents`, `FilterLogEvents`…).
    pub fn set(&self, operation: &str, fault: Fault) {
        self.shared.faults.lock().expect("faults").insert(operation.to_owned(), fault);
    }

    /// Injects into each request for `operation`, with `probability`, one of `kinds`
    /// chosen at random: the same `seed` draws the same sequence.
    pub fn set_random(&self, operation: &str, seed: u64, probability: f64, kinds: &[Fault]) {
        let r = Random { state: seed.max(1), probability, kinds: kinds.to_vec() };
        self.shared.random.lock().expect("random").insert(operation.to_owned(), r);
    }

    /// Lets every request through again.
    pub fn clear(&self) {
        self.shared.faults.lock().expect("faults").clear();
        self.shared.random.lock().expect("random").clear();
    }

    /// Faults injected so far, by [`fault_name`] and operation (`"500 PutLogEvents"`).
    pub fn injected(&self) -> HashMap<String, u64> {
        self.shared.injected.lock().expect("injected").clone()
    }

    /// Requests seen for `operation`: (total, faulted).
    pub fn count(&self, operation: &str) -> (u64, u64) {
        self.shared.counts.lock().expect("counts").get(operation).copied().unwrap_or_default()
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one request; `None` when the client closed the connection.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, path) = (first.next().unwrap_or("").to_owned(), first.next().unwrap_or("/").to_owned());
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let start = head_end + 4;
    while buf.len() < start + len {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[start..start + len].to_vec();
    buf.drain(..start + len);
    Ok(Some(Request { method, path, headers, body }))
}

async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-amzn-requestid: fault-proxy\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

/// A CloudWatch regex pattern (`%…%`) as a regex; `None` for other patterns.
fn regex_pattern(pattern: &str) -> Option<regex::Regex> {
    let body = pattern.strip_prefix('%')?.strip_suffix('%')?;
    regex::Regex::new(body).ok()
}

/// Keeps the events of a `FilterLogEvents` answer that `pattern` matches (when patterns
/// are applied) and records the read.
fn filter_answer(shared: &Shared, request: &[u8], body: &mut Vec<u8>) {
    let req: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let pattern = req.get("filterPattern").and_then(serde_json::Value::as_str).map(str::to_owned);
    let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    let Some(events) = answer.get_mut("events").and_then(serde_json::Value::as_array_mut) else { return };
    if shared.apply_patterns.load(std::sync::atomic::Ordering::SeqCst)
        && let Some(re) = pattern.as_deref().and_then(regex_pattern)
    {
        events.retain(|e| e.get("message").and_then(serde_json::Value::as_str).is_some_and(|m| re.is_match(m)));
        *body = serde_json::to_vec(&answer).unwrap_or_default();
    }
    let events = answer.get("events").and_then(serde_json::Value::as_array).map_or(0, Vec::len);
    let start_ms = req.get("startTime").and_then(serde_json::Value::as_i64);
    let end_ms = req.get("endTime").and_then(serde_json::Value::as_i64);
    shared.reads.lock().expect("reads").push(Read { pattern, start_ms, end_ms, events });
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>, client: reqwest::Client, upstream: String) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(mut req) = read_request(&mut stream, &mut buf).await? {
        let target = req.headers.iter().find(|(k, _)| k == "x-amz-target").map(|(_, v)| v.clone()).unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or("").to_owned();
        let fault = shared
            .faults
            .lock()
            .expect("faults")
            .get(&operation)
            .copied()
            .or_else(|| shared.random.lock().expect("random").get_mut(&operation).and_then(Random::draw));
        if let Some(f) = fault {
            *shared.injected.lock().expect("injected").entry(format!("{} {operation}", fault_name(f))).or_default() += 1;
        }
        {
            let mut c = shared.counts.lock().expect("counts");
            let e = c.entry(operation.clone()).or_default();
            e.0 += 1;
            e.1 += u64::from(fault.is_some());
        }
        let mut rejected_from = None;
        let mut answer_after = None;
        match fault {
            Some(Fault::ServerError) => {
                respond(
                    &mut stream,
                    500,
                    "application/x-amz-json-1.1",
                    br#"{"__type":"InternalFailure","message":"injected by the fault proxy"}"#,
                )
                .await?;
                continue;
            }
            Some(Fault::Throttle) => {
                respond(&mut stream, 400, "application/x-amz-json-1.1", br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#)
                    .await?;
                continue;
            }
            Some(Fault::Answer(status, kind, message)) => {
                let body = serde_json::json!({"__type": kind, "message": message}).to_string();
                respond(&mut stream, status, "application/x-amz-json-1.1", body.as_bytes()).await?;
                continue;
            }
            Some(Fault::Reset) => {
                // Linger 0: the close sends RST, as a dropped load balancer connection does
                // (with a zero timeout the close does not block).
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return Ok(());
            }
            Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
            Some(Fault::LateAnswer(d)) => answer_after = Some(d),
            Some(Fault::Partial) => {
                if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&req.body)
                    && let Some(events) = v.get_mut("logEvents").and_then(serde_json::Value::as_array_mut)
                {
                    let keep = events.len() / 2;
                    events.truncate(keep);
                    rejected_from = Some(keep);
                    req.body = serde_json::to_vec(&v).unwrap_or_default();
                }
            }
            None => {}
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut forward = client.request(method, format!("{upstream}{}", req.path));
        for (k, v) in &req.headers {
            if !matches!(k.as_str(), "host" | "content-length" | "connection") {
                forward = forward.header(k.as_str(), v.as_str());
            }
        }
        let answer = forward.body(req.body.clone()).send().await;
        let Ok(answer) = answer else {
            respond(&mut stream, 500, "application/x-amz-json-1.1", br#"{"__type":"InternalFailure","message":"upstream unreachable"}"#)
                .await?;
            continue;
        };
        let status = answer.status().as_u16();
        let content_type =
            answer.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/x-amz-json-1.1").to_owned();
        let mut body = answer.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        if let (Some(from), 200) = (rejected_from, status) {
            let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| serde_json::json!({}));
            v["rejectedLogEventsInfo"] = serde_json::json!({"tooNewLogEventStartIndex": from});
            body = serde_json::to_vec(&v).unwrap_or_default();
        }
        if operation == "FilterLogEvents" && status == 200 {
            filter_answer(&shared, &req.body, &mut body);
        }
        if let Some(d) = answer_after {
            tokio::time::sleep(d).await;
        }
        respond(&mut stream, status, &content_type, &body).await?;
    }
    Ok(())
}
