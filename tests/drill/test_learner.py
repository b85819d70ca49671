"""For every scenario: an automated learner finds the hidden leak and is graded correct, and the
scenario's name shows in no response, no metric and no log line (only, once tracing runs, inside the
allocation sites' file paths: the evidence the learner is meant to find)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from leaklab.drill.catalogue import SCENARIOS, leak
from leaklab.drill.grading import grade, parse
from leaklab.drill.lab import DrillLab, DrillLoad
from leaklab.procs import http_get
from leaklab.scrape import parse_metrics

from .learner import investigate

RESULTS = Path(__file__).resolve().parents[2] / "reports" / "drills" / "learner-results.json"
# source paths are the evidence, not the name: "services/api/leaklab_api/scenarios/memoize.py:23"
# what the lab says in every scenario (a metric's help text explains "native memory")
GENERIC = re.compile(r"native memory")
SITE_PATH = re.compile(r"(services/api/)?leaklab_api/(scenarios|cache)/\w+\.py(:\d+)?")
# and so are the allocating lines' source text: in /metrics labels and in /debug/memory's JSON
SOURCE_TEXT = re.compile(r'(line="(?:[^"\\]|\\.)*")|("(?:line|caller)":\s*"(?:[^"\\]|\\.)*")')


def _secret_words(scenario: str) -> set[str]:
    # the story's scenario is told by its cache mode, "leaky"
    words = {scenario, scenario.replace("-", "_"), scenario.replace("-", " ")}
    return {"leaky"} if scenario == "cache" else words


def _every_get(port: int) -> dict[str, tuple[int, dict[str, str], str]]:
    """Every GET route the API lists in its OpenAPI document (none take a required parameter), the pages
    it leaves out of it (/metrics, /docs, /redoc), and the document itself: status, headers, body."""
    status, _, body = http_get(port, "/openapi.json", 10.0)
    assert status == 200
    paths = json.loads(body)["paths"]
    responses = {}
    for path in ["/openapi.json", "/metrics", "/docs", "/redoc", *paths]:
        if path in paths and "get" not in paths[path]:
            continue
        status, headers, body = http_get(port, path, 30.0)
        responses[path] = (status, headers, body.decode(errors="replace"))
    assert {"/data", "/healthz", "/readyz", "/debug/memory"} <= set(responses)
    return responses


def _assert_hidden(responses: dict[str, tuple[int, dict[str, str], str]], scenario: str) -> None:
    for where, (status, headers, body) in responses.items():
        text = f"{status} {json.dumps(headers)} {body}"
        visible = GENERIC.sub("<generic>", SITE_PATH.sub("<site>", SOURCE_TEXT.sub("<source>", text)).lower())
        for word in _secret_words(scenario):
            assert word not in visible, f"{word!r} shows in {where}"


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_learner_finds_the_hidden_leak_and_the_name_never_shows(scenario: str, tmp_path: Path) -> None:
    lab = DrillLab(tmp_path, leak(scenario), DrillLoad(users=0), drive_load=False)
    try:
        lab.start()
        before = _every_get(lab.port)
        info = [k for k in parse_metrics(before["/metrics"][2]) if k.startswith("leaklab_info")]
        assert info and all('mode="hidden"' in k and 'scenario="hidden"' in k and 'fixed="hidden"' in k for k in info)
        assert json.loads(before["/healthz"][2])["mode"] == "hidden"

        finding = investigate(lab.port, tmp_path / "attach")
        after = _every_get(lab.port)  # tracing on: allocation sites in /metrics and /debug/memory
    finally:
        lab.stop()
    _assert_hidden(before, scenario)
    _assert_hidden(after, scenario)
    _assert_hidden({"api.log": (0, {}, (tmp_path / "logs" / "api.log").read_text())}, scenario)

    result = grade(parse(finding.answer), leak(scenario), seconds=finding.seconds, hints=0)
    _record(scenario, finding, result.correct, result.where)
    assert result.correct, f"{finding.answer}: {result.feedback} ({finding.evidence})"


def _record(scenario: str, finding: object, correct: bool, where: str) -> None:
    """Keep each result for the closing note (reports/ is git-ignored)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[scenario] = {**vars(finding), "correct": correct, "graded": where}
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
