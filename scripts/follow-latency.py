#!/usr/bin/env python3
"""Follow latency of a CloudWatch Logs reader: PutLogEvents → the record on the reader's
stdout.

Usage: follow-latency.py ENDPOINT GROUP RECORDS_JSONL COUNT -- READER_COMMAND...

Starts READER_COMMAND (e.g. `zoomwatch tail --log-group G --follow --json` or
`awslogs get G ALL --watch`), waits until it runs, then writes COUNT records to GROUP
(one PutLogEvents each, 500 ms apart; the records are lines of RECORDS_JSONL given
fresh ids) and times each until its id appears in the reader's output. Prints one JSON
object: count, seen, p50/p90/max in ms. Needs boto3 (installed with moto).
"""
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid

import boto3


def main():
    if "--" not in sys.argv or len(sys.argv) < 7:
        sys.exit(__doc__)
    sep = sys.argv.index("--")
    endpoint, group, records_path, count = sys.argv[1:sep]
    count = int(count)
    reader = sys.argv[sep + 1:]

    logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    stream = f"follow-{uuid.uuid4().hex[:8]}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)

    with open(records_path) as f:
        templates = [json.loads(line) for _, line in zip(range(count), f)]
    if len(templates) < count:
        sys.exit(f"{records_path} holds fewer than {count} records")

    seen = {}
    proc = subprocess.Popen(reader, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def read():
        for line in proc.stdout:
            now = time.monotonic()
            for marker in pending:
                if marker in line and marker not in seen:
                    seen[marker] = now

    pending = []
    threading.Thread(target=read, daemon=True).start()
    time.sleep(3)  # the reader connects and reads the (empty) history
    sent = {}
    for i, rec in enumerate(templates):
        marker = f"{uuid.uuid4().hex}"
        rec["id"] = marker
        pending.append(marker)
        t = time.monotonic()
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(rec)}])
        sent[marker] = t
        time.sleep(0.5)
    deadline = time.monotonic() + 15
    while len(seen) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
    delays = sorted((seen[m] - sent[m]) * 1000 for m in seen)
    out = {"count": count, "seen": len(delays)}
    if delays:
        out.update(p50_ms=round(statistics.median(delays)), p90_ms=round(delays[int(0.9 * (len(delays) - 1))]),
                   max_ms=round(delays[-1]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
