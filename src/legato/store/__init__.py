"""Where it is recorded: tables, migrations, the event log and queries (SQLAlchemy Core).

One schema serves SQLite (the embedded default) and PostgreSQL. Every write goes through
``Store.transaction()``, the single writer path.
"""
