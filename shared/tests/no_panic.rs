//! Arbitrary bytes and headers never make verification or normalization panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use zoomwatch_shared::signature::{self, Secret};
use zoomwatch_shared::{Envelope, Received, SecretSet, normalize};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![Just("2021-07-13T21:44:51Z"), Just("9999-99-99T99:99:99Z"), Just(""), Just("https://zoom.us/j/1?pwd=abc&pwd")]
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("object".to_owned()),
            Just("old_object".to_owned()),
            Just("participant".to_owned()),
            Just("id".to_owned()),
            Just("uuid".to_owned()),
            Just("join_time".to_owned()),
            Just("leave_time".to_owned()),
            Just("user_name".to_owned()),
            Just("password".to_owned()),
            Just("settings".to_owned()),
            Just("time_stamp".to_owned()),
            Just("date_time".to_owned()),
            Just("admins".to_owned()),
            Just("chat_message".to_owned()),
            Just("old_role".to_owned()),
            Just("new_role".to_owned()),
            "[a-z_]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics(ts in prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
                           sig in prop::option::of(prop::collection::vec(any::<u8>(), 0..80)),
                           body in prop::collection::vec(any::<u8>(), 0..256),
                           now in any::<i64>(), age in any::<u64>(), ahead in any::<u64>()) {
        let secrets = SecretSet::parse("k1,k2").unwrap();
        let window = signature::ReplayWindow { max_age_secs: age, max_ahead_secs: ahead };
        let _ = signature::verify(&secrets, ts.as_deref(), sig.as_deref(), &body, now, window);
    }

    #[test]
    fn parse_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(env) = Envelope::parse(&body) {
            let _ = normalize(env, &Received::default());
        }
    }

    #[test]
    fn normalize_never_panics_on_any_payload(
        event in prop_oneof![Just("meeting.participant_joined"), Just("meeting.updated"), Just("user.signed_in"),
                             Just("group.admin_added"), Just("meeting.chat_message_sent"), Just("user.updated"),
                             Just("meeting.participant_role_changed"), Just("x.y")],
        payload in arb_json(), event_ts in prop::option::of(any::<i64>()), received in any::<i64>()) {
        let body = json!({"event": event, "event_ts": event_ts, "payload": payload});
        let bytes = serde_json::to_vec(&body).unwrap();
        if let Ok(env) = Envelope::parse(&bytes) {
            let r = normalize(env, &Received { received_at_ms: received, request: None });
            let line = serde_json::to_string(&r).unwrap();
            prop_assert!(!line.contains("\"abc\""), "pwd value leaked: {}", line);
        }
    }

    #[test]
    fn what_we_sign_we_verify(body in prop::collection::vec(any::<u8>(), 0..256), ts in 0i64..4_000_000_000) {
        let secrets = SecretSet::parse("s3cret").unwrap();
        let ts_s = ts.to_string();
        let sig = signature::sign(&Secret::new("s3cret"), &ts_s, &body);
        prop_assert_eq!(signature::verify(&secrets, Some(ts_s.as_bytes()), Some(sig.as_bytes()), &body, ts, signature::ReplayWindow::default()), Ok(0));
    }
}
