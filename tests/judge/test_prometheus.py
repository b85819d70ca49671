"""``leaklab judge --prometheus``: a real Prometheus, backfilled with six hours of two pods' memory.

``promtool tsdb create-blocks-from openmetrics`` writes the known series into a data directory; a
``prometheus`` started on it answers ``query_range`` over hours of data at once, as it would in production.
The same Prometheus checks that the ``predict_linear`` baseline computes what Prometheus computes.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pytest

from leaklab.judge.baselines import predicted
from leaklab.judge.command import main
from leaklab.procs import free_port

from ..conftest import require_binary
from ..prometheus.lab_config import PrometheusServer

MIB = 1024 * 1024
HOURS = 6
STEP_S = 15.0
QUERY = "container_memory_working_set_bytes"


def pods(end: float) -> dict[str, list[tuple[float, float]]]:
    """A pod leaking 2 MiB/min from 300 MiB and a flat one at 500 MiB, scraped every 15 s (+-0.4 s) for 6 hours."""
    rng = np.random.default_rng(21)
    times = end - HOURS * 3600 + np.arange(int(HOURS * 3600 / STEP_S)) * STEP_S + rng.uniform(-0.4, 0.4)
    times = np.round(times + rng.uniform(-0.4, 0.4, len(times)), 3)
    x = times - times[0]
    leaky = 300 * MIB + 2 * MIB * x / 60 + rng.normal(0, 3 * MIB, len(x))
    flat = 500 * MIB + 20 * MIB * np.sin(x / 2000) + rng.normal(0, 3 * MIB, len(x))
    return {"api-leaky": list(zip(times, leaky, strict=True)), "api-flat": list(zip(times, flat, strict=True))}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrometheusServer, dict[str, list]]]:
    promtool = require_binary("promtool")
    require_binary("prometheus")
    work = tmp_path_factory.mktemp("backfilled")
    data = pods(end=time.time() - 30)
    lines = [f"# TYPE {QUERY} gauge"]
    for pod, points in data.items():
        lines += [f'{QUERY}{{namespace="shop",pod="{pod}"}} {v:.0f} {t:.3f}' for t, v in points]
    source = work / "pods.om"
    source.write_text("\n".join([*lines, "# EOF"]) + "\n")
    done = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(work / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    server = PrometheusServer(work, {"global": {"scrape_interval": "15s"}, "scrape_configs": []})
    yield server, data
    server.stop()


def judge(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_verdict_per_returned_series_named_by_its_labels(
    prometheus: tuple[PrometheusServer, dict[str, list]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = prometheus
    url = f"http://127.0.0.1:{server.port}"
    code, out, err = judge(["--prometheus", url, "--query", QUERY, "--since", f"{HOURS}h", "--json"], capsys)
    verdicts = {v["name"]: v for v in json.loads(out)}
    leaky = f'{QUERY}{{namespace="shop",pod="api-leaky"}}'
    flat = f'{QUERY}{{namespace="shop",pod="api-flat"}}'
    assert set(verdicts) == {leaky, flat}, err
    assert verdicts[leaky]["verdict"] == "leaking"
    assert verdicts[leaky]["rate_mib_per_min"] == pytest.approx(2.0, rel=0.15)
    assert verdicts[flat]["verdict"] == "bounded"
    assert code == 1  # the worst series decides


def test_one_series_gives_one_line_and_its_own_exit_code(
    prometheus: tuple[PrometheusServer, dict[str, list]], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = prometheus
    query = f'{QUERY}{{pod="api-flat"}}'
    code, out, _ = judge(["--prometheus", f"http://127.0.0.1:{server.port}", "--query", query, "--step", "1m"], capsys)
    assert code == 0 and len(out.splitlines()) == 1 and " bounded " in out


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"rate({QUERY}", "--query: Prometheus rejected 'rate(container_memory_working_set_bytes': bad_data"),
        (f'{QUERY}{{pod="gone"}}', "returned no series over the last 6.0 h"),
    ],
)
def test_a_query_error_or_an_empty_answer_is_one_line_and_exit_2(
    prometheus: tuple[PrometheusServer, dict[str, list]], capsys: pytest.CaptureFixture[str], query: str, message: str
) -> None:
    server, _ = prometheus
    code, out, err = judge(["--prometheus", f"http://127.0.0.1:{server.port}", "--query", query], capsys)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_an_unreachable_prometheus_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = judge(["--prometheus", url, "--query", QUERY], capsys)
    assert (code, out) == (2, "")
    assert err.strip().startswith(f"leaklab judge: error: --prometheus: cannot reach {url}"), err
    assert len(err.strip().splitlines()) == 1


def test_the_predict_linear_baseline_computes_what_prometheus_computes(
    prometheus: tuple[PrometheusServer, dict[str, list]],
) -> None:
    server, data = prometheus
    selector = f'{QUERY}{{pod="api-leaky"}}'
    for t, _ in data["api-leaky"][-1000::250]:
        at = f"{t:.3f}"
        raw = server.api("query", query=f"{selector}[1h]", time=at)["result"][0]["values"]
        expected = float(
            server.api("query", query=f"predict_linear({selector}[1h], 14400)", time=at)["result"][0]["value"][1]
        )
        ts = np.array([float(p[0]) for p in raw])
        vs = np.array([float(p[1]) for p in raw])
        ours = predicted(ts, vs, 3600.0, 14400.0, np.array([len(ts) - 1]))[0]
        assert math.isclose(ours, expected, rel_tol=1e-9), (at, ours, expected)
