"""Legato: one data orchestrator for assets, tasks, partitions and triggers.

The public API. Everything else is internal and may change between releases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.definitions import builtin_checks as checks
from legato.definitions.asset import asset
from legato.definitions.checks import CheckResult, check
from legato.definitions.contracts import Needs, TableContract
from legato.definitions.external import external_asset
from legato.definitions.freshness import Freshness
from legato.definitions.io import IOContext, IOManager
from legato.definitions.messages import (
    KafkaSource,
    Message,
    MqttSource,
    NatsSource,
    OnMessage,
    RabbitMQSource,
    RedisStreamSource,
)
from legato.definitions.output import Output
from legato.definitions.partitions import (
    AllPartitions,
    DailyPartitions,
    Dimension,
    DynamicPartitions,
    FanOut,
    HourlyPartitions,
    Identity,
    MonthlyPartitions,
    RollUp,
    StaticMap,
    StaticPartitions,
    TimeWindow,
    TimeWindowPartitions,
    WeeklyPartitions,
)
from legato.definitions.pipeline import Pipeline
from legato.definitions.policies import Retry
from legato.definitions.resources import Resource, SecretRef
from legato.definitions.retention import Retention
from legato.definitions.schedules import CatchUp, Cron, Every
from legato.definitions.step import Dep, StepDef
from legato.definitions.task import task
from legato.definitions.triggers import (
    FileArrival,
    OnUpdate,
    RunRequest,
    Sensor,
    SensorResult,
    Webhook,
    sensor,
)
from legato.definitions.webhooks import sign_webhook
from legato.errors import (
    ConfigError,
    ContractError,
    ContractViolation,
    CycleError,
    DefinitionError,
    DuplicateKeyError,
    LegatoError,
    MissingUpstreamError,
    PartitionError,
    ProjectLoadError,
    RunConfigError,
    SelectionError,
    StepError,
)
from legato.execution.context import StepContext
from legato.execution.io.fs import FilesystemIOManager

if TYPE_CHECKING:
    from legato.execution.api import RunResult, materialize

__version__ = "0.1.0"

# Running a pipeline pulls in the store (SQLAlchemy) and the executors: ``materialize`` and
# ``RunResult`` are imported on first use, so that `import legato` stays fast for code that only
# declares definitions.
_LAZY = {
    "materialize": "legato.execution.api",
    "RunResult": "legato.execution.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'legato' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AllPartitions",
    "CatchUp",
    "CheckResult",
    "ConfigError",
    "ContractError",
    "ContractViolation",
    "Cron",
    "CycleError",
    "DailyPartitions",
    "DefinitionError",
    "Dep",
    "Dimension",
    "DuplicateKeyError",
    "DynamicPartitions",
    "Every",
    "FanOut",
    "FileArrival",
    "FilesystemIOManager",
    "Freshness",
    "HourlyPartitions",
    "IOContext",
    "IOManager",
    "Identity",
    "KafkaSource",
    "LegatoError",
    "Message",
    "MissingUpstreamError",
    "MonthlyPartitions",
    "MqttSource",
    "NatsSource",
    "Needs",
    "OnMessage",
    "OnUpdate",
    "Output",
    "PartitionError",
    "Pipeline",
    "ProjectLoadError",
    "RabbitMQSource",
    "RedisStreamSource",
    "Resource",
    "Retention",
    "Retry",
    "RollUp",
    "RunConfigError",
    "RunRequest",
    "RunResult",
    "SecretRef",
    "SelectionError",
    "Sensor",
    "SensorResult",
    "StaticMap",
    "StaticPartitions",
    "StepContext",
    "StepDef",
    "StepError",
    "TableContract",
    "TimeWindow",
    "TimeWindowPartitions",
    "Webhook",
    "WeeklyPartitions",
    "asset",
    "check",
    "checks",
    "external_asset",
    "materialize",
    "sensor",
    "sign_webhook",
    "task",
]
