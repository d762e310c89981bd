"""Benchmark of the sandbox's transfer path: ``python -m futurebank.bench``.

One run measures three things on the same database engine, so the figures explain each other, and
two ceilings of the decided stack (ADR-0024):

1. **Service over HTTP.** The sandbox runs in its own process (uvicorn, production settings); a
   driver in another process keeps ``--concurrency`` keep-alive connections busy with
   ``POST /api/v1/payments`` (each with its own Idempotency-Key) for ``--transfers`` transfers after
   a warm-up, and records each request's latency.
2. **Service layer without HTTP.** The same transfers through the service layer in-process (unit of
   work, idempotency, ledger, audit), one at a time, on a fresh copy of the demo database. Every
   statement it sends to the database is recorded.
3. **The database alone.** The recorded statements replayed on another fresh copy through the bare
   driver (sqlite3 / psycopg), one transaction per transfer: the commit rate of the same writes with
   no service at all.
4. **The stack's ceilings.** The same statements through SQLAlchemy's driver layer alone
   (``exec_driver_sql``: no ORM, no compilation, no logic), and an empty FastAPI route
   (``bench_floor``) served and driven like the sandbox: what any service on this stack reaches at best.

It prints transfers/s and p50/p95/p99 latency, the ratios between the three, server and driver CPU
per transfer, the machine's load, and checks afterwards that no money was created or lost. The
result goes to ``build/bench/latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from futurebank import throwaway_postgres

DEMO_GRANT = "urn:futurebank:params:oauth:grant-type:demo-customer"
# (customer, debtor/creditor pairs): Anna moves money between her own accounts; Vera and Gleb (the
# generated history customers) pay each other. Amounts are small and directions alternate, so no
# account runs dry however long the run.
ANNA_CURRENT = "20000000-0000-4000-8000-000000000001"
ANNA_SAVINGS = "20000000-0000-4000-8000-000000000002"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _http_json(
    method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> Any:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


# --- the plan: who pays whom ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    tokens: dict[str, str]  # username -> bearer token
    pairs: list[tuple[str, str, dict[str, str]]]  # (username, debtor_id, creditor field)


def make_plan(base: str) -> Plan:
    tokens = {}
    for user in ("anna", "vera", "gleb"):
        form = f"grant_type={DEMO_GRANT}&customer={user}&client_id=demo-app&client_secret=demo-app-secret"
        body = _http_json(
            "POST",
            f"{base}/api/v1/oauth/token",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        tokens[user] = body["access_token"]
    vera = _account_of(base, tokens["vera"])
    gleb = _account_of(base, tokens["gleb"])
    pairs = [
        ("anna", ANNA_CURRENT, {"creditor_account_id": ANNA_SAVINGS}),
        ("anna", ANNA_SAVINGS, {"creditor_account_id": ANNA_CURRENT}),
        ("vera", vera[0], {"creditor_account_number": gleb[1]}),
        ("gleb", gleb[0], {"creditor_account_number": vera[1]}),
    ]
    return Plan(tokens, pairs)


def _account_of(base: str, token: str) -> tuple[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # Reading accounts needs a consent: the customer grants one to the demo app first.
    _http_json("POST", f"{base}/api/v1/consents", b'{"permissions":["accounts"]}', headers)
    data = _http_json("GET", f"{base}/api/v1/accounts", None, headers)["data"][0]
    return str(data["account_id"]), str(data["account_number"])


def transfer_body(pair: tuple[str, str, dict[str, str]], rng: random.Random) -> dict[str, Any]:
    _, debtor, creditor = pair
    cents = rng.randint(100, 500)
    return {
        "debtor_account_id": debtor,
        **creditor,
        "amount": {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": "RUB"},
        "remittance_information": "bench",
    }


# --- the driver (runs in its own process) ---------------------------------------------------------


async def _worker(
    wid: int, port: int, plan: Plan, count: int, latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(wid)
    try:
        for i in range(count):
            pair = plan.pairs[(wid + i) % len(plan.pairs)]
            body = json.dumps(transfer_body(pair, rng)).encode()
            head = (
                "POST /api/v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {plan.tokens[pair[0]]}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _drive(port: int, plan: Plan, total: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    share = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]
    started = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(_worker(i, port, plan, n, latencies, statuses) for i, n in enumerate(share)))
    elapsed = time.perf_counter() - started
    return {
        "elapsed_s": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "driver_cpu_s": time.process_time() - cpu0,
    }


def drive_main(config_json: str) -> int:
    cfg = json.loads(config_json)
    plan = Plan(cfg["tokens"], [(str(p[0]), str(p[1]), dict(p[2])) for p in cfg["pairs"]])
    if cfg["warmup"]:
        asyncio.run(_drive(cfg["port"], plan, cfg["warmup"], cfg["concurrency"]))
    result = asyncio.run(_drive(cfg["port"], plan, cfg["transfers"], cfg["concurrency"]))
    print(json.dumps(result))
    return 0


# --- service layer in-process, and the raw replay ----------------------------------------------------


def _fresh_database(url: str | None, data_dir: Path) -> Any:
    from futurebank.sandbox import bootstrap
    from futurebank.sandbox.config import Settings

    settings = Settings(data_dir=data_dir, database_url=url or "", seed=False)
    db = bootstrap.open_database(settings)
    bootstrap.reset(db)
    return db


def service_layer_run(
    url: str | None, data_dir: Path, count: int
) -> tuple[float, float, list[list[tuple[str, Any, bool]]]]:
    """Run ``count`` transfers through the service layer; return the rate, the CPU seconds per
    transfer and every statement sent."""
    from sqlalchemy import event

    from futurebank.sandbox.domain.commands import CreatePayment
    from futurebank.sandbox.service_layer.handlers import Actor
    from futurebank.sandbox.service_layer.messagebus import MessageBus
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    db = _fresh_database(url, data_dir)
    bus = MessageBus(db)
    with UnitOfWork(db) as uow:
        vera = uow.customers.by_username("vera")
        gleb = uow.customers.by_username("gleb")
        assert vera is not None and gleb is not None
        va = uow.accounts.for_customer(vera.id)[0]
        ga = uow.accounts.for_customer(gleb.id)[0]
        anna = "10000000-0000-4000-8000-000000000001"
        plans = [
            (anna, ANNA_CURRENT, ANNA_SAVINGS, None),
            (anna, ANNA_SAVINGS, ANNA_CURRENT, None),
            (vera.id, va.id, None, ga.number),
            (gleb.id, ga.id, None, va.number),
        ]
    recorded: list[list[tuple[str, Any, bool]]] = []
    current: list[tuple[str, Any, bool]] = []

    def on_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        current.append((statement, parameters, executemany))

    event.listen(db.engine, "before_cursor_execute", on_execute)
    rng = random.Random(7)
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(count):
        customer, debtor, creditor_id, creditor_number = plans[i % len(plans)]
        cents = rng.randint(100, 500)
        # The same command the HTTP route sends (createPayment), through the same bus.
        command = CreatePayment(
            str(uuid.uuid4()),
            debtor,
            f"{cents // 100}.{cents % 100:02d}",
            "RUB",
            creditor_id,
            creditor_number,
            "bench",
        )
        bus.pay(command, Actor("demo-app", customer, str(uuid.uuid4())))
        recorded.append(current[:])
        current.clear()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    event.remove(db.engine, "before_cursor_execute", on_execute)
    db.dispose()
    return count / elapsed, cpu / count, recorded


def raw_replay(
    url: str | None, data_dir: Path, recorded: list[list[tuple[str, Any, bool]]]
) -> tuple[float, float]:
    """Replay the recorded statements through the bare driver, one transaction per transfer; return
    the commit rate and this process's CPU seconds per transfer (the driver's share)."""
    db = _fresh_database(url, data_dir)
    sqlite_file = db.engine.url.database if db.is_sqlite else None
    db.dispose()
    if sqlite_file:
        conn: Any = sqlite3.connect(sqlite_file, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        begin, commit = "BEGIN IMMEDIATE", "COMMIT"
    else:
        import psycopg

        from futurebank.sandbox.adapters.db import normalise_url

        conn = psycopg.connect(normalise_url(url or "").replace("postgresql+psycopg://", "postgresql://"))
        begin, commit = "BEGIN", "COMMIT"
    cur = conn.cursor()
    started, cpu0 = time.perf_counter(), time.process_time()
    for statements in recorded:
        cur.execute(begin)
        for statement, params, many in statements:
            if statement in ("BEGIN IMMEDIATE", "BEGIN"):
                continue
            if many:
                cur.executemany(statement, params)
            else:
                cur.execute(statement, params)
        cur.execute(commit)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    conn.close()
    return len(recorded) / elapsed, cpu / max(1, len(recorded))


def sqlalchemy_replay(
    url: str | None, data_dir: Path, recorded: list[list[tuple[str, Any, bool]]]
) -> tuple[float, float]:
    """The same statements through SQLAlchemy's own driver layer (``Connection.exec_driver_sql``, one
    transaction per transfer): no ORM, no statement compilation, no service logic. No service layer
    built on SQLAlchemy can beat this rate, so its ratio to the bare driver is the decided stack's
    ceiling for the service-layer ratio (ADR-0024)."""
    db = _fresh_database(url, data_dir)
    started, cpu0 = time.perf_counter(), time.process_time()
    with db.engine.connect() as conn:
        for statements in recorded:
            with conn.begin():  # BEGIN IMMEDIATE on SQLite, as the service's transactions
                for statement, params, many in statements:
                    if statement in ("BEGIN IMMEDIATE", "BEGIN"):
                        continue
                    conn.exec_driver_sql(statement, list(params) if many else params)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    db.dispose()
    return len(recorded) / elapsed, cpu / max(1, len(recorded))


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def drive_then_stop(
    proc: subprocess.Popen[bytes], port: int, plan: Plan, args: argparse.Namespace
) -> tuple[dict[str, Any], float]:
    """Run the driver process against the server ``proc`` (listening on ``port``), stop the server,
    and return the driver's report and the server's CPU seconds over the run."""
    cfg = {
        "port": port,
        "tokens": plan.tokens,
        "pairs": plan.pairs,
        "transfers": args.transfers,
        "warmup": args.warmup,
        "concurrency": args.concurrency,
    }
    try:
        cpu_before = cpu_seconds(proc.pid)
        driver = subprocess.run(
            [sys.executable, "-m", "futurebank.bench", "--drive", json.dumps(cfg)],
            check=True,
            capture_output=True,
            text=True,
        )
        server_cpu = cpu_seconds(proc.pid) - cpu_before
    finally:
        stop(proc)
    return json.loads(driver.stdout), server_cpu


def http_floor_run(plan: Plan, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "futurebank.bench", "--floor-server", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the HTTP floor server did not start; see {log}") from None
                time.sleep(0.1)
    except BaseException:
        stop(proc)
        raise
    run, server_cpu = drive_then_stop(proc, port, plan, args)
    lat = sorted(run["latencies"])
    return {
        "requests_per_s": round(len(lat) / run["elapsed_s"], 1),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / (len(lat) + args.warmup), 3),
        "statuses": run["statuses"],
    }


# --- the server ----------------------------------------------------------------------------------------


def start_server(
    port: int, data_dir: Path, url: str | None, log: Path, access_log: bool
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "SANDBOX_DATA_DIR": str(data_dir),
            "SANDBOX_ACCESS_LOG": "1" if access_log else "0",
            "SANDBOX_RATE_LIMIT_RPS": "100000",
            "SANDBOX_RATE_LIMIT_BURST": "100000",
        }
    )
    if url:
        env["DATABASE_URL"] = url
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "futurebank.sandbox", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the sandbox exited during start; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the sandbox did not become ready; see {log}")


def ledger_check(url: str | None, data_dir: Path) -> dict[str, Any]:
    """After the run: every entry sums to zero, every balance equals its postings."""
    from futurebank.sandbox import bootstrap
    from futurebank.sandbox.config import Settings
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    db = bootstrap.open_database(Settings(data_dir=data_dir, database_url=url or "", seed=False))
    with UnitOfWork(db) as uow:
        sums = uow.ledger.posting_sums()
        unbalanced = [e for e, total in uow.ledger.entry_sums().items() if total != 0]
        wrong = [
            a.id
            for a in uow.accounts.all()
            if a.booked_minor != sums.get((a.id, "BOOK"), 0) or a.pending_minor != sums.get((a.id, "PDNG"), 0)
        ]
        payments = len(uow.payments.all())
    db.dispose()
    return {
        "unbalanced_entries": len(unbalanced),
        "balances_not_matching_postings": len(wrong),
        "payments": payments,
    }


TRACING_TARGET_OVERHEAD_PCT = 10.0


def tracing_overhead_run(
    url: str | None, work: Path, blocks: int = 30, per_block: int = 50
) -> dict[str, Any]:
    """What traces cost the service layer (ADR-0021): the same transfers as the service-layer run on
    three fresh databases, one with traces off, one at the default sample ratio, one recording every
    trace (spans to a JSON-lines file through the batch processor). The three take turns in blocks of
    ``per_block`` transfers, so the load of a shared machine falls on each alike; an on-block ends with
    a flush, so export work is charged to the block that made the spans. The cost is the drop in
    transfers per CPU-second of this process (the exporting thread included), and in transfers/s,
    each the median over the rounds."""
    from futurebank.sandbox.adapters.tracing import SERVICE_LAYER_SCOPE, Tracing, make_tracing
    from futurebank.sandbox.config import Settings
    from futurebank.sandbox.domain.commands import CreatePayment
    from futurebank.sandbox.service_layer.handlers import Actor
    from futurebank.sandbox.service_layer.messagebus import MessageBus
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    ratio = Settings().trace_sample_ratio
    runs: dict[str, Any] = {}
    for name, chosen in (("off", None), ("default", ratio), ("all", 1.0)):
        db = _fresh_database(url, work / name)
        tracing = Tracing() if chosen is None else make_tracing(f"file:{work / name / 'spans.jsonl'}", chosen)
        tracing.instrument(db.engine, db.sessions)
        with UnitOfWork(db) as uow:
            vera, gleb = uow.customers.by_username("vera"), uow.customers.by_username("gleb")
            assert vera is not None and gleb is not None
            va, ga = uow.accounts.for_customer(vera.id)[0], uow.accounts.for_customer(gleb.id)[0]
            anna = "10000000-0000-4000-8000-000000000001"
            pairs = [
                (anna, ANNA_CURRENT, ANNA_SAVINGS, None),
                (anna, ANNA_SAVINGS, ANNA_CURRENT, None),
                (vera.id, va.id, None, ga.number),
                (gleb.id, ga.id, None, va.number),
            ]
        bus = MessageBus(db, tracer=tracing.tracer(SERVICE_LAYER_SCOPE))
        runs[name] = {"db": db, "tracing": tracing, "bus": bus, "pairs": pairs}
    rng = random.Random(11)
    rounds: list[dict[str, tuple[float, float]]] = []  # per round: mode -> (CPU s, wall s)
    for block in range(blocks):
        spent: dict[str, tuple[float, float]] = {}
        for name in list(runs)[block % 3 :] + list(runs)[: block % 3]:  # each goes first in turn
            run = runs[name]
            started, cpu0 = time.perf_counter(), time.process_time()
            for i in range(per_block):
                customer, debtor, creditor_id, creditor_number = run["pairs"][i % 4]
                cents = rng.randint(100, 500)
                amount = f"{cents // 100}.{cents % 100:02d}"
                command = CreatePayment(
                    str(uuid.uuid4()), debtor, amount, "RUB", creditor_id, creditor_number, "bench"
                )
                run["bus"].pay(command, Actor("demo-app", customer, str(uuid.uuid4())))
            if run["tracing"].provider is not None:
                run["tracing"].provider.force_flush()
            spent[name] = (time.process_time() - cpu0, time.perf_counter() - started)
        rounds.append(spent)
    count = blocks * per_block
    for run in runs.values():
        run["tracing"].shutdown()
        run["db"].dispose()

    def cost(name: str, i: int) -> float:
        """% fewer transfers per CPU-second (i=0) or per second (i=1) than with traces off: the median
        over the rounds, so a burst of another process's work in one block does not decide it."""
        return round(100 * statistics.median(1 - r["off"][i] / r[name][i] for r in rounds), 1)

    default_pct = cost("default", 0)
    return {
        "transfers_per_mode": count,
        "sample_ratio": ratio,
        "cpu_ms_per_transfer": {n: round(sum(r[n][0] for r in rounds) * 1000 / count, 3) for n in runs},
        "transfers_per_s": {n: round(count / sum(r[n][1] for r in rounds), 1) for n in runs},
        "overhead_pct_cpu": {"default": default_pct, "all": cost("all", 0)},
        "overhead_pct_wall": {"default": cost("default", 1), "all": cost("all", 1)},
        "target_pct": TRACING_TARGET_OVERHEAD_PCT,
        "meets_target": default_pct < TRACING_TARGET_OVERHEAD_PCT,
    }


