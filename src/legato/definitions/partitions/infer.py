"""The obvious partition mapping between two spaces, or an error naming the ones to choose from."""

from __future__ import annotations

from legato.definitions.partitions.dimension_mapping import Dimension
from legato.definitions.partitions.mapping import (
    AllPartitions,
    Identity,
    PartitionMapping,
    Space,
    Unpartitioned,
)
from legato.definitions.partitions.product import ProductPartitions, dimensions_of
from legato.definitions.partitions.time import TimeWindowPartitions
from legato.definitions.partitions.time_mapping import FanOut, RollUp, TimeWindow
from legato.errors import PartitionError


def infer_mapping(up_space: Space, down_space: Space) -> PartitionMapping:
    """The obvious mapping between two spaces; PartitionError naming the choices if none is."""
    if up_space is None:
        return Identity() if down_space is None else Unpartitioned()
    if down_space is None:
        return AllPartitions()
    if up_space == down_space:
        return Identity()
    if isinstance(up_space, TimeWindowPartitions) and isinstance(down_space, TimeWindowPartitions):
        return _infer_time(up_space, down_space)
    if isinstance(up_space, ProductPartitions) or isinstance(down_space, ProductPartitions):
        up, down = dimensions_of(up_space), dimensions_of(down_space)
        shared = [name for name in down if name in up]
        if shared:
            rules = {n: infer_mapping(up[n], down[n]) for n in shared if up[n] != down[n]}
            return Dimension(mappings={n: m for n, m in rules.items() if m != Identity()})
    raise PartitionError(
        f"no obvious partition mapping from {up_space.summary()} to {down_space.summary()}",
        obj=f"{up_space.summary()} -> {down_space.summary()}",
        hint="pass one: Identity() (same keys), StaticMap({...}), Dimension(on=...) "
        "or AllPartitions()",
    )


def _infer_time(up: TimeWindowPartitions, down: TimeWindowPartitions) -> PartitionMapping:
    if up.timezone == down.timezone and up.cron == down.cron:
        return Identity() if up.fmt == down.fmt else TimeWindow()
    calendar = len(up.timeline.cron.offsets) == 1 and len(down.timeline.cron.offsets) == 1
    if up.timezone == down.timezone and calendar:
        if up.fits_in(down):
            return RollUp()
        if down.fits_in(up):
            return FanOut()
    reason = "the time zones differ" if up.timezone != down.timezone else "no calendar roll-up fits"
    raise PartitionError(
        f"no obvious mapping from {up.summary()} to {down.summary()}: {reason}",
        obj=f"{up.cadence} -> {down.cadence}",
        hint="pass one: RollUp() (every upstream window "
        "inside the downstream one), TimeWindow() (the overlapping ones; offset=-1 the previous, "
        "lookback= more) or FanOut() (the upstream window containing the downstream one)",
    )
