"""Run named commands several times; report wall time and peak memory.

A small, stdlib-only benchmark harness, usable as a library::

    from harness import Command, Options, run_all, print_table, write_json
    results = run_all([Command("w0", ["python", "-c", "pass"])], Options(runs=5))
    print_table(results)

or from the command line::

    python bench/harness.py --cmd 'noop=python -c pass' --runs 5 --json out.json
    python bench/harness.py --spec commands.json --json out.json

where ``commands.json`` is a list of objects with the fields of ``Command``
(``name``, ``argv``, and optionally ``env``, ``cwd``, ``timeout``, ``setup``,
``meta``).

What is measured, per run:

* ``wall_s``: ``time.perf_counter()`` from just before the child is started to
  the return of ``os.wait4()`` on it: whole-process wall time, interpreter
  start-up and shutdown included.
* ``maxrss_kb``: ``ru_maxrss`` from the ``os.wait4()`` rusage of the child.
  On Linux this is the largest peak RSS of any *single* process in the child's
  tree that was waited for: the child itself and every descendant it (or its
  descendants) reaped. It is a maximum, not a sum, and it misses descendants
  that were orphaned instead of reaped. Linux carries the high-water mark across
  ``exec``, so a child started from this process never reports less than this
  process's own RSS at the time (about 20 MiB): smaller figures are a floor.
* ``tree_rss_peak_kb``: the peak of the *sum* of the RSS of every live process
  in the child's tree, sampled from ``/proc`` every ``sample_interval`` seconds
  (Linux only; ``None`` elsewhere or when sampling is off). The tree is every
  descendant of the child plus every process in its process group (the child
  leads a new session), so orphaned helpers are still counted. Shared pages are
  counted once per process, so forked workers are over-counted; short peaks
  between samples are missed.
* ``user_s``/``sys_s``: CPU time of the child and its reaped descendants
  (the table's "cpu s"); far less sensitive than wall time to other load.
* ``foreign_cpu_s``: CPU time the rest of the machine used during the run (busy
  time from ``/proc/stat`` minus the child's); the table's "others" column is the
  worst run's share of all CPUs. A high figure means the wall times are suspect.
  With ``Quiet`` (``--quiet-below``), each run first waits, for a bounded time,
  until the machine is mostly idle.
* ``report``: what the command says it did, for the caller to check: the JSON
  object on the last line of its stdout that starts with ``bench-report ``
  (``None`` if it printed none).

The table's "peak MiB" is the median over runs of ``max(maxrss_kb,
tree_rss_peak_kb)``: the single-process figure for one-process tools, the
sampled tree sum where helpers run alongside (servers, worker pools).

Every command runs in its own session; any process it leaves behind in its
process group is killed after it exits (and reported as ``leftover``). A
command that exits non-zero or outlives its timeout raises ``CommandFailed``
with the tail of its stderr; the CLI prints it and exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")
STDERR_TAIL_LINES = 40


@dataclass(frozen=True)
class Command:
    """One named command to benchmark.

    ``env`` is laid over the harness's own environment (``inherit_env=False``
    uses it alone). ``setup`` argv lists run once, untimed, with the same env
    and cwd, before the measured runs (e.g. to create or migrate a database).
    ``meta`` is copied into the results untouched.
    """

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    timeout: float | None = None
    setup: list[list[str]] = field(default_factory=list)
    inherit_env: bool = True
    meta: dict[str, Any] = field(default_factory=dict)

    def full_env(self) -> dict[str, str]:
        """The environment the child process gets."""
        base = dict(os.environ) if self.inherit_env else {}
        base.update(self.env)
        return base


@dataclass(frozen=True)
class Sample:
    """The measurements of one run of one command."""

    wall_s: float
    maxrss_kb: int
    tree_rss_peak_kb: int | None
    tree_procs_peak: int | None
    user_s: float
    sys_s: float
    leftover: int
    waited_s: float = 0.0
    busy_before: float | None = None
    foreign_cpu_s: float | None = None
    report: dict[str, Any] | None = None

    @property
    def peak_kb(self) -> int:
        """The larger of the two memory figures: the best single number for "peak RSS"."""
        return max(self.maxrss_kb, self.tree_rss_peak_kb or 0)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def foreign_share(self) -> float | None:
        """Share of the machine's CPU capacity that other processes used during the run."""
        if self.foreign_cpu_s is None or self.wall_s <= 0:
            return None
        return self.foreign_cpu_s / (self.wall_s * (os.cpu_count() or 1))


