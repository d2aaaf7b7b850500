//! The filter language, used by `zoomwatch tail` flags and the console's `/` prompt.
//! Terms are separated by spaces and must all match:
//!
//! | term | matches |
//! |---|---|
//! | `meeting:X` | meeting number or uuid equal to X, or topic containing X |
//! | `user:X` | participant, operator or target user whose email, name or id contains X |
//! | `type:X` | event type or category containing X (`type:joined`, `type:admin`) |
//! | `sev:>=medium`, `sev:high` | worst flag (or alert severity) at least / exactly |
//! | `country:GB` | participant or sign-in from that country (ISO code; needs GeoIP) |
//! | `asn:29518` | participant or sign-in from that network (AS number; `AS29518` too) |
//! | `is:guest`, `is:registered`, `is:host` | participant without a Zoom identity / with a registration / who is the meeting's host |
//! | `since:15m`, `since:2026-12-01T09:00` | happened (payload time) within the last 15 min (`s`, `m`, `h`, `d`) / since then, UTC |
//! | `between:09:00..09:30`, `between:2026-12-01T09:00..2026-12-01T12:00` | happened in that window: times of day are today's, UTC |
//! | anything else | text anywhere in event, topic, names, emails, IPs, reasons |
//!
//! Matching is case-insensitive. `"quoted words"` keep their spaces.
//!
//! Why one file of this length: the parser and the matcher of one small language read
//! best side by side, and its tests (a sixth of the file) stay beside them.

use crate::record::{Actor, Geo, Participant, RecordV1, Severity};
use crate::rules::Alert;

/// One term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `meeting:`
    Meeting(String),
    /// `user:`
    User(String),
    /// `type:`
    Type(String),
    /// `sev:>=` (true) or `sev:` exact (false).
    Severity(Severity, bool),
    /// `country:` (lower-case ISO code).
    Country(String),
    /// `asn:`
    Asn(u32),
    /// `is:`
    Is(Trait),
    /// `since:` / `between:`: payload time within `from..=to` (Unix ms).
    Time(i64, i64),
    /// Free text.
    Text(String),
}

/// What `is:` asks of the participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trait {
    /// No Zoom identity.
    Guest,
    /// Registered (a `registrant_id`).
    Registered,
    /// The meeting's host.
    Host,
}

impl Trait {
    /// Whether `p` has the trait (`host_id`: the meeting's host, when known).
    pub fn of(self, p: &Participant, host_id: Option<&str>) -> bool {
        self.holds(p.guest, p.registrant_id.is_some(), p.zoom_user_id.as_deref(), host_id)
    }

    /// Whether a roster line has the trait.
    pub fn of_attendee(self, p: &crate::roster::RosterPerson, host_id: Option<&str>) -> bool {
        self.holds(p.guest(), p.registrant_id().is_some(), p.zoom_user_id(), host_id)
    }

    fn holds(self, guest: bool, registered: bool, zoom_user_id: Option<&str>, host_id: Option<&str>) -> bool {
        match self {
            Self::Guest => guest,
            Self::Registered => registered,
            Self::Host => host_id.is_some() && zoom_user_id == host_id,
        }
    }
}

/// A conjunction of terms. The empty filter matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The terms, lower-cased, cheapest first.
    pub terms: Vec<Term>,
    /// A compiled substring searcher per term (for `user:` and text terms).
    finders: Vec<Option<memchr::memmem::Finder<'static>>>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
}

impl Eq for Filter {}

/// Rough cost of evaluating a term, to try cheap ones first.
fn cost(t: &Term) -> u8 {
    match t {
        Term::Severity(..) | Term::Country(_) | Term::Asn(_) | Term::Is(_) | Term::Time(..) => 0,
        Term::Type(_) => 1,
        Term::Meeting(_) => 2,
        Term::User(_) => 3,
        Term::Text(_) => 4,
    }
}

