//! The async shell around the state machine: the only place that touches the terminal,
//! the source channel and the clock. One `tokio::select!` over key events, source
//! batches and a frame tick; the source channel is drained each time so a high-rate tail
//! costs one redraw per frame, not one per record. `ratatui::init` installs a panic hook
//! that restores the terminal; `restore` runs on every exit path.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::source::SourceEvent;
use crate::state::{Effect, Msg, State, update};
use crate::ui::{self, Theme};

/// Current Unix time in ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Refuses to start the TUI when stdout is not a terminal.
pub fn require_terminal() -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the zoomwatch console needs a terminal (stdout is not one); for pipes and scripts use `zoomwatch tail --file PATH [--json]`"
        );
    }
    Ok(())
}

/// Runs the console until the analyst quits. `triage_path` is where verdicts are saved.
pub async fn run(state: State, source: mpsc::Receiver<SourceEvent>, triage_path: Option<PathBuf>) -> Result<()> {
    require_terminal()?;
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, state, source, triage_path).await;
    ratatui::restore();
    result
}

/// Performs effects; returns true to quit.
fn perform(effects: Vec<Effect>, state: &mut State, triage_path: Option<&PathBuf>) -> bool {
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
            Effect::Export { path, contents } => {
                let msg = match std::fs::write(&path, contents) {
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
    source: mpsc::Receiver<SourceEvent>,
    triage_path: Option<PathBuf>,
) -> Result<()> {
    let theme = Theme::from_env();
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
                        if perform(effects, &mut state, triage_path.as_ref()) {
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
