"""A bounded HTTP client: a fixed number of requests of one page at a given concurrency.

Each client is a thread with its own connection (and its own session cookie); latencies are
measured from sending the request to the last byte of the body. Only the standard library: the
client must cost little next to the server it measures.
"""

import http.client
import threading
import time


def percentile(values, q):
    """Nearest-rank percentile of a sorted list."""
    if not values:
        return None
    rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return values[rank]


def run(
    host,
    port,
    path,
    *,
    requests,
    concurrency,
    headers=(),
    expect=200,
    timeout=60,
    method="GET",
    body=None,
    picks=(),
):
    """Request `path` `requests` times from `concurrency` clients; latencies in milliseconds.

    `headers` is one dict per client (cycled), so that each client can carry its own session.
    A status other than `expect`, a short body or a network error counts as an error.
    `body` (with `method` POST) is sent with each request, its `%N%` replaced by a number no
    other request of the run has and its `%PICK%` by the next of `picks` (a unit's serial).
    """
    headers = list(headers) or [{}]
    remaining = [requests]
    nonce = f"{time.time_ns():x}"

    def content(n):
        if body is None:
            return None
        text = body.replace("%N%", f"{nonce}-{n}")
        if picks:
            text = text.replace("%PICK%", picks[n % len(picks)])
        return text.encode()

    latencies, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def client(n):
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        mine = {"Accept-Encoding": "identity", **headers[n % len(headers)]}
        start.wait()
        while True:
            with lock:
                if not remaining[0]:
                    break
                remaining[0] -= 1
                sent = content(remaining[0])
            began = time.perf_counter()
            try:
                conn.request(method, path, body=sent, headers=mine)
                response = conn.getresponse()
                received = response.read()
                elapsed = (time.perf_counter() - began) * 1000
                if response.status != expect or not received:
                    said = response.getheader("Location") or received[:160].decode(errors="replace")
                    errors.append(f"HTTP {response.status} {said}")
            except (OSError, http.client.HTTPException) as exc:
                elapsed = (time.perf_counter() - began) * 1000
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            with lock:
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "concurrency": concurrency,
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else None,
        "rps": len(latencies) / wall if wall else None,
    }
