//! Who is in which meeting right now, per identity (Zoom user id, else email): the
//! concurrent-sessions rule and the travel rules' "is that session still live" read it.
//! A big account has hundreds of thousands of people in meetings at once, nearly all in
//! one meeting each, so an identity's sessions are kept inline when there is one, and
//! each session — meeting key and IP — is one allocation. Saved in checkpoints as
//! `{identity: [[meeting, ip or null], …]}`.

use foldhash::{HashMap, HashMapExt};
use serde::{Deserialize, Serialize};

/// One live session: a meeting key and the IP it was joined from, in one allocation.
#[derive(Clone, PartialEq, Eq)]
struct Session {
    /// The meeting key, then the IP.
    text: Box<str>,
    /// Where the meeting key ends in `text`.
    split: u32,
    has_ip: bool,
}

impl Session {
    fn new(meeting: &str, ip: Option<&str>) -> Self {
        let mut text = String::with_capacity(meeting.len() + ip.map_or(0, str::len));
        text.push_str(meeting);
        text.push_str(ip.unwrap_or(""));
        // A meeting key over 4 GB cannot come out of a webhook body (the receiver caps
        // bodies far below); saturate rather than wrap all the same.
        Self { split: u32::try_from(meeting.len()).unwrap_or(u32::MAX), text: text.into_boxed_str(), has_ip: ip.is_some() }
    }

    fn meeting(&self) -> &str {
        self.text.get(..self.split as usize).unwrap_or(&self.text)
    }

    fn ip(&self) -> Option<&str> {
        if self.has_ip { self.text.get(self.split as usize..) } else { None }
    }
}

/// An identity's sessions: almost always one.
#[derive(Clone)]
enum List {
    One(Session),
    Many(Vec<Session>),
}

impl List {
    fn as_slice(&self) -> &[Session] {
        match self {
            Self::One(s) => std::slice::from_ref(s),
            Self::Many(v) => v,
        }
    }

    /// Keeps the sessions `keep` accepts (back to the inline form when one is left);
    /// false when none is.
    fn retain(&mut self, mut keep: impl FnMut(&Session) -> bool) -> bool {
        match self {
            Self::One(s) => keep(s),
            Self::Many(v) => {
                v.retain(|s| keep(s));
                if v.len() == 1
                    && let Some(last) = v.pop()
                {
                    *self = Self::One(last);
                    return true;
                }
                !v.is_empty()
            }
        }
    }
}

/// Live sessions per identity.
#[derive(Clone, Default)]
pub struct Sessions {
    by_ident: HashMap<Box<str>, List>,
}

impl Sessions {
    /// No sessions.
    pub fn new() -> Self {
        Self { by_ident: HashMap::new() }
    }

    /// Identities with a live session.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_ident.len()
    }

    /// True when nobody is in a meeting.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_ident.is_empty()
    }

    /// `ident` is in `meeting` from `ip` (replacing an earlier session of theirs there).
    pub fn join(&mut self, ident: &str, meeting: &str, ip: Option<&str>) {
        let new = Session::new(meeting, ip);
        let Some(list) = self.by_ident.get_mut(ident) else {
            self.by_ident.insert(ident.into(), List::One(new));
            return;
        };
        match list {
            List::One(s) if s.meeting() == meeting => *s = new,
            List::One(s) => {
                let first = s.clone();
                *list = List::Many(vec![first, new]);
            }
            List::Many(v) => {
                v.retain(|s| s.meeting() != meeting);
                v.push(new);
            }
        }
    }

    /// `ident` is no longer in `meeting`.
    pub fn leave(&mut self, ident: &str, meeting: &str) {
        if let Some(list) = self.by_ident.get_mut(ident)
            && !list.retain(|s| s.meeting() != meeting)
        {
            self.by_ident.remove(ident);
        }
    }

    /// The sessions of `ident` as (meeting key, IP), oldest first.
    pub fn of<'a>(&'a self, ident: &str) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.by_ident.get(ident).map_or(&[][..], List::as_slice).iter().map(|s| (s.meeting(), s.ip()))
    }

    /// Keeps only the sessions whose meeting `keep` accepts.
    pub fn retain_meetings(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.by_ident.retain(|_, list| list.retain(|s| keep(s.meeting())));
    }
}

