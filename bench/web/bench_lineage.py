"""Lineage page with 2,000 and 10,000 assets in headless Chromium: time from navigation to the
first complete canvas frame (layout computed on the server, cold and then cached), plus a pan.

    .venv/bin/python bench/web/bench_lineage.py [--sizes 2000 10000]

Target (RELIABILITY L-08): the lineage of 10,000 nodes renders in < 3 s. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "web"))

from _data import store_with_snapshot, synthetic_snapshot
from playwright.sync_api import sync_playwright
from web_server import LiveServer

from legato.store.snapshots import save_snapshot
from legato.web.app import create_app

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def load(page, url: str) -> float:  # type: ignore[no-untyped-def]
    page.goto("about:blank")
    started = time.perf_counter()
    page.goto(f"{url}/#/lineage")
    page.wait_for_selector("#lineage-canvas[data-ready='1']", timeout=60_000)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10_000])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    worst = 0.0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        for size in args.sizes:
            store = store_with_snapshot(f"sqlite:///{tempfile.mkdtemp()}/bench.db", size)
            with LiveServer(create_app(store)) as server:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(server.login_url)  # local mode: the token's cookie
                first = load(page, server.url)  # layout prepared at start-up
                warm = min(load(page, server.url) for _ in range(3))
                save_snapshot(store, synthetic_snapshot(size, seed=size))  # a new fingerprint
                cold = load(page, server.url)  # layout computed while the page waits
                frames = int(page.get_attribute("#lineage-canvas", "data-frames") or 0)
                started = time.perf_counter()
                page.mouse.move(700, 500)
                page.mouse.down()
                for step in range(20):
                    page.mouse.move(700 + step * 10, 500 + step * 5)
                page.mouse.up()
                page.mouse.wheel(0, -600)
                drag = time.perf_counter() - started
                after = int(page.get_attribute("#lineage-canvas", "data-frames") or 0)
                page.screenshot(path=f"test-artifacts/bench-lineage-{size}.png")
                page.close()
            print(
                f"{size:>6} nodes: first load {first:5.2f} s, cached {warm:5.2f} s, "
                f"new snapshot (layout on demand) {cold:5.2f} s, "
                f"20 drag moves + zoom {drag * 1000:5.0f} ms "
                f"({after - frames} frames)"
            )
            worst = max(worst, first, cold)
        browser.close()
    print(f"worst load: {worst:.2f} s (target < 3 s): {'ok' if worst < 3 else 'MISSED'}")
    return 0 if worst < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
