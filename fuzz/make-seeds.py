#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from the
repository's fixtures: Zoom webhook bodies (testdata/zoom), stored records, filter
expressions from the README, zoomwatch.example.toml. Run from the repository root; the
output is committed. Inputs a fuzzer found are added beside the seeds by scripts/fuzz."""
import base64, hashlib, hmac, json, pathlib, struct

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fuzz" / "corpus"
SECRET = b"fuzz-secret-token"  # as fuzz/harness/src/lib.rs
NOW = 1_800_000_000

def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())

bodies = sorted(p for p in (root / "testdata" / "zoom").glob("*.json") if "vectors" not in p.name)
for p in bodies:
    body = p.read_bytes()
    # webhook: mode byte (0 = signed correctly), 8 bytes of timestamp offset, the body
    put("webhook", p.stem, bytes([0]) + struct.pack("<q", 0) + body)
    ts = str(NOW)
    sig = "v0=" + hmac.new(SECRET, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-zm-request-timestamp": ts, "x-zm-signature": sig, "user-agent": "Zoom Marketplace/1.0a"}
    ctx = {"accountId": "123456789012", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
           "http": {"method": "POST", "path": "/zoom/webhook", "protocol": "HTTP/1.1", "sourceIp": "3.235.82.1", "userAgent": "Zoom"},
           "requestId": "req-1", "routeKey": "POST /zoom/webhook", "stage": "$default", "time": "02/Dec/2026:00:00:00 +0000", "timeEpoch": NOW * 1000}
    event = {"version": "2.0", "routeKey": "POST /zoom/webhook", "rawPath": "/zoom/webhook", "rawQueryString": "",
             "headers": headers, "requestContext": ctx, "body": body.decode("utf-8", "replace"), "isBase64Encoded": False}
    if len(bodies) and p == bodies[0] or p.stem.endswith("signed"):
        b64 = dict(event, body=base64.b64encode(body).decode(), isBase64Encoded=True)
        put("lambda_event", p.stem + ".b64", json.dumps(b64))
    put("lambda_event", p.stem, json.dumps(event))
put("webhook", "wrong-signature", bytes([1]) + struct.pack("<q", 7) + bodies[0].read_bytes())
put("webhook", "stale", bytes([0x80]) + struct.pack("<q", -10_000) + bodies[0].read_bytes())
rest = {"resource": "/zoom/webhook", "path": "/zoom/webhook", "httpMethod": "POST", "headers": {"x-zm-signature": "v0=00"},
        "multiValueHeaders": {}, "queryStringParameters": None, "requestContext": {"accountId": "1", "resourceId": "r", "stage": "prod",
        "requestId": "q", "identity": {"sourceIp": "3.235.82.1"}, "resourcePath": "/zoom/webhook", "httpMethod": "POST", "apiId": "a"},
        "body": "{}", "isBase64Encoded": False}
put("lambda_event", "rest-v1", json.dumps(rest))

# stored lines: records as the receiver writes them, and what else a log group holds
records = (root / "testdata" / "stored" / "records.jsonl")
for i, line in enumerate(records.read_text().splitlines()):
    put("stored_line", f"record-{i:02}", line)
put("stored_line", "lambda-platform-line", "START RequestId: 8f50 Version: $LATEST")
put("stored_line", "torn", '{"schema":"zoomwatch.v1","id":"tor')
put("stored_line", "other-schema", '{"schema":"zoomwatch.v2","id":"x","event":"e","category":"other","action":"a","occurred_at":"2026-01-01T00:00:00.000Z","received_at":"2026-01-01T00:00:00.000Z","raw":{}}')

for i, f in enumerate(["type:joined country:CN", "meeting:all-hands user:jdoe sev:>=medium", "asn:29518", '"board review" sev:high',
                       "meeting:\"Q3 Board\" type:participant", "user:@freemail.example", "sev:=low text", ""]):
    put("filter", f"expr-{i}", f)

put("config", "example", (root / "zoomwatch.example.toml").read_bytes())
put("config", "unknown-key", "[organization]\ninternal_domains = [\"acme.example\"]\nnope = 1\n")
put("config", "bad-regex", "[patterns]\nsuspicious_names = [\"(unclosed\"]\n")
put("config", "rules", "[rules.join-burst]\nthreshold = 3\nwindow_secs = 30\nseverity = \"medium\"\n[rules.guest-join]\nenabled = false\n")
