"""Alembic migrations of the store schema; ``runner.upgrade`` applies them."""
