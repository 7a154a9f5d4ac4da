"""Dynamic fan-out: a ``map_over`` step becomes one step per item of its upstream's list once
that list is known, and finishes when every item has."""

from __future__ import annotations

from legato.definitions.keys import StepKey
from legato.events.types import EventType
from legato.execution.engine_parts import EngineParts
from legato.store.runs import NewStep, recorded_length


class FanOut(EngineParts):
    def _expand(self, template: StepKey) -> None:
        """A fan-out's input is known: create one step per item (or finish at once if none)."""
        node = self.graph[template.node]
        source = node.inputs[node.step.map_over]  # type: ignore[index]
        read = self._planned[template].upstream.get(source)
        producer = StepKey(source, read.keys[0] if read is not None else "")
        count = self._length_of(producer)
        items = [template._replace(map_index=i) for i in range(count)]
        self._new_steps.extend(
            NewStep(str(k), k.node, node.step.kind, k.partition, k.map_index) for k in items
        )
        self._step_event(template, EventType.STEP_EXPANDED, data={"count": count})
        self.state.adopt_items(template, items)
        for item in items:
            reused = self.plan.reused.get(item)
            if reused is not None:
                self._reuse(item, reused)
            else:
                self.state.ready.append(item)
        if not items:
            self._finish_template(template)

    def _reused_items(self, template: StepKey, run: str) -> tuple[str, ...]:
        """Items of a fan-out reused whole from an earlier run."""
        return (run,) * recorded_length(self.store, run, str(template), key="count")

    def _length_of(self, producer: StepKey) -> int:
        state = self.state[producer]
        if state.length is not None:
            return state.length
        run = state.reused_from  # produced by an earlier run: use what it recorded
        if run is None:
            raise KeyError(f"step {producer} reported no length and reused no run")
        return recorded_length(self.store, run, str(producer))

    def _finish_template(self, template: StepKey) -> None:
        items = self.state[template].items or []
        failed = [str(i) for i in items if not self.state[i].status.ok]
        if failed:
            error = {
                "type": "MappedStepsFailed",
                "message": f"{len(failed)} item(s) failed: "
                + ", ".join(failed[:10])
                + (" …" if len(failed) > 10 else ""),
                "traceback": "",
            }
            self._step_event(template, EventType.STEP_FAILED, data={"error": error})
        else:
            self._step_event(template, EventType.STEP_SUCCEEDED, data={"count": len(items)})
        self._done(template)
