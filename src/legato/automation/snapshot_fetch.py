"""The project's definitions, asked of the code server in a thread of its own.

The daemon's loop asks for them every few seconds, and the answer can take a second on a busy
machine (the code server describes every pipeline again). Waiting for it in the loop would hold
up every trigger falling due meanwhile; instead the loop starts the request when one is due and
picks the answer up at a later iteration.
"""

from __future__ import annotations

import threading

from legato.automation.code import CodeLocation
from legato.graph.snapshot import DefinitionsSnapshot


class SnapshotFetch:
    def __init__(self, code: CodeLocation) -> None:
        self.code = code
        self._thread: threading.Thread | None = None
        self._answer: DefinitionsSnapshot | Exception | None = None

    def take(self) -> DefinitionsSnapshot | None:
        """The snapshot asked for, once the code server has answered (raising what asking for it
        raised); None while it has not, the first call starting the request."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._fetch, name="legato-definitions", daemon=True
            )
            self._thread.start()
            return None
        if self._thread.is_alive():
            return None
        self._thread = None
        answer, self._answer = self._answer, None
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _fetch(self) -> None:
        try:
            self._answer = self.code.snapshot()
        except Exception as exc:  # the loop that takes it reports it
            self._answer = exc
