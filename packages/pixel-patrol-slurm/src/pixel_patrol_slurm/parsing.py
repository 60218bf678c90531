"""The exception classes of command-line parsing, whichever click Typer runs on.

Recent Typer releases ship their own copy of click, older ones use click itself; a usage
error may come from either, so both are caught when turning it into one line.
"""

from __future__ import annotations

from functools import cache


@cache
def exit_classes() -> tuple[type[BaseException], ...]:
    """Raised by eager options such as ``--help`` after they printed their output."""
    import click
    import typer

    return tuple({click.exceptions.Exit, typer.Exit})


@cache
def usage_classes() -> tuple[type[BaseException], ...]:
    """Parser errors: they carry ``format_message()`` and ``exit_code`` (2 for usage)."""
    import click
    import typer

    classes: set[type[BaseException]] = {click.ClickException}
    vendored = getattr(typer, "TyperException", None)
    if isinstance(vendored, type):
        classes.add(vendored)
    return tuple(classes)


def message_of(exc: BaseException) -> str:
    """One-line text of a parser error."""
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    return " ".join(str(text).split())


def exit_code_of(exc: BaseException, default: int) -> int:
    """Exit code a parser exception asks for."""
    code = getattr(exc, "exit_code", default)
    return code if isinstance(code, int) else default
