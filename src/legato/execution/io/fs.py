"""The default IO manager: files under a root, pickle or Parquet, written atomically.

Assets live at ``ROOT/assets/<segment>/.../<name>/<partition>.<ext>`` (partition ``__all__`` when
unpartitioned); task results at ``ROOT/runs/<run_id>/<step>.<ext>``. Every path segment comes from
a validated key or is percent-encoded, and the final path is checked to lie under the root.
Pickles are signed (see ``signing``) and loaded only if their signature holds; Parquet files are
data, never code, and stay plain Parquet. Directories are 0700 and files 0600.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from legato._internal.private import make_private_dirs, open_private
from legato.definitions.io import IOContext
from legato.errors import NotFoundError, PartitionError
from legato.execution.io.signing import SigningKey, load_key

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_TABLE_SUFFIX = {
    "pandas": ".pandas.parquet",
    "polars": ".polars.parquet",
    "pyarrow": ".arrow.parquet",
}
_SUFFIXES = (".pkl", *_TABLE_SUFFIX.values())


def path_segment(text: str) -> str:
    """A filesystem-safe, collision-free segment: percent-encode all but ``[A-Za-z0-9_-]``."""
    if not text:
        raise PartitionError("an empty name cannot be a path segment")
    if len(text) > 60:  # stay under NAME_MAX (255) after encoding; longer keys end in a digest
        return _encode(text[:40]) + "~" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return _encode(text)


def storage_parts(context: IOContext, *, where: str) -> list[str]:
    """The path segments a value is stored under: ``assets/<key segments>/<partition>`` or
    ``runs/<run>/<step>``. Every segment is a validated key segment or percent-encoded (no "/",
    no ".."), so the result lies under any root by construction; no lookups are needed."""
    if context.asset_key is not None:
        parts = [
            "assets",
            *context.asset_key.split("."),
            path_segment(context.partition_key) if context.partition_key else "__all__",
        ]
    else:
        parts = ["runs", path_segment(context.run_id), path_segment(str(context.step))]
    if any(p in ("", ".", "..") or "/" in p for p in parts):
        raise PartitionError(f"refusing to store {parts!r}: not a safe path under {where}")
    return parts


def _encode(text: str) -> str:
    # urllib's quote() never encodes "." (so ".." would survive); encode every byte ourselves.
    return "".join(chr(b) if chr(b) in _SAFE else f"%{b:02X}" for b in text.encode())


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
        self.durable_tasks = durable_tasks
        self.create_key = create_key
        self._dirs: set[Path] = set()
        self._key: SigningKey | None = None

    def __getstate__(self) -> dict[str, Any]:  # the key never travels: each process reads its own
        return {**self.__dict__, "_key": None, "_dirs": set()}

    @property
    def key(self) -> SigningKey:
        """The key values are signed with (read, or first created, on first use)."""
        if self._key is None:
            self._key = load_key(self.root, create=self.create_key)
        return self._key

    def _base(self, context: IOContext) -> Path:
        return self.root.joinpath(*storage_parts(context, where=str(self.root)))

    def _ensure_dir(self, directory: Path) -> None:
        if directory not in self._dirs:
            make_private_dirs(directory)
            self._dirs.add(directory)

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        return self._write(context, value, staged=None)

    def stage(self, context: IOContext, value: Any, token: str) -> Mapping[str, Any]:
        """Write ``value`` beside its place under a name of its own (``token``: one attempt);
        :meth:`publish` moves it into place. An attempt that lost its run never publishes, so it
        can never overwrite the value of the attempt that replaced it."""
        return self._write(context, value, staged=token)

    def publish(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Move a staged value into place (atomically); return its metadata without the stage."""
        out = dict(metadata)
        staged = self.root.joinpath(str(out.pop("staged"))).resolve()
        final = Path(str(out["path"])).name
        if (
            not staged.is_relative_to(self.root)
            or not staged.name.startswith(".staged-")
            or not staged.name.endswith(final)
            or final.startswith(".")
        ):  # metadata crossed from a worker: trust no path in it
            raise PartitionError(
                f"refusing to publish {staged}: not a staged value under {self.root}"
            )
        target = staged.with_name(final)
        staged.replace(target)
        for other in _SUFFIXES:  # a value that changed format must not leave its old file behind
            if not final.endswith(other):
                _remove(target.with_name(final[: -len(_suffix_of(final))] + other))
        if out.pop("durable", False):
            _fsync_dir(target.parent)
        return out

    def _write(self, context: IOContext, value: Any, staged: str | None) -> dict[str, Any]:
        base = self._base(context)
        self._ensure_dir(base.parent)
        durable = context.asset_key is not None or self.durable_tasks
        library = type(value).__module__.split(".")[0]
        if library in _TABLE_SUFFIX and type(value).__name__ in ("DataFrame", "Table"):
            suffix, fmt = _TABLE_SUFFIX[library], "parquet"

            def write(f: Any) -> Any:
                return _write_parquet(library, value, f)
        else:
            suffix, fmt = ".pkl", "pickle"
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            header = self.key.header(self._place(base, suffix), data)

            def write(f: Any) -> Any:
                f.write(header)
                return f.write(data)

        path = base.with_name(base.name + suffix)
        if staged is not None:
            target = base.with_name(f".staged-{staged}-{base.name}{suffix}")
            size = _atomic_write(target, write, durable, sync_dir=False)
            return {
                "path": str(path),
                "format": fmt,
                "bytes": size,
                "staged": str(target.relative_to(self.root)),
                "durable": durable,
            }
        size = _atomic_write(path, write, durable)
        for other in _SUFFIXES:  # a value that changed format must not leave its old file behind
            if other != suffix:
                _remove(base.with_name(base.name + other))
        return {"path": str(path), "format": fmt, "bytes": size}

    def load(self, context: IOContext) -> Any:
        base = self._base(context)
        for suffix in _SUFFIXES:
            path = base.with_name(base.name + suffix)
            try:
                if suffix == ".pkl":
                    key = self.key  # before reading: a missing key is the error to report
                    with open(path, "rb") as f:
                        data = f.read()
                    what, fix = _describe(context)
                    place = self._place(base, suffix)
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
        base = self._base(context)
        return any(base.with_name(base.name + s).exists() for s in _SUFFIXES)

    def _place(self, base: Path, suffix: str) -> str:
        """Where a value lives under the root (what its signature binds it to)."""
        return base.relative_to(self.root).as_posix() + suffix


