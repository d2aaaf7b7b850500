//! Account and group settings: the reads posture makes and the one-setting PATCH a
//! revert sends. Zoom answers each settings view separately — the default sections,
//! `?option=meeting_security` (wrapped in `meeting_security`) and
//! `?option=meeting_authentication` (a top-level `meeting_authentication` flag) — so a
//! scope is read in three calls and merged into one document whose paths are the
//! settings catalogue's (`meeting_security.waiting_room`, `meeting_authentication`).
//! Lock settings come the same way (default and `meeting_security`). Facts and what is
//! unverified: the team's Zoom API notes, "Settings".

use serde_json::{Map, Value};

use crate::request::{ApiRequest, Method, segment};

/// Whose settings. On the wire, its name: `account` or `group:ID`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SettingsScope {
    /// The app's own account (`/accounts/me`).
    Account,
    /// A group, by id.
    Group(String),
}

impl TryFrom<String> for SettingsScope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<SettingsScope> for String {
    fn from(s: SettingsScope) -> Self {
        s.name()
    }
}

impl SettingsScope {
    /// `account` or `group:ID`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("account") {
            return Ok(Self::Account);
        }
        match s.split_once(':') {
            Some((g, id)) if g.eq_ignore_ascii_case("group") && !id.trim().is_empty() => Ok(Self::Group(id.trim().to_owned())),
            _ => Err(format!("{s:?}: expected `account` or `group:GROUP_ID`")),
        }
    }

    /// `account` or `group:ID` (what [`Self::parse`] reads).
    pub fn name(&self) -> String {
        match self {
            Self::Account => "account".to_owned(),
            Self::Group(id) => format!("group:{id}"),
        }
    }

    fn base(&self) -> String {
        match self {
            Self::Account => "/accounts/me".to_owned(),
            Self::Group(id) => format!("/groups/{}", segment(id)),
        }
    }

    /// The granular scope reading these settings needs.
    pub fn read_scope(&self) -> &'static str {
        match self {
            Self::Account => "account:read:settings:admin",
            Self::Group(_) => "group:read:settings:admin",
        }
    }

    /// The granular scope reading these lock settings needs.
    pub fn read_lock_scope(&self) -> &'static str {
        match self {
            Self::Account => "account:read:lock_settings:admin",
            Self::Group(_) => "group:read:lock_settings:admin",
        }
    }

    /// The granular scope changing these settings needs.
    pub fn write_scope(&self) -> &'static str {
        match self {
            Self::Account => "account:update:settings:admin",
            Self::Group(_) => "group:update:settings:admin",
        }
    }

    /// The reads of one scope's settings: (view, request), default view first.
    pub fn reads(&self) -> Vec<(&'static str, ApiRequest)> {
        let path = format!("{}/settings", self.base());
        vec![
            ("default", ApiRequest::new(Method::Get, path.clone())),
            ("meeting_security", ApiRequest::new(Method::Get, path.clone()).with_query("option", "meeting_security")),
            ("meeting_authentication", ApiRequest::new(Method::Get, path).with_query("option", "meeting_authentication")),
        ]
    }

    /// The reads of one scope's lock settings: (view, request).
    pub fn lock_reads(&self) -> Vec<(&'static str, ApiRequest)> {
        let path = format!("{}/lock_settings", self.base());
        vec![
            ("default", ApiRequest::new(Method::Get, path.clone())),
            ("meeting_security", ApiRequest::new(Method::Get, path).with_query("option", "meeting_security")),
        ]
    }

    /// The PATCH that sets one setting (`section.field…`) to `value` and nothing else,
    /// with the `option` its view needs.
    pub fn set_one(&self, path: &str, value: &Value) -> ApiRequest {
        let mut req = ApiRequest::new(Method::Patch, format!("{}/settings", self.base()));
        let first = path.split('.').next().unwrap_or(path);
        if first == "meeting_security" {
            req = req.with_query("option", "meeting_security");
        } else if path == "meeting_authentication" {
            req = req.with_query("option", "meeting_authentication");
        }
        req.with_body(nest(path, value.clone()))
    }
}

