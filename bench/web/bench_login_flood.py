"""What a flood of bad logins costs everyone else: p50/p95 of GET /api/v1/runs (an API token,
50 runs a page) while N threads send wrong passwords as fast as the server answers.

    .venv/bin/python bench/web/bench_login_flood.py [--attackers 16] [--runs 10000] [--seconds 8]

The server runs in a process of its own (uvicorn, as `legato up` serves), on a SQLite store, and
believes X-Forwarded-For from this machine, so the "many addresses" flood looks like a botnet:
a new client address and user name for every attempt. Three phases: no flood; one address
spraying user names; a new address for every attempt. For scale, a fourth floods the health
probe instead: what any flood of cheap requests costs, which no login setting can remove.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVER = """
import sys, uvicorn
sys.path.insert(0, {here!r})
from _data import fill_runs
from legato.store.engine import Store
from legato.web import accounts, tokens
from legato.web.app import create_app
from legato.web.config import AuthConfig
store = Store({url!r})
fill_runs(store, {runs})
user = accounts.add_user(store, "vera", "viewer", "vera-password-1")
print(tokens.create_token(store, user)[1], flush=True)
auth = AuthConfig(local_admin=False, forwarded_allow_ips="127.0.0.1")
uvicorn.run(create_app(store, auth=auth), host="127.0.0.1", port={port}, log_level="error")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str) -> float:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def _bad_login(base: str, name: str, address: str | None) -> int:
    csrf = "x" * 32  # a browser's login: the double-submit pair, no credential
    headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf}
    headers["Cookie"] = f"legato_csrf={csrf}"
    if address:
        headers["X-Forwarded-For"] = address
    body = json.dumps({"username": name, "password": "wrong-password-1"}).encode()
    request = urllib.request.Request(f"{base}/api/v1/session", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def phase(base: str, token: str, attackers: int, seconds: float, mode: str | None) -> None:
    stop = threading.Event()
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def attack(i: int) -> None:
        rng = random.Random(i)
        while not stop.is_set():
            if mode == "health probes":
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=30) as response:
                    response.read()
                with lock:
                    answers[200] += 1
                continue
            address = None
            if mode == "many addresses":
                address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
            status = _bad_login(base, f"user-{rng.randrange(10**9)}", address)
            with lock:
                answers[status] += 1

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(attackers if mode else 0)]
    for thread in threads:
        thread.start()
    time.sleep(0.5 if mode else 0)
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        times.append(_get(f"{base}/api/v1/runs?limit=50", token))
    stop.set()
    for thread in threads:
        thread.join()
    p95 = statistics.quantiles(times, n=20)[-1]
    flood = ", ".join(f"{n} x {code}" for code, n in sorted(answers.items())) or "-"
    print(
        f"  {mode or 'no flood':<16} GET /runs p50 {statistics.median(times):7.1f} ms"
        f"  p95 {p95:7.1f} ms   logins: {flood}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attackers", type=int, default=16)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    port = free_port()
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    code = SERVER.format(here=str(HERE), url=url, runs=args.runs, port=port)
    server = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert server.stdout is not None
        token = server.stdout.readline().strip()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/api/v1/health", token)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        print(f"{args.attackers} attackers, {args.runs} runs in the store, CPUs: {os.cpu_count()}")
        for mode in (None, "health probes", "one address", "many addresses"):
            phase(base, token, args.attackers, args.seconds, mode)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
