"""Leaf helpers with no dependency on the rest of Legato."""
