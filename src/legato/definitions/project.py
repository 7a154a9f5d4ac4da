"""Project: the set of definitions a code location declares, with names checked for uniqueness."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.definitions.pipeline import Pipeline
from legato.definitions.resources import Resource, referenced_secrets
from legato.definitions.step import StepDef
from legato.definitions.triggers import Webhook
from legato.errors import DuplicateKeyError


@dataclass(frozen=True)
class Project:
    """Everything one code location declares."""

    steps: tuple[StepDef, ...]
    pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    resources: Mapping[str, Resource] = field(default_factory=dict)
    io_managers: Mapping[str, Any] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()  # secret names declared besides resources' fields

    def secret_names(self) -> set[str]:
        """Every secret the project refers to: ``secrets``, the SecretRefs of its resources and
        IO managers, and the variables holding its webhooks' signing secrets. Each process that
        runs project code (and the daemon and web server, from the snapshot) masks their values."""
        hooks = {
            trigger.secret_env
            for pipeline in self.pipelines.values()
            for trigger in pipeline.triggers
            if isinstance(trigger, Webhook)
        }
        return set(self.secrets) | referenced_secrets(self.resources, self.io_managers) | hooks

    @classmethod
    def of(
        cls,
        steps: Iterable[StepDef],
        pipelines: Iterable[Pipeline] = (),
        resources: Mapping[str, Resource] | None = None,
        io_managers: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> Project:
        """Build a project, refusing two definitions with one key (both places are named).
        An asset's own checks (``@asset(checks=[...])``) come with it."""
        by_key: dict[str, StepDef] = {}
        for step in (s for given in steps for s in (given, *given.checks)):
            other = by_key.get(step.key)
            if other is not None and other is not step:
                raise DuplicateKeyError(
                    f"{step.kind} {step.key!r} is defined twice: at {other.source} and {step.source}",
                    obj=step.key,
                    source=step.source,
                    hint="rename one of them or give it key=...",
                )
            by_key[step.key] = step
        named: dict[str, Pipeline] = {}
        implicit = [
            Pipeline(s.key, select=s.key, triggers=s.triggers)
            for s in by_key.values()
            if s.triggers
        ]
        for pipe in [*pipelines, *implicit]:
            if pipe.name in named and named[pipe.name] is not pipe:
                raise DuplicateKeyError(
                    f"pipeline {pipe.name!r} is defined twice: at {named[pipe.name].source} and "
                    f"{pipe.source}",
                    obj=pipe.name,
                    source=pipe.source,
                    hint="rename one of them",
                )
            named[pipe.name] = pipe
        return cls(
            tuple(by_key.values()),
            named,
            dict(resources or {}),
            dict(io_managers or {}),
            frozenset(secrets),
        )
