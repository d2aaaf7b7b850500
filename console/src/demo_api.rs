//! The demo's stand-in for Zoom's REST API, so response actions work with no Zoom
//! account: an OAuth token endpoint and the action and lookup routes, on 127.0.0.1.
//! It follows what the demo's simulator sends ([`DemoZoom::observe`]) to know which
//! meetings run and who is in them, and answers an action the way Zoom would — also
//! with the webhook Zoom would then send: ending the raided meeting makes it send a
//! signed `meeting.ended`, and the meeting closes on the analyst's screen. It also keeps
//! the account's settings: `zoomwatch posture` reads them, the scripted admin's changes
//! land in them, and a revert PATCHes one back and sends the `account.settings_updated`
//! Zoom would.

use crate::clock::now_ms;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use zoomwatch_ingest::send::Sender;
use zoomwatch_zoomapi::Credentials;

/// What the simulator has sent so far.
#[derive(Default)]
struct World {
    /// Meeting objects by number and by UUID.
    meetings: HashMap<String, Value>,
    /// Running meetings (by UUID).
    running: Vec<String>,
    /// Participants in each meeting (by meeting UUID).
    inside: HashMap<String, Vec<Value>>,
    /// Users seen (by id and by email): id, email, name.
    users: HashMap<String, Value>,
    account_id: String,
    issued: Vec<String>,
    /// The account's settings, merged (default sections, `meeting_security`, the
    /// authentication flag).
    settings: Value,
}

/// A well-kept account, with the few low-severity gaps real ones have.
fn demo_settings() -> Value {
    json!({
        "meeting_security": {"waiting_room": true, "auto_security": true, "meeting_password": true, "pmi_password": true, "phone_password": true,
            "embed_password_in_join_link": false, "only_authenticated_can_join_from_webclient": true,
            "waiting_room_settings": {"participants_to_place_in_waiting_room": 1},
            "meeting_password_requirement": {"length": 8, "have_letter": true, "have_number": true, "have_special_character": false,
                "have_upper_and_lower_characters": true, "consecutive_characters_length": 4, "weak_enhance_detection": true, "only_allow_numeric": false}},
        "meeting_authentication": true,
        "schedule_meeting": {"join_before_host": false, "require_password_for_scheduling_new_meetings": true,
            "require_password_for_scheduled_meetings": true, "require_password_for_instant_meetings": true, "host_video": false,
            "participant_video": false, "use_pmi_for_scheduled_meetings": false, "use_pmi_for_instant_meetings": false},
        "in_meeting": {"e2e_encryption": true, "file_transfer": false, "remote_control": false, "remote_support": false,
            "who_can_share_screen": "host", "who_can_share_screen_when_someone_is_sharing": "host", "annotation": true, "whiteboard": true,
            "allow_live_streaming": false, "far_end_camera_control": false, "auto_answer": false, "chat": true, "private_chat": false,
            "allow_participants_to_rename": true, "alert_guest_join": true},
        "recording": {"cloud_recording_download": false, "cloud_recording_download_host": true, "host_delete_cloud_recording": false,
            "required_password_for_shared_cloud_recordings": true, "allow_recovery_deleted_cloud_recordings": true},
        "security": {"password_requirement": {"minimum_password_length": 10, "have_special_character": true,
            "consecutive_characters_length": 0, "weak_enhance_detection": true}, "import_photos_from_devices": false, "hide_billing_info": true}
    })
}

/// Sets `path` (dotted) in `doc`, creating sections as needed.
fn set_path(doc: &mut Value, path: &str, v: Value) {
    let mut slot = doc;
    for k in path.split('.') {
        if !slot.is_object() {
            *slot = json!({});
        }
        slot = slot.as_object_mut().map(|o| o.entry(k.to_owned()).or_insert(Value::Null)).unwrap_or_else(|| unreachable!());
    }
    *slot = v;
}

/// Reads `path` (dotted) in `doc`.
fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

/// Every leaf of a settings object: (dotted path, value).
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v.as_object() {
        Some(o) => {
            for (k, x) in o {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                leaves(&p, x, out);
            }
        }
        None => out.push((prefix.to_owned(), v.clone())),
    }
}

