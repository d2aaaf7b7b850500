//! The async shell around the state machine: the only place that touches the terminal,
//! the source channel and the clock. One `tokio::select!` over key events, source
//! batches and a frame tick; the source channel is drained each time so a high-rate tail
//! costs one redraw per frame, not one per record. `ratatui::init` installs a panic hook
//! that restores the terminal; `restore` runs on every exit path.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use zoomwatch_log::AnySink;

use crate::act::{Analyst, Context, check_audit, write_audit};
use crate::clock::now_ms;
use zoomwatch_log::source::SourceEvent;

use crate::prepare::Prepared;
use crate::state::{Effect, Msg, State, ZoomCall, update};
use crate::ui::{self, Theme};

/// Refuses to start the TUI when stdout is not a terminal.
pub fn require_terminal() -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the zoomwatch console needs a terminal (stdout is not one); for pipes and scripts use `zoomwatch tail --file PATH [--json]`"
        );
    }
    Ok(())
}

/// What the console acts and shares verdicts with. Either part may be missing: without
/// a client there are no Zoom actions, without a sink no shared triage (and no actions,
/// which are never taken unaudited).
#[derive(Default)]
pub struct Responder {
    /// Zoom's API.
    pub client: Option<Arc<zoomwatch_zoomapi::Client>>,
    /// The action broker, when actions go through it (it holds the credentials and
    /// writes the audit records).
    pub broker: Option<Arc<zoomwatch_log::broker::BrokerClient>>,
    /// Where action and triage records go (the destination the console reads).
    pub sink: Option<Arc<AnySink>>,
    /// Who is acting.
    pub analyst: Option<Analyst>,
}

impl Responder {
    /// Why actions are unavailable, if they are.
    pub fn unavailable(&self, no_client: Option<&str>) -> Option<String> {
        if self.broker.is_some() {
            return None;
        }
        match (&self.client, &self.sink) {
            (Some(_), Some(_)) => None,
            (None, _) => Some(no_client.unwrap_or("no Zoom API credentials").to_owned()),
            (Some(_), None) => Some("no writable audit destination (actions are never taken unaudited)".into()),
        }
    }
}

/// One line for the outcomes of a batch (or the one line of a single action): done when
/// every action was.
fn summarize(mut results: Vec<(bool, String)>) -> (bool, String) {
    let n = results.len();
    if n == 1 {
        return results.pop().unwrap_or_default();
    }
    let done = results.iter().filter(|(ok, _)| *ok).count();
    match results.into_iter().find(|(ok, _)| !*ok) {
        None => (true, format!("done: all {n} calls succeeded")),
        Some((_, first)) => (false, format!("{done} of {n} calls succeeded; first failure: {first}")),
    }
}

/// One action or lookup through the action broker, as the message the state expects.
async fn through_broker(broker: &zoomwatch_log::broker::BrokerClient, call: ZoomCall) -> Msg {
    use zoomwatch_log::broker::BrokerRequest;
    match call {
        ZoomCall::Act { actions, alert_id } => {
            let mut results = Vec::new();
            for action in actions {
                let req = BrokerRequest {
                    action: Some(action),
                    lookup: None,
                    reason: alert_id.as_ref().map(|a| format!("console, alert {a}")),
                    alert: alert_id.clone(),
                    dry_run: false,
                };
                results.push(match broker.send(&req).await {
                    Ok(a) => {
                        let line = match &a.audit_error {
                            None => a.line,
                            Some(e) => format!("{} — {e}", a.line),
                        };
                        (a.outcome.as_deref() == Some("succeeded"), line)
                    }
                    Err(e) => (false, e.to_string()),
                });
            }
            let (ok, line) = summarize(results);
            Msg::Acted { alert_id, line, ok }
        }
        ZoomCall::Lookup(lookup) => {
            let req = BrokerRequest { action: None, lookup: Some(lookup.clone()), reason: None, alert: None, dry_run: false };
            let result = match broker.send(&req).await {
                Ok(a) if a.ok => a.body.ok_or_else(|| "the broker's answer held no body".to_owned()),
                Ok(a) => Err(a.line),
                Err(e) => Err(e.to_string()),
            };
            Msg::LookedUp { lookup, result }
        }
    }
}

/// Runs the console until the analyst quits. `triage_path` is where verdicts are saved.
pub async fn run(
    state: State,
    source: mpsc::Receiver<SourceEvent<Prepared>>,
    triage_path: Option<PathBuf>,
    responder: Responder,
) -> Result<()> {
    require_terminal()?;
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, state, source, triage_path, responder).await;
    ratatui::restore();
    result
}

