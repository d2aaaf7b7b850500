//! GeoIP enrichment against MaxMind's test databases (`testdata/mmdb`, see its
//! SOURCES.md): the known answers listed there, IPv6, private and missing addresses,
//! damaged and mismatched files, and the `geo` block as records carry it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use zoomwatch_shared::geo::{DbKind, GeoError, GeoIp};
use zoomwatch_shared::record::GeoAnonymous;
use zoomwatch_shared::{Envelope, Received, normalize};

fn mmdb(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../testdata/mmdb/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn all() -> GeoIp {
    GeoIp::new()
        .with(DbKind::City, mmdb("GeoLite2-City-Test.mmdb"), "GeoLite2-City-Test.mmdb")
        .unwrap()
        .with(DbKind::Asn, mmdb("GeoLite2-ASN-Test.mmdb"), "GeoLite2-ASN-Test.mmdb")
        .unwrap()
        .with(DbKind::Anonymous, mmdb("GeoIP2-Anonymous-IP-Test.mmdb"), "GeoIP2-Anonymous-IP-Test.mmdb")
        .unwrap()
}

#[test]
fn known_answers_from_sources_md() {
    let g = all();
    let london = g.lookup("81.2.69.142").unwrap();
    assert_eq!(london.country.as_deref(), Some("GB"));
    assert_eq!(london.country_name.as_deref(), Some("United Kingdom"));
    assert_eq!(london.city.as_deref(), Some("London"));
    assert!((london.latitude.unwrap() - 51.5142).abs() < 1e-6 && (london.longitude.unwrap() + 0.0931).abs() < 1e-6);
    assert_eq!(london.asn, None);
    assert_eq!(london.anonymous, Some(GeoAnonymous { vpn: true, tor: true, hosting: true, proxy: true }));

    let se = g.lookup("89.160.20.128").unwrap();
    assert_eq!((se.country.as_deref(), se.city.as_deref()), (Some("SE"), Some("Linköping")));
    assert_eq!((se.asn, se.as_org.as_deref()), (Some(29518), Some("Bredband2 AB")));
    assert_eq!(se.anonymous, None, "no marker set: no anonymous block");

    let us = g.lookup("216.160.83.56").unwrap();
    assert_eq!((us.country.as_deref(), us.city.as_deref(), us.asn), (Some("US"), Some("Milton"), Some(209)));

    let cn = g.lookup("175.16.199.1").unwrap();
    assert_eq!((cn.country.as_deref(), cn.city.as_deref()), (Some("CN"), Some("Changchun")));

    let jp = g.lookup("2001:218::1").unwrap();
    assert_eq!((jp.country.as_deref(), jp.city.as_deref()), (Some("JP"), None), "IPv6");

    let telstra = g.lookup("1.128.0.1").unwrap();
    assert_eq!((telstra.country.as_deref(), telstra.asn, telstra.as_org.as_deref()), (None, Some(1221), Some("Telstra Pty Ltd")));
    assert_eq!(telstra.place().as_deref(), Some("AS1221"));
    assert_eq!(telstra.network().as_deref(), Some("AS1221 Telstra Pty Ltd"));

    let vpn = g.lookup("1.2.0.1").unwrap();
    assert_eq!(vpn.anonymous, Some(GeoAnonymous { vpn: true, ..GeoAnonymous::default() }));
    assert_eq!(vpn.country, None);

    assert_eq!(g.lookup("10.0.0.1"), None, "private: no geo, no error");
    assert_eq!(g.lookup("10.1.2.3"), None);
    assert_eq!(g.lookup("203.0.113.7"), None, "documentation range");
    assert_eq!(g.lookup("8.8.8.8"), None, "public but unknown to the test databases");
    assert_eq!(g.lookup(""), None);
    assert_eq!(g.lookup("not an ip"), None);
    assert_eq!(g.lookup(" 81.2.69.142 ").and_then(|x| x.country), Some("GB".into()), "surrounding spaces tolerated");
    assert_eq!(g.lookup("::ffff:81.2.69.142").and_then(|x| x.city), Some("London".into()), "IPv4-mapped IPv6");
}

#[test]
fn a_country_database_serves_as_geoip_city() {
    let g = GeoIp::new().with(DbKind::City, mmdb("GeoLite2-Country-Test.mmdb"), "Country.mmdb").unwrap();
    let gb = g.lookup("81.2.69.142").unwrap();
    assert_eq!((gb.country.as_deref(), gb.city.as_deref()), (Some("GB"), None));
    assert!(g.describe().starts_with("city: Country.mmdb (GeoLite2-Country, built "), "{}", g.describe());
}

#[test]
fn wrong_and_damaged_files_are_refused_by_name() {
    let e = GeoIp::new().with(DbKind::City, mmdb("GeoLite2-ASN-Test.mmdb"), "/db/asn.mmdb").unwrap_err();
    assert!(matches!(e, GeoError::WrongKind { .. }));
    assert_eq!(
        e.to_string(),
        "/db/asn.mmdb: is a GeoLite2-ASN database, but [enrichment] geoip_city needs a City or Country database (GeoLite2-City, DB-IP City Lite, …)"
    );
    let mut cut = mmdb("GeoLite2-City-Test.mmdb");
    cut.truncate(cut.len() / 2);
    let e = GeoIp::new().with(DbKind::City, cut, "/db/half.mmdb").unwrap_err();
    assert!(e.to_string().starts_with("/db/half.mmdb: not a readable MaxMind DB file"), "{e}");
    let e = GeoIp::new().with(DbKind::Anonymous, mmdb("GeoLite2-City-Test.mmdb"), "c.mmdb").unwrap_err();
    assert!(e.to_string().contains("geoip_anonymous needs a GeoIP2-Anonymous-IP database"), "{e}");
}

#[test]
fn damaged_data_inside_a_valid_file_gives_no_answer_not_a_panic() {
    // Flip bytes in the data section (after the search tree, before the metadata): the
    // reader still opens, lookups may fail to decode, and enrichment must shrug.
    let mut bytes = mmdb("GeoLite2-City-Test.mmdb");
    let n = bytes.len();
    for b in &mut bytes[n / 2..n - 2_000] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let g = GeoIp::new().with(DbKind::City, bytes, "flipped.mmdb").expect("metadata untouched: the file still opens");
    let answers: Vec<_> =
        ["81.2.69.142", "89.160.20.128", "216.160.83.56", "2001:218::1", "175.16.199.1"].iter().map(|ip| g.lookup(ip)).collect();
    assert_ne!(answers[1].as_ref().and_then(|x| x.city.as_deref()), Some("Linköping"), "the damage reached the data: {answers:?}");
}

fn joined(ip: Option<&str>) -> zoomwatch_shared::RecordV1 {
    let mut part = json!({"user_name": "Ann", "email": "ann@acme.example", "id": "Z1", "participant_user_id": "Z1", "user_id": "9", "join_time": "2026-01-01T10:00:00Z"});
    if let Some(ip) = ip {
        part["public_ip"] = json!(ip);
    }
    let body = json!({"event": "meeting.participant_joined", "event_ts": 1, "payload": {"account_id": "A", "object": {"id": "1", "uuid": "u", "topic": "T", "participant": part}}});
    normalize(Envelope::parse(&serde_json::to_vec(&body).unwrap()).unwrap(), &Received::default())
}

#[test]
fn records_get_a_geo_block_beside_the_ip() {
    let g = all();
    let mut r = joined(Some("89.160.20.128"));
    assert!(g.enrich(&mut r));
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v["participant"]["geo"],
        json!({"country": "SE", "country_name": "Sweden", "city": "Linköping", "latitude": 58.4167, "longitude": 15.6167,
               "accuracy_km": 76, "asn": 29518, "as_org": "Bredband2 AB"})
    );
    // Round trip: what the console reads back is what was written.
    let back: zoomwatch_shared::RecordV1 = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.participant, r.participant);

    let mut private = joined(Some("10.1.2.3"));
    assert!(!g.enrich(&mut private));
    assert!(serde_json::to_value(&private).unwrap()["participant"].get("geo").is_none(), "no geo for a private address");
    let mut none = joined(None);
    assert!(!g.enrich(&mut none));

    // A record enriched where it was made keeps its geo (the console's databases may differ).
    let mut kept = joined(Some("81.2.69.142"));
    kept.participant.as_mut().unwrap().geo =
        Some(Box::new(zoomwatch_shared::record::Geo { country: Some("FR".into()), ..Default::default() }));
    assert!(!g.enrich(&mut kept));
    assert_eq!(kept.participant.unwrap().geo.unwrap().country.as_deref(), Some("FR"));

    // Sign-ins carry the IP on the actor.
    let mut sign_in = joined(None);
    sign_in.participant = None;
    sign_in.actor =
        Some(Box::new(zoomwatch_shared::record::Actor { id: Some("Z1".into()), ip: Some("216.160.83.56".into()), ..Default::default() }));
    assert!(g.enrich(&mut sign_in));
    assert_eq!(sign_in.actor.unwrap().geo.unwrap().city.as_deref(), Some("Milton"));
}

#[test]
fn no_database_means_no_geo_and_no_noise() {
    let mut r = joined(Some("81.2.69.142"));
    assert!(!GeoIp::new().enrich(&mut r));
    assert!(r.participant.unwrap().geo.is_none());
}

#[test]
fn the_demo_bundles_all_three_test_databases() {
    let g = zoomwatch_shared::scenario::geoip();
    let d = g.describe();
    for part in ["city: GeoLite2-City-Test (bundled", "asn: GeoLite2-ASN-Test (bundled", "anonymous: GeoIP2-Anonymous-IP-Test (bundled"] {
        assert!(d.contains(part), "{d}");
    }
    assert_eq!(g.lookup("175.16.199.23").and_then(|x| x.country).as_deref(), Some("CN"));
}
