"""API keys: created once and shown once, stored as SHA-256 hashes, revocable."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import (
    Conflict,
    InsufficientScope,
    InvalidInput,
    KeyRevoked,
    NotAuthenticated,
    NotFound,
)
from app.models import ApiKey
from app.models.base import utcnow
from app.safe_text import SAFE_TEXT_MESSAGE, has_unsafe_characters

KEY_PREFIX = "pdb_"


def _digest(secret: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


SCOPES = ("read-write", "admin")


def create_key(*, session: Session, name: str, scope: str = "read-write") -> tuple[ApiKey, str]:
    """Create a key; return the row and the secret, which is not stored anywhere.

    ``read-write`` keys may write records; ``admin`` keys may also import whole bundles and
    manage keys.
    """
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}")
    if not name or len(name) > 100:
        raise InvalidInput("a key name is 1 to 100 characters")
    if has_unsafe_characters(name):
        raise InvalidInput(f"a key name {SAFE_TEXT_MESSAGE}")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} already exists")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, key_hash=_digest(secret), prefix=secret[:12], scope=scope)
    session.add(key)
    session.commit()
    return key, secret


def list_keys(*, session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.name)).all()


def revoke_key(*, session: Session, name: str) -> ApiKey:
    # No key has a name with control characters (create_key refuses them), and a NUL could
    # not even be sent to PostgreSQL.
    key = None
    if not has_unsafe_characters(name):
        key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"no key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


def authenticate(*, session: Session, secret: str | None) -> ApiKey:
    """The key a bearer secret belongs to; NotAuthenticated or KeyRevoked otherwise."""
    if not secret:
        raise NotAuthenticated("this request needs an API key: Authorization: Bearer <key>")
    digest = _digest(secret)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise NotAuthenticated("unknown API key")
    if key.revoked_at is not None:
        raise KeyRevoked(f"the API key {key.name!r} was revoked")
    return key


def require_scope(key: ApiKey, scope: str) -> ApiKey:
    if scope == "admin" and key.scope != "admin":
        raise InsufficientScope(f"this needs an admin key; {key.name!r} is {key.scope}")
    return key