/// Performs effects; returns true to quit. Zoom calls and record writes run as tasks
/// and report back on `done`, so the screen never waits for the network.
pub fn perform(
    effects: Vec<Effect>,
    state: &mut State,
    triage_path: Option<&PathBuf>,
    responder: &Responder,
    done: &mpsc::UnboundedSender<Msg>,
) -> bool {
    for e in effects {
        match e {
            Effect::Quit => return true,
            Effect::SaveTriage(t) => {
                if let Some(path) = triage_path
                    && let Err(err) = t.save(path)
                {
                    update(state, Msg::Notice(format!("could not save triage to {}: {err}", path.display())));
                }
            }
            Effect::ShareTriage { alert_id, entry } => {
                let (Some(sink), Some(analyst)) = (responder.sink.clone(), responder.analyst.clone()) else { continue };
                let done = done.clone();
                tokio::spawn(async move {
                    let r = zoomwatch_shared::audit::triage_record(
                        &analyst.name,
                        analyst.host.as_deref(),
                        &alert_id,
                        entry.status.as_str(),
                        &entry.note,
                        now_ms(),
                    );
                    if let Err(e) = write_audit(&sink, r).await {
                        let _ = done.send(Msg::Notice(format!("verdict saved locally, not shared: {e}")));
                    }
                });
            }
            Effect::Zoom(call) if responder.broker.is_some() => {
                let (Some(broker), done) = (responder.broker.clone(), done.clone()) else { continue };
                tokio::spawn(async move {
                    let _ = done.send(through_broker(&broker, call).await);
                });
            }
            Effect::Zoom(call) => {
                let (Some(client), Some(sink), Some(analyst)) =
                    (responder.client.clone(), responder.sink.clone(), responder.analyst.clone())
                else {
                    let why = responder.unavailable(None).unwrap_or_default();
                    update(state, Msg::Notice(format!("Zoom actions unavailable: {why}")));
                    continue;
                };
                let done = done.clone();
                tokio::spawn(async move {
                    let msg = match call {
                        ZoomCall::Act { actions, alert_id } => {
                            let ctx =
                                Context { reason: alert_id.as_ref().map(|a| format!("console, alert {a}")), alert_id: alert_id.clone() };
                            // The destination is checked first: no action goes unaudited.
                            if let Err(e) = check_audit(&sink, now_ms()).await {
                                Msg::Acted { alert_id, line: format!("not done: {e}"), ok: false }
                            } else {
                                let mut results = Vec::new();
                                for action in &actions {
                                    let d = crate::act::execute(Some(&client), action, &analyst, &ctx, Some(&sink), now_ms).await;
                                    let ok = d.outcome == zoomwatch_shared::audit::Outcome::Succeeded;
                                    results.push(match write_audit(&sink, d.record).await {
                                        Ok(()) => (ok, d.line),
                                        Err(e) => (ok, format!("{} — {e}", d.line)),
                                    });
                                }
                                let (ok, line) = summarize(results);
                                Msg::Acted { alert_id, line, ok }
                            }
                        }
                        ZoomCall::Lookup(lookup) => {
                            let result = client
                                .call(&lookup.request(), lookup.name(), lookup.scope())
                                .await
                                .map(|r| r.body)
                                .map_err(|e| e.to_string());
                            Msg::LookedUp { lookup, result }
                        }
                    };
                    let _ = done.send(msg);
                });
            }
            Effect::Export { path, contents } => {
                let msg = match zoomwatch_log::files::write_new(std::path::Path::new(&path), contents.as_bytes()) {
                    Ok(()) => format!("exported to {path}"),
                    Err(err) => format!("export to {path} failed: {err}"),
                };
                update(state, Msg::Notice(msg));
            }
        }
    }
    false
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut state: State,
    source: mpsc::Receiver<SourceEvent<Prepared>>,
    triage_path: Option<PathBuf>,
    responder: Responder,
) -> Result<()> {
    let theme = Theme::from_env();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Msg>();
    let mut keys = EventStream::new();
    let mut source = Some(source);
    let mut frame = tokio::time::interval(Duration::from_millis(50));
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let size = terminal.size()?;
    update(&mut state, Msg::Resize(size.height));
    update(&mut state, Msg::Tick(now_ms()));
    let mut dirty = true;
    loop {
        tokio::select! {
            key = keys.next() => {
                match key {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                        let effects = update(&mut state, Msg::Key(k));
                        if perform(effects, &mut state, triage_path.as_ref(), &responder, &done_tx) {
                            return Ok(());
                        }
                        // Keys redraw at once: the analyst is waiting for them.
                        terminal.draw(|f| ui::draw(&state, f, theme))?;
                        dirty = false;
                    }
                    Some(Ok(Event::Resize(_, h))) => {
                        update(&mut state, Msg::Resize(h));
                        dirty = true;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(()),
                }
            }
            ev = async { source.as_mut()?.recv().await }, if source.is_some() => {
                match ev {
                    Some(ev) => {
                        update(&mut state, Msg::Source(ev));
                        // Drain what else is queued: one redraw per frame, not per batch.
                        if let Some(rx) = source.as_mut() {
                            while let Ok(more) = rx.try_recv() {
                                update(&mut state, Msg::Source(more));
                            }
                        }
                        dirty = true;
                    }
                    None => source = None,
                }
            }
            Some(msg) = done_rx.recv() => {
                let effects = update(&mut state, msg);
                if perform(effects, &mut state, triage_path.as_ref(), &responder, &done_tx) {
                    return Ok(());
                }
                dirty = true;
            }
            _ = clock.tick() => {
                update(&mut state, Msg::Tick(now_ms()));
                dirty = true;
            }
            _ = frame.tick() => {
                if dirty {
                    terminal.draw(|f| ui::draw(&state, f, theme))?;
                    dirty = false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn a_batch_is_done_only_when_every_call_was() {
        assert_eq!(summarize(vec![(true, "done: x".into())]), (true, "done: x".into()));
        assert_eq!(summarize(vec![(false, "Zoom refused".into())]), (false, "Zoom refused".into()));
        assert_eq!(summarize(vec![(true, "a".into()), (true, "b".into())]), (true, "done: all 2 calls succeeded".into()));
        let (ok, line) = summarize(vec![(true, "a".into()), (false, "3001 not found".into()), (false, "429".into())]);
        assert!(!ok);
        assert_eq!(line, "1 of 3 calls succeeded; first failure: 3001 not found");
    }
}
