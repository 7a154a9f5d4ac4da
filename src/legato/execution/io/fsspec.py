"""An IO manager for object stores and other fsspec filesystems (``s3://``, ``gs://``, ``file://``).

Values are pickled and committed in two moves: the bytes go to a staged key under
``<root>/.staging/`` and are then copied over the final key and the staged object removed, so a
reader sees the previous complete object or the new complete one, never a partial upload (a
crash leaves at most an orphaned staged object, which no reader ever looks at). The SHA-256 of
the object is returned with the metadata recorded for the materialization. Keys use the layout of
the filesystem IO manager, every segment validated or percent-encoded, so no key leaves the root.
fsspec (and s3fs for S3) is imported when first used: ``pip install 'legato[s3]'``.

Every object is signed as the filesystem IO manager's files are (see ``signing``): whoever can
write to the bucket cannot make a worker unpickle an object of theirs. The key is
``$LEGATO_SIGNING_KEY``, the file ``$LEGATO_SIGNING_KEY_FILE`` names, or the project's key file
(``.legato/signing.key``, beside its local storage), which the process that launches runs makes;
a copy of the IO manager sent to a worker process never makes one.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from legato._internal.optional import require
from legato.definitions.io import IOContext, IOManagerConfig
from legato.definitions.resources import SecretRef
from legato.errors import NotFoundError
from legato.execution.io.paths import describe_value, storage_parts
from legato.execution.io.signing import SigningKey, default_key_file, load_key

_SUFFIX = ".pkl"


class FsspecIOManager:
    """Pickled values in an fsspec filesystem, committed atomically.

    Args:
        url: the root, e.g. ``"s3://bucket/legato"``.
        storage_options: passed to the filesystem (credentials, ``client_kwargs``, …). Prefer
            the environment or instance roles for credentials, or a ``SecretRef`` (read where the
            filesystem is opened); these options are pickled with the project when it is sent to
            worker processes.
        key_file: the signing key's file when neither ``LEGATO_SIGNING_KEY`` nor
            ``LEGATO_SIGNING_KEY_FILE`` is set (default: ``signing.key`` beside the local storage,
            ``LEGATO_STORAGE`` or ``.legato/storage``: the project's ``.legato/signing.key``).

    Example:
        >>> io_manager = FsspecIOManager("s3://analytics/legato")  # in a project module
    """

    def __init__(
        self,
        url: str,
        *,
        storage_options: Mapping[str, Any] | None = None,
        key_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.storage_options = dict(storage_options or {})
        if key_file is None:
            local = Path(os.environ.get("LEGATO_STORAGE") or ".legato/storage")
            key_file = default_key_file(local.resolve())
        self.key_file = Path(key_file).expanduser().resolve()
        self.create_key = True  # this process launches runs; copies sent to workers never make one
        self._key: SigningKey | None = None
        self._fs: Any = None
        self._root = ""

    def __getstate__(
        self,
    ) -> dict[str, Any]:  # a filesystem client and a key do not travel; their recipes do
        return {"url": self.url, "storage_options": self.storage_options, "key_file": self.key_file}

    def __setstate__(self, state: dict[str, Any]) -> None:
        options, key_file = state["storage_options"], state.get("key_file")
        self.__init__(state["url"], storage_options=options, key_file=key_file)  # type: ignore[misc]
        self.create_key = False  # a worker never makes a key of its own

    @classmethod
    def from_config(cls, config: IOManagerConfig) -> FsspecIOManager:
        """The ``fsspec`` plugin: ``url`` and ``storage_options`` (a table; a value written
        ``{secret = "NAME"}`` is read where the filesystem is opened)."""
        config.check_fields(required={"url"}, optional={"storage_options"})
        url, options = config.options["url"], config.options.get("storage_options", {})
        if not isinstance(url, str) or "://" not in url:
            fix = 'url = "s3://bucket/legato"'
            raise config.error(f"{url!r} is not a URL", fix, field="url")
        if not isinstance(options, Mapping):
            fix = "storage_options = { anon = false }"
            raise config.error("must be a table", fix, field="storage_options")
        return cls(url, storage_options=options, key_file=default_key_file(config.storage))

    def __repr__(self) -> str:
        return f"FsspecIOManager({self.url!r})"

    @property
    def key(self) -> SigningKey:
        """The key values are signed with (read, or first made by the engine, on first use)."""
        if self._key is None:
            self._key = load_key(
                self.key_file.parent, create=self.create_key, key_file=self.key_file
            )
        return self._key

    @property
    def fs(self) -> Any:
        if self._fs is None:
            fsspec = require("fsspec", "s3")
            options = _resolved(self.storage_options)
            self._fs, self._root = fsspec.core.url_to_fs(self.url, **options)
            self._root = self._root.rstrip("/")
        return self._fs

    def key_of(self, context: IOContext) -> str:
        """The object key a value lives at (without the filesystem's protocol)."""
        parts = storage_parts(context, where=self.url)
        self.fs  # noqa: B018 - connects on first use and sets the root
        return f"{self._root}/{'/'.join(parts)}{_SUFFIX}"

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        final = self.key_of(context)
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        signed = self.key.header(self._place(final), data) + data
        digest = hashlib.sha256(signed).hexdigest()
        staged = f"{self._root}/.staging/{uuid.uuid4().hex}-{digest[:16]}{_SUFFIX}"
        fs = self.fs
        fs.pipe_file(staged, signed)
        try:
            fs.cp_file(staged, final)  # the commit: an object store replaces the object whole
        finally:
            fs.rm_file(staged)
        return {
            "uri": self._uri(final),
            "format": "pickle",
            "bytes": len(signed),
            "sha256": digest,
        }

    def load(self, context: IOContext) -> Any:
        key = self.key_of(context)
        signing = self.key  # before reading: a missing key is the error to report
        try:
            data = self.fs.cat_file(key)
        except FileNotFoundError:
            what = context.asset_key or f"the result of {context.step} in run {context.run_id}"
            raise NotFoundError(
                f"no stored value for {what} at {self._uri(key)}",
                obj=context.asset_key or str(context.step),
                hint="materialize it first (legato run KEY)",
            ) from None
        what, fix = describe_value(context)
        payload = signing.verified(data, self._place(key), what=what, path=self._uri(key), fix=fix)
        return pickle.loads(payload)  # signed by this install's key, at this very key

    def exists(self, context: IOContext) -> bool:
        return bool(self.fs.exists(self.key_of(context)))

    def _place(self, key: str) -> str:
        """Where ``key`` is under the root: what its signature binds it to."""
        return key[len(self._root) + 1 :]

    def _uri(self, key: str) -> str:
        protocol = self.fs.protocol
        name = protocol if isinstance(protocol, str) else protocol[0]
        return f"{name}://{key}" if name != "file" else key


def _resolved(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with each SecretRef (also in a nested table) replaced by its value."""
    return {
        k: v.get() if isinstance(v, SecretRef) else _resolved(v) if isinstance(v, Mapping) else v
        for k, v in options.items()
    }
