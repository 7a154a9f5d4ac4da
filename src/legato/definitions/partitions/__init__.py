"""Partitions: the key spaces assets are split into, and how keys map between assets.

Owns the pure partition model: the key grammar (``keys``), spaces (time windows, static lists,
dynamic sets, products of any number of these) and partition mappings. Imports only the standard
library, ``legato.errors`` and its own modules; no I/O (dynamic keys and ``now`` are passed in).

Invariants: every key a space or mapping produces passes ``check_key`` (or is a canonical
``dim=value,...`` product key); spaces answer ``count``, ``in`` and ``index_of`` without listing
their keys; time windows are contiguous, never overlap, and follow the zone's DST rules.
"""

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace
from legato.definitions.partitions.cadences import (
    DailyPartitions,
    HourlyPartitions,
    MinutelyPartitions,
    MonthlyPartitions,
    WeeklyPartitions,
    YearlyPartitions,
)
from legato.definitions.partitions.dimension_mapping import Dimension
from legato.definitions.partitions.dynamic import DynamicPartitions
from legato.definitions.partitions.infer import infer_mapping
from legato.definitions.partitions.keys import (
    MultiPartitionKey,
    check_dimension_name,
    check_key,
    format_multi_key,
    key_to_path_segment,
    parse_multi_key,
    path_segment_to_key,
)
from legato.definitions.partitions.mapping import (
    AllPartitions,
    Identity,
    PartitionMapping,
    StaticMap,
    Unpartitioned,
)
from legato.definitions.partitions.product import ProductPartitions
from legato.definitions.partitions.static import StaticPartitions
from legato.definitions.partitions.time import TimeWindowPartitions, Window
from legato.definitions.partitions.time_mapping import FanOut, RollUp, TimeWindow

__all__ = [
    "AllPartitions",
    "DailyPartitions",
    "Dimension",
    "DynamicLookup",
    "DynamicPartitions",
    "FanOut",
    "HourlyPartitions",
    "Identity",
    "MinutelyPartitions",
    "MonthlyPartitions",
    "MultiPartitionKey",
    "PartitionMapping",
    "PartitionSpace",
    "ProductPartitions",
    "RollUp",
    "StaticMap",
    "StaticPartitions",
    "TimeWindow",
    "TimeWindowPartitions",
    "Unpartitioned",
    "WeeklyPartitions",
    "Window",
    "YearlyPartitions",
    "check_dimension_name",
    "check_key",
    "format_multi_key",
    "infer_mapping",
    "key_to_path_segment",
    "parse_multi_key",
    "path_segment_to_key",
]
