"""Executors: where step attempts run. Each implements ``base.Executor``."""
