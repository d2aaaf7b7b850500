//! Zoom's admin operation log, in Zoom's own wording, through the poller's row → record
//! path and the rules: every weakening and every grant is flagged with the setting or
//! role named; hardening, demotions and harmless edits stay below medium; shapes that
//! are not understood invent nothing.
//!
//! The rows here are the project's own, written from the wording Zoom's log uses
//! (`docs` of the operation log and the shapes listed in the team's API notes). The last
//! test holds zoomwatch against a peer's published rule tests, read from the team's
//! shared fixtures (not copied here), and prints how many of its cases agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::record::{RecordV1, Severity};
use zoomwatch_shared::report;
use zoomwatch_shared::rules::evaluate;

const T: i64 = 1_796_115_600_000;

fn row(category: &str, action: &str, detail: &str) -> RecordV1 {
    let row = json!({"time": "2026-12-01 09:12:00", "operator": "it-admin@acme.example", "category_type": category,
        "action": action, "operation_detail": detail});
    report::operation(&row, T).unwrap()
}

/// The flags of a row at medium or above: (rule, reason).
fn serious(r: &RecordV1) -> Vec<(String, String)> {
    evaluate(r, &Config::default()).into_iter().filter(|f| f.severity >= Severity::Medium).map(|f| (f.rule, f.reason)).collect()
}

fn rules_of(r: &RecordV1) -> Vec<String> {
    evaluate(r, &Config::default()).into_iter().map(|f| f.rule).collect()
}

#[test]
fn role_changes_are_grants_only_upwards() {
    for (detail, grant) in [
        ("Change Role  - contractor.ops@acme-corp.example: from Member to Admin", Some("Admin")),
        ("Change Role  - contractor.ops@acme-corp.example: from User to Co-Owner", Some("Co-Owner")),
        ("Change Role  - contractor.ops@acme-corp.example: from Member to Billing Admin", Some("Billing Admin")),
        ("Change Role  - contractor.ops@acme-corp.example: from Admin to Co-Owner", Some("Co-Owner")),
        ("Change Role : Admin - contractor.ops@acme-corp.example: from Member to Admin", Some("Admin")),
        ("Update User contractor.ops@acme-corp.example  - User Role: from Member to Admin", Some("Admin")),
        ("Change Role  - contractor.ops@acme-corp.example: from Member to Incident Responders", Some("Incident Responders")),
        ("change role  - contractor.ops@acme-corp.example: FROM member TO admin", Some("admin")),
        ("Change Role  - contractor.ops@acme-corp.example: from Admin to Member", None),
        ("Change Role  - contractor.ops@acme-corp.example: from Co-Owner to Admin", None),
        ("Change Role  - contractor.ops@acme-corp.example: from Admin to Billing Admin", None),
        ("Change Role  - contractor.ops@acme-corp.example: from Co-Owner to User", None),
    ] {
        let r = row("User", "Batch Update", detail);
        assert_eq!(r.target_user.as_ref().and_then(|t| t.email.as_deref()), Some("contractor.ops@acme-corp.example"), "{detail}");
        assert!(r.changes.iter().all(|c| c.path == "role"), "{detail}: {:?}", r.changes);
        let flagged = serious(&r);
        match grant {
            Some(role) => assert!(
                flagged.iter().any(|(rule, reason)| rule == "privilege-granted"
                    && reason.contains(role)
                    && reason.contains("contractor.ops@acme-corp.example")),
                "{detail}: {flagged:?}"
            ),
            None => assert!(flagged.is_empty(), "{detail}: a demotion is no grant: {flagged:?}"),
        }
        assert!(!r.changes.iter().any(|c| c.path.starts_with("settings.")), "{detail}: a role is not a setting");
    }
}

