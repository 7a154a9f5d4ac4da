"""The default IO manager: files under a root, pickle or Parquet, written atomically.

Assets live at ``ROOT/assets/<segment>/.../<name>/<partition>.<ext>`` (partition ``__all__`` when
unpartitioned); task results in their run's log, ``ROOT/runs/<run_id>/results.log`` (see
``result_log``), or, when too large to travel to the engine or stored directly, at
``ROOT/runs/<run_id>/<step>.<ext>`` (where earlier versions kept every one). Every path segment
comes from a validated key or is percent-encoded, and the final path is checked to lie under the
root.
Pickles are signed (see ``signing``) and loaded only if their signature holds; Parquet files are
data, never code, and stay plain Parquet. Directories are 0700 and files 0600.

A value costs few system calls: a task result of up to ``INLINE_RESULTS`` bytes is returned to
the engine, which appends those of a batch to the run's log in one write; a larger value (or an
asset's) is one file created under its attempt's staged name, written with one ``writev`` and
renamed into place by the engine (no temporary file: the staged name is the attempt's own);
paths are strings built from the encoded segments.
"""

# Paths here are strings on purpose: each pathlib operation costs microseconds, on every step.
# ruff: noqa: PTH105, PTH108, PTH110, PTH119

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from legato._internal.private import make_private_dirs, open_private
from legato.definitions.io import IOContext, IOManagerConfig
from legato.definitions.keys import StepKey
from legato.errors import NotFoundError, PartitionError
from legato.execution.io import result_log
from legato.execution.io.paths import describe_value, storage_parts
from legato.execution.io.signing import SigningKey, load_key

_TABLE_SUFFIX = {
    "pandas": ".pandas.parquet",
    "polars": ".polars.parquet",
    "pyarrow": ".arrow.parquet",
}
_SUFFIXES = (".pkl", *_TABLE_SUFFIX.values())
# The largest task result an executor whose steps share the engine's machine returns inline, for
# the engine to append to the run's log: past this, a file of its own costs less than the copy.
INLINE_RESULTS = 256 * 1024


