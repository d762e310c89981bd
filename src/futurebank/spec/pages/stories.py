"""Generated story pages: each story with its Gherkin scenarios, the step vocabulary, the seed data.

The story checks of ``futurebank.spec.stories`` run with every other check in
``futurebank.spec.sphinx_ext.report_checks``, so ``sphinx-build -W`` fails on a broken acceptance suite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, md_escape, md_table, repo_root
from futurebank.spec.rules import SpecFileError
from futurebank.spec.stories import (
    VOCABULARY_GROUPS,
    Feature,
    Scenario,
    Seed,
    StoryRecord,
    load_features,
    load_run_results,
    load_seed,
    load_stories,
    scenarios_by_story,
)

# The latest sandbox acceptance run, written by the acceptance tier: scenario name -> passed/failed.
RESULTS_FILE = Path("build") / "acceptance" / "results.json"


def _paths(app: Sphinx) -> tuple[Path, Path, Path, Path]:
    src = Path(app.srcdir)
    return src / "stories", src / "stories" / "features", src / "stories" / "seed.yaml", repo_root(app)


def sandbox_run_status(scenario: Scenario, results: Mapping[str, str] | None) -> str:
    """The hook that shows the latest sandbox run of one scenario (real state, read at build time)."""
    if not scenario.in_sandbox:
        return "runs outside the sandbox (`@not-in-sandbox`)"
    if results is None:
        return "not run yet"
    outcome = results.get(scenario.name)
    if outcome is None:
        return "not part of the latest run"
    return f"**{md_escape(outcome)}**"


def _fence(text: str, language: str = "gherkin") -> str:
    return f"````{language}\n{text}\n````\n"


def _story_section(
    story: StoryRecord, scenarios: Sequence[Scenario], results: Mapping[str, str] | None
) -> list[str]:
    failures = sum(1 for s in scenarios if s.is_failure)
    parts = [
        f"({_label(story.id)})=",
        f"### {story.id} {md_escape(story.title)}\n",
        f"{{need}}`{story.id}` · priority *{story.priority}* · release *{story.release}* · "
        f"{len(scenarios)} scenario(s), {failures} failure path(s)\n",
    ]
    if not scenarios:
        if story.release == "later":
            parts.append(
                "No scenario yet: the story is in a later release (see its *Why later*"
                " and its written acceptance criteria).\n"
            )
        else:
            parts.append("No scenario specifies this story.\n")
    for scenario in scenarios:
        where = f"{scenario.path}:{scenario.line}"
        parts.append(
            f"**{md_escape(scenario.name)}**  \n"
            f"`{where}` · latest sandbox run: {sandbox_run_status(scenario, results)}\n"
        )
        parts.append(_fence(scenario.gherkin()))
    return parts


def _label(story_id: str) -> str:
    return f"acceptance-{story_id.lower()}"


def render_scenarios(
    records: Sequence[StoryRecord], features: Sequence[Feature], results: Mapping[str, str] | None
) -> str:
    stories = sorted((r for r in records if r.kind == "story"), key=lambda r: r.id)
    epics = sorted((r for r in records if r.kind == "epic"), key=lambda r: r.id)
    by_story = scenarios_by_story(features)
    feature_of_epic = {e: f for f in features for e in f.epic_ids}
    parts: list[str] = ["## Summary\n"]
    all_scenarios = [s for f in features for s in f.scenarios]
    ran = [s for s in all_scenarios if s.in_sandbox]
    outcomes = [results.get(s.name) if results else None for s in ran]
    counts = {o: outcomes.count(o) for o in ("passed", "failed", "skipped")}
    missing = len(ran) - sum(counts.values())
    run_text = (
        "not run yet"
        if results is None
        else ", ".join(f"{n} {o}" for o, n in counts.items()) + f", {missing} not in the run"
    )
    parts.append(
        f"{len(stories)} stories, {len(all_scenarios)} scenarios "
        f"({sum(1 for s in all_scenarios if s.is_failure)} failure paths); "
        f"{len(ran)} run in the sandbox. Latest sandbox run: {run_text}.\n"
    )
    parts.append("| Story | Priority | Release | Scenarios | Failure paths |\n|---|---|---|---|---|")
    for story in stories:
        found = by_story.get(story.id, [])
        parts.append(
            f"| {{ref}}`{story.id} <{_label(story.id)}>` {md_escape(story.title)} | {story.priority} | "
            f"{story.release} | {len(found)} | {sum(1 for s in found if s.is_failure)} |"
        )
    parts.append("")
    for epic in epics:
        parts.append(f"## {epic.id} {md_escape(epic.title)}\n")
        feature = feature_of_epic.get(epic.id)
        if feature is not None:
            parts.append(f"{{need}}`{epic.id}` · feature file `{feature.path}`\n")
            if feature.background:
                parts.append("Background, run before every scenario of this epic:\n")
                parts.append(_fence("\n".join(line for st in feature.background for line in st.gherkin(""))))
        else:
            parts.append(f"{{need}}`{epic.id}` · no feature file is tagged `@{epic.id}`.\n")
        for story in stories:
            if epic.id in story.links("refines"):
                parts += _story_section(story, by_story.get(story.id, []), results)
    return "\n".join(parts) + "\n"


def story_scenarios(app: Sphinx) -> str:
    """Every story with its scenarios and latest run (the checks run in ``sphinx_ext.report_checks``)."""
    stories_dir, features_dir, seed_path, root = _paths(app)
    results_path = root / RESULTS_FILE
    for dependency in [*stories_dir.glob("*.md"), *features_dir.glob("*.feature"), seed_path, results_path]:
        app.env.note_dependency(str(dependency))
    features, _ = load_features(features_dir, root)
    return render_scenarios(load_stories(stories_dir, root), features, load_run_results(results_path))


def story_steps(app: Sphinx) -> str:
    """The step vocabulary, from the same definitions the checker enforces."""
    parts: list[str] = []
    for title, patterns in VOCABULARY_GROUPS:
        parts.append(f"### {title}\n")
        parts.append("| Step | Meaning | Sandbox |\n|---|---|---|")
        for pattern in patterns:
            step = pattern.template + (' + docstring `"""json … """`' if pattern.docstring else "")
            parts.append(f"| `{step}` | {pattern.meaning} | {'yes' if pattern.sandbox else 'no'} |")
        parts.append("")
    return "\n".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return md_escape(str(value))


def _table(records: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    return md_table(
        [title for _, title in columns], ([_cell(r.get(key)) for key, _ in columns] for r in records)
    )


def render_seed(seed: Seed) -> str:
    parts = [f"Seed as of {md_escape(str(seed.data.get('as_of', '')))}.\n"]
    sections: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("Client apps", "clients", [("alias", "Alias"), ("name", "Name"), ("kind", "Kind")]),
        (
            "Customers",
            "customers",
            [
                ("alias", "Alias"),
                ("customer_id", "customer_id"),
                ("full_name", "Name"),
                ("birth_date", "Born"),
                ("email", "E-mail"),
                ("phone", "Phone"),
                ("persona", "Persona"),
            ],
        ),
        (
            "Accounts",
            "accounts",
            [
                ("alias", "Alias"),
                ("account_id", "account_id"),
                ("customer", "Customer"),
                ("number", "Number"),
                ("kind", "Kind"),
                ("currency", "Currency"),
                ("overdraft_limit", "Overdraft"),
                ("balances", "Balances"),
                ("opened_at", "Opened"),
            ],
        ),
        (
            "Transactions",
            "transactions",
            [
                ("alias", "Alias"),
                ("transaction_id", "transaction_id"),
                ("account", "Account"),
                ("status", "Status"),
                ("credit_debit_indicator", "CDI"),
                ("amount", "Amount"),
                ("currency", "Cur."),
                ("occurred_at", "At"),
                ("merchant", "Merchant"),
                ("description", "Description"),
            ],
        ),
        (
            "Cards",
            "cards",
            [
                ("alias", "Alias"),
                ("card_id", "card_id"),
                ("customer", "Customer"),
                ("account", "Account"),
                ("masked_pan", "Masked PAN"),
                ("scheme", "Scheme"),
                ("expiry", "Expiry"),
                ("status", "Status"),
                ("locked", "Locked"),
            ],
        ),
        (
            "Consents",
            "consents",
            [
                ("alias", "Alias"),
                ("consent_id", "consent_id"),
                ("customer", "Customer"),
                ("client", "Client app"),
                ("permissions", "Permissions"),
                ("status", "Status"),
                ("created_at", "Created"),
                ("expires_at", "Expires"),
            ],
        ),
        (
            "Payments",
            "payments",
            [
                ("alias", "Alias"),
                ("payment_id", "payment_id"),
                ("customer", "Customer"),
                ("debtor_account", "Debtor"),
                ("creditor_account_number", "Creditor number"),
                ("amount", "Amount"),
                ("currency", "Cur."),
                ("status", "Status"),
                ("created_at", "Created"),
            ],
        ),
    ]
    for title, collection, columns in sections:
        parts.append(f"### {title}\n")
        parts.append(_table(seed.records(collection), columns))
    return "\n".join(parts)


def story_seed(app: Sphinx) -> str:
    """The seed contract as tables (the file itself is the source the sandbox reads)."""
    _, _, seed_path, root = _paths(app)
    app.env.note_dependency(str(seed_path))
    if not seed_path.is_file():
        return "The seed file `docs/stories/seed.yaml` is missing.\n"
    try:
        return render_seed(load_seed(seed_path, root))
    except SpecFileError:  # reported with its line by the story checks
        return ""


GENERATORS: dict[str, Generator] = {
    "story-scenarios": story_scenarios,
    "story-steps": story_steps,
    "story-seed": story_seed,
}
