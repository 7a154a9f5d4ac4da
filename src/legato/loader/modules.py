"""Import the user's modules and collect their definitions, attaching file:line to every error."""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from legato._internal.secrets import remember_names
from legato.definitions.io import IOManager
from legato.definitions.pipeline import Pipeline
from legato.definitions.project import Project
from legato.definitions.resources import Resource, SecretRef
from legato.definitions.step import StepDef
from legato.errors import ConfigError, LegatoError, ProjectLoadError
from legato.loader.config import Settings
from legato.loader.io_managers import make_io_managers, undefined_io_managers


@dataclass
class Loaded:
    """What loading found: the project (possibly partial) and every error met on the way."""

    project: Project
    errors: list[LegatoError] = field(default_factory=list)
    sys_path: tuple[str, ...] = ()


def module_names(settings: Settings) -> list[str]:
    """Modules named in the config, plus the module for each file under ``paths``."""
    names = list(settings.modules)
    for entry in settings.paths:
        path = (settings.root / entry).resolve()
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.name.startswith("_") and file.name != "__init__.py":
                continue
            rel = file.relative_to(settings.root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            if parts:
                names.append(".".join(parts))
    return list(dict.fromkeys(names))


def load_project(settings: Settings) -> Loaded:
    """Import every module; a module that fails is reported and the others still load."""
    root = str(settings.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    errors: list[LegatoError] = []
    steps: list[StepDef] = []
    pipelines: list[Pipeline] = []
    resources: dict[str, Resource] = {}
    io_managers: dict[str, Any] = {}
    defined_in: dict[str, str] = {}  # IO manager → the module that defines it
    secrets = set(settings.secrets)
    names = module_names(settings)
    if not names:
        errors.append(
            ConfigError(
                f"{settings.source}: no modules to load",
                source=settings.source,
                hint='add modules = ["my_project.assets"] (or paths = ["pipelines"]) to [tool.legato]',
            )
        )
    for name in names:
        module = _import(name, errors)
        if module is None:
            continue
        for attr, value in vars(module).items():
            if isinstance(value, StepDef):
                steps.append(value)
            elif isinstance(value, Pipeline):
                pipelines.append(value)
            elif isinstance(value, Resource):
                resources.setdefault(attr, value)
            elif not isinstance(value, type) and isinstance(value, IOManager):
                io_managers.setdefault(attr, value)
                defined_in.setdefault(attr, name)
            elif isinstance(value, SecretRef):
                secrets.add(value.name)
    for name, values in settings.resources.items():
        try:
            resources[name] = _configure(name, values, resources.get(name), settings.source)
        except LegatoError as exc:
            errors.append(exc)
    configured, failed = make_io_managers(settings.io_managers, defined_in)
    io_managers.update(configured)
    imported = not errors  # else a name may be missing only because its module did not load
    errors += failed
    try:
        project = Project.of(steps, pipelines, resources, io_managers, secrets)
    except LegatoError as exc:
        errors.append(exc)
        project = Project.of([], [], resources, io_managers, secrets)
    if imported:
        errors += undefined_io_managers(project, settings.io_managers)
    remember_names(project.secret_names())  # before any step, sensor or trigger runs here
    return Loaded(project, errors, tuple(sys.path))


def _configure(name: str, values: Any, base: Resource | None, source: str) -> Resource:
    if base is not None:
        return type(base).from_config(values, source=source, base=base)
    type_path = values.get("type") if isinstance(values, dict) else None
    if not isinstance(type_path, str) or ":" not in type_path:
        raise ConfigError(
            f"{source}: resource {name!r} is configured but no module defines it",
            obj=name,
            source=source,
            hint=f"define `{name} = MyResource(...)` in a project module, or set "
            f'type = "package.module:MyResource" under resources.{name}',
        )
    module, _, cls_name = type_path.partition(":")
    cls = getattr(importlib.import_module(module), cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Resource)):
        raise ConfigError(
            f"{source}: resources.{name}.type {type_path!r} is not a Resource class",
            obj=name,
            source=source,
            hint="point type at a subclass of legato.Resource",
        )
    fields = {k: v for k, v in values.items() if k != "type"}
    return cls.from_config(fields, source=source)


def _import(name: str, errors: list[LegatoError]) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except SystemExit as exc:
        errors.append(
            ProjectLoadError(
                f"module {name!r} called sys.exit({exc.code!r}) while loading",
                obj=name,
                hint="don't exit at import time; guard scripts with if __name__ == '__main__'",
            )
        )
    except LegatoError as exc:
        errors.append(exc)
    except Exception as exc:
        errors.append(_import_error(name, exc))
    return None


def _import_error(name: str, exc: BaseException) -> ProjectLoadError:
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if "importlib" not in f.filename and "/legato/" not in f.filename]
    where = None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}"
    elif user:
        where = f"{user[-1].filename}:{user[-1].lineno}"
    if isinstance(exc, ModuleNotFoundError) and exc.name and name.startswith(exc.name):
        hint = f"check the module name {name!r} in [tool.legato] modules and that the file exists"
    else:
        hint = "fix the error at the line shown; other modules were still loaded"
    message = f"cannot import {name!r}: {type(exc).__name__}: {exc}"
    return ProjectLoadError(
        message + (f" ({where})" if where else ""), obj=name, source=where, hint=hint
    )
