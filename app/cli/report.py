"""An import's report on the terminal: the counts, then the first changes like a plan;
or the whole report as JSON (what the HTTP answer gives)."""

import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from app.schemas.bundle import ImportReport

PLAN_RECORDS = 10  # changed records the terminal report shows (--report json: all listed)
PLAN_FIELDS = 6  # fields shown per changed record


def _short(value: Any, width: int = 60) -> str:
    if value is None or value == [] or value == {}:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_report(report: "ImportReport", as_json: bool = False) -> None:
    """The counts, then the first changes like a plan (+ created, ~ updated, - deleted)."""
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    prefix = "dry run: would have " if report.dry_run else ""
    for name, counts in report.counts.items():
        parts = ", ".join(f"{v} {k}" for k, v in counts.model_dump().items() if v)
        typer.echo(f"{prefix}{name}: {parts or 'nothing'}")
    marks = {"create": "+", "update": "~", "delete": "-"}
    for change in report.changes[:PLAN_RECORDS]:
        typer.echo(f"{marks[change.action]} {change.resource}/{change.slug}")
        if change.action != "update":
            continue
        for field, values in list(change.fields.items())[:PLAN_FIELDS]:
            typer.echo(f"    {field}: {_short(values.old)} -> {_short(values.new)}")
        if len(change.fields) > PLAN_FIELDS:
            typer.echo(f"    ... and {len(change.fields) - PLAN_FIELDS} more fields")
    if (more := report.changes_total - min(len(report.changes), PLAN_RECORDS)) > 0:
        typer.echo(f"... and {more} more changed records (--report json lists them in full)")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
