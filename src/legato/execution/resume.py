"""Taking over a run whose engine died: finished steps stay finished, a running attempt is lost
and retried per policy (never run twice as the same attempt), a fan-out keeps its recorded items."""

from __future__ import annotations

from legato.definitions.keys import StepKey
from legato.events.status import StepStatus
from legato.execution.engine_parts import EngineParts
from legato.execution.run_state import StepLost
from legato.execution.spec import StepOutcome
from legato.execution.step import describe_error
from legato.store.runs import StepRecord


class ResumeSteps(EngineParts):
    def _restore(self, key: StepKey, found: StepRecord, recorded: dict[str, StepRecord]) -> None:
        """Take over a step from a process that died: finished steps stay finished; an attempt
        that was running is lost and retried per policy (never run twice as the same attempt)."""
        state = self.state[key]
        if state.status.finished:  # already settled by an upstream restored before it
            return
        state.attempt = found.attempt
        if found.reused_from:
            state.reused_from = found.reused_from
        if found.status.finished:
            state.status = found.status
            self._done(key)
            return
        if key in self._templates:  # a fan-out that was expanded: adopt its items as recorded
            items = sorted(
                (
                    StepKey.parse(k)
                    for k in recorded
                    if StepKey.parse(k)._replace(map_index=-1) == key
                    and StepKey.parse(k).map_index >= 0
                ),
                key=lambda k: k.map_index,
            )
            state.status = StepStatus.RUNNING
            self.state.adopt_items(key, items)
            for item in items:
                self._restore_item(item, recorded[str(item)])
            if state.items_left == 0 and not state.status.finished:
                self._finish_template(key)
            return
        if found.status is StepStatus.RETRYING:  # its failed attempt is recorded; try again
            state.status = StepStatus.RETRYING
            self.state.ready.append(key)
            return
        state.status = StepStatus.RUNNING
        self.state.running.add(key)
        self._lost(key, found.attempt)

    def _restore_item(self, item: StepKey, found: StepRecord) -> None:
        state = self.state[item]
        state.attempt = found.attempt
        if found.status.finished:
            state.status = found.status
            self.state.unfinished -= 1
            assert state.template is not None
            self.state[state.template].items_left -= 1
        elif found.status in (StepStatus.RUNNING, StepStatus.RETRYING):
            state.status = StepStatus.RUNNING
            self.state.running.add(item)
            self._lost(item, found.attempt)
        else:
            self.state.ready.append(item)

    def _lost(self, key: StepKey, attempt: int) -> None:
        """Record that ``key``'s attempt vanished with its process, then retry it per policy."""
        error = describe_error(StepLost("the process running this attempt stopped"))
        self.state.running.discard(key)
        self._failed(StepOutcome(key, max(1, attempt), False, error=error))
