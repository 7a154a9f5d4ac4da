"""Policies attached to steps and pipelines: retries with backoff and jitter."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from legato.errors import DefinitionError


def _qualname(exc_type: type[BaseException] | str) -> str:
    if isinstance(exc_type, str):
        return exc_type
    if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
        raise DefinitionError(
            f"Retry(retry_on=...) got {exc_type!r}",
            hint="pass exception classes such as ConnectionError, or their names",
        )
    module = exc_type.__module__
    return exc_type.__qualname__ if module == "builtins" else f"{module}.{exc_type.__qualname__}"


@dataclass(frozen=True)
class Retry:
    """How a failed step is retried.

    Args:
        max_retries: retries after the first attempt (``Retry(3)`` runs a step at most 4 times).
        delay: seconds before the first retry.
        backoff: multiplier applied to the delay after each retry (1.0 = constant).
        jitter: fraction of the delay added or removed at random (0.1 = ±10%).
        max_delay: upper bound on any single delay, in seconds.
        retry_on: exception classes (or qualified names) worth retrying; others fail at once.

    Example:
        >>> Retry(3, delay=1.0, backoff=2.0, retry_on=[ConnectionError])
    """

    max_retries: int = 3
    delay: float = 1.0
    backoff: float = 2.0
    jitter: float = 0.1
    max_delay: float = 300.0
    retry_on: tuple[str, ...] = field(default=("Exception",))

    def __init__(
        self,
        max_retries: int = 3,
        *,
        delay: float = 1.0,
        backoff: float = 2.0,
        jitter: float = 0.1,
        max_delay: float = 300.0,
        retry_on: Iterable[type[BaseException] | str] = (Exception,),
    ) -> None:
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise DefinitionError(
                f"Retry(max_retries={max_retries!r}) is invalid",
                hint="pass a whole number ≥ 0, e.g. Retry(3)",
            )
        for name, value in (("delay", delay), ("backoff", backoff), ("max_delay", max_delay)):
            if not isinstance(value, int | float) or value < 0:
                raise DefinitionError(
                    f"Retry({name}={value!r}) is invalid", hint=f"pass a number ≥ 0 for {name}"
                )
        if backoff < 1:
            raise DefinitionError(
                f"Retry(backoff={backoff!r}) would shrink delays",
                hint="pass backoff ≥ 1.0 (1.0 keeps the delay constant)",
            )
        if not 0 <= jitter <= 1:
            raise DefinitionError(
                f"Retry(jitter={jitter!r}) is invalid", hint="pass a fraction between 0 and 1"
            )
        object.__setattr__(self, "max_retries", max_retries)
        object.__setattr__(self, "delay", float(delay))
        object.__setattr__(self, "backoff", float(backoff))
        object.__setattr__(self, "jitter", float(jitter))
        object.__setattr__(self, "max_delay", float(max_delay))
        object.__setattr__(self, "retry_on", tuple(_qualname(t) for t in retry_on))

    def should_retry(self, attempt: int, error_types: Iterable[str]) -> bool:
        """True if attempt number ``attempt`` (1-based) failing with these types earns another."""
        if attempt > self.max_retries:
            return False
        wanted = set(self.retry_on)
        return any(name in wanted for name in error_types)

    def delay_for(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after attempt ``attempt`` (1-based) failed."""
        base = min(self.delay * self.backoff ** (attempt - 1), self.max_delay)
        if self.jitter and base:
            spread = base * self.jitter
            base += (rng or random).uniform(-spread, spread)
        return max(0.0, base)


NO_RETRY = Retry(0)
