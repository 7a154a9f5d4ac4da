"""The definitions the server shows: the latest snapshot, parsed once per change and indexed.

The web server never imports user code (S-10); it reads the snapshot that whoever loaded the code
stored. Each request checks the newest snapshot's id (one indexed read) and re-parses only when it
changed; the lineage layout is cached per snapshot fingerprint.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from legato.graph.snapshot import DefinitionsSnapshot, ErrorSnapshot, NodeSnapshot, PipelineSnapshot
from legato.store.engine import Store
from legato.store.web_queries import latest_snapshot_header, snapshot_data
from legato.web.layout import Layout, layered_layout

log = logging.getLogger("legato.web")


@dataclass(frozen=True)
class Definitions:
    """One snapshot, indexed: nodes by key (in topological order), pipelines by name, edges,
    and the pipelines that select each node."""

    snapshot_id: int | None
    fingerprint: str
    created_at: float | None
    snapshot: DefinitionsSnapshot
    downstream: dict[str, list[str]] = field(default_factory=dict)
    edge_list: list[tuple[str, str]] = field(default_factory=list)
    pipelines_of: dict[str, list[str]] = field(default_factory=dict)

    @property
    def nodes(self) -> dict[str, NodeSnapshot]:
        return self.snapshot.node_index

    @property
    def pipelines(self) -> dict[str, PipelineSnapshot]:
        return self.snapshot.pipeline_index

    @property
    def errors(self) -> list[ErrorSnapshot]:
        return self.snapshot.errors

    def upstream(self, key: str) -> list[str]:
        return [k for k in self.nodes[key].upstream if k in self.nodes]

    def lineage_keys(self) -> list[str]:
        """The assets and tasks of the lineage; checks are shown with their assets."""
        return [k for k, n in self.nodes.items() if n.kind != "check"]

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs between known nodes."""
        return self.edge_list


EMPTY = Definitions(None, "", None, DefinitionsSnapshot())


def index_snapshot(
    snap: DefinitionsSnapshot, snapshot_id: int | None, fingerprint: str, created_at: float | None
) -> Definitions:
    nodes = snap.node_index
    downstream: dict[str, list[str]] = {k: [] for k in nodes}
    edges = []
    for key, node in nodes.items():
        if node.kind == "check":  # shown with its asset, not as a node of the lineage
            continue
        for up in node.upstream:
            if up in downstream:
                downstream[up].append(key)
                edges.append((up, key))
    pipelines_of: dict[str, list[str]] = {}
    for pipeline in snap.pipelines:
        for key in pipeline.nodes:
            pipelines_of.setdefault(key, []).append(pipeline.name)
    return Definitions(
        snapshot_id,
        fingerprint,
        created_at,
        snap,
        downstream=downstream,
        edge_list=edges,
        pipelines_of=pipelines_of,
    )


class Catalog:
    """The latest snapshot of one code location, and its layouts.

    A new snapshot's layout is computed in a background thread as soon as the snapshot is seen
    (and once at start-up by :meth:`warm`), so the lineage page rarely waits for it.
    """

    def __init__(self, store: Store, location: str = "default") -> None:
        self.store, self.location = store, location
        self._current = EMPTY
        self._layouts: OrderedDict[str, Layout] = OrderedDict()
        self._computing: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def current(self) -> Definitions:
        header = latest_snapshot_header(self.store, self.location)
        if header is None:
            return EMPTY
        if header.id == self._current.snapshot_id:
            return self._current
        with self._lock:
            fresh = header.id != self._current.snapshot_id
            if fresh:
                snap = snapshot_data(self.store, header.id)
                self._current = index_snapshot(
                    snap, header.id, header.fingerprint, header.created_at
                )
            defs = self._current
        if fresh:
            self._in_background(defs)
        return defs

    def warm(self) -> None:
        """Read the latest snapshot and lay it out, in a background thread."""
        threading.Thread(target=self._warm, name="legato-catalog-warm", daemon=True).start()

    def _warm(self) -> None:
        try:
            self.layout(self.current())
        except Exception:  # the store may be down at start-up; requests will say so
            log.warning("could not prepare the lineage layout", exc_info=True)

    def _in_background(self, defs: Definitions) -> None:
        threading.Thread(
            target=self.layout, args=(defs,), name="legato-layout", daemon=True
        ).start()

    def layout(self, defs: Definitions) -> Layout:
        """The lineage layout of ``defs``, computed once per fingerprint (two are kept)."""
        while True:
            with self._lock:
                cached = self._layouts.get(defs.fingerprint)
                if cached is not None:
                    self._layouts.move_to_end(defs.fingerprint)
                    return cached
                running = self._computing.get(defs.fingerprint)
                if running is None:
                    running = self._computing[defs.fingerprint] = threading.Event()
                    break
            running.wait()  # another thread is computing this very layout
        try:
            layout = layered_layout(defs.lineage_keys(), defs.edges())
            with self._lock:
                self._layouts[defs.fingerprint] = layout
                while len(self._layouts) > 2:
                    self._layouts.popitem(last=False)
            return layout
        finally:
            with self._lock:
                self._computing.pop(defs.fingerprint, None)
            running.set()
