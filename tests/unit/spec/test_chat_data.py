"""The chat data join (futurebank.spec.chat_data): the committed files join cleanly, and each broken copy
raises a SpecFileError naming the file, the line and the rule (R-14 to R-18)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from futurebank.spec.chat_data import load_chat
from futurebank.spec.rules import SpecFileError

CHAT = Path(__file__).resolve().parents[3] / "docs" / "chat"


def chat_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "chat"
    copy.mkdir()
    for name in ("messages.yaml", "participants.yaml", "annotations.yaml"):
        shutil.copy(CHAT / name, copy / name)
    return copy


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if not old:  # append
        path.write_text(text + new, encoding="utf-8")
        return
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_committed_chat_data_joins() -> None:
    messages = load_chat(CHAT)
    assert messages and all(m.text_en for m in messages)


# rule -> (file, text to replace, replacement, text the detail names)
BREAKAGES: dict[str, tuple[str, str, str, str]] = {
    "R-14-chat-annotation-known": (
        "annotations.yaml",
        "  MSG-0001:\n",
        "  MSG-0999:\n  MSG-0001:\n",
        "MSG-0999",
    ),
    "R-15-chat-annotation-present": (
        "messages.yaml",
        "messages:\n- id: MSG-0001\n",
        "messages:\n- id: MSG-0999\n  sent_at: '2024-08-29T08:00:00+03:00'\n  author: '@future_team'\n"
        "  text_ru: Тест\n- id: MSG-0001\n",
        "MSG-0999",
    ),
    # appended: a second MSG-0001 key replaces the first (YAML keeps the last) with a plain string
    "R-16-chat-annotation-shape": ("annotations.yaml", "", "  MSG-0001: just text\n", "MSG-0001"),
    "R-17-chat-translation-present": (
        "annotations.yaml",
        "  MSG-0001:\n    en: |-\n",
        "  MSG-0001:\n    fr: |-\n",
        "MSG-0001",
    ),
    "R-18-chat-participant-known": (
        "participants.yaml",
        '  "@bank_ceo":\n',
        '  "@bank_chief":\n',
        "@bank_ceo",
    ),
    "R-01-msg-disposition": (
        "annotations.yaml",
        "    disposition: requirement\n",
        "    disposition: wish\n",
        "wish",
    ),
    "R-44-yaml-syntax": ("participants.yaml", "participants:\n", "participants: [\n", ""),
}


# where the error is reported when that is not the file edited: the annotation that is missing
REPORTED_IN = {"R-15-chat-annotation-present": "annotations.yaml"}


@pytest.mark.parametrize("rule", sorted(BREAKAGES))
def test_broken_chat_data_names_file_line_and_rule(rule: str, tmp_path: Path) -> None:
    file, old, new, named = BREAKAGES[rule]
    chat = chat_copy(tmp_path)
    replace_once(chat / file, old, new)
    with pytest.raises(SpecFileError) as caught:
        load_chat(chat)
    error = caught.value
    assert error.rule == rule, str(error)
    reported = REPORTED_IN.get(rule, file)
    assert Path(error.path).name == reported
    assert error.line >= 1
    assert named in error.detail
    assert f"{reported}:{error.line}: " in str(error) and f" breaks {rule}: " in str(error)
