//! The adversarial corpus (`testdata/rules/corpus.toml`, format in its header): for every
//! rule, *must fire* variants an attacker would try and *must not fire* look-alikes a real
//! account produces, each played through the detector (stateless rules via the flags it
//! computes, as in the console), records enriched with the bundled test GeoIP databases.
//! The README's Detections table takes its "tested against" column from the corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::rules::{AlertEvent, Detector, RULES, catalog};
use zoomwatch_shared::timefmt::format_ms;
use zoomwatch_shared::{Envelope, Received, normalize, scenario};

/// 2026-01-01T10:00:00Z: the corpus's clock starts here.
const T0: i64 = 1_767_261_600_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    base_config: String,
    rules: BTreeMap<String, RuleCorpus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleCorpus {
    tested_against: String,
    #[serde(default)]
    config: String,
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    expect: Expect,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    config: Option<String>,
    steps: Vec<Step>,
    /// Hours after the last step at which the clock ticks (silence rules).
    #[serde(default)]
    tick_hours: Option<i64>,
}

#[derive(Deserialize, PartialEq, Eq, Debug, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Fire,
    Quiet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Seconds after T0.
    #[serde(default)]
    at: i64,
    /// Repeat the step this many times, `every` seconds apart (participant ids numbered).
    #[serde(default)]
    repeat: Option<u32>,
    #[serde(default)]
    every: i64,
    /// Zoom event type (default `meeting.participant_joined`).
    #[serde(default)]
    event: Option<String>,
    /// `payload.object.participant` fields (participant events).
    #[serde(default)]
    participant: Option<toml::Table>,
    /// Overrides of the meeting fields of `payload.object` (id 111, uuid U1, topic Sync,
    /// host_id HOST, type 2).
    #[serde(default)]
    meeting: Option<toml::Table>,
    /// A whole `payload.object` (non-participant events).
    #[serde(default)]
    object: Option<toml::Table>,
    /// `payload.old_object`.
    #[serde(default)]
    old_object: Option<toml::Table>,
    /// `payload.operator`.
    #[serde(default)]
    operator: Option<String>,
    /// A stored Record v1 line instead (rejected requests, recovered deliveries).
    #[serde(default)]
    record: Option<String>,
}

fn json(t: &toml::Table) -> Value {
    serde_json::to_value(t).unwrap()
}

fn records(step: &Step, n: &mut i64) -> Vec<RecordV1> {
    let times = step.repeat.unwrap_or(1);
    let mut out = Vec::new();
    for i in 0..times {
        *n += 1;
        let t = T0 + (step.at + i64::from(i) * step.every) * 1000;
        let when = format_ms(t);
        if let Some(line) = &step.record {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["id"] = Value::String(format!("{}-{n}", v["id"].as_str().unwrap_or("r")));
            v["occurred_at"] = Value::String(when.clone());
            v["received_at"] = Value::String(when.clone());
            out.push(serde_json::from_value(v).unwrap());
            continue;
        }
        let event = step.event.clone().unwrap_or_else(|| "meeting.participant_joined".into());
        let mut object = match &step.object {
            Some(o) => json(o),
            None => serde_json::json!({"id": "111", "uuid": "U1", "topic": "Sync", "host_id": "HOST", "type": 2}),
        };
        if let Some(m) = &step.meeting {
            for (k, v) in json(m).as_object().unwrap() {
                object[k] = v.clone();
            }
        }
        if let Some(p) = &step.participant {
            let mut p = json(p);
            let numbered = |v: &Value| Value::String(v.as_str().unwrap_or("").replace("{i}", &i.to_string()));
            for k in ["user_name", "email", "user_id", "participant_uuid", "registrant_id", "id", "participant_user_id"] {
                if let Some(v) = p.get(k) {
                    p[k] = numbered(v);
                }
            }
            if p.get("user_id").is_none() {
                p["user_id"] = Value::String(format!("{n}"));
            }
            let key = if event.ends_with("_left") { "leave_time" } else { "join_time" };
            p[key] = Value::String(when.clone());
            p["date_time"] = Value::String(when.clone());
            object["participant"] = p;
        }
        let mut payload = serde_json::json!({"account_id": "A", "object": object});
        if let Some(o) = &step.old_object {
            payload["old_object"] = json(o);
        }
        if let Some(op) = &step.operator {
            payload["operator"] = Value::String(op.clone());
            payload["operator_id"] = Value::String(format!("OP-{op}"));
        }
        payload["time_stamp"] = serde_json::json!(t);
        let body = serde_json::json!({"event": event, "event_ts": t, "payload": payload});
        let env = Envelope::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
        out.push(normalize(env, &Received { received_at_ms: t + 500, request: None }));
    }
    out
}

