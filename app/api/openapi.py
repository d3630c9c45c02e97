"""The finishing touches of the OpenAPI document, applied once when it is first built.

FastAPI writes what the routes declare; a few things need the whole document: the schemas
referred to by hand (the import's Bundle, the Problem of every error answer), and parameter
examples placed where documentation viewers look for them.
"""

from typing import Any

from fastapi import FastAPI

from app.api.problems import Problem
from app.resources.registry import Bundle

_REF = "#/components/schemas/{model}"


def finish_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the finished document (built once, then kept)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in (("Bundle", Bundle), ("Problem", Problem)):
                _add_schema(components, name, model.model_json_schema(ref_template=_REF))
            for operation in _operations(schema):
                for parameter in operation.get("parameters", []):
                    _place_example(parameter)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_schema(components: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    for inner, inner_definition in definition.pop("$defs", {}).items():
        components.setdefault(inner, inner_definition)
    components[name] = definition


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in schema.get("paths", {}).values() for op in path.values()]


def _place_example(parameter: dict[str, Any]) -> None:
    """Copy a parameter's first schema example to the parameter itself.

    Pydantic writes ``examples`` inside the parameter's JSON Schema; Swagger UI and ReDoc
    show (and Swagger's "Try it out" fills in) the parameter's own ``example``.
    """
    schema = parameter.get("schema", {})
    examples = [e for e in schema.get("examples", []) if e is not None]
    if not examples or "example" in parameter or "examples" in parameter:
        return
    example = examples[0]
    if schema.get("type") == "array" and not isinstance(example, list):
        example = [example]
    parameter["example"] = example
