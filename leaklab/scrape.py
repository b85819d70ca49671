"""Read a ``/metrics`` page into plain numbers, with prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from .procs import http_get


class Samples(dict[str, float]):
    """Samples keyed by ``name`` or ``name{label="value",...}`` (labels sorted)."""

    def value(self, name: str, default: float | None = None, **labels: str) -> float:
        """The sample's value; a missing one is ``default`` when given, else a ``KeyError`` naming it.

        Without a default, a test asserting ``== 0`` on a series the page forgot fails instead of passing.
        """
        key = sample_key(name, labels)
        if key in self:
            return self[key]
        if default is None:
            raise KeyError(f"no sample {key} on the page")
        return default

    def with_prefix(self, name: str) -> dict[str, float]:
        return {k: v for k, v in self.items() if k == name or k.startswith(name + "{")}


def sample_key(name: str, labels: dict[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def parse_metrics(text: str) -> Samples:
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample_key(sample.name, dict(sample.labels))] = float(sample.value)
    return samples


def scrape(port: int, timeout_s: float = 10.0) -> Samples:
    """``GET /metrics`` on a loopback port, parsed (a generous default: a traced API takes a snapshot first)."""
    status, _, body = http_get(port, "/metrics", timeout_s)
    if status != 200:
        raise RuntimeError(f"/metrics on port {port} answered {status}")
    return parse_metrics(body.decode())
