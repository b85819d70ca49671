"""schemathesis against the API's own OpenAPI document, on real API processes in every cache mode.

Every operation (the ``/debug`` ones too: the APIs run with them on) through schemathesis' phases
(boundary coverage, then random fuzzing) and all of its checks: no 5xx, documented status codes and
content types, bodies that match their declared schema, bad input rejected, good input accepted. Plus
ours (``fuzz_checks.py``): every error answer is JSON of the one documented shape. ``FUZZ_EXAMPLES``
sets the examples per operation: a few in ``make test``, many in ``make fuzz``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaklab.procs import ApiServer, RedisServer, free_port

from ..conftest import require_binary

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
# redis-down: redis mode with nothing listening at its URL, so /readyz answers 503 and /data bypasses
MODES = ("leaky", "lru", "redis", "redis-down")


@pytest.fixture(params=MODES)
def fuzzed_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiServer]:
    """A real ``leaklab api`` with the debug endpoints on, in each mode (Redis: a real redis-server)."""
    mode: str = request.param
    redis = None
    extra = ["--debug", "--origin-latency-ms", "0"]
    if mode == "redis":
        require_binary("redis-server")
        redis = RedisServer(tmp_path, maxmemory="16mb")
        extra += ["--redis-url", redis.url]
    elif mode == "redis-down":
        extra += ["--redis-url", f"redis://127.0.0.1:{free_port()}/0"]
    api = ApiServer(tmp_path, mode.removesuffix("-down"), extra_args=extra, env={"LEAKLAB_REDIS_TIMEOUT_MS": "50"})
    yield api
    api.stop()
    if redis is not None:
        redis.stop()


def run_schemathesis(url: str, report: Path, examples: int) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{url}/openapi.json", "--url", url,
        "--checks", "all", "--max-examples", str(examples), "--continue-on-failure",
        "--request-timeout", "10", "--no-color", "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.reliability.fuzz_checks", "PYTHONPATH": str(PROJECT)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env, cwd=PROJECT)


@pytest.mark.slow
def test_every_operation_answers_as_documented(fuzzed_api: ApiServer, tmp_path: Path) -> None:
    done = run_schemathesis(fuzzed_api.url, tmp_path / "schemathesis.json", EXAMPLES)
    report = json.loads((tmp_path / "schemathesis.json").read_text())
    print(f"{fuzzed_api.name}: {report['test_cases']['generated']} test cases generated")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert report["operations"]["tested"] == report["operations"]["total"] >= 7  # /debug/* included
    # schemathesis stops early on small input spaces (e.g. /healthz has none): a floor, not EXAMPLES x 7
    assert report["test_cases"]["generated"] >= report["operations"]["total"] * min(EXAMPLES, 10)
    assert fuzzed_api.alive()
    assert "Traceback" not in fuzzed_api.log_tail(200)
