//! Console budgets (DESIGN §7): apply 1M records ≤ 3 s; draw a frame with 200k records
//! held ≤ 10 ms; change the filter over 200k records ≤ 50 ms.
//! Run: `cargo bench -p zoomwatch-console --bench console`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use zoomwatch_console::state::{Msg, State, update};
use zoomwatch_console::triage::Triage;
use zoomwatch_console::ui::{self, Theme};
use zoomwatch_shared::config::Config;
use zoomwatch_shared::{RecordV1, scenario, synthetic};

/// The allocator the `zoomwatch` binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_795_856_400_000;

/// `n` records of a busy account ([`synthetic::busy_account_body`]), as a source
/// delivers them: stored by the receiver, parsed back from the line.
pub fn records(n: usize) -> Vec<RecordV1> {
    (0..n)
        .map(|i| {
            let line = synthetic::stored_line(synthetic::busy_account_body, i, T0).unwrap();
            zoomwatch_shared::lines::parse(line.as_bytes()).unwrap()
        })
        .collect()
}

fn state_with(n: usize, retention: usize) -> State {
    let cfg = Config::parse(scenario::CONFIG, "bench").unwrap();
    let mut s = State::new("file:bench", cfg, Triage::default(), retention, T0);
    for chunk in records(n).chunks(8192) {
        update(&mut s, Msg::Records(chunk.to_vec()));
    }
    update(&mut s, Msg::Resize(40));
    s
}

fn apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("apply");
    g.sample_size(10);
    let batches: Vec<Vec<RecordV1>> = records(1_000_000).chunks(8192).map(<[RecordV1]>::to_vec).collect();
    let cfg = Config::parse(scenario::CONFIG, "bench").unwrap();
    g.bench_function("1M records (retention 100k)", |b| {
        b.iter_batched(
            || (State::new("file:bench", cfg.clone(), Triage::default(), 100_000, T0), batches.clone()),
            |(mut s, batches)| {
                for batch in batches {
                    update(&mut s, Msg::Records(batch));
                }
                s
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn render_and_filter(c: &mut Criterion) {
    let mut s = state_with(200_000, 200_000);
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let theme = Theme { color: true };
    c.bench_function("render feed frame, 200k records held", |b| {
        b.iter(|| {
            term.draw(|f| ui::draw(&s, f, theme)).unwrap();
        })
    });
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE)));
    c.bench_function("render meetings frame, 200k records held", |b| {
        b.iter(|| {
            term.draw(|f| ui::draw(&s, f, theme)).unwrap();
        })
    });
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE)));

    let mut g = c.benchmark_group("filter change over 200k records");
    g.sample_size(20);
    for (name, text) in [("meeting", "meeting:\"team sync 42\""), ("user", "user:p1234"), ("text+sev", "198.51.100.7 sev:>=low")] {
        g.bench_function(name, |b| {
            // One filter change per iteration: open the prompt, clear it (C-u), type, Enter.
            b.iter(|| {
                update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)));
                update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
                for ch in text.chars() {
                    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE)));
                }
                update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, render_and_filter, apply);
criterion_main!(benches);
