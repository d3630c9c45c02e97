"""How the `policydb` command reports a user's mistake: one line on stderr (the problems'
pointers below it for invalid input) and exit status 1, never a traceback; only a bug
shows one."""

import functools
from collections.abc import Callable
from typing import Any

import typer

from app.errors import PolicyDBError

SHOWN_ERRORS = 20  # problems printed (the count says how many there were)
UPGRADE_HINT = "run `policydb db upgrade` first"


def fail(error: PolicyDBError) -> None:
    typer.echo(f"error: {error.detail}", err=True)
    for item in error.errors[:SHOWN_ERRORS]:
        where = f"{item.file}:{item.line} " if item.file else ""
        slug = f" [{item.slug}]" if item.slug else ""
        typer.echo(f"  {where}{item.pointer or '/'}{slug}: {item.detail}", err=True)
    if (more := max(error.errors_total, len(error.errors)) - SHOWN_ERRORS) > 0:
        typer.echo(f"  ... and {more} more", err=True)
    raise typer.Exit(1)


def _database_problem(error: Exception) -> str:
    """A database error in user terms: a schema not migrated says how to migrate it."""
    from app.config import get_settings
    from app.db import make_engine
    from app.services import migrations

    first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
    url = get_settings().database_url
    try:
        current = migrations.current_revision(make_engine(url))
        head = migrations.head_revision(url)
    except Exception:
        return f"the database cannot be used: {first_line}"
    if current != head:
        state = "not migrated" if current is None else f"at revision {current}, not {head}"
        return f"the database is {state}; {UPGRADE_HINT}"
    return f"the database refused: {first_line}"


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command, turning a user's mistake into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PolicyDBError as error:
            fail(error)
        except OSError as error:  # a missing file, a folder for a file, a port in use
            where = f"{error.filename}: " if error.filename else ""
            typer.echo(f"error: {where}{error.strerror or error}", err=True)
        except Exception as error:
            message = _known_problem(error)
            if message is None:
                raise  # a bug: the traceback is worth having
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    return run


def _known_problem(error: Exception) -> str | None:
    """What to tell the user about an error of the database, a migration or the settings."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError):
        return _database_problem(error)
    if isinstance(error, ValidationError):  # a POLICYDB_* setting of the wrong form
        first = error.errors()[0]
        return f"setting POLICYDB_{str(first['loc'][0]).upper()}: {first['msg']}"
    if type(error).__module__.startswith("alembic"):  # e.g. an unknown revision
        return str(error)
    return None


class _Commands(typer.Typer):
    """A Typer app whose commands report user errors in one line (see _user_errors)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        register = super().command(*args, **kwargs)
        return lambda function: register(_user_errors(function))


def group(help_text: str) -> typer.Typer:
    return _Commands(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)
