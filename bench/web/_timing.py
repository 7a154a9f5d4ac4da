"""Timing helpers shared by the web benchmarks: repeated GETs, cursor walks, a p50/p95 line."""

from __future__ import annotations

import statistics
import time


def measure(client, url: str, params: dict, repeat: int) -> list[float]:  # type: ignore[no-untyped-def,type-arg]
    """Milliseconds for ``repeat`` GETs of ``url``; every answer must be a 200."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


def walk(client, url: str, pages: int, limit: int, items: str | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per page while following ``next_cursor`` for ``pages`` pages; when ``items``
    names the list in the answer, each page must hold at most ``limit`` of them."""
    times, cursor = [], None
    for _ in range(pages):
        started = time.perf_counter()
        body = client.get(url, params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        times.append((time.perf_counter() - started) * 1000)
        page = body.json()
        cursor = page["next_cursor"]
        if items is not None:
            assert len(page[items]) <= limit
    return times


def report(name: str, times: list[float], width: int = 32) -> float:
    """Print one p50/p95 line and return the p95."""
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    print(f"  {name:<{width}} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")
    return p95
