"""Dependencies shared by the routes: the session, settings, paging parameters, auth.

Those that do no I/O are async: FastAPI runs a sync dependency in a worker thread, and those
hand-offs cost more than a cheap GET's database work (bench/NOTES.md).
"""

import functools
import hashlib
import inspect
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.types import Scope

from app.api.middleware import KeyVerdict
from app.config import Settings
from app.db import set_deadline
from app.errors import BadQuery, ErrorDetail, KeyRevoked, NotAuthenticated, NotFound
from app.models import ApiKey
from app.resources import Resource
from app.services.installation import installation_secret
from app.services.keys import authenticate, require_scope
from app.services.paging import CursorCodec
from app.services.queries import ListParams
from app.services.resources import is_record_key


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]


async def get_session(factory: SessionFactoryDep, settings: SettingsDep) -> AsyncIterator[Session]:
    session = factory()
    set_deadline(session, settings.query_timeout_ms)
    try:
        yield session
    finally:
        # Closing rolls the pooled connection back: a function call on SQLite, a round trip
        # to a server otherwise, which must not hold up the event loop.
        if session.get_bind().dialect.name == "sqlite":
            session.close()
        else:
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


def read_slots(settings: Settings, dialect: str) -> threading.BoundedSemaphore | None:
    """The process's read slots (None: unlimited), made once by create_app.

    SQLite releases Python's GIL for every row it steps through, so many threads reading
    at once mostly hand the GIL back and forth: on 2 cores, 8 concurrent list pages ran
    slower than 4 at a time (4 beat 2 by ~15% once documents came out of SQLite as one
    row each). PostgreSQL returns whole results at once.
    """
    count = settings.read_concurrency or (4 if dialect == "sqlite" else 0)
    return threading.BoundedSemaphore(count) if count else None


@contextmanager
def reading(request: Request) -> Iterator[None]:
    """Hold one of the process's read slots while a request reads (waits for a free one)."""
    slots: threading.BoundedSemaphore | None = request.app.state.read_slots
    if slots is None:
        yield
        return
    with slots:
        yield


async def get_codec(
    request: Request, settings: SettingsDep, factory: SessionFactoryDep
) -> CursorCodec:
    """The cursor codec, keyed by POLICYDB_CURSOR_SECRET or else this installation's own
    secret (made on first use, read once per process)."""
    codec: CursorCodec | None = getattr(request.app.state, "cursor_codec", None)
    if codec is None:
        secret = settings.cursor_secret
        if not secret:
            secret = await run_in_threadpool(_stored_cursor_secret, factory)
        codec = request.app.state.cursor_codec = CursorCodec(secret)
    return codec