def _tracing_line(t: dict[str, Any]) -> str:
    verdict = "met" if t["meets_target"] else "NOT met"
    return (
        f"traces:        -{t['overhead_pct_cpu']['default']} % transfers per CPU-second at sample ratio"
        f" {t['sample_ratio']} (-{t['overhead_pct_wall']['default']} % transfers/s), every trace sampled"
        f" -{t['overhead_pct_cpu']['all']} % (target < {t['target_pct']} % at the default: {verdict})"
    )


FOOTPRINT_TARGET_P95_MS = 20.0


def _footprint_line(f: dict[str, Any]) -> str:
    verdict = "met" if f["meets_target"] else "NOT met"
    return (
        f"footprint:     6 months, {f['purchases']} purchases: p50 {f['p50_ms']} ms  p95 {f['p95_ms']} ms"
        f" (target p95 <= {f['target_p95_ms']} ms: {verdict})"
    )


def footprint_run(url: str | None, data_dir: Path, count: int) -> dict[str, Any]:
    """getCarbonFootprint's service-layer read for a customer with six months of card history.

    The generated demo customer ``vera`` (~430 card purchases from late May to November 2026), over
    her whole history, ``count`` times after a warm-up; each call is one transaction, as over HTTP.
    """
    from datetime import date

    from futurebank.sandbox.domain import queries as q
    from futurebank.sandbox.domain.consents import Consent
    from futurebank.sandbox.service_layer import handlers as h
    from futurebank.sandbox.service_layer.messagebus import MessageBus
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    db = _fresh_database(url, data_dir)
    now = datetime.now(UTC)
    with UnitOfWork(db) as uow:
        vera = uow.customers.by_username("vera")
        assert vera is not None
        account = uow.accounts.for_customer(vera.id)[0].id
        # The generated customers hold no consent; the bench grants the demo app one.
        uow.session.add(
            Consent(str(uuid.uuid4()), vera.id, "demo-app", ["transactions"], "authorised", now, now, None)
        )
        uow.commit()
    bus = MessageBus(db)
    query = q.GetCarbonFootprint(account, date(2026, 5, 25), date(2026, 11, 24))
    actor = h.Actor("demo-app", vera.id, str(uuid.uuid4()))
    timings: list[float] = []
    purchases = 0
    for i in range(count + 20):
        started = time.perf_counter()
        fp = bus.handle(query, actor)  # the same query the HTTP route sends
        if i >= 20:  # warm-up: data files loaded, caches filled
            timings.append(time.perf_counter() - started)
        purchases = sum(c.transaction_count for c in fp.categories)
    db.dispose()
    timings.sort()
    p95 = round(percentile(timings, 0.95) * 1000, 2)
    return {
        "calls": count,
        "purchases": purchases,
        "p50_ms": round(percentile(timings, 0.5) * 1000, 2),
        "p95_ms": p95,
        "target_p95_ms": FOOTPRINT_TARGET_P95_MS,
        "meets_target": p95 <= FOOTPRINT_TARGET_P95_MS,
    }


