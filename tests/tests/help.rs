//! The command lines users copy: every example in `--help` fits 80 columns (pasting a
//! wrapped one would run half a command), and every flag an example or the README uses
//! exists on the command it is given to — so the help and the README cannot drift from
//! the binaries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

use zoomwatch_e2e::tools;

fn help(bin: &str, path: &[&str]) -> String {
    let out = Command::new(tools::workspace_bin(bin)).args(path).arg("--help").env("COLUMNS", "80").output().unwrap();
    assert!(out.status.success(), "{bin} {path:?} --help: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Subcommands listed in a help text's Commands section.
fn subcommands(text: &str) -> Vec<String> {
    let Some(start) = text.find("Commands:") else { return Vec::new() };
    text[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Entries start at column 2; wrapped descriptions are indented further.
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command path of `bin` (the binary itself, its subcommands, `act`'s actions) and
/// its help.
fn all_help(bin: &str) -> BTreeMap<Vec<String>, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(bin, &refs);
        for sub in subcommands(&text) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        out.insert(path, text);
    }
    out
}

/// The command lines in `text` (continuation lines joined): those starting with the
/// binary's name, after any VAR=value assignments.
fn command_lines(text: &str, bin: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(head) = l.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(l);
        joined.push(std::mem::take(&mut cur));
    }
    joined
        .into_iter()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().skip_while(|w| w.contains('=') && !w.starts_with('-')).collect();
            (words.first() == Some(&bin)).then(|| words.join(" "))
        })
        .collect()
}

/// Checks each `--flag` of `line` against the help of the command it names.
fn check_line(line: &str, bin: &str, helps: &BTreeMap<Vec<String>, String>) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().take_while(|w| !matches!(*w, "|" | ">" | "&&" | ";" | "#")).collect();
    // The longest command path the line starts with.
    let mut path: Vec<String> = Vec::new();
    for w in &words[1..] {
        let mut p = path.clone();
        p.push((*w).to_owned());
        if helps.contains_key(&p) {
            path = p;
        } else if !w.starts_with('-') && path.is_empty() && !helps.contains_key(&p) {
            // A positional of the top-level command (none take one) or a typo'd subcommand.
            return Err(format!("`{line}`: `{w}` is not a {bin} command"));
        } else {
            break;
        }
    }
    let text = &helps[&path];
    for w in &words {
        let Some(flag) = w.strip_prefix("--") else { continue };
        let name = flag.split('=').next().unwrap_or(flag);
        if name.is_empty() || name.starts_with('-') {
            continue;
        }
        let (global, _) = (&helps[&Vec::new()], ());
        let known = |t: &str| t.contains(&format!("--{name} ")) || t.contains(&format!("--{name}\n")) || t.contains(&format!("--{name},"));
        // `act`'s global flags are listed on `act` itself.
        let act = helps.get(&vec!["act".to_owned()]);
        if !(known(text) || known(global) || (path.first().map(String::as_str) == Some("act") && act.is_some_and(|a| known(a)))) {
            return Err(format!("`{line}`: {bin} {} has no --{name}", path.join(" ")));
        }
    }
    Ok(())
}

#[test]
fn help_examples_fit_80_columns_and_use_real_flags() {
    for bin in ["zoomwatch", "zoomwatch-ingest"] {
        let helps = all_help(bin);
        assert!(helps.len() > 5, "{bin}: {:?}", helps.keys().collect::<Vec<_>>());
        let mut problems = Vec::new();
        for (path, text) in &helps {
            let Some(at) = text.find("Examples:") else { continue };
            let examples = &text[at..];
            for l in examples.lines().filter(|l| l.chars().count() > 80) {
                problems.push(format!("{bin} {}: wider than 80 columns: {l}", path.join(" ")));
            }
            for line in command_lines(examples, bin) {
                if let Err(e) = check_line(&line, bin, &helps) {
                    problems.push(e);
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
    // Every command a user reaches has examples.
    let helps = all_help("zoomwatch");
    // And the check catches what it is for.
    assert!(check_line("zoomwatch tail --file x --folow", "zoomwatch", &helps).is_err());
    assert!(check_line("zoomwatch tial --file x", "zoomwatch", &helps).is_err());
    assert!(check_line("zoomwatch act end-meeting 1 --reason x --log-group g", "zoomwatch", &helps).is_ok());
    for cmd in ["", "tail", "act", "watch", "posture", "rules", "demo"] {
        let path: Vec<String> = if cmd.is_empty() { Vec::new() } else { vec![cmd.to_owned()] };
        assert!(helps[&path].contains("Examples:"), "zoomwatch {cmd} --help has no examples");
    }
}

#[test]
fn every_command_line_in_the_readme_uses_real_commands_and_flags() {
    let readme = std::fs::read_to_string(tools::repo_root().join("README.md")).unwrap();
    // The text of fenced code blocks.
    let mut code = String::new();
    let mut inside = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            code.push_str(line);
            code.push('\n');
        }
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for bin in ["zoomwatch", "zoomwatch-ingest"] {
        let helps = all_help(bin);
        for line in command_lines(&code, bin) {
            // Sample output in the README (`zoomwatch posture: …`, the console's header).
            let second = line.split_whitespace().nth(1).unwrap_or("");
            if second.ends_with(':') || !second.is_ascii() {
                continue;
            }
            // Synopses (`[--flag X]`, `ACTION …`) are checked flag by flag too.
            let plain = line.replace(['[', ']'], " ").replace('|', " | ");
            checked += 1;
            if let Err(e) = check_line(&plain, bin, &helps) {
                problems.push(e);
            }
        }
    }
    assert!(checked >= 25, "only {checked} command lines found in the README");
    assert!(problems.is_empty(), "{problems:#?}");
}
