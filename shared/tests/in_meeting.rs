//! A day of the zoombomber's next moves, with the benign look-alikes a real account has
//! beside them, through one detector: every incident raised at medium or above by a rule
//! of its class, no look-alike at medium or above, and Zoom's retries never raising an
//! alert twice. Written independently of the per-rule corpus: the classes meet here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector};
use zoomwatch_shared::{Envelope, Received, normalize};

const T0: i64 = 1_796_200_000_000;
const CFG: &str = "[organization]\ninternal_domains = [\"acme.example\"]\nknown_people = [\"Priya Natarajan\"]\n";

struct Day {
    bodies: Vec<(i64, Value)>,
}

impl Day {
    fn at(&mut self, secs: i64, event: &str, object: Value) {
        self.at_with(secs, event, object, None);
    }

    fn at_with(&mut self, secs: i64, event: &str, object: Value, old: Option<Value>) {
        let t = T0 + secs * 1000;
        let mut payload = json!({"account_id": "A", "operator": "lena@acme.example", "object": object});
        if let Some(o) = old {
            payload["old_object"] = o;
        }
        self.bodies.push((t, json!({"event": event, "event_ts": t, "payload": payload})));
    }
}

fn meeting(id: &str, uuid: &str, topic: &str) -> Value {
    json!({"id": id, "uuid": uuid, "topic": topic, "host_id": "HOST1", "type": 2})
}

fn with(mut m: Value, key: &str, v: Value) -> Value {
    m[key] = v;
    m
}

fn member(name: &str, email: &str, id: &str, at: i64) -> Value {
    json!({"user_name": name, "email": email, "id": id, "participant_user_id": id, "user_id": format!("{}", 10 + at),
        "participant_uuid": format!("P-{id}"), "join_time": format!("t{at}")})
}

fn guest(name: &str, uuid: &str) -> Value {
    json!({"user_name": name, "id": "", "user_id": uuid, "participant_uuid": uuid})
}

fn day() -> Vec<RecordV1> {
    let mut d = Day { bodies: Vec::new() };
    let board = meeting("9001", "B1", "Board strategy review");
    let sales = meeting("9002", "S1", "Sales sync");
    let town = meeting("9003", "T1", "Town hall");
    for (m, at) in [(&board, 0), (&sales, 0), (&town, 0)] {
        d.at(at, "meeting.started", m.clone());
        let host = member("Lena Ortiz", "lena@acme.example", "HOST1", at);
        d.at(at + 1, "meeting.participant_joined", with(m.clone(), "participant", host));
    }
    // Benign: the host shares in the board meeting; a colleague is made co-host.
    d.at(20, "meeting.participant_joined", with(board.clone(), "participant", member("Priya Natarajan", "priya@acme.example", "Z2", 20)));
    d.at(
        30,
        "meeting.sharing_started",
        with(board.clone(), "participant", json!({"user_name": "Lena Ortiz", "id": "HOST1", "user_id": "11"})),
    );
    d.at(
        40,
        "meeting.participant_role_changed",
        with(
            board.clone(),
            "participant",
            json!({"user_name": "Priya Natarajan", "email": "priya@acme.example", "participant_user_id": "Z2", "participant_uuid": "P-Z2",
            "old_role": "attendee", "new_role": "co-host"}),
        ),
    );
    // Benign: a colleague who shares a first name, as co-host; an internal alternative host.
    d.at(50, "meeting.participant_joined", with(sales.clone(), "participant", member("Priya (Co-Host)", "priya.k@acme.example", "Z3", 50)));
    d.at_with(
        60,
        "meeting.updated",
        json!({"id": "9002", "uuid": "S1", "settings": {"alternative_hosts": "dana@acme.example"}}),
        Some(json!({"id": "9002", "uuid": "S1", "settings": {"alternative_hosts": ""}})),
    );
    // Benign: registrations for the launch webinar spread over the afternoon.
    for i in 0..25 {
        let o =
            json!({"id": "7001", "uuid": "W1", "topic": "Launch", "type": 5, "registrant": {"email": format!("c{i}@customer{i}.example")}});
        d.at(100 + i * 600, "webinar.registration_created", o);
    }

    // Incident: a guest in the board meeting shares their screen.
    d.at(200, "meeting.participant_joined", with(board.clone(), "participant", guest("Visitor 7", "G-77")));
    d.at(
        230,
        "meeting.sharing_started",
        with(board.clone(), "participant", json!({"user_name": "Visitor 7", "id": "", "user_id": "G-77"})),
    );
    // Incident: an external participant made co-host of the sales sync.
    d.at(300, "meeting.participant_joined", with(sales.clone(), "participant", member("Pat Vendor", "pat@vendor.example", "EXT1", 300)));
    d.at(
        320,
        "meeting.participant_role_changed",
        with(
            sales.clone(),
            "participant",
            json!({"user_name": "Pat Vendor", "email": "pat@vendor.example", "participant_user_id": "EXT1", "participant_uuid": "P-EXT1",
            "old_role": "attendee", "new_role": "co-host"}),
        ),
    );
    // Incident: a raid on the town hall that trickles, one guest every 70 s.
    for i in 0..13 {
        d.at(
            400 + i * 70,
            "meeting.participant_joined",
            with(town.clone(), "participant", guest(&format!("viewer{i}"), &format!("TR-{i}"))),
        );
    }
    // Incident: an impersonator in costume.
    d.at(1500, "meeting.participant_joined", with(board.clone(), "participant", guest("IT Support - Priya Natarajan", "G-99")));
    // Incident: an outside alternative host added to the board meeting.
    d.at_with(
        1600,
        "meeting.updated",
        json!({"id": "9001", "uuid": "B1", "settings": {"alternative_hosts": "helper@outside.example"}}),
        Some(json!({"id": "9001", "uuid": "B1", "settings": {"alternative_hosts": ""}})),
    );
    // Incident: a registration flood from throwaway mail before a webinar.
    for i in 0..22 {
        let o = json!({"id": "7002", "uuid": "W2", "topic": "Investor day", "type": 5, "registrant": {"email": format!("u{i}@mailinator.com")}});
        d.at(2000 + i * 15, "webinar.registration_created", o);
    }

    let mut out = Vec::new();
    for (i, (t, body)) in d.bodies.iter().enumerate() {
        let r = normalize(Envelope::parse(body.to_string().as_bytes()).unwrap(), &Received { received_at_ms: t + 300, request: None });
        out.push(r.clone());
        if i % 5 == 0 {
            out.push(r); // Zoom retried this delivery
        }
    }
    out
}

