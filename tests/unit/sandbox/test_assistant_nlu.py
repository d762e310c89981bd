"""The scikit-learn understanding: deterministic training, the fast scorer equal to the pipeline, and a
slice of the held-out evaluation at or above the release targets (NFR-0028; latency is measured by
``make eval-assistant``, not in a timed test)."""

from __future__ import annotations

import numpy as np

from futurebank.assistant_eval import TARGETS, failures, run
from futurebank.sandbox.adapters.assistant_nlu import (
    ASSISTANT_DATA,
    default_understander,
    load_utterances,
    train,
)


def test_training_is_deterministic_and_the_fast_scorer_equals_the_pipeline() -> None:
    rows = load_utterances(ASSISTANT_DATA / "training.yaml")
    first, second = default_understander(), train(rows)
    probes = [t for _, t, _ in load_utterances(ASSISTANT_DATA / "evaluation.yaml")[::16]]
    for text in probes:
        fast = first.scorer.probabilities(text)
        assert np.allclose(fast, first.pipeline.predict_proba([text])[0], atol=1e-12), text
        assert np.array_equal(fast, second.scorer.probabilities(text)), text


def test_an_evaluation_slice_meets_the_targets() -> None:
    rows = load_utterances(ASSISTANT_DATA / "evaluation.yaml")[::2]
    result = run(rows)
    quality = [f for f in failures(result) if "latency" not in f]
    assert not quality, quality
    for language in ("ru", "en"):
        assert result["languages"][language]["macro_f1"] >= TARGETS["macro_f1_min"]
        assert result["languages"][language]["wrong_facts"] == 0
