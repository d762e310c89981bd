"""R-43: Spectral (pinned in tools/package-lock.json) lints the contracts with 0 errors.

Never skipped: when Spectral is missing the test fails and says what to install."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from futurebank.spec.contract import SPECTRAL_INSTALL_HINT, run_spectral, spectral_binary

REPO = Path(__file__).resolve().parents[3]


def require_spectral() -> None:
    if spectral_binary(REPO) is None:
        pytest.fail(SPECTRAL_INSTALL_HINT)


@pytest.mark.slow
def test_spectral_finds_no_error_in_the_contracts() -> None:
    require_spectral()
    findings = run_spectral(REPO)
    assert findings == [], "\n".join(map(str, findings))


@pytest.mark.slow
def test_spectral_is_pinned() -> None:
    package = (REPO / "tools" / "package.json").read_text(encoding="utf-8")
    assert '"@stoplight/spectral-cli": "6.16.3"' in package
    assert (REPO / "tools" / "package-lock.json").exists()


@pytest.mark.slow
def test_spectral_fails_on_an_invalid_example_and_on_our_guideline_rules(tmp_path: Path) -> None:
    require_spectral()
    api = tmp_path / "api"
    shutil.copytree(REPO / "docs" / "api", api)
    openapi = api / "openapi.yaml"
    text = openapi.read_text(encoding="utf-8")
    broken = text.replace(
        "amount: {amount: '2500.00', currency: RUB}", "amount: {amount: 2500, currency: RUB}", 1
    )
    broken = broken.replace("      x-stories: [US-0014]\n", "", 1)
    broken = broken.replace("        - $ref: '#/components/parameters/IdempotencyKey'\n", "", 1)
    assert broken.count("\n") == text.count("\n") - 2
    openapi.write_text(broken, encoding="utf-8")
    findings = run_spectral(REPO, [openapi], api / ".spectral.yaml")
    codes = {f.item for f in findings}
    assert "oas3-valid-media-example" in codes, findings
    assert "api-003-operation-serves-story" in codes, findings
    assert "api-021-idempotency-key-on-money-moving-post" in codes, findings
    assert all(f.path.name == "openapi.yaml" and f.line > 1 for f in findings)