#[test]
fn each_move_is_raised_by_its_rule_and_the_look_alikes_stay_quiet() {
    let mut det = Detector::new(Config::parse(CFG, "test").unwrap());
    let mut alerts: Vec<Alert> = Vec::new();
    for r in day() {
        for e in det.observe(&r) {
            if let AlertEvent::Raised(a) = e {
                alerts.push(*a);
            }
        }
    }
    let serious: Vec<(&str, &str)> =
        alerts.iter().filter(|a| a.severity >= Severity::Medium).map(|a| (a.rule.as_str(), a.reason.as_str())).collect();
    let raised = |rule: &str, needle: &str| serious.iter().filter(|(r, why)| *r == rule && why.contains(needle)).count();
    assert_eq!(raised("outsider-screen-share", "Visitor 7"), 1, "{serious:#?}");
    assert!(alerts.iter().any(|a| a.rule == "outsider-screen-share" && a.severity == Severity::High), "a board meeting is sensitive");
    assert_eq!(raised("outsider-promoted", "pat@vendor.example"), 1, "{serious:#?}");
    assert_eq!(raised("join-trickle", "Town hall"), 1, "{serious:#?}");
    assert_eq!(raised("display-name-impersonation", "IT Support - Priya Natarajan"), 1, "{serious:#?}");
    assert_eq!(raised("meeting-exposure-changed", "helper@outside.example"), 1, "{serious:#?}");
    assert_eq!(raised("registration-flood", "Investor day"), 1, "{serious:#?}");
    assert!(serious.iter().any(|(r, why)| *r == "display-name-impersonation" && why.contains("dressed up with role or title words")));
    // Nothing else at medium or above — not the host's share, the colleague made
    // co-host, the other Priya, the internal alternative host, the spread-out
    // registrations — but the guests walking into the board meeting, which
    // `sensitive-meeting-outsider` rightly raises too.
    let others: Vec<&(&str, &str)> = serious
        .iter()
        .filter(|(r, why)| {
            ![
                "outsider-screen-share",
                "outsider-promoted",
                "join-trickle",
                "display-name-impersonation",
                "meeting-exposure-changed",
                "registration-flood",
            ]
            .contains(r)
                && !(*r == "sensitive-meeting-outsider" && (why.contains("Visitor 7") || why.contains("IT Support")))
        })
        .collect();
    assert!(others.is_empty(), "{others:#?}");
    assert_eq!(serious.len(), 8, "{serious:#?}");
}

#[test]
fn a_flood_and_a_trickle_survive_a_checkpoint() {
    let cfg = || Config::parse(CFG, "test").unwrap();
    let records = day();
    // Stop halfway through the trickle and the flood each; the rest after a restart.
    let cut = records.iter().position(|r| r.participant.as_ref().and_then(|p| p.name.as_deref()) == Some("viewer6")).unwrap();
    let cut2 = records.iter().position(|r| r.raw.value()["object"]["registrant"]["email"] == "u11@mailinator.com").unwrap();
    let mut det = Detector::new(cfg());
    let mut rules: Vec<String> = Vec::new();
    let mut feed = |det: &mut Detector, rs: &[RecordV1]| {
        for r in rs {
            for e in det.observe(r) {
                if let AlertEvent::Raised(a) = e {
                    rules.push(a.rule);
                }
            }
        }
    };
    feed(&mut det, &records[..cut]);
    let mut saved = Vec::new();
    det.save(&mut saved).unwrap();
    let mut det = Detector::restore(cfg(), &saved).unwrap();
    feed(&mut det, &records[cut..cut2]);
    let mut saved = Vec::new();
    det.save(&mut saved).unwrap();
    let mut det = Detector::restore(cfg(), &saved).unwrap();
    feed(&mut det, &records[cut2..]);
    for rule in ["join-trickle", "registration-flood", "outsider-screen-share", "outsider-promoted"] {
        assert_eq!(rules.iter().filter(|r| *r == rule).count(), 1, "{rule}: {rules:?}");
    }
}
