"""The selection language: which assets and tasks a run, pipeline or backfill covers.

Grammar (terms separated by commas or spaces; the result is their union)::

    term     := [N] "+"? atom "+"? [N]      "+k" adds upstream, "k+" downstream, N limits depth
    atom     := key | glob | "group:" NAME | "tag:" K ["=" V] | "kind:" ("asset"|"task"|"check") | "*"

Examples: ``raw_orders+``, ``+report``, ``group:sales+``, ``tag:team=finance``, ``sales.*``,
``orders:check:*`` (the checks of ``orders``).

One implementation serves the Graph of user code (``select``) and processes that hold only a
snapshot (the web server builds a ``Selectable`` from it), so a selection the API accepts is one
the launcher can plan.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from legato.errors import SelectionError
from legato.graph.graph import Graph

_TERM = re.compile(r"^(?:(\d*)\+)?(.+?)(?:\+(\d*))?$")
_TERM_BOUNDED = re.compile(r"^(?:(\d{0,3})\+)?(.+?)(?:\+(\d{0,3}))?$")
MAX_TERM_LENGTH = 500

Closure = Callable[[Iterable[str], int | None], set[str]]


@dataclass(frozen=True)
class NodeFacts:
    """What the selection language reads of one node."""

    kind: str
    group: str | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Selectable:
    """Nodes and their upstream/downstream closures, wherever they come from.

    ``bounded`` is for untrusted input (the web API): at most ``max_terms`` terms, depths of at
    most three digits, and suggestions drawn from the first 5,000 known names.
    """

    nodes: Mapping[str, NodeFacts]
    upstream: Closure
    downstream: Closure
    unknown_hint: str = "run 'legato assets' to list what exists"
    bounded: bool = False
    max_terms: int | None = None


def select(graph: Graph, selection: str | Iterable[str]) -> set[str]:
    """Return the keys ``selection`` names; raise SelectionError if a term matches nothing."""
    facts = {k: NodeFacts(n.step.kind, n.step.group, n.step.tags) for k, n in graph.nodes.items()}
    return select_nodes(
        Selectable(facts, graph.upstream_closure, graph.downstream_closure), selection
    )


def select_nodes(view: Selectable, selection: str | Iterable[str]) -> set[str]:
    """``select`` over any ``Selectable``."""
    chosen: set[str] = set()
    for term in split_terms(selection, max_terms=view.max_terms):
        chosen |= _select_term(view, term)
    return chosen


def split_terms(selection: str | Iterable[str], *, max_terms: int | None = None) -> list[str]:
    """The terms of a selection; SelectionError if it is empty, not text, or too long."""
    parts = [selection] if isinstance(selection, str) else list(selection)
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise SelectionError(
                f"selection term {part!r} is not a string",
                hint="pass strings such as 'group:sales+'",
            )
        out.extend(t for t in re.split(r"[,\s]+", part) if t)
    if not out:
        raise SelectionError("empty selection", hint="name keys, 'group:NAME', 'tag:K=V' or '*'")
    if max_terms is not None and len(out) > max_terms:
        raise SelectionError(
            f"the selection has {len(out)} terms; at most {max_terms} are allowed",
            hint="use globs, 'group:NAME' or 'tag:K=V' to name many keys at once",
        )
    return out


def _select_term(view: Selectable, term: str) -> set[str]:
    if len(term) > MAX_TERM_LENGTH:
        raise SelectionError(
            f"selection term of {len(term)} characters is too long",
            hint="use globs or group:/tag: terms",
        )
    match = (_TERM_BOUNDED if view.bounded else _TERM).match(term)
    if match is None:
        raise SelectionError(
            f"cannot parse selection term {term!r}",
            obj=term,
            hint="write KEY, +KEY, KEY+, group:NAME or tag:K=V",
        )
    up_depth, atom, down_depth = match.groups()
    base = _select_atom(view, atom, term)
    result = set(base)
    if up_depth is not None:
        result |= view.upstream(base, int(up_depth) if up_depth else None)
    if down_depth is not None:
        result |= view.downstream(base, int(down_depth) if down_depth else None)
    return result


def _select_atom(view: Selectable, atom: str, term: str) -> set[str]:
    nodes = view.nodes
    if atom == "*":
        return set(nodes)
    if atom.startswith("group:"):
        group = atom[6:]
        found = {k for k, n in nodes.items() if n.group == group}
        groups = {n.group for n in nodes.values() if n.group}
        return _nonempty(
            view, found, term, f"no asset or task is in group {group!r}", group, groups
        )
    if atom.startswith("tag:"):
        name, _, value = atom[4:].partition("=")
        found = {
            k for k, n in nodes.items() if name in n.tags and (not value or n.tags[name] == value)
        }
        tags = {f"{k}={v}" for n in nodes.values() for k, v in n.tags.items()}
        message = f"no asset or task has tag {atom[4:]!r}"
        return _nonempty(view, found, term, message, atom[4:], tags)
    if atom.startswith("kind:"):
        kind = atom[5:]
        if kind not in ("asset", "task", "check"):
            raise SelectionError(
                f"unknown kind in {term!r}",
                obj=term,
                hint="use kind:asset, kind:task or kind:check",
            )
        return {k for k, n in nodes.items() if n.kind == kind}
    if any(c in atom for c in "*?["):
        found = {k for k in nodes if fnmatch.fnmatchcase(k, atom)}
        message = f"the pattern {atom!r} matches no asset or task"
        return _nonempty(view, found, term, message, atom, set())
    if atom in nodes:
        return {atom}
    by_name = [k for k in nodes if k.rsplit(".", 1)[-1] == atom]
    if len(by_name) == 1:
        return set(by_name)
    message = f"no asset or task is called {atom!r}"
    return _nonempty(view, set(), term, message, atom, set(nodes))


def _nonempty(
    view: Selectable, found: set[str], term: str, message: str, wanted: str, known: set[str]
) -> set[str]:
    if found:
        return found
    pool = sorted(known)[:5000] if view.bounded else sorted(known)
    close = difflib.get_close_matches(wanted, pool, n=1)
    hint = f"did you mean {close[0]!r}?" if close else view.unknown_hint
    raise SelectionError(f"selection {term!r}: {message}", obj=term, hint=hint)
