"""What users declare: pure data, no I/O. Imports only ``legato.errors`` and ``legato._internal``."""
