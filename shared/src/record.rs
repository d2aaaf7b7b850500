//! **Record v1** — the one shape every stored event has, documented field by field in
//! `docs/record-v1.md`. One JSON object per log event / JSONL line.
//!
//! Compatibility promise: within `zoomwatch.v1`, fields are only ever added. Absent
//! optional fields are omitted rather than written as `null`; readers must treat a
//! missing field as unknown.
//!
//! Why one file of this length: it is the schema, one type per block, in the order
//! `docs/record-v1.md` documents them, so the two can be read side by side.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// The severity scale of flags and alerts (defined with the blocks that share it).
pub use crate::blocks::Severity;

/// Value of the `schema` field.
pub const SCHEMA: &str = "zoomwatch.v1";
/// Event name of the records the receiver writes about requests it refused.
pub const REJECTED_EVENT: &str = "zoomwatch.rejected";
/// Event name of the records of response actions (`zoomwatch act`, the console).
pub const ACTION_EVENT: &str = "zoomwatch.action";
/// Event name of the records of analysts' verdicts on alerts.
pub const TRIAGE_EVENT: &str = "zoomwatch.triage";
/// Event name of the alerts `zoomwatch watch` (or the scheduled watch function) writes.
pub const ALERT_EVENT: &str = "zoomwatch.alert";
/// Event name Zoom uses to validate an endpoint.
pub const URL_VALIDATION_EVENT: &str = "endpoint.url_validation";

/// One normalized event.
///
/// The blocks most records lack (actor, target user, request, rejection and the rarer
/// ones) are boxed: a record read from a log is moved whole several times between
/// parsing and the console's loop, and these four inline made it half again as large.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordV1 {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Dedupe key: the same Zoom event delivered twice (Zoom retries) has the same id.
    pub id: String,
    /// Zoom event type, e.g. `meeting.participant_joined`, or `zoomwatch.rejected`.
    pub event: String,
    /// Coarse grouping for dashboards and filters.
    pub category: Category,
    /// What happened, e.g. `joined`, `left`, `created`, `settings_updated`.
    pub action: String,
    /// When it happened according to the payload (join/leave time, `date_time`,
    /// `time_stamp`), else `event_ts`, else `received_at`. RFC 3339 UTC, ms precision.
    pub occurred_at: String,
    /// Zoom's `event_ts` (Unix ms), when the body had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<i64>,
    /// When the receiver accepted the request. RFC 3339 UTC, ms precision.
    pub received_at: String,
    /// `payload.account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Who did it: the operator of admin actions, the user of sign-in events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Box<Actor>>,
    /// The meeting or webinar concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<MeetingRef>,
    /// The participant concerned (participant events, chat sender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<Participant>,
    /// The user acted upon (user lifecycle/settings, group admin changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<Box<TargetUser>>,
    /// Field-level changes from `old_object` to `object` (`*.updated` events), and
    /// role changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Findings of the stateless detection rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// The HTTP request that delivered the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<RequestInfo>>,
    /// Only on `zoomwatch.rejected` records: why the request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Box<Rejection>>,
    /// Only on `zoomwatch.action` and `zoomwatch.triage` records: who responded how,
    /// and what Zoom answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Box<crate::blocks::Response>>,
    /// Where a record not delivered by webhook came from (Zoom's reports, its delivery
    /// log). Absent for webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<Origin>>,
    /// For `zoomwatch.alert` records: the alert (rule, subject, evidence, count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Box<crate::blocks::AlertBlock>>,
    /// The event's `payload` as received, with secrets redacted.
    #[serde(default)]
    pub raw: RawPayload,
}

/// The `raw` payload: a JSON tree when the receiver builds a record (it redacts and reads
/// it), or the JSON text as stored when a record is read back — parsed only when
/// something looks inside (the detail pane, a few rules), which keeps reading and
/// dropping millions of records cheap.
#[derive(Debug, Clone)]
pub enum RawPayload {
    /// Parsed.
    Tree(Value),
    /// As stored, not parsed.
    Text(Box<RawValue>),
}

