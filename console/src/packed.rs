//! Stored lines as the console holds them: LZ4-compressed against a small dictionary of
//! typical records (built once from the demo's own day, so it follows the schema), which
//! halves what 100,000 held records cost. Packed in the source's task with the rest of
//! [`crate::prepare::Preparer`]'s work; unpacked only for what is drawn, inspected or
//! exported.

use std::sync::OnceLock;

use zoomwatch_shared::{Envelope, Received, normalize, scenario};

/// Most bytes of dictionary. LZ4 indexes the whole dictionary on every line it packs
/// (a hash every third byte), so it stays small: enough for the keys and the shapes of
/// the common records, which is where lines repeat one another.
const DICT_MAX: usize = 3 * 1024;

/// Events whose stored line goes into the dictionary, the most common last.
const DICT_EVENTS: &[&str] = &["user.signed_in", "meeting.started", "meeting.participant_left", "meeting.participant_joined"];

fn dict() -> &'static [u8] {
    static DICT: OnceLock<Vec<u8>> = OnceLock::new();
    DICT.get_or_init(|| {
        const T0: i64 = 1_795_856_400_000;
        let steps = scenario::account_day(T0);
        let mut out = Vec::new();
        for event in DICT_EVENTS {
            let line = steps.iter().find_map(|s| {
                let env = Envelope::parse(&s.body).ok()?;
                let r = normalize(env, &Received { received_at_ms: T0 + s.offset_ms, request: None });
                (r.event == *event).then(|| serde_json::to_vec(&r).ok()).flatten()
            });
            out.extend(line.unwrap_or_default());
        }
        let cut = out.len().saturating_sub(DICT_MAX);
        out.drain(..cut);
        out
    })
}

/// One stored line, compressed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedLine(Box<[u8]>);

impl PackedLine {
    /// Packs `line`.
    pub fn pack(line: &str) -> Self {
        Self(lz4_flex::block::compress_prepend_size_with_dict(line.as_bytes(), dict()).into_boxed_slice())
    }

    /// The line again. (Empty only if the bytes were not packed here, which a row's
    /// always were.)
    pub fn unpack(&self) -> String {
        lz4_flex::block::decompress_size_prepended_with_dict(&self.0, dict())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    }

    /// Bytes held.
    pub fn packed_len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_as_they_went_in_and_smaller() {
        assert!(dict().len() > 1000 && dict().len() <= DICT_MAX, "{}", dict().len());
        let steps = scenario::account_day(0);
        let (mut raw, mut packed) = (0, 0);
        for s in &steps {
            let env = Envelope::parse(&s.body).unwrap();
            let line = serde_json::to_string(&normalize(env, &Received { received_at_ms: 0, request: None })).unwrap();
            let p = PackedLine::pack(&line);
            assert_eq!(p.unpack(), line);
            raw += line.len();
            packed += p.packed_len();
        }
        assert!(packed * 2 < raw, "{packed} of {raw} bytes");
        for odd in ["", "x", "ü — \u{1b}[31m", &"a".repeat(70_000)] {
            assert_eq!(PackedLine::pack(odd).unpack(), odd);
        }
        assert_eq!(PackedLine(vec![9, 0, 0, 0, 0xff].into()).unpack(), "", "garbage unpacks to nothing, no panic");
    }
}
