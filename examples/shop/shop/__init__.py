"""A demo Legato project: assets and tasks of a small online shop."""
