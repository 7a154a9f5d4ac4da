"""Import an optional dependency, or say which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from legato.errors import ConfigError


def require(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"this feature needs the {module!r} package, which is not installed",
            obj=module,
            hint=f"pip install 'legato[{extra}]'",
        ) from None
