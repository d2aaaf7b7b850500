//! The analyst's side of zoomwatch: following Record v1 streams (a JSONL file, a
//! CloudWatch Logs group, both read through `zoomwatch_log`), running the stateful
//! detector over them, and showing the result — as lines (`zoomwatch tail`), as alerts
//! written back for the SIEM (`zoomwatch watch`), or as the live console.
//!
//! # Layout
//!
//! The commands — each module owns its arguments and its `run`:
//! - [`live`] — the live console (`zoomwatch` with no subcommand).
//! - [`tail`] — `zoomwatch tail`: records and alerts as text or JSON lines.
//! - [`watch`] — `zoomwatch watch`: the detector as a service, alerts written as
//!   `zoomwatch.alert` records, checkpointed, notified (`zoomwatch_log::notify`).
//! - [`act`] — `zoomwatch act`: response actions through Zoom's API, audited (also the
//!   console's response dialog).
//! - [`posture`] — `zoomwatch posture`: the account's settings checked against the
//!   policy, a `zoomwatch.posture` record for the SIEM.
//! - [`rules`] — `zoomwatch rules` and `zoomwatch check-config`.
//! - [`demo`] — `zoomwatch demo`: receiver + signed-webhook simulator + console;
//!   [`demo_api`] is its stand-in for Zoom's REST API, so actions work offline.
//! - [`args`] — the source and config flags several commands share, and starting a source.
//!
//! The console itself:
//! - [`state`] — the console's state machine: pure `State` + `update(Msg) -> Effects`.
//! - [`app`] — the async shell: terminal, source task, one `select!` loop.
//! - [`clock`] — the wall clock, read only by the shells.
//! - [`keymap`] — the one key table (keys, footer hints, help overlay).
//! - [`ui`] — rendering from `&State`, one module per screen region.
//! - [`prepare`] — what the console makes of each record in the source's task.
//! - [`packed`] — held rows' lines, LZ4-compressed.
//! - [`alert_order`] — the Alerts view's order, kept incrementally.
//! - [`pushdown`] — the part of a filter CloudWatch applies itself (filter patterns).
//! - [`respond`] — which Zoom actions fit the selection (key `r`); roster vs Zoom's live list.
//! - [`triage`] — acknowledged/dismissed/noted alerts, persisted across restarts.
//! - [`export`] — the current view as JSONL or CSV.
//! - [`settings`] — finding and loading `zoomwatch.toml`.
//!
//! `src/main.rs` parses arguments and dispatches to the commands.

pub mod act;
pub mod alert_order;
pub mod app;
pub mod args;
pub mod clock;
pub mod demo;
pub mod demo_api;
pub mod export;
pub mod keymap;
pub mod live;
pub mod packed;
pub mod posture;
pub mod prepare;
pub mod pushdown;
pub mod respond;
pub mod rules;
pub mod settings;
pub mod state;
pub mod tail;
pub mod triage;
pub mod ui;
pub mod watch;
