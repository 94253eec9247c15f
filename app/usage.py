"""Usage errors of the command line (unknown option, missing argument, bad value …) in the
language asked for with ``--lang``.

typer (click) says these in English, before any command runs. Under ``--lang zh`` the
command line gives the error to :func:`usage_text`, which says it from the catalogs: from
the error's own fields (the parameter, the option name, click's suggestions), and, where
click keeps only an English sentence, from the command line parsed again (the value given,
the extra arguments). Nothing reads click's English.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from types import NoneType, UnionType
from typing import Any, NoReturn, Union, get_args, get_origin

from fundopt.reports.text import say


def main_in(lang: str, line: Sequence[str], main: Callable[[], Any],
            fail: Callable[[str], None]) -> NoReturn:
    """Run the command group's ``main`` (not in click's standalone mode, so that errors
    reach here) on the command line ``line`` and exit as click's standalone mode would,
    with a usage error said in ``lang`` (given to ``fail``, exit 2)."""
    import typer

    click = _exceptions()
    try:
        code = main()
    except click.UsageError as error:
        fail(usage_text(error, line, lang))
        sys.exit(error.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except typer.Abort:
        from typer import rich_utils

        rich_utils.rich_abort_error()
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)   # an Exit's code, or None: done


def usage_text(error: Any, args: Sequence[str], lang: str) -> str:
    """What to print for the usage error ``error`` (typer's click ``UsageError``) raised
    on the command line ``args``: the usage line, where to find help, and the error."""
    ctx = error.ctx
    lines = []
    if ctx is not None:
        usage = " ".join([ctx.command_path, *ctx.command.collect_usage_pieces(ctx)])
        lines.append(say("usage.usage", lang, usage=usage))
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(say("usage.try_help", lang, command=ctx.command_path,
                             option=ctx.help_option_names[0]))
    lines.append(say("cli.error", lang, message=_message(error, args, lang)))
    return "\n".join(lines)


def _exceptions() -> Any:
    """click's exceptions: typer's own copy (typer 0.29), else click's."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - typer before 0.29 uses click itself
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _hint(param: Any, ctx: Any) -> str:
    """The parameter as click names it: ``'--scenarios' / '-s'``, ``'table'``."""
    try:
        return str(param.get_error_hint())
    except TypeError:  # pragma: no cover - click's own parameters take the context
        return str(param.get_error_hint(ctx))


def _message(error: Any, args: Sequence[str], lang: str) -> str:
    click = _exceptions()
    ctx = error.ctx
    if isinstance(error, click.MissingParameter) and error.param is not None:
        kind = "argument" if error.param.param_type_name == "argument" else "option"
        return say(f"usage.missing_{kind}", lang, name=_hint(error.param, ctx))
    if isinstance(error, click.BadParameter) and error.param is not None:
        name = _hint(error.param, ctx)
        detail = _bad_value(error.param, _given(ctx, args).get(error.param.name), lang)
        return (say("usage.invalid", lang, name=name) if detail is None
                else say("usage.invalid_value", lang, name=name, detail=detail))
    if isinstance(error, click.NoSuchOption):
        return _space(lang).join([say("usage.no_such_option", lang, option=error.option_name),
                                  *_suggestion(error.possibilities or (), lang)])
    if isinstance(error, click.BadOptionUsage):   # "--flag=value", or "--option" at the end
        given = any(a.startswith(f"{error.option_name}=") for a in args)
        return say("usage.takes_no_value" if given else "usage.requires_value", lang,
                   name=error.option_name)
    if type(error) is click.UsageError and ctx is not None:
        return _misplaced(ctx, args, lang)
    return say("usage.wrong_use", lang)


def _misplaced(ctx: Any, args: Sequence[str], lang: str) -> str:
    """A plain usage error: a command name that is not one (or none), or extra words."""
    rest = _own_args(ctx, args)
    if hasattr(ctx.command, "list_commands"):       # a group: which command?
        words = [a for a in rest if not a.startswith("-")]
        if not words:
            return say("usage.missing_command", lang)
        matches = difflib.get_close_matches(words[0], ctx.command.list_commands(ctx))
        return _space(lang).join([say("usage.no_such_command", lang, name=words[0]),
                                  *_suggestion([repr(m) for m in matches], lang, always=True)])
    try:
        _, extra, _ = ctx.command.make_parser(ctx).parse_args(args=list(rest))
    except Exception:
        return say("usage.wrong_use", lang)
    return say("usage.extra_arguments", lang, args=" ".join(map(str, extra)))


def _suggestion(names: Sequence[str], lang: str, always: bool = False) -> list[str]:
    """click's suggestions: "did you mean X?" for one (or for commands), else the list."""
    if not names:
        return []
    if len(names) == 1 or always:
        return [say("usage.did_you_mean", lang, names=_joined(names, lang))]
    return [say("usage.possible_options", lang, names=_joined(sorted(names), lang))]


def _space(lang: str) -> str:
    return "" if lang == "zh" else " "


def _joined(items: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _own_args(ctx: Any, args: Sequence[str]) -> list[str]:
    """The words of the command line that belong to ``ctx``'s command (after its name)."""
    chain = []
    while ctx is not None:
        chain.append(ctx.info_name)
        ctx = ctx.parent
    rest = list(args)
    for name in reversed(chain[:-1]):               # the program's name is not in args
        rest = rest[rest.index(name) + 1:] if name in rest else rest
    return rest


def _given(ctx: Any, args: Sequence[str]) -> dict[str, Any]:
    """The values given on the command line, by parameter name, before conversion."""
    if ctx is None:
        return {}
    try:
        given, _, _ = ctx.command.make_parser(ctx).parse_args(args=_own_args(ctx, args))
    except Exception:   # the line cannot be parsed again: no value to name
        return {}
    return dict(given)


def _bad_value(param: Any, given: Any, lang: str) -> str | None:
    """Why the value given for ``param`` is refused, or None if that cannot be told."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or given is None:
        return None
    kind, info = _leaf(descriptor.annotation), descriptor.parameter_info
    for value in given if isinstance(given, list | tuple) else [given]:
        if kind in (int, float):
            try:
                number = kind(value)
            except (TypeError, ValueError):
                code = "usage.not_integer" if kind is int else "usage.not_number"
                return say(code, lang, value=value)
            if (info.min is not None and not number >= info.min) or (
                    info.max is not None and not number <= info.max):
                low = "" if info.min is None else f"{info.min}<="
                high = "" if info.max is None else f"<={info.max}"
                return say("usage.out_of_range", lang, value=number, range=f"{low}x{high}")
        elif isinstance(kind, type) and issubclass(kind, Enum):
            choices = [str(member.value) for member in kind]
            if str(value) not in choices:
                return say("usage.not_a_choice", lang, value=value,
                           choices=_joined([repr(c) for c in choices], lang))
    return None


def _leaf(annotation: Any) -> Any:
    """``int`` of ``int | None`` or ``list[int] | None``."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not NoneType)
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    return annotation
