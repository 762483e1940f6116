"""What a cell cost: tokens pushed through the model and seconds, stored as details["compute"].

`ComputeMeter.wrap` puts a thin timing proxy around the scoring backend (innermost, under the
request cache), so it sees exactly the requests that reached the model; the token counters are the
backend's own (`evalkit.scoring.stats.ScoringStats`, read as a before/after difference, under its
field names). A cell copied from an earlier run (evalkit.engine.cell_reuse) cost nothing this run:
`with_reused_compute` zeroes the figures and keeps the computing run's under "original".

Imports nothing heavy: `evalkit results show` reads these records in the light half.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from evalkit.engine.request_cache import REQUEST_TYPES  # lm-eval's three request types (a light module)



class MeteredLM:
    """An lm-eval LM proxy that counts the requests of each type and the seconds spent answering them;
    everything else (properties, hooks, chat templates) is the wrapped backend's."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.requests: dict[str, int] = {}
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.lm, name)
        if name not in REQUEST_TYPES:
            return attr
        return lambda requests, *args, **kwargs: self._timed(name, attr, requests, *args, **kwargs)

    def _timed(self, request_type: str, method: Any, requests: list[Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            # Results come back as Python floats/strings, so a GPU's queue has drained by the time it returns.
            return method(requests, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.requests[request_type] = self.requests.get(request_type, 0) + len(requests)


class ComputeMeter:
    """Meters one cell's scoring backend; `record` is what the cell stores as details["compute"]."""

    def __init__(self) -> None:
        self._lm: MeteredLM | None = None
        self._before: dict[str, int] = {}

    def wrap(self, backend: Any) -> MeteredLM:
        """The backend behind a timing proxy (wrap it before the request cache, so cache hits are not counted)."""
        self._lm = MeteredLM(backend)
        self._before = _counters(backend)
        return self._lm

    def record(self, cell_seconds: float) -> dict[str, Any]:
        """Tokens and seconds of this cell: the backend's counters (forward_tokens: positions the model ran,
        padding included; input_tokens: real tokens; scored_positions; generated_tokens; batches),
        requests by type, model_seconds (inside the backend) and cell_seconds (the whole cell)."""
        lm = self._lm
        counters = {} if lm is None else _counters(lm.lm)
        spent = {key: value - self._before.get(key, 0) for key, value in counters.items()}
        spent.pop("requests", None)  # the backend counts token rows (a rolling window each); ours are lm-eval's
        seconds = 0.0 if lm is None else lm.seconds
        forward = spent.get("forward_tokens", 0)
        return {"requests": dict(lm.requests) if lm is not None else {}, **spent,
                "model_seconds": round(seconds, 4), "cell_seconds": round(cell_seconds, 3),
                "tokens_per_second": round(forward / seconds, 1) if seconds > 0 else None}


def with_energy(record: Mapping[str, Any], reading: Any, documents: int) -> dict[str, Any]:
    """The compute record with the cell's energy (evalkit.energy: fine-tuning and evaluation together):
    joules, the method (measured "nvml"/"rapl" or a named "estimate: ..."), device, seconds, and joules
    per forward token and per document (None where there were none)."""
    tokens = record.get("forward_tokens", 0)
    energy = {**reading.as_record(), "joules": round(reading.joules, 3), "seconds": round(reading.seconds, 3),
              "joules_per_token": reading.joules / tokens if tokens else None,
              "joules_per_document": reading.joules / documents if documents else None}
    return {**record, "energy": energy}


def energy_note(compute: Mapping[str, Any]) -> str:
    """The energy as `results show` prints it, or "" for a cell stored without one."""
    energy = compute.get("energy")
    if not isinstance(energy, dict) or not isinstance(energy.get("joules"), (int, float)):
        return ""
    parts = [f"{_number(energy.get('joules')):,.1f} J ({energy.get('method')})"]
    for key, unit in (("joules_per_token", "J/token"), ("joules_per_document", "J/doc")):
        if isinstance(energy.get(key), (int, float)):
            parts.append(f"{energy[key]:.3g} {unit}")
    return "energy " + ", ".join(parts)


def _counters(backend: Any) -> dict[str, int]:
    stats = getattr(backend, "stats", None)
    as_dict = getattr(stats, "as_dict", None)
    return {k: int(v) for k, v in as_dict().items()} if callable(as_dict) else {}


def with_reused_compute(details: Mapping[str, Any]) -> dict[str, Any]:
    """The details of a cell copied from an earlier run (details["reused_from"]): nothing was computed
    this run, so every counter of details["compute"] is 0 and there are no seconds; the figures of the
    run that computed it are kept under compute["original"] (a copy of a copy keeps the first ones)."""
    out = dict(details)
    original = out.get("compute")
    if not isinstance(original, dict) or isinstance(original.get("original"), dict):
        return out
    source = out.get("reused_from")
    run_id = source.get("run_id") if isinstance(source, dict) else None
    zeroed = {key: _zero(value) for key, value in original.items()}
    out["compute"] = {**zeroed, "tokens_per_second": None, "reused_from": run_id, "original": original}
    return out


def _zero(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return type(value)(0)
    if isinstance(value, dict):
        return {k: _zero(v) for k, v in value.items()}
    return value


def compute_line(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """What `evalkit results show` prints for a cell (None: stored before compute was recorded):
    requests the model answered this run, positions it ran, seconds, tokens per second, and a note
    for a cell copied from an earlier run or answered from the request cache, and for a fast-exact
    cell how many of its documents were re-scored in float32."""
    compute = details.get("compute")
    if not isinstance(compute, dict):
        return None
    cache = details.get("requests") if isinstance(details.get("requests"), dict) else {}
    original = compute.get("original") if isinstance(compute.get("original"), dict) else None
    note = ""
    if original is not None:
        note = (f"reused from {compute.get('reused_from') or 'an earlier run'}: computed there "
                f"{_number(original.get('forward_tokens')):,.0f} tokens in {_number(original.get('model_seconds')):.2f} s")
    elif _number(cache.get("reused")) > 0:
        note = f"{_number(cache.get('reused')):.0f} requests answered from the request cache"
    precision = details.get("precision") if isinstance(details.get("precision"), dict) else {}
    if precision.get("precision") == "fast-exact":
        rescored = (f"fast-exact: {_number(precision.get('rescored_documents')):.0f} of "
                    f"{_number(precision.get('documents')):.0f} documents re-scored in float32")
        if _number(precision.get("calibration_documents")) > 0:
            rescored += f", {_number(precision.get('calibration_documents')):.0f} calibrated (both ways)"
        note = f"{note}; {rescored}" if note else rescored
    if original is None and (energy := energy_note(compute)):
        note = f"{note}; {energy}" if note else energy
    requests = compute.get("requests") if isinstance(compute.get("requests"), dict) else {}
    return {"requests": int(sum(_number(v) for v in requests.values())),
            "tokens": int(_number(compute.get("forward_tokens"))),
            "model_seconds": _number(compute.get("model_seconds")), "cell_seconds": _number(compute.get("cell_seconds")),
            "tokens_per_second": compute.get("tokens_per_second"), "note": note}


def _number(value: Any) -> float:
    """A stored figure as a number (0 for a missing or non-numeric one: the store is read, never trusted)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
