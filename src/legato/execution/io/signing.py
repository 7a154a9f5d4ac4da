"""Signed values: every pickle the built-in IO managers write (files, fsspec) carries an HMAC.

Loading a pickle runs code, so a worker that loaded any file found in the storage would run
whatever anyone able to write there had put in it. Each value therefore starts with a header
(``MAGIC``, the key's id, HMAC-SHA256 over the value's place under the root and its bytes) and
is refused, before a byte of it is unpickled, unless the header is this key's signature of it
there. Binding the place refuses a signed value copied over another one too.

The key, first found of:

1. ``$LEGATO_SIGNING_KEY``: the key itself (32 characters or more), for hosts that share
   storage: every process that runs steps (remote workers, Dask workers) needs the same key;
2. the file ``$LEGATO_SIGNING_KEY_FILE`` names;
3. ``signing.key`` in the ``.legato`` directory beside the storage root (for the default
   ``.legato/storage``: ``.legato/signing.key``), created on first use with 64 random hex
   digits, mode 0600 — outside the storage, so write access to the storage is not enough.

A key file owned by another user (root aside), or that others may read or anyone but its owner
may write, is refused. A key file's content and ``$LEGATO_SIGNING_KEY`` are the same thing:
``export LEGATO_SIGNING_KEY="$(cat .legato/signing.key)"`` gives another host the same key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from legato._internal.private import make_private_dirs, open_private
from legato._internal.secrets import remember
from legato.errors import ConfigError, SignatureError

MAGIC = b"LGTOSIG1"
HEADER = len(MAGIC) + 8 + 32  # magic, key id, HMAC-SHA256
MIN_KEY = 32
ENV_KEY = "LEGATO_SIGNING_KEY"
ENV_FILE = "LEGATO_SIGNING_KEY_FILE"


class SigningKey:
    """A signing key; its id (a digest of the key) tells keys apart in messages."""

    __slots__ = ("_secret", "id", "source")

    def __init__(self, secret: bytes, source: str) -> None:
        self._secret = secret
        self.id = hmac.new(secret, b"legato signing key id", hashlib.sha256).hexdigest()[:16]
        self.source = source

    def __repr__(self) -> str:
        return f"SigningKey(id={self.id}, from {self.source})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError(
            "a signing key never travels: each process reads its own (LEGATO_SIGNING_KEY)"
        )

    def header(self, place: str, payload: bytes) -> bytes:
        """What precedes ``payload`` stored at ``place`` (its path under the root)."""
        return MAGIC + bytes.fromhex(self.id) + self._mac(place, payload)

    def verified(
        self, data: bytes, place: str, *, what: str, path: str | Path, fix: str
    ) -> memoryview:
        """The payload of ``data`` (read from ``path``, stored at ``place``) if this key signed
        it there; else SignatureError naming ``what`` (the value), the file and ``fix``."""
        refused = f"refusing to load {what} from {path}"
        view = memoryview(data)
        if len(data) < HEADER or data[: len(MAGIC)] != MAGIC:
            raise SignatureError(
                f"{refused}: the file is not signed, so nothing shows that Legato wrote it "
                "(loading a pickle runs code)",
                obj=what,
                hint=f"if an older Legato stored it, materialize it again ({fix}); if nobody you "
                "trust wrote it, delete it and check who can write to the storage",
            )
        key_id = data[len(MAGIC) : len(MAGIC) + 8].hex()
        if key_id != self.id:
            raise SignatureError(
                f"{refused}: it was signed with another key (id {key_id}) than this process "
                f"uses (id {self.id}, from {self.source})",
                obj=what,
                hint="give every process that runs steps the same key (set LEGATO_SIGNING_KEY "
                f"to the content of the key file the others use), or materialize it again ({fix})",
            )
        if not hmac.compare_digest(view[len(MAGIC) + 8 : HEADER], self._mac(place, view[HEADER:])):
            raise SignatureError(
                f"{refused}: its signature does not match its content, so it was changed or "
                "moved after Legato wrote it",
                obj=what,
                hint=f"materialize it again ({fix}) and check who can write to the storage",
            )
        return view[HEADER:]

    def _mac(self, place: str, payload: bytes | memoryview) -> bytes:
        mac = hmac.new(self._secret, place.encode(), hashlib.sha256)
        mac.update(b"\0")
        mac.update(payload)
        return mac.digest()


def default_key_file(storage_root: Path) -> Path:
    """``signing.key`` in the ``.legato`` directory beside ``storage_root``."""
    parent = storage_root.parent
    return (parent if parent.name == ".legato" else parent / ".legato") / "signing.key"


def load_key(
    storage_root: Path,
    *,
    create: bool = True,
    env: Mapping[str, str] | None = None,
    key_file: Path | None = None,
) -> SigningKey:
    """The signing key for values under ``storage_root`` (see the module docstring); the default
    key file (``key_file``, else the one beside ``storage_root``) is created if missing and
    ``create``."""
    env = os.environ if env is None else env
    text = env.get(ENV_KEY, "").strip()
    if text:
        return _key(text, "$" + ENV_KEY)
    named = env.get(ENV_FILE)
    path = Path(named) if named else key_file or default_key_file(storage_root)
    if not named and create:
        _create(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise ConfigError(
            f"no signing key: {ENV_KEY} is not set and {path} does not exist",
            obj=str(path),
            hint=f"set {ENV_KEY} here to the key the process that launches runs uses (the "
            "content of its .legato/signing.key), or make that file available at this path",
        ) from None
    with os.fdopen(fd, "rb") as f:
        _check_private(path, os.fstat(f.fileno()))
        content = f.read().decode("utf-8", "replace").strip()
    return _key(content, str(path))


def _key(text: str, source: str) -> SigningKey:
    if len(text) < MIN_KEY:
        raise ConfigError(
            f"the signing key from {source} is {len(text)} characters long; Legato needs at "
            f"least {MIN_KEY}",
            obj=source,
            hint='make one with: python -c "import secrets; print(secrets.token_hex(32))"',
        )
    remember(text)  # the key is a secret like any other: masked wherever it might be printed
    return SigningKey(text.encode(), source)


def _check_private(path: Path, st: os.stat_result) -> None:
    if st.st_uid not in (os.geteuid(), 0):
        raise ConfigError(
            f"the signing key file {path} belongs to another user (uid {st.st_uid})",
            obj=str(path),
            hint="whoever owns it can forge stored values: delete it, or point "
            f"{ENV_FILE} at a key file of this user's own",
        )
    if st.st_mode & 0o027:
        raise ConfigError(
            f"the signing key file {path} has mode {st.st_mode & 0o777:04o}: other users may "
            "read or change it",
            obj=str(path),
            hint=f"chmod 600 {path} (and make a new key if it may have been read)",
        )


def _create(path: Path) -> None:
    """Write a new random key at ``path`` unless one is there; concurrent first uses agree on
    one key (the file appears whole, by a hard link, or not at all)."""
    if path.exists():
        return
    make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        with os.fdopen(open_private(tmp), "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
