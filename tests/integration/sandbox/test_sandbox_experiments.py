"""A/B assignment and exposure events in the sandbox (docs/delivery/ab-testing.md): the split is 50/50,
sticky, independent of the rollout bucket, and each exposure is a JSON log line that
``futurebank ab analyse`` reads."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import pytest
from sandbox_helpers import ANNA, BORIS, bearer, token_for
from scipy.stats import binomtest, chi2_contingency
from starlette.testclient import TestClient

from futurebank.sandbox.adapters.experiments import load_experiments
from futurebank.sandbox.adapters.flags import load_config, salted_bucket
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.observability import JsonFormatter
from futurebank.spec.ab import read_lines

CUSTOMERS = [str(uuid.UUID(int=i, version=4)) for i in range(1, 10_001)]
EXPERIMENT = load_experiments()[0]


def test_the_split_is_even_and_sticky() -> None:
    first = [EXPERIMENT.assign(c) for c in CUSTOMERS]
    assert first == [EXPERIMENT.assign(c) for c in CUSTOMERS]
    treated = first.count("treatment")
    ci = binomtest(treated, len(CUSTOMERS), 0.5).proportion_ci(confidence_level=0.999)
    assert ci.low <= 0.5 <= ci.high, treated


def test_the_split_is_independent_of_the_rollout_cohort() -> None:
    config = load_config()
    inside = [salted_bucket(config.salt, c, config.buckets) < 2500 for c in CUSTOMERS]  # RS-0004
    treated = [EXPERIMENT.assign(c) == "treatment" for c in CUSTOMERS]
    table = [
        [
            sum(i and t for i, t in zip(inside, treated, strict=True)),
            sum(i and not t for i, t in zip(inside, treated, strict=True)),
        ],
        [
            sum(t and not i for i, t in zip(inside, treated, strict=True)),
            sum(not i and not t for i, t in zip(inside, treated, strict=True)),
        ],
    ]
    assert chi2_contingency(table).pvalue > 0.001, table


@pytest.fixture
def exposures(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    caplog.set_level(logging.INFO, logger="futurebank.sandbox.experiments")
    formatter = JsonFormatter()

    def lines() -> list[str]:
        return [formatter.format(r) for r in caplog.records if r.name == "futurebank.sandbox.experiments"]

    return lines


def test_an_exposure_is_logged_for_customers_inside_the_flag(
    make_container: Callable[..., Container], exposures: Callable[[], list[str]]
) -> None:
    # RS-0004: Boris (bucket 2372) is inside the assistant flag, Anna (7229) is not.
    with TestClient(
        create_app(make_container(rollout_stage="RS-0004")), raise_server_exceptions=False
    ) as client:
        for customer in ("anna", "boris"):
            token = token_for(client, customer)
            for _ in range(2):
                assert client.get("/api/v1/accounts", headers=bearer(token)).status_code == 200
            assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 200  # not an exposure
    lines = exposures()
    assert len(lines) == 2 and all(BORIS in line and ANNA not in line for line in lines)
    name, units = read_lines(lines)
    assert name == EXPERIMENT.key
    assert units == {BORIS: (EXPERIMENT.assign(BORIS), False)}