@dataclass
class Result:
    """All runs of one command, with their medians."""

    name: str
    argv: list[str]
    meta: dict[str, Any]
    samples: list[Sample]

    @property
    def median_wall_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def median_maxrss_kb(self) -> float:
        return statistics.median(s.maxrss_kb for s in self.samples)

    @property
    def median_peak_kb(self) -> float:
        return statistics.median(s.peak_kb for s in self.samples)

    @property
    def median_tree_rss_kb(self) -> float | None:
        values = [s.tree_rss_peak_kb for s in self.samples if s.tree_rss_peak_kb is not None]
        return statistics.median(values) if values else None

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(s.cpu_s for s in self.samples)

    @property
    def max_foreign_share(self) -> float | None:
        values = [s.foreign_share for s in self.samples if s.foreign_share is not None]
        return max(values) if values else None

    def summary(self) -> dict[str, Any]:
        """Medians and spread, as written to JSON."""
        walls = [s.wall_s for s in self.samples]
        return {
            "runs": len(self.samples),
            "median_wall_s": self.median_wall_s,
            "min_wall_s": min(walls),
            "max_wall_s": max(walls),
            "stdev_wall_s": statistics.stdev(walls) if len(walls) > 1 else 0.0,
            "median_peak_kb": self.median_peak_kb,
            "median_maxrss_kb": self.median_maxrss_kb,
            "median_tree_rss_peak_kb": self.median_tree_rss_kb,
            "median_cpu_s": self.median_cpu_s,
            "max_foreign_share": self.max_foreign_share,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "argv": self.argv,
            "meta": self.meta,
            "summary": self.summary(),
            "samples": [asdict(s) for s in self.samples],
        }


class CommandFailed(RuntimeError):
    """A command exited non-zero, was killed, or timed out."""

    def __init__(self, name: str, reason: str, stderr_tail: str) -> None:
        super().__init__(f"{name}: {reason}\n--- stderr (tail) ---\n{stderr_tail}")
        self.name = name
        self.reason = reason
        self.stderr_tail = stderr_tail


# --- the process tree -------------------------------------------------------


def _read_stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, pgrp, rss_kb) of ``pid`` from /proc, or None if it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after it.
    fields = raw[raw.rfind(b")") + 2 :].split()
    # fields[0] is state (field 3); ppid is field 4, pgrp 5, rss (pages) 24.
    return int(fields[1]), int(fields[2]), int(fields[21]) * PAGE_KB


