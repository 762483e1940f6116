"""Data parallel scoring: the requests the backend must compute are shared out among the processes.

Every process holds the same request list (lm-eval builds it deterministically). `ShardedLM` splits it
by token cost (longest first, each to the least-loaded process: balanced work, and each process's
share stays length-sorted), keeps the answer choices of one context together (the backend encodes a
shared context once), computes its share in a few chunks (the request cache saves each chunk as it
finishes, so a killed run loses at most a chunk per process), then all-gathers: every process returns
every result, in the original order.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from typing import Any, Sequence

from evalkit.engine.processes import CrashHook, Processes
from evalkit.errors import RunFailedError

REQUEST_TYPES = ("loglikelihood", "loglikelihood_rolling", "generate_until")
# A process's share is computed in this many chunks (fewer for small shares): the save granularity.
CHUNKS_PER_SHARE = 8


class ShardedLM:
    """An lm-eval LM proxy that computes this process's share of each request list and all-gathers
    the rest; everything else (properties, hooks, chat templates) is the wrapped backend's."""

    def __init__(self, lm: Any, processes: Processes, progress: "ShareProgress | None" = None,
                 crash: CrashHook | None = None) -> None:
        self.lm = lm
        self.processes = processes
        self.progress = progress
        self.crash = crash or CrashHook(processes.rank)
        self.computed_here: list[int] = []  # positions of the last request list this process computed

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.lm, name)
        if name not in REQUEST_TYPES:
            return attr
        return lambda requests, *args, **kwargs: self._answer(name, list(requests))

    def _answer(self, request_type: str, requests: list[Any]) -> list[Any]:
        groups = request_groups(request_type, requests)
        costs = [sum(request_cost(self.lm, request_type, requests[i]) for i in group) for group in groups]
        share = balanced_shares(costs, self.processes.size)[self.processes.rank]
        mine: list[int] = []
        answers: list[Any] = []
        compute = getattr(self.lm, request_type)
        parts = chunks([groups[g] for g in share], CHUNKS_PER_SHARE)
        if self.progress is not None:
            self.progress.share(sum(len(p) for p in parts))
        for chunk in parts:
            if self.progress is not None:
                self.progress.chunk(len(mine))
            answers.extend(compute([requests[i] for i in chunk]))
            mine.extend(chunk)
            self.crash.chunk_done()
        self.computed_here = mine
        gathered = self.processes.gather((requests_digest(request_type, requests), mine, answers))
        return merged(gathered, len(requests), request_type)


class ShareProgress:
    """The backend's progress callback over a whole share: a chunk's (done, total) becomes the
    share's, and the kind says it is one process's share (the main process shows its own)."""

    def __init__(self, report: Any, processes: Processes) -> None:
        self.report, self.size = report, processes.size
        self.total, self.offset = 0, 0

    def share(self, total: int) -> None:
        self.total, self.offset = total, 0

    def chunk(self, offset: int) -> None:
        self.offset = offset

    def __call__(self, kind: str, done: int, total: int) -> None:
        self.report(f"{kind} · share 1 of {self.size}", self.offset + done, max(self.total, self.offset + done))


def request_groups(request_type: str, requests: Sequence[Any]) -> list[list[int]]:
    """Positions computed together: a loglikelihood context's continuations; any other request alone."""
    if request_type != "loglikelihood":
        return [[i] for i in range(len(requests))]
    by_context: dict[str, list[int]] = {}
    for i, request in enumerate(requests):
        by_context.setdefault(str(request.args[0]), []).append(i)
    return list(by_context.values())


def request_cost(lm: Any, request_type: str, request: Any) -> int:
    """Tokens a request puts through the model (a generation's are its context and its token limit)."""
    if request_type == "loglikelihood":
        context, continuation = request.args[0], request.args[1]
        return len(lm.tok_encode(context)) + len(lm.tok_encode(continuation))
    if request_type == "loglikelihood_rolling":
        return len(lm.tok_encode(request.args[0]))
    limit = request.args[1].get("max_gen_toks") if isinstance(request.args[1], dict) else None
    return len(lm.tok_encode(request.args[0])) + int(limit or getattr(lm, "max_gen_toks", 256))


def balanced_shares(costs: Sequence[int], size: int) -> list[list[int]]:
    """Group indices per process: longest first, each to the least-loaded process (ties: lowest rank).
    Deterministic, so every process computes the same split."""
    order = sorted(range(len(costs)), key=lambda g: (-costs[g], g))
    loads = [(0, rank) for rank in range(size)]
    shares: list[list[int]] = [[] for _ in range(size)]
    for g in order:
        load, rank = heapq.heappop(loads)
        shares[rank].append(g)
        heapq.heappush(loads, (load + max(1, costs[g]), rank))
    return shares


def chunks(groups: Sequence[list[int]], count: int) -> list[list[int]]:
    """The groups' positions in about `count` chunks of whole groups, in order."""
    total = sum(len(g) for g in groups)
    if total == 0:
        return []
    size = -(-total // count)
    out: list[list[int]] = [[]]
    for group in groups:
        if len(out[-1]) >= size:
            out.append([])
        out[-1].extend(group)
    return out


def requests_digest(request_type: str, requests: Sequence[Any]) -> str:
    """A hash of the request list, so processes that built different lists fail instead of mixing."""
    payload = json.dumps([request_type, [list(r.args) for r in requests]], default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def merged(gathered: Sequence[tuple[str, list[int], list[Any]]], count: int, request_type: str) -> list[Any]:
    """Every process's (digest, positions, answers) as one answer list in request order."""
    if len({digest for digest, _, _ in gathered}) != 1:
        raise RunFailedError(f"The {len(gathered)} processes built different {request_type} request lists, "
                             "so their results cannot be combined.",
                             hint="Run every process on the same files and options (one `evalkit run "
                                  "--processes N` command); --debug shows where it failed.")
    answers: list[Any] = [None] * count
    seen = 0
    for _, positions, values in gathered:
        for position, value in zip(positions, values, strict=True):
            answers[position] = value
            seen += 1
    if seen != count:
        raise RunFailedError(f"The processes returned {seen} {request_type} results for {count} requests.",
                             hint="This is a bug in evalkit's data parallel scoring; re-run with --processes 1.")
    return answers
