//! Where people come from: the rules that read the `geo` blocks GeoIP enrichment puts
//! beside Zoom-side IP addresses.
//!
//! - stateless, on one record: `anonymizer-join` (VPN, Tor exit, proxy, hosting
//!   network, or a listed AS) and `country-policy` (denied / not allowed countries);
//! - stateful, in [`Travel`]: `new-country` (an identity somewhere it has not been seen
//!   for the window) and `impossible-travel` (two places too far apart for the time
//!   between them).
//!
//! A *sighting* is a participant arriving in a meeting (join, JBH join, waiting room)
//! with an IP that has a `geo`, or a sign-in with one (`actor.ip`, from Zoom's sign-in
//! report). Records without `geo` are ignored by every rule here.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt};

use crate::config::Config;
use crate::record::{Flag, Geo, RecordV1, Severity};
use crate::rules::subjects::{is_external, meeting_label, who};
use crate::text::sanitize;

/// Above this speed two sightings are "impossible travel" (a little faster than an
/// airliner's cruise, so a flight plus airport time never trips it).
pub const MAX_TRAVEL_KMH: f64 = 1_000.0;
/// Below this distance (after both accuracy radii are taken off), places count as the
/// same: city-level geolocation is often off by a few hundred km.
pub const MIN_TRAVEL_KM: f64 = 500.0;
/// Identities whose places are remembered at most. When full, identities not seen for
/// the `new-country` window are forgotten first; new ones are not learned until then.
pub const MAX_IDENTITIES: usize = 200_000;
/// Countries remembered per identity (the least recently seen goes first).
const MAX_COUNTRIES: usize = 16;

/// One located subject of a record.
pub struct Sighting<'a> {
    /// Where.
    pub geo: &'a Geo,
    /// From which address.
    pub ip: &'a str,
    /// The record the sighting is in (reasons are worded from it only when a rule fires).
    record: &'a RecordV1,
    /// Stable identity across meetings (Zoom user id, else lower-cased email), when the
    /// subject has one (guests do not).
    pub ident: Option<Cow<'a, str>>,
    /// True for a participant with an email outside the internal domains.
    pub external: bool,
    /// True when the subject is the meeting's host.
    pub is_host: bool,
    /// The subject's email, if any.
    pub email: Option<&'a str>,
}

impl Sighting<'_> {
    /// Who, as reasons name them (`dana@acme.example`, `guest "xX"`).
    pub fn who(&self) -> String {
        let r = self.record;
        if is_sign_in(r) {
            let a = r.actor.as_ref();
            let name = a.and_then(|a| a.email.as_deref().or(a.id.as_deref())).unwrap_or("someone");
            return sanitize(name, 48).into_owned();
        }
        r.participant.as_ref().map_or_else(|| "someone".to_owned(), who)
    }

    /// `joined "Topic"` or `signed in`.
    pub fn doing(&self) -> String {
        if is_sign_in(self.record) { "signed in".to_owned() } else { format!("joined {}", meeting_label(self.record)) }
    }
}

/// Who someone is across meetings and sign-ins: the Zoom user id, else the lower-cased
/// email. Borrowed when it needs no change.
pub fn identity<'a>(zoom_user_id: Option<&'a str>, email: Option<&'a str>) -> Option<Cow<'a, str>> {
    match (zoom_user_id, email) {
        (Some(id), _) => Some(Cow::Borrowed(id)),
        (None, Some(e)) => Some(Cow::Owned(e.to_ascii_lowercase())),
        (None, None) => None,
    }
}

/// True for the events that sign a user in (the webhook and the sign-in report).
pub fn is_sign_in(r: &RecordV1) -> bool {
    matches!(r.event.as_str(), "user.signed_in" | "zoom.report.sign_in")
}

fn arriving(r: &RecordV1) -> bool {
    r.category == crate::record::Category::Participant
        && matches!(r.action.as_str(), "joined" | "jbh_joined" | "joined_waiting_room" | "jbh_waiting")
}

/// The located subject of `r`, if it has one.
pub fn sighting<'a>(r: &'a RecordV1, cfg: &Config) -> Option<Sighting<'a>> {
    if arriving(r) {
        let p = r.participant.as_ref()?;
        let (geo, ip) = (p.geo.as_deref()?, p.ip.as_deref()?);
        let ident = if p.guest { None } else { identity(p.zoom_user_id.as_deref(), p.email.as_deref()) };
        let host = r.meeting.as_ref().and_then(|m| m.host_id.as_ref());
        return Some(Sighting {
            geo,
            ip,
            record: r,
            ident,
            external: is_external(p, cfg),
            is_host: host.is_some() && p.zoom_user_id.as_ref() == host,
            email: p.email.as_deref(),
        });
    }
    if is_sign_in(r) {
        let a = r.actor.as_ref()?;
        let (geo, ip) = (a.geo.as_deref()?, a.ip.as_deref()?);
        let ident = identity(a.id.as_deref(), a.email.as_deref());
        let external = !cfg.internal_domains.is_empty() && a.email.as_deref().is_some_and(|e| !cfg.is_internal_email(e));
        return Some(Sighting { geo, ip, record: r, ident, external, is_host: false, email: a.email.as_deref() });
    }
    None
}

