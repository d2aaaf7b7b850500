//! The location rules — `anonymizer-join`, `country-policy`, `new-country`,
//! `impossible-travel` — on records enriched with MaxMind's test databases: each must
//! fire where it should and stay quiet on the look-alikes a real account produces.
//!
//! Places in the test databases: 216.160.83.56/29 Milton (US), 81.2.69.142 and
//! 81.2.69.160/27 London (GB, every anonymizer marker), 89.160.20.112/28 Linköping (SE),
//! 175.16.199.0/24 Changchun (CN), 1.128.0.0/11 AS1221 (no location), 1.2.0.0/16 VPN.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::geo::{DbKind, GeoIp};
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{Alert, AlertEvent, Detector, evaluate};
use zoomwatch_shared::{Envelope, Received, normalize};

const ORG: &str = "[organization]\ninternal_domains = [\"acme.example\"]\nadmin_operators = [\"it-admin@acme.example\"]\n";
const T0: i64 = 1_780_000_000_000;

fn mmdb(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../testdata/mmdb/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The three test databases, as the demo bundles them (the same files as `testdata/mmdb`).
fn geo() -> GeoIp {
    zoomwatch_shared::scenario::geoip()
}

fn cfg(extra: &str) -> Config {
    Config::parse(&format!("{ORG}{extra}"), "test.toml").unwrap()
}

fn iso(ms: i64) -> String {
    zoomwatch_shared::timefmt::format_ms(ms)
}

/// Who joins: (display name, email, Zoom user id); an empty id makes a guest.
struct Who(&'static str, &'static str, &'static str);
const DANA: Who = Who("Dana Whitfield", "dana@acme.example", "DANA");
const VENDOR: Who = Who("Val Vendor", "val@vendor.example", "VAL");
const GUEST: Who = Who("xXbomberXx", "", "");

/// A join of `who` into meeting `uuid` (topic `topic`, hosted by `HOST`) from `ip`,
/// `mins` minutes after T0, enriched like the receiver does.
fn join(g: &GeoIp, who: &Who, topic: &str, uuid: &str, ip: &str, mins: i64) -> RecordV1 {
    let t = T0 + mins * 60_000;
    let body = json!({"event": "meeting.participant_joined", "event_ts": t, "payload": {"account_id": "A", "object": {
        "id": "111", "uuid": uuid, "topic": topic, "host_id": "HOST", "type": 2,
        "participant": {"user_name": who.0, "email": who.1, "id": who.2, "participant_user_id": who.2,
            "user_id": format!("{}", t % 100_000), "public_ip": ip, "join_time": iso(t)}}}});
    let mut r = normalize(Envelope::parse(&serde_json::to_vec(&body).unwrap()).unwrap(), &Received { received_at_ms: t, request: None });
    g.enrich(&mut r);
    r
}

/// A sign-in from `ip` (as the sign-in report gives it: the IP on the actor).
fn sign_in(g: &GeoIp, id: &str, email: &str, ip: &str, mins: i64) -> RecordV1 {
    let t = T0 + mins * 60_000;
    let body = json!({"event": "user.signed_in", "event_ts": t, "payload": {"account_id": "A", "object": {
        "id": id, "email": email, "client_type": "mac", "date_time": iso(t)}}});
    let mut r = normalize(Envelope::parse(&serde_json::to_vec(&body).unwrap()).unwrap(), &Received { received_at_ms: t, request: None });
    let actor = r.actor.get_or_insert_default();
    actor.ip = Some(ip.to_owned());
    g.enrich(&mut r);
    r
}

fn fired(r: &RecordV1, c: &Config, rule: &str) -> Option<(Severity, String)> {
    evaluate(r, c).into_iter().find(|f| f.rule == rule).map(|f| (f.severity, f.reason))
}

fn raised(d: &mut Detector, r: &RecordV1) -> Vec<Alert> {
    d.observe(r)
        .into_iter()
        .filter_map(|e| match e {
            AlertEvent::Raised(a) => Some(*a),
            AlertEvent::Grew { .. } => None,
        })
        .collect()
}

fn raised_rule(d: &mut Detector, r: &RecordV1, rule: &str) -> Option<Alert> {
    raised(d, r).into_iter().find(|a| a.rule == rule)
}

// ---- anonymizer-join ---------------------------------------------------------------

#[test]
fn anonymizer_join_fires_on_tor_vpn_hosting_and_listed_networks() {
    let (g, c) = (geo(), cfg("[policy]\nanonymizer_asns = [1221]\n"));
    let (sev, why) = fired(&join(&g, &GUEST, "Company all-hands", "AH", "81.2.69.160", 0), &c, "anonymizer-join").unwrap();
    assert_eq!(sev, Severity::Medium);
    assert_eq!(
        why,
        "guest \"xXbomberXx\" joined \"Company all-hands\" from 81.2.69.160 (London, GB) via Tor exit, VPN, proxy, hosting provider"
    );
    // Into a sensitive meeting: one step up.
    let (sev, why) = fired(&join(&g, &GUEST, "Q3 Board Review", "BR", "81.2.69.160", 0), &c, "anonymizer-join").unwrap();
    assert_eq!(sev, Severity::High);
    assert!(why.ends_with("— sensitive topic"), "{why}");
    // A VPN-only network, and a network the config lists.
    assert!(fired(&join(&g, &DANA, "Weekly", "W", "1.2.0.1", 0), &c, "anonymizer-join").unwrap().1.contains("via VPN"));
    let (_, why) = fired(&join(&g, &DANA, "Weekly", "W", "1.128.0.1", 0), &c, "anonymizer-join").unwrap();
    assert!(why.contains("listed anonymizer network AS1221"), "{why}");
    // A sign-in counts as well.
    let (_, why) = fired(&sign_in(&g, "DANA", "dana@acme.example", "1.2.0.1", 0), &c, "anonymizer-join").unwrap();
    assert_eq!(why, "dana@acme.example signed in from 1.2.0.1 via VPN");
}

#[test]
fn anonymizer_join_stays_quiet_on_ordinary_networks() {
    let (g, c) = (geo(), cfg(""));
    for ip in ["89.160.20.128", "216.160.83.56", "175.16.199.1", "1.128.0.1", "10.1.2.3", "203.0.113.9"] {
        assert_eq!(fired(&join(&g, &GUEST, "Company all-hands", "AH", ip, 0), &c, "anonymizer-join"), None, "{ip}");
    }
    // Without databases there is no geo, so nothing to judge.
    assert_eq!(fired(&join(&GeoIp::new(), &GUEST, "All", "AH", "81.2.69.160", 0), &c, "anonymizer-join"), None);
    // A leave is not an arrival.
    let mut left = join(&g, &GUEST, "All", "AH", "81.2.69.160", 0);
    left.event = "meeting.participant_left".into();
    left.action = "left".into();
    assert_eq!(fired(&left, &c, "anonymizer-join"), None);
    // Disabled means disabled.
    let off = cfg("[rules.anonymizer-join]\nenabled = false\n");
    assert_eq!(fired(&join(&g, &GUEST, "All", "AH", "81.2.69.160", 0), &off, "anonymizer-join"), None);
}

// ---- country-policy ------------------------------------------------------------------

#[test]
fn country_policy_denied_and_allowed_lists() {
    let g = geo();
    let denied = cfg("[policy]\ndenied_countries = [\"CN\"]\n");
    let (sev, why) = fired(&join(&g, &DANA, "Weekly", "W", "175.16.199.1", 0), &denied, "country-policy").unwrap();
    assert_eq!(sev, Severity::High);
    assert_eq!(why, "dana@acme.example joined \"Weekly\" from 175.16.199.1: denied country CN (China)");
    assert_eq!(fired(&join(&g, &DANA, "Weekly", "W", "216.160.83.56", 0), &denied, "country-policy"), None);

    let allowed = cfg("[policy]\nallowed_countries = [\"US\", \"SE\"]\n");
    let (_, why) = fired(&sign_in(&g, "DANA", "dana@acme.example", "81.2.69.142", 0), &allowed, "country-policy").unwrap();
    assert!(why.contains("GB (United Kingdom), outside the allowed countries (US, SE)"), "{why}");
    for ip in ["89.160.20.128", "216.160.83.56"] {
        assert_eq!(fired(&join(&g, &GUEST, "Weekly", "W", ip, 0), &allowed, "country-policy"), None, "{ip}");
    }
    // A network the databases place nowhere is not judged (the country is unknown).
    assert_eq!(fired(&join(&g, &GUEST, "Weekly", "W", "1.128.0.1", 0), &allowed, "country-policy"), None);
}

#[test]
fn country_policy_is_off_without_lists_and_can_be_limited_to_sensitive_meetings() {
    let g = geo();
    assert_eq!(fired(&join(&g, &GUEST, "Weekly", "W", "175.16.199.1", 0), &cfg(""), "country-policy"), None);
    let sens = cfg("[policy]\ndenied_countries = [\"CN\"]\nonly_sensitive_meetings = true\n");
    assert_eq!(fired(&join(&g, &GUEST, "Weekly", "W", "175.16.199.1", 0), &sens, "country-policy"), None);
    assert!(fired(&join(&g, &GUEST, "Board: Q3 review", "B", "175.16.199.1", 0), &sens, "country-policy").is_some());
    assert_eq!(fired(&sign_in(&g, "D", "dana@acme.example", "175.16.199.1", 0), &sens, "country-policy"), None, "no topic");
}

// ---- new-country -----------------------------------------------------------------------

#[test]
fn new_country_fires_once_an_identity_has_a_history() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W1", "216.160.83.56", 0), "new-country").is_none(), "first sighting learns");
    let a = raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 60 * 24), "new-country").expect("US → SE");
    assert_eq!(a.severity, Severity::Low);
    assert_eq!(
        a.reason,
        "dana@acme.example joined \"Weekly\" from 89.160.20.128 (Linköping, SE): not seen from SE in 90 days (last seen from US)"
    );
    // Seen now: the next visit is quiet, from another address in the same country too.
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W3", "89.160.20.129", 60 * 48), "new-country").is_none());
    // Back home after 91 days away: US has not been seen within the window.
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W4", "216.160.83.57", 60 * 24 * 91), "new-country").is_some());
}