def _proc_stats() -> dict[int, tuple[int, int, int]]:
    """(ppid, pgrp, rss_kb) of every live process, from /proc (empty elsewhere)."""
    if not PROC.exists():
        return {}
    stats: dict[int, tuple[int, int, int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (st := _read_stat(int(entry.name))) is not None:
            stats[int(entry.name)] = st
    return stats


def tree_rss(root: int) -> tuple[int, int]:
    """Sum of RSS (kB) and count of live processes in ``root``'s tree.

    The tree is ``root``, its descendants, and any process in its process group.
    """
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    members = {pid for pid, (_, pgrp, _) in stats.items() if pgrp == root or pid == root}
    stack = list(members)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in members:
                members.add(child)
                stack.append(child)
    return sum(stats[p][2] for p in members), len(members)


class TreeSampler:
    """Samples ``tree_rss(pid)`` on a thread until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.peak_procs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def available() -> bool:
        return (PROC / "self" / "stat").exists()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            rss, procs = tree_rss(self.pid)
            self.peak_kb = max(self.peak_kb, rss)
            self.peak_procs = max(self.peak_procs, procs)
            if self._stop.wait(self.interval):
                return


# --- running ----------------------------------------------------------------


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(pgid: int) -> int:
    """SIGKILL whatever is left in process group ``pgid``; return how many."""
    left = _group_members(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    return len(left)


def _group_members(pgid: int) -> list[int]:
    return [pid for pid, (_, pgrp, _) in _proc_stats().items() if pgrp == pgid]


def _maxrss_kb(ru: Any) -> int:
    """ru_maxrss in kB (Linux reports kB, macOS bytes)."""
    return int(ru.ru_maxrss // 1024) if sys.platform == "darwin" else int(ru.ru_maxrss)


# --- the rest of the machine ------------------------------------------------


def machine_busy_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / CLK_TCK


def busy_share(window_s: float) -> float | None:
    """Share of all CPUs busy over the next ``window_s`` seconds."""
    before = machine_busy_s()
    time.sleep(window_s)
    after = machine_busy_s()
    if before is None or after is None:
        return None
    return (after - before) / (window_s * (os.cpu_count() or 1))


@dataclass(frozen=True)
class Quiet:
    """Wait before each run until other processes leave the CPUs mostly idle.

    Before a run, the machine's busy share is measured over ``window_s``; while it
    is above ``below`` (0.25 = a quarter of all CPUs), wait and measure again, for
    at most ``max_wait_s`` in all; then run anyway. The share and the wait are
    recorded with the run.
    """

    below: float = 0.25
    max_wait_s: float = 30.0
    window_s: float = 1.0


def wait_for_quiet(quiet: Quiet | None) -> tuple[float, float | None]:
    """Block per ``quiet``; return (seconds waited, last busy share measured)."""
    if quiet is None:
        return 0.0, None
    start = time.monotonic()
    while True:
        share = busy_share(quiet.window_s)
        waited = time.monotonic() - start
        if share is None or share <= quiet.below or waited >= quiet.max_wait_s:
            return waited, share


@dataclass(frozen=True)
class Options:
    """How commands are run and measured."""

    runs: int = 5
    sample_interval: float = 0.1  # seconds between /proc samples; 0 disables them
    quiet: Quiet | None = None
    log_dir: Path | None = None  # keep each run's stdout/stderr here (else a temp dir)


# --- running ----------------------------------------------------------------


def run_once(cmd: Command, opts: Options | None = None) -> Sample:
    """Run ``cmd`` once and measure it; raise CommandFailed unless it exits 0."""
    opts = opts or Options()
    waited, share = wait_for_quiet(opts.quiet)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out_dir = opts.log_dir or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", cmd.name)
        stdout_path, stderr_path = out_dir / f"{stem}.out", out_dir / f"{stem}.err"
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            sample = _run_child(cmd, out, err, stderr_path, opts.sample_interval)
        report = read_report(stdout_path.read_text(errors="replace"))
    return replace(sample, waited_s=waited, busy_before=share, report=report)


REPORT_PREFIX = "bench-report "


def read_report(stdout: str) -> dict[str, Any] | None:
    """The JSON object of the last ``bench-report `` line of ``stdout``, if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(REPORT_PREFIX):
            value = json.loads(line[len(REPORT_PREFIX) :])
            return value if isinstance(value, dict) else None
    return None


def _run_child(
    cmd: Command, out: IO[bytes], err: IO[bytes], stderr_path: Path, sample_interval: float
) -> Sample:
    env = cmd.full_env()
    timed_out = threading.Event()
    busy_start = machine_busy_s()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd.argv,
        cwd=cmd.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    sampler = TreeSampler(proc.pid, sample_interval) if sample_interval > 0 else None
    if sampler is not None and TreeSampler.available():
        sampler.start()
    else:
        sampler = None
    timer = _start_timer(cmd.timeout, proc.pid, timed_out)
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): take the child's group down too
        _kill_group(proc.pid)
        proc.wait()
        raise
    wall = time.perf_counter() - start
    busy_end = machine_busy_s()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if timer is not None:
        timer.cancel()
    if sampler is not None:
        sampler.stop()
    leftover = _kill_group(proc.pid)
    if timed_out.is_set():
        raise CommandFailed(cmd.name, f"timed out after {cmd.timeout} s", _tail(stderr_path))
    if proc.returncode != 0:
        raise CommandFailed(cmd.name, f"exit status {proc.returncode}", _tail(stderr_path))
    return Sample(
        wall_s=wall,
        maxrss_kb=_maxrss_kb(ru),
        tree_rss_peak_kb=sampler.peak_kb if sampler else None,
        tree_procs_peak=sampler.peak_procs if sampler else None,
        user_s=ru.ru_utime,
        sys_s=ru.ru_stime,
        leftover=leftover,
        foreign_cpu_s=_foreign(busy_start, busy_end, ru.ru_utime + ru.ru_stime),
    )


def _foreign(busy_start: float | None, busy_end: float | None, own_cpu_s: float) -> float | None:
    """Machine CPU time during the run not spent by the child's tree (nor reaped by it).

    It includes this harness's own sampling, a few percent of one CPU at most.
    """
    if busy_start is None or busy_end is None:
        return None
    return max(0.0, busy_end - busy_start - own_cpu_s)


def _start_timer(timeout: float | None, pgid: int, flag: threading.Event) -> threading.Timer | None:
    if timeout is None:
        return None

    def expire() -> None:
        flag.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    return timer


def run_setup(cmd: Command) -> None:
    """Run ``cmd.setup`` steps (untimed); raise CommandFailed if one fails."""
    for argv in cmd.setup:
        step = Command(
            name=f"{cmd.name}[setup]",
            argv=argv,
            env=cmd.env,
            cwd=cmd.cwd,
            timeout=cmd.timeout,
            inherit_env=cmd.inherit_env,
        )
        run_once(step, Options(sample_interval=0))


Progress = Callable[[Command, int, Sample], None]


def run_command(
    cmd: Command, opts: Options | None = None, progress: Progress | None = None
) -> Result:
    """Run ``cmd`` ``opts.runs`` times (after its setup steps) and collect the samples."""
    opts = opts or Options()
    run_setup(cmd)
    samples = []
    for i in range(opts.runs):
        sample = run_once(cmd, opts)
        samples.append(sample)
        if progress is not None:
            progress(cmd, i, sample)
    return Result(cmd.name, cmd.argv, cmd.meta, samples)


def run_all(
    cmds: Iterable[Command], opts: Options | None = None, progress: Progress | None = None
) -> list[Result]:
    """Run every command in turn; the first failure raises CommandFailed."""
    return [run_command(c, opts, progress) for c in cmds]


OnFailure = Callable[[Command, CommandFailed], None]


def run_interleaved(
    cmds: Sequence[Command],
    opts: Options | None = None,
    progress: Progress | None = None,
    on_failure: OnFailure | None = None,
) -> list[Result]:
    """Run every setup, then round after round of one run of each command.

    On a machine with other load that comes and goes, this spreads the noise over
    all commands instead of letting it land on a few, so comparisons between
    commands (and per-step overheads) stay fairer. A failure raises CommandFailed,
    unless ``on_failure`` is given: then it is told, and the command is dropped.
    """
    opts = opts or Options()
    live: list[Command] = []
    for cmd in cmds:
        if _attempt(cmd, on_failure, functools.partial(run_setup, cmd)):
            live.append(cmd)
    samples: dict[str, list[Sample]] = {c.name: [] for c in live}
    for i in range(opts.runs):
        for cmd in list(live):
            sample = _attempt(cmd, on_failure, functools.partial(run_once, cmd, opts))
            if sample is None:
                live.remove(cmd)
                continue
            samples[cmd.name].append(sample)
            if progress is not None:
                progress(cmd, i, sample)
    return [Result(c.name, c.argv, c.meta, samples[c.name]) for c in live]


def _attempt(cmd: Command, on_failure: OnFailure | None, fn: Callable[[], Any]) -> Any:
    """``fn()``, or None after reporting a CommandFailed to ``on_failure``."""
    try:
        result = fn()
    except CommandFailed as exc:
        if on_failure is None:
            raise
        on_failure(cmd, exc)
        return None
    return True if result is None else result


def print_progress(cmd: Command, i: int, s: Sample) -> None:
    """A one-line progress report per run, on stderr."""
    tree = f", tree {s.tree_rss_peak_kb / 1024:.0f} MiB" if s.tree_rss_peak_kb else ""
    others = f", others {s.foreign_share:.0%}" if s.foreign_share is not None else ""
    waited = f", waited {s.waited_s:.0f} s" if s.waited_s >= 1 else ""
    print(
        f"  {cmd.name} #{i + 1}: {s.wall_s:.2f} s, cpu {s.cpu_s:.2f} s, "
        f"maxrss {s.maxrss_kb / 1024:.0f} MiB{tree}{others}{waited}",
        file=sys.stderr,
        flush=True,
    )


# --- reporting --------------------------------------------------------------


def _mib(kb: float | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f}"


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def format_table(
    results: Sequence[Result], extra: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A plain-text table of medians; ``extra[name]`` adds columns per row."""
    extra = extra or {}
    extra_cols = list(dict.fromkeys(k for cols in extra.values() for k in cols))
    header = [
        "command",
        "runs",
        "median s",
        "min s",
        "max s",
        "cpu s",
        "peak MiB",
        "maxrss MiB",
        "tree MiB",
        "others",
        *extra_cols,
    ]
    rows = [header]
    for r in results:
        s = r.summary()
        rows.append(
            [
                r.name,
                str(s["runs"]),
                f"{s['median_wall_s']:.2f}",
                f"{s['min_wall_s']:.2f}",
                f"{s['max_wall_s']:.2f}",
                f"{s['median_cpu_s']:.2f}",
                _mib(s["median_peak_kb"]),
                _mib(s["median_maxrss_kb"]),
                _mib(s["median_tree_rss_peak_kb"]),
                _pct(s["max_foreign_share"]),
                *(extra.get(r.name, {}).get(c, "") for c in extra_cols),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [_format_row(row, widths) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _format_row(row: Sequence[str], widths: Sequence[int]) -> str:
    """First column left-aligned, the rest right-aligned."""
    cells = [row[0].ljust(widths[0])] + [
        c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
    ]
    return "  ".join(cells)


def print_table(
    results: Sequence[Result], extra: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    print(format_table(results, extra))


def machine_info() -> dict[str, Any]:
    """Where and when the numbers were taken."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "harness_python": sys.version.split()[0],
    }


def write_json(
    path: Path, results: Sequence[Result], extra: Mapping[str, Any] | None = None
) -> None:
    """Write results (and ``extra`` top-level keys) to ``path`` as JSON."""
    doc: dict[str, Any] = {"machine": machine_info(), **(extra or {})}
    doc["results"] = [r.to_json() for r in results]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


# --- command line -----------------------------------------------------------


def _parse_cmd(text: str) -> Command:
    name, sep, line = text.partition("=")
    if not sep or not name or not line.strip():
        raise argparse.ArgumentTypeError(f"--cmd wants NAME=COMMAND LINE, got {text!r}")
    return Command(name=name, argv=shlex.split(line))


def load_spec(path: Path) -> list[Command]:
    """Commands from a JSON list of objects with Command's fields."""
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise SystemExit(f"{path}: expected a JSON list of commands")
    return [Command(**item) for item in data]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cmd", action="append", type=_parse_cmd, default=[], metavar="NAME=CMDLINE")
    p.add_argument("--spec", type=Path, help="JSON file: a list of command objects")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--timeout", type=float, help="default per-run timeout, seconds")
    p.add_argument("--sample-interval", type=float, default=0.1, help="0 disables /proc sampling")
    p.add_argument("--json", type=Path, help="write results here")
    add_quiet_args(p)
    args = p.parse_args(argv)
    cmds = list(args.cmd) + (load_spec(args.spec) if args.spec else [])
    if not cmds:
        p.error("give at least one --cmd or a --spec")
    if args.timeout is not None:
        cmds = [c if c.timeout is not None else _with_timeout(c, args.timeout) for c in cmds]
    try:
        results = run_all(cmds, options_from_args(args), print_progress)
    except CommandFailed as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1
    print_table(results)
    if args.json:
        write_json(args.json, results, {"runs": args.runs})
    return 0


def add_quiet_args(
    p: argparse.ArgumentParser, below: float | None = None, max_wait: float = 30.0
) -> None:
    """The --quiet-below/--quiet-max-wait options (see Quiet)."""
    p.add_argument(
        "--quiet-below",
        type=float,
        default=below,
        help="before each run, wait while other processes keep more than this share of all "
        "CPUs busy (e.g. 0.25); off when not given",
    )
    p.add_argument("--quiet-max-wait", type=float, default=max_wait, help="seconds, per run")


def options_from_args(args: argparse.Namespace) -> Options:
    quiet = None
    if args.quiet_below is not None:
        quiet = Quiet(below=args.quiet_below, max_wait_s=args.quiet_max_wait)
    return Options(runs=args.runs, sample_interval=args.sample_interval, quiet=quiet)


def _with_timeout(cmd: Command, timeout: float) -> Command:
    return Command(**{**asdict(cmd), "timeout": timeout})


if __name__ == "__main__":
    sys.exit(main())
