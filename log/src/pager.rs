//! The one `FilterLogEvents` pager: every page of a log group from a start time (to an
//! optional end), all streams, with an optional filter pattern. The console's source,
//! `tail`, `zoomwatch watch` and the scheduled watch function all read through it.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;

use crate::aws::describe;

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The group does not exist (where the client looks).
    #[error("log group {group} does not exist in {region} (another --region or account? or not created yet)")]
    NoGroup {
        /// The group.
        group: String,
        /// The client's region.
        region: String,
    },
    /// CloudWatch is limiting this account's requests: read again later, slower.
    #[error("{0}")]
    Throttled(String),
    /// No AWS credentials at all: retrying will not help.
    #[error("{0}")]
    NoCredentials(String),
    /// Anything else, as one line that says what to do ([`describe`]).
    #[error("{0}")]
    Failed(String),
}

/// Pages of `FilterLogEvents` over one group.
#[derive(Debug)]
pub struct FilterPages<'a> {
    client: &'a Client,
    group: &'a str,
    start_ms: i64,
    end_ms: Option<i64>,
    pattern: Option<&'a str>,
    limit: Option<i32>,
    token: Option<String>,
    done: bool,
}

impl<'a> FilterPages<'a> {
    /// Pages of `group` from `start_ms` (Unix ms, clamped at 0).
    pub fn new(client: &'a Client, group: &'a str, start_ms: i64) -> Self {
        Self { client, group, start_ms: start_ms.max(0), end_ms: None, pattern: None, limit: None, token: None, done: false }
    }

    /// Only events up to `end_ms`.
    #[must_use]
    pub fn until(mut self, end_ms: i64) -> Self {
        self.end_ms = Some(end_ms);
        self
    }

    /// At most `events` events a page (the service's own cap otherwise: 10,000 events or
    /// 1 MB).
    #[must_use]
    pub fn pages_of(mut self, events: i32) -> Self {
        self.limit = Some(events);
        self
    }

    /// Only events matching a CloudWatch filter pattern.
    #[must_use]
    pub fn matching(mut self, pattern: Option<&'a str>) -> Self {
        self.pattern = pattern;
        self
    }

    /// True once the last page was read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next page, or `None` after the last. A page token repeated by the service
    /// ends the read (a last page may carry its own token again).
    pub async fn next(&mut self) -> Result<Option<FilterLogEventsOutput>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .client
            .filter_log_events()
            .log_group_name(self.group)
            .start_time(self.start_ms)
            .set_end_time(self.end_ms)
            .set_filter_pattern(self.pattern.map(str::to_owned))
            .set_limit(self.limit)
            .set_next_token(self.token.clone())
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => ReadError::NoGroup {
                    group: self.group.to_owned(),
                    region: self.client.config().region().map_or_else(|| "this region".to_owned(), ToString::to_string),
                },
                Some("ThrottlingException") => ReadError::Throttled(describe(&e)),
                _ if crate::aws::missing_credentials(&e) => ReadError::NoCredentials(describe(&e)),
                _ => ReadError::Failed(describe(&e)),
            })?;
        match page.next_token() {
            Some(t) if Some(t) != self.token.as_deref() => self.token = Some(t.to_owned()),
            _ => self.done = true,
        }
        Ok(Some(page))
    }
}