/// A record's searchable text, lower-cased: the user fields (participant, operator,
/// target), then a `\n`, then everything else the text term looks at. Built once per
/// record by the console so a filter change is one substring search per row.
#[derive(Debug, Clone, Default)]
pub struct SearchText {
    text: Box<str>,
    user_end: u32,
    /// Byte ranges of the meeting id, uuid, topic, and the event type within `text`.
    meeting_id: (u32, u32),
    meeting_uuid: (u32, u32),
    topic: (u32, u32),
    event: (u32, u32),
    category: (u32, u32),
    /// Payload time (ms), for `since:` and `between:`.
    occurred_ms: i64,
    /// `is:` traits of the participant: [`TRAIT_GUEST`] and the like.
    traits: u8,
    /// Country codes (two ASCII letters, upper-cased; 0: none) and AS numbers of the
    /// participant's and the operator's addresses, for `country:` and `asn:`.
    countries: [u16; 2],
    asns: [Option<u32>; 2],
}

const TRAIT_GUEST: u8 = 1;
const TRAIT_REGISTERED: u8 = 2;
const TRAIT_HOST: u8 = 4;

fn country_code(g: Option<&Geo>) -> u16 {
    match g.and_then(|g| g.country.as_deref()).map(str::as_bytes) {
        Some(&[a, b]) if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            u16::from_be_bytes([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => 0,
    }
}

impl SearchText {
    /// Builds the search text of `r`.
    pub fn of(r: &RecordV1) -> Self {
        fn push_lower(s: &mut String, f: &str) -> (u32, u32) {
            let start = s.len();
            if f.is_ascii() {
                s.push_str(f);
                if let Some(tail) = s.get_mut(start..) {
                    tail.make_ascii_lowercase();
                }
            } else {
                s.push_str(&f.to_lowercase());
            }
            let end = s.len();
            s.push('\n');
            (u32::try_from(start).unwrap_or(0), u32::try_from(end).unwrap_or(0))
        }
        let mut s = String::with_capacity(192);
        for f in user_fields(r) {
            push_lower(&mut s, f);
        }
        let user_end = u32::try_from(s.len()).unwrap_or(0);
        let m = r.meeting.as_ref();
        let meeting_id = push_lower(&mut s, m.and_then(|m| m.id.as_deref()).unwrap_or(""));
        let meeting_uuid = push_lower(&mut s, m.and_then(|m| m.uuid.as_deref()).unwrap_or(""));
        let topic = push_lower(&mut s, m.and_then(|m| m.topic.as_deref()).unwrap_or(""));
        let event = push_lower(&mut s, &r.event);
        let category = push_lower(&mut s, r.category.as_str());
        for f in other_fields(r) {
            push_lower(&mut s, f);
        }
        let host_id = r.meeting.as_ref().and_then(|m| m.host_id.as_deref());
        let traits = r.participant.as_ref().map_or(0, |p| {
            [(Trait::Guest, TRAIT_GUEST), (Trait::Registered, TRAIT_REGISTERED), (Trait::Host, TRAIT_HOST)]
                .into_iter()
                .filter(|(t, _)| t.of(p, host_id))
                .fold(0, |acc, (_, bit)| acc | bit)
        });
        let pgeo = r.participant.as_ref().and_then(|p| p.geo.as_deref());
        let ageo = r.actor.as_ref().and_then(|a| a.geo.as_deref());
        Self {
            text: s.into_boxed_str(),
            user_end,
            meeting_id,
            meeting_uuid,
            topic,
            event,
            category,
            occurred_ms: r.occurred_ms(),
            traits,
            countries: [country_code(pgeo), country_code(ageo)],
            asns: [pgeo.and_then(|g| g.asn), ageo.and_then(|g| g.asn)],
        }
    }

    /// Bytes this holds (itself and its text).
    pub fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.text.len()
    }

    fn part(&self, (a, b): (u32, u32)) -> &str {
        self.text.get(a as usize..b as usize).unwrap_or("")
    }
}

/// A filter that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct FilterError(pub String);

/// Words of a filter; `"…"` keeps white space inside a word. A line break ends a word
/// even inside quotes: it separates the fields of [`SearchText`], so a term holding one
/// would match across two fields there and nowhere in the record (found by the `filter`
/// fuzz target; `fuzz/corpus/filter/regression-quoted-newline`).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c == '\n' || c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `15m`, `2h`, `30s`, `7d` → ms.
fn parse_span(v: &str) -> Option<i64> {
    let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// A point in time of a `since:`/`between:` term: `YYYY-MM-DDTHH:MM[:SS][Z]` (UTC) or
/// `HH:MM` (today, UTC).
fn parse_instant(v: &str, now_ms: i64) -> Option<i64> {
    let v = v.trim().trim_end_matches(['Z', 'z']);
    if let [h, m] = v.split(':').collect::<Vec<_>>()[..]
        && h.len() <= 2
        && m.len() == 2
    {
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 23 || m > 59 {
            return None;
        }
        return Some(now_ms.div_euclid(86_400_000) * 86_400_000 + (h * 60 + m) * 60_000);
    }
    let full = match v.len() {
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => return None,
    };
    crate::timefmt::parse_rfc3339_ms(&full.to_ascii_uppercase())
}

impl Filter {
    /// Parses filter text; `since:15m` and times of day in `between:` count from `now_ms`
    /// (the caller's clock: nothing in here reads one).
    pub fn parse(s: &str, now_ms: i64) -> Result<Self, FilterError> {
        let mut f = Self::parse_terms(s, now_ms)?;
        f.terms.sort_by_key(cost);
        f.finders = f
            .terms
            .iter()
            .map(|t| match t {
                Term::User(v) | Term::Text(v) => Some(memchr::memmem::Finder::new(v.as_bytes()).into_owned()),
                _ => None,
            })
            .collect();
        Ok(f)
    }

    fn parse_terms(s: &str, now_ms: i64) -> Result<Self, FilterError> {
        let mut terms = Vec::new();
        for word in split_words(s) {
            let lower = word.to_lowercase();
            let term = if let Some(v) = lower.strip_prefix("meeting:") {
                Term::Meeting(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("user:") {
                Term::User(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("type:") {
                Term::Type(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("country:") {
                if !(v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic())) {
                    return Err(FilterError(format!("{word:?}: a country is a two-letter ISO code, e.g. country:GB")));
                }
                Term::Country(v.to_owned())
            } else if let Some(v) = lower.strip_prefix("asn:") {
                let n = v.strip_prefix("as").unwrap_or(v);
                Term::Asn(n.parse().map_err(|_| FilterError(format!("{word:?}: an AS number, e.g. asn:29518")))?)
            } else if let Some(v) = lower.strip_prefix("since:") {
                let from = parse_span(v)
                    .map(|span| now_ms.saturating_sub(span))
                    .or_else(|| parse_instant(v, now_ms))
                    .ok_or_else(|| FilterError(format!("{word:?}: since:15m (s, m, h, d) or since:2026-12-01T09:00 (UTC)")))?;
                Term::Time(from, i64::MAX)
            } else if let Some(v) = lower.strip_prefix("between:") {
                let window = v.split_once("..").and_then(|(a, b)| Some((parse_instant(a, now_ms)?, parse_instant(b, now_ms)?)));
                match window {
                    Some((a, b)) if a <= b => Term::Time(a, b),
                    Some(_) => return Err(FilterError(format!("{word:?}: the window ends before it starts"))),
                    None => {
                        return Err(FilterError(format!(
                            "{word:?}: between:09:00..09:30 (today, UTC) or between:2026-12-01T09:00..2026-12-01T12:00"
                        )));
                    }
                }
            } else if let Some(v) = lower.strip_prefix("is:") {
                Term::Is(match v {
                    "guest" => Trait::Guest,
                    "registered" => Trait::Registered,
                    "host" => Trait::Host,
                    _ => return Err(FilterError(format!("{word:?}: use is:guest, is:registered or is:host"))),
                })
            } else if let Some(v) = lower.strip_prefix("sev:") {
                let (at_least, name) = match v.strip_prefix(">=") {
                    Some(n) => (true, n),
                    None => (false, v),
                };
                let sev = Severity::parse(name)
                    .ok_or_else(|| FilterError(format!("unknown severity {name:?}: use info, low, medium or high (sev:>=medium)")))?;
                Term::Severity(sev, at_least)
            } else {
                Term::Text(lower)
            };
            if matches!(&term, Term::Meeting(v) | Term::User(v) | Term::Type(v) if v.is_empty()) {
                return Err(FilterError(format!("{word:?} needs a value, e.g. {word}x")));
            }
            terms.push(term);
        }
        Ok(Self { terms, finders: Vec::new() })
    }

    /// Adds a term (from `--meeting`, `--user`, or a jump to "this meeting").
    pub fn with(mut self, term: Term) -> Self {
        let finder = match &term {
            Term::User(v) | Term::Text(v) => Some(memchr::memmem::Finder::new(v.as_bytes()).into_owned()),
            _ => None,
        };
        self.terms.push(term);
        self.finders.push(finder);
        self
    }

    /// Like [`Filter::matches_record`], using the record's precomputed [`SearchText`]
    /// for `user:` and text terms (the console's fast path; same results).
    pub fn matches_search(&self, worst: Option<Severity>, search: &SearchText) -> bool {
        self.terms.iter().zip(self.finders.iter().chain(std::iter::repeat(&None))).all(|(t, finder)| match (t, finder) {
            (Term::User(v), Some(f)) => {
                let hay = search.text.as_bytes().get(..search.user_end as usize).unwrap_or_default();
                f.find(hay).is_some() || v.is_empty()
            }
            (Term::Text(_), Some(f)) => f.find(search.text.as_bytes()).is_some(),
            // The meeting id and uuid are compared whole: the text is lower-cased, so
            // compare case-insensitively (uuids are case-sensitive in Zoom, but a
            // filter typed by hand should not miss on case).
            (Term::Meeting(v), _) => {
                search.part(search.meeting_id) == v
                    || search.part(search.meeting_uuid) == v
                    || search.part(search.topic).contains(v.as_str())
            }
            (Term::Type(v), _) => search.part(search.event).contains(v.as_str()) || search.part(search.category) == v,
            (Term::Severity(s, at_least), _) => worst.is_some_and(|w| if *at_least { w >= *s } else { w == *s }),
            (Term::Country(c), _) => {
                let want = match c.as_bytes() {
                    &[a, b] => u16::from_be_bytes([a.to_ascii_uppercase(), b.to_ascii_uppercase()]),
                    _ => return false,
                };
                search.countries.contains(&want)
            }
            (Term::Asn(n), _) => search.asns.contains(&Some(*n)),
            (Term::Is(tr), _) => {
                let bit = match tr {
                    Trait::Guest => TRAIT_GUEST,
                    Trait::Registered => TRAIT_REGISTERED,
                    Trait::Host => TRAIT_HOST,
                };
                search.traits & bit != 0
            }
            (Term::Time(from, to), _) => (*from..=*to).contains(&search.occurred_ms),
            // Terms set by hand, without a compiled searcher.
            (Term::User(v), None) => search.text.get(..search.user_end as usize).unwrap_or_default().contains(v.as_str()),
            (Term::Text(v), None) => search.text.contains(v.as_str()),
        })
    }

    /// True when no term is set.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `r` (whose effective worst severity is `worst`) matches.
    pub fn matches_record(&self, r: &RecordV1, worst: Option<Severity>) -> bool {
        self.terms.iter().all(|t| self.term_matches_record(t, r, worst))
    }

    fn term_matches_record(&self, t: &Term, r: &RecordV1, worst: Option<Severity>) -> bool {
        match t {
            Term::Meeting(v) => {
                r.meeting.as_ref().is_some_and(|m| meeting_matches(v, m.id.as_deref(), m.uuid.as_deref(), m.topic.as_deref()))
            }
            Term::User(v) => user_fields(r).any(|f| contains(f, v)),
            Term::Type(v) => contains(&r.event, v) || r.category.as_str() == v,
            Term::Severity(s, at_least) => worst.is_some_and(|w| if *at_least { w >= *s } else { w == *s }),
            Term::Country(_) | Term::Asn(_) => geos(r.participant.as_ref(), r.actor.as_deref()).any(|g| place_matches(t, Some(g))),
            Term::Text(v) => text_fields(r).any(|f| contains(f, v)),
            Term::Is(t) => r.participant.as_ref().is_some_and(|p| t.of(p, r.meeting.as_ref().and_then(|m| m.host_id.as_deref()))),
            Term::Time(from, to) => (*from..=*to).contains(&r.occurred_ms()),
        }
    }

    /// Whether alert `a` matches.
    pub fn matches_alert(&self, a: &Alert) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Meeting(v) => {
                a.meeting.as_ref().is_some_and(|m| meeting_matches(v, m.id.as_deref(), m.uuid.as_deref(), m.topic.as_deref()))
            }
            Term::User(v) => {
                let p = a.participant.iter().flat_map(|p| [&p.email, &p.name, &p.zoom_user_id, &p.user_id]);
                let ac = a.actor.iter().flat_map(|x| [&x.email, &x.id]);
                p.chain(ac).flatten().any(|f| contains(f, v))
            }
            Term::Type(v) => contains(&a.rule, v) || v == "alert",
            Term::Severity(s, at_least) => {
                if *at_least {
                    a.severity >= *s
                } else {
                    a.severity == *s
                }
            }
            Term::Country(_) | Term::Asn(_) => geos(a.participant.as_ref(), a.actor.as_ref()).any(|g| place_matches(t, Some(g))),
            Term::Text(v) => contains(&a.reason, v) || contains(&a.rule, v),
            Term::Is(t) => a.participant.as_ref().is_some_and(|p| t.of(p, None)),
            Term::Time(from, to) => crate::timefmt::parse_rfc3339_ms(&a.occurred_at).is_some_and(|t| (*from..=*to).contains(&t)),
        })
    }
}

/// The `geo` blocks of a participant and an actor.
fn geos<'a>(p: Option<&'a Participant>, a: Option<&'a Actor>) -> impl Iterator<Item = &'a Geo> {
    p.and_then(|p| p.geo.as_deref()).into_iter().chain(a.and_then(|a| a.geo.as_deref()))
}

/// For `country:` / `asn:` terms: whether `geo` matches (no geo never does). Other
/// terms do not judge places: true.
pub fn place_matches(t: &Term, geo: Option<&Geo>) -> bool {
    match t {
        Term::Country(c) => geo.and_then(|g| g.country.as_deref()).is_some_and(|k| k.eq_ignore_ascii_case(c)),
        Term::Asn(n) => geo.is_some_and(|g| g.asn == Some(*n)),
        _ => true,
    }
}

/// The `meeting:` term: the number or uuid equal to `v`, or the topic containing it
/// (case-insensitive; `v` is already lower-case).
pub fn meeting_matches(v: &str, id: Option<&str>, uuid: Option<&str>, topic: Option<&str>) -> bool {
    id.is_some_and(|id| id.eq_ignore_ascii_case(v))
        || uuid.is_some_and(|u| u.eq_ignore_ascii_case(v))
        || topic.is_some_and(|tp| contains(tp, v))
}

/// Case-insensitive containment; `needle` is already lower-case. ASCII text (the usual
/// case: emails, ids, IPs, most names) is searched with `memchr` on the needle's first
/// byte in both cases, then compared; anything else is lower-cased first.
fn contains(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if !(hay.is_ascii() && needle.is_ascii()) {
        return hay.to_lowercase().contains(needle);
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if h.len() < n.len() {
        return false;
    }
    let last = h.len() - n.len();
    let (lo, up) = (n[0].to_ascii_lowercase(), n[0].to_ascii_uppercase());
    let mut from = 0;
    while from <= last {
        match memchr::memchr2(lo, up, &h[from..=last]) {
            Some(p) => {
                let at = from + p;
                if h[at..at + n.len()].eq_ignore_ascii_case(n) {
                    return true;
                }
                from = at + 1;
            }
            None => return false,
        }
    }
    false
}

fn user_fields(r: &RecordV1) -> impl Iterator<Item = &str> {
    let p = r.participant.iter().flat_map(|p| [&p.email, &p.name, &p.zoom_user_id, &p.user_id, &p.participant_uuid]);
    let a = r.actor.iter().flat_map(|a| [&a.email, &a.id]);
    let t = r.target_user.iter().flat_map(|t| [&t.email, &t.id, &t.name]);
    p.chain(a).chain(t).flatten().map(String::as_str)
}

/// Everything the text term looks at besides the user fields. The category is one of
/// them, as in [`SearchText`] (the `filter` fuzz target found the two disagreeing on
/// `au`, part of `auth`; `fuzz/corpus/filter/regression-category-text`).
fn other_fields(r: &RecordV1) -> impl Iterator<Item = &str> {
    let base = [r.event.as_str(), r.category.as_str()].into_iter();
    let m = r.meeting.iter().flat_map(|m| [&m.topic, &m.id, &m.uuid]).flatten().map(String::as_str);
    let ips = r.participant.iter().flat_map(|p| [&p.ip, &p.private_ip]).flatten().map(String::as_str);
    let req = r.request.iter().flat_map(|q| [&q.source_ip]).flatten().map(String::as_str);
    let flags = r.flags.iter().map(|f| f.reason.as_str());
    base.chain(m).chain(ips).chain(req).chain(flags)
}

fn text_fields(r: &RecordV1) -> impl Iterator<Item = &str> {
    user_fields(r).chain(other_fields(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_windows() {
        // 2026-12-01T10:00:00Z
        let now = 1_796_119_200_000;
        let at = |t: &str| {
            let body = format!(
                r#"{{"event":"meeting.participant_joined","payload":{{"object":{{"id":1,"participant":{{"user_name":"a","join_time":"{t}"}}}}}}}}"#
            );
            crate::normalize(crate::Envelope::parse(body.as_bytes()).unwrap(), &crate::Received { received_at_ms: now, request: None })
        };
        let f = Filter::parse("since:15m", now).unwrap();
        assert_eq!(f.terms, vec![Term::Time(now - 900_000, i64::MAX)]);
        assert!(f.matches_record(&at("2026-12-01T09:50:00Z"), None));
        assert!(!f.matches_record(&at("2026-12-01T09:40:00Z"), None));
        let f = Filter::parse("between:09:00..09:30", now).unwrap();
        assert!(f.matches_record(&at("2026-12-01T09:15:00Z"), None));
        assert!(!f.matches_record(&at("2026-12-01T09:31:00Z"), None));
        assert!(!f.matches_record(&at("2026-11-30T09:15:00Z"), None), "a time of day is today's");
        let f = Filter::parse("between:2026-11-30T09:00..2026-11-30T10:00 type:joined", now).unwrap();
        assert!(f.matches_record(&at("2026-11-30T09:15:00Z"), None));
        assert!(Filter::parse("since:2026-12-01T09:00", now).unwrap().matches_record(&at("2026-12-01T09:59:00Z"), None));
        for bad in ["since:15x", "since:", "between:09:30..09:00", "between:9..10", "between:25:00..26:00", "since:2026-13-01T00:00"] {
            assert!(Filter::parse(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_terms() {
        let f = Filter::parse("meeting:8451 user:\"Morgan Reyes\" type:joined sev:>=medium raid", 0).unwrap();
        assert_eq!(
            f.terms,
            vec![
                Term::Severity(Severity::Medium, true),
                Term::Type("joined".into()),
                Term::Meeting("8451".into()),
                Term::User("morgan reyes".into()),
                Term::Text("raid".into())
            ],
            "cheapest terms first"
        );
        assert!(Filter::parse("sev:critical", 0).unwrap_err().0.contains("unknown severity"));
        assert!(Filter::parse("user:", 0).is_err());
        assert!(Filter::parse("", 0).unwrap().is_empty());
        assert_eq!(Filter::parse("\"a\nb c\"", 0).unwrap().terms, vec![Term::Text("a".into()), Term::Text("b c".into())]);
    }

    #[test]
    fn search_text_agrees_with_the_record_matcher() {
        let body = r#"{"event":"meeting.participant_joined","event_ts":1,"payload":{"object":{"uuid":"U1","id":7,"topic":"Łódź Board","participant":{"user_name":"ÉMILE Zola","email":"Emile@Acme.example","id":"Z1","user_id":"9","public_ip":"203.0.113.9"}}}}"#;
        let r = crate::normalize(crate::Envelope::parse(body.as_bytes()).unwrap(), &crate::Received::default());
        let st = SearchText::of(&r);
        for q in [
            "user:émile",
            "user:acme.EXAMPLE",
            "user:203.0",
            "łódź",
            "203.0.113",
            "émile zola",
            "participant_joined",
            "user:board",
            "nothing",
            "sev:>=low",
        ] {
            let f = Filter::parse(q, 0).unwrap();
            assert_eq!(f.matches_search(None, &st), f.matches_record(&r, None), "{q}");
        }
        assert!(Filter::parse("user:émile", 0).unwrap().matches_search(None, &st));
        assert!(!Filter::parse("user:203.0", 0).unwrap().matches_search(None, &st), "an IP is not a user field");
    }

    #[test]
    fn country_and_network_terms() {
        let body = r#"{"event":"meeting.participant_joined","event_ts":1,"payload":{"object":{"uuid":"U1","id":7,"topic":"T","participant":{"user_name":"A","user_id":"9","public_ip":"89.160.20.128"}}}}"#;
        let mut r = crate::normalize(crate::Envelope::parse(body.as_bytes()).unwrap(), &crate::Received::default());
        let m = |q: &str, r: &RecordV1| Filter::parse(q, 0).unwrap().matches_search(None, &SearchText::of(r));
        assert!(!m("country:se", &r), "no geo: no country");
        r.participant.as_mut().unwrap().geo = Some(Box::new(Geo { country: Some("SE".into()), asn: Some(29518), ..Geo::default() }));
        for q in ["country:SE", "country:se", "asn:29518", "asn:AS29518", "country:se asn:29518"] {
            assert!(m(q, &r), "{q}");
            assert_eq!(Filter::parse(q, 0).unwrap().matches_record(&r, None), m(q, &r), "{q}");
        }
        for q in ["country:gb", "asn:1", "country:se asn:1"] {
            assert!(!m(q, &r), "{q}");
        }
        assert!(Filter::parse("country:GBR", 0).unwrap_err().0.contains("two-letter ISO code"));
        assert!(Filter::parse("asn:bredband", 0).unwrap_err().0.contains("AS number"));
        assert!(Filter::parse("country:", 0).is_err());
    }

    #[test]
    fn case_insensitive_containment() {
        assert!(contains("Company All-Hands", "all-hands"));
        assert!(contains("aaab", "ab") && contains("ab", "ab") && contains("xAB", "ab"));
        assert!(!contains("a", "ab") && !contains("", "a") && contains("", ""));
        assert!(contains("회의 제목 예시", "제목"));
        assert!(!contains("abc", "abcd"));
    }
}
