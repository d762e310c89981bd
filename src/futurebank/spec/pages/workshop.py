"""The workshop record on the site: statuses, sign-off, questions, suspects and changes since a baseline.

Data: ``docs/workshop/{roles,record,questions,fingerprints}.yaml`` and ``docs/workshop/baselines/``
(see ``futurebank.spec.workshop``). What this module does in the build:

* when every page is read (``needs-before-post-processing``) it writes the record onto the needs: the
  ``status`` of each decision-bearing item with its decider and date, each question's open/answered
  status, priority, due date, answer and ``blocks`` links, and the owner's role; and it checks the record
  (rules R-61 … R-67), reporting each finding at its file and line;
* once the links are resolved (``needs-before-sealing``) it computes every item's fingerprint, marks the
  suspects (field ``suspect``, shown on the item and listed on the suspects page) and writes
  ``<site>/_workshop/state.json`` for ``futurebank review`` and ``futurebank suspects``;
* when a page is resolved it fills the ``{workshop-changes}`` directive with the changes since the
  latest baseline.

Generators: ``workshop-status-counts`` (front page), ``workshop-m0-questions``, ``workshop-roles``,
``workshop-agenda``, ``workshop-merged``, ``workshop-suspects``, ``workshop-changes``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from futurebank.spec.pages import Generator, md_escape, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import Finding, SpecFileError
from futurebank.spec.workshop import baseline, fingerprints
from futurebank.spec.workshop.record import (
    DECISION_TYPES,
    PRIORITIES,
    QUESTIONS_FILE,
    RECORD_FILE,
    ROLES_FILE,
    STATUSES,
    WORKSHOP,
    Record,
    check_record,
    load_record,
    present,
)

DATA_FILES = (ROLES_FILE, RECORD_FILE, QUESTIONS_FILE, "fingerprints.yaml")
# where a need id is a reference: a {need} role, or a link option line of a need directive
_REFERENCES = re.compile(r"\{need\}`[^`]+`|^:(?!id:)[a-z_]+: .*$", re.MULTILINE)
TYPE_OF_PREFIX = {"SCOPE": "scope", "ADR": "adr", "NFR": "nfr", "US": "story", "KPI": "kpi", "RS": "stage"}


def _docs(app: Sphinx) -> Path:
    return Path(app.srcdir)


def _record(app: Sphinx) -> Record | None:
    """The workshop record of this build, read once; None when the spec has none or it is unreadable
    (then its finding is reported once)."""
    if hasattr(app, "_futurebank_record"):
        cached: Record | None = app._futurebank_record
        return cached
    record: Record | None = None
    if present(_docs(app)):
        try:
            record = load_record(_docs(app))
        except SpecFileError as exc:
            report([exc.finding], repo_root(app))
        except OSError as exc:  # a workshop file is missing beside record.yaml
            where = Path(exc.filename or _docs(app) / WORKSHOP)
            finding = Finding("R-61-item-status", where.name, f"cannot read it: {exc.strerror}", where, 1)
            report([finding], repo_root(app))
    app._futurebank_record = record  # type: ignore[attr-defined]
    return record


# --- source-read: dependencies and merged question ids ------------------------------------------------------


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Every page depends on the record (statuses show on items everywhere); merged ids name the survivor."""
    docs = _docs(app)
    if not present(docs):
        return
    for name in DATA_FILES:  # a missing file too: creating it must rebuild the pages
        app.env.note_dependency(str(docs / WORKSHOP / name))
    record = _record(app)
    if record is None or not record.merged or docname == "workshop/index":
        return
    ids = re.compile(r"\b(" + "|".join(map(re.escape, sorted(record.merged))) + r")\b")

    def resolve(match: re.Match[str]) -> str:  # only references: {need} roles and need link options
        return ids.sub(lambda m: record.resolve(m.group(1)), match.group(0))

    source[0] = _REFERENCES.sub(resolve, source[0])


# --- the record on the needs -------------------------------------------------------------------------------


def _set(need: Any, key: str, value: Any) -> None:
    with contextlib.suppress(KeyError):  # a field the fixture's needs model lacks: nothing shows it
        need[key] = value


