"""Signing and verifying the development authorisation server's access tokens (JWT, RFC 9068 profile).

Crypto-agility (ADR-0017): the signing algorithm is configuration (``SANDBOX_TOKEN_ALG``), behind a
small ``Signer`` interface with one implementation per family:

* ``ES256`` and ``Ed25519`` (RFC 9864's fully specified name for EdDSA over Ed25519) through joserfc;
* ``ML-DSA-44``/``-65``/``-87`` (FIPS 204, JOSE serialisation of RFC 9964: ``kty`` ``AKP``) through
  ``cryptography``'s own ML-DSA, since joserfc has no ML-DSA.

The key ring (current signing key plus the previous key's public half) is kept as JSON in the data
directory, so tokens survive restarts; starting with another algorithm, or ``rotate()``, makes a new
current key and keeps the old one published until the next rotation, so live tokens stay valid.
Production would use the bank's authorisation server and certified GOST tools (NFR-0015).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry

DEFAULT_ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"  # RFC 9068 section 2.1: the header's typ of a JWT access token
MAX_TOKEN_CHARS = 16_384  # an ML-DSA-87 token is about 7 KB; anything far larger is not ours
# NumericDate values outside this range are refused before any arithmetic (year 2000 .. 9999).
_EARLIEST, _LATEST = 946_684_800, 253_402_300_799
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


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


# --- signers ---------------------------------------------------------------------------------------


class Signer(Protocol):
    """One key of one algorithm. ``sign`` needs the private half; a published-only key verifies."""

    @property
    def alg(self) -> str: ...

    @property
    def kid(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...

    def verify(self, data: bytes, signature: bytes) -> bool: ...

    def public_jwk(self) -> dict[str, Any]: ...

    def private_jwk(self) -> dict[str, Any]: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_JOSE: dict[str, tuple[type[ECKey] | type[OKPKey], str]] = {
    "ES256": (ECKey, "P-256"),
    "Ed25519": (OKPKey, "Ed25519"),
}


class JoseSigner:
    """ES256 and Ed25519 through joserfc's keys and algorithm models."""

    def __init__(self, alg: str, key: ECKey | OKPKey) -> None:
        self._alg = alg
        self._key = key
        self._model = JWSRegistry.algorithms[alg]
        self._model.check_key(key)  # refuses a P-384 key for ES256 and the like
        self._kid = key.thumbprint()  # RFC 7638

    @classmethod
    def generate(cls, alg: str) -> JoseSigner:
        key_type, curve = _JOSE[alg]
        return cls(alg, key_type.generate_key(curve))  # type: ignore[arg-type]

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> JoseSigner:
        alg = str(jwk.get("alg", DEFAULT_ALGORITHM))
        key_type, _ = _JOSE[alg]
        data = {k: v for k, v in jwk.items() if k not in ("alg", "use", "kid")}
        return cls(alg, key_type.import_key(data))

    @property
    def alg(self) -> str:
        return self._alg

    @property
    def kid(self) -> str:
        return self._kid

    def sign(self, data: bytes) -> bytes:
        return self._model.sign(data, self._key)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            return bool(self._model.verify(data, signature, self._key))
        except (ValueError, TypeError):
            return False

    def _jwk(self, private: bool) -> dict[str, Any]:
        jwk = dict(self._key.as_dict(private=private))
        jwk.pop("kid", None)
        return {**jwk, "alg": self._alg, "kid": self._kid}

    def public_jwk(self) -> dict[str, Any]:
        return self._jwk(private=False)

    def private_jwk(self) -> dict[str, Any]:
        return self._jwk(private=True)


_MLDSA: dict[str, tuple[Any, Any]] = {
    "ML-DSA-44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    "ML-DSA-65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    "ML-DSA-87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}


class MLDSASigner:
    """ML-DSA (FIPS 204) with ``cryptography``; JWK as RFC 9964's ``AKP`` key: ``pub``, and the
    32-byte seed as ``priv``."""

    def __init__(self, alg: str, public: bytes, seed: bytes | None = None) -> None:
        private_type, public_type = _MLDSA[alg]
        self._alg = alg
        self._private = private_type.from_seed_bytes(seed) if seed is not None else None
        if self._private is None:
            self._public = public_type.from_public_bytes(public)
        else:
            self._public = self._private.public_key()
            if self._public.public_bytes_raw() != public:
                raise ValueError("the ML-DSA seed does not belong to the public key")
        self._pub: bytes = self._public.public_bytes_raw()
        self._seed = seed
        # JWK thumbprint (RFC 7638 method) over the key's required members, in lexical order.
        members = json.dumps({"alg": alg, "kty": "AKP", "pub": _b64(self._pub)}, separators=(",", ":"))
        self._kid = _b64(hashlib.sha256(members.encode("ascii")).digest())

    @classmethod
    def generate(cls, alg: str) -> MLDSASigner:
        private = _MLDSA[alg][0].generate()
        return cls(alg, private.public_key().public_bytes_raw(), private.private_bytes_raw())

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> MLDSASigner:
        if jwk.get("kty") != "AKP":
            raise ValueError("an ML-DSA JWK has kty AKP")
        seed = _unb64(str(jwk["priv"])) if "priv" in jwk else None
        return cls(str(jwk["alg"]), _unb64(str(jwk["pub"])), seed)

    @property
    def alg(self) -> str:
        return self._alg

    @property
    def kid(self) -> str:
        return self._kid

    def sign(self, data: bytes) -> bytes:
        if self._private is None:
            raise ValueError("a published-only key cannot sign")
        return bytes(self._private.sign(data))

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, data)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def public_jwk(self) -> dict[str, Any]:
        return {"kty": "AKP", "alg": self._alg, "kid": self._kid, "pub": _b64(self._pub)}

    def private_jwk(self) -> dict[str, Any]:
        if self._seed is None:
            return self.public_jwk()
        return {**self.public_jwk(), "priv": _b64(self._seed)}


