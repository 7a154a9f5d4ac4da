"""A step's inputs: where each value comes from (a step of this run, one a re-run reused, or an
asset's stored value), and whether a stored value may be read.

An asset's value read from outside the run is its latest materialization. While a blocking
check's latest result on it failed it is not trusted: a step that needs it fails before it runs,
with an error naming the input, the run that made it, the checks and the fix. An optional key
of a partition read (after the required ones, or any of a ``min_count`` read) is left out
instead, as a key without a value is. A run tagged ``legato/allow_untrusted=true`` reads them
anyway. The store is asked once, when the run begins, about every stored value the run reads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from legato.definitions.checks import ALLOW_UNTRUSTED_TAG, UNTRUSTED_INPUT
from legato.definitions.keys import StepKey
from legato.events.types import EventType
from legato.execution.engine_parts import EngineParts
from legato.execution.spec import InputRef
from legato.graph.plan import PlannedStep
from legato.store.trust import Verdict, latest_verdicts

NAMED = 3  # untrusted inputs an error names; the others are counted


class _StoredRead(NamedTuple):
    step: StepKey
    asset: str
    partition: str
    optional: bool


class StepInputs(EngineParts):
    _refused: dict[StepKey, list[Verdict]]  # planned step → the untrusted values it needs
    _left_out: dict[tuple[StepKey, str], set[str]]  # (planned step, upstream) → keys not read

    def _judge_inputs(self, allow_untrusted: bool) -> None:
        """Find the stored values each step would read that are not trusted (one query)."""
        self._refused, self._left_out = {}, {}
        reads = self._stored_reads()
        if allow_untrusted or not reads:
            return
        found = latest_verdicts(self.store, {(r.asset, r.partition) for r in reads})
        optional: dict[tuple[StepKey, str], list[Verdict]] = {}
        for read in reads:
            verdict = found.get((read.asset, read.partition))
            if verdict is None or verdict.trusted:
                continue
            if read.optional:
                optional.setdefault((read.step, read.asset), []).append(verdict)
            else:
                self._refused.setdefault(read.step, []).append(verdict)
        for (step, up), verdicts in optional.items():
            read_keys = self._planned[step].upstream[up]
            if len(read_keys.keys) - len(verdicts) < (read_keys.min_count or 0):
                self._refused.setdefault(step, []).extend(verdicts)  # too few would be left
            else:
                self._left_out[(step, up)] = {v.partition for v in verdicts}

    def _stored_reads(self) -> list[_StoredRead]:
        """The asset partitions the steps to run read from storage: not made in this run."""
        made = {
            (p.key.node, k) for p in self.plan.steps for k in p.partition_keys or (p.key.partition,)
        }
        reads = []
        for planned in self.plan.steps:
            node = self.graph[planned.key.node]
            if planned.key in self.plan.reused or node.step.check is not None:
                continue  # a check reads its asset to judge it
            for up in dict.fromkeys(node.inputs.values()):
                if self.graph[up].step.kind != "asset":
                    continue
                reads += [
                    _StoredRead(planned.key, up, key, optional)
                    for key, optional in _keys_read(planned, up)
                    if (up, key) not in made
                ]
        return reads

    def _refuse_untrusted(self, key: StepKey) -> bool:
        """Fail ``key`` before it runs if it needs a value that is not trusted."""
        refused = self._refused.get(key._replace(map_index=-1))
        if not refused:
            return False
        error = {"type": UNTRUSTED_INPUT, "message": untrusted_message(key, refused)}
        self._step_event(key, EventType.STEP_FAILED, data={"error": {**error, "traceback": ""}})
        self._done(key)
        return True

    def _inputs(self, key: StepKey) -> dict[str, InputRef]:
        """Where each of ``key``'s inputs comes from."""
        node = self.graph[key.node]
        planned = self._planned[key._replace(map_index=-1)]
        inputs = {}
        for param, up in node.inputs.items():
            asset_key = up if self.graph[up].step.kind == "asset" else None
            read = planned.upstream.get(up)
            if read is not None and read.as_mapping:  # several upstream partitions: a dict
                left_out = self._left_out.get((planned.key, up), ())
                parts = tuple(k for k in read.keys if k not in left_out)
                runs = tuple(self.state.run_of(StepKey(up, k), self.run_id) for k in parts)
                inputs[param] = InputRef(
                    self.run_id,
                    StepKey(up),
                    asset_key,
                    partitions=parts,
                    partition_runs=runs,
                    min_count=read.min_count,
                    required=read.required,
                )
                continue
            up_key = StepKey(up, read.keys[0] if read is not None else "")
            if up_key not in self._planned:  # outside the plan: an asset's stored value
                inputs[param] = InputRef(self.run_id, up_key, asset_key)
                continue
            run = self.state.run_of(up_key, self.run_id)
            if up_key in self._templates:
                items = self.state[up_key].items
                runs = (
                    tuple(self.state.run_of(i, run) for i in items)
                    if items is not None
                    else self._reused_items(up_key, run)
                )
                inputs[param] = InputRef(run, up_key, item_runs=runs)
            elif param == node.step.map_over and key.map_index >= 0:
                inputs[param] = InputRef(run, up_key, asset_key, item=key.map_index)
            else:
                inputs[param] = InputRef(run, up_key, asset_key)
        return inputs


def _keys_read(planned: PlannedStep, up: str) -> list[tuple[str, bool]]:
    """The partition keys of ``up`` that ``planned`` reads, each with whether it is optional."""
    read = planned.upstream.get(up)
    if read is None or not read.as_mapping:
        return [(read.keys[0] if read is not None else "", False)]
    return [
        (key, read.min_count is not None or (read.required is not None and i >= read.required))
        for i, key in enumerate(read.keys)
    ]


def untrusted_message(step: StepKey, refused: list[Verdict]) -> str:
    """Why ``step`` did not run, and the fix."""
    shown = "; ".join(v.describe() for v in refused[:NAMED])
    more = f"; and {len(refused) - NAMED} more" if len(refused) > NAMED else ""
    first = refused[0]
    where = f" --partition {first.partition}" if first.partition else ""
    return (
        f"step {str(step)!r} did not run: it reads {shown}{more}, so its input is not trusted. "
        f"Materialize it again (legato run {first.asset_key}{where}) or, if the check was "
        f"wrong, run the checks again (legato checks run {first.asset_key}{where}); to read it "
        f"anyway, tag the run {ALLOW_UNTRUSTED_TAG}=true"
    )


def allows_untrusted(tags: Any) -> bool:
    """Whether a run's tags let it read untrusted values."""
    return str(tags.get(ALLOW_UNTRUSTED_TAG, "")).strip().lower() == "true"
