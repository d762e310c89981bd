"""Signing and verifying the development authorisation server's access tokens (JWT, ES256).

The key pair is generated on first start and kept as a JWK file in the data directory, so tokens
survive restarts. Production would use the bank's authorisation server and GOST algorithms; this is
a stand-in for the sandbox only.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHM = "ES256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    client_id: str
    customer_id: str | None
    scopes: frozenset[str]
    expires_at: int
    token_id: str


def load_or_create_key(path: Path) -> ECKey:
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", auto_kid=True)
    # Write then rename so two processes starting together never read half a key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(key.as_dict(private=True), fh)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        tmp.unlink()
        return ECKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    tmp.unlink()
    return key


class TokenService:
    def __init__(self, key: ECKey, issuer: str, audience: str, ttl_seconds: int = 3600) -> None:
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        # Verified tokens are cached (bounded) so a busy client does not pay a signature check per
        # request; expiry is still checked on every use.
        self._cache: dict[str, TokenClaims] = {}
        self._cache_lock = threading.Lock()

    def issue(self, client_id: str, customer_id: str | None, scopes: list[str]) -> tuple[str, int]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": customer_id or client_id,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        if customer_id is not None:
            claims["customer_id"] = customer_id
        header = {"alg": ALGORITHM, "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM]), self.ttl_seconds

    def verify(self, token: str, now: float | None = None) -> TokenClaims:
        moment = time.time() if now is None else now
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at <= moment:
                raise InvalidToken("the access token has expired")
            return cached
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError) as exc:
            raise InvalidToken("the access token is not valid") from exc
        c = decoded.claims
        try:
            if c["iss"] != self.issuer or c["aud"] != self.audience:
                raise InvalidToken("the access token was issued for somebody else")
            exp, nbf = int(c["exp"]), int(c.get("nbf", 0))
            claims = TokenClaims(
                subject=str(c["sub"]),
                client_id=str(c["client_id"]),
                customer_id=str(c["customer_id"]) if c.get("customer_id") is not None else None,
                scopes=frozenset(str(c.get("scope", "")).split()),
                expires_at=exp,
                token_id=str(c["jti"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("the access token lacks required claims") from exc
        if exp <= moment or nbf > moment + 60:
            raise InvalidToken("the access token has expired or is not yet valid")
        with self._cache_lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = claims
        return claims

    def jwks(self) -> dict[str, Any]:
        public = self._key.as_dict(private=False)
        public.update({"use": "sig", "alg": ALGORITHM})
        return {"keys": [public]}