#[test]
fn weakenings_are_flagged_with_the_setting_and_where() {
    for (category, detail, setting, scope) in [
        (
            "Account",
            "Security  - Require that all meetings are secured with one security option: from On to Off",
            "auto_security",
            "account",
        ),
        (
            "Account",
            "Security  - Automatically sign users out after a specified time: from On to Off",
            "automatically_sign_users_out",
            "account",
        ),
        (
            "Account",
            "Security  - Require a passcode when scheduling new meetings: from ON to OFF",
            "require_password_for_scheduling_new_meetings",
            "account",
        ),
        ("Account", "Security  - Sign in with Two-Factor Authentication: from On to Off", "sign_in_with_two_factor_auth", "account"),
        ("Account", "Sign-in Methods  - Allow users to sign in with Google: from Off to On", "sign_in_with_google", "account"),
        ("User Group", "Edit Group Springfield  - Personal Meeting ID (PMI) Passcode: from On to Off", "pmi_password", "group Springfield"),
        ("Account", "Meeting  - Waiting Room: from On to Off", "waiting_room", "account"),
        (
            "Account",
            "Sign-In Password Requirement  - Have at least specified length of characters: from 12 to 6",
            "minimum_password_length",
            "account",
        ),
    ] {
        let r = row(category, "Update", detail);
        let flagged = serious(&r);
        // Out of the policy now (`policy-drift`), or weaker but still within it.
        let hit = flagged.iter().find(|(rule, _)| rule == "policy-drift" || rule == "account-security-weakened");
        assert!(hit.is_some_and(|(_, reason)| reason.contains(setting) && reason.contains(scope)), "{detail}: {flagged:?}");
    }
    // Several changes in one detail: each is judged; the weakened ones are named.
    let r = row(
        "Account",
        "Update",
        "Sign-In Password Requirement  - Have at least specified length of characters: from 8 to 14 - Include at least 1 letter: from On to Off - Include at least 1 number: from On to Off - Include both uppercase and lowercase characters: from On to Off",
    );
    assert_eq!(r.changes.len(), 4, "{:?}", r.changes);
    let (_, reason) = serious(&r).into_iter().find(|(rule, _)| rule == "policy-drift").expect("out of policy");
    for named in ["include_at_least_1_letter", "include_at_least_1_number", "uppercase_and_lowercase"] {
        assert!(reason.contains(named), "{reason}");
    }
    assert!(!reason.contains("minimum_password_length"), "a longer minimum is no weakening: {reason}");
}

#[test]
fn hardening_demotions_and_harmless_edits_stay_below_medium() {
    for (category, action, detail) in [
        ("Account", "Update", "Security  - Require that all meetings are secured with one security option: from Off to On"),
        (
            "Account",
            "Update",
            "Sign-In Password Requirement  - Have at least specified length of characters: from 8 to 14 - Include at least 1 letter: from Off to On",
        ),
        ("User Group", "Update", "Edit Group Springfield  - Personal Meeting ID (PMI) Passcode: from Off to On"),
        ("User Group", "Update", "Edit Group Recruiting "),
        ("User Group", "Add", "Add Group Engineers"),
        ("User", "Update", "Update User lisa@acme.example  - Job Title: set to Contractor"),
        ("User", "SCIM API - Update", "Edit User homer@acme.example  - Change Type: from Basic to Licensed"),
        ("Channels", "Update", "Update a Channel Ops  - Cloud Storage Retention: set to  - Name: from Ops to Ops-2"),
        ("User Group", "Delete", "Delete Group Admins for Springfield - homer@acme.example"),
    ] {
        let r = row(category, action, detail);
        assert_eq!(serious(&r), Vec::<(String, String)>::new(), "{detail}");
    }
}

#[test]
fn admins_of_groups_and_channels_are_grants_and_users_are_lifecycle() {
    let r = row("User Group", "Add", "Add Group Admins for Springfield - contractor.ops@acme-corp.example");
    let flagged = serious(&r);
    assert!(flagged.iter().any(|(rule, reason)| rule == "privilege-granted" && reason.contains("group Springfield")), "{flagged:?}");
    let r = row("Channels", "Update", "Assign admin for channel Incident-War-Room  - contractor.ops@acme-corp.example");
    assert!(serious(&r).iter().any(|(rule, reason)| rule == "privilege-granted" && reason.contains("channel Incident-War-Room")));
    for (detail, verb) in [
        ("Add User homer@acme.example  - User Type: Basic - Department: Foo", "created"),
        ("Delete User homer@acme.example", "deleted"),
        ("delete user - homer@acme.example", "deleted"),
        ("Deactivate User homer@acme.example ", "deactivated"),
    ] {
        let r = row("User", "Update", detail);
        let flags = evaluate(&r, &Config::default());
        assert!(
            flags.iter().any(|f| f.rule == "user-lifecycle" && f.reason.contains(verb) && f.reason.contains("homer@acme.example")),
            "{detail}: {flags:?}"
        );
    }
}

