"""Grading against the catalogue's own facts: right answers in every accepted form, wrong and malformed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaklab.drill.catalogue import SCENARIOS, leak
from leaklab.drill.grading import grade, parse

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_marks_one_leaking_line_inside_a_function(scenario: str) -> None:
    facts = leak(scenario)
    source = (REPO / facts.path).read_text().splitlines()
    assert facts.source == source[facts.line - 1].strip() and not facts.source.startswith("#")
    assert facts.first_line <= facts.line <= facts.last_line
    assert facts.function != "<module>"
    assert facts.kind == ("native" if scenario == "native" else "python")
    assert len(facts.explanation) > 200  # the docstring the drill prints after the answer


def _grade(text: str, scenario: str = "cache") -> tuple[bool, str, bool]:
    result = grade(parse(text), leak(scenario), seconds=12.5, hints=1)
    assert result.seconds == 12.5 and result.hints == 1
    return result.correct, result.where, result.kind_correct


@pytest.mark.parametrize(
    "answer",
    [
        "services/api/leaklab_api/cache/leaky.py:{line} python",
        "leaky.py:{line} python",
        "cache/leaky.py:{line} py",
        "/app/leaklab_api/cache/leaky.py:{line} python",
    ],
)
def test_the_leaking_line_is_graded_correct_in_any_path_form(answer: str) -> None:
    assert _grade(answer.format(line=leak("cache").line)) == (True, "line", True)


@pytest.mark.parametrize(
    "answer",
    ["leaky.LeakyCache.put python", "leaky:put python", "cache/leaky.py:put python", "leaky.py:{first} python"],
)
def test_the_module_and_function_are_graded_correct(answer: str) -> None:
    assert _grade(answer.format(first=leak("cache").first_line)) == (True, "function", True)


def test_a_wrong_line_is_graded_wrong() -> None:
    facts = leak("cache")
    assert _grade(f"leaky.py:{facts.last_line + 3} python") == (False, "wrong", True)
    assert _grade(f"lru.py:{facts.line} python") == (False, "wrong", True)
    assert _grade("lru.LruCache.put python") == (False, "wrong", True)


def test_a_wrong_class_is_graded_wrong_even_on_the_right_line() -> None:
    facts = leak("cache")
    assert _grade(f"leaky.py:{facts.line} native") == (False, "line", False)
    assert _grade(f"scenarios/native.py:{leak('native').line} python", "native") == (False, "line", False)


@pytest.mark.parametrize("answer", ["", "leaky.py:24", "leaky.py:24 python extra", "leaky.py:24 rust", "::: python"])
def test_a_malformed_answer_is_graded_with_the_rule_not_raised(answer: str) -> None:
    result = grade(parse(answer), leak("cache"), seconds=1.0, hints=0)
    assert not result.correct and result.where == "malformed"
    assert "WHERE CLASS" in result.feedback
