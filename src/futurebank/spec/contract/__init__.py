"""Checks of the API contract: OpenAPI, AsyncAPI and the entity schemas, against each other and the stories.

Every check returns :class:`~futurebank.spec.rules.Finding` objects that name the file, the line (and JSON
pointer), the item (``OP-createPayment``, ``ENT-Account``, ``EVT-paymentCompleted``, a schema or example)
and a rule id of :data:`futurebank.spec.rules.RULES`. The Sphinx build reports them as warnings (``-W``
fails it, see ``futurebank.spec.sphinx_ext``), and the tests call the same functions on broken fixtures.
Spectral is a separate check (:func:`run_spectral`) because it needs Node; the tests require it, the Sphinx
build does not.

One module per responsibility:

* ``model``: the contract files loaded with lines, the constants of the guidelines, navigation helpers;
* ``examples`` (R-30), ``validity`` (R-31), ``traceability`` (R-32 to R-34), ``entities`` (R-35 to R-37),
  ``conventions`` (R-38 to R-40, R-42), ``asyncapi`` (R-41), ``spectral`` (R-43), ``codes`` (R-84, the
  table of stable error codes);
* ``checks``: :func:`check_contract`, every Python-side check in one call.
"""

from futurebank.spec.contract.checks import check_contract
from futurebank.spec.contract.entities import compare_schemas
from futurebank.spec.contract.model import (
    ENTITY_SUFFIX,
    PROBLEM_CODES_FILE,
    RULES,
    STORIES_SERVED_BY_EVERY_OPERATION,
    STORIES_WITHOUT_API,
    Contract,
    Operation,
    Story,
    deref,
    entity_of,
    event_entities,
    exposed_entities,
    load_contract,
    stories_from_markdown,
)
from futurebank.spec.contract.spectral import SPECTRAL_INSTALL_HINT, run_spectral, spectral_binary
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import load_located

__all__ = [
    "ENTITY_SUFFIX",
    "PROBLEM_CODES_FILE",
    "RULES",
    "SPECTRAL_INSTALL_HINT",
    "STORIES_SERVED_BY_EVERY_OPERATION",
    "STORIES_WITHOUT_API",
    "Contract",
    "Finding",
    "Operation",
    "Story",
    "check_contract",
    "compare_schemas",
    "deref",
    "entity_of",
    "event_entities",
    "exposed_entities",
    "load_contract",
    "load_located",
    "run_spectral",
    "spectral_binary",
    "stories_from_markdown",
]
