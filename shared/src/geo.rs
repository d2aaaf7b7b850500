//! Offline GeoIP/ASN enrichment: where a Zoom-side IP address is (country, city,
//! coordinates), which network it belongs to (ASN, organization), and whether it is an
//! anonymizer (VPN, Tor exit, hosting provider, proxy). Reads MaxMind DB files —
//! MaxMind GeoLite2/GeoIP2, DB-IP Lite — with the `maxminddb` crate; nothing goes over
//! the network.
//!
//! This module takes the databases as bytes: the binaries read the files
//! (`zoomwatch_ingest::config::load_geoip`), so this crate stays free of I/O.
//!
//! A private, reserved or unknown address gets no [`Geo`] and no error; a database
//! whose records cannot be decoded gives no answer for that address rather than a
//! failure, because enrichment must never cost a record.

use std::net::IpAddr;

use maxminddb::Reader;
use maxminddb::geoip2;
use serde::Deserialize;

/// The parts of a City/Country record that a [`Geo`] keeps. Decoding only these (serde
/// skips the rest: other languages, subdivisions, postal codes, continents) costs less
/// than `geoip2::City`. Field names are the GeoIP2 schema's, which DB-IP Lite follows.
#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    country: Option<Named<'a>>,
    #[serde(borrow, default)]
    city: Option<Named<'a>>,
    #[serde(default)]
    location: Option<Location>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Option<English<'a>>,
}

#[derive(Deserialize)]
struct English<'a> {
    #[serde(default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    accuracy_radius: Option<u16>,
}

use crate::record::{Geo, GeoAnonymous, RecordV1};

/// Which kind of database a file is, by the key that names it in `[enrichment]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// `geoip_city`: a City or Country database (country, city, coordinates).
    City,
    /// `geoip_asn`: an ASN (or ISP) database.
    Asn,
    /// `geoip_anonymous`: a GeoIP2 Anonymous-IP database.
    Anonymous,
}

impl DbKind {
    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            Self::City => "geoip_city",
            Self::Asn => "geoip_asn",
            Self::Anonymous => "geoip_anonymous",
        }
    }

    /// Whether a database whose metadata says `database_type` can serve this kind.
    /// MaxMind names them `GeoLite2-City`, `GeoIP2-Country`, `GeoLite2-ASN`,
    /// `GeoIP2-ISP`, `GeoIP2-Anonymous-IP`; DB-IP `DBIP-City-Lite`, `DBIP-ASN-Lite …`.
    fn accepts(self, database_type: &str) -> bool {
        let t = database_type.to_ascii_lowercase();
        match self {
            Self::City => t.contains("city") || t.contains("country"),
            Self::Asn => t.contains("asn") || t.contains("isp"),
            Self::Anonymous => t.contains("anonymous"),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Self::City => "a City or Country database (GeoLite2-City, DB-IP City Lite, …)",
            Self::Asn => "an ASN database (GeoLite2-ASN, DB-IP ASN Lite, …)",
            Self::Anonymous => "a GeoIP2-Anonymous-IP database",
        }
    }
}

/// Why a database could not be used. Every message names the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GeoError {
    /// Not a MaxMind DB file (or a damaged one).
    #[error("{origin}: not a readable MaxMind DB file ({detail}); download it again or fix the path in [enrichment] {key}")]
    Corrupt {
        /// The file.
        origin: String,
        /// The config key.
        key: &'static str,
        /// What the reader said.
        detail: String,
    },
    /// A valid database of the wrong kind (an ASN file given as `geoip_city`…).
    #[error("{origin}: is a {found} database, but [enrichment] {key} needs {expected}")]
    WrongKind {
        /// The file.
        origin: String,
        /// The config key.
        key: &'static str,
        /// `database_type` from the file.
        found: String,
        /// What the key needs.
        expected: &'static str,
    },
}

struct Db {
    reader: Reader<Vec<u8>>,
    origin: String,
    database_type: String,
    built_unix: u64,
}