def _stored_cursor_secret(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        return installation_secret(session=session)


CodecDep = Annotated[CursorCodec, Depends(get_codec)]


def sort_pattern(resource: Resource) -> str:
    """What a resource's ``sort`` may be: its sort fields, each maybe with a leading ``-``."""
    field = "-?(?:" + "|".join(sorted(resource.sortable, key=len, reverse=True)) + ")"
    return f"^{field}(?:,{field})*$"


def list_parameters(resource: Resource) -> Callable[..., Awaitable[ListParams]]:
    """A dependency reading a list's paging and sorting parameters (``resource``'s sort
    fields are the only ones the schema offers)."""
    fields = list(resource.sortable)
    sort_example = next((f"-{f}" for f in ("announced", "updated_at") if f in fields), fields[0])

    async def list_params(
        settings: SettingsDep,
        limit: Annotated[
            int | None,
            Query(
                ge=0,
                description="Rows per page (default 50, at most 200; 0 for just the total/facets).",
                examples=[50],
            ),
        ] = None,
        cursor: Annotated[
            str | None,
            Query(
                description="Opaque cursor: the `cursor` (or the `next` link) of the previous "
                "page.",
                examples=[None],
            ),
        ] = None,
        sort: Annotated[
            str | None,
            Query(
                description="Comma-separated sort fields; a leading `-` sorts descending. "
                f"Fields: {', '.join(fields)}.",
                pattern=sort_pattern(resource),
                examples=[sort_example],
            ),
        ] = None,
        count: Annotated[
            bool,
            Query(description="Include the total number of matching rows.", examples=[True]),
        ] = True,
    ) -> ListParams:
        if limit is not None and limit > settings.max_page_size:
            raise BadQuery(
                f"limit may be at most {settings.max_page_size}",
                [ErrorDetail(pointer="/query/limit", detail=f"at most {settings.max_page_size}")],
            )
        return ListParams(
            limit=settings.default_page_size if limit is None else limit,
            cursor=cursor,
            sort=sort,
            count=count,
            count_cap=settings.count_cap,
        )

    return list_params


def _query_param_names(dependant: Dependant) -> list[str]:
    names = [p.alias for p in dependant.query_params]
    for sub in dependant.dependencies:
        names.extend(_query_param_names(sub))
    return names


async def reject_unknown_query_params(request: Request) -> None:
    """A misspelt filter (``?regoin=cn``) is an error, not a silently unfiltered list."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    nul = sorted({name for name, value in request.query_params.multi_items() if "\x00" in value})
    # PostgreSQL cannot take a NUL in text: refused here, before any filter reaches a query.
    # (The reconciliation service normalises its free text, NULs included, itself.)
    if nul and not request.url.path.startswith("/api/v1/reconcile"):
        raise BadQuery(
            "query parameters may not contain NUL characters",
            [ErrorDetail(pointer=f"/query/{name}", detail="contains a NUL (%00)") for name in nul],
        )
    known = set(_query_param_names(dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise BadQuery(
            f"unknown query parameter(s): {', '.join(unknown)}",
            [
                ErrorDetail(
                    pointer=f"/query/{name}",
                    detail=f"unknown parameter; known: {', '.join(sorted(known))}",
                )
                for name in unknown
            ],
        )


def restart_deadline(session: Session, milliseconds: int) -> None:
    """Give the rest of a request a time budget of its own (an import's, not a read's):
    the transaction that authenticated the request ends, and the next one gets the bound."""
    session.rollback()
    set_deadline(session, milliseconds)


def local_url(url: URL) -> str:
    """A link to this server as path and query only: the ``Host`` header, which the client
    chose, is never written back into ``next`` or ``Link``."""
    return url.path + ("?" + url.query if url.query else "")


def example_key(resource: Resource, *, stored: bool = True) -> str:
    """The key the docs show for a record, from the slug examples of the resource's record
    shape: the last names a stored (seed) record, for reads; the first a new one, so that a
    write tried from the docs never changes a stored record."""
    examples = resource.record.model_fields["slug"].examples or ["1"]
    return str(examples[-1] if stored else examples[0])


def record_key(resource: Resource, *, stored: bool = True) -> Callable[..., Awaitable[str]]:
    """The ``{key}`` path parameter of a resource: an id in range or a slug, else a 404
    (``stored``: whether its example names a stored record, see ``example_key``)."""
    singular = resource.singular
    example = example_key(resource, stored=stored)

    async def valid_key(
        key: Annotated[str, Path(description="Numeric id or slug.", examples=[example])],
    ) -> str:
        if not is_record_key(key):
            raise NotFound(f"no {singular} with id or slug {key!r}")
        return key

    return valid_key


def for_resource[F: Callable[..., Any]](handler: F, resource: Resource, **annotations: Any) -> F:
    """``handler``, written once for every resource, as one resource's endpoint: FastAPI fills
    its ``resource`` parameter with ``resource`` and reads the other ``annotations`` given
    (that resource's filters, body shape or key) in place of the handler's own."""

    async def this_resource() -> Resource:
        return resource

    annotations["resource"] = Annotated[Resource, Depends(this_resource)]
    signature = inspect.signature(handler)
    if unknown := set(annotations) - set(signature.parameters):
        raise TypeError(f"{handler.__name__} has no parameter {', '.join(sorted(unknown))}")

    @functools.wraps(handler)
    def endpoint(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    parameters = [
        p.replace(annotation=annotations.get(p.name, p.annotation))
        for p in signature.parameters.values()
    ]
    # FastAPI reads an endpoint's parameters from its signature.
    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return cast(F, endpoint)


def key_check(app: FastAPI) -> Callable[[Scope, str], Awaitable[KeyVerdict]]:
    """How the middleware learns who an Authorization header belongs to, before routing.

    The answer keys the rate limit and lets writes without a valid key be refused before
    their body is read. Verdicts are kept a few seconds (the routes still check the key
    on every write, so a revocation takes effect at once).
    """
    cache: OrderedDict[str, tuple[float, KeyVerdict]] = OrderedDict()

    def lookup(secret: str) -> KeyVerdict:
        override = app.dependency_overrides.get(get_session_factory)
        factory = override() if override else app.state.session_factory
        with factory() as session:
            try:
                key = authenticate(session=session, secret=secret)
            except NotAuthenticated as exc:
                return KeyVerdict(None, 401, exc.detail)
            except KeyRevoked as exc:
                return KeyVerdict(None, 403, exc.detail)
            except DBAPIError:  # the routes answer 503 for reads; writes wait for the database
                return KeyVerdict(None, 503, "the database is unavailable; retry shortly")
            return KeyVerdict(key.name)

    async def check(scope: Scope, authorization: str) -> KeyVerdict:
        scheme, _, secret = authorization.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or len(secret) > 200:
            return KeyVerdict(None, 401, "send the key as Authorization: Bearer <key>")
        now = time.monotonic()
        digest = hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()
        cached = cache.get(digest)
        if cached is not None and now - cached[0] < KEY_VERDICT_SECONDS:
            return cached[1]
        verdict = await run_in_threadpool(lookup, secret)
        if verdict.status == 503:
            return verdict
        cache[digest] = (now, verdict)
        if len(cache) > 4096:
            cache.popitem(last=False)
        return verdict

    return check


KEY_VERDICT_SECONDS = 5.0

_bearer = HTTPBearer(auto_error=False, description="An API key from `policydb keys create`.")


def require_key(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    return authenticate(session=session, secret=credentials.credentials if credentials else None)


WriteKey = Annotated[ApiKey, Depends(require_key)]


def require_admin_key(key: WriteKey) -> ApiKey:
    return require_scope(key, "admin")


AdminKey = Annotated[ApiKey, Depends(require_admin_key)]


@dataclass(frozen=True)
class IdPage:
    """A page of a record's long embedded list, continued after the id of its last item."""

    after: int
    limit: int
    request: Request
    codec: CursorCodec
    sort: str

    def next_url(self, last: int | None) -> str | None:
        """The URL of the following page (None on the last page)."""
        if last is None:
            return None
        token = self.codec.encode(self.sort, [last])
        return local_url(self.request.url.include_query_params(cursor=token))


def id_paging(sort: str, noun: str) -> Callable[..., Awaitable[IdPage]]:
    """A dependency reading ``limit`` and ``cursor`` for a list paged by id (``sort`` names the
    list in its cursors, so one list's cursor is refused by another)."""

    async def page(
        request: Request,
        codec: CodecDep,
        limit: Annotated[
            int, Query(ge=1, le=1000, description=f"{noun} per page.", examples=[100])
        ] = 100,
        cursor: Annotated[
            str | None, Query(description="From the `next` link.", examples=[None])
        ] = None,
    ) -> IdPage:
        after = codec.decode(cursor, sort, [int])[0] if cursor else 0
        return IdPage(after, limit, request, codec, sort)

    return page
