"""Schemathesis against the app's own OpenAPI document, in process, on both engines.

The schema is read from an app built at import time (building it connects to nothing); each
test points that app at the engine's rolled-back test transaction.
"""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import get_session_factory
from app.config import Settings
from app.main import create_app

# The rate limiter has its own tests; here it would only turn fast fuzzing into 429s.
fuzz_app = create_app(Settings(database_url="sqlite://", rate_limit_per_second=0))
# Slugs in filters and bodies, and paging cursors, are checked against the database: a request
# the schema allows can still name a record that does not exist (400 for a query, 422 for a
# body), which is correct and not a defect. Everything else runs with its defaults.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 412, 422, 428]
            }
        },
        # The coverage phase enumerates boundary values of every field of a whole bundle:
        # thousands of imports. Examples and random fuzzing still exercise the endpoint.
        "operations": [
            {"include-path": "/api/v1/import", "phases": {"coverage": {"enabled": False}}}
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=CONFIG)

FUZZ = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _call(case: Any, session_factory: sessionmaker[Session], auth: dict[str, str]) -> None:
    fuzz_app.dependency_overrides[get_session_factory] = lambda: session_factory
    try:
        case.call_and_validate(headers=auth)
    finally:
        fuzz_app.dependency_overrides.clear()


@schema.parametrize()
@FUZZ
def test_api(case: Any, session_factory: sessionmaker[Session], auth: dict[str, str]) -> None:
    _call(case, session_factory, auth)


def test_stateful(session_factory: sessionmaker[Session], auth: dict[str, str]) -> None:
    """Sequences of calls that follow the OpenAPI links (create, then read/replace/delete)."""
    fuzz_app.dependency_overrides[get_session_factory] = lambda: session_factory
    machine = schema.as_state_machine()

    class Authenticated(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": auth}

    try:
        Authenticated.run(
            settings=settings(
                max_examples=8,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    finally:
        fuzz_app.dependency_overrides.clear()
