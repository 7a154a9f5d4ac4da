"""What one iteration of the daemon did, for tests and logs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TickReport:
    runs_requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
