"""Small adapters and helpers: idempotency fingerprints, cursors, tokens, the rate limiter,
request validation, problem codes, configuration, seed-file checks."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from futurebank.sandbox.adapters.tokens import InvalidToken, KeyStore, TokenService
from futurebank.sandbox.config import Settings
from futurebank.sandbox.domain.errors import InvalidCursor
from futurebank.sandbox.domain.idempotency import Decision, StoredResponse, decide, fingerprint
from futurebank.sandbox.entrypoints.contract import PROBLEM_CODES, ContractMismatch, load_problem_codes
from futurebank.sandbox.entrypoints.middleware import TokenBucket
from futurebank.sandbox.entrypoints.problems import CODES, uri_reference
from futurebank.sandbox.entrypoints.validation import PaymentInitiationIn, parse_datetime
from futurebank.sandbox.service_layer.cursors import CursorCodec
from futurebank.sandbox.service_layer.handlers import masked_name
from futurebank.sandbox.service_layer.seed import SeedError, _expiry, default_seed_path, seed

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.yaml"
SANDBOX_SOURCE = Path(__file__).resolve().parents[3] / "src" / "futurebank" / "sandbox"


def test_fingerprint_ignores_key_order_not_content() -> None:
    assert fingerprint("POST", "/p", {"a": 1, "b": 2}) == fingerprint("POST", "/p", {"b": 2, "a": 1})
    assert fingerprint("POST", "/p", {"a": 1}) != fingerprint("POST", "/p", {"a": 2})
    stored = StoredResponse(fingerprint("POST", "/p", {}), 201, b"{}")
    assert decide(None, "x") is Decision.EXECUTE
    assert decide(stored, stored.fingerprint) is Decision.REPLAY
    assert decide(stored, "other") is Decision.REUSED


def test_cursor_round_trip_and_tampering() -> None:
    codec = CursorCodec(b"secret")
    cursor = codec.encode("txn:a", ["2026-11-24T00:00:00+00:00", 7])
    assert codec.decode("txn:a", cursor) == ["2026-11-24T00:00:00+00:00", 7]
    for bad, collection in (
        (cursor, "txn:b"),
        (cursor[:-2] + "AA", "txn:a"),
        ("%%%", "txn:a"),
        ("", "txn:a"),
    ):
        with pytest.raises(InvalidCursor):
            codec.decode(collection, bad)
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other").decode("txn:a", cursor)


def test_tokens(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "k.json").load()
    assert KeyStore(tmp_path / "k.json").load().current.kid == keys.current.kid  # stored, not regenerated
    assert (tmp_path / "k.json").stat().st_mode & 0o077 == 0
    service = TokenService(keys, "iss", "aud", ttl_seconds=60, clients=["demo-app"])
    token, _ = service.issue("demo-app", "anna", ["accounts:read"])
    claims = service.verify(token)
    assert (claims.client_id, claims.customer_id, claims.scopes) == (
        "demo-app",
        "anna",
        frozenset({"accounts:read"}),
    )
    with pytest.raises(InvalidToken):
        service.verify(token, now=time.time() + 120)
    with pytest.raises(InvalidToken):
        TokenService(keys, "other-issuer", "aud", clients=["demo-app"]).verify(token)
    with pytest.raises(InvalidToken):
        service.verify("a.b.c")


def test_token_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    assert bucket.take("k") is None and bucket.take("k") is None
    wait = bucket.take("k")
    assert wait is not None and 0 < wait <= 1.0
    assert bucket.take("other") is None
    now[0] = 1.5
    assert bucket.take("k") is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2026-11-24T10:00:00+03:00", True),
        ("2026-11-24T10:00:00Z", True),
        ("2026-11-24t10:00:00.123z", True),
        ("2026-12-31T23:59:60Z", True),
        ("2026-11-24T10:00:00", False),
        ("2026-11-24", False),
        ("2026-13-01T00:00:00Z", False),
        ("yesterday", False),
    ],
)
def test_rfc3339(text: str, ok: bool) -> None:
    if ok:
        assert parse_datetime(text).tzinfo is not None
    else:
        with pytest.raises(ValueError):
            parse_datetime(text)


def test_payment_model_is_strict() -> None:
    good = {
        "debtor_account_id": "20000000-0000-4000-8000-000000000001",
        "creditor_account_number": "1" * 20,
        "amount": {"amount": "1.00", "currency": "RUB"},
    }
    assert PaymentInitiationIn.model_validate_json(json.dumps(good)).creditor_account_number == "1" * 20
    for change in (
        {"amount": {"amount": 1, "currency": "RUB"}},
        {"extra": 1},
        {"remittance_information": None},
    ):
        with pytest.raises(ValueError):
            PaymentInitiationIn.model_validate_json(json.dumps({**good, **change}))


def _codes_the_sandbox_answers_with() -> set[str]:
    """Every code literal the sandbox raises or answers: a domain error's ``code`` and the first
    argument (or ``code=``) of ProblemError and problem_response."""
    found: set[str] = set()
    for path in SANDBOX_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "code" for t in node.targets
            ):
                value = node.value
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in {
                "ProblemError",
                "problem_response",
            }:
                value = (
                    node.args[0]
                    if node.args
                    else next((k.value for k in node.keywords if k.arg == "code"), None)
                )
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(value.value)
    return found


def test_every_code_the_sandbox_answers_with_is_in_the_contracts_table() -> None:
    answered = _codes_the_sandbox_answers_with() - {"DOMAIN_ERROR"}  # the abstract base's placeholder
    assert len(answered) > 20  # the scan sees the codes (it would pass vacuously on an empty set)
    assert answered <= set(CODES), sorted(answered - set(CODES))


def test_an_unreadable_code_table_stops_the_sandbox(tmp_path: Path) -> None:
    broken = tmp_path / "problem-codes.yaml"
    for text in (
        "codes: [{code: X}]",
        "codes: [",
        "nothing: here",
        "codes: [{code: X, status: 400, title: X}]",
    ):
        broken.write_text(text, encoding="utf-8")
        with pytest.raises(ContractMismatch, match="cannot read the stable error codes"):
            load_problem_codes(broken)
    table = load_problem_codes(PROBLEM_CODES)
    assert table.codes["INSUFFICIENT_FUNDS"] == (422, "Insufficient funds")
    assert table.type_base == "https://futurebank.example/problems/"


def test_uri_reference_percent_encodes_what_is_not_ascii() -> None:
    assert uri_reference("/api/v1/cards/\u009eq%/controls") == "/api/v1/cards/%C2%9Eq%/controls"


def test_settings_from_env(tmp_path: Path) -> None:
    s = Settings.from_env(
        {"SANDBOX_DATA_DIR": str(tmp_path), "SANDBOX_RATE_LIMIT_RPS": "2", "SANDBOX_SEED": "0"}
    )
    assert s.database_url == f"sqlite:///{tmp_path / 'sandbox.db'}" and s.rate_limit_rps == 2 and not s.seed
    assert s.single_writer and not Settings(database_url="postgresql://x/y").single_writer
    with pytest.raises(ValueError):
        Settings(execution="turbo")


def test_masked_names_and_card_expiry() -> None:
    assert masked_name("Anna Sergeyevna Petrova") == "Anna P."
    assert masked_name("Boris Ivanov") == "Boris I."
    assert masked_name("Cher") == "Cher"
    assert _expiry("06/30") == "2030-06"


def test_seed_refuses_an_inconsistent_file(tmp_path: Path) -> None:
    data = yaml.safe_load(default_seed_path().read_text(encoding="utf-8"))
    data["accounts"][0]["balances"]["booked"] = "99999.00"
    bad = tmp_path / "seed.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SeedError, match="booked"):
        seed(None, bad, history=False)  # type: ignore[arg-type]  # fails before touching the unit of work


def test_operation_scopes_come_from_the_contracts_security_entries() -> None:
    """Routes never type a scope: each operation's comes from its `security` entry (issue 7, item 1)."""
    from futurebank.sandbox.entrypoints.contract import SECURITY, load_security

    contract = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    ops = [op for item in contract["paths"].values() for op in item.values() if "operationId" in op]
    assert set(SECURITY) == {op["operationId"] for op in ops}
    for op in ops:
        assert SECURITY[op["operationId"]].scopes == tuple(op["security"][0]["oauth2"])
    assert SECURITY["createPayment"].customer_only and not SECURITY["listAccounts"].customer_only
    assert load_security(CONTRACT) == SECURITY


