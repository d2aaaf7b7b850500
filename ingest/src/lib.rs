//! zoomwatch's receiver: takes Zoom webhook requests, verifies them on their raw bytes,
//! answers URL validation, normalizes each event into a Record v1 and writes it to a
//! [`Sink`]. The same [`router`] runs behind API Gateway under Lambda and as a local
//! server (`zoomwatch-ingest serve`).
//!
//! # Layout
//!
//! - [`router`] — the HTTP surface: status codes, error bodies, the request flow.
//! - [`sink`] — where records go: [`sink::CloudWatchSink`] (PutLogEvents, limits and
//!   retries), [`sink::FileSink`] (JSONL, group-committed and fsynced),
//!   [`sink::StdoutSink`]; each implements [`Sink`].
//! - [`poll`] — Zoom's sign-in, operation-log and failed-delivery reports into records
//!   (`zoomwatch-ingest poll`, the scheduled Lambda), with a cursor.
//! - [`rejected`] — rate limiting of `zoomwatch.rejected` records.
//! - [`recent`] — the record ids stored recently (repeat deliveries answered `duplicate`).
//! - [`server`] — running the router on a TCP listener with graceful shutdown.
//! - [`send`] — signing and posting bodies to any endpoint (`zoomwatch-ingest send`).
//! - [`config`] — receiver settings and where secrets come from.
//! - [`watch`] — the scheduled watch function: the stateful detector over the log
//!   group, alerts written back as `zoomwatch.alert` records, checkpoint in S3.
//! - [`notify`] — alert notifications to a Slack/Teams-style webhook.
//! - [`lambda`] — running the router under AWS Lambda (`lambda_http`), settings from the
//!   environment, SDK clients built once at init.
//!
//! `src/main.rs` only parses arguments and wires these together.

pub mod config;
pub mod lambda;
pub mod notify;
pub mod poll;
pub mod recent;
pub mod rejected;
pub mod router;
pub mod send;
pub mod server;
pub mod sink;
pub mod watch;

pub use config::ReceiverConfig;
pub use router::router;
pub use sink::{AnySink, Sink, SinkError};