impl RawPayload {
    /// The payload as a JSON value (parsed from the text when needed; `null` if the
    /// stored text is not JSON, which a stored record never is).
    pub fn value(&self) -> Cow<'_, Value> {
        match self {
            Self::Tree(v) => Cow::Borrowed(v),
            Self::Text(t) => Cow::Owned(serde_json::from_str(t.get()).unwrap_or(Value::Null)),
        }
    }
}

impl RawPayload {
    /// The parts of the payload `T` names, read without building the whole tree (the
    /// rest is skipped, nothing of it allocated); `None` if they do not fit `T`.
    pub fn pick<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        match self {
            Self::Tree(v) => T::deserialize(v).ok(),
            Self::Text(t) => serde_json::from_str(t.get()).ok(),
        }
    }
}

impl Default for RawPayload {
    fn default() -> Self {
        Self::Tree(Value::Object(serde_json::Map::new()))
    }
}

impl From<Value> for RawPayload {
    fn from(v: Value) -> Self {
        Self::Tree(v)
    }
}

impl PartialEq for RawPayload {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Serialize for RawPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Tree(v) => v.serialize(s),
            Self::Text(t) => t.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RawPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(Self::Text)
    }
}

/// Coarse event grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Meeting lifecycle and settings (`meeting.created`, `meeting.started`…).
    Meeting,
    /// Someone joining, leaving, waiting, being admitted (meetings and webinars).
    Participant,
    /// Webinar lifecycle and settings.
    Webinar,
    /// Account, group, user and role administration.
    Admin,
    /// Sign-in and sign-out.
    Auth,
    /// Cloud recordings.
    Recording,
    /// In-meeting chat.
    Chat,
    /// The webhook endpoint itself: URL validation, rejected requests.
    Endpoint,
    /// zoomwatch's own response actions and analysts' triage verdicts.
    Response,
    /// Alerts raised by the stateful detector running as a service (`zoomwatch watch`).
    Alert,
    /// Anything zoomwatch has no mapping for yet. Stored all the same.
    #[serde(other)]
    Other,
}

impl Category {
    /// The serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meeting => "meeting",
            Self::Participant => "participant",
            Self::Webinar => "webinar",
            Self::Admin => "admin",
            Self::Auth => "auth",
            Self::Recording => "recording",
            Self::Chat => "chat",
            Self::Endpoint => "endpoint",
            Self::Response => "response",
            Self::Alert => "alert",
            Self::Other => "other",
        }
    }
}

/// Who performed an action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Actor {
    /// Zoom user id (`operator_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email (`operator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The address the action came from, when the source says (sign-ins from Zoom's
    /// sign-in report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Where `ip` is, when a GeoIP database knows it. Boxed: most records have none, and
    /// rosters hold hundreds of thousands of participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Box<Geo>>,
}

/// The meeting or webinar an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MeetingRef {
    /// Meeting number, always a string (Zoom sends it as number or string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Meeting instance UUID (may contain `/ + =`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Host's Zoom user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// Host's email, when the event carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    /// Zoom meeting type (1 instant, 2 scheduled, 3/8 recurring, 4 PMI, 5/6/9 webinar).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub meeting_type: Option<i64>,
    /// `meeting` or `webinar`, from the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A participant as Zoom describes them, with Zoom's inconsistencies resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Participant {
    /// Display name (`user_name`): chosen by the participant, never proof of identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email, when signed in or given at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Per-session participant id (`user_id`; numeric for guests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Zoom account user id (`participant_user_id`, else `id`); absent for guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_user_id: Option<String>,
    /// `participant_uuid`, stable across rejoins of one device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_uuid: Option<String>,
    /// Registrant id for registered meetings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<String>,
    /// Public IP (`public_ip`, undocumented and optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Where `ip` is, when a GeoIP database knows it. Boxed: most records have none, and
    /// rosters hold hundreds of thousands of participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Box<Geo>>,
    /// Private IP (`private_ip`, undocumented and optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// Why they left, HTML removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_reason: Option<String>,
    /// True when the participant has no Zoom identity (not signed in to a Zoom account).
    #[serde(default)]
    pub guest: bool,
}

