//! A stand-in for Zoom's REST API and OAuth token endpoint on a loopback port, built
//! from Zoom's documented shapes (`../shared/NOTES-zoom-api.md`) and strict about them:
//! the token endpoint wants Basic auth with the right client id and secret, a form body
//! with `grant_type=account_credentials` and the account id; every API call wants a
//! bearer token it issued and not expired; each route checks its method, its encoded
//! path and its exact JSON body. Anything else is answered 404 and listed in
//! [`ZoomStandIn::unexpected`], so a wrong call fails the test that made it.
//!
//! Faults are queued with [`ZoomStandIn::push`]: the next API call gets that answer
//! (429 with or without `Retry-After`, 4711, 3000, 5xx, an expired token, a slow answer).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

/// The account the stand-in serves.
pub const ACCOUNT_ID: &str = "standin-Acct_9xQmR2";
/// The S2S app's client id.
pub const CLIENT_ID: &str = "standinClientId42";
/// The S2S app's client secret (tests check it never appears in any output).
pub const CLIENT_SECRET: &str = "sEcReT-do-not-print-7f3a9c";

/// One API call as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Method.
    pub method: String,
    /// Path as sent (still percent-encoded), without the `/v2` prefix.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// JSON body.
    pub body: Option<Value>,
}

/// A scripted answer for the next API call.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, JSON body and headers.
    Answer(u16, Value, Vec<(&'static str, String)>),
    /// Report the caller's token expired (401, code 124) and forget it.
    ExpireToken,
    /// Wait this long, then answer normally.
    Delay(Duration),
}

#[derive(Default)]
struct Inner {
    issued: HashSet<String>,
    token_requests: usize,
    calls: Vec<Call>,
    unexpected: Vec<String>,
    faults: VecDeque<Fault>,
    /// Meetings that have started (PATCH refused with 3000).
    started: HashSet<String>,
    /// `expires_in` of issued tokens (default 3599).
    lifetime: Option<u64>,
    /// Report rows by report path key (`activities`, `operationlogs`, `webhook_logs`).
    reports: std::collections::HashMap<&'static str, Vec<Value>>,
    /// Rows per report page (Zoom's `page_size`; small here so paging is exercised).
    page_rows: usize,
    /// Page tokens handed out, with the query they belong to (Zoom wants the same one back).
    tokens: std::collections::HashMap<String, (String, usize)>,
    /// Settings by scope (`account`, `group:ID`), as one merged document: the default
    /// sections plus `meeting_security` and the `meeting_authentication` flag.
    settings: std::collections::HashMap<String, Value>,
    /// The account's lock settings (same merged shape, booleans meaning locked).
    locks: Option<Value>,
    /// Groups: (id, name).
    groups: Vec<(String, String)>,
}

/// The Marketplace app id the stand-in knows.
pub const APP_ID: &str = "standinApp_0042";

/// The running stand-in.
pub struct ZoomStandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ZoomStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ZoomStandIn {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback({
            let inner = inner.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let inner = inner.clone();
                async move { handle(&inner, method, uri, headers, body).await }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner, task }
    }

    /// The API base (`ZOOM_API_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/v2", self.url)
    }

    /// The token endpoint (`ZOOM_OAUTH_URL`).
    pub fn oauth_url(&self) -> String {
        format!("{}/oauth/token", self.url)
    }

    /// Environment for a `zoomwatch` process to use this stand-in.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ZOOM_API_URL", self.api_url()),
            ("ZOOM_OAUTH_URL", self.oauth_url()),
            ("ZOOM_ACCOUNT_ID", ACCOUNT_ID.into()),
            ("ZOOM_CLIENT_ID", CLIENT_ID.into()),
            ("ZOOM_CLIENT_SECRET", CLIENT_SECRET.into()),
        ]
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the `zoomwatch` binary against this stand-in (no other credentials, no user
    /// config, no terminal), and checks the client secret appears in none of its output.
    pub fn zoomwatch(&self, args: &[&str]) -> std::process::Output {
        let out = std::process::Command::new(crate::tools::workspace_bin("zoomwatch"))
            .args(args)
            .envs(self.env())
            .env_remove("ZOOM_CREDENTIALS_FILE")
            .env_remove("ZOOM_CREDENTIALS_SECRET")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run zoomwatch");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(CLIENT_SECRET), "the client secret was printed: {all}");
        out
    }

    /// Queues an answer for the next API call.
    pub fn push(&self, f: Fault) {
        self.lock().faults.push_back(f);
    }

    /// Issues tokens that live this many seconds.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.lock().lifetime = Some(secs);
    }

    /// Serves these rows from `GET /report/activities` (`"activities"`),
    /// `/report/operationlogs` (`"operationlogs"`) or the app's `webhook_logs`.
    pub fn set_report(&self, which: &'static str, rows: Vec<Value>) {
        self.lock().reports.insert(which, rows);
    }

    /// Rows per report page (default 2).
    pub fn set_page_rows(&self, n: usize) {
        self.lock().page_rows = n.max(1);
    }

    /// Serves this settings document for `scope` (`account` or `group:ID`; a group is
    /// also listed by `GET /groups` under `name`). The document is the merged shape: the
    /// stand-in splits it into Zoom's views and applies PATCHes to it.
    pub fn set_settings(&self, scope: &str, name: &str, doc: Value) {
        let mut g = self.lock();
        if let Some(id) = scope.strip_prefix("group:") {
            g.groups.retain(|(i, _)| i != id);
            g.groups.push((id.to_owned(), name.to_owned()));
        }
        g.settings.insert(scope.to_owned(), doc);
    }

    /// Serves these account lock settings (merged shape).
    pub fn set_locks(&self, doc: Value) {
        self.lock().locks = Some(doc);
    }

    /// The settings document of `scope` now (after any PATCH).
    pub fn settings(&self, scope: &str) -> Option<Value> {
        self.lock().settings.get(scope).cloned()
    }

    /// Marks a meeting as started.
    pub fn start_meeting(&self, id: &str) {
        self.lock().started.insert(id.to_owned());
    }

    /// API calls received (token requests excluded).
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Token requests that presented the right credentials.
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    /// Requests that matched no documented route or shape.
    pub fn unexpected(&self) -> Vec<String> {
        self.lock().unexpected.clone()
    }
}

fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_null() {
        return status.into_response();
    }
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn handle(inner: &Arc<Mutex<Inner>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let lock = || inner.lock().unwrap_or_else(|e| e.into_inner());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();

    if path == "/oauth/token" {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        let form = if body.is_empty() { query.clone() } else { String::from_utf8_lossy(&body).into_owned() };
        let mut params: Vec<&str> = form.split('&').collect();
        params.sort_unstable();
        let want_params = {
            let mut w = vec!["grant_type=account_credentials".to_owned(), format!("account_id={ACCOUNT_ID}")];
            w.sort_unstable();
            w
        };
        let good = method == Method::POST
            && header("authorization") == format!("Basic {basic}")
            && header("content-type").starts_with("application/x-www-form-urlencoded")
            && params == want_params.iter().map(String::as_str).collect::<Vec<_>>();
        if !good {
            lock().unexpected.push(format!("token request refused: {method} {path} form={form:?}"));
            return answer(400, json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}));
        }
        let mut g = lock();
        g.token_requests += 1;
        let token = format!("standin-token-{}", g.token_requests);
        g.issued.insert(token.clone());
        let lifetime = g.lifetime.unwrap_or(3599);
        return answer(
            200,
            json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime, "scope": "meeting:update:status:admin user:update:status:admin", "api_url": "https://api.zoom.us"}),
        );
    }

    let Some(api_path) = path.strip_prefix("/v2") else {
        lock().unexpected.push(format!("{method} {path}: not below /v2"));
        return answer(404, json!({"code": 404, "message": "Not found"}));
    };
    let token = header("authorization").strip_prefix("Bearer ").map(str::to_owned);
    if !token.as_ref().is_some_and(|t| lock().issued.contains(t)) {
        return answer(401, json!({"code": 124, "message": "Invalid access token."}));
    }
    let json_body: Option<Value> = if body.is_empty() { None } else { serde_json::from_slice(&body).ok() };
    if !body.is_empty() && (json_body.is_none() || !header("content-type").starts_with("application/json")) {
        lock().unexpected.push(format!("{method} {api_path}: body is not application/json"));
        return answer(400, json!({"code": 300, "message": "Invalid request body"}));
    }
    let call = Call { method: method.to_string(), path: api_path.to_owned(), query: query.clone(), body: json_body.clone() };
    let fault = {
        let mut g = lock();
        g.calls.push(call);
        g.faults.pop_front()
    };
    match fault {
        Some(Fault::Answer(status, body, hdrs)) => {
            let mut resp = answer(status, body);
            for (k, v) in hdrs {
                if let Ok(v) = v.parse() {
                    resp.headers_mut().insert(k, v);
                }
            }
            return resp;
        }
        Some(Fault::ExpireToken) => {
            if let Some(t) = &token {
                lock().issued.remove(t);
            }
            return answer(401, json!({"code": 124, "message": "Access token is expired."}));
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    route(inner, &method, api_path, &query, json_body.as_ref())
}

/// The documented routes. `None` from a check means the call was well-formed.
fn route(inner: &Arc<Mutex<Inner>>, method: &Method, path: &str, query: &str, body: Option<&Value>) -> Response {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let wrong = |why: &str| {
        inner.lock().unwrap_or_else(|e| e.into_inner()).unexpected.push(format!("{method} {path}?{query} {body:?}: {why}"));
        answer(404, json!({"code": 404, "message": format!("stand-in: {why}")}))
    };
    let only_keys = |v: &Value, keys: &[&str]| v.as_object().is_some_and(|o| o.keys().all(|k| keys.contains(&k.as_str())));
    match (method.as_str(), seg.as_slice()) {
        ("PUT", ["meetings", _id, "status"]) => match body {
            Some(b) if (b == &json!({"action": "end"}) || b == &json!({"action": "recover"})) => answer(204, Value::Null),
            _ => wrong("meeting status body must be {\"action\":\"end\"|\"recover\"}"),
        },
        ("PATCH", ["meetings", id]) => {
            let Some(b) = body.filter(|b| only_keys(b, &["settings", "password", "topic", "agenda"])) else {
                return wrong("meeting update body must be a meeting object");
            };
            let settings_ok = b.get("settings").is_none_or(|s| {
                only_keys(s, &["waiting_room", "join_before_host", "meeting_authentication", "mute_upon_entry", "approval_type"])
                    && s.as_object().is_some_and(|o| o.values().all(|v| v.is_boolean() || v.is_i64()))
            });
            if !settings_ok || b.get("password").is_some_and(|p| !p.is_string()) {
                return wrong("unknown or mistyped meeting settings");
            }
            if inner.lock().unwrap_or_else(|e| e.into_inner()).started.contains(*id) {
                return answer(
                    400,
                    json!({"code": 3000, "message": "You cannot update or delete meetings that have started using this method."}),
                );
            }
            answer(204, Value::Null)
        }
        ("PATCH", ["live_meetings", _id, "events"]) => match body {
            Some(b)
                if b["method"] == "participant.remove"
                    && b["params"]["participant_uuid"].is_string()
                    && only_keys(b, &["method", "params"])
                    && only_keys(&b["params"], &["participant_uuid"]) =>
            {
                answer(202, Value::Null)
            }
            _ => wrong("in-meeting control body must be {method, params}"),
        },
        ("PUT", ["meetings", _id, "registrants", "status"]) => {
            let ok = body.is_some_and(|b| {
                only_keys(b, &["action", "registrants"])
                    && ["approve", "cancel", "deny"].contains(&b["action"].as_str().unwrap_or(""))
                    && b["registrants"].as_array().is_some_and(|r| {
                        !r.is_empty()
                            && r.len() <= 30
                            && r.iter().all(|x| only_keys(x, &["id", "email"]) && (x["id"].is_string() || x["email"].is_string()))
                    })
            });
            if ok { answer(204, Value::Null) } else { wrong("registrant status body must be {action, registrants:[{id}|{email}]}") }
        }
        ("PUT", ["users", _id, "status"]) => match body {
            Some(b) if ["activate", "deactivate"].iter().any(|a| b == &json!({"action": a})) => answer(200, Value::Null),
            _ => wrong("user status body must be {\"action\":\"activate\"|\"deactivate\"}"),
        },
        ("DELETE", ["users", _id, "token"]) if body.is_none() => answer(204, Value::Null),
        ("GET", ["users", id]) if body.is_none() => answer(
            200,
            json!({"id": "hPk8-Usr-0017AbCdEfGh", "email": percent_decode(id), "first_name": "Helen", "last_name": "Park", "type": 2,
                   "status": "active", "role_name": "Member", "last_login_time": "2026-12-01T09:12:00Z", "last_client_version": "6.4.2.1234 (mac)",
                   "user_created_at": "2024-03-01T08:00:00Z"}),
        ),
        ("GET", ["accounts", "me", "settings"]) if body.is_none() => settings_view(inner, "account", query, false, &wrong),
        ("GET", ["accounts", "me", "lock_settings"]) if body.is_none() => settings_view(inner, "account", query, true, &wrong),
        ("GET", ["groups", id, "settings"]) if body.is_none() => settings_view(inner, &format!("group:{id}"), query, false, &wrong),
        ("PATCH", ["accounts", "me", "settings"]) => settings_patch(inner, "account", query, body, &wrong),
        ("PATCH", ["groups", id, "settings"]) => settings_patch(inner, &format!("group:{id}"), query, body, &wrong),
        ("GET", ["groups"]) if body.is_none() => {
            let size = query.split('&').find_map(|p| p.strip_prefix("page_size=")).and_then(|n| n.parse::<usize>().ok()).unwrap_or(30);
            if size == 0 || size > 300 {
                return wrong("page_size must be 1 to 300");
            }
            let g = inner.lock().unwrap_or_else(|e| e.into_inner());
            let groups: Vec<Value> = g.groups.iter().map(|(id, name)| json!({"id": id, "name": name, "total_members": 3})).collect();
            answer(200, json!({"groups": groups, "total_records": g.groups.len(), "next_page_token": ""}))
        }
        ("GET", ["report", "activities"]) if body.is_none() => report_page(inner, "activities", query, false),
        ("GET", ["report", "operationlogs"]) if body.is_none() => report_page(inner, "operationlogs", query, false),
        ("GET", ["marketplace", "apps", app, "webhook_logs"]) if body.is_none() => {
            if *app != APP_ID {
                return answer(404, json!({"code": 1401, "message": "App ID not found."}));
            }
            report_page(inner, "webhook_logs", query, true)
        }
        ("GET", ["metrics", "meetings", _id, "participants"]) if body.is_none() && query.split('&').any(|p| p == "type=live") => answer(
            200,
            json!({"page_size": 300, "next_page_token": "", "participants": [
                {"id": "hPk8-Usr-0017AbCdEfGh", "user_name": "Helen Park", "email": "helen.park@acme.example", "participant_uuid": "B1C2", "status": "in_meeting", "ip_address": "175.16.199.23", "location": "Changchun (CN)"},
                {"id": "", "user_name": "zoom raid 2026", "email": "", "participant_uuid": "D3E4", "status": "in_meeting", "ip_address": "81.2.69.160", "location": "London (GB)"}
            ]}),
        ),
        _ => wrong("no such route"),
    }
}

/// The answer for a scope the stand-in was given no settings for: Zoom's for a group
/// that does not exist; for the account, a test that forgot to set them.
fn missing_scope(scope: &str, wrong: &dyn Fn(&str) -> Response) -> Response {
    match scope.strip_prefix("group:") {
        Some(id) => answer(404, json!({"code": 4130, "message": format!("Group does not exist: {id}.")})),
        None => wrong("no settings configured for this scope"),
    }
}

/// One view of a scope's settings, as Zoom splits them: no `option` gives the default
/// sections (no `meeting_security`, no authentication flag); `option=meeting_security`
/// gives `{"meeting_security": {…}}`; `option=meeting_authentication` the flag and its
/// options (account and group settings only). Lock settings have only the first two.
fn settings_view(inner: &Arc<Mutex<Inner>>, scope: &str, query: &str, locks: bool, wrong: &dyn Fn(&str) -> Response) -> Response {
    let g = inner.lock().unwrap_or_else(|e| e.into_inner());
    let doc = if locks { g.locks.clone() } else { g.settings.get(scope).cloned() };
    drop(g);
    let Some(doc) = doc else {
        return missing_scope(scope, wrong);
    };
    let option = query.split('&').find_map(|p| p.strip_prefix("option="));
    let others = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("option=")).count();
    if others > 0 {
        return wrong("settings reads take only `option`");
    }
    match option {
        None => {
            let mut d = doc;
            if let Some(o) = d.as_object_mut() {
                o.remove("meeting_security");
                o.remove("meeting_authentication");
            }
            answer(200, d)
        }
        Some("meeting_security") => answer(200, json!({"meeting_security": doc.get("meeting_security").cloned().unwrap_or(json!({}))})),
        Some("meeting_authentication") if !locks => {
            let mut a = json!({"authentication_options": []});
            if let Some(flag) = doc.get("meeting_authentication") {
                a["meeting_authentication"] = flag.clone();
            }
            answer(200, a)
        }
        Some(_) => wrong("unknown settings option"),
    }
}

