//! Filtering at the source: the part of a filter CloudWatch Logs can apply itself, so
//! that reading a big log group with `--meeting`, `--user` or `--filter` only moves the
//! events that can match. The console and `tail` still apply the whole filter to what
//! arrives, so what is compiled here may match *more* than the filter (harmless), never
//! less (a lost record).
//!
//! CloudWatch's filter patterns are case-sensitive and our filter is not; its plain
//! terms match whole words (our terms match inside words). So one term — the longest
//! usable run of the most selective `meeting:`, `user:`, text or `type:` term — becomes
//! a regex pattern (`%…%`, which CloudWatch documents as matching anywhere in the
//! message: `%AUTHORIZED%` finds `UNAUTHORIZED`), each letter as a two-case class
//! (`[aA]`). Only characters the regex syntax accepts literally are used: ASCII letters
//! and digits, `@ _ - : # = ; ,`, and `.` escaped. `i` and `k` are left out because
//! non-ASCII letters lower-case to them (`İ`, the Kelvin sign `K`), which a two-case
//! class would miss. A time window (`since:`, `between:`) moves the read's start time
//! up to 15 minutes before the window (events are stamped when received, which is at
//! or after the payload time, give or take clock skew).

use zoomwatch_shared::filter::{Filter, Term};

/// What a read asks of CloudWatch for a filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushdown {
    /// `filterPattern` / `logEventFilterPattern`, when a term could be compiled.
    pub pattern: Option<String>,
    /// The earliest receive time (Unix ms) a matching event can have.
    pub start_ms: Option<i64>,
}

/// Margin between a window's start (payload time) and the read's start (receive time).
pub const SKEW_MS: i64 = 15 * 60 * 1000;

/// Shortest run worth sending (shorter ones select little and cost CloudWatch work).
const MIN_RUN: usize = 3;
/// Longest run sent (CloudWatch limits a pattern's length; 40 characters select enough).
const MAX_RUN: usize = 40;

/// Letters that non-ASCII characters lower-case to (checked against Unicode's tables by
/// this module's tests).
const FOLDED_INTO: [char; 2] = ['i', 'k'];

fn usable(c: char) -> bool {
    (c.is_ascii_alphanumeric() && !FOLDED_INTO.contains(&c.to_ascii_lowercase()))
        || matches!(c, '@' | '_' | '-' | ':' | '#' | '=' | ';' | ',' | '.')
}

/// The longest run of usable characters in `needle` (already lower-case).
fn longest_run(needle: &str) -> &str {
    let mut best = "";
    for run in needle.split(|c: char| !usable(c)) {
        if run.len() > best.len() {
            best = run;
        }
    }
    let end = best.len().min(MAX_RUN);
    &best[..end]
}

/// `run` as a CloudWatch regex (every character of `run` is [`usable`], so ASCII).
fn regex_of(run: &str) -> String {
    let mut out = String::with_capacity(run.len() * 4 + 2);
    out.push('%');
    for c in run.chars() {
        if c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_lowercase());
            out.push(c.to_ascii_uppercase());
            out.push(']');
        } else if c == '.' {
            out.push_str("\\.");
        } else {
            out.push(c);
        }
    }
    out.push('%');
    out
}

/// How selective a term's run is expected to be: a meeting or a user narrows a day
/// to a few records, free text and event types less.
fn rank(t: &Term) -> Option<(u8, &str)> {
    match t {
        Term::Meeting(v) => Some((3, v)),
        Term::User(v) => Some((2, v)),
        Term::Text(v) => Some((1, v)),
        Term::Type(v) => Some((0, v)),
        _ => None,
    }
}