/// One step up (Low → Medium → High), for the "worse in a sensitive meeting" cases.
pub fn raised(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium | Severity::High => Severity::High,
    }
}

/// `81.2.69.142 (London, GB)`: the address and where it is.
fn from(s: &Sighting<'_>) -> String {
    let ip = sanitize(s.ip, 40);
    match s.geo.place() {
        Some(p) => format!("{ip} ({})", sanitize(&p, 60)),
        None => ip.into_owned(),
    }
}

fn sensitive(r: &RecordV1, cfg: &Config) -> bool {
    r.meeting.as_ref().and_then(|m| m.topic.as_deref()).is_some_and(|t| cfg.sensitive_topics.iter().any(|p| p.is_match(t)))
}

/// The stateless location rules: appends their flags for `r`.
pub fn stateless_flags(r: &RecordV1, cfg: &Config, out: &mut Vec<Flag>) {
    let Some(s) = sighting(r, cfg) else { return };
    // The topic patterns are matched only when a rule has something to say.
    let sens = std::cell::OnceCell::new();
    let sens = || *sens.get_or_init(|| sensitive(r, cfg));
    if let Some(rule) = cfg.rule("anonymizer-join") {
        let listed = s.geo.asn.filter(|a| cfg.anonymizer_asns.contains(a));
        let what = match (s.geo.anonymous.filter(|a| a.any()), listed) {
            (Some(a), _) => Some(a.describe()),
            (None, Some(asn)) => Some(format!("listed anonymizer network AS{asn}")),
            (None, None) => None,
        };
        if let Some(what) = what {
            let severity = if sens() { raised(rule.severity) } else { rule.severity };
            let note = if sens() { " — sensitive topic" } else { "" };
            out.push(Flag {
                rule: "anonymizer-join".to_owned(),
                severity,
                reason: format!("{} {} from {} via {what}{note}", s.who(), s.doing(), from(&s)),
            });
        }
    }
    if let Some(rule) = cfg.rule("country-policy").filter(|_| !cfg.denied_countries.is_empty() || !cfg.allowed_countries.is_empty())
        && let Some(country) = s.geo.country.as_deref()
    {
        let cc = country.to_ascii_uppercase();
        let name = || s.geo.country_name.as_deref().map(|n| format!(" ({})", sanitize(n, 40))).unwrap_or_default();
        let why = if cfg.denied_countries.contains(&cc) {
            Some(format!("denied country {}{}", sanitize(&cc, 2), name()))
        } else if !cfg.allowed_countries.is_empty() && !cfg.allowed_countries.contains(&cc) {
            Some(format!("{}{}, outside the allowed countries ({})", sanitize(&cc, 2), name(), cfg.allowed_countries.join(", ")))
        } else {
            None
        };
        if let Some(why) = why.filter(|_| !cfg.policy_sensitive_only || sens()) {
            out.push(Flag {
                rule: "country-policy".to_owned(),
                severity: rule.severity,
                reason: format!("{} {} from {}: {why}", s.who(), s.doing(), sanitize(s.ip, 40)),
            });
        }
    }
}

/// `8010.4` → `8,010`: a rounded figure with thousands separators.
fn grouped(v: f64) -> String {
    crate::text::group_digits(&format!("{:.0}", v.max(0.0)))
}