/// A settings PATCH, held to what a one-setting revert must send: a body with exactly
/// one leaf under one section, the `option` that section's view needs (and no other),
/// a section Zoom has, and the setting already present for this scope. Applied, 204.
fn settings_patch(inner: &Arc<Mutex<Inner>>, scope: &str, query: &str, body: Option<&Value>, wrong: &dyn Fn(&str) -> Response) -> Response {
    let Some(body) = body else { return wrong("a settings PATCH needs a JSON body") };
    let mut path = Vec::new();
    let mut v = body;
    loop {
        match v.as_object() {
            Some(o) if o.len() == 1 => {
                let (k, inner_v) = o.iter().next().expect("one key");
                path.push(k.clone());
                v = inner_v;
            }
            Some(_) => return wrong("the body must hold exactly one setting"),
            None => break,
        }
    }
    if path.is_empty() {
        return wrong("the body must hold exactly one setting");
    }
    let option = query.split('&').find_map(|p| p.strip_prefix("option="));
    let want = match path[0].as_str() {
        "meeting_security" => Some("meeting_security"),
        "meeting_authentication" => Some("meeting_authentication"),
        _ => None,
    };
    if option != want || query.split('&').filter(|p| !p.is_empty()).count() != usize::from(want.is_some()) {
        return wrong("the option must match the setting's section");
    }
    const SECTIONS: &[&str] = &[
        "meeting_security",
        "meeting_authentication",
        "schedule_meeting",
        "in_meeting",
        "email_notification",
        "recording",
        "security",
        "telephony",
        "audio_conferencing",
        "other_options",
        "feature",
        "chat",
    ];
    if !SECTIONS.contains(&path[0].as_str()) || (scope != "account" && path[0] == "security") {
        return wrong("no such settings section for this scope");
    }
    let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
    let Some(doc) = g.settings.get_mut(scope) else {
        drop(g);
        return missing_scope(scope, wrong);
    };
    let mut slot = &mut *doc;
    for k in &path {
        match slot.get_mut(k) {
            Some(next) => slot = next,
            None => {
                drop(g);
                return wrong("the setting is not one this scope has");
            }
        }
    }
    *slot = v.clone();
    answer(204, Value::Null)
}

