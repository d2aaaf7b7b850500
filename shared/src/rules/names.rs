//! Display names folded for comparison, for the impersonation rules and watchlists:
//! look-alikes an attacker would type (confusable letters, digit swaps, hidden
//! characters, diacritics, reordered words) fold to the same key, other people's names
//! do not; and the shortened forms ("Dana W.") a protected name may appear as.

/// A display name reduced for comparison, so look-alikes compare equal: hidden and
/// zero-width characters removed, lower-cased, the digit swaps of evasion (`0`→o, `1`→l,
/// `3`→e, `5`→s), Unicode confusables folded to their UTS #39 skeleton (Cyrillic `а`,
/// Greek `ο`, full-width letters, `rn`/`m` …), diacritics dropped, then letters and digits
/// only, its words in sorted order ("Whitfield, Dana" is "Dana Whitfield").
/// `"Morgan  R\u{200B}eyes"`, `"morgan.reyes"` and `"Reyes, Mоrgan"` (Cyrillic о) compare equal.
pub fn normalize_name(name: &str) -> String {
    let folded = fold_name(name);
    let all: Vec<&str> = name_words(&folded).collect();
    let mut words = undecorated(&all);
    words.sort_unstable();
    words.concat()
}

/// Words that dress a name up without naming anyone: roles in the meeting ("(Host)",
/// "[co-host]"), titles ("Dr."), departments ("IT Support"). Folded like names.
const DECORATIONS: &[&str] = &[
    "host",
    "cohost",
    "organizer",
    "organiser",
    "moderator",
    "presenter",
    "panelist",
    "panellist",
    "admin",
    "administrator",
    "support",
    "helpdesk",
    "servicedesk",
    "official",
    "verified",
    "staff",
    "team",
    "dr",
    "mr",
    "mrs",
    "ms",
    "mx",
    "prof",
    "sir",
    "ceo",
    "cfo",
    "cto",
    "coo",
    "cio",
    "ciso",
    "hr",
];

/// Two-word decorations, the first word alone being a possible name part ("Co", "It").
const DECORATION_PAIRS: &[(&str, &str)] = &[
    ("co", "host"),
    ("alt", "host"),
    ("alternative", "host"),
    ("it", "support"),
    ("it", "helpdesk"),
    ("it", "team"),
    ("it", "admin"),
    ("it", "department"),
    ("it", "dept"),
    ("help", "desk"),
    ("service", "desk"),
    ("tech", "support"),
    ("zoom", "support"),
    ("zoom", "admin"),
];

fn folded_words(list: impl Iterator<Item = &'static str>) -> Vec<String> {
    list.map(|w| name_words(&fold_name(w)).collect::<String>()).collect()
}

/// Whether `name` carries role or title words ("(Host)", "IT Support -") that
/// [`normalize_name`] drops.
pub fn is_costume(name: &str) -> bool {
    let folded = fold_name(name);
    let all: Vec<&str> = name_words(&folded).collect();
    undecorated(&all).len() < all.len()
}

/// The words of a folded name without its decorations; all of them when nothing else
/// is left (someone called "Support" is still someone).
fn undecorated<'a>(words: &[&'a str]) -> Vec<&'a str> {
    /// The folded decorations: single words, pairs, and every word of either (most
    /// names have none of them, which one lookup per word shows).
    struct Decorations {
        single: Vec<String>,
        pairs: Vec<(String, String)>,
        any: std::collections::HashSet<String, foldhash::fast::FixedState>,
    }
    static D: std::sync::OnceLock<Decorations> = std::sync::OnceLock::new();
    let d = D.get_or_init(|| {
        let single = folded_words(DECORATIONS.iter().copied());
        let a = folded_words(DECORATION_PAIRS.iter().map(|p| p.0));
        let b = folded_words(DECORATION_PAIRS.iter().map(|p| p.1));
        let pairs: Vec<(String, String)> = a.into_iter().zip(b).collect();
        let any = single.iter().chain(pairs.iter().flat_map(|(a, b)| [a, b])).cloned().collect();
        Decorations { single, pairs, any }
    });
    if words.len() < 2 || !words.iter().any(|w| d.any.contains(*w)) {
        return words.to_vec();
    }
    let mut keep = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(next) = words.get(i + 1)
            && d.pairs.iter().any(|(a, b)| a == w && b == next)
        {
            i += 2;
            continue;
        }
        if !d.single.iter().any(|s| s == w) {
            keep.push(w);
        }
        i += 1;
    }
    if keep.is_empty() { words.to_vec() } else { keep }
}

/// The keys under which a shortened form of `name` — some of its words cut to their
/// initial, at least one kept whole ("Dana W.", "D. Whitfield") — normalizes, paired with
/// how many words that form has. Names of one word or more than four have none.
pub fn initial_forms(name: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    each_initial_form(name, |form, n| out.push((form.to_owned(), n)));
    out.sort();
    out.dedup();
    out
}

