"""Parses a Sigma YAML collection with pySigma (the Sigma project's reference library),
runs its validators, and prints one JSON line per rule: title, level, field names and
whether its condition parses. Exit 1 with the errors when anything does not hold.

Used by tests/tests/custom_rules.rs on the output of `zoomwatch rules --sigma`.
"""

import json
import sys

from sigma.collection import SigmaCollection
from sigma.validators.core import validators
from sigma.validation import SigmaValidator


def main(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    collection = SigmaCollection.from_yaml(text, collect_errors=True)
    problems = [str(e) for e in collection.errors]
    for rule in collection.rules:
        problems += [f"{rule.title}: {e}" for e in rule.errors]
    # Every validator pySigma ships, except those about files (generated rules have none)
    # and tags (zoomwatch sets none; their checks download MITRE data, and this runs offline).
    chosen = {
        name: v for name, v in validators.items()
        # escaped_wildcard: a `*` in a zoomwatch filter is literal, so it is escaped on purpose.
        if v.__module__ != "sigma.validators.core.tags"
        and name not in ("duplicate_filename", "filename_length", "escaped_wildcard")
    }
    issues = SigmaValidator(chosen.values()).validate_rules(collection)
    problems += [f"{[r.title for r in i.rules]}: {i}" for i in issues]
    for rule in collection.rules:
        for cond in rule.detection.parsed_condition:
            cond.parse()
        fields = sorted({
            str(d.field) for sel in rule.detection.detections.values() for d in iter_items(sel) if d.field is not None
        })
        print(json.dumps({"title": rule.title, "id": str(rule.id), "level": str(rule.level), "fields": fields,
                          "condition": rule.detection.condition}))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)


def iter_items(detection):
    for item in detection.detection_items:
        if hasattr(item, "detection_items"):
            yield from iter_items(item)
        else:
            yield item


if __name__ == "__main__":
    main(sys.argv[1])