#[test]
fn new_country_weighs_admins_and_hosts_and_skips_outsiders() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    // A sign-in history, then the same admin joins from abroad: medium.
    raised(&mut d, &sign_in(&g, "ADM", "it-admin@acme.example", "216.160.83.58", 0));
    let a = raised_rule(&mut d, &sign_in(&g, "ADM", "it-admin@acme.example", "175.16.199.1", 600), "new-country").unwrap();
    assert_eq!(a.severity, Severity::Medium);
    assert!(a.reason.ends_with("— an admin"), "{}", a.reason);

    // External participants and guests are somebody else's travellers.
    for who in [&VENDOR, &GUEST] {
        raised(&mut d, &join(&g, who, "Weekly", "V1", "216.160.83.56", 0));
        assert!(raised_rule(&mut d, &join(&g, who, "Weekly", "V2", "175.16.199.1", 60 * 24), "new-country").is_none());
    }
    // The same delivery twice is one sighting.
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "216.160.83.56", 0));
    let r = join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 60 * 24);
    assert!(raised_rule(&mut d, &r, "new-country").is_some());
    assert!(raised(&mut d, &r).is_empty(), "duplicate ignored");
}

// ---- impossible-travel ------------------------------------------------------------------

#[test]
fn impossible_travel_from_coordinates() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "216.160.83.56", 0));
    let mut left = join(&g, &DANA, "Weekly", "W1", "216.160.83.56", 5);
    left.event = "meeting.participant_left".into();
    left.action = "left".into();
    left.id.push('L');
    raised(&mut d, &left);
    let a = raised_rule(&mut d, &join(&g, &DANA, "Standup", "S1", "175.16.199.1", 40), "impossible-travel")
        .expect("Milton → Changchun in 40 min");
    assert_eq!(a.severity, Severity::Medium, "the first session had ended");
    assert!(a.reason.starts_with("dana@acme.example joined \"Standup\" from 175.16.199.1 (Changchun, CN), "), "{}", a.reason);
    assert!(a.reason.contains(" km from 216.160.83.56 (Milton, US) 40 min apart ("), "{}", a.reason);
}

