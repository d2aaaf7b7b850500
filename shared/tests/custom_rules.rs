//! `[[custom_rules]]` in `zoomwatch.toml`: validated with file:line errors, stateless ones
//! flag records as the built-ins do (so the receiver runs them), counting ones raise one
//! growing alert in the detector.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{AlertEvent, Detector, evaluate};
use zoomwatch_shared::scenario;
use zoomwatch_shared::{Envelope, Received, normalize};

const RULES: &str = r#"
[[custom_rules]]
id = "outsider-in-board"
when = "type:participant_joined meeting:board sev:>=medium"
severity = "high"
reason = "an outsider joined a board meeting"

[[custom_rules]]
id = "all-hands-guests"
when = "type:participant_joined meeting:all-hands is:guest"
severity = "medium"
reason = "guests are pouring into the all-hands"
count = 5
window_secs = 300
"#;

fn day() -> Vec<RecordV1> {
    scenario::account_day(1_795_856_400_000)
        .into_iter()
        .map(|s| normalize(Envelope::parse(&s.body).unwrap(), &Received { received_at_ms: 1_795_856_400_000 + s.offset_ms, request: None }))
        .collect()
}

fn config(extra: &str) -> Config {
    Config::parse(&format!("{}\n{extra}", scenario::CONFIG), "zoomwatch.toml").unwrap()
}

#[test]
fn stateless_custom_rules_flag_records_like_the_built_ins() {
    let c = config(RULES);
    let flagged: Vec<(RecordV1, Vec<_>)> = day()
        .into_iter()
        .map(|r| (evaluate(&r, &c), r))
        .filter(|(f, _)| f.iter().any(|f| f.rule == "outsider-in-board"))
        .map(|(f, r)| (r, f))
        .collect();
    assert_eq!(flagged.len(), 1, "one outsider joins the board review in the day");
    let (r, flags) = &flagged[0];
    assert_eq!(r.participant.as_ref().unwrap().email.as_deref(), Some("jdoe@freemail.example"));
    let f = flags.iter().find(|f| f.rule == "outsider-in-board").unwrap();
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.reason.starts_with("an outsider joined a board meeting: jdoe@freemail.example, meeting.participant_joined in "),
        "{}",
        f.reason
    );
    // A counting rule never flags a single record.
    assert!(day().iter().all(|r| evaluate(r, &c).iter().all(|f| f.rule != "all-hands-guests")));
}

#[test]
fn custom_rules_raise_alerts_in_the_detector() {
    let mut d = Detector::new(config(RULES));
    let mut raised = Vec::new();
    let mut grew = 0;
    for r in day() {
        for e in d.observe(&r) {
            match e {
                AlertEvent::Raised(a) => raised.push(*a),
                AlertEvent::Grew { .. } => grew += 1,
            }
        }
    }
    let board: Vec<_> = raised.iter().filter(|a| a.rule == "outsider-in-board").collect();
    assert_eq!(board.len(), 1);
    assert_eq!(board[0].severity, Severity::High);
    let guests: Vec<_> = raised.iter().filter(|a| a.rule == "all-hands-guests").collect();
    assert_eq!(guests.len(), 1, "one growing alert per meeting, not one per guest: {raised:#?}");
    assert_eq!(guests[0].severity, Severity::Medium);
    assert_eq!(guests[0].record_ids.len(), 5, "the evidence is the window that reached the count");
    assert!(guests[0].reason.starts_with("guests are pouring into the all-hands: 5 matching records within 300 s"), "{}", guests[0].reason);
    assert!(grew > 0);
    // The built-ins fire beside them (these records carry no GeoIP, so not the location rules).
    for built_in in ["join-burst", "sensitive-meeting-outsider", "rejoin-after-removal", "privilege-granted"] {
        assert!(raised.iter().any(|a| a.rule == built_in), "{built_in}");
    }
}

