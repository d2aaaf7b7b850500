//! `*.updated` events carry only the changed fields in `payload.object` and their previous
//! values in `payload.old_object`. [`changes`] turns that pair into a flat list of
//! `{path, old, new}` with dotted paths (`settings.waiting_room`), which is what analysts
//! and detection rules need.

use serde_json::{Map, Value};

use crate::record::Change;

/// The most changes listed for one event; a larger diff is cut and ends with a
/// `{"path": "…", "old": null, "new": <count not listed>}` marker.
pub const MAX_CHANGES: usize = 256;
/// Deepest nesting followed; anything deeper is compared as a whole value.
const MAX_DEPTH: usize = 16;

/// Lists leaf-level differences from `old` to `new`. Keys present on one side only count
/// as changes (with `null` on the other side). Identifier keys at the top (`id`, `uuid`)
/// are not changes. Arrays are compared as whole values.
pub fn changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut omitted = 0usize;
    walk("", old, new, 0, &mut out, &mut omitted);
    if omitted > 0 {
        out.push(Change { path: "…".to_owned(), old: Value::Null, new: Value::from(omitted) });
    }
    out
}

fn walk(prefix: &str, old: &Map<String, Value>, new: &Map<String, Value>, depth: usize, out: &mut Vec<Change>, omitted: &mut usize) {
    let empty = Map::new();
    let mut keys: Vec<&String> = new.keys().chain(old.keys().filter(|k| !new.contains_key(*k))).collect();
    keys.sort();
    for key in keys {
        if depth == 0 && (key == "id" || key == "uuid") {
            continue;
        }
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let o = old.get(key).unwrap_or(&Value::Null);
        let n = new.get(key).unwrap_or(&Value::Null);
        if o == n {
            continue;
        }
        match (o, n) {
            (Value::Object(om), Value::Object(nm)) if depth < MAX_DEPTH => walk(&path, om, nm, depth + 1, out, omitted),
            (Value::Null, Value::Object(nm)) if depth < MAX_DEPTH => walk(&path, &empty, nm, depth + 1, out, omitted),
            (Value::Object(om), Value::Null) if depth < MAX_DEPTH => walk(&path, om, &empty, depth + 1, out, omitted),
            _ => {
                if out.len() < MAX_CHANGES {
                    out.push(Change { path, old: o.clone(), new: n.clone() });
                } else {
                    *omitted += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn nested_settings_become_dotted_paths() {
        let old = obj(json!({"id": 1, "settings": {"in_meeting": {"e2e_encryption": false}, "same": 1}, "type": 8}));
        let new = obj(json!({"id": 1, "settings": {"in_meeting": {"e2e_encryption": true}, "same": 1}, "type": 2}));
        let c = changes(&old, &new);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].path, "settings.in_meeting.e2e_encryption");
        assert_eq!((c[0].old.clone(), c[0].new.clone()), (json!(false), json!(true)));
        assert_eq!(c[1].path, "type");
    }

    #[test]
    fn one_sided_keys_and_ids() {
        let old = obj(json!({"id": "a", "occurrences": [1, 2], "password": "x"}));
        let new = obj(json!({"id": "b", "settings": {"waiting_room": false}}));
        let c = changes(&old, &new);
        let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["occurrences", "password", "settings.waiting_room"]);
        assert_eq!(c[2].old, Value::Null);
    }

    #[test]
    fn huge_diffs_are_capped() {
        let new: Map<String, Value> = (0..1000).map(|i| (format!("k{i:04}"), json!(i))).collect();
        let c = changes(&Map::new(), &new);
        assert_eq!(c.len(), MAX_CHANGES + 1);
        assert_eq!(c.last().unwrap().new, json!(1000 - MAX_CHANGES));
    }
}
