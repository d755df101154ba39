"""The load generator of the ticket benchmark when Debian's `wrk` is installed (apt-get install
wrk): C, event-driven, exact percentiles; it costs the machine far less than the server it
measures, which matters on two cores. Without it the benchmark uses bench.client.

Each wrk thread is one client with one connection and its own session (bench/wrk_report.lua).
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk_report.lua")
# Requests with a body of their own each (the API's POST).
REQUEST_SCRIPT = Path(__file__).with_name("wrk_request.lua")


def available():
    return shutil.which("wrk") is not None


def run(
    host,
    port,
    path,
    *,
    seconds,
    concurrency,
    cookies=(),
    timeout=60,
    method="GET",
    body=None,
    picks=(),
    headers=None,
):
    """Request `path` for `seconds` from `concurrency` clients; the same figures as
    bench.client.run (`body`, `picks`: as there; `headers`: added to every request).

    `cookies` are session keys, one per client (cycled). wrk counts a status other than 2xx or
    3xx, a timeout or a network error as an error.
    """
    env = dict(os.environ, COOKIES=" ".join(cookies))
    script = SCRIPT
    if body is not None or headers:
        script = REQUEST_SCRIPT
        env.update(
            REPORT_SCRIPT=str(SCRIPT),
            METHOD=method,
            BODY=body or "",
            NONCE=f"{time.time_ns():x}",
            PICKS=" ".join(picks),
            HEADERS="\n".join(f"{name}: {value}" for name, value in (headers or {}).items()),
        )
    command = [
        "wrk",
        f"--threads={concurrency}",
        f"--connections={concurrency}",
        f"--duration={seconds}s",
        f"--timeout={timeout}s",
        f"--script={script}",
        f"http://{host}:{port}{path}",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "requests": figures["requests"],
        "concurrency": concurrency,
        "errors": figures["errors"],
        "error_samples": [],
        "p50": figures["p50"],
        "p95": figures["p95"],
        "p99": figures["p99"],
        "max": figures["max"],
        "rps": figures["requests"] / figures["seconds"] if figures["seconds"] else None,
    }
