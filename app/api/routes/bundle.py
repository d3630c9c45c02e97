"""Whole-dataset import and export, and the bundle's JSON Schema."""

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import (
    AdminKey,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    reject_unknown_query_params,
    restart_deadline,
)
from app.api.problems import problem_responses
from app.errors import BadQuery, ErrorDetail, TooLarge
from app.resources.registry import Bundle
from app.schemas.bundle import ImportModeName, ImportReport
from app.services.bundle import (
    import_bundle,
    iter_export_json,
    iter_export_yaml,
    json_bundle_bytes,
    parse_bundle_text,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query_params)])

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {declared} bytes; at most {limit} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise TooLarge(f"the body exceeds {limit} bytes")
    return bytes(body)


@router.post(
    "/import",
    tags=["bundle"],
    summary="Import a bundle",
    description="Needs an admin API key. The body is a bundle in JSON (`application/json`) or YAML "
    "(`application/yaml`). Everything is validated first and applied in one transaction: on any "
    "error nothing changes and every problem is listed with its location. The answer counts "
    "what changed and lists the first changed records field by field (old and new values).",
    response_model=ImportReport,
    responses=problem_responses(400, 401, 403, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Bundle"}},
                "application/yaml": {"schema": {"$ref": "#/components/schemas/Bundle"}},
            },
        }
    },
)
async def import_(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    key: AdminKey,
    dry_run: Annotated[
        bool, Query(description="Validate and report what would change; write nothing.")
    ] = False,
    mode: Annotated[
        ImportModeName,
        Query(
            description="upsert: create or replace by slug (fields left out are cleared); "
            "merge: create, or update by slug as an RFC 7396 merge patch (fields left out "
            "stay, null removes one, lists replace lists); insert: existing slugs are errors; "
            "replace: also delete every record absent from the bundle (needs allow_delete).",
            examples=["upsert"],
        ),
    ] = "upsert",
    allow_delete: Annotated[
        bool, Query(description="Required with mode=replace, which deletes records.")
    ] = False,
) -> Any:
    if mode == "replace" and not allow_delete:
        raise BadQuery(
            "mode=replace deletes every record absent from the bundle",
            [ErrorDetail("/query/allow_delete", "set allow_delete=true to confirm")],
        )
    changed_by = f"key:{key.name}"
    await run_in_threadpool(restart_deadline, session, settings.import_timeout_ms)
    body = await read_limited_body(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    syntax: Literal["json", "yaml"] = "yaml" if content_type in YAML_TYPES else "json"

    # Parsing and writing are blocking work: keep them off the event loop. JSON is read as a
    # stream (records are validated one at a time); YAML is parsed whole.
    depth = settings.max_json_depth
    if syntax == "json":
        data = await run_in_threadpool(json_bundle_bytes, body, depth, settings.max_import_records)
    else:
        data = await run_in_threadpool(parse_bundle_text, body, syntax=syntax, max_depth=depth)
    return await run_in_threadpool(
        import_bundle,
        session=session,
        data=data,
        mode=mode,
        dry_run=dry_run,
        max_records=settings.max_import_records,
        changed_by=changed_by,
    )


@router.get(
    "/export",
    tags=["bundle"],
    summary="Export everything",
    description="The whole database as one bundle, streamed; import it elsewhere as it is.",
    responses={200: {"content": {"application/json": {}, "application/yaml": {}}}},
)
def export(
    factory: SessionFactoryDep,
    format: Annotated[
        Literal["json", "yaml"], Query(description="Bundle syntax.", examples=["yaml"])
    ] = "json",
) -> StreamingResponse:
    def chunks() -> Iterator[str]:
        with factory() as session:  # its own session: the response outlives the request scope
            yield from (iter_export_json if format == "json" else iter_export_yaml)(session)

    media_type = "application/json" if format == "json" else "application/yaml"
    return StreamingResponse(
        chunks(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="policydb.{format}"'},
    )


@router.get(
    "/bundle.schema.json",
    tags=["bundle"],
    summary="Bundle JSON Schema",
    description="The JSON Schema of the bundle format, for editors and validators.",
)
def bundle_schema() -> dict[str, Any]:
    return Bundle.model_json_schema()