impl Participant {
    /// A stable key for "the same person in this meeting instance": Zoom identity, then
    /// email, then `participant_uuid`, then per-session id, then display name.
    pub fn identity_key(&self) -> String {
        let mut k = String::new();
        self.write_identity_key(&mut k);
        k
    }

    /// [`Participant::identity_key`] written into `out` (cleared first): a caller that
    /// looks the key up for every record reuses one buffer.
    pub fn write_identity_key(&self, out: &mut String) {
        out.clear();
        if let Some(id) = &self.zoom_user_id {
            out.push_str("zoom:");
            out.push_str(id);
        } else if let Some(email) = &self.email {
            out.push_str("email:");
            out.push_str(email);
            out.make_ascii_lowercase(); // the prefix is lower-case already
        } else if let Some(uuid) = &self.participant_uuid {
            out.push_str("puuid:");
            out.push_str(uuid);
        } else if let Some(uid) = &self.user_id {
            out.push_str("uid:");
            out.push_str(uid);
        } else {
            out.push_str("name:");
            out.push_str(self.name.as_deref().unwrap_or(""));
        }
    }
}

/// Where an IP address is and whose network it is, from offline GeoIP/ASN databases
/// (`[enrichment]` in `zoomwatch.toml`). Every field is optional: a Country database
/// gives no city, an ASN database alone gives only `asn`/`as_org`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 country code (`GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Country name in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// City name in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Latitude of the location (degrees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude of the location (degrees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// How far off the coordinates may be (km), as the database states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_km: Option<u16>,
    /// Autonomous system number of the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Organization that runs the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
    /// Anonymizer markers, present only when at least one is true (needs the
    /// Anonymous-IP database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<GeoAnonymous>,
}

// Coordinates come from databases and are finite (non-finite values are dropped on
// lookup), so equality is reflexive in practice; `Participant` and alerts compare as `Eq`.
impl Eq for Geo {}

impl Geo {
    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.city.is_none() && self.latitude.is_none() && self.asn.is_none() && self.anonymous.is_none()
    }

    /// Coordinates, when both are known.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        self.latitude.zip(self.longitude)
    }

    /// `London, GB` / `GB` / `AS29518` — where this is, shortest useful form.
    pub fn place(&self) -> Option<String> {
        match (&self.city, &self.country) {
            (Some(c), Some(k)) => Some(format!("{c}, {k}")),
            (None, Some(k)) => Some(k.clone()),
            (Some(c), None) => Some(c.clone()),
            (None, None) => self.asn.map(|a| format!("AS{a}")),
        }
    }

    /// `AS29518 Bredband2 AB`, when the network is known.
    pub fn network(&self) -> Option<String> {
        match (self.asn, &self.as_org) {
            (Some(a), Some(o)) => Some(format!("AS{a} {o}")),
            (Some(a), None) => Some(format!("AS{a}")),
            (None, Some(o)) => Some(o.clone()),
            (None, None) => None,
        }
    }
}

/// What kind of anonymizer an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GeoAnonymous {
    /// A commercial VPN.
    #[serde(default)]
    pub vpn: bool,
    /// A Tor exit node.
    #[serde(default)]
    pub tor: bool,
    /// A hosting or cloud provider (servers, not people).
    #[serde(default)]
    pub hosting: bool,
    /// A public or residential proxy.
    #[serde(default)]
    pub proxy: bool,
}

impl GeoAnonymous {
    /// True when any marker is set.
    pub fn any(self) -> bool {
        self.vpn || self.tor || self.hosting || self.proxy
    }

