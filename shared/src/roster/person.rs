//! A participant as a roster keeps them, compactly: the fields the Meetings view, the
//! filter and the rules read, in one allocation, and how a later event's details merge in.

use serde::{Deserialize, Serialize};

use crate::record::{Geo, Participant};

/// A participant as a roster keeps them: the details the Meetings view, the filter and
/// the rules read (not the per-session id or the private IP), their text in one
/// allocation. Rosters hold hundreds of thousands of people; a full [`Participant`] is
/// eight separate strings. Saved and restored as a [`Participant`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "Participant", into = "Participant")]
pub struct RosterPerson {
    /// The fields of [`FIELDS`] one after the other.
    text: Box<str>,
    /// Where each field ends in `text`.
    ends: [u32; FIELDS],
    /// Which fields are present (bit `i` for field `i`).
    present: u8,
    geo: Option<Box<Geo>>,
    guest: bool,
}

/// Name, email, Zoom user id, participant uuid, registrant id, public IP, leave reason.
const FIELDS: usize = 7;

/// Where the address is among [`fields_of`].
const IP: usize = 5;

fn fields_of(p: &Participant) -> [Option<&str>; FIELDS] {
    [
        p.name.as_deref(),
        p.email.as_deref(),
        p.zoom_user_id.as_deref(),
        p.participant_uuid.as_deref(),
        p.registrant_id.as_deref(),
        p.ip.as_deref(),
        p.leave_reason.as_deref(),
    ]
}

impl RosterPerson {
    fn build(fields: [Option<&str>; FIELDS], geo: Option<Box<Geo>>, guest: bool) -> Self {
        let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len()).sum());
        let mut ends = [0u32; FIELDS];
        let mut present = 0u8;
        for (i, f) in fields.iter().enumerate() {
            if let Some(f) = f {
                text.push_str(f);
                present |= 1 << i;
            }
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Self { text: text.into_boxed_str(), ends, present, geo, guest }
    }

    fn field(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize)
    }

    /// Display name.
    pub fn name(&self) -> Option<&str> {
        self.field(0)
    }
    /// Email.
    pub fn email(&self) -> Option<&str> {
        self.field(1)
    }
    /// Zoom account user id.
    pub fn zoom_user_id(&self) -> Option<&str> {
        self.field(2)
    }
    /// `participant_uuid`.
    pub fn participant_uuid(&self) -> Option<&str> {
        self.field(3)
    }
    /// Registrant id.
    pub fn registrant_id(&self) -> Option<&str> {
        self.field(4)
    }
    /// Public IP.
    pub fn ip(&self) -> Option<&str> {
        self.field(5)
    }
    /// Why they last left.
    pub fn leave_reason(&self) -> Option<&str> {
        self.field(6)
    }
    /// Where the IP is, when GeoIP knew it.
    pub fn geo(&self) -> Option<&Geo> {
        self.geo.as_deref()
    }
    /// True without a Zoom identity.
    pub fn guest(&self) -> bool {
        self.guest
    }

    /// The kept details as a [`Participant`] (the others empty).
    pub fn to_participant(&self) -> Participant {
        let own = |i| self.field(i).map(str::to_owned);
        Participant {
            name: own(0),
            email: own(1),
            zoom_user_id: own(2),
            participant_uuid: own(3),
            registrant_id: own(4),
            ip: own(5),
            leave_reason: own(6),
            geo: self.geo.clone(),
            guest: self.guest,
            ..Participant::default()
        }
    }

    /// Takes the newer details of `from`: its present fields replace ours, absent ones
    /// erase nothing. The place always belongs to the address shown: a new address
    /// brings its own place, or none (a private address has no place), never the last
    /// device's. Rebuilds only when something changed (most events repeat them).
    pub(super) fn merge(&mut self, from: &Participant) {
        let new = fields_of(from);
        let changed = new.iter().enumerate().any(|(i, f)| f.is_some() && *f != self.field(i));
        let ip_changed = new[IP].is_some() && new[IP] != self.field(IP);
        let geo_changed = (from.geo.is_some() || ip_changed) && from.geo != self.geo;
        if !changed && !geo_changed {
            return;
        }
        let geo = if geo_changed { from.geo.clone() } else { self.geo.take() };
        let merged: [Option<&str>; FIELDS] = std::array::from_fn(|i| new[i].or(self.field(i)));
        let guest = merged[2].is_none();
        *self = Self::build(merged, geo, guest);
    }
}

impl From<Participant> for RosterPerson {
    fn from(p: Participant) -> Self {
        Self::from(&p)
    }
}

impl From<&Participant> for RosterPerson {
    fn from(p: &Participant) -> Self {
        Self::build(fields_of(p), p.geo.clone(), p.guest)
    }
}

impl From<RosterPerson> for Participant {
    fn from(p: RosterPerson) -> Self {
        p.to_participant()
    }
}
