"""The errors Legato raises, all rooted in :class:`LegatoError`.

    LegatoError
    ├── DefinitionError            a definition is wrong (bad argument, bad signature, bad name)
    │   ├── DuplicateKeyError      two definitions share one key
    │   ├── MissingUpstreamError   a dependency names nothing that exists
    │   ├── CycleError             dependencies form a cycle (the full path is in the message)
    │   ├── PartitionError         a partition space, key or mapping is invalid
    │   └── ContractError          a consumer expects what its producer's contract does not give
    ├── SelectionError             a selection string matches nothing or does not parse
    ├── ProjectLoadError           a user module or config file could not be loaded
    ├── ConfigError                configuration (toml, environment) is invalid
    │   └── RunConfigError         a run's config does not fit its steps' config models
    ├── StoreError                 the store cannot be reached or is in an unexpected state
    │   ├── NotFoundError          a run, step or asset that the caller named does not exist
    │   └── SnapshotError          a recorded definitions snapshot does not fit this Legato
    ├── SignatureError             a stored value is unsigned, signed with another key, or altered
    ├── EngineError                the engine itself failed mid-run (the run is recorded failed)
    ├── ContractViolation          a step's value does not fit its own contract (never stored)
    └── StepError                  a step failed inside user code (wraps the original exception)

Each message names the object, where it was defined (file:line) when known, what is wrong, and the
fix. Errors also carry structured fields (``obj``, ``source``, ``hint``) for the API and the UI.
"""

from __future__ import annotations


class LegatoError(Exception):
    """Base of every error Legato raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        obj: str | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.obj = obj
        self.source = source
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return text

    def as_dict(self) -> dict[str, str | None]:
        """Structured form for the API, the UI and the event log."""
        return {
            "error": type(self).__name__,
            "message": str(self),
            "object": self.obj,
            "source": self.source,
            "hint": self.hint,
        }


class DefinitionError(LegatoError, ValueError):
    """A definition is wrong: bad argument, signature or name."""


class DuplicateKeyError(DefinitionError):
    """Two definitions share one key."""


class MissingUpstreamError(DefinitionError):
    """A dependency names no asset or task."""


class CycleError(DefinitionError):
    """Dependencies form a cycle."""


class PartitionError(DefinitionError):
    """A partition space, partition key or partition mapping is invalid."""


class ContractError(DefinitionError):
    """A consumer's parameter expects what its producer's contract does not promise; ``path`` is
    where in the value (``$[*].amount``) or which column, ``produced`` and ``expected`` the two
    types there, ``producer`` and ``consumer`` the two steps."""

    def __init__(
        self,
        message: str,
        *,
        producer: str,
        consumer: str,
        path: str,
        produced: str,
        expected: str,
        source: str | None,
        hint: str,
    ) -> None:
        self.producer, self.consumer = producer, consumer
        self.path, self.produced, self.expected = path, produced, expected
        super().__init__(message, obj=consumer, source=source, hint=hint)


class SelectionError(LegatoError, ValueError):
    """A selection string does not parse or matches nothing."""


class ProjectLoadError(LegatoError):
    """User code or project configuration could not be loaded."""


class ConfigError(LegatoError, ValueError):
    """Configuration from a toml file or the environment is invalid."""


class RunConfigError(ConfigError):
    """A run's config does not fit the config models of its steps; ``problems`` lists each one
    as ``{"step", "path", "message", "hint"}``."""

    def __init__(self, message: str, *, problems: list[dict[str, str]], hint: str) -> None:
        self.problems = problems
        super().__init__(message, obj=problems[0]["step"] if problems else None, hint=hint)

    def framed(self, context: str | None = None, fix: str | None = None) -> RunConfigError:
        """The same problems said of one requester: ``context`` (why the config is what it is,
        e.g. "a scheduled run gets its pipeline's config") before the message, and ``fix`` (what that
        requester can change) first in the hint, before each problem's own."""
        message = f"{context}: {self.message}" if context else self.message
        hint = "; ".join(h for h in (fix, self.hint) if h)
        return RunConfigError(message, problems=self.problems, hint=hint)


class StoreError(LegatoError):
    """The store cannot be reached or holds something unexpected."""


class NotFoundError(StoreError, KeyError):
    """A run, step or asset named by the caller does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self._render()


class SnapshotError(StoreError):
    """A definitions snapshot (recorded in the store, or sent by the code server) does not fit
    the model this Legato reads: the message names the snapshot and the field."""


class SignatureError(LegatoError):
    """A stored value is not signed, is signed with another key, or changed after it was
    written; it is refused before any of it is loaded."""


class EngineError(LegatoError):
    """The engine failed while executing a run (not a step: the engine); the run is recorded
    as failed with the reason, and its running steps are stopped."""


class ContractViolation(LegatoError, ValueError):
    """A step returned a value that does not fit its contract (its return annotation or its
    table contract); the value was not stored. ``problems`` lists the first offending paths or
    columns."""

    def __init__(
        self, message: str, *, step: str, problems: list[str], hint: str, source: str | None = None
    ) -> None:
        self.problems = problems
        super().__init__(message, obj=step, source=source, hint=hint)


class StepError(LegatoError):
    """A step failed in user code; ``__cause__`` keeps the original exception."""


def where(obj: object) -> str | None:
    """Return ``file:line`` of a function or class, for messages; None when unknown."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        return f"{code.co_filename}:{code.co_firstlineno}"
    return None
