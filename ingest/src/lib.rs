//! zoomwatch's receiver: takes Zoom webhook requests, verifies them on their raw bytes,
//! answers URL validation, normalizes each event into a Record v1 and writes it to a
//! `zoomwatch_log` sink. The same [`router`] runs behind API Gateway under Lambda and as
//! a local server (`zoomwatch-ingest serve`). The scheduled functions (the report
//! poller, the watch function) share the Lambda bootstrap.
//!
//! # Layout
//!
//! - [`router`] — the HTTP surface: status codes, error bodies, the request flow.
//! - [`poll`] — Zoom's sign-in, operation-log and failed-delivery reports into records
//!   (`zoomwatch-ingest poll`, the scheduled Lambda), with a cursor.
//! - [`rejected`] — rate limiting of `zoomwatch.rejected` records.
//! - [`recent`] — the record ids stored recently (repeat deliveries answered `duplicate`).
//! - [`server`] — running the router on a TCP listener with graceful shutdown.
//! - [`send`] — signing and posting bodies to any endpoint (`zoomwatch-ingest send`).
//! - [`error`] — [`IngestError`], the crate's one error type.
//! - [`config`] — receiver settings and where secrets come from.
//! - [`state_store`] — the scheduled functions' state: one S3 bucket, an object each.
//! - [`watch_function`] — the scheduled watch function: the stateful detector over the
//!   log group, alerts written back as `zoomwatch.alert` records, checkpoint in S3.
//! - [`lambda`] — running the router under AWS Lambda (`lambda_http`), settings from the
//!   environment, SDK clients built once at init.
//!
//! The Lambda parts ([`lambda`], [`watch_function`], [`state_store`]) are behind
//! the `lambda` feature (on by default; the console's demo builds without it).
//!
//! Where records go (file, stdout, CloudWatch Logs) and alert notifications live in the
//! log crate, `zoomwatch_log`. `src/main.rs` only parses arguments and wires these
//! together.

pub mod broker;
pub mod claims;
pub mod cli_docs;
pub mod config;
pub mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod poll;
pub mod recent;
pub mod rejected;
pub mod router;
pub mod send;
pub mod server;
#[cfg(feature = "lambda")]
pub mod state_store;
#[cfg(feature = "lambda")]
pub mod watch_function;

pub use config::ReceiverConfig;
pub use error::IngestError;
pub use router::router;