    /// `Tor exit, VPN` — the markers set, strongest first.
    pub fn describe(self) -> String {
        let parts: Vec<&str> = [(self.tor, "Tor exit"), (self.vpn, "VPN"), (self.proxy, "proxy"), (self.hosting, "hosting provider")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        parts.join(", ")
    }
}

/// The user an admin action was applied to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetUser {
    /// Zoom user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display or full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Role name or id, when the event carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Zoom user type (1 basic, 2 licensed, 3 on-prem…), as a string.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Dotted path below `object`, e.g. `settings.waiting_room`.
    pub path: String,
    /// Value before (`null` when it was not set).
    pub old: Value,
    /// Value after (`null` when it was removed).
    pub new: Value,
}

/// One finding of a detection rule attached to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    /// Rule id, kebab-case (`guest-join`).
    pub rule: String,
    /// Severity after configuration.
    pub severity: Severity,
    /// One line for the analyst, naming who and what.
    pub reason: String,
}

/// The HTTP request that delivered an event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestInfo {
    /// API Gateway request id, or one the local server made up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Client address as seen by the receiver (API Gateway's `sourceIp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `User-Agent` header, truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// When the delivery was signed (`x-zm-request-timestamp`, RFC 3339). Far before
    /// `received_at` means a late retry of Zoom's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// `unavailable` when the receiver's shared claim store could not be reached: this
    /// record was written without the exactly-once check and may be stored twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
}

/// [`RequestInfo::claim`] of a record written while the claim store was unreachable.
pub const CLAIM_UNAVAILABLE: &str = "unavailable";

/// Where a polled record came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Origin {
    /// `zoom.report.activities`, `zoom.report.operationlogs`, `zoom.webhook_logs`.
    pub source: String,
    /// Failed deliveries: the HTTP status our endpoint answered (`-1`: Zoom never sent it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<i64>,
    /// Failed deliveries: Zoom's reason (`read timeout`, `connection refused`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_failure: Option<String>,
    /// Failed deliveries: which attempt (0 = the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_num: Option<i64>,
    /// Failed deliveries: when Zoom tried (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempted_at: Option<String>,
}

/// Why the receiver refused a request (`zoomwatch.rejected` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Stable code: `bad_signature`, `stale_timestamp`, `missing_signature`,
    /// `malformed_body`, `body_too_large`, …
    pub reason: String,
    /// Human-readable detail (never contains the body or a secret).
    pub detail: String,
    /// HTTP status returned.
    pub status: u16,
    /// Rejections not written as records since the previous rejected record, because of
    /// the rate limit.
    #[serde(default)]
    pub suppressed: u64,
}

impl RecordV1 {
    /// A record zoomwatch writes itself (rejections, actions, triage, report rows): the
    /// required fields, every optional block empty, `raw` an empty object.
    pub fn own(id: String, event: &str, category: Category, action: &str, occurred_ms: i64, received_ms: i64) -> Self {
        Self {
            schema: SCHEMA.to_owned(),
            id,
            event: event.to_owned(),
            category,
            action: action.to_owned(),
            occurred_at: crate::timefmt::format_ms(occurred_ms),
            event_ts: None,
            received_at: crate::timefmt::format_ms(received_ms),
            account_id: None,
            actor: None,
            meeting: None,
            participant: None,
            target_user: None,
            changes: Vec::new(),
            flags: Vec::new(),
            request: None,
            rejection: None,
            response: None,
            origin: None,
            alert: None,
            raw: RawPayload::default(),
        }
    }

    /// The record's `occurred_at` in Unix ms (0 if unparseable — never for our records).
    pub fn occurred_ms(&self) -> i64 {
        crate::timefmt::parse_rfc3339_ms(&self.occurred_at).unwrap_or(0)
    }

    /// The highest flag severity, if any flag is present.
    pub fn worst_severity(&self) -> Option<Severity> {
        self.flags.iter().map(|f| f.severity).max()
    }
}
