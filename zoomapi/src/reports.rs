//! The reports that fill what webhooks miss (`../README.md`, "Polling Zoom's reports"):
//! sign-in activity, the admin operation log, and the app's failed webhook deliveries.
//! Requests and rows as data; paging through `next_page_token` is the poller's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::request::{ApiRequest, Method, segment};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Report {
    /// `GET /report/activities`: sign-ins and sign-outs with their IP.
    Activities,
    /// `GET /report/operationlogs`: what admins changed.
    Operations,
    /// `GET /marketplace/apps/{appId}/webhook_logs`: deliveries Zoom could not make.
    FailedDeliveries,
}

impl Report {
    /// All of them, in polling order.
    pub const ALL: [Report; 3] = [Report::Activities, Report::Operations, Report::FailedDeliveries];

    /// The name used on the command line and in the cursor.
    pub fn name(self) -> &'static str {
        match self {
            Self::Activities => "activities",
            Self::Operations => "operations",
            Self::FailedDeliveries => "failed-deliveries",
        }
    }

    /// From the name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == s.trim())
    }

    /// The granular scope (classic for the delivery log, which has no granular one).
    pub fn scope(self) -> &'static str {
        match self {
            Self::Activities => "report:read:user_activities:admin",
            Self::Operations => "report:read:operation_logs:admin",
            Self::FailedDeliveries => "marketplace_app:read:admin",
        }
    }

    /// The longest window one request may cover, in days (a month for reports; seven
    /// days for the delivery log).
    pub fn max_days(self) -> i64 {
        match self {
            Self::Activities | Self::Operations => 30,
            Self::FailedDeliveries => 7,
        }
    }

    /// How far back Zoom keeps it, in days.
    pub fn retention_days(self) -> i64 {
        match self {
            Self::Activities | Self::Operations => 180,
            Self::FailedDeliveries => 7,
        }
    }

    /// One page. `from`/`to` are `yyyy-mm-dd` for the reports and
    /// `yyyy-MM-ddTHH:mm:ssZ` for the delivery log; `app_id` only for the latter.
    pub fn request(self, from: &str, to: &str, page_token: Option<&str>, app_id: Option<&str>) -> ApiRequest {
        let path = match self {
            Self::Activities => "/report/activities".to_owned(),
            Self::Operations => "/report/operationlogs".to_owned(),
            Self::FailedDeliveries => format!("/marketplace/apps/{}/webhook_logs", segment(app_id.unwrap_or(""))),
        };
        let mut r = ApiRequest::new(Method::Get, path).with_query("from", from).with_query("to", to).with_query("page_size", "300");
        if self == Self::FailedDeliveries {
            // 2 = failed deliveries only.
            r = r.with_query("type", "2");
        }
        if let Some(t) = page_token.filter(|t| !t.is_empty()) {
            r = r.with_query("next_page_token", t);
        }
        r
    }

    /// The rows of a page and the next page's token (`None` when done: Zoom sends an
    /// empty string).
    pub fn rows(self, page: &Value) -> (Vec<Value>, Option<String>) {
        let key = match self {
            Self::Activities => "activity_logs",
            Self::Operations => "operation_logs",
            Self::FailedDeliveries => "webhook_logs",
        };
        let rows = page.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        let next = page.get("next_page_token").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_pages() {
        let r = Report::Operations.request("2026-11-29", "2026-12-01", Some("tok"), None);
        assert_eq!(r.to_string(), "GET /report/operationlogs?from=2026-11-29&to=2026-12-01&page_size=300&next_page_token=tok");
        let r = Report::FailedDeliveries.request("2026-11-29T00:00:00Z", "2026-12-01T10:00:00Z", None, Some("app 1"));
        assert_eq!(
            r.url(""),
            "/marketplace/apps/app%201/webhook_logs?from=2026-11-29T00%3A00%3A00Z&to=2026-12-01T10%3A00%3A00Z&page_size=300&type=2"
        );
        let (rows, next) = Report::Activities.rows(&serde_json::json!({"activity_logs": [{"email": "a"}], "next_page_token": ""}));
        assert_eq!((rows.len(), next), (1, None));
        assert_eq!(Report::parse("failed-deliveries"), Some(Report::FailedDeliveries));
    }
}