#[test]
fn the_target_comes_only_from_shapes_that_name_one() {
    // An email in a setting's value is not the user acted on.
    let r = row("Account", "Update", "Meeting  - Meeting topic template: from Weekly to Call ceo@acme.example");
    assert!(r.target_user.is_none(), "{:?}", r.target_user);
    // Odd text: nothing invented, nothing panics.
    for odd in [
        "",
        " - ",
        "Change Role",
        "Change Role  - : from  to ",
        "from On to Off",
        "🙂  - 🙃: from 🙂 to",
        "Edit Group",
        "Security  - : from On to Off",
    ] {
        let r = row("Account", "Update", odd);
        assert!(r.changes.iter().all(|c| !c.path.is_empty() && c.path != "settings."), "{odd:?}: {:?}", r.changes);
        assert!(rules_of(&r).iter().all(|rule| rule != "privilege-granted"), "{odd:?}");
    }
}

/// Which zoomwatch rule (and, for settings, which catalogued labels) stands for each of
/// the peer's rules.
fn concern(rule_id: &str) -> (&'static str, &'static [&'static str]) {
    match rule_id {
        "Zoom.All.Meetings.Secured.With.One.Option.Disabled" => ("account-security-weakened", &["auto_security"]),
        "Zoom.Automatic.Sign.Out.Disabled" => ("account-security-weakened", &["automatically_sign_users_out"]),
        "Zoom.New.Meeting.Passcode.Required.Disabled" => ("account-security-weakened", &["require_password_for_scheduling_new_meetings"]),
        "Zoom.PasscodeDisabled" | "panther_zoom_helpers.get_zoom_usergroup_context (unit test)" => {
            ("account-security-weakened", &["pmi_password"])
        }
        "Zoom.Sign.In.Method.Modified" => ("account-security-weakened", &["allow_users_to_sign_in_with"]),
        "Zoom.Sign.In.Requirements.Changed" => ("account-security-weakened", &["include_", "minimum_password_length", "special_character"]),
        "Zoom.Two.Factor.Authentication.Disabled" => ("account-security-weakened", &["two_factor"]),
        "Zoom.User.Promoted.to.Privileged.Role" | "Zoom.UserGrantedAdmin" => ("privilege-granted", &[]),
        "Standard.NewUserAccountCreated" => ("user-lifecycle", &[]),
        _ => ("", &[]),
    }
}

/// The cases where zoomwatch judges differently on purpose, and why.
const DIFFERENT_ON_PURPOSE: &[(&str, &str)] = &[(
    "Change Role  - homer.simpson@duff.io: from Admin to Co-Owner",
    "an admin made co-owner gains the account's billing and ownership powers: an escalation zoomwatch flags",
)];

#[test]
fn agreement_with_a_peers_published_zoom_rule_tests() {
    let cases: Vec<Value> = serde_json::from_value(shared_fixture("panther-zoom-tests.json")).unwrap();
    let (mut same, mut total, mut differ) = (0, 0, Vec::new());
    let mut by_rule: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for c in &cases {
        let mut log = c["log"].clone();
        if log.get("time").is_none() {
            log["time"] = json!("2022-12-16 18:15:38"); // a few of the peer's rows leave it out; the report always has it
        }
        let log = &log;
        if c["log_type"] != "Zoom.Operation" {
            continue; // a sign-in row (the activity report), judged by the country rules with GeoIP
        }
        let (rule, labels) = concern(c["rule_id"].as_str().unwrap());
        assert!(!rule.is_empty(), "a peer rule without a counterpart: {}", c["rule_id"]);
        let r = report::operation(log, T).unwrap();
        let flags = evaluate(&r, &Config::default());
        // A weakening that leaves the policy is `policy-drift`, one within it the other.
        let ours = flags.iter().any(|f| {
            (f.rule == rule || (rule == "account-security-weakened" && f.rule == "policy-drift"))
                && (rule == "user-lifecycle" || f.severity >= Severity::Medium)
                && (labels.is_empty() || labels.iter().any(|l| f.reason.contains(l)))
        });
        let theirs = c["expected_result"].as_bool().unwrap();
        total += 1;
        let detail = log["operation_detail"].as_str().unwrap_or("");
        let tally = by_rule.entry(c["rule_id"].as_str().unwrap().to_owned()).or_default();
        tally.1 += 1;
        if ours == theirs {
            same += 1;
            tally.0 += 1;
        } else {
            let why = DIFFERENT_ON_PURPOSE.iter().find(|(d, _)| *d == detail).map(|(_, why)| *why);
            assert!(why.is_some(), "{}: {detail:?}: zoomwatch {ours}, the peer {theirs}; flags {flags:?}", c["rule_id"]);
            differ.push(format!("{detail} — zoomwatch {ours}, peer {theirs}: {}", why.unwrap_or_default()));
        }
    }
    println!("operation-log cases judged the same way: {same} of {total}");
    println!("| peer rule | cases | judged the same |\n|---|---|---|");
    for (rule, (s, n)) in &by_rule {
        println!("| `{rule}` | {n} | {s} |");
    }
    for d in &differ {
        println!("  different on purpose: {d}");
    }
    assert_eq!(total, cases.iter().filter(|c| c["log_type"] == "Zoom.Operation").count());
    assert_eq!(same + differ.len(), total);
}

#[test]
fn readme_settings_table_matches_the_catalogue() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = zoomwatch_shared::zoom_settings::markdown_table();
    assert!(readme.contains(&table), "README's settings table is out of date; paste:\n{table}");
}

