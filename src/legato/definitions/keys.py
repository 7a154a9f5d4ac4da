"""Names of things: asset and task keys, and the identity of a step (node, partition, map index)."""

from __future__ import annotations

import re
from typing import NamedTuple

from legato.errors import DefinitionError

# A key is dot-separated segments; each segment is an identifier-like word. The grammar keeps keys
# safe as path segments, SQL literals and HTML (no separators, no traversal, no markup).
_SEGMENT = r"[A-Za-z_][A-Za-z0-9_\-]{0,99}"
_KEY_RE = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT}){{0,9}}$")
MAX_KEY_LENGTH = 255


def validate_key(key: object, *, what: str = "asset key", source: str | None = None) -> str:
    """Return ``key`` if it is a valid asset/task key, else raise DefinitionError saying why."""
    if not isinstance(key, str):
        raise DefinitionError(
            f"{what} {key!r} must be a string, not {type(key).__name__}",
            obj=repr(key),
            source=source,
        )
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key):
        shown = key if len(key) <= 80 else key[:77] + "..."
        raise DefinitionError(
            f"{what} {shown!r}{_at(source)} is not a valid key",
            obj=shown,
            source=source,
            hint=(
                "use up to 10 dot-separated segments, each a letter or '_' followed by letters, "
                "digits, '_' or '-' (e.g. 'sales.clean_orders')"
            ),
        )
    return key


def _at(source: str | None) -> str:
    return f" ({source})" if source else ""


class StepKey(NamedTuple):
    """Identity of one step in a run: which node, for which partition, which mapped item.

    ``partition`` is "" for unpartitioned nodes; ``map_index`` is -1 unless the step is one item of a
    dynamic fan-out. The string form is ``node``, ``node[partition]``, ``node#3`` or
    ``node[partition]#3``.
    """

    node: str
    partition: str = ""
    map_index: int = -1

    def __str__(self) -> str:
        text = self.node
        if self.partition:
            text += f"[{self.partition}]"
        if self.map_index >= 0:
            text += f"#{self.map_index}"
        return text

    @classmethod
    def parse(cls, text: str) -> StepKey:
        node, partition, map_index = text, "", -1
        if "#" in node and node.rsplit("#", 1)[1].isdigit():
            node, idx = node.rsplit("#", 1)
            map_index = int(idx)
        if node.endswith("]") and "[" in node:
            node, partition = node[:-1].split("[", 1)
        return cls(node, partition, map_index)