impl Serialize for Sessions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.by_ident.iter().map(|(k, list)| (k, list.as_slice().iter().map(|x| (x.meeting(), x.ip())).collect::<Vec<_>>())))
    }
}

impl<'de> Deserialize<'de> for Sessions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: HashMap<String, Vec<(String, Option<String>)>> = Deserialize::deserialize(d)?;
        let mut out = Self::new();
        for (ident, sessions) in saved {
            for (meeting, ip) in sessions {
                out.join(&ident, &meeting, ip.as_deref());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &Sessions, ident: &str) -> Vec<(String, Option<String>)> {
        s.of(ident).map(|(m, ip)| (m.to_owned(), ip.map(str::to_owned))).collect()
    }

    fn pair(m: &str, ip: Option<&str>) -> (String, Option<String>) {
        (m.to_owned(), ip.map(str::to_owned))
    }

    #[test]
    fn one_then_many_then_one_again() {
        let mut s = Sessions::new();
        s.join("u1", "m1", Some("10.0.0.1"));
        assert_eq!(of(&s, "u1"), [pair("m1", Some("10.0.0.1"))]);
        // Rejoining the same meeting replaces the session (a new IP).
        s.join("u1", "m1", Some("10.0.0.2"));
        assert_eq!(of(&s, "u1"), [pair("m1", Some("10.0.0.2"))]);
        s.join("u1", "m2", None);
        assert_eq!(of(&s, "u1"), [pair("m1", Some("10.0.0.2")), pair("m2", None)]);
        s.leave("u1", "m1");
        assert_eq!(of(&s, "u1"), [pair("m2", None)]);
        assert!(matches!(s.by_ident["u1"], List::One(_)), "back to the inline form");
        s.leave("u1", "m9");
        assert_eq!(s.len(), 1, "leaving a meeting one is not in changes nothing");
        s.leave("u1", "m2");
        assert!(s.is_empty(), "an identity without sessions is forgotten");
        assert_eq!(of(&s, "u1"), []);
    }

    #[test]
    fn the_split_keeps_meeting_and_ip_apart() {
        let mut s = Sessions::new();
        // Keys and IPs that would run together or be empty.
        s.join("u", "ab", Some("c"));
        s.join("u", "a", Some("bc"));
        s.join("u", "", Some(""));
        s.join("w", "é名", None);
        assert_eq!(of(&s, "u"), [pair("ab", Some("c")), pair("a", Some("bc")), pair("", Some(""))]);
        assert_eq!(of(&s, "w"), [pair("é名", None)]);
    }

    #[test]
    fn retain_meetings_drops_ended_ones() {
        let mut s = Sessions::new();
        s.join("u1", "live", Some("1"));
        s.join("u1", "over", Some("2"));
        s.join("u2", "over", None);
        s.join("u3", "live", None);
        s.join("u4", "over", None);
        s.join("u4", "over2", None);
        s.retain_meetings(|m| m == "live");
        assert_eq!(of(&s, "u1"), [pair("live", Some("1"))]);
        assert_eq!(of(&s, "u3"), [pair("live", None)]);
        assert_eq!(s.len(), 2, "u2 and u4 had only ended sessions");
    }

    #[test]
    fn saved_form_is_the_plain_map_and_restores() {
        let mut s = Sessions::new();
        s.join("u1", "m1", Some("10.0.0.1"));
        s.join("u1", "m2", None);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!({"u1": [["m1", "10.0.0.1"], ["m2", null]]}));
        let back: Sessions = serde_json::from_value(json).unwrap();
        assert_eq!(of(&back, "u1"), of(&s, "u1"));
    }
}
