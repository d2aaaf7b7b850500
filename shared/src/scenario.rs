//! A scripted account day, as the webhook bodies Zoom would send: several meetings with
//! rosters, admin changes, and planted incidents among benign noise. `zoomwatch demo`
//! plays it through the real receiver; the tests use it to check that each incident
//! raises its alert and the noise raises nothing above `low`.
//!
//! Shapes follow the fixtures in `testdata/zoom` (field names, string/number ids,
//! guests with empty ids, `old_object` diffs). Times are `t0` plus an offset, so the
//! same script can be replayed "now" or in the past.
//!
//! Addresses are ones MaxMind's test databases know ([`geoip`], bundled from
//! `testdata/mmdb`): the offices are in Milton (US), Linköping (SE) and Boxford (GB), the
//! raid comes through London addresses marked as Tor exits and VPNs, and a stolen
//! session turns up in Changchun (CN). The demo enriches with those databases, so it
//! shows countries and location alerts without any configuration.

use serde_json::{Value, json};

use crate::geo::{DbKind, GeoIp};
use crate::timefmt::format_ms;

/// MaxMind's test databases (City, ASN, Anonymous-IP; a few KB each, see
/// `testdata/mmdb/SOURCES.md`), built into the binary so the demo enriches with no
/// configuration. They hold made-up data for a few networks: never use them for real.
pub fn geoip() -> GeoIp {
    const CITY: &[u8] = include_bytes!("../../testdata/mmdb/GeoLite2-City-Test.mmdb");
    const ASN: &[u8] = include_bytes!("../../testdata/mmdb/GeoLite2-ASN-Test.mmdb");
    const ANON: &[u8] = include_bytes!("../../testdata/mmdb/GeoIP2-Anonymous-IP-Test.mmdb");
    let mut g = GeoIp::new();
    for (kind, bytes, name) in [
        (DbKind::City, CITY, "GeoLite2-City-Test"),
        (DbKind::Asn, ASN, "GeoLite2-ASN-Test"),
        (DbKind::Anonymous, ANON, "GeoIP2-Anonymous-IP-Test"),
    ] {
        // The bundled files are tested to open (tests/geo.rs); were one damaged, the demo
        // would run without it rather than not at all.
        let _ = g.add(kind, bytes.to_vec(), &format!("{name} (bundled test database)"));
    }
    g
}

/// Rules the planted incidents raise besides their own, each once: the raid's hostile
/// display names, the raid arriving through Tor exits and VPNs, and the stolen session
/// that puts one account in two meetings at once.
pub const SIDE_EFFECTS: &[&str] = &["anonymizer-join", "concurrent-sessions", "suspicious-display-name"];

/// Every alert above `low` the day raises when enriched with [`geoip`]: the planted
/// incidents and their [`SIDE_EFFECTS`], sorted.
pub fn expected_alerts() -> Vec<&'static str> {
    let mut v = planted_incidents();
    v.extend_from_slice(SIDE_EFFECTS);
    v.sort_unstable();
    v
}

/// The `zoomwatch.toml` the scenario is meant to be watched with.
pub const CONFIG: &str = r#"
[organization]
internal_domains = ["acme.example"]
# The last is the account the demo's Zoom stand-in reports zoomwatch's own actions as.
admin_operators = ["it-admin@acme.example", "morgan.reyes@acme.example", "dana.whitfield@acme.example", "lena.ortiz@acme.example", "zoomwatch-demo@acme.example"]
"#;

/// What a scripted event is there for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Normal activity; must not raise anything above `low`.
    Benign,
    /// Part of a planted incident; the name says which alert it should raise.
    Incident(&'static str),
}

/// One webhook delivery of the script.
#[derive(Debug, Clone)]
pub struct Step {
    /// Milliseconds after the start of the script.
    pub offset_ms: i64,
    /// The exact body Zoom would POST.
    pub body: Vec<u8>,
    /// Why it is there.
    pub purpose: Purpose,
}

/// The scripted account's id.
pub const ACCOUNT: &str = "Acme9xQmR2-tVbWcDeFgHi";

struct Person {
    name: &'static str,
    email: &'static str,
    id: &'static str,
}