/// `a.b.c` = v as `{"a":{"b":{"c":v}}}`.
fn nest(path: &str, value: Value) -> Value {
    path.rsplit('.').fold(value, |inner, key| {
        let mut m = Map::new();
        m.insert(key.to_owned(), inner);
        Value::Object(m)
    })
}

/// Merges the views of one scope into one document: the default sections, the
/// `meeting_security` section (wrapped or bare), and the `meeting_authentication` flag.
pub fn merge(views: &[(&str, Value)]) -> Value {
    let mut doc = Map::new();
    for (view, body) in views {
        let Some(obj) = body.as_object() else { continue };
        match *view {
            "meeting_security" => {
                let inner = obj.get("meeting_security").cloned().unwrap_or_else(|| body.clone());
                doc.insert("meeting_security".to_owned(), inner);
            }
            "meeting_authentication" => {
                if let Some(flag) = obj.get("meeting_authentication") {
                    doc.insert("meeting_authentication".to_owned(), flag.clone());
                }
            }
            _ => {
                for (k, v) in obj {
                    doc.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    Value::Object(doc)
}

/// `GET /groups`, one page (Zoom's maximum of 300 rows).
pub fn list_groups(next_page_token: Option<&str>) -> ApiRequest {
    let mut req = ApiRequest::new(Method::Get, "/groups".to_owned()).with_query("page_size", "300");
    if let Some(t) = next_page_token.filter(|t| !t.is_empty()) {
        req = req.with_query("next_page_token", t);
    }
    req
}

/// The granular scope listing groups needs.
pub const LIST_GROUPS_SCOPE: &str = "group:read:list_groups:admin";

/// A group from `GET /groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The groups of one `GET /groups` page, and the next page's token.
pub fn groups_page(body: &Value) -> (Vec<Group>, Option<String>) {
    let groups = body
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let id = g.get("id").and_then(Value::as_str).filter(|s| !s.is_empty())?;
            Some(Group { id: id.to_owned(), name: g.get("name").and_then(Value::as_str).unwrap_or("").to_owned() })
        })
        .collect();
    let next = body.get("next_page_token").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
    (groups, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_setting_one_body_with_its_option() {
        let a = SettingsScope::parse("account").unwrap();
        assert_eq!(
            a.set_one("meeting_security.waiting_room", &json!(true)).to_string(),
            "PATCH /accounts/me/settings?option=meeting_security {\"meeting_security\":{\"waiting_room\":true}}"
        );
        assert_eq!(
            a.set_one("meeting_authentication", &json!(true)).to_string(),
            "PATCH /accounts/me/settings?option=meeting_authentication {\"meeting_authentication\":true}"
        );
        let g = SettingsScope::parse("group:Gr 1").unwrap();
        assert_eq!(
            g.set_one("in_meeting.file_transfer", &json!(false)).to_string(),
            "PATCH /groups/Gr%201/settings {\"in_meeting\":{\"file_transfer\":false}}"
        );
        assert!(SettingsScope::parse("user:1").is_err() && SettingsScope::parse("group:").is_err());
    }

    #[test]
    fn views_merge_into_catalogue_paths() {
        let doc = merge(&[
            ("default", json!({"in_meeting": {"file_transfer": true}})),
            ("meeting_security", json!({"meeting_security": {"waiting_room": false}})),
            ("meeting_authentication", json!({"meeting_authentication": true, "authentication_options": []})),
        ]);
        assert_eq!(doc["meeting_security"]["waiting_room"], false);
        assert_eq!(doc["meeting_authentication"], true);
        assert_eq!(doc["in_meeting"]["file_transfer"], true);
        // A bare meeting_security body is taken as the section.
        let doc = merge(&[("meeting_security", json!({"waiting_room": true}))]);
        assert_eq!(doc["meeting_security"]["waiting_room"], true);
    }

    #[test]
    fn groups_are_paged() {
        let (g, next) = groups_page(&json!({"groups": [{"id": "g1", "name": "Sales"}, {"name": "no id"}], "next_page_token": "t2"}));
        assert_eq!(g, [Group { id: "g1".into(), name: "Sales".into() }]);
        assert_eq!(next.as_deref(), Some("t2"));
        assert_eq!(list_groups(Some("t2")).url(""), "/groups?page_size=300&next_page_token=t2");
    }
}
