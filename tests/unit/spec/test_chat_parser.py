"""The chat parser: the seed reproduces the committed data; malformed input names the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from futurebank.spec.chat import ChatParseError, dump_messages, parse_chat, parse_file

REPO = Path(__file__).resolve().parents[3]
SEED = REPO.parent / "shared" / "seeds" / "000_cf57a7d67fd07831.txt"
COMMITTED = REPO / "docs" / "chat" / "messages.yaml"
SEPARATOR = "═" * 20

GOOD = f"""ПЕРЕПИСКА В WHATSAPP
Участники: @a, @b
Период: 01.01.2024 - 01.01.2024

{SEPARATOR}

@a 01.01.2024 09:00
Первая строка
- пункт

@b 01.01.2024 09:15
Спасибо!
"""


def test_parses_messages_with_ids_times_and_text() -> None:
    messages = parse_chat(GOOD)
    assert [m.id for m in messages] == ["MSG-0001", "MSG-0002"]
    assert messages[0].author == "@a"
    assert messages[0].text_ru == "Первая строка\n- пункт"
    assert messages[0].sent_at.isoformat() == "2024-01-01T09:00:00+03:00"
    assert messages[1].line == 11


@pytest.mark.skipif(not SEED.exists(), reason="shared/ seed not beside the repo")
def test_seed_has_81_messages_and_reproduces_committed_data() -> None:
    messages = parse_file(SEED)
    assert len(messages) == 81
    assert messages[-1].id == "MSG-0081"
    assert dump_messages(messages, SEED.name) == COMMITTED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (GOOD.replace("@a 01.01.2024 09:00", "@a 1.1.2024 9:00"), 7, "malformed message header"),
        (GOOD.replace("@a 01.01.2024 09:00", "@a 31.02.2024 09:00"), 7, "invalid date"),
        (GOOD.replace("@b 01.01.2024 09:15\nСпасибо!", "@b 01.01.2024 09:15"), 11, "no text below it"),
        (GOOD.replace("@b 01.01.2024 09:15", "@b 01.01.2024 08:15"), 11, "older than the one before"),
        (GOOD.replace("Период:", "Мусор:"), 3, "before the first separator"),
        (GOOD.replace("@a 01.01.2024 09:00\n", ""), 7, "text outside any message"),
        ("", 1, "no messages found"),
    ],
)
def test_malformed_input_names_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ChatParseError) as excinfo:
        parse_chat(text, source="chat.txt")
    assert excinfo.value.line_no == line
    assert reason in str(excinfo.value)
    assert str(excinfo.value).startswith(f"chat.txt:{line}:")


def test_cli_check_detects_drift(tmp_path: Path) -> None:
    from futurebank.cli import main

    seed = tmp_path / "seed.txt"
    seed.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "messages.yaml"
    assert main(["chat", "parse", "--seed", str(seed), "--out", str(out)]) == 0
    assert main(["chat", "check", "--seed", str(seed), "--out", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("Спасибо!", "Спасибо."), encoding="utf-8")
    assert main(["chat", "check", "--seed", str(seed), "--out", str(out)]) == 1


def test_cli_reports_parse_error_with_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from futurebank.cli import main

    seed = tmp_path / "seed.txt"
    seed.write_text(GOOD.replace("@a 01.01.2024 09:00", "@a 31.02.2024 09:00"), encoding="utf-8")
    assert main(["chat", "parse", "--seed", str(seed), "--out", str(tmp_path / "m.yaml")]) == 2
    assert f"{seed}:7:" in capsys.readouterr().err
