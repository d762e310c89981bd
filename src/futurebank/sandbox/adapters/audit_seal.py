"""The audit log's secrets and seals, kept outside the database.

* The MAC key: 32 random bytes in a file (``SANDBOX_AUDIT_KEY_FILE``, default ``<data dir>/audit-mac-key``),
  created on first use with mode 0600. A bank would hold it in a KMS or HSM; the sandbox needs no
  service for it.
* The seal journal (``SANDBOX_AUDIT_SEAL_FILE``, default ``<data dir>/audit-seals.jsonl``): one JSON
  line per seal, each a MACed snapshot of the chain heads this process committed since its previous
  seal. A seal is written after a commit when ``interval_s`` has passed since the previous one, and
  when the database is disposed (shutdown); so at most the entries of the last interval are unsealed.
  A reset sets the journal aside and starts a new file; a process that finds the journal replaced
  drops the heads it committed before, which name entries the reset removed (sealing them would
  make ``audit verify`` call the fresh log rewritten). Only someone who can write the journal can
  cause that, and they could delete seals anyway.

Sessions made by the database's session factory carry the sealer in ``Session.info["audit"]``;
``AuditRepository`` takes the key from there and leaves the heads it wrote in
``Session.info["audit_pending"]``, which reach the sealer only if the transaction commits.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from futurebank.sandbox.domain.audit import Seal

KEY_BYTES = 32


class AuditKeyMissing(RuntimeError):
    pass


class AuditSealer:
    def __init__(
        self,
        key_file: Path,
        seal_file: Path,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key_file = key_file
        self.seal_file = seal_file
        self.interval_s = interval_s
        self._clock = clock
        self._key: bytes | None = None
        self._lock = threading.Lock()
        self._heads: dict[int, tuple[int, str]] = {}
        self._last_seal = float("-inf")
        self._journal: tuple[int, int] | None = None  # the journal ``_heads`` were committed under

    # --- the key --------------------------------------------------------------------------------

    @property
    def key(self) -> bytes:
        """The MAC key, created on first use (the sandbox's first start)."""
        if self._key is None:
            if not self.key_file.exists():
                _create_secret(self.key_file)
            self._key = self.read_key()
            if self._key is None:
                raise AuditKeyMissing(f"audit key {self.key_file} could not be created")
        return self._key

    def read_key(self) -> bytes | None:
        """The key if its file exists (``audit verify`` must never make a new one)."""
        try:
            key = self.key_file.read_bytes()
        except FileNotFoundError:
            return None
        if len(key) < KEY_BYTES:
            raise AuditKeyMissing(f"audit key {self.key_file} is shorter than {KEY_BYTES} bytes")
        return key

    # --- seals ----------------------------------------------------------------------------------

    def committed(self, heads: dict[int, tuple[int, str]]) -> None:
        """Heads of a committed transaction; seal when the interval has passed."""
        with self._lock:
            journal = self._journal_identity()
            if journal != self._journal:  # another process reset the database since
                self._heads.clear()
                self._journal = journal
            for chain, (seq, mac) in heads.items():
                if seq > self._heads.get(chain, (0, ""))[0]:
                    self._heads[chain] = (seq, mac)
            due = self._clock() - self._last_seal >= self.interval_s
        if due:
            self.seal()

    def seal(self) -> None:
        """Append a seal of the heads committed since the last seal (nothing when there are none)."""
        with self._lock:
            if self._heads and self._journal_identity() != self._journal:
                self._heads.clear()  # committed before another process's reset: the entries are gone
            if not self._heads:
                return
            seal = Seal.make(self.key, datetime.now(UTC).isoformat(), self._heads)
            self.seal_file.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: concurrent processes' lines never interleave.
            with self.seal_file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(seal.to_json(), sort_keys=True, separators=(",", ":")) + "\n")
            self._heads.clear()
            self._last_seal = self._clock()

    def restart(self) -> None:
        """After a reset: set the seal journal aside (renamed, with the time) and start afresh."""
        with self._lock:
            if self.seal_file.exists():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                self.seal_file.rename(self.seal_file.with_name(f"{self.seal_file.stem}.{stamp}.old"))
            self._heads.clear()
            self._journal = self._journal_identity()  # a new file: other processes see the reset
            self._last_seal = float("-inf")

    def _journal_identity(self) -> tuple[int, int]:
        """The seal journal file's identity (device, inode), making an empty one when there is none."""
        try:
            found = os.stat(self.seal_file)
        except FileNotFoundError:
            self.seal_file.parent.mkdir(parents=True, exist_ok=True)
            self.seal_file.touch()
            found = os.stat(self.seal_file)
        return found.st_dev, found.st_ino

    def read_seals(self) -> tuple[list[Seal], list[str]]:
        """The seals on file, and a problem for each line that is not a seal."""
        seals: list[Seal] = []
        problems: list[str] = []
        try:
            lines = self.seal_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return seals, problems
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                seals.append(Seal.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError, IndexError):
                problems.append(f"{self.seal_file}:{number}: not a seal (edited?)")
        return seals, problems


def _create_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES))
    with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
        os.link(tmp, path)
    tmp.unlink()


def install(sessions: Any, sealer: AuditSealer) -> None:
    """Give every session of ``sessions`` (a sessionmaker) the sealer, and feed it on commit."""
    sessions.configure(info={"audit": sealer})

    def after_commit(session: Session) -> None:
        pending = session.info.pop("audit_pending", None)
        if pending:
            sealer.committed(pending)

    def after_rollback(session: Session) -> None:
        session.info.pop("audit_pending", None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
