"""The one way a finding reaches the author: a Sphinx warning ``file:line: <item> breaks <rule>: …``.

With ``sphinx-build -W`` any report fails the build. The warning's type is ``futurebank`` and its subtype
the rule's family (``futurebank.contract``, ``futurebank.stories``, …), shown after the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sphinx.util import logging

from futurebank.spec.rules import RULES, Finding

logger = logging.getLogger(__name__)


def report(findings: Iterable[Finding], root: Path | None = None) -> None:
    """Warn once per finding, its file relative to ``root`` (the repository) when inside it."""
    for finding in findings:
        logger.warning(
            "%s",
            finding.message(),
            location=finding.located(root),
            type="futurebank",
            subtype=RULES[finding.rule].family,
        )