def _describe(context: IOContext) -> tuple[str, str]:
    """The value ``context`` names, and the command that materializes it again."""
    if context.asset_key is None:
        return (
            f"the result of step {str(context.step)!r} of run {context.run_id}",
            f"legato rerun {context.run_id}",
        )
    partition = context.partition_key
    if not partition:
        return f"asset {context.asset_key!r}", f"legato run {context.asset_key}"
    return (
        f"asset {context.asset_key!r} partition {partition!r}",
        f"legato run {context.asset_key} --partition {partition}",
    )


_tmp_counter = itertools.count()


def _suffix_of(name: str) -> str:
    return next(s for s in _SUFFIXES if name.endswith(s))


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _atomic_write(path: Path, write: Any, durable: bool, *, sync_dir: bool = True) -> int:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{next(_tmp_counter)}-{path.name[:60]}")
    try:
        with os.fdopen(open_private(tmp), "wb") as f:
            write(f)
            size = f.tell()
            if durable:
                f.flush()
                os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        _remove(tmp)
        raise
    if durable and sync_dir:
        _fsync_dir(path.parent)
    return int(size)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _write_parquet(library: str, value: Any, f: Any) -> None:
    if library == "pandas":
        value.to_parquet(f)
    elif library == "polars":
        value.write_parquet(f)
    else:
        import pyarrow.parquet as pq

        pq.write_table(value, f)


def _read_parquet(suffix: str, path: Path) -> Any:
    if not path.exists():
        raise FileNotFoundError(path)
    if suffix == ".pandas.parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if suffix == ".polars.parquet":
        import polars as pl

        return pl.read_parquet(path)
    import pyarrow.parquet as pq

    return pq.read_table(path)