/// The team's shared folder beside the repository (CI lays it there), or elsewhere.
fn shared_fixture(name: &str) -> Value {
    let shared = std::env::var("ZOOMWATCH_SHARED_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared").to_owned());
    let path = format!("{shared}/fixtures/external/{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read from the team's shared fixtures, {path}: {e} (set ZOOMWATCH_SHARED_DIR to that folder)"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_cis_control_with_an_api_check_is_catalogued_the_same_way() {
    use zoomwatch_shared::zoom_settings::{by_path, is_secure};
    let cis = shared_fixture("cis-zoom-v100-steampipe.json");
    let (mut checked, mut differ) = (0, Vec::new());
    for c in cis["controls"].as_array().unwrap() {
        let Some(paths) = c["settings_paths"].as_array().filter(|p| !p.is_empty()) else { continue };
        let id = c["cis_id"].as_str().unwrap();
        let path = paths[0].as_str().unwrap();
        let info = by_path(path).unwrap_or_else(|| panic!("CIS {id} ({path}) is not in the catalogue"));
        assert!(info.cis.contains(&id), "CIS {id}: {path} found {:?}, which does not name it", info.api);
        checked += 1;
        // The benchmark's own words say which way is secure for a toggle.
        let title = c["title"].as_str().unwrap().to_ascii_lowercase();
        let wants = if title.contains("set to enabled") {
            Some(true)
        } else if title.contains("set to disabled") {
            Some(false)
        } else {
            None
        };
        if let Some(on) = wants
            && let Some(ours) = is_secure(info, &Value::Bool(true))
            && ours != on
        {
            assert!(!info.note.is_empty(), "CIS {id} wants {path} {on}; the catalogue disagrees without saying why");
            differ.push(id);
        }
    }
    println!("CIS controls with an API check, catalogued: {checked}; secure value differs on purpose: {differ:?}");
    assert_eq!(checked, cis["_about"]["counts"]["with_api_condition"].as_u64().unwrap() as usize);
}
