//! zoomwatch's one client for Zoom's REST API, used by `zoomwatch act`, the console's
//! actions and lookups (and the report poller). Everything Zoom-specific that can be
//! decided without a network is pure and tested on its own; [`client`] only moves bytes.
//!
//! # Layout
//!
//! - [`request`] — an API call as data (method, encoded path, body) and the path
//!   encoding rules (meeting UUIDs double-encoded when they start with `/` or hold `//`).
//! - [`action`] — the response actions (end, harden, remove, deny, deactivate, sign out)
//!   and the on-demand lookups, each with its exact call and least-privilege scope.
//! - [`error`] — Zoom's refusals as one [`ApiError`]: missing scope (4711), expired token
//!   (124), started meeting (3000), rate limits (`Retry-After`, per-second vs daily).
//! - [`settings`] — account and group settings: the reads posture merges into one
//!   document, the group list, and the one-setting PATCH a revert sends.
//! - [`reports`] — the sign-in, operation-log and failed-delivery reports the poller reads.
//! - [`credentials`] — Server-to-Server OAuth credentials from the environment, a
//!   private file, or AWS Secrets Manager; the secret never prints.
//! - [`client`] — the transport: token fetch and cache, one refresh on an expired
//!   token, waiting out per-second 429s, timeouts.
//!
//! Base URLs are overridable (`ZOOM_API_URL`, `ZOOM_OAUTH_URL`), which is how the tests
//! and the demo point the client at a local stand-in for Zoom.

pub mod action;
pub mod client;
pub mod credentials;
pub mod error;
pub mod reports;
pub mod request;
pub mod settings;

pub use action::{Action, Lookup, Registrant};
pub use client::{Client, ClientConfig, Response};
pub use credentials::{CredentialError, Credentials};
pub use error::{ApiError, ZoomAnswer};
pub use request::{ApiRequest, Method};
pub use settings::SettingsScope;
