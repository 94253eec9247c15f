"""Command-line values converted without pydantic, so that start-up stays short.

typer 0.29 converts every option value (text → Path, float, int, Enum) through a pydantic
``TypeAdapter``; importing pydantic and its plugin loader cost about 0.15 s of CPU, a fifth
of a whole ``fundopt solve`` of the sample (benchmarks/notes.md). The values fundopt's
commands take are simple, so :class:`FastGroup` gives each such parameter a small
converter of its own, with typer's own checks reused
(``coerce_cli_path`` for paths, ``coerce_cli_choice`` for choices) and the same
"Invalid value for '--gap': …" usage errors (exit code 2). Any parameter of another kind —
or a typer version without these internals — keeps typer's own conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer.core import TyperGroup

try:  # typer internals (0.29); without them every parameter keeps typer's conversion
    from typer._click import Context
    from typer._coercion import RuntimeParam
    from typer._param_types import coerce_cli_choice, coerce_cli_path
    from typer.models import ParameterInfo
except ImportError:  # pragma: no cover - other typer versions
    RuntimeParam = None  # type: ignore[assignment,misc]

__all__ = ["FastGroup", "fast_converter"]


def _number(kind: type[int] | type[float], text: Any, info: ParameterInfo) -> int | float:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        noun = "an integer" if kind is int else "a number"
        raise ValueError(f"{text!r} is not {noun}.") from None
    # written "not ≥" / "not ≤" so that nan is out of any range, as typer has it
    if (info.min is not None and not value >= info.min) or (info.max is not None
                                                            and not value <= info.max):
        low = "" if info.min is None else f"{info.min}<="
        high = "" if info.max is None else f"<={info.max}"
        raise ValueError(f"{value} is not in the range {low}x{high}.")
    return value


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"{value!r} is not a valid boolean.")


def _leaf(annotation: Any, info: ParameterInfo) -> Any:
    """A function (value, param, ctx) → converted value for one simple annotation, or None
    when typer's own conversion must be kept."""
    if info.parser is not None:
        return None
    if annotation is bool:   # flags (and --help) arrive as bool or None
        return lambda value, param, ctx: _bool(value)
    if annotation is str:
        return lambda value, param, ctx: value if isinstance(value, str) else str(value)
    if annotation in (int, float) and not info.clamp:
        return lambda value, param, ctx: (value if type(value) is annotation
                                          and info.min is None and info.max is None
                                          else _number(annotation, value, info))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = tuple(annotation)
        return lambda value, param, ctx: coerce_cli_choice(
            value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
    if annotation is Path and info.path_type is None:
        return lambda value, param, ctx: coerce_cli_path(
            value if isinstance(value, Path) else Path(value), info, path_type=Path,
            param=param, ctx=ctx)
    return None


def fast_converter(annotation: Any, info: ParameterInfo) -> RuntimeParam | None:
    """The converter for a parameter, or None to keep typer's (pydantic's)."""
    if RuntimeParam is None:
        return None
    many = get_origin(annotation) is list
    leaf = _leaf(get_args(annotation)[0] if many else annotation, info)
    return None if leaf is None else _Fast(info, annotation, leaf, many)


if RuntimeParam is not None:
    @dataclass(frozen=True)
    class _Fast(RuntimeParam):
        """One parameter's conversion: ``leaf`` on the value, or on each of a list."""

        leaf: Any
        many: bool

        def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
            try:
                if self.many:
                    return [self.leaf(item, param, ctx) for item in value]
                return self.leaf(value, param, ctx)
            except ValueError as error:
                raise typer.BadParameter(str(error), ctx=ctx, param=param) from None


def _speed_up(command: Any, ctx: Any) -> None:
    """Give each simple parameter of ``command`` (and of its sub-commands), its ``--help``
    included, a fast converter."""
    _speed_up_params(command, ctx)
    for sub in getattr(command, "commands", {}).values():
        _speed_up(sub, ctx)


def _speed_up_params(command: Any, ctx: Any) -> None:
    help_option = command.get_help_option(ctx)   # made once and cached by the command
    for param in [*getattr(command, "params", ()), *([help_option] if help_option else [])]:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", None) is not None:
            continue
        converter = fast_converter(descriptor.annotation, descriptor.parameter_info)
        if converter is not None:
            param._runtime_param = converter


class FastGroup(TyperGroup):
    """The app's command group: each command it hands out converts its values without
    pydantic (``typer.Typer(cls=FastGroup)``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _speed_up_params(self, ctx)   # the app's own options (--version)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _speed_up(command, ctx)
        return command

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and getattr(option, "_runtime_param", None) is None:
            option._runtime_param = fast_converter(bool, option.type_descriptor.parameter_info)
        return option
