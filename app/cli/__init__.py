"""The `policydb` command: serve, database migrations, API keys, seed, import and export.

Each command imports what it needs when it runs: `policydb --help` and `keys list` must not
pay for the web stack, the bundle services or YAML (they took 1.5-4 s to start). A user's
mistake (a missing file, a database not migrated, invalid input) is one line on stderr and
exit status 1, never a traceback; only a bug shows one.
"""

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.failures import group
from app.cli.report import print_report

if TYPE_CHECKING:
    from app.config import Settings
    from app.schemas.bundle import ImportReport

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = PROJECT_ROOT / "seed_data"
PROGRESS_THRESHOLD = 1000  # records; smaller imports finish before a bar would help


app = group("policydb: a structured, cited database of public policy.")
db_app = group("Database migrations (Alembic).")
keys_app = group("API keys for writes.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")


def _session_factory() -> Any:
    from app.config import get_settings
    from app.db import make_engine, make_session_factory

    return make_session_factory(make_engine(get_settings().database_url))


def secret_warning(settings: "Settings") -> str | None:
    """What is wrong with the configured cursor secret, if anything."""
    from app.services.installation import is_weak_secret

    if settings.cursor_secret is not None and is_weak_secret(settings.cursor_secret):
        return (
            "POLICYDB_CURSOR_SECRET is a known default or too short, so anyone can forge "
            "paging cursors; unset it (a random secret is then generated and kept in the "
            "database) or set a long random value"
        )
    return None


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default POLICYDB_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default POLICYDB_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (a dead or hung one is replaced).")
    ] = 1,
) -> None:
    """Migrate the database to head, seed it if it is empty, then serve the API and docs."""
    import os

    import uvicorn
    from sqlalchemy import func, select
    from uvicorn.supervisors import Multiprocess

    from app.config import get_settings
    from app.models import Source
    from app.services import migrations

    settings = get_settings()
    if warning := secret_warning(settings):
        typer.echo(f"warning: {warning}", err=True)
    # The access log (one JSON line per request, with its request id) goes to stderr beside
    # uvicorn's own log; uvicorn's access line would repeat it at a tenth of a GET's cost.
    from app.main import configure_logging

    configure_logging()
    migrations.upgrade(settings.database_url)
    if settings.seed_on_start:
        with _session_factory()() as session:
            if not session.scalar(select(func.count()).select_from(Source)):
                _seed(session)
    # X-Forwarded-For is believed only from the proxies named in POLICYDB_TRUSTED_PROXIES
    # (uvicorn would otherwise trust any local process, and the rate limit with it).
    trusted = settings.trusted_proxies
    config = uvicorn.Config(
        "app.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) if trusted else None,
    )
    # Large buffers (pages, export chunks) are built in many threads; glibc's per-thread malloc
    # arenas kept what other threads freed, and a worker's memory crept up under mixed load.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # read by each worker process at start
    # Always under uvicorn's supervisor, even with one worker: it pings each worker process
    # and starts a new one when one dies or stops answering, while the others keep serving.
    Multiprocess(config, sockets=[config.bind_socket()]).run()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database up to REVISION (default: head)."""
    from app.config import get_settings
    from app.services import migrations

    migrations.upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="e.g. base, or -- -1 for one step")],
) -> None:
    """Migrate the database down to REVISION."""
    from app.config import get_settings
    from app.services import migrations

    migrations.downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the latest one."""
    from app.config import get_settings
    from app.db import make_engine
    from app.services import migrations

    settings = get_settings()
    current = migrations.current_revision(make_engine(settings.database_url))
    head = migrations.head_revision(settings.database_url)
    state = "up to date" if current == head else "behind: run `policydb db upgrade`"
    typer.echo(f"current: {current or 'none (empty database)'}\nhead:    {head}\n{state}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    scope: Annotated[
        str, typer.Option(help="read-write (records) or admin (also imports and keys).")
    ] = "read-write",
) -> None:
    """Create an API key and print it (it is shown only this once)."""
    from app.services import keys as key_service

    with _session_factory()() as session:
        _key, secret = key_service.create_key(session=session, name=name, scope=scope)
    typer.echo(secret)


@keys_app.command("list")
def keys_list() -> None:
    """List keys: name, prefix, created, revoked."""
    from app.services import keys as key_service

    with _session_factory()() as session:
        for key in key_service.list_keys(session=session):
            revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            created = f"{key.created_at:%Y-%m-%d %H:%M}"
            typer.echo(f"{key.name}\t{key.scope}\t{key.prefix}…\t{created}\t{revoked}")


@keys_app.command("revoke")
def keys_revoke(name: str) -> None:
    """Revoke a key by name; requests with it get 403 from then on."""
    from app.services import keys as key_service

    with _session_factory()() as session:
        key_service.revoke_key(session=session, name=name)
    typer.echo(f"revoked {name}")


def _seed(session: Any) -> "ImportReport":
    from app.services.bundle import import_bundle
    from app.services.bundle_files import read_bundle_path

    data, source_map = read_bundle_path(SEED_PATH)
    return import_bundle(session=session, data=data, source_map=source_map, changed_by="seed")


@app.command()
def seed() -> None:
    """Load seed_data/ (the article dataset) through the import path; twice changes nothing."""
    with _session_factory()() as session:
        print_report(_seed(session))