def on_needs_before_post_processing(app: Sphinx, needs: Any) -> None:
    record = _record(app)
    if record is None:
        return
    fields = {need_id: dict(need.items()) for need_id, need in needs.items()}
    report(check_record(record, fields), repo_root(app))
    owners = record.role_of_owner()
    for item in record.items.values():
        need = needs.get(item.id)
        if need is None or need["type"] not in DECISION_TYPES:
            continue
        _set(need, "status", item.status)
        if item.status == "accepted":
            _set(need, "decider", item.decider)
            _set(need, "accepted_on", item.date)
            _set(need, "decision_record", item.record)
        if item.superseded_by and item.superseded_by in needs:
            _set(need, "superseded_by", [item.superseded_by])
    for need_id, need in needs.items():
        if need["type"] != "question":
            continue
        _set(need, "owner_role", owners.get(str(need.get("owner") or ""), ""))
        plan = record.questions.get(need_id)
        if plan is None:
            continue
        due = record.due(plan)
        _set(need, "status", "answered" if plan.answered else "open")
        _set(need, "urgency", plan.priority)
        _set(need, "due", due.isoformat() if due else "")
        rank = PRIORITIES.index(plan.priority) if plan.priority in PRIORITIES else len(PRIORITIES)
        _set(need, "agenda_order", f"{rank}-{due.isoformat() if due else '9999'}-{need_id}")
        _set(need, "blocks", [b for b in plan.blocks if b in needs])
        if plan.answered:
            _set(need, "answer", plan.answer)
            _set(need, "answered_by", plan.answered_by)
            _set(need, "answered_on", plan.answered_on)
            _set(need, "answer_record", plan.record)


def _plain(needs: Any) -> dict[str, dict[str, Any]]:
    """The needs as needs.json would hold them (links as id strings), by id."""
    plain: dict[str, dict[str, Any]] = json.loads(
        json.dumps({need_id: dict(need.items()) for need_id, need in needs.items()}, default=str)
    )
    return plain


def on_needs_before_sealing(app: Sphinx, needs: Any) -> None:
    docs = _docs(app)
    if _record(app) is None:
        return
    plain = _plain(needs)
    stored, findings = fingerprints.load_stored(docs)
    report(findings, repo_root(app))
    state = fingerprints.compute_state(plain, stored, docs)
    for need_id, need in needs.items():  # every need: a page not re-read keeps last build's values
        changed = state.suspects.get(need_id, [])
        reviewed = stored.get(need_id, {})
        reasons = [f"{up} {'changed' if up in reviewed else 'not reviewed'}" for up in changed]
        _set(need, "suspect", "; ".join(reasons))
        # the CSS class needs_style_suspect marks the item (docs/_static/spec.css)
        styles = [s for s in str(need.get("style") or "").split(",") if s.strip() and s.strip() != "suspect"]
        _set(need, "style", ",".join([*styles, "suspect"] if changed else styles) or None)
    out = Path(app.outdir) / fingerprints.STATE_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(state.to_json(), encoding="utf-8")
    app._futurebank_snapshot = {  # type: ignore[attr-defined]
        "needs": {need_id: baseline.need_fields(fields) for need_id, fields in plain.items()},
        "contracts": baseline.contract_elements(docs),
    }


# --- generated MyST --------------------------------------------------------------------------------------


def render_status_counts(record: Record) -> str:
    counts: Counter[tuple[str, str]] = Counter()
    for item in record.items.values():
        need_type = TYPE_OF_PREFIX.get(item.id.split("-", 1)[0], "")
        counts[(need_type, item.status)] += 1
    rows = []
    for need_type, name in DECISION_TYPES.items():
        cells = [str(counts[(need_type, status)]) for status in STATUSES]
        rows.append([name, *cells, str(sum(counts[(need_type, s)] for s in STATUSES))])
    totals = [str(sum(counts[(t, s)] for t in DECISION_TYPES)) for s in STATUSES]
    rows.append(["**all**", *totals, str(sum(counts.values()))])
    return md_table(["Items", *STATUSES, "total"], rows)


def workshop_status_counts(app: Sphinx) -> str:
    record = _record(app)
    if record is None:
        return "The spec has no workshop record (docs/workshop/record.yaml).\n"
    return render_status_counts(record)


def _question_table(filter_expr: str, sort: str = "agenda_order") -> str:
    return (
        "```{needtable}\n:types: question\n"
        f":filter: {filter_expr}\n"
        ':columns: id, title, owner, urgency as "priority", due, blocks\n'
        f":style: table\n:sort: {sort}\n```\n"
    )


def workshop_m0_questions(app: Sphinx) -> str:
    return _question_table('urgency == "blocks-m0" and status == "open"')


def workshop_roles(app: Sphinx) -> str:
    record = _record(app)
    if record is None:
        return ""
    rows = (
        [
            f"`{role.id}`",
            md_escape(role.title),
            md_escape("; ".join(role.owners)) or "(decides, asks nothing)",
        ]
        for role in record.roles.values()
    )
    return md_table(["Role", "Title", "Question owners that map to it"], rows)


def workshop_agenda(app: Sphinx) -> str:
    """Open questions grouped by owner role, ordered by priority and due date, with what each blocks."""
    record = _record(app)
    if record is None:
        return ""
    parts = []
    for role in record.roles.values():
        if not role.owners:
            continue
        parts.append(f"## {md_escape(role.title)}\n\n")
        parts.append(_question_table(f'owner_role == "{role.id}" and status == "open"'))
        parts.append("\n")
    return "".join(parts)


