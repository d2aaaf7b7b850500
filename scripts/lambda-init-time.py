#!/usr/bin/env python3
"""Measures a Lambda bootstrap's init time: process start → its first poll of the
Runtime API (`GET /2018-06-01/runtime/invocation/next`), i.e. ready to serve.

Usage: lambda-init-time.py BOOTSTRAP [RUNS]
Runs the bootstrap RUNS times (default 20) against a minimal fake Runtime API on
loopback, with the CloudWatch sink configured (SDK client built at init, as deployed),
and prints min / median / p90 in milliseconds as one JSON object. Nothing is sent to AWS: init makes no
network call.
"""
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time


def measure(bootstrap):
    ready = threading.Event()

    class Api(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.endswith("/runtime/invocation/next"):
                ready.set()
                time.sleep(0.2)  # hold the poll; the process is killed next
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "zoomwatch-ingest",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "ZOOM_WEBHOOK_SECRET_TOKEN": "init-time-secret",
        "ZOOMWATCH_SINK": "cloudwatch",
        "ZOOMWATCH_LOG_GROUP": "/zoomwatch/events",
        "ZOOMWATCH_LOG": "warn",
    })
    start = time.perf_counter()
    proc = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = ready.wait(10)
    elapsed = (time.perf_counter() - start) * 1000
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok:
        sys.exit(f"{bootstrap} never polled the Runtime API")
    return elapsed


def main():
    bootstrap = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    times = sorted(measure(bootstrap) for _ in range(runs))
    p90 = times[int(0.9 * (len(times) - 1))]
    print(json.dumps({"runs": runs, "min_ms": round(times[0], 1), "p50_ms": round(statistics.median(times), 1), "p90_ms": round(p90, 1)}))


if __name__ == "__main__":
    main()
