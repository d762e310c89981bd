"""The acceptance results plugin: which scenarios it skips and why (no sandbox needed)."""

from __future__ import annotations

import pytest

from futurebank.spec.acceptance_results import Operation, ScenarioInfo, skip_reason, step_call

MISSING = [
    Operation("startConversation", "POST", "/assistant/conversations"),
    Operation("sendAssistantMessage", "POST", "/assistant/conversations/{conversation_id}/messages"),
    Operation("getCarbonFootprint", "GET", "/accounts/{account_id}/carbon-footprint"),
]


def info(*steps: str, tags: tuple[str, ...] = ("US-0001",)) -> ScenarioInfo:
    return ScenarioInfo("x.feature", "a scenario", frozenset(tags), steps)


def test_path_templates_match_concrete_paths_and_ignore_the_query() -> None:
    footprint = MISSING[2]
    assert footprint.matches("GET", "/accounts/{anna-current}/carbon-footprint?period_from=2026-11-01")
    assert footprint.matches("get", "/accounts/2000/carbon-footprint")
    assert not footprint.matches("POST", "/accounts/2000/carbon-footprint")
    assert not footprint.matches("GET", "/accounts/2000/balances")
    assert not footprint.matches("GET", "/accounts/a/b/carbon-footprint")


def test_request_steps_name_their_method_and_path() -> None:
    assert step_call('she GETs "/accounts"') == ("GET", "/accounts")
    assert step_call('it POSTs to "/consents" with body:') == ("POST", "/consents")
    assert step_call("she starts a conversation with the assistant") == ("POST", "/assistant/conversations")
    assert step_call("the response status is 200") is None
    assert step_call("not a vocabulary step") is None


def test_a_scenario_calling_a_501_operation_is_skipped_naming_each_operation_once() -> None:
    reason = skip_reason(
        info(
            "she starts a conversation with the assistant",
            'she tells the assistant "Привет"',
            'she tells the assistant "Ещё"',
            tags=("US-0015", "not-in-sandbox"),
        ),
        MISSING,
    )
    assert reason == "operation answers 501 in the sandbox: startConversation, sendAssistantMessage"


def test_a_501_operation_is_found_even_without_the_not_in_sandbox_tag() -> None:
    reason = skip_reason(info('she GETs "/accounts/{anna-current}/carbon-footprint"'), MISSING)
    assert reason == "operation answers 501 in the sandbox: getCarbonFootprint"


@pytest.fixture
def tooling_only_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vocabulary entry the sandbox cannot run. The real vocabulary has none left (every operations
    step runs against the sandbox now), so the mechanism is tested with this stand-in."""
    from futurebank.spec.stories import vocabulary

    extra = vocabulary._p(
        "tooling-only", "the operations team runs a tool the sandbox lacks", "A stand-in.", sandbox=False
    )
    monkeypatch.setattr(vocabulary, "VOCABULARY", (*vocabulary.VOCABULARY, extra))


def test_a_not_in_sandbox_scenario_without_501_operations_names_its_tooling_steps(
    tooling_only_step: None,
) -> None:
    reason = skip_reason(
        info(
            "the operations team runs a tool the sandbox lacks",
            tags=("US-0019", "not-in-sandbox"),
        ),
        MISSING,
    )
    assert reason is not None
    assert reason.startswith("@not-in-sandbox: needs operations tooling")
    assert "the operations team runs a tool the sandbox lacks" in reason


def test_a_sandbox_scenario_runs() -> None:
    assert skip_reason(info('she GETs "/accounts"', "the response status is 200"), MISSING) is None


def test_a_vocabulary_step_without_a_path_in_its_text_is_mapped_to_its_operation() -> None:
    reason = skip_reason(info("she confirms the assistant's proposed action", tags=("US-0018",)), MISSING)
    assert reason == "operation answers 501 in the sandbox: sendAssistantMessage"
