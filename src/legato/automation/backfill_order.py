"""Which groups of a backfill may launch now: a group waits for the groups it comes ``after``, the
lowest-numbered ready group goes first, and a group that failed blocks every group behind it.
Kept as groups settle (a heap of ready groups, a count of unfinished deps per group), never
recomputed over every group."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

from legato.graph.backfill import RunGroup


class GroupOrder:
    def __init__(self, groups: Sequence[RunGroup]) -> None:
        self.after = [group.after for group in groups]
        self.children: list[list[int]] = [[] for _ in groups]
        for index, group in enumerate(groups):
            for dep in group.after:
                self.children[dep].append(index)
        self.state: dict[int, str] = {}  # group → succeeded | failed | running
        self.waiting_on: list[int] = []  # group → how many of its deps have not succeeded
        self.ready: list[int] = []  # a heap of groups whose deps all succeeded
        self.blocked: set[int] = set()  # groups behind a failed one
        self.settled: Counter[str] = Counter()  # succeeded / failed groups

    def start(self) -> None:
        """The groups ready now, and how many deps the others wait for (``state`` holds what
        earlier drives settled)."""
        self.settled.update(self.state.values())
        for index, after in enumerate(self.after):
            left = sum(1 for d in after if self.state.get(d) != "succeeded")
            self.waiting_on.append(left)
            if left == 0 and index not in self.state:
                heapq.heappush(self.ready, index)
        for index, state in list(self.state.items()):
            if state == "failed":
                self._block_behind(index)

    def take_ready(self, running: int, limit: int) -> list[int]:
        """Ready groups to launch now (marked running): at most ``limit`` with the ``running``
        ones, lowest index first. A group can be in the heap twice (ready at the start and again
        when its adopted run died): it is taken once."""
        taken: list[int] = []
        while self.ready and running + len(taken) < limit:
            index = heapq.heappop(self.ready)
            if index not in self.state:
                self.state[index] = "running"
                taken.append(index)
        return taken

    def requeue(self, index: int) -> None:
        """The group's run ended without an outcome (the driver stops, or its process died):
        it is launched again (from its failure) if the drive goes on."""
        del self.state[index]
        heapq.heappush(self.ready, index)

    def settle(self, index: int, outcome: str) -> None:
        self.state[index] = outcome
        self.settled[outcome] += 1
        if outcome == "succeeded":
            for child in self.children[index]:
                self.waiting_on[child] -= 1
                if self.waiting_on[child] == 0 and child not in self.state:
                    heapq.heappush(self.ready, child)
        else:
            self._block_behind(index)

    def failed(self) -> list[int]:
        return sorted(i for i, s in self.state.items() if s == "failed")

    def _block_behind(self, index: int) -> None:
        todo = list(self.children[index])
        while todo:
            child = todo.pop()
            if child not in self.blocked and child not in self.state:
                self.blocked.add(child)
                todo.extend(self.children[child])
