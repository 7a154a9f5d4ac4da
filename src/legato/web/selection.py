"""The selection language over a snapshot, for a server that holds no Graph of user code.

The grammar and its evaluation are :mod:`legato.graph.select`'s; this module only presents the
snapshot's nodes and edges to it, with the bounds untrusted input needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from legato.graph.graph import walk
from legato.graph.select import NodeFacts, Selectable, select_nodes
from legato.graph.select import split_terms as _split_terms
from legato.web.catalog import Definitions

MAX_TERMS = 200


def _view(defs: Definitions) -> Selectable:
    facts = {k: NodeFacts(n.kind, n.group, n.tags) for k, n in defs.nodes.items()}
    return Selectable(
        facts,
        upstream=lambda keys, depth: walk(keys, defs.upstream, depth),
        downstream=lambda keys, depth: walk(keys, lambda k: defs.downstream.get(k, []), depth),
        unknown_hint="see GET /api/v1/definitions for what exists",
        bounded=True,
        max_terms=MAX_TERMS,
    )


def split_terms(selection: str | Iterable[str]) -> list[str]:
    """The terms of a selection, at most ``MAX_TERMS`` of them."""
    return _split_terms(selection, max_terms=MAX_TERMS)


def select_keys(defs: Definitions, selection: str | Iterable[str]) -> set[str]:
    """The keys ``selection`` names in ``defs``; SelectionError names a term that matches nothing."""
    return select_nodes(_view(defs), selection)
