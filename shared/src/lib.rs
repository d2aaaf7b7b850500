//! zoomwatch's pure core, shared by the receiver (`zoomwatch-ingest`) and the console
//! (`zoomwatch`). Nothing in here does I/O, reads a clock or starts a runtime: time is
//! always passed in, so every function is deterministic and testable on fixtures.
//!
//! # Layout
//!
//! - [`alert`] — `zoomwatch.alert` records: the stateful detector's alerts written
//!   beside the events by `zoomwatch watch`, raised once and updated as they grow.
//! - [`audit`] — the records of response actions and triage verdicts (`zoomwatch.action`,
//!   `zoomwatch.triage`), so the SIEM and every console see them.
//! - [`blocks`] — the `alert` and `response` blocks of zoomwatch's own records, and the
//!   severity scale.
//! - [`signature`] — Zoom's `x-zm-signature` scheme on raw bytes, secret rotation,
//!   replay window, and the `endpoint.url_validation` answer.
//! - [`envelope`] — the outer `{event, event_ts, payload}` of a webhook body.
//! - [`record`] — **Record v1**, the one documented shape every event is stored as.
//! - [`normalize`] — envelope → Record v1 (identity, times, meeting/participant/actor
//!   blocks, `changes` from `old_object`, dedupe id).
//! - [`filter`] — the filter language (`meeting:`, `user:`, `type:`, `sev:>=`, `country:`,
//!   text), shared by the console, `tail` and the fuzz targets.
//! - [`geo`] — offline GeoIP/ASN/anonymizer lookups that fill Record v1's `geo` blocks.
//! - [`ids`] — a bounded set of record ids (duplicate suppression).
//! - [`lines`] — one stored line (file, log group) → a record, or a counted skip.
//! - [`report`] — rows of Zoom's sign-in, operation-log and failed-delivery reports as
//!   Record v1 (a failed delivery gets the id its webhook would have had).
//! - [`redact`] — removal of passcodes, tokens and stream keys before anything is stored.
//! - [`diff`] — `old_object` → `object` change lists with nested paths.
//! - [`timefmt`] — RFC 3339 parsing/formatting in milliseconds.
//! - [`config`] — `zoomwatch.toml`: internal domains, patterns, watchlists, per-rule settings.
//! - [`limits`] — `[limits]`: caps on the detector's memory.
//! - [`rules`] — the detection catalog: stateless rules (flags on records) and the
//!   stateful [`rules::Detector`] (alerts over the stream).
//! - [`scenario`] — a scripted account day (demo and tests).
//! - [`synthetic`] — a generated busy account (benchmarks).
//! - [`roster`] — live meeting state (who is in which meeting now), order-robust.
//! - [`text`] — making untrusted text from Zoom safe to show on a terminal.
//! - [`zoom_settings`] — the settings catalogue: every security-relevant Zoom setting
//!   by its API path, webhook names and operation-log label, its secure value, CIS id.
//! - [`watcher`] — the detector as a service: records in, alert records out, checkpoints.

pub mod alert;
pub mod audit;
pub mod blocks;
pub mod config;
pub mod diff;
pub mod envelope;
pub mod filter;
pub mod geo;
pub mod ids;
pub mod limits;
pub mod lines;
pub mod normalize;
pub mod ocsf;
pub mod posture;
pub mod record;
pub mod redact;
pub mod report;
pub mod roster;
pub mod rules;
pub mod scenario;
pub mod signature;
pub mod synthetic;
pub mod text;
pub mod timefmt;
pub mod watcher;
pub mod zoom_settings;

pub use envelope::Envelope;
pub use normalize::{Received, normalize};
pub use record::{Category, RecordV1, SCHEMA, Severity};
pub use signature::{SecretSet, VerifyError};