def test_payment_fingerprint_follows_the_command_fields() -> None:
    """The idempotency fingerprint is built from the command's fields: any field change changes it,
    the key does not."""
    from futurebank.sandbox.domain.commands import CreatePayment
    from futurebank.sandbox.service_layer.messagebus import payment_fingerprint

    base = CreatePayment("k1", "a", "1.00", "RUB", creditor_account_id="b")
    assert payment_fingerprint(base) == payment_fingerprint(CreatePayment("k2", "a", "1.00", "RUB", "b"))
    for changed in (
        CreatePayment("k1", "a", "1.01", "RUB", creditor_account_id="b"),
        CreatePayment("k1", "a", "1.00", "RUB", creditor_account_id="b", remittance_information="x"),
        CreatePayment("k1", "a", "1.00", "RUB", creditor_account_number="b"),
    ):
        assert payment_fingerprint(changed) != payment_fingerprint(base)


def test_an_echoed_field_the_contract_declares_in_one_branch_only_stops_the_sandbox(tmp_path: Path) -> None:
    from futurebank.sandbox.entrypoints.contract import CONTRACT, ContractMismatch, request_properties

    doc = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    del doc["components"]["schemas"]["PaymentToCustomerAccount"]["properties"]["remittance_information"]
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    schemas = ("PaymentToOwnAccount", "PaymentToCustomerAccount")
    with pytest.raises(
        ContractMismatch, match="'remittance_information' is not declared in PaymentToCustomerAccount"
    ):
        request_properties(schemas, ["remittance_information"], broken)
    doc["components"]["schemas"]["PaymentToCustomerAccount"]["properties"]["remittance_information"] = {
        "type": "string",
        "maxLength": 10,
    }
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ContractMismatch, match="differs between"):
        request_properties(schemas, ["remittance_information"], broken)


