"""``CatchUp``: what a schedule does with the ticks that fell due while no daemon evaluated it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Literal

from legato.definitions.trigger_specs import CatchUpSpec
from legato.errors import DefinitionError


@dataclass(frozen=True)
class CatchUp:
    """What a schedule does with ticks that fell due while no daemon was evaluating it.

    A tick evaluated less than ``grace`` after its time is on time and always runs. Older ticks
    were missed: ``CatchUp.NONE`` drops them, ``CatchUp.LATEST`` runs only the most recent one (when
    no tick is on time), ``CatchUp.all(within=timedelta(days=1))`` runs every one younger than
    ``within``.
    """

    mode: Literal["none", "latest", "all"]
    within: timedelta | None = None
    grace: timedelta = timedelta(minutes=5)

    NONE: ClassVar[CatchUp]
    LATEST: ClassVar[CatchUp]

    def __post_init__(self) -> None:
        if self.mode not in ("none", "latest", "all"):
            raise DefinitionError(
                f"CatchUp mode {self.mode!r} is unknown",
                obj="CatchUp",
                hint="use CatchUp.NONE, CatchUp.LATEST or CatchUp.all(within=)",
            )
        if (self.mode == "all") != isinstance(self.within, timedelta):
            raise DefinitionError(
                "CatchUp 'within' is required by mode 'all' and only by it",
                obj="CatchUp",
                hint="write CatchUp.all(within=timedelta(days=1))",
            )
        if (self.within is not None and self.within <= timedelta(0)) or self.grace < timedelta(0):
            raise DefinitionError(
                "CatchUp 'within' must be positive and 'grace' not negative",
                obj="CatchUp",
                hint="e.g. CatchUp.all(within=timedelta(days=1))",
            )

    @classmethod
    def all(cls, within: timedelta, *, grace: timedelta = timedelta(minutes=5)) -> CatchUp:
        """Run every missed tick younger than ``within``."""
        return cls("all", within, grace)

    def spec(self) -> CatchUpSpec:
        within = None if self.within is None else self.within.total_seconds()
        return CatchUpSpec(self.mode, within, self.grace.total_seconds())


CatchUp.NONE = CatchUp("none")
CatchUp.LATEST = CatchUp("latest")