@app.command("import")
def import_(
    path: Annotated[
        str,
        typer.Argument(
            help="A .json/.yaml bundle, a folder of CSV files, a data package (its folder or "
            "datapackage.json), or - for stdin."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report; write nothing.")
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            help="upsert (default: replace records by slug), merge (a merge patch of each "
            "stored record: fields left out stay), insert (existing slugs are errors) or "
            "replace (also delete what the bundle lacks)."
        ),
    ] = "upsert",
    allow_replace: Annotated[
        bool, typer.Option("--yes-delete-missing", help="Required with --mode replace.")
    ] = False,
    report_format: Annotated[
        str, typer.Option("--report", help="text (default: counts and the first changes) or json.")
    ] = "text",
) -> None:
    """Import a bundle: validated whole, applied in one transaction, every error listed."""
    if mode not in ("upsert", "merge", "insert", "replace"):
        typer.echo("error: --mode must be upsert, merge, insert or replace", err=True)
        raise typer.Exit(2)
    if report_format not in ("text", "json"):
        typer.echo("error: --report must be text or json", err=True)
        raise typer.Exit(2)
    if mode == "replace" and not allow_replace:
        typer.echo(
            "error: --mode replace deletes every record absent from the bundle; "
            "add --yes-delete-missing to confirm",
            err=True,
        )
        raise typer.Exit(2)
    from app.services.bundle import import_bundle, record_count
    from app.services.bundle_files import read_bundle_path

    with _session_factory()() as session, ExitStack() as stack:
        data, source_map = read_bundle_path(path)
        progress = None
        total = record_count(data)
        if sys.stderr.isatty() and total >= PROGRESS_THRESHOLD:  # quiet in scripts and CI
            bar = stack.enter_context(
                typer.progressbar(length=total, label="writing", file=sys.stderr)
            )
            progress = bar.update
        report = import_bundle(
            session=session,
            data=data,
            mode=mode,  # type: ignore[arg-type]
            dry_run=dry_run,
            source_map=source_map,
            progress=progress,
            changed_by="cli",
        )
    print_report(report, as_json=report_format == "json")


@app.command()
def export(
    format: Annotated[
        str, typer.Option("--format", help="json, yaml, csv or datapackage.")
    ] = "json",
    out: Annotated[
        Path | None,
        typer.Option(help="File (json/yaml) or folder (csv, datapackage); default stdout."),
    ] = None,
) -> None:
    """Export the whole database as a bundle."""
    from sqlalchemy import select

    from app.models import Source
    from app.services.bundle import iter_export_json, iter_export_yaml
    from app.services.bundle_files import write_csv_folder
    from app.services.datapackage import write_datapackage

    if format not in ("json", "yaml", "csv", "datapackage"):
        typer.echo("error: --format must be json, yaml, csv or datapackage", err=True)
        raise typer.Exit(2)
    if format in ("csv", "datapackage") and out is None:
        typer.echo(f"error: --format {format} needs --out FOLDER", err=True)
        raise typer.Exit(2)
    if format in ("csv", "datapackage") and out is not None and out.exists() and not out.is_dir():
        typer.echo(f"error: {out} exists and is not a folder", err=True)
        raise typer.Exit(2)
    with _session_factory()() as session:
        # A database error (not migrated) must come before the bundle starts on stdout.
        session.execute(select(Source.id).limit(1))
        if format in ("csv", "datapackage"):
            assert out is not None
            (write_csv_folder if format == "csv" else write_datapackage)(session, out)
            return
        chunks = (iter_export_json if format == "json" else iter_export_yaml)(session)
        stream = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            for chunk in chunks:
                stream.write(chunk)
        finally:
            if out:
                stream.close()


@app.command("mcp")
def mcp_stdio() -> None:
    """Serve the read-only MCP server (tools for AI agents) over stdio."""
    import logging

    import anyio

    from app.config import get_settings
    from app.mcp_server import build_server

    # stdout carries the protocol: anything else goes to stderr.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    settings = get_settings()
    factory = _session_factory()
    server = build_server(settings, lambda: factory)
    anyio.run(server.run_stdio_async)


@app.command("bundle-schema")
def bundle_schema() -> None:
    """Print the JSON Schema of the bundle format (for editors and validators)."""
    from app.resources.registry import Bundle

    typer.echo(json.dumps(Bundle.model_json_schema(), indent=2, ensure_ascii=False))


@app.command("verify-citations")
def verify_citations(
    source: Annotated[str, typer.Argument(help="Slug of the source.")],
    text_file: Annotated[Path, typer.Argument(help="The source's full text.")],
) -> None:
    """Check that TEXT_FILE is SOURCE's text: its SHA-256 (if recorded) and every excerpt."""
    from app.services.citations import check_citations

    content = text_file.read_bytes()
    with _session_factory()() as session:
        check = check_citations(session=session, source_slug=source, content=content)
    if not check.digest_matches:
        typer.echo(
            f"SHA-256 MISMATCH {text_file} has {check.text_sha256}; "
            f"source {source} records {check.recorded_sha256}",
            err=True,
        )
    for item in check.missing:
        typer.echo(f"NOT FOUND {item}", err=True)
    found = check.checked - len(check.missing)
    typer.echo(f"{found} of {check.checked} excerpts found verbatim")
    if check.missing or not check.digest_matches:
        raise typer.Exit(1)