#[test]
fn impossible_travel_while_both_sessions_are_live_is_the_strongest_case() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Q3 Board Review", "BR", "216.160.83.56", 0));
    let alerts = raised(&mut d, &join(&g, &DANA, "Company all-hands", "AH", "175.16.199.1", 1));
    let a = alerts.iter().find(|a| a.rule == "impossible-travel").unwrap();
    assert_eq!(a.severity, Severity::High);
    assert!(a.reason.ends_with(", while still in the other session"), "{}", a.reason);
    assert!(alerts.iter().any(|a| a.rule == "concurrent-sessions"), "the existing rule sees two IPs too");
}

#[test]
fn impossible_travel_stays_quiet_on_possible_journeys() {
    let g = geo();
    let quiet = |a: (&str, i64), b: (&str, i64), why: &str| {
        let mut d = Detector::new(cfg(""));
        raised(&mut d, &join(&g, &DANA, "Weekly", "W1", a.0, a.1));
        let r = join(&g, &DANA, "Weekly", "W2", b.0, b.1);
        assert!(raised_rule(&mut d, &r, "impossible-travel").is_none(), "{why}");
    };
    quiet(("216.160.83.56", 0), ("175.16.199.1", 60 * 20), "Milton → Changchun in 20 h is a flight");
    quiet(("216.160.83.56", 0), ("216.160.83.57", 1), "another address in the same town");
    quiet(("216.160.83.56", 0), ("216.160.83.56", 1), "the same address");
    quiet(("81.2.69.142", 0), ("89.160.20.128", 60 * 3), "London → Linköping in 3 h");
    quiet(("216.160.83.56", 0), ("1.128.0.1", 1), "no location for the second address");

    // Guests have no identity to follow.
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &GUEST, "Weekly", "W1", "216.160.83.56", 0));
    assert!(raised_rule(&mut d, &join(&g, &GUEST, "Weekly", "W2", "175.16.199.1", 1), "impossible-travel").is_none());
}

