"""``Problem``: what is wrong with a cron expression or a time zone name, and the fix.

The engine raises it; each entry point (``Cron``, ``TimeWindowPartitions``) turns it into its own
error, naming the object and where it was defined.
"""

from __future__ import annotations


class Problem(ValueError):
    """Something the cron engine refuses: ``problem`` says what, ``fix`` what to write instead."""

    def __init__(self, problem: str, fix: str, suggestion: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.suggestion = suggestion  # a value to use instead (a zone name), if there is one