const MORGAN: Person = Person { name: "Morgan Reyes", email: "morgan.reyes@acme.example", id: "mRy7-Host-0001AbCdEfGh" };
const HELEN: Person = Person { name: "Helen Park", email: "helen.park@acme.example", id: "hPk8-Usr-0017AbCdEfGh" };
const DANA: Person = Person { name: "Dana Whitfield", email: "dana.whitfield@acme.example", id: "dWf3-Host-0002AbCdEfGh" };
const LENA: Person = Person { name: "Lena Ortiz", email: "lena.ortiz@acme.example", id: "lOz5-Host-0003AbCdEfGh" };
const STAFF: &[Person] = &[
    Person { name: "Priya Natarajan", email: "priya.n@acme.example", id: "pNt1-Usr-0010AbCdEfGh" },
    Person { name: "Tom Becker", email: "tom.becker@acme.example", id: "tBk2-Usr-0011AbCdEfGh" },
    Person { name: "Aiko Tanaka", email: "aiko.tanaka@acme.example", id: "aTk3-Usr-0012AbCdEfGh" },
    Person { name: "Samuel Okafor", email: "samuel.okafor@acme.example", id: "sOk4-Usr-0013AbCdEfGh" },
    Person { name: "Łukasz Wójcik", email: "lukasz.wojcik@acme.example", id: "lWj5-Usr-0014AbCdEfGh" },
    Person { name: "김민준", email: "minjun.kim@acme.example", id: "mjK6-Usr-0015AbCdEfGh" },
    Person { name: "Grace Liu", email: "grace.liu@acme.example", id: "gLu7-Usr-0016AbCdEfGh" },
];

struct Mtg {
    id: &'static str,
    uuid: &'static str,
    topic: &'static str,
    host: &'static Person,
}

const ALL_HANDS: Mtg = Mtg { id: "84512345678", uuid: "aLlH4nds/Q3+2026xYz0w==", topic: "Company all-hands", host: &MORGAN };
const BOARD: Mtg = Mtg { id: "86623456789", uuid: "b0ArD+rEvIeW/Q3abcDEfg==", topic: "Q3 Board Review (confidential)", host: &DANA };
const STANDUP: Mtg = Mtg { id: "87734567890", uuid: "eNgStAnDuP9x8y7z6w5v4A==", topic: "Eng stand-up", host: &LENA };

struct Script {
    t0: i64,
    /// Playback speed: script seconds are divided by it.
    speed: f64,
    steps: Vec<Step>,
}

fn body(event: &str, event_ts: i64, payload: Value) -> Vec<u8> {
    let v = json!({"event": event, "payload": payload, "event_ts": event_ts});
    serde_json::to_vec(&v).unwrap_or_default()
}

fn meeting_object(m: &Mtg, t0: i64) -> serde_json::Map<String, Value> {
    let mut o = serde_json::Map::new();
    o.insert("id".into(), json!(m.id));
    o.insert("uuid".into(), json!(m.uuid));
    o.insert("host_id".into(), json!(m.host.id));
    o.insert("topic".into(), json!(m.topic));
    o.insert("type".into(), json!(2));
    o.insert("start_time".into(), json!(format_ms(t0).replace(".000", "")));
    o.insert("timezone".into(), json!("America/New_York"));
    o.insert("duration".into(), json!(60));
    o
}

fn zoom_time(ms: i64) -> String {
    // Zoom sends whole seconds: 2025-06-04T19:11:50Z
    let s = format_ms(ms);
    format!("{}Z", &s[..19])
}

impl Script {
    /// Milliseconds after the start for script second `secs`.
    fn ms(&self, secs: f64) -> i64 {
        (secs * 1000.0 / self.speed) as i64
    }

    /// Unix ms of script second `secs`.
    fn t(&self, secs: f64) -> i64 {
        self.t0 + self.ms(secs)
    }

    fn at(&mut self, secs: f64, purpose: Purpose, event: &str, payload: Value) {
        let offset_ms = self.ms(secs);
        let ts = self.t0 + offset_ms;
        self.steps.push(Step { offset_ms, body: body(event, ts + 137, payload), purpose });
    }

    /// Re-sends the previous body (a Zoom retry): same bytes, same record id.
    fn retry_last(&mut self, after_secs: f64) {
        if let Some(last) = self.steps.last().cloned() {
            self.steps.push(Step { offset_ms: last.offset_ms + self.ms(after_secs), body: last.body, purpose: Purpose::Benign });
        }
    }

    fn meeting_event(&mut self, secs: f64, purpose: Purpose, event: &str, m: &Mtg, extra: Value) {
        let mut o = meeting_object(m, self.t0);
        if let Value::Object(x) = extra {
            o.extend(x);
        }
        let payload = json!({"account_id": ACCOUNT, "object": o});
        self.at(secs, purpose, event, payload);
    }