SUPPORTED_ALGORITHMS: tuple[str, ...] = (*_JOSE, *_MLDSA)


def _check_algorithm(alg: str) -> None:
    if alg not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"SANDBOX_TOKEN_ALG must be one of {', '.join(SUPPORTED_ALGORITHMS)}, not {alg!r}")


def generate_signer(alg: str) -> Signer:
    _check_algorithm(alg)
    return MLDSASigner.generate(alg) if alg in _MLDSA else JoseSigner.generate(alg)


def signer_from_jwk(jwk: dict[str, Any]) -> Signer:
    alg = str(jwk.get("alg", DEFAULT_ALGORITHM))
    _check_algorithm(alg)
    return MLDSASigner.from_jwk(jwk) if alg in _MLDSA else JoseSigner.from_jwk(jwk)


def public_only(signer: Signer) -> Signer:
    """The same key without its private half: a retired key may verify but never sign again."""
    return signer_from_jwk(signer.public_jwk())


# --- the key ring and its file ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    current: Signer
    previous: Signer | None = None

    def published(self) -> tuple[Signer, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)

    def rotated(self, alg: str | None = None) -> KeyRing:
        """A new current key (same algorithm unless ``alg``); the old current key stays published."""
        return KeyRing(generate_signer(alg or self.current.alg), public_only(self.current))


class KeyStore:
    """The key ring as a JSON file readable by the owner only. A lock file serialises processes
    that start (and maybe rotate) together, so they all end up with one key ring."""

    LEGACY_NAME = "jwt-signing-key.json"  # the single ES256 key of earlier versions

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> KeyRing | None:
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            previous = signer_from_jwk(data["previous"]) if data.get("previous") else None
            return KeyRing(signer_from_jwk(data["current"]), previous)
        legacy = self.path.parent / self.LEGACY_NAME
        if legacy.exists():
            return KeyRing(
                signer_from_jwk({**json.loads(legacy.read_text(encoding="utf-8")), "alg": "ES256"})
            )
        return None

    def _write(self, ring: KeyRing) -> None:
        data = {
            "current": ring.current.private_jwk(),
            "previous": ring.previous.public_jwk() if ring.previous is not None else None,
        }
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.path)  # readers see the old ring or the new one, never half a file

    def load(self, alg: str = DEFAULT_ALGORITHM) -> KeyRing:
        """The stored ring; created on first use; rotated when the configured algorithm changed."""
        _check_algorithm(alg)
        with self._locked():
            ring = self._read()
            if ring is None:
                ring = KeyRing(generate_signer(alg))
            elif ring.current.alg != alg:
                ring = ring.rotated(alg)
            else:
                if not self.path.exists():
                    self._write(ring)
                return ring
            self._write(ring)
            return ring

    def rotate(self, alg: str | None = None) -> KeyRing:
        with self._locked():
            ring = self._read()
            ring = KeyRing(generate_signer(alg or DEFAULT_ALGORITHM)) if ring is None else ring.rotated(alg)
            self._write(ring)
            return ring


# --- tokens ----------------------------------------------------------------------------------------