impl Db {
    fn open(kind: DbKind, bytes: Vec<u8>, origin: &str) -> Result<Self, GeoError> {
        let reader = Reader::from_source(bytes).map_err(|e| GeoError::Corrupt {
            origin: origin.to_owned(),
            key: kind.key(),
            detail: e.to_string(),
        })?;
        let database_type = reader.metadata().database_type.clone();
        if !kind.accepts(&database_type) {
            return Err(GeoError::WrongKind {
                origin: origin.to_owned(),
                key: kind.key(),
                found: database_type,
                expected: kind.expected(),
            });
        }
        let built_unix = reader.metadata().build_epoch;
        Ok(Self { reader, origin: origin.to_owned(), database_type, built_unix })
    }

    /// Decodes the record for `ip` as `T`; `None` when there is none or it is unreadable.
    fn get<'a, T: serde::Deserialize<'a>>(&'a self, ip: IpAddr) -> Option<T> {
        self.reader.lookup(ip).ok()?.decode::<T>().ok().flatten()
    }
}

/// The loaded databases. Cheap to share (`Arc`); lookups take `&self`.
#[derive(Default)]
pub struct GeoIp {
    city: Option<Db>,
    asn: Option<Db>,
    anonymous: Option<Db>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// True for addresses no database places: private, loopback, link-local, CGNAT,
/// unique-local, multicast, unspecified, documentation.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
                || o[0] == 0
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        }
    }
}

impl GeoIp {
    /// No databases: every lookup answers `None`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the database of `kind` from its bytes; `origin` (the path) names it in
    /// errors and in [`GeoIp::describe`].
    pub fn with(mut self, kind: DbKind, bytes: Vec<u8>, origin: &str) -> Result<Self, GeoError> {
        self.add(kind, bytes, origin)?;
        Ok(self)
    }

    /// Like [`GeoIp::with`], in place; on error nothing changes.
    pub fn add(&mut self, kind: DbKind, bytes: Vec<u8>, origin: &str) -> Result<(), GeoError> {
        let db = Some(Db::open(kind, bytes, origin)?);
        match kind {
            DbKind::City => self.city = db,
            DbKind::Asn => self.asn = db,
            DbKind::Anonymous => self.anonymous = db,
        }
        Ok(())
    }