    fn admin(&mut self, secs: f64, purpose: Purpose, event: &str, operator: &Person, object: Value, old: Option<Value>) {
        let ts = self.t(secs);
        let mut p =
            json!({"account_id": ACCOUNT, "operator": operator.email, "operator_id": operator.id, "object": object, "time_stamp": ts});
        if let (Some(old), Value::Object(map)) = (old, &mut p) {
            map.insert("old_object".into(), old);
        }
        self.at(secs, purpose, event, p);
    }

    #[allow(clippy::too_many_arguments)]
    fn participant(&mut self, secs: f64, purpose: Purpose, action: &str, m: &Mtg, part: Value, time_key: &str, time_secs: f64) {
        let mut part = part;
        if let Value::Object(p) = &mut part {
            p.insert(time_key.into(), json!(zoom_time(self.t(time_secs))));
        }
        let mut o = meeting_object(m, self.t0);
        o.insert("participant".into(), part);
        let payload = json!({"account_id": ACCOUNT, "object": o});
        self.at(secs, purpose, &format!("meeting.participant_{action}"), payload);
    }

    fn member_join(&mut self, secs: f64, m: &Mtg, p: &Person, session: u32, ip: &str) {
        let part = member(p, session, ip);
        self.participant(secs, Purpose::Benign, "joined", m, part, "join_time", secs);
    }

    fn member_leave(&mut self, secs: f64, m: &Mtg, p: &Person, session: u32, ip: &str, at_secs: f64) {
        let mut part = member(p, session, ip);
        if let Value::Object(o) = &mut part {
            o.insert("leave_reason".into(), json!(format!("{} left the meeting.<br>Reason: left the meeting", p.name)));
        }
        self.participant(secs, Purpose::Benign, "left", m, part, "leave_time", at_secs);
    }
}

fn member(p: &Person, session: u32, ip: &str) -> Value {
    json!({
        "user_id": format!("{}", 16_778_240 + session),
        "user_name": p.name,
        "id": p.id,
        "participant_uuid": format!("{:08X}-7E57-4C3D-9E8F-{:012X}", session, session),
        "email": p.email,
        "participant_user_id": p.id,
        "public_ip": ip,
        "registrant_id": ""
    })
}

fn guest(name: &str, session: u32, ip: &str) -> Value {
    guest_on_device(name, session, session, ip)
}

/// A guest; `device` picks the `participant_uuid`, which Zoom keeps across rejoins.
fn guest_on_device(name: &str, session: u32, device: u32, ip: &str) -> Value {
    json!({
        "id": "",
        "email": "",
        "user_id": format!("{}", 16_800_000 + session),
        "public_ip": ip,
        "user_name": name,
        "participant_uuid": format!("{device:08X}-0BAD-4C3D-9E8F-{device:012X}"),
        "participant_user_id": ""
    })
}

/// Display names of the raid, hostile on purpose (escape sequences, bidi override, URL).
pub const RAID_NAMES: &[&str] = &[
    "xXbomberXx",
    "FREE CRYPTO http://scam.example",
    "\u{1b}[2J\u{1b}[31mhacked\u{1b}[0m",
    "admin\u{202E}gpj.exe",
    "guest-4411",
    "Troll Patrol",
    "iPhone",
    "Dave",
    "zoom raid 2026",
    "Jimmy",
    "Guest",
    "Kev",
];

/// The script, starting at `t0_ms` (Unix ms). About 15 minutes long.
pub fn account_day(t0_ms: i64) -> Vec<Step> {
    account_day_at_speed(t0_ms, 1.0)
}

