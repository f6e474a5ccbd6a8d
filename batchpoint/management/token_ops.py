"""``Workspace.tokens``: API bearer tokens, stored as SHA-256 hashes and shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from batchpoint.errors import NotFoundError, SpecError
from batchpoint.management.backends import Backends
from batchpoint.registry.tables import api_tokens
from batchpoint.registry.timestamps import aware, utc_now


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenOperations:
    """Create, verify, revoke and list API tokens (an admin action: the CLI writes the registry)."""

    def __init__(self, backends: Backends) -> None:
        self._engine = backends.registry.engine

    def create(self, name: str) -> tuple[str, str]:
        """A new token ``(id, secret)``; the secret is not stored and cannot be shown again."""
        if not name.strip() or len(name) > 128:
            raise SpecError("name", f"got {name!r}", "a non-empty name of at most 128 characters")
        token_id = f"tok_{secrets.token_hex(4)}"
        secret = secrets.token_urlsafe(32)
        with self._engine.begin() as conn:
            conn.execute(
                api_tokens.insert().values(id=token_id, name=name, secret_hash=_hash(secret), created_at=utc_now())
            )
        return token_id, secret

    def verify(self, secret: str) -> str | None:
        """The id of the live token whose secret this is, else ``None`` (compared in constant time)."""
        candidate = _hash(secret)
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(api_tokens.c.id, api_tokens.c.secret_hash).where(api_tokens.c.revoked_at.is_(None))
            ).all()
        found = None
        for row in rows:  # no early exit: the time taken does not tell which token matched
            if hmac.compare_digest(row.secret_hash, candidate):
                found = str(row.id)
        return found

    def revoke(self, token_id: str) -> None:
        """Revoke a token; it stops working at once."""
        with self._engine.begin() as conn:
            done = conn.execute(
                api_tokens.update()
                .where((api_tokens.c.id == token_id) & api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            )
            if done.rowcount == 0:
                exists = conn.execute(sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first()
                if exists is None:
                    raise NotFoundError("token", token_id, "list them with `batchpoint token list`")

    def list(self) -> list[TokenInfo]:
        """Every token, revoked ones included, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)).all()
        return [TokenInfo(r.id, r.name, aware(r.created_at) or utc_now(), aware(r.revoked_at)) for r in rows]