/// One page of a report: `from`/`to` checked as Zoom does (dates, at most a month; for
/// the delivery log date-times within seven days and `type=2`), rows in the window,
/// `next_page_token` valid only with the same query.
fn report_page(inner: &Arc<Mutex<Inner>>, which: &'static str, query: &str, datetime: bool) -> Response {
    let mut g = inner.lock().unwrap_or_else(|e| e.into_inner());
    let params: Vec<(String, String)> =
        query.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_owned(), percent_decode(v))).collect();
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    let (Some(from), Some(to)) = (get("from"), get("to")) else {
        g.unexpected.push(format!("{which}: from and to are required"));
        return answer(400, json!({"code": 300, "message": "from and to are required"}));
    };
    let parse = |t: &str| {
        let full = if datetime { t.to_owned() } else { format!("{t}T00:00:00Z") };
        time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
            .ok()
            .filter(|_| t.len() == if datetime { 20 } else { 10 })
    };
    let (Some(f), Some(t)) = (parse(&from), parse(&to)) else {
        g.unexpected.push(format!("{which}: bad from/to {from:?} {to:?}"));
        return answer(404, json!({"code": 1503, "message": "Invalid date format."}));
    };
    let limit = if datetime { time::Duration::days(7) } else { time::Duration::days(31) };
    if t < f || t - f > limit || (datetime && get("type").as_deref() != Some("2")) {
        g.unexpected.push(format!("{which}: window {from}..{to} or type not as documented"));
        return answer(400, json!({"code": 300, "message": "The date range is invalid."}));
    }
    let base_query: String =
        params.iter().filter(|(k, _)| k != "next_page_token").map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let offset = match get("next_page_token") {
        None => 0,
        Some(tok) => match g.tokens.get(&tok) {
            Some((q, off)) if *q == base_query => *off,
            _ => {
                g.unexpected.push(format!("{which}: next_page_token {tok:?} with another query or unknown"));
                return answer(400, json!({"code": 300, "message": "Invalid next_page_token."}));
            }
        },
    };
    let time_key = if which == "webhook_logs" { "date_time" } else { "time" };
    let (lo, hi) = if datetime { (from.clone(), to.clone()) } else { (from.clone(), format!("{to}~")) };
    let rows: Vec<Value> = g
        .reports
        .get(which)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r[time_key].as_str().is_some_and(|t| t.replace(' ', "T") >= lo && t.replace(' ', "T") <= hi))
        .collect();
    let per = if g.page_rows == 0 { 2 } else { g.page_rows };
    let page: Vec<Value> = rows.iter().skip(offset).take(per).cloned().collect();
    let next = if offset + per < rows.len() {
        let tok = format!("tok{}", g.tokens.len() + 1);
        g.tokens.insert(tok.clone(), (base_query, offset + per));
        tok
    } else {
        String::new()
    };
    let key = match which {
        "activities" => "activity_logs",
        "operationlogs" => "operation_logs",
        _ => "webhook_logs",
    };
    answer(200, json!({"from": from, "to": to, "page_size": per, "next_page_token": next, key: page}))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
