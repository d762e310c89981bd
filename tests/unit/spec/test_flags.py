"""The rollout flags' flagd files are generated from the flags data and the load model's
rollout_stages, and the check fails on drift (``futurebank flags check``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from futurebank.cli import main
from futurebank.spec.contract.model import load_contract
from futurebank.spec.flags import FLAGS_DATA, LOAD_MODEL, OUT_DIR, FlagsDataError, drift, load_flag_set, write
from futurebank.spec.pages.rollout_flags import findings

REPO = Path(__file__).resolve().parents[3]


def copy_root(tmp_path: Path) -> Path:
    for rel in (FLAGS_DATA, LOAD_MODEL):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    shutil.copytree(REPO / OUT_DIR, tmp_path / OUT_DIR)
    return tmp_path


def test_the_committed_flagd_files_match_the_data() -> None:
    operations = {op.operation_id for op in load_contract(REPO / "docs").operations()}
    assert drift(REPO, operations) == []


def test_thresholds_come_from_the_rollout_stages() -> None:
    model = yaml.safe_load((REPO / LOAD_MODEL).read_text(encoding="utf-8"))
    flag_set = load_flag_set(REPO)
    assert [s.stage for s in flag_set.stages] == [s["stage"] for s in model["rollout_stages"]]
    for stage, raw in zip(flag_set.stages, model["rollout_stages"], strict=True):
        document = json.loads((REPO / OUT_DIR / f"{stage.stage}.flagd.json").read_text(encoding="utf-8"))
        assert document["metadata"]["stage"] == stage.stage
        expected = 0 if raw.get("cohort") == "staff" else round(raw["share"] * flag_set.buckets)
        assert document["metadata"]["threshold"] == stage.threshold == expected
        for flag in document["flags"].values():
            assert flag["defaultVariant"] == "off"  # unreadable context: the feature stays closed


def test_a_changed_share_is_drift_until_regenerated(tmp_path: Path) -> None:
    root = copy_root(tmp_path)
    model = root / LOAD_MODEL
    model.write_text(
        model.read_text(encoding="utf-8").replace(
            "{stage: RS-0003, share: 0.10}", "{stage: RS-0003, share: 0.12}"
        ),
        encoding="utf-8",
    )
    problems = drift(root)
    assert problems == [
        f"{OUT_DIR / 'RS-0003.flagd.json'}: drifted from the data; run `futurebank flags generate`"
    ]
    write(root)
    assert drift(root) == []
    document = json.loads((root / OUT_DIR / "RS-0003.flagd.json").read_text(encoding="utf-8"))
    assert document["metadata"]["threshold"] == 1200


def test_a_missing_or_extra_stage_file_is_drift(tmp_path: Path) -> None:
    root = copy_root(tmp_path)
    (root / OUT_DIR / "RS-0004.flagd.json").rename(root / OUT_DIR / "RS-0099.flagd.json")
    problems = drift(root)
    assert any("RS-0004.flagd.json: missing" in p for p in problems)
    assert any("RS-0099.flagd.json: no rollout stage" in p for p in problems)


def test_an_unknown_operation_and_a_shrinking_share_are_refused(tmp_path: Path) -> None:
    root = copy_root(tmp_path)
    assert drift(root, {"startConversation"}) != []
    model = root / LOAD_MODEL
    model.write_text(
        model.read_text(encoding="utf-8").replace(
            "{stage: RS-0004, share: 0.25}", "{stage: RS-0004, share: 0.05}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(FlagsDataError, match="below the stage before"):
        load_flag_set(root)


def test_the_cli_check_fails_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_root(tmp_path)
    shutil.copytree(REPO / "docs" / "api", root / "docs" / "api")
    shutil.copytree(REPO / "docs" / "entities", root / "docs" / "entities")
    shutil.copytree(REPO / "docs" / "stories", root / "docs" / "stories")
    assert main(["flags", "check", "--root", str(root)]) == 0
    (root / OUT_DIR / "RS-0002.flagd.json").write_text("{}\n", encoding="utf-8")
    assert main(["flags", "check", "--root", str(root)]) == 1
    assert "RS-0002.flagd.json: drifted" in capsys.readouterr().err
    assert main(["flags", "generate", "--root", str(root)]) == 0
    assert main(["flags", "check", "--root", str(root)]) == 0


def test_the_build_reports_drift_as_r78(tmp_path: Path) -> None:
    """The rollout page's generator breaks R-78-flags-generated on drift and on unusable data."""
    root = copy_root(tmp_path)
    flag_set, found = findings(root, {"startConversation"})
    assert flag_set is not None
    assert {f.rule for f in found} == {"R-78-flags-generated"}  # four gated operations unknown here
    assert len(found) == 4
    (root / OUT_DIR / "RS-0005.flagd.json").unlink()
    operations = {op for f in flag_set.flags for op in f.operations}
    _, found = findings(root, operations)
    assert [f.detail for f in found] == [
        f"{OUT_DIR / 'RS-0005.flagd.json'}: missing; run `futurebank flags generate`"
    ]
    (root / FLAGS_DATA).write_text("flags: []\n", encoding="utf-8")
    flag_set, found = findings(root, operations)
    assert flag_set is None and found[0].rule == "R-78-flags-generated"
