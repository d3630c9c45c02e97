"""Secrets an installation makes for itself on first use and keeps in its database."""

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import InstallationSecret

CURSOR_SECRET = "cursor"
# Values that have been, or obviously are, public: a server configured with one is warned.
KNOWN_CURSOR_SECRETS = frozenset(
    {"policydb-cursor-signing-key", "changeme", "change-me", "secret", "dev", "test"}
)


def is_weak_secret(value: str) -> bool:
    """A configured secret anyone could guess (a known default, or too short)."""
    return value.strip().lower() in KNOWN_CURSOR_SECRETS or len(value.strip()) < 16


def installation_secret(*, session: Session, name: str = CURSOR_SECRET) -> str:
    """The secret ``name`` of this installation, generated and stored the first time.

    Several processes may start at once: the first insert wins, the others read its value.
    """
    found = session.scalar(select(InstallationSecret.value).where(InstallationSecret.name == name))
    if found is not None:
        return found
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InstallationSecret)
        .values(name=name, value=secrets.token_urlsafe(32))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    session.commit()
    value = session.scalar(select(InstallationSecret.value).where(InstallationSecret.name == name))
    assert value is not None, "inserted or already there"
    return value
