"""How the OpenAPI document describes a resource's record endpoints (routes/records.py):
summaries, operation ids, descriptions, response shapes and the problems each may answer."""

from typing import Any

from app.api.problems import problem_responses
from app.resources import Resource
from app.schemas.common import Page
from app.schemas.history import HistoryPage, RecordAsOf

Operation = dict[str, Any]  # keyword arguments of APIRouter.add_api_route


def operation_docs(resource: Resource) -> dict[str, Operation]:
    """The documentation of each of a resource's record endpoints, by handler."""
    name, singular = resource.name, resource.singular
    Out: Any = resource.document
    write_responses = problem_responses(401, 403, 404, 409, 412, 422, 428)
    return {
        "list_records": {
            "response_model": Page[Out],
            "summary": f"List {name}",
            "operation_id": f"list_{name}",
            "description": f"Filter, sort and page through {name}. Each item embeds its "
            "relations; the `next` URL (and the `Link` header) fetches the following page. "
            "With `format=csv` or `format=ndjson` (or `Accept: text/csv` / "
            "`application/x-ndjson`) every matching row is streamed instead, in the same sort "
            "order.",
            "responses": {
                **problem_responses(400),
                200: {"content": {"text/csv": {}, "application/x-ndjson": {}}},
            },
        },
        "read_record": {
            "response_model": Out | RecordAsOf,
            "summary": f"Get one {singular}",
            "operation_id": f"get_{singular}",
            "description": f"A {singular} by id or slug, with its relations and citations "
            "embedded. The `ETag` header changes whenever the record or its links change; send "
            "it back in `If-None-Match` (304 when unchanged) or `If-Match` on writes. With "
            f"`as_of`, the {singular} as it was at that moment, read from its history (also "
            "after deletion).",
            "responses": {**problem_responses(400, 404), 304: {"description": "Not modified"}},
        },
        "read_history": {
            "response_model": HistoryPage,
            "summary": f"History of {_a(singular)}",
            "operation_id": f"history_of_{singular}",
            "description": "Every create, update and delete of the record, newest first, with "
            "who made it and each changed field's old and new value. Deleted records keep theirs.",
            "responses": problem_responses(400, 404),
        },
        "create": {
            "response_model": Out,
            "status_code": 201,
            "summary": f"Create {_a(singular)}",
            "operation_id": f"create_{singular}",
            "description": "Needs an API key. References to other records are by slug.",
            "responses": {
                **problem_responses(401, 403, 409, 422),
                201: {
                    "description": f"The new {singular}; `Location` names it.",
                    "links": _links_from_created(singular),
                },
            },
        },
        "replace": {
            "response_model": Out,
            "summary": f"Replace {_a(singular)}",
            "operation_id": f"replace_{singular}",
            "description": "Needs an API key. The body is the whole record (the shape a GET "
            "returns; read-only fields are ignored). A different slug renames the record. Send "
            "`If-Match` with the ETag you read so that nobody else's change is overwritten.",
            "responses": write_responses,
        },
        "patch": {
            "response_model": Out,
            "summary": f"Patch {_a(singular)}",
            "operation_id": f"patch_{singular}",
            "description": "Needs an API key. An RFC 7396 JSON merge patch: given fields replace "
            "the stored ones, `null` clears a field; lists are replaced whole. Honours `If-Match`.",
            "responses": write_responses,
        },
        "delete": {
            "status_code": 204,
            "summary": f"Delete {_a(singular)}",
            "operation_id": f"delete_{singular}",
            "description": "Needs an API key. Refused (409) while other records point at it, "
            "unless `force=true`, which rewrites those records without the reference first "
            "(each change recorded in their history). Honours `If-Match`.",
            "responses": problem_responses(401, 403, 404, 409, 412, 428),
        },
    }


def _a(noun: str) -> str:
    """The noun with its indefinite article ("an actor", "a policy")."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _links_from_created(singular: str) -> dict[str, Any]:
    """OpenAPI links from a created record to the operations on it."""
    links = {
        f"{verb.capitalize()}{singular.capitalize()}": {
            "operationId": f"{verb}_{singular}",
            "parameters": {"key": "$response.body#/slug"},
        }
        for verb in ("get", "replace", "patch", "delete")
    }
    links[f"HistoryOf{singular.capitalize()}"] = {
        "operationId": f"history_of_{singular}",
        "parameters": {"key": "$response.body#/slug"},
    }
    return links
