//! What the receiver does for one `meeting.participant_joined`: verify the signature,
//! parse, normalize, run the stateless rules, serialize the record (DESIGN §7 budget for
//! all but the last step: ≤ 20 µs); and the same with GeoIP enrichment (City, ASN and
//! Anonymous-IP lookups of the joiner's address, MaxMind's test databases).
//! Run: `cargo bench -p zoomwatch-shared --bench pipeline`.

#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::geo::GeoIp;
use zoomwatch_shared::signature::{self, Secret};
use zoomwatch_shared::{Envelope, Received, SecretSet, normalize};

const SECRET: &str = "aBcDeFgHiJkLmNoPqRsTuV";
const TS: &str = "1749064313";

/// What the receiver does with one signed body: verify, parse, normalize, enrich (when
/// `geo` is given), run the stateless rules, serialize.
fn receive(secrets: &SecretSet, sig: &str, body: &[u8], geo: Option<&GeoIp>, rules: &Config) -> Vec<u8> {
    signature::verify(secrets, Some(TS.as_bytes()), Some(sig.as_bytes()), body, 1_749_064_313, signature::ReplayWindow::default())
        .expect("valid");
    let env = Envelope::parse(body).expect("parses");
    let mut record = normalize(env, &Received { received_at_ms: 1_749_064_313_500, request: None });
    if let Some(g) = geo {
        g.enrich(&mut record);
    }
    record.flags = zoomwatch_shared::rules::evaluate(&record, rules);
    serde_json::to_vec(&record).expect("serializes")
}

fn pipeline(c: &mut Criterion) {
    let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/zoom/meeting.participant_joined__guest_real.json"))
        .expect("fixture");
    let secrets = SecretSet::parse(SECRET).expect("secret");
    let sig = signature::sign(&Secret::new(SECRET), TS, &body);
    let rules = Config::default();

    c.bench_function("verify", |b| {
        b.iter(|| {
            signature::verify(
                &secrets,
                Some(TS.as_bytes()),
                Some(sig.as_bytes()),
                black_box(&body),
                1_749_064_313,
                signature::ReplayWindow::default(),
            )
        })
    });
    c.bench_function("verify+parse+normalize+rules+serialize", |b| {
        b.iter(|| black_box(receive(&secrets, &sig, black_box(&body), None, &rules)))
    });

    // The same join from a Swedish address, with the three databases loaded.
    let mut v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v["payload"]["object"]["participant"]["public_ip"] = serde_json::json!("89.160.20.128");
    let located = serde_json::to_vec(&v).expect("json");
    let sig = signature::sign(&Secret::new(SECRET), TS, &located);
    let geo = zoomwatch_shared::scenario::geoip();
    assert!(geo.lookup("89.160.20.128").is_some_and(|g| g.asn == Some(29518)), "the databases answer");
    c.bench_function("geoip-lookup", |b| b.iter(|| geo.lookup(black_box("89.160.20.128"))));
    c.bench_function("verify+parse+normalize+geoip+rules+serialize", |b| {
        b.iter(|| black_box(receive(&secrets, &sig, black_box(&located), Some(&geo), &rules)))
    });
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