def _strict_json(raw: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate member")
        return dict(pairs)

    value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _numeric_date(claims: dict[str, Any], name: str) -> int:
    """RFC 7519 NumericDate, held to what this server issues: an integer (not a string, float or
    boolean) within a sane range."""
    value = claims.get(name)
    if type(value) is not int or not _EARLIEST <= value <= _LATEST:
        raise InvalidToken(f"the access token's {name} is not an integer NumericDate")
    return value


def _text(claims: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"the access token's {name} is missing or not a string")
    return value


class TokenService:
    def __init__(
        self,
        keys: KeyStore | KeyRing,
        issuer: str,
        audience: str,
        ttl_seconds: int = 3600,
        *,
        clients: Collection[str],
        algorithm: str = DEFAULT_ALGORITHM,
        leeway_seconds: int = 30,
    ) -> None:
        self._store = keys if isinstance(keys, KeyStore) else None
        self.algorithm = algorithm
        self._set_ring(keys.load(algorithm) if isinstance(keys, KeyStore) else keys)
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self.clients = frozenset(clients)
        self.leeway_seconds = leeway_seconds
        # Verified tokens are cached (bounded) so a busy client does not pay a signature check per
        # request; expiry is still checked on every use, and a rotation empties the cache.
        self._cache: dict[str, TokenClaims] = {}
        self._cache_lock = threading.Lock()

    def _set_ring(self, ring: KeyRing) -> None:
        self.keys = ring
        self._by_kid = {k.kid: k for k in ring.published()}

    def rotate(self, alg: str | None = None) -> KeyRing:
        """New signing key; the old one is still published, the one before it is dropped."""
        ring = self._store.rotate(alg or self.algorithm) if self._store else self.keys.rotated(alg)
        with self._cache_lock:
            self._set_ring(ring)
            self.algorithm = ring.current.alg
            self._cache.clear()
        return ring

    def sign(self, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
        """Compact JWS (RFC 7515 section 7.1) of ``claims`` with the current key."""
        key = self.keys.current
        protected = {"alg": key.alg, "kid": key.kid, "typ": TOKEN_TYPE, **(header or {})}
        head = _b64(json.dumps(protected, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{head}.{body}"
        return f"{signing_input}.{_b64(key.sign(signing_input.encode('ascii')))}"

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
        return self.sign(claims), self.ttl_seconds

    def verify(self, token: str, now: float | None = None) -> TokenClaims:
        moment = time.time() if now is None else now
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at + self.leeway_seconds <= moment:
                raise InvalidToken("the access token has expired")
            return cached
        claims = self._checked_claims(self._verified_payload(token), moment)
        with self._cache_lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = claims
        return claims

    def _verified_payload(self, token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(token) > MAX_TOKEN_CHARS or len(parts) != 3 or not all(_B64URL.match(p) for p in parts):
            raise InvalidToken("the access token is not a compact JWS")
        try:
            header = _strict_json(_unb64(parts[0]))
            signature = _unb64(parts[2])
        except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError) as exc:  # "[[[[…" nests
            raise InvalidToken("the access token is not valid") from exc
        kid = header.get("kid")
        key = self._by_kid.get(kid) if isinstance(kid, str) else None
        # The key the kid names decides the algorithm: a header cannot choose a weaker one.
        if key is None or header.get("alg") != key.alg:
            raise InvalidToken("the access token was not signed by a key this server publishes")
        if header.get("typ") != TOKEN_TYPE or "crit" in header:
            raise InvalidToken("the access token's header is not an at+jwt header")
        if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
            raise InvalidToken("the access token's signature does not verify")
        try:
            return _strict_json(_unb64(parts[1]))
        except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError) as exc:
            raise InvalidToken("the access token's claims are not a JSON object") from exc

    def _checked_claims(self, c: dict[str, Any], moment: float) -> TokenClaims:
        """Every claim this server issues is required, with its type and value checked (RFC 9068
        section 4), whatever the signature says: a signed token can still be malformed."""
        if _text(c, "iss") != self.issuer or c.get("aud") != self.audience:
            raise InvalidToken("the access token was issued for somebody else")
        client_id = str(_text(c, "client_id"))
        if client_id not in self.clients:
            raise InvalidToken("the access token names a client that is not registered")
        customer_id = _text(c, "customer_id", required=False)
        if _text(c, "sub") != (customer_id or client_id):
            raise InvalidToken("the access token's sub does not match its customer or client")
        token_id = str(_text(c, "jti"))
        scope = c.get("scope")
        if not isinstance(scope, str):
            raise InvalidToken("the access token's scope is not a string")
        iat, nbf, exp = (_numeric_date(c, name) for name in ("iat", "nbf", "exp"))
        leeway = self.leeway_seconds
        if not iat <= nbf < exp or exp - iat > self.ttl_seconds:
            raise InvalidToken("the access token's lifetime is not one this server issues")
        if iat > moment + leeway or nbf > moment + leeway:
            raise InvalidToken("the access token is not yet valid")
        if exp + leeway <= moment:
            raise InvalidToken("the access token has expired")
        return TokenClaims(
            subject=customer_id or client_id,
            client_id=client_id,
            customer_id=customer_id,
            scopes=frozenset(scope.split()),
            expires_at=exp,
            token_id=token_id,
        )

    def jwks(self) -> dict[str, Any]:
        """RFC 7517 JWK Set: the current key first, then the previous one while it may still verify."""
        return {"keys": [{**k.public_jwk(), "use": "sig"} for k in self.keys.published()]}