#[test]
fn impossible_travel_in_either_delivery_order() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 30));
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W1", "81.2.69.142", 0), "impossible-travel").is_some(), "late delivery");
}

#[test]
fn impossible_travel_with_countries_only() {
    // A Country database has no coordinates: different countries within the window.
    let g = GeoIp::new().with(DbKind::City, mmdb("GeoLite2-Country-Test.mmdb"), "country").unwrap();
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "81.2.69.142", 0));
    let a = raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 20), "impossible-travel").unwrap();
    assert!(a.reason.contains("from 89.160.20.128 (SE), 20 min after 81.2.69.142 (GB) (different countries)"), "{}", a.reason);

    let mut d = Detector::new(cfg(""));
    raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "81.2.69.142", 0));
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 61), "impossible-travel").is_none(), "beyond 1 h");
    let wide = cfg("[rules.impossible-travel]\nwindow_secs = 7200\n");
    let mut d = Detector::new(wide);
    raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "81.2.69.142", 0));
    assert!(raised_rule(&mut d, &join(&g, &DANA, "Weekly", "W2", "89.160.20.128", 61), "impossible-travel").is_some(), "window set to 2 h");
}

#[test]
fn sign_ins_and_joins_are_one_history() {
    let g = geo();
    let mut d = Detector::new(cfg(""));
    raised(&mut d, &sign_in(&g, "DANA", "dana@acme.example", "216.160.83.56", 0));
    let alerts = raised(&mut d, &join(&g, &DANA, "Weekly", "W1", "175.16.199.1", 10));
    let rules: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
    assert!(rules.contains(&"impossible-travel") && rules.contains(&"new-country"), "{rules:?}");
}

// ---- sign-ins from Zoom's sign-in report -------------------------------------------

#[test]
fn report_sign_ins_feed_the_location_rules() {
    let g = geo();
    let c = cfg("");
    let mut d = Detector::new(c);
    let row = |ip: &str, mins: i64| {
        let t = T0 + mins * 60_000;
        let row = json!({"email": "Helen.Park@acme.example", "ip_address": ip, "time": iso(t).replace(".000", ""), "type": "Sign in", "client_type": "mac", "version": "6.4"});
        let mut r = zoomwatch_shared::report::sign_in(&row, t + 3_600_000).unwrap();
        g.enrich(&mut r);
        r
    };
    // Boxford (GB), then Changchun (CN) 30 minutes later: 7,900 km.
    assert!(raised(&mut d, &row("2.125.160.217", 0)).iter().all(|a| a.rule != "impossible-travel"));
    let a = raised_rule(&mut d, &row("175.16.199.23", 30), "impossible-travel").expect("impossible travel between report sign-ins");
    assert!(a.reason.contains("helen.park@acme.example") || a.reason.contains("Helen.Park@acme.example"), "{}", a.reason);
}
