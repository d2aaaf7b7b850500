//! The analyst's side of zoomwatch: reading Record v1 streams (a JSONL file, a
//! CloudWatch Logs group), running the stateful detector over them, and showing the
//! result — as lines (`zoomwatch tail`) or as the live console.
//!
//! # Layout
//!
//! - [`act`] — response actions through Zoom's API (`zoomwatch act`, the console's dialog), audited.
//! - [`respond`] — which Zoom actions fit the selection (key `r`); roster vs Zoom's live list.
//! - [`lines`] — one stored line → a record, or a counted skip (platform lines, garbage).
//! - [`source`] — where records come from: [`source::file`] tails a JSONL file
//!   (truncation and rotation safe). Sources send [`source::SourceEvent`]s on a channel.
//! - [`filter`] — the filter language (`meeting:`, `user:`, `type:`, `sev:>=`, text),
//!   shared by `tail` and the console (it lives in `zoomwatch-shared`).
//! - [`pushdown`] — the part of a filter CloudWatch applies itself (filter patterns).
//! - [`settings`] — finding and loading `zoomwatch.toml`.
//! - [`tail`] — `zoomwatch tail`: records and alerts as text or JSON lines.
//! - [`watch`] — `zoomwatch watch`: the detector as a service, alerts written as
//!   `zoomwatch.alert` records, checkpointed; [`notify`] (re-exported from the receiver crate) sends them to a webhook.
//! - [`state`] — the console's state machine: pure `State` + `update(Msg) -> Effects`.
//! - [`keymap`] — the one key table (keys, footer hints, help overlay).
//! - [`ui`] — rendering from `&State`, one module per screen region.
//! - [`triage`] — acknowledged/dismissed/noted alerts, persisted across restarts.
//! - [`export`] — the current view as JSONL or CSV.
//! - [`app`] — the async shell: terminal, source task, one `select!` loop.
//! - [`demo`] — `zoomwatch demo`: receiver + signed-webhook simulator + console.
//! - [`demo_api`] — the demo's stand-in for Zoom's REST API, so actions work offline.
//!
//! `src/main.rs` parses arguments and calls into these.

pub mod act;
pub mod alert_order;
pub mod app;
pub mod demo;
pub mod demo_api;
pub mod export;
pub mod keymap;
pub mod packed;
pub mod pushdown;
pub mod respond;
pub mod settings;
pub mod source;
pub mod state;
pub mod tail;
pub mod triage;
pub mod ui;
pub use zoomwatch_ingest::notify;
pub use zoomwatch_shared::{filter, lines};
pub mod watch;