/// What of `filter` CloudWatch can apply.
pub fn compile(filter: &Filter) -> Pushdown {
    let pattern = filter
        .terms
        .iter()
        .filter_map(rank)
        .map(|(r, v)| (r, longest_run(v)))
        .filter(|(_, run)| run.len() >= MIN_RUN)
        .max_by_key(|(r, run)| (*r, run.len()))
        .map(|(_, run)| regex_of(run));
    let start_ms =
        filter.terms.iter().filter_map(|t| if let Term::Time(from, _) = t { Some(from.saturating_sub(SKEW_MS)) } else { None }).max();
    Pushdown { pattern, start_ms }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What CloudWatch does with the patterns this module writes (a sequence of
    /// `[xX]` classes, `\.` and literal characters, anywhere in the message).
    fn cloudwatch_matches(pattern: &str, message: &str) -> bool {
        let body = pattern.strip_prefix('%').and_then(|p| p.strip_suffix('%')).expect("a %regex%");
        let mut atoms: Vec<Vec<u8>> = Vec::new();
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'[' => {
                    let end = i + b[i..].iter().position(|&c| c == b']').expect("closed class");
                    atoms.push(b[i + 1..end].to_vec());
                    i = end + 1;
                }
                b'\\' => {
                    atoms.push(vec![b[i + 1]]);
                    i += 2;
                }
                c => {
                    atoms.push(vec![c]);
                    i += 1;
                }
            }
        }
        let m = message.as_bytes();
        (0..=m.len().saturating_sub(atoms.len()))
            .any(|s| atoms.iter().enumerate().all(|(j, set)| m.get(s + j).is_some_and(|c| set.contains(c))))
    }

    #[test]
    fn only_i_and_k_have_non_ascii_upper_cases() {
        let mut folded: Vec<char> =
            (0x80..=0x10_FFFFu32).filter_map(char::from_u32).flat_map(char::to_lowercase).filter(char::is_ascii).collect();
        folded.sort_unstable();
        folded.dedup();
        assert_eq!(folded, FOLDED_INTO, "the letters a two-case class cannot cover");
    }

    #[test]
    fn compiles_the_most_selective_term() {
        let p = |s: &str| compile(&Filter::parse(s, crate::clock::now_ms()).expect("filter"));
        assert_eq!(p("user:jdoe@freemail.example").pattern.as_deref(), Some("%[jJ][dD][oO][eE]@[fF][rR][eE][eE][mM][aA]%"));
        // The meeting beats the user; a longer run among equals.
        assert_eq!(p("user:jdoe meeting:84512345678").pattern.as_deref(), Some("%84512345678%"));
        assert_eq!(p("type:joined 198.51.100.7").pattern.as_deref(), Some("%198\\.51\\.100\\.7%"));
        // Nothing usable: severities, places, traits, or runs too short.
        for f in ["sev:>=medium", "country:gb asn:64512", "is:guest", "user:ki", ""] {
            assert_eq!(p(f).pattern, None, "{f}");
        }
        // The first of equally long runs.
        assert_eq!(p("\"team sync 42\"").pattern.as_deref(), Some("%[tT][eE][aA][mM]%"));
        let w = p("between:2026-12-01T09:00..2026-12-01T09:30");
        assert_eq!(w.start_ms, Some(1_796_115_600_000 - SKEW_MS));
        assert!(regex_of("a-b_c:d#e=f;g,h@1.2").chars().all(|c| c.is_ascii_alphanumeric() || "[]%@_-:#=;,.\\".contains(c)));
    }

    /// The compiled pattern matches every message whose record the filter matches: the
    /// scenario's records against filters made from their own fields, cut at every
    /// place, in other cases, with non-ASCII look-alikes.
    #[test]
    fn never_under_matches() {
        use zoomwatch_shared::{Envelope, Received, normalize};
        let records: Vec<zoomwatch_shared::RecordV1> = zoomwatch_shared::scenario::account_day(1_796_115_600_000)
            .into_iter()
            .filter_map(|s| Envelope::parse(&s.body).ok())
            .map(|e| normalize(e, &Received { received_at_ms: 1_796_115_600_000, request: None }))
            .collect();
        let lines: Vec<String> = records.iter().map(|r| serde_json::to_string(r).expect("json")).collect();
        let mut needles: Vec<String> = Vec::new();
        for r in &records {
            let p = r.participant.as_ref();
            let fields =
                [p.and_then(|p| p.name.clone()), p.and_then(|p| p.email.clone()), r.meeting.as_ref().and_then(|m| m.topic.clone())];
            for f in fields.into_iter().flatten() {
                let chars: Vec<char> = f.chars().collect();
                for start in 0..chars.len() {
                    for len in [3, 6, 12, 40] {
                        let piece: String = chars[start..(start + len).min(chars.len())].iter().collect();
                        needles.push(piece.to_uppercase());
                        needles.push(piece);
                    }
                }
            }
        }
        let mut checked = 0;
        for needle in needles.iter().filter(|n| !n.contains('"') && !n.trim().is_empty()) {
            for term in ["user:", "meeting:", ""] {
                let text = format!("{term}\"{}\"", needle.replace('\n', " "));
                let Ok(filter) = Filter::parse(&text, crate::clock::now_ms()) else { continue };
                let Some(pattern) = compile(&filter).pattern else { continue };
                for (r, line) in records.iter().zip(&lines) {
                    if filter.matches_record(r, r.worst_severity()) {
                        assert!(cloudwatch_matches(&pattern, line), "{text} → {pattern} misses {line}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1_000, "only {checked} matches checked");
        // A look-alike: "İ" lower-cases to "i̇", so `user:ali̇` matches "ALİ" here; the
        // pattern keeps to what two ASCII cases cover ("al").
        let f = Filter::parse("user:\"morgan ali̇\"", 0).expect("filter");
        assert_eq!(compile(&f).pattern.as_deref(), Some("%[mM][oO][rR][gG][aA][nN]%"));
    }
}