    /// True when no database is loaded.
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.asn.is_none() && self.anonymous.is_none()
    }

    /// One line for startup logs: which file serves which lookup, and its type and date.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [("city", &self.city), ("asn", &self.asn), ("anonymous", &self.anonymous)]
            .into_iter()
            .filter_map(|(k, db)| {
                db.as_ref().map(|d| {
                    let built = i64::try_from(d.built_unix).ok().map(|s| crate::timefmt::format_ms(s * 1000));
                    let date = built.as_deref().and_then(|b| b.get(..10)).unwrap_or("?");
                    format!("{k}: {} ({}, built {date})", d.origin, d.database_type)
                })
            })
            .collect();
        if parts.is_empty() { "no GeoIP databases".to_owned() } else { parts.join("; ") }
    }

    /// Everything the databases know about `ip` (text as Zoom sends it). `None` for
    /// anything that is not a public IP address or that no database knows.
    pub fn lookup(&self, ip: &str) -> Option<Geo> {
        let addr: IpAddr = ip.trim().parse().ok()?;
        if is_non_public(addr) {
            return None;
        }
        let mut g = Geo::default();
        if let Some(rec) = self.city.as_ref().and_then(|db| db.get::<CityRecord<'_>>(addr)) {
            // Where the address is. Not `registered_country` (where the network is
            // registered): a wrong country would raise location alerts, none raises nothing.
            if let Some(c) = rec.country {
                g.country = c.iso_code.map(str::to_owned);
                g.country_name = c.names.and_then(|n| n.en).map(str::to_owned);
            }
            g.city = rec.city.and_then(|c| c.names).and_then(|n| n.en).map(str::to_owned);
            if let Some(loc) = rec.location {
                g.latitude = loc.latitude.filter(|v| v.is_finite());
                g.longitude = loc.longitude.filter(|v| v.is_finite());
                g.accuracy_km = loc.accuracy_radius;
            }
        }
        if let Some(asn) = self.asn.as_ref().and_then(|db| db.get::<geoip2::Asn<'_>>(addr)) {
            g.asn = asn.autonomous_system_number;
            g.as_org = asn.autonomous_system_organization.map(str::to_owned);
        }
        if let Some(anon) = self.anonymous.as_ref().and_then(|db| db.get::<geoip2::AnonymousIp>(addr)) {
            let a = GeoAnonymous {
                vpn: anon.is_anonymous_vpn.unwrap_or(false),
                tor: anon.is_tor_exit_node.unwrap_or(false),
                hosting: anon.is_hosting_provider.unwrap_or(false),
                proxy: anon.is_public_proxy.unwrap_or(false) || anon.is_residential_proxy.unwrap_or(false),
            };
            if a.any() {
                g.anonymous = Some(a);
            }
        }
        (!g.is_empty()).then_some(g)
    }

    /// Fills `geo` beside every Zoom-side IP of `r` that has none yet (the participant's
    /// `ip`, the actor's `ip`). Returns whether anything was added. Records enriched
    /// where they were made keep what they have.
    pub fn enrich(&self, r: &mut RecordV1) -> bool {
        if self.is_empty() {
            return false;
        }
        let mut added = false;
        if let Some(p) = r.participant.as_mut()
            && p.geo.is_none()
            && let Some(ip) = p.ip.as_deref()
        {
            p.geo = self.lookup(ip).map(Box::new);
            added |= p.geo.is_some();
        }
        if let Some(a) = r.actor.as_mut()
            && a.geo.is_none()
            && let Some(ip) = a.ip.as_deref()
        {
            a.geo = self.lookup(ip).map(Box::new);
            added |= a.geo.is_some();
        }
        added
    }
}

/// Great-circle distance in km between two points (haversine, mean Earth radius).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses() {
        for ip in ["10.1.2.3", "192.168.0.1", "172.16.5.5", "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "255.255.255.255"] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["::1", "fd00::1", "fe80::1", "2001:db8::1", "::ffff:10.0.0.1", "ff02::1"] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["81.2.69.142", "2001:218::1", "8.8.8.8", "::ffff:81.2.69.142"] {
            assert!(!is_non_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn distances() {
        // London → Linköping 1,257.7 km and Milton → Changchun 7,913.1 km (checked with the
        // spherical law of cosines); a point to itself is 0; antipodes πR ≈ 20,015 km.
        assert!((distance_km(51.5142, -0.0931, 58.4167, 15.6167) - 1257.73).abs() < 0.01);
        assert!((distance_km(47.2513, -122.3149, 43.88, 125.3228) - 7913.07).abs() < 0.01);
        assert!(distance_km(10.0, 10.0, 10.0, 10.0).abs() < 1e-9);
        assert!((distance_km(0.0, 0.0, 0.0, 180.0) - 20_015.0).abs() < 5.0);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let e = GeoIp::new().with(DbKind::City, b"not a database".to_vec(), "/x/city.mmdb").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("/x/city.mmdb: not a readable MaxMind DB file"), "{msg}");
        assert!(msg.contains("geoip_city"), "{msg}");
        let e = GeoIp::new().with(DbKind::Asn, Vec::new(), "empty.mmdb").unwrap_err();
        assert!(matches!(e, GeoError::Corrupt { .. }), "{e}");
    }

    #[test]
    fn no_databases_no_answers() {
        let g = GeoIp::new();
        assert!(g.is_empty());
        assert_eq!(g.lookup("81.2.69.142"), None);
        assert_eq!(g.describe(), "no GeoIP databases");
    }
}
