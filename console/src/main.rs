//! `zoomwatch` — the analyst's console. The live TUI, `tail` and `demo` are built on the
//! shared record model; this binary is a placeholder until the console lands.

fn main() {
    eprintln!(
        "zoomwatch console: not built yet — use `zoomwatch-ingest serve` and read the JSONL file"
    );
    std::process::exit(2);
}