def test_echoed_fields_take_their_checks_from_the_contract_property() -> None:
    from futurebank.sandbox.entrypoints.contract import ContractMismatch
    from futurebank.sandbox.entrypoints.validation import payment_initiation_model

    prop = {"type": "string", "description": "Must be two digits.", "maxLength": 2, "pattern": "^[0-9]{2}$"}
    model = payment_initiation_model(("note",), {"note": prop})
    good = {
        "debtor_account_id": "20000000-0000-4000-8000-000000000001",
        "creditor_account_id": "20000000-0000-4000-8000-000000000002",
        "amount": {"amount": "1.00", "currency": "RUB"},
    }
    assert model.model_validate_json(json.dumps({**good, "note": "42"})).model_dump()["note"] == "42"
    for bad, kind, words in (
        ("4x", "PATTERN", "Must be two digits."),
        ("123", "string_too_long", "at most 2"),
    ):
        with pytest.raises(ValidationError) as caught:
            model.model_validate_json(json.dumps({**good, "note": bad}))
        error = caught.value.errors()[0]
        assert error["type"] == kind and words in error["msg"]
    with pytest.raises(ValidationError):  # free text: bidi controls refused whatever the pattern says
        payment_initiation_model(("note",), {"note": {"type": "string"}}).model_validate_json(
            json.dumps({**good, "note": "a\u202eb"})
        )
    with pytest.raises(ContractMismatch, match="plain string property"):
        payment_initiation_model(("note",), {"note": {"type": "integer"}})
