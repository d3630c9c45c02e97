"""What every tool shares: a database session within the request limits (its errors turned
into tool errors), the cursor codec, the record types, and the checks of filters the HTTP
API makes too."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import is_timeout, set_deadline
from app.errors import NotFound, PolicyDBError
from app.partial_dates import PartialDate
from app.resources import RESOURCES
from app.resources.descriptor import Codes
from app.services import documents
from app.services.installation import installation_secret
from app.services.paging import CursorCodec
from app.services.resources import ResourceName, is_record_key

log = logging.getLogger("policydb.mcp")

RecordType = Literal["policy", "actor", "region", "goal", "source"]
# A tool names a type by its singular ("policy"), as search results and reconciliation do.
RESOURCE: dict[str, ResourceName] = {r.singular: r.name for r in RESOURCES.values()}
MAX_ITEMS = 1000
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

SessionFactory = Callable[[], sessionmaker[Session]]


def url_of(record_type: str, slug: str) -> str:
    return f"/api/v1/{RESOURCE[record_type]}/{slug}"


def _tool_error(error: PolicyDBError) -> ToolError:
    details = "; ".join(f"{e.pointer}: {e.detail}" for e in error.errors)
    return ToolError(f"{error.detail}" + (f" ({details})" if details else ""))


class ToolContext:
    """The settings and database of one MCP server; ``session_factory`` is asked for the
    sessionmaker at each call."""

    def __init__(self, settings: Settings, session_factory: SessionFactory) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self._codec: CursorCodec | None = None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self.session_factory()()
        set_deadline(session, self.settings.query_timeout_ms)
        try:
            yield session
        except PolicyDBError as error:
            raise _tool_error(error) from None
        except DBAPIError as error:
            if is_timeout(error):
                raise ToolError(
                    "the query took longer than this server allows; narrow it or retry"
                ) from None
            # Never SQL or a trace to the client; the log has it.
            log.exception("database error in an MCP tool")
            raise ToolError(
                "the database failed or is unavailable (is it migrated? policydb db upgrade)"
            ) from None
        finally:
            session.close()

    def codec(self) -> CursorCodec:
        """Keyed like the REST API's: POLICYDB_CURSOR_SECRET, else the installation's own."""
        if self._codec is None:
            secret = self.settings.cursor_secret
            if not secret:
                with self.session_factory()() as session:
                    secret = installation_secret(session=session)
            self._codec = CursorCodec(secret)
        return self._codec


def record_document(session: Session, record_type: RecordType, slug: str) -> Any:
    if not is_record_key(slug):  # "²", "①", ids beyond 2^31, NULs: nothing to look up
        raise NotFound(f"no {record_type} with id or slug {slug!r}")
    return documents.document(session, RESOURCE[record_type], slug)


def trim(document: dict[str, Any], max_items: int | None) -> tuple[dict[str, Any], dict[str, int]]:
    """The document with every list cut to ``max_items`` (None: whole), and what was cut."""
    if max_items is None:
        return document, {}
    cut: dict[str, int] = {}
    trimmed = dict(document)
    for key, value in document.items():
        if isinstance(value, list) and len(value) > max_items:
            trimmed[key] = value[:max_items]
            cut[key] = len(value)
    if "supports_total" in document and document["supports_total"] > len(
        trimmed.get("supports", [])
    ):
        cut["supports"] = document["supports_total"]
    return trimmed, cut


# The filters the list tool offers; each type takes those of them its list takes over HTTP.
TOOL_FILTERS = ("q", "kind", "status", "topic", "region", "actor", "policy")


def check_filters(record_type: str, given: dict[str, Any]) -> None:
    """Refuse a filter the type does not take, or a code no vocabulary has (as the API does)."""
    declared = RESOURCES[RESOURCE[record_type]].filters
    for name, value in given.items():
        if not value:
            continue
        if name not in declared:
            allowed = ", ".join(sorted(n for n in declared if n in TOOL_FILTERS))
            raise ToolError(f"{name} does not filter {record_type} records (these do: {allowed})")
        if isinstance(codes := declared[name].value, Codes):
            check_codes(name, value, codes.vocabulary)


def check_codes(name: str, values: list[str], vocabulary: type[StrEnum]) -> None:
    known = {v.value for v in vocabulary}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ToolError(f"unknown {name} {unknown}; known: {', '.join(sorted(known))}")


def parse_date(name: str, value: str | None) -> PartialDate | None:
    if value is None:
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as exc:
        raise ToolError(f"{name}: {exc}") from None
