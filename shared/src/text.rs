//! Text from Zoom is untrusted: a display name can hold terminal escape sequences,
//! bidi overrides that reorder what the analyst reads, zero-width characters, or 10 KB
//! of padding. [`sanitize`] makes any string safe to put on a terminal; [`strip_html`]
//! turns Zoom's `leave_reason` HTML into plain text.

use std::borrow::Cow;

/// A run of digits with thousands separators: `"1234567"` → `"1,234,567"`.
pub fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// True for characters that change how surrounding text is displayed without being
/// visible themselves: bidi controls, zero-width characters, BOM.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers (blank "letters")
        | '\u{034F}' | '\u{17B4}' | '\u{17B5}' // combining grapheme joiner, Khmer invisible vowels
        | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' // variation selectors
        | '\u{E0000}'..='\u{E007F}' // tag characters (invisible ASCII)
        | '\u{061C}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}')
}

/// True when `s` contains control characters, escape sequences or invisible formatting
/// characters (what [`sanitize`] would remove).
/// The emoji presentation selectors after a symbol (`❤️` is `❤` + U+FE0F) are ordinary.
pub fn has_hidden_chars(s: &str) -> bool {
    if s.is_ascii() {
        // Every invisible formatting character is outside ASCII: only controls to find.
        return s.bytes().any(|b| b.is_ascii_control());
    }
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let emoji_style = matches!(c, '\u{FE0E}' | '\u{FE0F}') && prev.is_some_and(|p| !p.is_ascii() && !p.is_alphanumeric());
        if c.is_control() || (is_invisible_format(c) && !emoji_style) {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// Returns `s` with escape sequences (CSI, OSC, DCS…), other control characters, bidi
/// controls and zero-width characters removed, line breaks and tabs turned into spaces,
/// and at most `max_chars` characters (an ellipsis marks a cut).
pub fn sanitize(s: &str, max_chars: usize) -> Cow<'_, str> {
    let clean_already = !has_hidden_chars(s) && (s.len() <= max_chars || s.chars().count() <= max_chars);
    if clean_already {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut count = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            skip_escape(&mut chars);
            continue;
        }
        if c == '\u{9b}' {
            // 8-bit CSI: skip parameters up to the final byte.
            skip_csi(&mut chars);
            continue;
        }
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() || is_invisible_format(c) => continue,
            c => c,
        };
        if count == max_chars {
            out.pop();
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    Cow::Owned(out)
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \).
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        // Two-character sequences (ESC c, ESC 7…): drop the next char too.
        Some(c) if ('\u{20}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break; // not a CSI parameter/intermediate byte: malformed, stop here
        }
    }
}

/// Turns Zoom's HTML-ish text (`left the meeting.<br>Reason: …`) into one plain line:
/// tags become spaces, the common entities are decoded, white space is collapsed.
pub fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_letters_are_hidden_characters_but_emoji_styles_are_not() {
        for hidden in ["Mor\u{E0067}gan", "\u{3164}\u{3164}", "Dana\u{FE00}", "a\u{2028}b", "\u{115F}Visitor", "x\u{034F}y"] {
            assert!(has_hidden_chars(hidden), "{hidden:?}");
            assert!(!has_hidden_chars(&sanitize(hidden, 100)), "{hidden:?}");
        }
        assert!(!has_hidden_chars("Anna \u{2764}\u{FE0F}"), "a heart in emoji style is a heart");
        assert!(has_hidden_chars("Anna\u{FE0F}"), "after a letter it hides nothing but itself");
    }

    #[test]
    fn an_ascii_text_hides_exactly_its_control_characters() {
        for b in 0u8..128 {
            let text = format!("Dana{}W", char::from(b));
            assert_eq!(has_hidden_chars(&text), char::from(b).is_control(), "{b:#04x}");
        }
        assert!(!has_hidden_chars("Morgan Reyes (Host) #1 ~ [it]"));
    }

    #[test]
    fn removes_escape_sequences_and_controls() {
        assert_eq!(sanitize("a\u{1b}[2J\u{1b}[31mred\u{1b}[0m", 100), "ared");
        assert_eq!(sanitize("x\u{1b}]0;pwned title\u{7}y", 100), "xy");
        assert_eq!(sanitize("x\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\", 100), "xlink");
        assert_eq!(sanitize("bell\u{7}\u{0}nul\u{9b}31mz", 100), "bellnulz");
        assert_eq!(sanitize("two\nlines\ttab", 100), "two lines tab");
        assert_eq!(sanitize("\u{1b}c", 100), "");
        assert_eq!(sanitize("trailing\u{1b}", 100), "trailing");
    }

    #[test]
    fn removes_bidi_and_zero_width() {
        assert_eq!(sanitize("admin\u{202E}gpj.exe", 100), "admingpj.exe");
        assert_eq!(sanitize("Mor\u{200B}gan", 100), "Morgan");
        assert!(has_hidden_chars("Mor\u{200B}gan"));
        assert!(!has_hidden_chars("Łukasz 김민준"));
    }

    #[test]
    fn truncates_long_names() {
        let long = "A".repeat(10_000);
        let s = sanitize(&long, 64);
        assert_eq!(s.chars().count(), 64);
        assert!(s.ends_with('…'));
        assert!(matches!(sanitize("short", 64), Cow::Borrowed(_)));
    }

    #[test]
    fn html_leave_reasons() {
        assert_eq!(
            strip_html("Jill Chill left the meeting.<br>Reason: Host ended the meeting."),
            "Jill Chill left the meeting. Reason: Host ended the meeting."
        );
        assert_eq!(strip_html("a &amp; b &lt;c&gt;"), "a & b <c>");
    }
}