def flag_overhead(transfers_per_s: float, work: Path, count: int = 5000) -> dict[str, Any]:
    """The rollout gate's cost per request (ADR-0019): the OpenFeature + flagd evaluation the request
    toolkit makes for a gated operation, timed in-process over ``count`` distinct customers, as a share
    of one transfer's time at the HTTP run's rate (one evaluation per request; target under 10 %)."""
    from futurebank.sandbox.adapters.flags import RolloutFlags, install_stage, load_config

    flags = RolloutFlags(load_config(), install_stage("RS-0003", work / "flags.flagd.json"))
    try:
        customers = [str(uuid.UUID(int=i, version=4)) for i in range(1, count + 1)]
        flag = flags.gate("startConversation") or ""
        started = time.perf_counter()
        inside = sum(flags.enabled(flag, c) for c in customers)
        per_eval = (time.perf_counter() - started) / count
    finally:
        flags.close()
    share = per_eval * transfers_per_s * 100
    return {
        "evaluations": count,
        "inside_share": round(inside / count, 4),
        "us_per_evaluation": round(per_eval * 1e6, 1),
        "percent_of_transfer_time": round(share, 2),
        "target_percent": 10,
        "meets_target": share < 10,
    }


def measure(url: str | None, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One engine's run of the three measurements and the footprint read; prints and returns it."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_before = os.getloadavg()
    print(f"bench: {args.transfers} transfers at concurrency {args.concurrency} (+{args.warmup} warm-up)")
    print(f"       work dir {work}")

    # 1. over HTTP, server and driver in separate processes
    if url:  # a shared server database: start from the demo data (SQLite gets a fresh file per phase)
        _fresh_database(url, work / "http").dispose()
    port = free_port()
    server = start_server(port, work / "http", url, work / "server.log", access_log=not args.no_access_log)
    try:
        plan = make_plan(f"http://127.0.0.1:{port}")
    except BaseException:
        stop(server)
        raise
    http, server_cpu = drive_then_stop(server, port, plan, args)
    lat = sorted(http["latencies"])
    ok = http["statuses"].get("201", 0)
    rate = len(lat) / http["elapsed_s"]
    check = ledger_check(url, work / "http")

    # 2. the service layer without HTTP, recording every statement; 3. the same statements, bare driver
    layer_rate, layer_cpu, recorded = service_layer_run(url, work / "layer", args.transfers)
    raw_rate, raw_cpu = raw_replay(url, work / "raw", recorded)
    sqla_rate, sqla_cpu = sqlalchemy_replay(url, work / "sqlalchemy", recorded)
    http_floor = http_floor_run(plan, args, work / "floor-server.log")
    server_cpu_ms = server_cpu * 1000 / (len(lat) + args.warmup)
    # CPU per transfer by layer: the database driver, what the service layer adds on top of it,
    # and what HTTP (uvicorn, FastAPI, middleware, JSON) adds on top of the service layer.
    cpu_by_layer = {
        "database_driver_ms": round(raw_cpu * 1000, 3),
        "service_layer_ms": round((layer_cpu - raw_cpu) * 1000, 3),
        "http_ms": round(server_cpu_ms - layer_cpu * 1000, 3),
    }
    # 4. the six-month carbon-footprint read (getCarbonFootprint's service layer)
    footprint = footprint_run(url, work / "footprint", 200)
    flags = flag_overhead(rate, work)
    # 5. what traces cost (ADR-0021): 30 rounds; 50 transfers per block at the default --transfers
    tracing = tracing_overhead_run(url, work / "tracing", per_block=min(50, max(5, args.transfers // 120)))
    load_after = os.getloadavg()

    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": "postgresql" if url and url.startswith("postgres") else "sqlite",
        "sqlite_version": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "concurrency": args.concurrency,
        "transfers": len(lat),
        "warmup": args.warmup,
        "access_log": not args.no_access_log,
        "http": {
            "transfers_per_s": round(rate, 1),
            "p50_ms": round(percentile(lat, 0.50) * 1000, 2),
            "p95_ms": round(percentile(lat, 0.95) * 1000, 2),
            "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2),
            "statuses": http["statuses"],
            "server_cpu_ms_per_transfer": round(server_cpu * 1000 / (len(lat) + args.warmup), 3),
            "driver_cpu_ms_per_transfer": round(http["driver_cpu_s"] * 1000 / len(lat), 3),
        },
        "service_layer_no_http": {
            "transfers_per_s": round(layer_rate, 1),
            "cpu_ms_per_transfer": round(layer_cpu * 1000, 3),
        },
        "cpu_ms_per_transfer_by_layer": cpu_by_layer,
        "database_alone": {
            "commits_per_s": round(raw_rate, 1),
            "cpu_ms_per_transfer": round(raw_cpu * 1000, 3),
            "statements_per_transfer": round(sum(len(r) for r in recorded) / max(1, len(recorded)), 1),
        },
        "ratios": {
            "http_over_database": round(rate / raw_rate, 3),
            "service_layer_over_database": round(layer_rate / raw_rate, 3),
            "http_over_service_layer": round(rate / layer_rate, 3),
        },
        # What the decided stack allows at best on this machine (ADR-0024): SQLAlchemy's driver layer
        # alone over the same statements, and a FastAPI route that does nothing, driven alike.
        "stack_ceilings": {
            "sqlalchemy_driver_layer_commits_per_s": round(sqla_rate, 1),
            "sqlalchemy_driver_layer_cpu_ms_per_transfer": round(sqla_cpu * 1000, 3),
            "http_floor": http_floor,
            "service_layer_over_database_at_best": round(sqla_rate / raw_rate, 3),
            # both costs in one process, one after the other: 1 / (1/a + 1/b)
            "http_over_database_at_best": round(
                1 / (1 / sqla_rate + 1 / http_floor["requests_per_s"]) / raw_rate, 3
            ),
        },
        "ledger_check": check,
        "footprint_6_months": footprint,
        "flag_evaluation": flags,
        "tracing_overhead": tracing,
        # Issue 7, item 7: ratios to the bare database of the same run (load-independent) and p99.
        "targets": {"http_over_database": 0.4, "service_layer_over_database": 0.7, "p99_ms": 50},
        "meets_targets": rate / raw_rate >= 0.4
        and layer_rate / raw_rate >= 0.7
        and percentile(lat, 0.99) * 1000 <= 50
        and ok == len(lat),
    }
    h = result["http"]
    r = result["ratios"]
    verdict = "met" if result["meets_targets"] else "NOT met"
    lines = [
        f"HTTP:          {h['transfers_per_s']:8.1f} transfers/s  p50 {h['p50_ms']} ms  p95 {h['p95_ms']} ms"
        f"  p99 {h['p99_ms']} ms  statuses {h['statuses']}",
        f"               server CPU {h['server_cpu_ms_per_transfer']} ms/transfer,"
        f" driver CPU {h['driver_cpu_ms_per_transfer']} ms/transfer",
        f"service layer: {layer_rate:8.1f} transfers/s (in-process, no HTTP, one at a time)",
        f"database only: {raw_rate:8.1f} commits/s (same statements, bare driver)",
        f"ratios:        HTTP/database {r['http_over_database']}, service layer/database"
        f" {r['service_layer_over_database']}",
        f"CPU/transfer:  database driver {cpu_by_layer['database_driver_ms']} ms"
        f" + service layer {cpu_by_layer['service_layer_ms']} ms + HTTP {cpu_by_layer['http_ms']} ms"
        f" (the largest share is what limits the rate)",
        f"stack ceiling: SQLAlchemy's driver layer alone {sqla_rate:.1f} commits/s"
        f" ({sqla_cpu * 1000:.3f} ms CPU); an empty FastAPI route"
        f" {http_floor['requests_per_s']} requests/s ({http_floor['server_cpu_ms_per_request']} ms CPU)",
        f"               so at best: service layer/database"
        f" {result['stack_ceilings']['service_layer_over_database_at_best']},"
        f" HTTP/database {result['stack_ceilings']['http_over_database_at_best']} (ADR-0024)",
        f"ledger check:  {check}",
        f"load average:  before {load_before}, after {load_after}  ({os.cpu_count()} CPUs)",
        _footprint_line(footprint),
        f"rollout flag:  {flags['us_per_evaluation']} us per gated request ="
        f" {flags['percent_of_transfer_time']} % of a transfer's time at {h['transfers_per_s']} transfers/s"
        " (target < 10 %)",
        _tracing_line(tracing),
        f"targets (HTTP/database >= 0.4, service layer/database >= 0.7, p99 <= 50 ms): {verdict}",
    ]
    print("\n".join(lines), flush=True)
    return result


def _postgres_run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The same measurements on a throwaway PostgreSQL server, or why they were not made."""
    if not throwaway_postgres.available():
        reason = f"PostgreSQL server binaries not found in {throwaway_postgres.PG_BIN}"
        print(f"bench: postgresql skipped: {reason} (install with `apt-get install postgresql`)")
        return {"skipped": reason}
    # Not under build/: the server runs as the "postgres" user, who may not enter the checkout.
    base = Path(tempfile.mkdtemp(prefix="futurebank-bench-pg-"))
    server = throwaway_postgres.start(base)
    try:
        from sqlalchemy import create_engine, text

        admin = create_engine(server.admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        print("bench: the same run on PostgreSQL (throwaway server, fsync off as the SQLite run's")
        print("       synchronous=NORMAL: both trade durability on power loss for speed)")
        return measure(server.url("bench"), work / "postgresql", args)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m futurebank.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=6000, help="measured transfers (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file under build/bench")
    parser.add_argument("--out", default="build/bench/latest.json")
    parser.add_argument(
        "--no-access-log", action="store_true", help="switch off the per-request JSON log line"
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's databases (build/bench/run-*)")
    parser.add_argument(
        "--no-postgres",
        dest="postgres",
        action="store_false",
        help="skip the second run on a throwaway PostgreSQL server",
    )
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: run as the driver process
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)  # internal: the HTTP floor
    parser.add_argument(
        "--footprint-only", action="store_true", help="only the six-month carbon-footprint read"
    )
    args = parser.parse_args(argv)
    if args.drive:
        return drive_main(args.drive)
    if args.floor_server:
        from futurebank.bench_floor import floor_app
        from futurebank.sandbox.entrypoints.http_server import serve

        serve(floor_app(), "127.0.0.1", args.floor_server)
        return 0
    if args.footprint_only:
        fp_dir = Path("build/bench") / "footprint"
        shutil.rmtree(fp_dir, ignore_errors=True)
        fp_dir.mkdir(parents=True)
        print(_footprint_line(footprint_run(args.database_url, fp_dir, 200)))
        return 0

    run_dir = Path("build/bench") / time.strftime("run-%Y%m%d-%H%M%S")
    first_dir = run_dir / ("given" if args.database_url else "sqlite")
    result = measure(args.database_url, first_dir, args)
    if args.postgres and not args.database_url:
        result["postgresql"] = _postgres_run(args, run_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"bench: wrote {out}")
    shutil.copy(first_dir / "server.log", out.parent / "last-server.log")
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
