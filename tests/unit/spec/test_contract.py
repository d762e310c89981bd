"""Contract checks (futurebank.spec.contract): the real contract passes every rule, and one broken copy
per rule fails with a finding that names the file, the line, the item and the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from futurebank.spec.contract import (
    RULES,
    STORIES_WITHOUT_API,
    Finding,
    Story,
    check_contract,
    compare_schemas,
    exposed_entities,
    load_contract,
    load_located,
    stories_from_markdown,
)
from helpers.stories import STORY_CATALOGUE

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs"

# The stories the brief fixes (ids and priorities), plus US-0026 from the spec body.
BRIEF_STORIES = {
    story_id: Story(story_id, f"story {story_id}", priority, release)
    for story_id, priority, release in STORY_CATALOGUE
}


def contract_copy(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS / "api", docs / "api")
    shutil.copytree(DOCS / "entities", docs / "entities")
    return docs


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_real_contract_passes_every_rule() -> None:
    findings = check_contract(DOCS, BRIEF_STORIES)
    assert findings == [], "\n".join(map(str, findings))


def test_real_contract_serves_the_stories_written_in_the_spec() -> None:
    stories = stories_from_markdown(DOCS)
    if not stories:
        pytest.skip("docs/stories has no story yet")  # the brief's stories are checked above
    findings = check_contract(DOCS, stories)
    assert findings == [], "\n".join(map(str, findings))


def test_counts() -> None:
    contract = load_contract(DOCS)
    assert len(contract.operations()) == 26
    assert len(contract.entities) == 18
    assert len(contract.event_operations()) == 6


def test_every_operation_id_and_path_of_the_brief() -> None:
    expected = {
        ("post", "/consents"): "createConsent",
        ("get", "/consents"): "listConsents",
        ("get", "/consents/{consent_id}"): "getConsent",
        ("delete", "/consents/{consent_id}"): "revokeConsent",
        ("get", "/customers/me"): "getMyProfile",
        ("get", "/accounts"): "listAccounts",
        ("get", "/accounts/{account_id}"): "getAccount",
        ("get", "/accounts/{account_id}/balances"): "getAccountBalances",
        ("get", "/accounts/{account_id}/transactions"): "listTransactions",
        ("get", "/accounts/{account_id}/transactions/{transaction_id}"): "getTransaction",
        ("post", "/payments"): "createPayment",
        ("get", "/payments"): "listPayments",
        ("get", "/payments/{payment_id}"): "getPayment",
        ("get", "/cards"): "listCards",
        ("get", "/cards/{card_id}"): "getCard",
        ("patch", "/cards/{card_id}/controls"): "updateCardControls",
        ("post", "/assistant/conversations"): "startConversation",
        ("post", "/assistant/conversations/{conversation_id}/messages"): "sendAssistantMessage",
        ("post", "/assistant/conversations/{conversation_id}/handoff"): "requestHandoff",
        ("get", "/assistant/conversations/{conversation_id}/messages"): "getConversationTranscript",
        ("get", "/assistant/handoffs"): "listHandoffs",
        ("get", "/assistant/handoffs/{handoff_id}"): "getHandoff",
        ("post", "/assistant/handoffs/{handoff_id}/accept"): "acceptHandoff",
        ("post", "/assistant/handoffs/{handoff_id}/close"): "closeHandoff",
        ("get", "/accounts/{account_id}/carbon-footprint"): "getCarbonFootprint",
        ("get", "/green-products"): "listGreenProducts",
    }
    found = {(op.method, op.path): op.operation_id for op in load_contract(DOCS).operations()}
    for key, operation_id in expected.items():
        assert found.get(key) == operation_id, key


def test_exposed_entities() -> None:
    contract = load_contract(DOCS)
    by_id = {op.operation_id: op for op in contract.operations()}
    assert exposed_entities(contract, by_id["createPayment"]) == ["Payment"]
    assert exposed_entities(contract, by_id["listTransactions"]) == ["Transaction"]
    assert exposed_entities(contract, by_id["updateCardControls"]) == ["Card"]
    assert exposed_entities(contract, by_id["revokeConsent"]) == []


def test_located_yaml_knows_the_line_of_a_pointer(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a:\n  b/c:\n    - x\n    - y: 1\n", encoding="utf-8")
    doc = load_located(path)
    assert doc.line("/a/b~1c") == 2
    assert doc.line("/a/b~1c/1/y") == 4
    assert doc.line("/a/b~1c/1/missing") == 4  # nearest known parent


def test_compare_schemas_subset_allows_fewer_fields_only_for_inputs() -> None:
    entity = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "required": [],
    }
    api = {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}
    assert compare_schemas(api, entity, subset=True) == []
    assert any("b: entity field is missing" in d for d in compare_schemas(api, entity))
    wrong = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": []}
    assert any("type is 'integer'" in d for d in compare_schemas(wrong, entity, subset=True))


def test_a_class_dropped_from_the_list_breaks_the_fields_that_name_it(tmp_path: Path) -> None:
    docs = contract_copy(tmp_path)
    replace_once(
        docs / "entities" / "personal-data-classes.yaml", "- class: special\n", "- class: sensitive\n"
    )
    findings = [f for f in check_contract(docs, BRIEF_STORIES) if f.rule == "R-36-entity-annotated"]
    assert [(f.item, f.path.name) for f in findings] == [("ENT-Handoff", "Handoff.schema.yaml")]
    assert "x-personal-data 'special' is not one of" in findings[0].detail


def test_stories_without_api_are_explained() -> None:
    assert all(reason.strip() for reason in STORIES_WITHOUT_API.values())
    assert {"US-0023", "US-0025"} <= set(STORIES_WITHOUT_API)


# rule -> (file under docs/, text to replace, replacement, item the finding names)
BREAKAGES: dict[str, list[tuple[str, str, str, str]]] = {
    "R-30-example-valid": [
        (
            "api/openapi.yaml",
            "amount: {amount: '10000.00', currency: RUB}\n"
            "                  remittance_information: Monthly savings\n"
            "              other_customer:",
            "amount: {amount: 10000, currency: RUB}\n"
            "                  remittance_information: Monthly savings\n"
            "              other_customer:",
            "OP-createPayment",
        ),
        (
            "entities/Account.schema.yaml",
            "  account_type: current\n",
            "  account_type: checking\n",
            "ENT-Account",
        ),
        ("api/asyncapi.yaml", "status: ACSC\n", "status: DONE\n", "EVT-paymentCompleted"),
    ],
    "R-31-openapi-valid": [("api/openapi.yaml", "  title: futurebank Retail API\n", "", "openapi.yaml")],
    "R-32-operation-serves-story": [("api/openapi.yaml", "      x-stories: [US-0014]\n", "", "OP-listCards")],
    "R-33-story-exists": [
        ("api/openapi.yaml", "x-stories: [US-0014]", "x-stories: [US-0999]", "OP-listCards")
    ],
    "R-34-must-story-has-api": [
        ("api/openapi.yaml", "x-stories: [US-0004]", "x-stories: [US-0003]", "US-0004")
    ],
    "R-35-schema-matches-entity": [
        (
            "api/openapi.yaml",
            "          description: 20-digit Russian bank account number.\n          pattern: '^[0-9]{20}$'",
            "          description: 20-digit Russian bank account number.\n"
            "          pattern: '^[0-9]{16,20}$'",
            "schema Account (used by OP-listAccounts, OP-getAccount)",
        ),
        (
            "api/openapi.yaml",
            "        nickname:\n          type: string\n"
            "          pattern: '^[^\\x00-\\x1F\\x7F-\\x9F\\u202A-\\u202E\\u2066-\\u2069]*$'\n"
            "          description: Name the customer gave the account.\n"
            "          maxLength: 70\n          examples: [Everyday]\n",
            "",
            "schema Account",
        ),
    ],
    "R-36-entity-annotated": [
        ("entities/Handoff.schema.yaml", "    x-personal-data: special\n", "", "ENT-Handoff"),
        ("entities/personal-data-classes.yaml", "classes:\n", "kinds:\n", "personal-data-classes.yaml"),
    ],
    "R-37-entity-reference-exists": [
        ("entities/Balance.schema.yaml", "x-references: Account", "x-references: Acount", "ENT-Balance")
    ],
    "R-38-money-moving-idempotent": [
        (
            "api/openapi.yaml",
            "        - $ref: '#/components/parameters/IdempotencyKey'\n",
            "",
            "OP-createPayment",
        )
    ],
    "R-39-operation-conventions": [
        (
            "api/openapi.yaml",
            "          description: The consent is revoked.\n"
            "          headers:\n            X-Correlation-ID:\n"
            "              $ref: '#/components/headers/X-Correlation-ID'\n"
            "            traceresponse:\n"
            "              $ref: '#/components/headers/traceresponse'\n",
            "          description: The consent is revoked.\n",
            "OP-revokeConsent",
        ),
        (  # a scope the contract's oauth2 flows do not declare
            "api/openapi.yaml",
            "        - oauth2: [cards:write]\n",
            "        - oauth2: [cards:freeze]\n",
            "OP-updateCardControls",
        ),
        (  # one branch of createPayment's oneOf (C-24) that lets unknown fields through
            "api/openapi.yaml",
            "      additionalProperties: false\n"
            "      required: [debtor_account_id, creditor_account_number, amount]\n",
            "      required: [debtor_account_id, creditor_account_number, amount]\n",
            "OP-createPayment",
        ),
    ],
    "R-40-problem-code-status": [
        (
            "api/openapi.yaml",
            "        code: CARD_CLOSED\n",
            "        code: CONSENT_REQUIRED\n",
            "OP-updateCardControls 422",
        )
    ],
    "R-84-problem-codes-table": [
        (
            "api/problem-codes.yaml",
            "- code: CARD_CLOSED\n  status: 422\n",
            "- code: CARD_CLOSED\n  status: 200\n",
            "CARD_CLOSED",
        ),
        ("api/problem-codes.yaml", "- code: CARD_CLOSED\n", "- code: SAME_ACCOUNT\n", "SAME_ACCOUNT"),
        ("entities/Problem.schema.yaml", "    - CARD_CLOSED\n", "", "ENT-Problem"),
        (
            "api/problem-codes.yaml",
            "type_base: https://futurebank.example/problems/\n",
            "",
            "problem-codes.yaml",
        ),
        (
            "api/openapi.yaml",
            "            - CARD_CLOSED\n",
            "            - CARD_CLOSED\n            - CARD_LOST\n",
            "Problem",
        ),
    ],
    "R-41-asyncapi-valid": [("api/asyncapi.yaml", "    x-stories: [US-0002]\n", "", "EVT-consentRevoked")],
    "R-42-versioned-server": [
        (
            "api/openapi.yaml",
            "  - url: http://127.0.0.1:8000/api/v1\n",
            "  - url: http://127.0.0.1:8000\n",
            "openapi.yaml",
        )
    ],
}


def test_every_rule_but_spectral_has_a_breakage_test() -> None:
    assert sorted(BREAKAGES) == sorted(rule for rule in RULES if rule != "R-43-spectral-clean")


CASES = [(rule, index) for rule, cases in sorted(BREAKAGES.items()) for index in range(len(cases))]


@pytest.mark.parametrize(("rule", "index"), CASES, ids=[f"{r}-{i}" for r, i in CASES])
def test_broken_copy_fails_naming_file_line_item_and_rule(rule: str, index: int, tmp_path: Path) -> None:
    file, old, new, item = BREAKAGES[rule][index]
    docs = contract_copy(tmp_path)
    replace_once(docs / file, old, new)
    findings = check_contract(docs, BRIEF_STORIES)
    matching = [f for f in findings if f.rule == rule and f.item.startswith(item)]
    assert matching, f"{rule}: no finding naming {item!r}; got:\n" + "\n".join(map(str, findings))
    finding: Finding = matching[0]
    assert finding.path.name == Path(file).name
    assert finding.line >= 1
    text = str(finding)
    assert re.match(
        rf".*{re.escape(Path(file).name)}:\d+: {re.escape(item)}.* breaks {re.escape(rule)}: ", text
    ), text


@pytest.mark.parametrize("text", ["[]\n", "", "just text\n"])
def test_a_code_or_class_table_of_the_wrong_shape_is_a_finding_not_a_crash(tmp_path: Path, text: str) -> None:
    docs = contract_copy(tmp_path)
    (docs / "api" / "problem-codes.yaml").write_text(text, encoding="utf-8")
    (docs / "entities" / "personal-data-classes.yaml").write_text(text, encoding="utf-8")
    rules = {f.rule for f in check_contract(docs, BRIEF_STORIES)}
    assert {"R-84-problem-codes-table", "R-36-entity-annotated"} <= rules