#[test]
fn a_saved_detector_keeps_counting_custom_rules() {
    let records = day();
    let cut = records
        .iter()
        .position(|r| {
            r.meeting.as_ref().and_then(|m| m.topic.as_deref()) == Some("Company all-hands")
                && r.participant.as_ref().is_some_and(|p| p.guest)
        })
        .unwrap()
        + 2;
    let mut d = Detector::new(config(RULES));
    let mut rules = Vec::new();
    for r in &records[..cut] {
        rules.extend(d.observe(r).into_iter().filter_map(|e| if let AlertEvent::Raised(a) = e { Some(a.rule) } else { None }));
    }
    let mut saved = Vec::new();
    d.save(&mut saved).unwrap();
    let mut d = Detector::restore(config(RULES), &saved).unwrap();
    for r in &records[cut..] {
        rules.extend(d.observe(r).into_iter().filter_map(|e| if let AlertEvent::Raised(a) = e { Some(a.rule) } else { None }));
    }
    assert_eq!(rules.iter().filter(|r| *r == "all-hands-guests").count(), 1, "{rules:?}");
}

#[test]
fn mistakes_in_custom_rules_name_the_line() {
    let cases = [
        ("[[custom_rules]]\nid = \"Bad Id\"\nwhen = \"type:joined\"\nreason = \"x\"\n", 2, "kebab-case"),
        ("[[custom_rules]]\nid = \"guest-join\"\nwhen = \"type:joined\"\nreason = \"x\"\n", 2, "built-in rule"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"sev:>=urgent\"\nreason = \"x\"\n", 3, "unknown severity"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"is:alien\"\nreason = \"x\"\n", 3, "is:guest"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"  \"\nreason = \"x\"\n", 3, "empty"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"since:15m type:joined\"\nreason = \"x\"\n", 3, "since:/between:"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\nseverity = \"urgent\"\n", 5, "severity"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"\"\n", 4, "reason"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\ncount = 1\n", 5, "at least 2"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\nwindow_secs = 60\n", 5, "needs a count"),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\nper = \"galaxy\"\n", 5, "per \"galaxy\""),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\ncount = 3\nper = \"record\"\n", 2, "cannot count"),
        (
            "[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\n[[custom_rules]]\nid = \"a\"\nwhen = \"type:left\"\nreason = \"y\"\n",
            6,
            "twice",
        ),
        ("[[custom_rules]]\nid = \"a\"\nwhen = \"type:joined\"\nreason = \"x\"\nseverty = \"high\"\n", 5, "unknown field"),
        ("[[custom_rules]]\nid = \"a\"\nreason = \"x\"\n", 1, "missing field `when`"),
    ];
    for (text, line, words) in cases {
        let e = Config::parse(text, "zoomwatch.toml").expect_err(text);
        assert_eq!((e.line, e.origin.as_str()), (line, "zoomwatch.toml"), "{text}: {e}");
        assert!(e.message.contains(words), "{text}: {e}");
    }
    let c = Config::parse(RULES, "zoomwatch.toml").unwrap();
    let described = c.describe();
    assert!(described.contains("[[custom_rules]]  # stateless\nid = \"outsider-in-board\""), "{described}");
    assert!(described.contains("count = 5\nwindow_secs = 300\nper = \"meeting\""), "{described}");
}

#[test]
fn announced_clean_ups_are_checked() {
    let ok = "[[rules.mass-deletion.announced]]\noperator = \"it-admin@acme.example\"\nfrom = \"2026-01-10T18:00:00Z\"\nuntil = \"2026-01-10T22:00:00Z\"\nnote = \"old webinars\"\n";
    let c = Config::parse(ok, "zoomwatch.toml").unwrap();
    assert_eq!(c.rule("mass-deletion").unwrap().announced.len(), 1);
    assert!(c.describe().contains("[[rules.mass-deletion.announced]]\noperator = \"it-admin@acme.example\""));
    for (text, line, words) in [
        (ok.replace("2026-01-10T22:00:00Z", "tonight"), 4, "not an RFC 3339 time"),
        (ok.replace("2026-01-10T22:00:00Z", "2026-01-10T17:00:00Z"), 4, "must be after from"),
        (ok.replace("2026-01-10T22:00:00Z", "2026-02-10T22:00:00Z"), 4, "longer than 7 days"),
        (ok.replace("it-admin@acme.example", "it-admin"), 2, "not an email"),
        (ok.replace("mass-deletion", "join-burst"), 2, "only mass-deletion"),
    ] {
        let e = Config::parse(&text, "zoomwatch.toml").expect_err(&text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.message.contains(words), "{text}: {e}");
    }
}