fn corpus() -> Corpus {
    let text = std::fs::read_to_string(format!("{}/../testdata/rules/corpus.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("testdata/rules/corpus.toml: {e}"))
}

#[test]
fn every_rule_holds_against_its_corpus() {
    let corpus = corpus();
    let geo = scenario::geoip();
    let mut failures = Vec::new();
    for info in RULES {
        let Some(rc) = corpus.rules.get(info.id) else {
            failures.push(format!("{}: no corpus", info.id));
            continue;
        };
        for kind in [Expect::Fire, Expect::Quiet] {
            if !rc.case.iter().any(|c| c.expect == kind) {
                failures.push(format!("{}: no {kind:?} case", info.id));
            }
        }
        for case in &rc.case {
            let text = format!("{}\n{}", corpus.base_config, case.config.as_deref().unwrap_or(&rc.config));
            let cfg = Config::parse(&text, &format!("corpus {} / {}", info.id, case.name)).unwrap();
            let mut d = Detector::new(cfg);
            let mut n = 0;
            let mut raised = Vec::new();
            let mut last = T0;
            for step in &case.steps {
                for mut r in records(step, &mut n) {
                    geo.enrich(&mut r);
                    last = last.max(r.occurred_ms());
                    for e in d.observe(&r) {
                        if let AlertEvent::Raised(a) = e {
                            raised.push(*a);
                        }
                    }
                }
            }
            if let Some(h) = case.tick_hours {
                for e in d.tick(last + h * 3_600_000) {
                    if let AlertEvent::Raised(a) = e {
                        raised.push(*a);
                    }
                }
            }
            let hits: Vec<_> = raised.iter().filter(|a| a.rule == info.id).collect();
            let ok = match case.expect {
                Expect::Fire => {
                    !hits.is_empty() && case.severity.as_deref().is_none_or(|s| hits.iter().any(|a| Some(a.severity) == Severity::parse(s)))
                }
                // Quiet: the rule raises nothing at medium or above (a vetted crowd's
                // low note is allowed when the case says so with severity = "low").
                Expect::Quiet => match case.severity.as_deref().and_then(Severity::parse) {
                    Some(max) => hits.iter().all(|a| a.severity <= max),
                    None => hits.is_empty(),
                },
            };
            if !ok {
                let got: Vec<String> = raised.iter().map(|a| format!("{} {} {}", a.rule, a.severity.as_str(), a.reason)).collect();
                failures.push(format!("{} / {:?} {}: raised {got:#?}", info.id, case.expect, case.name));
            }
        }
    }
    for id in corpus.rules.keys() {
        if catalog::info(id).is_none() {
            failures.push(format!("corpus for unknown rule {id}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn readme_rule_table_matches_the_catalog_and_corpus() {
    let corpus = corpus();
    let readme = std::fs::read_to_string(format!("{}/../README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let table = catalog::markdown_table(|id| corpus.rules.get(id).map(|r| r.tested_against.clone()).unwrap_or_default());
    assert!(readme.contains(&table), "README's Detections table is out of date; paste:\n{table}");
}
