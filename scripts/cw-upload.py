#!/usr/bin/env python3
"""Uploads a JSONL file of records into a CloudWatch Logs group (for scripts/bench):
one stream, batches within the service limits (≤10,000 events, ≤1,048,576 bytes
counting 26 per event), timestamps = now (so every event is inside any --since window).

Usage: cw-upload.py ENDPOINT_URL GROUP FILE
"""
import sys
import time

import boto3

endpoint, group, path = sys.argv[1:4]
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName="bench")
now = int(time.time() * 1000)
batch, size, total = [], 0, 0
with open(path, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line:
            continue
        cost = len(line.encode()) + 26
        if batch and (len(batch) == 10_000 or size + cost > 1_048_576):
            logs.put_log_events(logGroupName=group, logStreamName="bench", logEvents=batch)
            batch, size = [], 0
        batch.append({"timestamp": now, "message": line})
        size += cost
        total += 1
if batch:
    logs.put_log_events(logGroupName=group, logStreamName="bench", logEvents=batch)
print(total)
