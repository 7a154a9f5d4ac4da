"""When it runs: backfills now; schedules, sensors, message triggers and the run queue in the daemon.

Imports store, events, graph and execution.launcher. Every decision is recorded in the store before
it is acted on, so any process can take over after a crash.
"""