/// Calls `f` with each shortened form of `name` and its word count, as
/// [`initial_forms`] lists them but unsorted and possibly more than once, without
/// allocating each (learning a name indexes all of its forms).
pub fn each_initial_form(name: &str, mut f: impl FnMut(&str, usize)) {
    // Words of the name as written, each folded on its own, and its initial folded the
    // same way ("M" folds like the start of "Morgan" would not: its skeleton is "rn").
    let words: Vec<(String, String)> = written_words(name)
        .map(|w| {
            let initial = w.get(..w.chars().next().map_or(0, char::len_utf8)).unwrap_or("");
            (normalize_word(w), normalize_word(initial))
        })
        .filter(|(w, _)| !w.is_empty())
        .collect();
    let n = words.len();
    if !(2..=4).contains(&n) {
        return;
    }
    let mut form: Vec<&str> = Vec::with_capacity(n);
    let mut text = String::new();
    // Every proper, non-empty subset of the words to cut down.
    for mask in 1u32..(1 << n) - 1 {
        form.clear();
        let mut kept_whole = false;
        let mut cut_ok = true;
        for (i, (whole, initial)) in words.iter().enumerate() {
            if mask & (1 << i) == 0 {
                kept_whole |= whole.chars().count() >= 3;
                form.push(whole);
            } else {
                cut_ok &= whole != initial;
                form.push(initial);
            }
        }
        if kept_whole && cut_ok {
            form.sort_unstable();
            text.clear();
            form.iter().for_each(|w| text.push_str(w));
            f(&text, n);
        }
    }
}

/// [`normalize_name`] of one word as written. An ASCII word whose letters and digits fold
/// to letters and digits is one word still, so nothing is dropped or reordered: its
/// folded characters ([`fold_ascii`]) are the result, without the general path's
/// allocations (learning a name folds each of its words and initials).
fn normalize_word(word: &str) -> String {
    if word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let out = fold_ascii(word);
        if out.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return out;
        }
    }
    normalize_name(word)
}

/// How many words `name` has as written (letters and digits; the rest separates).
pub fn name_word_count(name: &str) -> usize {
    written_words(name).count()
}

fn written_words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_alphanumeric() && !crate::text::is_invisible_format(c)).filter(|w| !w.is_empty())
}

fn name_words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// [`normalize_name`] before splitting into words.
fn fold_name(name: &str) -> String {
    if name.is_ascii() { fold_ascii(name) } else { fold_any(name) }
}

/// [`fold_name`] of an ASCII name, byte by byte: no ASCII character is invisible, ASCII
/// skeletons are ASCII (no marks to drop), and most are one letter, read without the
/// table's strings. What [`fold_any`] makes of it (tested).
fn fold_ascii(name: &str) -> String {
    let (single, table) = (ascii_single_skeletons(), ascii_skeletons());
    let mut folded = String::with_capacity(name.len());
    for b in name.bytes() {
        let b = match b {
            b'0' => b'o',
            b'1' => b'l',
            b'3' => b'e',
            b'5' => b's',
            b => b.to_ascii_lowercase(),
        };
        match single.get(usize::from(b)).copied().unwrap_or(0) {
            0 => folded.push_str(table.get(usize::from(b)).map_or("", String::as_str)),
            one => folded.push(char::from(one)),
        }
    }
    folded
}

/// [`fold_name`] of any name.
fn fold_any(name: &str) -> String {
    let swapped = |c: char| match c {
        '0' => 'o',
        '1' => 'l',
        '3' => 'e',
        '5' => 's',
        c => c,
    };
    let visible = name.chars().filter(|c| !crate::text::is_invisible_format(*c)).map(swapped);
    // The skeleton of an ASCII character depends on it alone: from a table.
    let table = ascii_skeletons();
    let mut folded = String::with_capacity(name.len());
    // Other characters fold before lower-casing too: a Cyrillic capital Т is
    // confusable with T, its small form т is not confusable with t.
    let (mut buf, mut inner) = ([0u8; 4], [0u8; 4]);
    for c in visible {
        if c.is_ascii() {
            folded.push_str(&table[usize::from(c.to_ascii_lowercase() as u8)]);
            continue;
        }
        for d in unicode_security::skeleton(c.encode_utf8(&mut buf)).flat_map(char::to_lowercase) {
            if d.is_ascii() {
                folded.push_str(&table[usize::from(d as u8)]);
            } else {
                folded.extend(unicode_security::skeleton(d.encode_utf8(&mut inner)).flat_map(char::to_lowercase));
            }
        }
    }
    // Diacritics (combining marks, after the decomposition) go; anything else that is not
    // a letter or digit separates words.
    let is_mark = |c: char| matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}');
    folded.retain(|c| !is_mark(c));
    folded
}

