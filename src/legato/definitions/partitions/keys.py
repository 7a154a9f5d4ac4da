"""The partition-key grammar: what a key may contain, multi-dimension keys, and safe path segments.

Grammar of a key for one dimension (a static key, a dynamic key, a time-window key)::

    key := 1 to 256 characters, with none of the following:
           - leading or trailing whitespace
           - control or invisible format characters (NUL, ESC, DEL, U+200B, U+202E, line separators)
           - '/' or '\\' (path separators), and no key is '.' or '..'
           - a drive prefix such as 'C:' (a path on Windows)
           - the separators ',' '=' '|' (reserved for multi-dimension keys, see below)
           - any of the above hidden behind percent-encoding ('%2e%2e', '%2F', '%252f', '%00')
             or Unicode compatibility forms (fullwidth dots and slashes)

Multi-dimension keys (a key of a product space) are structured: :class:`MultiPartitionKey` maps
dimension name to value, and has ONE canonical string form, ``dim=value,dim2=value2``, with the
dimensions in the order the product declares them. Because ``=`` ``,`` and ``|`` separate the parts
(``|`` is kept free for lists of keys), no single-dimension key may contain them; a value such as
``a,b`` is refused with a message saying so. Dimension names are identifiers:
``[A-Za-z_][A-Za-z0-9_-]{0,63}``.

Keys are never used raw as file names: IO managers call :func:`key_to_path_segment`, which
percent-encodes everything outside ``[a-z0-9_.-]`` (upper-case letters too, so that two keys never
share a file on a case-insensitive file system), escapes a leading or trailing ``.`` and Windows
device names, and so never yields ``..``, a separator or an empty string.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from urllib.parse import unquote

from legato.errors import PartitionError

MAX_KEY_LENGTH = 256
SEPARATORS = frozenset(",=|")
_DIMENSION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SAFE_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{name}{n}" for name in ("COM", "LPT") for n in "0123456789¹²³"}
)
_MAX_SEGMENT = 200  # bytes; file systems allow 255 per name


def _shown(key: str) -> str:
    return repr(key if len(key) <= 60 else key[:57] + "...")


def _refuse(key: str, what: str, problem: str, fix: str) -> PartitionError:
    return PartitionError(f"{what} {_shown(key)} {problem}", obj=_shown(key), hint=fix)


def _hidden_problem(text: str) -> str | None:
    """What is wrong with ``text`` as a path-safe string, ignoring encodings; None if nothing."""
    for char in text:
        if unicodedata.category(char) in _BAD_CATEGORIES:
            return f"contains the control or invisible character U+{ord(char):04X}"
    if "/" in text or "\\" in text:
        return "contains a path separator ('/' or '\\')"
    if text in (".", ".."):
        return "is a relative path segment ('.' or '..')"
    return None


def check_key(key: object, *, what: str = "partition key") -> str:
    """Return ``key`` if it is a valid key for one dimension, else raise PartitionError saying why.

    The grammar is in this module's docstring.
    """
    if isinstance(key, str) and key in _VALID:  # planning checks the same keys many times
        return key
    checked = _check_key(key, what)
    if len(_VALID) < _VALID_MAX:
        _VALID.add(checked)
    return checked


_VALID: set[str] = set()
_VALID_MAX = 1_000_000


def _check_key(key: object, what: str) -> str:
    if not isinstance(key, str):
        raise PartitionError(
            f"{what} {key!r} must be a string, not {type(key).__name__}",
            obj=repr(key),
            hint="pass the key as a str",
        )
    if not key:
        raise PartitionError(f"{what} is empty", obj="''", hint="use a non-empty key")
    if len(key) > MAX_KEY_LENGTH:
        raise _refuse(
            key,
            what,
            f"is {len(key)} characters long, more than {MAX_KEY_LENGTH}",
            "use a shorter key (keep long identifiers in the asset's data, not its key)",
        )
    if key[0].isspace() or key[-1].isspace():
        raise _refuse(key, what, "has leading or trailing whitespace", "strip the key")
    problem = _hidden_problem(key)
    if problem:
        raise _refuse(
            key,
            what,
            problem,
            "partition keys must not be paths; use letters, digits, '-', '_', '.', ':'",
        )
    if _DRIVE_RE.match(key):
        raise _refuse(
            key,
            what,
            "starts with a drive prefix like 'C:' (a path on Windows)",
            "put the letter and ':' later in the key, e.g. 'x-C:1'",
        )
    separators = sorted(SEPARATORS.intersection(key))
    if separators:
        listed = " ".join(repr(s) for s in separators)
        raise _refuse(
            key,
            what,
            f"contains {listed}, which separate the dimensions of a "
            "multi-dimension key ('dim=value,dim2=value2')",
            "use another character such as '-', '_' or '+'",
        )
    _check_encoded_forms(key, what)
    return key


def _check_encoded_forms(key: str, what: str) -> None:
    decoded = key
    for _ in range(4):  # '%25' decodes to '%': peel layers until nothing changes
        if "%" not in decoded:
            break
        try:
            step = unquote(decoded, errors="strict")
        except UnicodeDecodeError:
            raise _refuse(
                key,
                what,
                "contains percent-escapes that are not valid UTF-8",
                "write the characters themselves, not percent-escapes",
            ) from None
        if step == decoded:
            break
        decoded = step
        problem = _hidden_problem(decoded)
        if problem:
            raise _refuse(
                key,
                what,
                f"is percent-encoded and, decoded, {problem}",
                "partition keys must not be paths, encoded or not",
            )
    folded = unicodedata.normalize("NFKC", key)
    if folded != key:
        problem = _hidden_problem(folded)
        if problem:
            raise _refuse(
                key,
                what,
                f"uses look-alike characters and, normalised, {problem}",
                "use plain ASCII punctuation",
            )


def check_dimension_name(name: object, *, what: str = "dimension name") -> str:
    """Return ``name`` if it is a valid dimension or dynamic set name, else raise PartitionError."""
    if isinstance(name, str) and name in _VALID_NAMES:
        return name
    if not isinstance(name, str) or not _DIMENSION_RE.match(name):
        shown = repr(name)[:60]
        raise PartitionError(
            f"{what} {shown} is not valid",
            obj=shown,
            hint="use a letter or '_' followed by up to 63 letters, digits, '_' or '-' "
            "(e.g. 'tenant', 'date')",
        )
    if len(_VALID_NAMES) < 10_000:
        _VALID_NAMES.add(name)
    return name


_VALID_NAMES: set[str] = set()


class MultiPartitionKey(Mapping[str, str]):
    """A key of a product space: an ordered, immutable mapping dimension name -> value.

    ``str(key)`` is the canonical form ``dim=value,dim2=value2`` in this key's order; a product
    space orders its keys' dimensions as it declares them (see ``ProductPartitions.key``).
    Equality ignores order (it is a mapping); the string form does not.

    Example:
        >>> k = MultiPartitionKey({"tenant": "acme", "date": "2024-01-01"})
        >>> str(k)
        'tenant=acme,date=2024-01-01'
    """

    __slots__ = ("_items",)

    def __init__(self, values: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        pairs = tuple(values.items() if isinstance(values, Mapping) else values)
        if not pairs:
            raise PartitionError(
                "a multi-dimension key needs at least one dimension",
                hint="pass {'dimension': 'value', ...}",
            )
        seen: set[str] = set()
        for name, value in pairs:
            check_dimension_name(name)
            if name in seen:
                raise PartitionError(
                    f"dimension {name!r} appears twice in a multi-dimension key",
                    obj=name,
                    hint="give each dimension once",
                )
            seen.add(name)
            check_key(value, what=f"value of dimension {name!r}")
        self._items: tuple[tuple[str, str], ...] = pairs

    def __getitem__(self, name: str) -> str:
        for dim, value in self._items:
            if dim == name:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (dim for dim, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __str__(self) -> str:
        return ",".join(f"{dim}={value}" for dim, value in self._items)

    def __repr__(self) -> str:
        return f"MultiPartitionKey({dict(self._items)!r})"

    def ordered(self, dimensions: Sequence[str]) -> MultiPartitionKey:
        """The same key with its dimensions in ``dimensions`` order (which must name them all)."""
        if sorted(dimensions) != sorted(self):
            raise PartitionError(
                f"key {str(self)!r} has dimensions {sorted(self)}, expected {list(dimensions)}",
                obj=str(self),
                hint=f"give exactly the dimensions {', '.join(dimensions)}",
            )
        return MultiPartitionKey((dim, self[dim]) for dim in dimensions)


def format_multi_key(values: Mapping[str, str], dimensions: Sequence[str] | None = None) -> str:
    """The canonical string of a multi-dimension key, in ``dimensions`` order when given."""
    key = values if isinstance(values, MultiPartitionKey) else MultiPartitionKey(values)
    return str(key.ordered(dimensions) if dimensions is not None else key)


def parse_multi_key(text: str, dimensions: Sequence[str] | None = None) -> MultiPartitionKey:
    """Parse ``dim=value,dim2=value2``; when ``dimensions`` is given, require exactly those.

    The result keeps the order of ``text``; use ``format_multi_key(key, dimensions)`` (or the
    product's ``key()``) for the canonical string.
    """
    if not isinstance(text, str) or not text:
        raise PartitionError(
            f"multi-dimension key {text!r} is empty or not a string",
            obj=repr(text),
            hint="write it as 'dim=value,dim2=value2'",
        )
    pairs: list[tuple[str, str]] = []
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep:
            raise PartitionError(
                f"multi-dimension key {_shown(text)} has a part {part!r} without '='",
                obj=_shown(text),
                hint="write it as 'dim=value,dim2=value2'; values may not contain ',' '=' '|'",
            )
        pairs.append((name, value))
    key = MultiPartitionKey(pairs)
    if dimensions is not None:
        key.ordered(dimensions)  # raises when the dimensions differ
    return key


def key_to_path_segment(key: str) -> str:
    """A file-name-safe, collision-free encoding of ``key`` (single- or multi-dimension).

    Percent-encodes (UTF-8, upper-case hex) every character outside ``[a-z0-9_.-]``, a leading
    or trailing ``.`` and the first letter of a Windows device name (``NUL``, ``COM1``...). The
    result is never empty, ``.`` or ``..``, contains no separator, and differs for different keys
    even on a case-insensitive file system. :func:`path_segment_to_key` reverses it, except for
    segments longer than 200 bytes, which are cut and suffixed with ``~`` and a SHA-256 digest
    (``~`` never appears otherwise, so the two forms cannot collide).
    """
    if not isinstance(key, str) or not key:
        raise PartitionError(
            f"cannot make a path segment of {key!r}",
            obj=repr(key),
            hint="pass a non-empty partition key",
        )
    parts = [char if char in _SAFE_PATH_CHARS else _escape(char) for char in key]
    if key[0] == ".":
        parts[0] = "%2E"
    if key[-1] == ".":
        parts[-1] = "%2E"
    if key.split(".", 1)[0].upper() in _WINDOWS_DEVICES and parts[0] == key[0]:
        parts[0] = _escape(key[0])
    segment = "".join(parts)
    if len(segment) <= _MAX_SEGMENT:
        return segment
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    cut = segment[: _MAX_SEGMENT - 40]
    cut = cut[: cut.rfind("%")] if "%" in cut[-2:] else cut  # never cut an escape in half
    return f"{cut}~{digest}"


def path_segment_to_key(segment: str) -> str:
    """Invert :func:`key_to_path_segment` (not possible for digest-shortened segments)."""
    if "~" in segment:
        raise PartitionError(
            f"path segment {_shown(segment)} was shortened with a digest",
            obj=_shown(segment),
            hint="look the key up where it was stored",
        )
    return unquote(segment, errors="surrogatepass")


def _escape(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
