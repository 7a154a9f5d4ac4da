"""Integrations with outside systems: message brokers now; dbt, DuckDB, SQL, HTTP and object stores.

Each integration sits behind an optional extra and imports its client lazily, so ``import legato``
never pulls one in. Nothing in Legato's core imports this package; integrations are independent of
one another.
"""