/// For each ASCII character whose lower-cased skeleton is one ASCII character, that
/// character; 0 for the others (none, several, or not ASCII).
fn ascii_single_skeletons() -> &'static [u8; 128] {
    static T: std::sync::OnceLock<[u8; 128]> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let table = ascii_skeletons();
        std::array::from_fn(|i| match table[i].as_bytes() {
            [one] if one.is_ascii() && *one != 0 => *one,
            _ => 0,
        })
    })
}

/// The lower-cased skeleton of each ASCII character.
fn ascii_skeletons() -> &'static [String; 128] {
    static T: std::sync::OnceLock<[String; 128]> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = char::from(u8::try_from(i).unwrap_or(0));
            unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).flat_map(char::to_lowercase).collect()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ascii_name_folds_byte_by_byte_as_the_general_path_folds_it() {
        // Every ASCII character alone, beside a letter, and in names as typed.
        let mut names: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        names.extend((0u8..128).map(|b| format!("a{}Z", char::from(b))));
        names.extend(
            ["Morgan Reyes", "rnorgan REYES", "M0rgan_R3yes (Host)", "IT Support - Dana", "Wl11iam 5mith", "", "  ", "x\ty\u{7f}"]
                .map(String::from),
        );
        for n in &names {
            assert!(n.is_ascii());
            assert_eq!(fold_ascii(n), fold_any(n), "{n:?}");
        }
        assert_eq!(fold_name("Mоrgan"), fold_any("Mоrgan"), "a name with a Cyrillic о takes the general path");
    }

    #[test]
    fn a_word_folds_alone_as_the_whole_name_would() {
        // Every ASCII letter and digit, alone and in words, and words that are
        // decorations or fold to several letters: the quick path agrees with the general one.
        let mut words: Vec<String> = (0u8..128).filter(u8::is_ascii_alphanumeric).map(|b| char::from(b).to_string()).collect();
        words.extend(["Morgan", "MORGAN", "rnorgan", "m0rgan", "Host", "IT", "Dr", "Wl11iam", "O", "x5", "Zz9"].map(String::from));
        words.extend(["Mörgan", "Мorgan", "Ｍorgan", "Dana\u{200B}W"].map(String::from));
        for w in &words {
            assert_eq!(normalize_word(w), normalize_name(w), "{w:?}");
        }
    }

    #[test]
    fn a_costume_does_not_change_who_a_name_names() {
        let morgan = normalize_name("Morgan Reyes");
        for costume in [
            "Morgan Reyes (Host)",
            "Host - Morgan Reyes",
            "[co-host] Morgan Reyes",
            "Dr. Morgan Reyes",
            "IT Support - Morgan Reyes",
            "🎥 Morgan Reyes ✅",
            "Morgan Reyes - Zoom Admin",
            "Morgan R\u{200B}eyes (Co-Host)",
        ] {
            assert_eq!(normalize_name(costume), morgan, "{costume}");
        }
        // A colleague who shares a first name, and a bare decoration, stay themselves.
        assert_ne!(normalize_name("Morgan (Host)"), morgan);
        assert_eq!(normalize_name("IT Support"), normalize_name("it support"));
        assert!(!normalize_name("IT Support").is_empty());
        assert_eq!(normalize_name("Coco Host"), normalize_name("coco"), "a decoration word goes, a name stays");
    }

    #[test]
    fn names_normalize() {
        assert_eq!(normalize_name("Morgan  R\u{200B}eyes"), normalize_name("morgan.reyes"));
        // Look-alikes an attacker would try, folded to the same key …
        let host = normalize_name("Dana Whitfield");
        for evasion in [
            "Dаna Whitfield",              // Cyrillic а
            "DANA  WHITFIELD",             // case, doubled space
            "Whitfield, Dana",             // Last, First
            "D\u{200B}ana Whitfie1d",      // zero-width space, 1 for l
            "Dána Whitfiéld",              // diacritics
            "Ｄａｎａ Ｗｈｉｔｆｉｅｌｄ", // full-width
            "Dana Whitfiel\u{0501}",       // Cyrillic komi de for d
            "Dana_Whitfield.",             // punctuation
        ] {
            assert_eq!(normalize_name(evasion), host, "{evasion:?}");
        }
        // … and other people's names do not.
        for other in ["Dan Whitfield", "Dana Whitford", "Diana Whitfield", "Dana"] {
            assert_ne!(normalize_name(other), host, "{other:?}");
        }
        assert_eq!(normalize_name("M0rgan Reye5"), normalize_name("Morgan Reyes"));
        assert_eq!(normalize_name("Morgan Reyes"), normalize_name("Rnorgan Reyes"), "rn looks like m (UTS #39)");
    }
}
