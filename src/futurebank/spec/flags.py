"""The rollout flags as flagd flag-definition files, generated from the spec's data (ADR-0019).

Inputs: ``docs/delivery/feature-flags.yaml`` (the flags, the operations each gates, the bucketing) and
``rollout_stages`` of ``docs/nfr/load-model.yaml`` (the one place the stage shares are written). Output:
one file per stage, ``docs/delivery/flagd/<stage>.flagd.json``, that any flagd evaluator reads: the
OpenFeature flagd provider in file mode (the sandbox), or a flagd server. A customer is inside a stage
when the evaluation context's ``staff`` attribute is true, or its precomputed ``rollout_bucket``
(0 .. buckets-1) is below the stage's threshold, share × buckets. Plain JSON Logic comparisons, so
every flagd implementation gives the same answer (flagd's ``fractional`` hash changed between
releases; see the ADR).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FLAGS_DATA = Path("docs") / "delivery" / "feature-flags.yaml"
LOAD_MODEL = Path("docs") / "nfr" / "load-model.yaml"
OUT_DIR = Path("docs") / "delivery" / "flagd"
GENERATED_BY = "futurebank flags generate"


class FlagsDataError(ValueError):
    """The flags data or the rollout stages are not usable; the message names the file."""


@dataclass(frozen=True)
class Flag:
    key: str
    feature: str
    what: str
    operations: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    stage: str
    staff: bool  # the staff cohort is inside from this stage on
    threshold: int  # customers with rollout_bucket < threshold are inside


@dataclass(frozen=True)
class FlagSet:
    flags: tuple[Flag, ...]
    stages: tuple[Stage, ...]
    salt: str
    buckets: int
    bucket_attribute: str
    staff_attribute: str


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FlagsDataError(f"{path}: {exc}") from None


def load_flag_set(root: Path) -> FlagSet:
    data = _read(root / FLAGS_DATA)
    model = _read(root / LOAD_MODEL)
    where = root / FLAGS_DATA
    try:
        bucketing = data["bucketing"]
        buckets = int(bucketing["buckets"])
        flags = tuple(
            Flag(str(f["key"]), str(f["feature"]), str(f["what"]), tuple(str(o) for o in f["operations"]))
            for f in data["flags"]
        )
        salt, attribute, staff_attribute = (
            str(bucketing["salt"]),
            str(bucketing["context_attribute"]),
            str(data["staff_attribute"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FlagsDataError(f"{where}: missing or invalid {exc}") from None
    if buckets < 100:
        raise FlagsDataError(f"{where}: bucketing.buckets must be at least 100")
    keys = [f.key for f in flags]
    if len(set(keys)) != len(keys):
        raise FlagsDataError(f"{where}: a flag key is repeated")
    gated = [op for f in flags for op in f.operations]
    if len(set(gated)) != len(gated):
        raise FlagsDataError(f"{where}: an operation is gated by two flags")
    stages: list[Stage] = []
    staff = False
    previous = 0
    for raw in (model or {}).get("rollout_stages") or []:
        if raw.get("cohort") == "staff":
            staff = True
            threshold = 0
        elif "share" in raw:
            share = float(raw["share"])
            threshold = round(share * buckets)
            if abs(threshold - share * buckets) > 1e-9 or not 0 < share <= 1:
                raise FlagsDataError(
                    f"{root / LOAD_MODEL}: {raw['stage']}'s share {share} is not a whole number of "
                    f"1/{buckets} buckets in (0, 1]"
                )
        else:
            raise FlagsDataError(f"{root / LOAD_MODEL}: {raw.get('stage')} has neither share nor cohort")
        if threshold < previous:
            raise FlagsDataError(f"{root / LOAD_MODEL}: {raw['stage']}'s share is below the stage before")
        previous = threshold
        stages.append(Stage(str(raw["stage"]), staff, threshold))
    if not stages:
        raise FlagsDataError(f"{root / LOAD_MODEL}: no rollout_stages")
    return FlagSet(flags, tuple(stages), salt, buckets, attribute, staff_attribute)


def inside_rule(flag_set: FlagSet, stage: Stage) -> dict[str, Any]:
    """The JSON Logic of "this customer is inside the stage"."""
    in_share = {"<": [{"var": flag_set.bucket_attribute}, stage.threshold]}
    if not stage.staff:
        return in_share
    return {"or": [{"==": [{"var": flag_set.staff_attribute}, True]}, in_share]}


def flagd_document(flag_set: FlagSet, stage: Stage) -> dict[str, Any]:
    """One stage's flagd flag-definition document (flagd's flag-definition JSON)."""
    flags: dict[str, Any] = {}
    for flag in flag_set.flags:
        flags[flag.key] = {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [inside_rule(flag_set, stage), "on", "off"]},
            "metadata": {"feature": flag.feature, "operations": " ".join(flag.operations)},
        }
    return {
        "metadata": {
            "id": "futurebank-rollout",
            "stage": stage.stage,
            "threshold": stage.threshold,
            "buckets": flag_set.buckets,
            "generatedBy": f"{GENERATED_BY} from {FLAGS_DATA.as_posix()} and {LOAD_MODEL.as_posix()}",
        },
        "flags": flags,
    }


def render(flag_set: FlagSet) -> dict[str, str]:
    """File name -> text, for every stage."""
    return {
        f"{stage.stage}.flagd.json": json.dumps(flagd_document(flag_set, stage), indent=2) + "\n"
        for stage in flag_set.stages
    }


def write(root: Path) -> list[Path]:
    out = root / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    written = []
    expected = render(load_flag_set(root))
    for stale in out.glob("*.flagd.json"):
        if stale.name not in expected:
            stale.unlink()
    for name, text in expected.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def drift(root: Path, operations: set[str] | None = None) -> list[str]:
    """What differs between the committed flagd files and what the data gives (empty: none)."""
    flag_set = load_flag_set(root)
    problems = []
    if operations is not None:
        for flag in flag_set.flags:
            problems += [
                f"{FLAGS_DATA}: flag {flag.key!r} gates {op!r}, which the contract does not define"
                for op in flag.operations
                if op not in operations
            ]
    out = root / OUT_DIR
    expected = render(flag_set)
    present = {p.name for p in out.glob("*.flagd.json")} if out.is_dir() else set()
    for name in sorted(present - set(expected)):
        problems.append(f"{OUT_DIR / name}: no rollout stage has this file; run `{GENERATED_BY}`")
    for name, text in expected.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{OUT_DIR / name}: missing; run `{GENERATED_BY}`")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{OUT_DIR / name}: drifted from the data; run `{GENERATED_BY}`")
    return problems