/// The script compressed `speed` times: offsets and payload times both shrink, so the
/// records look like a real day played fast (the demo's `--speed`).
pub fn account_day_at_speed(t0_ms: i64, speed: f64) -> Vec<Step> {
    use Purpose::{Benign, Incident};
    let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
    let mut s = Script { t0: t0_ms, speed, steps: Vec::new() };

    s.at(0.0, Benign, "endpoint.url_validation", json!({"plainToken": "dEmO-pLaInToKeN-0001"}));
    for (i, p) in [&MORGAN, &DANA, &LENA].into_iter().enumerate() {
        s.at(2.0 + i as f64, Benign, "user.signed_in", json!({"account_id": ACCOUNT, "object": {"id": p.id, "client_type": "mac", "date_time": zoom_time(s.t(2.0 + i as f64)), "email": p.email, "version": "6.4.2.1234", "login_type": 100}}));
    }
    for m in [&ALL_HANDS, &BOARD, &STANDUP] {
        s.admin(
            6.0,
            Benign,
            "meeting.created",
            m.host,
            {
                let mut o = meeting_object(m, t0_ms);
                o.insert("password".into(), json!("Xy12Ab"));
                o.insert("join_url".into(), json!(format!("https://acme.zoom.us/j/{}?pwd=aBcDeFgHiJkLmNoP.1", m.id)));
                o.insert("settings".into(), json!({"waiting_room": false, "join_before_host": false, "meeting_authentication": false}));
                Value::Object(o)
            },
            None,
        );
    }

    // Eng stand-up: a normal meeting with a retry, a rejoin and a late leave.
    s.meeting_event(20.0, Benign, "meeting.started", &STANDUP, json!({}));
    // The engineering office is in Linköping (89.160.20.112/28 in the test databases).
    s.member_join(21.0, &STANDUP, &LENA, 1, "89.160.20.113");
    for (i, p) in STAFF.iter().take(3).enumerate() {
        s.member_join(24.0 + i as f64 * 2.0, &STANDUP, p, 10 + i as u32, &format!("89.160.20.{}", 120 + i));
    }
    s.retry_last(5.0); // Zoom retried a delivery: same body, same id.
    s.member_join(60.0, &STANDUP, &STAFF[0], 13, "89.160.20.120"); // Priya rejoins after a network drop…
    s.member_leave(62.0, &STANDUP, &STAFF[0], 10, "89.160.20.120", 55.0); // …and her earlier leave arrives late.

    // Company all-hands: the host and staff join.
    s.meeting_event(90.0, Benign, "meeting.started", &ALL_HANDS, json!({}));
    // Head office: Milton (216.160.83.56/29).
    s.member_join(91.0, &ALL_HANDS, &MORGAN, 30, "216.160.83.56");
    for (i, p) in STAFF.iter().enumerate().skip(3) {
        s.member_join(93.0 + i as f64, &ALL_HANDS, p, 30 + i as u32, &format!("216.160.83.{}", 54 + i));
    }

    // Board review: an external address joins a confidential meeting.
    s.meeting_event(150.0, Benign, "meeting.started", &BOARD, json!({}));
    s.member_join(151.0, &BOARD, &DANA, 50, "216.160.83.62");
    s.member_join(155.0, &BOARD, &HELEN, 51, "2.125.160.217"); // Helen works from Boxford (GB)
    s.participant(170.0, Incident("sensitive-meeting-outsider"), "joined", &BOARD, json!({
        "user_id": "16790528", "user_name": "J. Doe", "id": "xT9-Ext-77AbCdEfGhIj", "participant_uuid": "67C1A429-1476-BE1C-7324-EDCA76B69406",
        "email": "jdoe@freemail.example", "participant_user_id": "xT9-Ext-77AbCdEfGhIj", "public_ip": "203.0.113.77"
    }), "join_time", 170.0);

    // Helen's account, still in the board review from Boxford, joins the all-hands from
    // Changchun a minute later: 7,900 km apart, both sessions live. A stolen session.
    s.participant(215.0, Incident("impossible-travel"), "joined", &ALL_HANDS, member(&HELEN, 52, "175.16.199.23"), "join_time", 215.0);

    // The raid on the all-hands: twelve guests in 25 seconds, hostile names among them.
    for (i, name) in RAID_NAMES.iter().enumerate() {
        let secs = 240.0 + i as f64 * 2.1;
        s.participant(
            secs,
            Incident("join-burst"),
            "joined",
            &ALL_HANDS,
            guest(name, 100 + i as u32, &format!("81.2.69.{}", 160 + i)), // Tor exits / VPNs
            "join_time",
            secs,
        );
    }
    // A guest takes the host's display name.
    s.participant(
        270.0,
        Incident("display-name-impersonation"),
        "joined",
        &ALL_HANDS,
        guest("Morgan Reyes", 140, "81.2.69.190"),
        "join_time",
        270.0,
    );
    // The host removes a raider, who comes straight back from the same device.
    let mut removed = guest(RAID_NAMES[0], 100, "81.2.69.160");
    if let Value::Object(o) = &mut removed {
        o.insert("leave_reason".into(), json!("xXbomberXx left the meeting.<br>Reason: Host removed the participant from the meeting."));
    }
    s.participant(300.0, Benign, "left", &ALL_HANDS, removed, "leave_time", 300.0);
    s.participant(
        330.0,
        Incident("rejoin-after-removal"),
        "joined",
        &ALL_HANDS,
        guest_on_device("bomber_is_back", 141, 100, "81.2.69.160"),
        "join_time",
        330.0,
    );
    // …and shares their screen with the whole company.
    let shared_at = zoom_time(s.t(345.0));
    s.meeting_event(
        345.0,
        Incident("outsider-screen-share"),
        "meeting.sharing_started",
        &ALL_HANDS,
        json!({"participant": {
        "id": "", "user_id": "141", "user_name": "bomber_is_back",
        "sharing_details": {"content": "desktop", "link_source": "", "file_link": "", "date_time": shared_at, "source": ""}}}),
    );
    s.meeting_event(360.0, Incident("meeting-risk-alert"), "meeting.risk_alert", &ALL_HANDS, json!({"host_email": MORGAN.email, "armn_details": {
        "post_platform": "reddit", "social_link": "https://social.example/r/zoomraids/comments/abc123", "post_time": zoom_time(s.t(200.0)),
        "post_user": "raid_organizer", "meeting_url": "https://acme.zoom.us/j/84512345678",
        "recommended_enable_settings": ["enablePassword", "enableWaitingRoom"], "recommended_disable_settings": ["enableScreenShareHostOnly"]}}));

    // Admin changes: one weakening, one privilege grant, one strengthening (benign).
    let it_admin = Person { name: "IT Admin", email: "it-admin@acme.example", id: "iTa9-Adm-0100AbCdEfGh" };
    s.admin(420.0, Incident("policy-drift"), "account.settings_updated", &it_admin,
        json!({"id": ACCOUNT, "settings": {"in_meeting": {"waiting_room": false}, "schedule_meeting": {"require_password_for_scheduled_meetings": false}}}),
        Some(json!({"id": ACCOUNT, "settings": {"in_meeting": {"waiting_room": true}, "schedule_meeting": {"require_password_for_scheduled_meetings": true}}})));
    s.admin(
        440.0,
        Incident("privilege-granted"),
        "group.admin_added",
        &it_admin,
        json!({"id": "grp-Finance-01", "admins": [{"id": "cTr8-Usr-0200AbCdEfGh", "email": "contractor.ops@acme.example"}]}),
        None,
    );
    s.admin(
        460.0,
        Benign,
        "account.settings_updated",
        &it_admin,
        json!({"id": ACCOUNT, "settings": {"in_meeting": {"e2e_encryption": true}}}),
        Some(json!({"id": ACCOUNT, "settings": {"in_meeting": {"e2e_encryption": false}}})),
    );
    // The stand-up's passcode is removed.
    s.admin(
        500.0,
        Incident("meeting-security-weakened"),
        "meeting.updated",
        &LENA,
        json!({"id": STANDUP.id.parse::<i64>().unwrap_or(0), "password": ""}),
        Some(json!({"id": STANDUP.id.parse::<i64>().unwrap_or(0), "password": "Xy12Ab"})),
    );

    // Benign tail: leaves, meetings ending, an event type zoomwatch does not know.
    for (i, p) in STAFF.iter().take(3).enumerate() {
        s.member_leave(
            600.0 + i as f64,
            &STANDUP,
            p,
            if i == 0 { 13 } else { 10 + i as u32 },
            &format!("89.160.20.{}", 120 + i),
            600.0 + i as f64,
        );
    }
    s.meeting_event(610.0, Benign, "meeting.ended", &STANDUP, json!({"end_time": zoom_time(s.t(610.0))}));
    s.at(
        640.0,
        Benign,
        "phone.callee_ringing",
        json!({"account_id": ACCOUNT, "object": {"id": "call-1", "callee": {"extension_number": 1042}}}),
    );
    s.at(700.0, Benign, "user.signed_out", json!({"account_id": ACCOUNT, "object": {"id": LENA.id, "client_type": "mac", "date_time": zoom_time(s.t(700.0)), "email": LENA.email, "version": "6.4.2.1234", "login_type": "100"}}));
    s.meeting_event(900.0, Benign, "meeting.ended", &BOARD, json!({"end_time": zoom_time(s.t(900.0))}));

    s.steps.sort_by_key(|st| st.offset_ms);
    s.steps
}

/// The alerts the script plants, by rule id (each exactly once).
pub fn planted_incidents() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = account_day(0)
        .iter()
        .filter_map(|s| match s.purpose {
            Purpose::Incident(rule) => Some(rule),
            Purpose::Benign => None,
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}