/// The running stand-in.
pub struct DemoZoom {
    /// API base (`…/v2`).
    pub api_url: String,
    /// Token endpoint.
    pub oauth_url: String,
    /// Credentials it accepts.
    pub credentials: Credentials,
    world: Arc<Mutex<World>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DemoZoom {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const CLIENT_ID: &str = "demo-client";

fn lock(w: &Mutex<World>) -> std::sync::MutexGuard<'_, World> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

impl DemoZoom {
    /// Starts on a free loopback port; actions' webhooks go out through `webhooks`.
    pub async fn start(webhooks: Sender) -> std::io::Result<Self> {
        let secret = format!("{:032x}", rand::random::<u128>());
        let world = Arc::new(Mutex::new(World { settings: demo_settings(), ..World::default() }));
        let webhooks = Arc::new(webhooks);
        let basic = {
            use base64::Engine;
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{secret}")))
        };
        let app = axum::Router::new().fallback({
            let world = world.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (world, webhooks, basic) = (world.clone(), webhooks.clone(), basic.clone());
                async move { handle(&world, &webhooks, &basic, method, &uri, &headers, &body) }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            api_url: format!("{base}/v2"),
            oauth_url: format!("{base}/oauth/token"),
            credentials: Credentials::new("demo-account", CLIENT_ID, secret),
            world,
            task,
        })
    }

    /// Learns from a webhook the simulator delivered.
    pub fn observe(&self, body: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
        let event = v["event"].as_str().unwrap_or("");
        let payload = &v["payload"];
        let mut w = lock(&self.world);
        if let Some(a) = payload["account_id"].as_str() {
            w.account_id = a.to_owned();
        }
        if event == "account.settings_updated" {
            // An admin's change: catalogued settings land under their API paths.
            let mut changed = Vec::new();
            leaves("", &payload["object"]["settings"], &mut changed);
            for (path, v) in changed {
                if let Some(api) = zoomwatch_shared::zoom_settings::by_path(&path).and_then(|i| i.api) {
                    set_path(&mut w.settings, api, v);
                }
            }
        }
        let mut object = payload["object"].clone();
        let participant = object.as_object_mut().and_then(|o| o.remove("participant"));
        if event.starts_with("meeting.") {
            let uuid = object["uuid"].as_str().unwrap_or("").to_owned();
            for key in
                [object["id"].as_str().map(str::to_owned).or_else(|| object["id"].as_i64().map(|i| i.to_string())), Some(uuid.clone())]
                    .into_iter()
                    .flatten()
                    .filter(|k| !k.is_empty())
            {
                w.meetings.entry(key).or_insert_with(|| object.clone());
            }
            match event {
                "meeting.started" => w.running.push(uuid.clone()),
                "meeting.ended" => {
                    w.running.retain(|u| u != &uuid);
                    w.inside.remove(&uuid);
                }
                _ => {}
            }
            if let Some(p) = participant {
                let same = |x: &Value| x["participant_uuid"] == p["participant_uuid"] && x["user_id"] == p["user_id"];
                let list = w.inside.entry(uuid).or_default();
                match event {
                    "meeting.participant_joined" => {
                        list.retain(|x| !same(x));
                        list.push(p.clone());
                    }
                    "meeting.participant_left" => list.retain(|x| !same(x)),
                    _ => {}
                }
                let email = p["email"].as_str().unwrap_or("").to_owned();
                let id = p["id"].as_str().unwrap_or("").to_owned();
                let user = json!({"id": id, "email": email, "name": p["user_name"]});
                for k in [id, email].into_iter().filter(|k| !k.is_empty()) {
                    w.users.insert(k, user.clone());
                }
            }
        }
    }
}

fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_null() { status.into_response() } else { (status, [("content-type", "application/json")], body.to_string()).into_response() }
}

fn not_found(what: &str) -> Response {
    answer(404, json!({"code": 3001, "message": format!("{what} is not found or has expired.")}))
}

fn decode(s: &str) -> String {
    let mut cur = s.to_owned();
    // At most twice: Zoom's double encoding of some UUIDs.
    for _ in 0..2 {
        let next = percent_encoding::percent_decode_str(&cur).decode_utf8_lossy().into_owned();
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// Zoom sends whole seconds; the stand-in keeps milliseconds so that, with the demo
/// played very fast, an action's webhook is never dated before the joins it follows.
fn zoom_time(ms: i64) -> String {
    zoomwatch_shared::timefmt::format_ms(ms)
}

/// Sends a webhook as Zoom would after an action.
fn notify(webhooks: &Arc<Sender>, body: Value) {
    let webhooks = webhooks.clone();
    tokio::spawn(async move {
        let _ = webhooks.send(body.to_string().into_bytes(), None).await;
    });
}

fn handle(
    world: &Mutex<World>,
    webhooks: &Arc<Sender>,
    basic: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    if uri.path() == "/oauth/token" {
        if method != Method::POST || header("authorization") != basic {
            return answer(400, json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}));
        }
        let token = format!("demo-{:016x}", rand::random::<u64>());
        lock(world).issued.push(token.clone());
        return answer(200, json!({"access_token": token, "token_type": "bearer", "expires_in": 3599}));
    }
    let token = header("authorization").strip_prefix("Bearer ").unwrap_or("");
    if !lock(world).issued.iter().any(|t| t == token) {
        return answer(401, json!({"code": 124, "message": "Invalid access token."}));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let path = uri.path().strip_prefix("/v2").unwrap_or("");
    let seg: Vec<String> = path.trim_start_matches('/').split('/').map(decode).collect();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let mut w = lock(world);
    let account = w.account_id.clone();
    match (method.as_str(), seg.as_slice()) {
        ("PUT", ["meetings", id, "status"]) if body["action"] == "end" => {
            let Some(m) = w.meetings.get(*id).cloned() else { return not_found(&format!("Meeting {id}")) };
            let uuid = m["uuid"].as_str().unwrap_or("").to_owned();
            if !w.running.contains(&uuid) {
                return answer(400, json!({"code": 3000, "message": "Cannot end a meeting that has not started."}));
            }
            let mut object = m;
            object["end_time"] = json!(zoom_time(now_ms()));
            notify(webhooks, json!({"event": "meeting.ended", "event_ts": now_ms(), "payload": {"account_id": account, "object": object}}));
            answer(204, Value::Null)
        }
        ("PATCH", ["meetings", id]) => {
            let Some(m) = w.meetings.get(*id) else { return not_found(&format!("Meeting {id}")) };
            if w.running.iter().any(|u| Some(u.as_str()) == m["uuid"].as_str()) {
                return answer(
                    400,
                    json!({"code": 3000, "message": "You cannot update or delete meetings that have started using this method."}),
                );
            }
            answer(204, Value::Null)
        }
        ("PATCH", ["live_meetings", id, "events"]) if body["method"] == "participant.remove" => {
            let Some(m) = w.meetings.get(*id).cloned() else { return not_found(&format!("Meeting {id}")) };
            let uuid = m["uuid"].as_str().unwrap_or("").to_owned();
            let who = body["params"]["participant_uuid"].clone();
            let list = w.inside.entry(uuid).or_default();
            let Some(pos) = list.iter().position(|p| p["participant_uuid"] == who) else {
                return answer(400, json!({"code": 300, "message": "The participant is not in the meeting."}));
            };
            let mut p = list.remove(pos);
            p["leave_time"] = json!(zoom_time(now_ms()));
            p["leave_reason"] = json!(format!(
                "{} left the meeting.<br>Reason: Host removed the participant from the meeting.",
                p["user_name"].as_str().unwrap_or("")
            ));
            let mut object = m;
            object["participant"] = p;
            notify(
                webhooks,
                json!({"event": "meeting.participant_left", "event_ts": now_ms(), "payload": {"account_id": account, "object": object}}),
            );
            answer(202, Value::Null)
        }
        ("PUT", ["meetings", _, "registrants", "status"]) if body["action"] == "deny" => answer(204, Value::Null),
        ("PUT", ["users", id, "status"]) if body["action"] == "deactivate" => {
            let Some(u) = w.users.get(*id).cloned() else { return answer(404, json!({"code": 1001, "message": "User does not exist."})) };
            notify(
                webhooks,
                json!({"event": "user.deactivated", "event_ts": now_ms(), "payload": {"account_id": account, "operator": "zoomwatch-demo@acme.example", "operator_id": "demo-admin", "object": {"id": u["id"], "email": u["email"], "first_name": u["name"], "type": 2}}}),
            );
            answer(200, Value::Null)
        }
        ("DELETE", ["users", id, "token"]) => {
            if !w.users.contains_key(*id) {
                return answer(404, json!({"code": 1001, "message": "User does not exist."}));
            }
            answer(204, Value::Null)
        }
        ("GET", ["users", id]) => match w.users.get(*id) {
            Some(u) => answer(
                200,
                json!({"id": u["id"], "email": u["email"], "first_name": u["name"], "last_name": "", "type": 2, "status": "active", "role_name": "Member", "last_login_time": zoom_time(now_ms() - 3_600_000)}),
            ),
            None => answer(404, json!({"code": 1001, "message": "User does not exist."})),
        },
        ("GET", ["metrics", "meetings", id, "participants"]) => {
            let Some(m) = w.meetings.get(*id).cloned() else { return not_found(&format!("Meeting {id}")) };
            let uuid = m["uuid"].as_str().unwrap_or("");
            let list: Vec<Value> = w
                .inside
                .get(uuid)
                .map(|l| {
                    l.iter()
                        .map(|p| json!({"id": p["id"], "user_name": p["user_name"], "email": p["email"], "participant_uuid": p["participant_uuid"], "status": "in_meeting", "ip_address": p["public_ip"], "location": ""}))
                        .collect()
                })
                .unwrap_or_default();
            drop(w);
            answer(200, json!({"page_size": 300, "next_page_token": "", "total_records": list.len(), "participants": list}))
        }
        ("GET", ["accounts", "me", "settings"]) => {
            let option = uri.query().unwrap_or("").split('&').find_map(|p| p.strip_prefix("option="));
            let doc = w.settings.clone();
            match option {
                Some("meeting_security") => answer(200, json!({"meeting_security": doc["meeting_security"]})),
                Some("meeting_authentication") => {
                    answer(200, json!({"meeting_authentication": doc["meeting_authentication"], "authentication_options": []}))
                }
                _ => {
                    let mut d = doc;
                    if let Some(o) = d.as_object_mut() {
                        o.remove("meeting_security");
                        o.remove("meeting_authentication");
                    }
                    answer(200, d)
                }
            }
        }
        ("GET", ["accounts", "me", "lock_settings"]) => answer(200, json!({"meeting_security": {"waiting_room": true}})),
        ("GET", ["groups"]) => answer(200, json!({"groups": [], "total_records": 0, "next_page_token": ""})),
        ("PATCH", ["accounts", "me", "settings"]) => {
            let mut one = Vec::new();
            leaves("", &body, &mut one);
            let [(path, value)] = &one[..] else {
                return answer(400, json!({"code": 300, "message": "The demo's stand-in takes one setting per change."}));
            };
            let old = get_path(&w.settings, path).cloned().unwrap_or(Value::Null);
            set_path(&mut w.settings, path, value.clone());
            let mut old_settings = json!({});
            set_path(&mut old_settings, path, old);
            notify(
                webhooks,
                json!({"event": "account.settings_updated", "event_ts": now_ms(), "payload": {"account_id": account,
                    "operator": "zoomwatch-demo@acme.example", "operator_id": "demo-admin", "time_stamp": now_ms(),
                    "object": {"id": account, "settings": body}, "old_object": {"id": account, "settings": old_settings}}}),
            );
            answer(204, Value::Null)
        }
        _ => answer(404, json!({"code": 404, "message": "The demo's Zoom stand-in does not know this call."})),
    }
}