/// A finding of the stateful location rules.
pub struct TravelFinding {
    /// Rule id.
    pub rule: &'static str,
    /// Severity after escalation.
    pub severity: Severity,
    /// Reason line.
    pub reason: String,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Fix {
    t: i64,
    ip: String,
    country: Option<String>,
    coords: Option<(f64, f64)>,
    accuracy_km: f64,
    place: String,
    /// Meeting key of the session, for "is it still live".
    meeting: Option<String>,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Places {
    /// (country, last seen ms).
    countries: Vec<(String, i64)>,
    last: Option<Fix>,
    last_seen: i64,
}

/// What the stateful location rules remember: per identity, the countries seen and
/// the latest located sighting. Bounded by [`MAX_IDENTITIES`].
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Travel {
    people: HashMap<String, Places>,
}

impl Travel {
    /// An empty memory.
    pub fn new() -> Self {
        Self { people: HashMap::new() }
    }

    /// How many identities are remembered.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// Judges the sighting in `r` at payload time `t` (ms). `meeting` is its meeting
    /// key; `live` tells whether a meeting key is still a live session of the identity
    /// (the detector's active sessions), for the concurrent case.
    pub fn observe(
        &mut self,
        r: &RecordV1,
        t: i64,
        cfg: &Config,
        meeting: Option<&str>,
        live: impl Fn(&str) -> bool,
    ) -> Vec<TravelFinding> {
        let mut out = Vec::new();
        let Some(s) = sighting(r, cfg) else { return out };
        let Some(ident) = s.ident.as_deref() else { return out };
        let new_country = cfg.rule("new-country");
        let travel = cfg.rule("impossible-travel");
        if new_country.is_none() && travel.is_none() {
            return out;
        }
        let window_ms = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX / 2).saturating_mul(1000);
        let learn_ms = new_country.map_or(window_ms(7_776_000), |r| window_ms(r.window_secs));

        if !self.people.contains_key(ident) && self.people.len() >= MAX_IDENTITIES {
            let horizon = t.saturating_sub(learn_ms);
            self.people.retain(|_, p| p.last_seen >= horizon);
            if self.people.len() >= MAX_IDENTITIES {
                return out;
            }
        }
        let places = self.people.entry(ident.to_owned()).or_default();
        let fix = Fix {
            t,
            ip: s.ip.to_owned(),
            country: s.geo.country.as_ref().map(|c| c.to_ascii_uppercase()),
            coords: s.geo.coordinates(),
            accuracy_km: f64::from(s.geo.accuracy_km.unwrap_or(0)),
            place: from(&s),
            meeting: meeting.map(str::to_owned),
        };

        // new-country: an internal identity, somewhere it has history but not this country.
        if let (Some(rule), Some(country)) = (new_country, fix.country.as_deref())
            && !s.external
        {
            let recent = |c: &(String, i64)| c.0 == country && (t - c.1).abs() <= learn_ms;
            if !places.countries.is_empty() && !places.countries.iter().any(recent) {
                let usual = places.countries.iter().max_by_key(|c| c.1).map(|c| c.0.clone()).unwrap_or_default();
                let admin = s.email.is_some_and(|e| cfg.admin_operators.iter().any(|a| a.eq_ignore_ascii_case(e)));
                let weighty = admin || s.is_host || sensitive(r, cfg);
                let days = learn_ms / 86_400_000;
                out.push(TravelFinding {
                    rule: "new-country",
                    severity: if weighty { raised(rule.severity) } else { rule.severity },
                    reason: format!(
                        "{} {} from {}: not seen from {country} in {days} days (last seen from {usual}){}",
                        s.who(),
                        s.doing(),
                        fix.place,
                        if admin {
                            " — an admin"
                        } else if s.is_host {
                            " — the host"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
        if let Some(country) = &fix.country {
            match places.countries.iter_mut().find(|c| &c.0 == country) {
                Some(c) => c.1 = c.1.max(t),
                None => {
                    if places.countries.len() >= MAX_COUNTRIES
                        && let Some(i) = places.countries.iter().enumerate().min_by_key(|(_, c)| c.1).map(|(i, _)| i)
                    {
                        places.countries.swap_remove(i);
                    }
                    places.countries.push((country.clone(), t));
                }
            }
        }

        // impossible-travel: compared with the latest earlier (or later) sighting.
        if let (Some(rule), Some(prev)) = (travel, places.last.as_ref())
            && prev.ip != fix.ip
        {
            let dt_ms = (t - prev.t).abs();
            let hours = (dt_ms.max(60_000) as f64) / 3_600_000.0;
            let when = if dt_ms < 120_000 { format!("{} s", dt_ms / 1000) } else { format!("{} min", dt_ms / 60_000) };
            let concurrent = prev.meeting.as_deref().is_some_and(|m| Some(m) != meeting && live(m));
            let finding = match (prev.coords, fix.coords) {
                (Some((la1, lo1)), Some((la2, lo2))) => {
                    let km = crate::geo::distance_km(la1, lo1, la2, lo2) - prev.accuracy_km - fix.accuracy_km;
                    (km > MIN_TRAVEL_KM && km / hours > MAX_TRAVEL_KMH).then(|| {
                        format!(
                            "{} {} from {}, {} km from {} {when} apart ({} km/h)",
                            s.who(),
                            s.doing(),
                            fix.place,
                            grouped(km),
                            prev.place,
                            grouped(km / hours)
                        )
                    })
                }
                _ => match (&prev.country, &fix.country) {
                    (Some(a), Some(b)) if a != b && dt_ms <= window_ms(rule.window_secs) => {
                        Some(format!("{} {} from {}, {when} after {} (different countries)", s.who(), s.doing(), fix.place, prev.place))
                    }
                    _ => None,
                },
            };
            if let Some(reason) = finding {
                let (severity, reason) = if concurrent {
                    (raised(rule.severity), format!("{reason}, while still in the other session"))
                } else {
                    (rule.severity, reason)
                };
                out.push(TravelFinding { rule: "impossible-travel", severity, reason });
            }
        }
        if places.last.as_ref().is_none_or(|p| t >= p.t) {
            places.last = Some(fix);
        }
        places.last_seen = places.last_seen.max(t);
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn grouped_figures() {
        assert_eq!(super::grouped(8010.4), "8,010");
        assert_eq!(super::grouped(480_585.0), "480,585");
        assert_eq!(super::grouped(999.6), "1,000");
        assert_eq!(super::grouped(12.0), "12");
        assert_eq!(super::grouped(-3.0), "0");
    }
}