def workshop_merged(app: Sphinx) -> str:
    record = _record(app)
    if record is None or not record.merged:
        return "No question has been merged.\n"
    rows = ([f"`{old}`", f"{{need}}`{new}`"] for old, (new, _) in sorted(record.merged.items()))
    return md_table(["Merged id", "Answered as"], rows)


def workshop_suspects(app: Sphinx) -> str:
    return (
        "```{needtable}\n"
        ':filter: suspect != ""\n'
        ':columns: id, type_name as "type", title, suspect as "upstream that changed"\n'
        ":style: table\n:sort: id\n```\n"
    )


def workshop_changes(app: Sphinx) -> str:
    return "```{workshop-changes}\n```\n"


# --- {workshop-changes}: filled once the needs are final ---------------------------------------------------


class changes_placeholder(nodes.General, nodes.Element):  # type: ignore[misc]
    pass


class WorkshopChanges(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        return [changes_placeholder()]


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
    head = nodes.thead()
    body = nodes.tbody()
    group += [head, body]
    for target, cells in ((head, [header]), (body, rows)):
        for cells_row in cells:
            row = nodes.row()
            for cell in cells_row:
                entry = nodes.entry()
                entry += nodes.paragraph(text=cell)
                row += entry
            target += row
    return table


def render_changes_nodes(name: str, commit: str, changes: baseline.Changes) -> list[nodes.Node]:
    out: list[nodes.Node] = [nodes.paragraph(text=f"Compared with baseline {name} (commit {commit}).")]
    if changes.empty():
        out.append(nodes.paragraph(text="Nothing has changed since that baseline."))
        return out
    summary = (
        f"{len(changes.added)} items added, {len(changes.removed)} removed, {len(changes.changed)} changed; "
        f"{len(changes.status_changes)} status changes; contract elements: {len(changes.contracts_added)} "
        f"added, {len(changes.contracts_removed)} removed, {len(changes.contracts_changed)} changed."
    )
    out.append(nodes.paragraph(text=summary))
    if changes.status_changes:
        rows = [
            [need_id, c.field, baseline.short(c.old), baseline.short(c.new)]
            for need_id, c in changes.status_changes
        ]
        out += [nodes.rubric(text="Status changes"), _table(["Item", "Field", "Old", "New"], rows)]
    if changes.added or changes.removed:
        rows = [["added", i] for i in changes.added] + [["removed", i] for i in changes.removed]
        out += [nodes.rubric(text="Items added and removed"), _table(["Change", "Item"], rows)]
    if changes.changed:
        rows = [
            [need_id, c.field, baseline.short(c.old), baseline.short(c.new)]
            for need_id, fields in changes.changed.items()
            for c in fields
        ]
        out += [nodes.rubric(text="Fields changed"), _table(["Item", "Field", "Old", "New"], rows)]
    contract_rows = (
        [["added", k] for k in changes.contracts_added]
        + [["removed", k] for k in changes.contracts_removed]
        + [["changed", k] for k in changes.contracts_changed]
    )
    if contract_rows:
        out += [nodes.rubric(text="Contract elements"), _table(["Change", "Element"], contract_rows)]
    return out


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for placeholder in list(doctree.findall(changes_placeholder)):
        current = getattr(app, "_futurebank_snapshot", None)
        latest = baseline.latest_baseline(_docs(app))
        if current is None or latest is None:
            placeholder.replace_self(nodes.paragraph(text="No baseline yet: run `futurebank baseline NAME`."))
            continue
        frozen = baseline.load_baseline(latest)
        changes = baseline.diff(frozen, current)
        placeholder.replace_self(render_changes_nodes(str(frozen["name"]), str(frozen["commit"]), changes))


def rewrite_all(app: Sphinx, env: Any) -> list[str]:
    """Suspect markers and statuses depend on items on other pages: write every page each build."""
    return sorted(env.found_docs) if present(_docs(app)) else []


def setup_events(app: Sphinx) -> None:
    app.add_node(changes_placeholder)
    app.add_directive("workshop-changes", WorkshopChanges)
    app.connect("source-read", on_source_read)
    app.connect("needs-before-post-processing", on_needs_before_post_processing)
    app.connect("needs-before-sealing", on_needs_before_sealing)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-updated", rewrite_all)


GENERATORS: dict[str, Generator] = {
    "workshop-status-counts": workshop_status_counts,
    "workshop-m0-questions": workshop_m0_questions,
    "workshop-roles": workshop_roles,
    "workshop-agenda": workshop_agenda,
    "workshop-merged": workshop_merged,
    "workshop-suspects": workshop_suspects,
    "workshop-changes": workshop_changes,
}
