#!/usr/bin/env python3
"""Uploads a JSONL file of records into a CloudWatch Logs group (for scripts/bench):
one stream, batches within the service limits (≤10,000 events, ≤1,048,576 bytes
counting 26 per event), each event stamped with its record's `received_at`, as the
receiver's CloudWatch sink stamps it (a record without one: now), each batch in time
order as PutLogEvents requires.

Usage: cw-upload.py ENDPOINT_URL GROUP FILE
"""
import json
import sys
import time
from datetime import datetime

import boto3

endpoint, group, path = sys.argv[1:4]
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName="bench")
now = int(time.time() * 1000)


def stamp(line):
    try:
        received = json.loads(line)["received_at"]
        return int(datetime.fromisoformat(received.replace("Z", "+00:00")).timestamp() * 1000)
    except (ValueError, KeyError, TypeError):
        return now


def put(batch):
    batch.sort(key=lambda e: e["timestamp"])
    logs.put_log_events(logGroupName=group, logStreamName="bench", logEvents=batch)


batch, size, total = [], 0, 0
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line:
            continue
        cost = len(line.encode()) + 26
        if batch and (len(batch) == 10_000 or size + cost > 1_048_576):
            put(batch)
            batch, size = [], 0
        batch.append({"timestamp": stamp(line), "message": line})
        size += cost
        total += 1
if batch:
    put(batch)
print(total)