class FilesystemIOManager:
    """Pickle for Python objects, Parquet for pandas/polars/Arrow tables; atomic writes.

    Args:
        root: directory under which every value is stored.
        durable: fsync files and directories before a write counts as done (on for assets; task
            results are run-scoped intermediates and skip it unless asked).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        durable_tasks: bool = False,
        create_key: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self._prefix = str(self.root).rstrip("/") + "/"
        self.durable_tasks = durable_tasks
        self.create_key = create_key
        self._dirs: set[str] = set()  # directories made (or found) by this process
        self._inside: set[str] = set()  # directories checked to lie under the root
        self._key: SigningKey | None = None
        self._logs = result_log.RunLogs()  # the run logs this process read from
        self._checked: set[str] = set()  # the run logs this process appended to

    def __getstate__(self) -> dict[str, Any]:  # the key never travels: each process reads its own
        return {
            **self.__dict__,
            "_key": None,
            "_dirs": set(),
            "_inside": set(),
            "_logs": result_log.RunLogs(),
            "_checked": set(),
        }

    @classmethod
    def from_config(cls, config: IOManagerConfig) -> FilesystemIOManager:
        """The ``filesystem`` plugin: ``root`` (default: the project's ``storage``)."""
        config.check_fields(optional={"root"})
        return cls(config.path("root", config.storage))

    @property
    def key(self) -> SigningKey:
        """The key values are signed with (read, or first created, on first use)."""
        if self._key is None:
            self._key = load_key(self.root, create=self.create_key)
        return self._key

    def _place(self, context: IOContext) -> tuple[str, str]:
        """The directory of the value under the root and its name, without a suffix."""
        parts = storage_parts(context, where=self._prefix)
        return "/".join(parts[:-1]), parts[-1]

    def _ensure_dir(self, directory: str) -> None:
        if directory not in self._dirs:
            make_private_dirs(Path(directory))
            self._dirs.add(directory)

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        return self._write(context, value, staged=None)

    def stage(
        self, context: IOContext, value: Any, token: str, *, inline: int = 0
    ) -> Mapping[str, Any]:
        """Write ``value`` beside its place under a name of its own (``token``: one attempt);
        :meth:`publish` moves it into place. An attempt that lost its run never publishes, so it
        can never overwrite the value of the attempt that replaced it.

        A task result whose signed pickle is at most ``inline`` bytes is not written: it is
        returned as ``metadata["inline"]``, for the engine to :meth:`append_results`."""
        return self._write(context, value, staged=token, inline=inline)

    def append_results(self, run_id: str, results: Sequence[tuple[StepKey, bytes]]) -> None:
        """Append the inline task results of ``run_id`` (signed pickles from :meth:`stage`) to
        the run's log, in one write."""
        relative, records = "", []
        for step, value in results:
            relative, name = self._place(IOContext(step, run_id))
            records.append(result_log.encode(name, value))
        if records:
            path = self._under_root(relative, f"{relative}/{result_log.LOG_NAME}")
            self._ensure_dir(self._prefix + relative)
            path += result_log.LOG_NAME
            result_log.append(path, records, durable=self.durable_tasks, checked=self._checked)

    def publish(
        self, metadata: Mapping[str, Any], *, first_attempt: bool = False
    ) -> dict[str, Any]:
        """Move a staged value into place (atomically); return its metadata without the stage.

        ``first_attempt``: the value is from its step's first attempt in its run, so a task
        result's place (``runs/<run>/``) cannot hold a value of another format to remove."""
        out = dict(metadata)
        staged = str(out.pop("staged"))
        final = os.path.basename(str(out["path"]))
        parts = staged.split("/")
        name = parts[-1]
        if (
            any(part in ("", ".", "..") for part in parts)
            or not name.startswith(".staged-")
            or not final.endswith(_SUFFIXES)
            or not name.endswith(final)
            or final.startswith(".")
        ):  # metadata crossed from a worker: trust no path in it
            raise PartitionError(
                f"refusing to publish {staged!r}: not a staged value under {self.root}"
            )
        directory = self._under_root("/".join(parts[:-1]), staged)
        os.replace(directory + name, directory + final)
        if not (first_attempt and parts[0] == "runs"):
            stem = final[: -len(_suffix_of(final))]
            if parts[0] == "runs":  # an earlier attempt's value in the run's log is not the last
                pointer = result_log.encode(stem, b"")
                path = directory + result_log.LOG_NAME
                durable = self.durable_tasks
                result_log.append(path, [pointer], durable=durable, checked=self._checked)
            for other in _SUFFIXES:  # a value that changed format must not leave its old file
                if not final.endswith(other):
                    _remove(directory + stem + other)
        if out.pop("durable", False):
            _fsync_dir(directory)
        return out

    def _under_root(self, relative: str, staged: str) -> str:
        """The directory ``relative`` to the root, with a trailing "/", once checked to resolve
        under the root (a link in the storage must not lead a rename or a write out of it)."""
        directory = self._prefix + relative + "/" if relative else self._prefix
        if directory not in self._inside:
            if not Path(os.path.realpath(directory)).is_relative_to(self.root):
                raise PartitionError(
                    f"refusing to publish {staged!r}: its directory leads out of {self.root}"
                )
            self._inside.add(directory)
        return directory

    def _write(
        self, context: IOContext, value: Any, staged: str | None, inline: int = 0
    ) -> dict[str, Any]:
        relative, name = self._place(context)
        directory = self._prefix + relative
        durable = context.asset_key is not None or self.durable_tasks
        library = type(value).__module__.split(".")[0]
        payload: Payload
        if library in _TABLE_SUFFIX and type(value).__name__ in ("DataFrame", "Table"):
            suffix, fmt = _TABLE_SUFFIX[library], "parquet"

            def payload(f: BinaryIO) -> None:
                _write_parquet(library, value, f)
        else:
            suffix, fmt = ".pkl", "pickle"
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            header = self.key.header(f"{relative}/{name}{suffix}", data)
            if context.asset_key is None and len(header) + len(data) <= inline:
                signed = header + data
                log = f"{directory}/{result_log.LOG_NAME}"
                return {"path": log, "format": fmt, "bytes": len(signed), "inline": signed}
            payload = (header, data)
        self._ensure_dir(directory)
        path = f"{directory}/{name}{suffix}"
        if staged is not None:
            staged_name = f".staged-{staged}-{name}{suffix}"
            size = _write_new(f"{directory}/{staged_name}", payload, durable)
            return {
                "path": path,
                "format": fmt,
                "bytes": size,
                "staged": f"{relative}/{staged_name}",
                "durable": durable,
            }
        size = _atomic_write(path, payload, durable)
        for other in _SUFFIXES:  # a value that changed format must not leave its old file behind
            if other != suffix:
                _remove(f"{directory}/{name}{other}")
        return {"path": path, "format": fmt, "bytes": size}

    def load(self, context: IOContext) -> Any:
        relative, name = self._place(context)
        base = f"{self._prefix}{relative}/{name}"
        logged = self._logged(context, relative, name)
        if logged:
            what, fix = describe_value(context)
            place = f"{relative}/{name}.pkl"  # where it was signed: as a file of its own would be
            path = f"{self._prefix}{relative}/{result_log.LOG_NAME}"
            return pickle.loads(self.key.verified(logged, place, what=what, path=path, fix=fix))
        for suffix in _SUFFIXES:
            path = base + suffix
            try:
                if suffix == ".pkl":
                    key = self.key  # before reading: a missing key is the error to report
                    with open(path, "rb") as f:
                        data = f.read()
                    what, fix = describe_value(context)
                    place = f"{relative}/{name}{suffix}"
                    return pickle.loads(key.verified(data, place, what=what, path=path, fix=fix))
                return _read_parquet(suffix, path)
            except FileNotFoundError:
                continue
        what = context.asset_key or f"the result of {context.step} in run {context.run_id}"
        raise NotFoundError(
            f"no stored value for {what} under {self.root}",
            obj=context.asset_key or str(context.step),
            hint="materialize it first (legato run KEY)",
        )

    def exists(self, context: IOContext) -> bool:
        relative, name = self._place(context)
        base = f"{self._prefix}{relative}/{name}"
        return bool(self._logged(context, relative, name)) or any(
            os.path.exists(base + s) for s in _SUFFIXES
        )

    def _logged(self, context: IOContext, relative: str, name: str) -> bytes:
        """A task result's signed value in its run's log (b"" if the log has none for it, or
        points to the value's own file)."""
        if context.asset_key is not None:
            return b""
        found = self._logs.find(f"{self._prefix}{relative}/{result_log.LOG_NAME}", name)
        return found[1] if found is not None else b""


_tmp_counter = itertools.count()

# What a value is written as: a pickle's chunks (its signature header, then its bytes), or a
# function that writes a table to a file object.
Payload = tuple[bytes, bytes] | Callable[[BinaryIO], object]


def _suffix_of(name: str) -> str:
    return next(s for s in _SUFFIXES if name.endswith(s))


def _fsync_dir(directory: str) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _atomic_write(path: str, payload: Payload, durable: bool, *, sync_dir: bool = True) -> int:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    directory, name = os.path.split(path)
    tmp = f"{directory}/.tmp-{os.getpid()}-{next(_tmp_counter)}-{name[:60]}"
    try:
        size = _fill(open_private(tmp), payload, durable)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    if durable and sync_dir:
        _fsync_dir(directory)
    return size


def _write_new(path: str, payload: Payload, durable: bool) -> int:
    """Write a file whose name is this attempt's own (a staged value): created, not renamed."""
    try:
        fd = open_private(path)
    except FileExistsError:  # the attempt ran before (an executor ran it again): replace it whole
        return _atomic_write(path, payload, durable, sync_dir=False)
    try:
        return _fill(fd, payload, durable)
    except BaseException:
        _remove(path)  # never published: only an attempt that reports success is
        raise


def _fill(fd: int, payload: Payload, durable: bool) -> int:
    """Write ``payload`` to the new, empty file ``fd`` and close it; the bytes written."""
    if callable(payload):
        with os.fdopen(fd, "wb") as f:
            payload(f)
            size = f.tell()
            if durable:
                f.flush()
                os.fsync(f.fileno())
        return int(size)
    try:
        return result_log.write_all(fd, payload, durable=durable)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _write_parquet(library: str, value: Any, f: Any) -> None:
    if library == "pandas":
        value.to_parquet(f)
    elif library == "polars":
        value.write_parquet(f)
    else:
        import pyarrow.parquet as pq

        pq.write_table(value, f)


def _read_parquet(suffix: str, path: str) -> Any:
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if suffix == ".pandas.parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if suffix == ".polars.parquet":
        import polars as pl

        return pl.read_parquet(path)
    import pyarrow.parquet as pq

    return pq.read_table(path)
