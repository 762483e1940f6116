"""An lm-eval model that answers each request with the output a stored run recorded for it."""

from __future__ import annotations

from typing import Any

from lm_eval.api.model import LM

from evalkit.errors import InputError


class ReplayLM(LM):
    """Outputs by document id: each document's list of per-request responses (samples.outputs_json)."""

    def __init__(self, outputs: dict[int, list[Any]], task: str) -> None:
        super().__init__()
        self.outputs, self.task = outputs, task

    def _response(self, request: Any) -> Any:
        stored = self.outputs.get(int(request.doc_id))
        if stored is None or request.idx >= len(stored) or not stored[request.idx]:
            raise InputError(f"Task '{self.task}': document {request.doc_id} (request {request.idx}) has no stored "
                             "output in the source run; its documents differ from the task's now.",
                             hint="Rescore a run of the same documents (same data and --limit).")
        return stored[request.idx][0]

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        return [str(self._response(r)) for r in requests]

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        return [(float(v[0]), bool(v[1])) for v in map(self._response, requests)]

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        return [float(v[0] if isinstance(v, list) else v) for v in map(self._response, requests)]
