"""The facts that raise alerts: a rule of ``legato.toml`` names some of them (``on = [...]``)."""

from __future__ import annotations

ALERT_KINDS = {
    "run_failed": "a run failed; resolved when a later run of its pipeline succeeds",
    "freshness_missed": "an asset is behind its freshness policy; resolved when it is fresh",
    "sla_missed": "a pipeline's run did not succeed within its SLA; resolved by a success",
    "trigger_erroring": "a trigger's evaluation failed; resolved when it evaluates again",
    "check_failed": "a data check failed on a materialization; resolved when it passes again",
    "daemon_down": "a daemon stopped without shutting down (found by another daemon)",
}
KINDS = tuple(ALERT_KINDS)
