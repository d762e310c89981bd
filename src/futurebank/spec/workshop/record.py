"""The workshop record: who decides, what is decided, and what the open questions block.

Three data files under ``docs/workshop`` (one fact in one file):

* ``roles.yaml``: the roles register, role id -> title and the question owner texts that map to it;
* ``record.yaml``: the status of every decision-bearing item (:data:`DECISION_TYPES`): proposed,
  accepted (with the deciding role, the date and the record of the decision), rejected, or superseded
  (naming the superseding item);
* ``questions.yaml``: every question's priority, the roadmap phase it is due by, the items it blocks,
  its answer once given, and the merged question ids with the question that survives each.

:func:`load_record` reads them with their lines; :func:`check_record` checks them against the spec's
needs (rules R-61 … R-67) and returns :class:`~futurebank.spec.rules.Finding` located at the data file
and line (or at the need, for an item the record lacks). :func:`record_answer` is the one edit that
``futurebank answer`` makes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from futurebank.spec.rules import Finding, SpecFileError
from futurebank.spec.yaml_lines import Located, load_located

WORKSHOP = Path("workshop")  # under docs/
ROLES_FILE, RECORD_FILE, QUESTIONS_FILE = "roles.yaml", "record.yaml", "questions.yaml"
ROADMAP_FILE = Path("delivery/roadmap.yaml")

# need type -> what the record calls it; these items carry a status
DECISION_TYPES = {
    "scope": "scope decision",
    "adr": "ADR",
    "nfr": "NFR",
    "story": "story",
    "kpi": "KPI",
    "stage": "rollout stage",
}
STATUSES = ("proposed", "accepted", "rejected", "superseded")
PRIORITIES = ("blocks-m0", "blocks-phase", "informs")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    owners: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class ItemStatus:
    id: str
    status: str
    decider: str
    date: str
    record: str
    superseded_by: str
    line: int


@dataclass(frozen=True)
class QuestionPlan:
    id: str
    priority: str
    phase: str
    blocks: tuple[str, ...]
    answer: str
    answered_by: str
    answered_on: str
    record: str
    line: int

    @property
    def answered(self) -> bool:
        return bool(self.answer)


@dataclass(frozen=True)
class Phase:
    id: str
    start: dt.date
    end: dt.date


@dataclass
class Record:
    """The three workshop files, read; ``files`` maps each file name to its path."""

    docs: Path
    roles: dict[str, Role] = field(default_factory=dict)
    items: dict[str, ItemStatus] = field(default_factory=dict)
    questions: dict[str, QuestionPlan] = field(default_factory=dict)
    merged: dict[str, tuple[str, int]] = field(default_factory=dict)
    m0: dt.date | None = None
    phases: dict[str, Phase] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # shape errors met while reading

    def path(self, name: str) -> Path:
        return self.docs / WORKSHOP / name

    def role_of_owner(self) -> dict[str, str]:
        """Question owner text -> role id."""
        return {owner: role.id for role in self.roles.values() for owner in role.owners}

    def due(self, plan: QuestionPlan) -> dt.date | None:
        """M0 for blocks-m0, the phase's start for blocks-phase, the phase's end for informs."""
        if plan.priority == "blocks-m0":
            return self.m0
        phase = self.phases.get(plan.phase)
        if phase is None:
            return None
        return phase.start if plan.priority == "blocks-phase" else phase.end

    def resolve(self, question_id: str) -> str:
        """A merged question id -> the question that survives it; any other id unchanged."""
        return self.merged[question_id][0] if question_id in self.merged else question_id


def present(docs: Path) -> bool:
    """Whether the spec has a workshop record (the fixtures of other rules have none)."""
    return (docs / WORKSHOP / RECORD_FILE).is_file()


def _mapping(located: Located, pointer: str, rule: str, item: str) -> Mapping[str, Any]:
    node = located.data
    for token in pointer.strip("/").split("/") if pointer else []:
        node = node.get(token) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        raise SpecFileError(
            located.path, located.line(pointer), rule, f"{pointer or '/'} is not a mapping", item
        )
    return node


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)


def _load_roadmap(record: Record) -> None:
    path = record.docs / ROADMAP_FILE
    if not path.is_file():
        return
    data = load_located(path).data or {}
    m0 = data.get("m0")
    record.m0 = m0 if isinstance(m0, dt.date) else None
    for phase in data.get("phases") or []:
        if record.m0 and isinstance(phase, Mapping) and isinstance(phase.get("start"), int | float):
            start = _add_months(record.m0, int(phase["start"]))
            end = _add_months(record.m0, int(phase["start"]) + int(phase.get("months") or 0))
            record.phases[str(phase.get("id"))] = Phase(str(phase.get("id")), start, end)


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list):
        return tuple(_text(v) for v in value)
    return (_text(value),)


def load_record(docs: Path) -> Record:
    """Read roles, record and questions (and the roadmap's dates); raises SpecFileError on bad YAML."""
    record = Record(docs)
    roles = load_located(record.path(ROLES_FILE))
    for role_id, entry in _mapping(roles, "/roles", "R-64-role-register", ROLES_FILE).items():
        line = roles.line(f"/roles/{role_id}")
        if not isinstance(entry, Mapping) or not _text(entry.get("title")):
            record.findings.append(
                Finding("R-64-role-register", role_id, "a role needs a title", roles.path, line)
            )
            continue
        record.roles[role_id] = Role(role_id, _text(entry["title"]), _as_list(entry.get("owners")), line)

    items = load_located(record.path(RECORD_FILE))
    for item_id, entry in _mapping(items, "/items", "R-61-item-status", RECORD_FILE).items():
        line = items.line(f"/items/{item_id}")
        entry = entry if isinstance(entry, Mapping) else {}
        record.items[item_id] = ItemStatus(
            item_id,
            _text(entry.get("status")),
            _text(entry.get("decider")),
            _text(entry.get("date")),
            _text(entry.get("record")),
            _text(entry.get("superseded_by")),
            line,
        )

    questions = load_located(record.path(QUESTIONS_FILE))
    for q_id, entry in _mapping(questions, "/questions", "R-65-question-planned", QUESTIONS_FILE).items():
        line = questions.line(f"/questions/{q_id}")
        entry = entry if isinstance(entry, Mapping) else {}
        record.questions[q_id] = QuestionPlan(
            q_id,
            _text(entry.get("priority")),
            _text(entry.get("phase")),
            _as_list(entry.get("blocks")),
            _text(entry.get("answer")),
            _text(entry.get("answered_by")),
            _text(entry.get("answered_on")),
            _text(entry.get("record")),
            line,
        )
    merged = questions.data.get("merged") if isinstance(questions.data, Mapping) else None
    for old, new in (merged or {}).items():
        record.merged[str(old)] = (_text(new), questions.line(f"/merged/{old}"))
    _load_roadmap(record)
    return record


# --- checks ---------------------------------------------------------------------------------------------

NeedsMap = Mapping[str, Mapping[str, Any]]


def _need_location(need: Mapping[str, Any], docs: Path) -> tuple[Path, int]:
    return docs / f"{need.get('docname') or 'index'}.md", int(need.get("lineno") or 1)


def _check_items(record: Record, needs: NeedsMap) -> Iterator[Finding]:
    path = record.path(RECORD_FILE)
    open_blockers: dict[str, list[str]] = {}
    for plan in record.questions.values():
        if not plan.answered:
            for blocked in plan.blocks:
                open_blockers.setdefault(blocked, []).append(plan.id)
    for need_id, fields in sorted(needs.items()):
        if fields.get("type") in DECISION_TYPES and need_id not in record.items:
            where, line = _need_location(fields, record.docs)
            yield Finding(
                "R-61-item-status", need_id, f"no status in docs/workshop/{RECORD_FILE}", where, line
            )
    for item in record.items.values():
        need = needs.get(item.id)
        if need is None or need.get("type") not in DECISION_TYPES:
            what = "no such item" if need is None else f"a {need.get('type')} carries no status"
            yield Finding("R-61-item-status", item.id, what, path, item.line)
            continue
        if item.status not in STATUSES:
            detail = f"status {item.status or '(none)'!r}, expected one of {', '.join(STATUSES)}"
            yield Finding("R-61-item-status", item.id, detail, path, item.line)
        if item.status == "superseded":
            successor = needs.get(item.superseded_by)
            if (
                successor is None
                or successor.get("type") != need.get("type")
                or item.superseded_by == item.id
            ):
                detail = f"superseded_by {item.superseded_by or '(none)'!r} is not another {need.get('type')}"
                yield Finding("R-61-item-status", item.id, detail, path, item.line)
        elif item.superseded_by:
            detail = f"superseded_by is set but the status is {item.status!r}"
            yield Finding("R-61-item-status", item.id, detail, path, item.line)
        if item.status == "accepted":
            missing = [
                name
                for name, ok in (
                    ("decider (a role of roles.yaml)", item.decider in record.roles),
                    ("date (YYYY-MM-DD)", _valid_date(item.date)),
                    ("record", bool(item.record)),
                )
                if not ok
            ]
            if missing:
                detail = f"missing or invalid: {', '.join(missing)}"
                yield Finding("R-62-accepted-signed-off", item.id, detail, path, item.line)
            if item.id in open_blockers:
                detail = f"open question(s) block it: {', '.join(sorted(open_blockers[item.id]))}"
                yield Finding("R-63-accepted-not-blocked", item.id, detail, path, item.line)
        if need.get("type") == "adr" and item.status in STATUSES:
            madr = str(need.get("adr_status") or "")
            if madr != item.status:
                detail = f"adr_status is {madr!r}, the record says {item.status!r}"
                yield Finding("R-67-adr-status-agrees", item.id, detail, path, item.line)


def _check_questions(record: Record, needs: NeedsMap) -> Iterator[Finding]:
    path = record.path(QUESTIONS_FILE)
    roles_path = record.path(ROLES_FILE)
    owners = record.role_of_owner()
    seen: dict[str, str] = {}
    for role in record.roles.values():
        for owner in role.owners:
            if owner in seen:
                detail = f"owner {owner!r} maps to both {seen[owner]} and {role.id}"
                yield Finding("R-64-role-register", role.id, detail, roles_path, role.line)
            seen[owner] = role.id
    for need_id, fields in sorted(needs.items()):
        if fields.get("type") != "question":
            continue
        where, line = _need_location(fields, record.docs)
        owner = str(fields.get("owner") or "")
        if owner and owner not in owners:
            detail = f"owner {owner!r} maps to no role of docs/workshop/{ROLES_FILE}"
            yield Finding("R-64-role-register", need_id, detail, where, line)
        if need_id not in record.questions:
            detail = f"no priority and blocked items in docs/workshop/{QUESTIONS_FILE}"
            yield Finding("R-65-question-planned", need_id, detail, where, line)
    for plan in record.questions.values():
        need = needs.get(plan.id)
        problems: list[str] = []
        if need is None or need.get("type") != "question":
            problems.append("no such question")
        if plan.priority not in PRIORITIES:
            problems.append(
                f"priority {plan.priority or '(none)'!r}, expected one of {', '.join(PRIORITIES)}"
            )
        elif plan.priority != "blocks-m0" and plan.phase not in record.phases:
            problems.append(f"phase {plan.phase or '(none)'!r} is not a phase of the roadmap")
        if plan.priority in ("blocks-m0", "blocks-phase") and not plan.blocks:
            problems.append(f"a {plan.priority} question names the items it blocks")
        if plan.priority == "informs" and plan.blocks:
            problems.append("an informs question blocks nothing (make it blocks-phase)")
        unknown = [b for b in plan.blocks if b not in needs]
        if unknown:
            problems.append(f"blocks unknown items {', '.join(unknown)}")
        if plan.answered or plan.answered_by or plan.answered_on or plan.record:
            if not plan.answer or not plan.record:
                problems.append("an answer needs its text and its record")
            if plan.answered_by not in record.roles:
                problems.append(f"answered_by {plan.answered_by or '(none)'!r} is not a role")
            if not _valid_date(plan.answered_on):
                problems.append(f"answered_on {plan.answered_on or '(none)'!r} is not a YYYY-MM-DD date")
        for problem in problems:
            yield Finding("R-65-question-planned", plan.id, problem, path, plan.line)
    for old, (new, line) in record.merged.items():
        if old in needs:
            yield Finding("R-66-question-merged", old, "a merged question is still defined", path, line)
        target = needs.get(new)
        if target is None or target.get("type") != "question" or new in record.merged:
            detail = f"{new or '(none)'!r} is not a surviving question"
            yield Finding("R-66-question-merged", old, detail, path, line)


def check_record(record: Record, needs: NeedsMap) -> list[Finding]:
    """Every workshop-record rule on the spec's needs (id -> fields with type, docname, lineno …)."""
    return [*record.findings, *_check_items(record, needs), *_check_questions(record, needs)]


# --- the one edit of `futurebank answer` ----------------------------------------------------------------


def record_answer(docs: Path, question: str, answer: str, role: str, date: str, where: str) -> Path:
    """Write an answer into questions.yaml: that question's entry and nothing else changes."""
    record = load_record(docs)
    question = question.strip()
    if question in record.merged:
        raise ValueError(f"{question} was merged into {record.resolve(question)}: answer that one")
    plan = record.questions.get(question)
    if plan is None:
        raise ValueError(f"{question}: no such question in docs/workshop/{QUESTIONS_FILE}")
    if plan.answered:
        raise ValueError(f"{question} is already answered ({plan.answered_on}, {plan.answered_by})")
    if role not in record.roles:
        raise ValueError(
            f"role {role!r} is not in docs/workshop/{ROLES_FILE} ({', '.join(sorted(record.roles))})"
        )
    if not _valid_date(date):
        raise ValueError(f"date {date!r} is not a YYYY-MM-DD date")
    if not answer.strip() or not where.strip():
        raise ValueError("an answer needs its text (--answer) and its record (--record)")
    path = record.path(QUESTIONS_FILE)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = plan.line - 1
    end = start + 1
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1

    def scalar(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML scalar

    entry = [
        f"  {question}:\n",
        f"    priority: {plan.priority}\n",
        *([f"    phase: {plan.phase}\n"] if plan.phase else []),
        f"    blocks: [{', '.join(plan.blocks)}]\n",
        f"    answer: {scalar(answer.strip())}\n",
        f"    answered_by: {role}\n",
        f"    answered_on: {date}\n",
        f"    record: {scalar(where.strip())}\n",
    ]
    path.write_text("".join([*lines[:start], *entry, *lines[end:]]), encoding="utf-8")
    return path
