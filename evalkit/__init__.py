"""evalkit: evaluate language models zero-shot, few-shot and fine-tuned; keep every result.

The public API is small and imported lazily so `import evalkit` stays fast:
`evalkit.run(...)` returns results as a DataFrame; `evalkit.load_results(store)` reads a store;
`evalkit.trajectory(store, run)` and `evalkit.transfer(store, run)` give the multi-step views;
`evalkit.gate(baseline, candidate, policy=...)` gives the CI gate's verdict (GateOutcome).
"""

from __future__ import annotations

from typing import Any

from evalkit._version import __version__

__all__ = ["run", "load_results", "trajectory", "transfer", "gate"]


def run(*args: Any, **kwargs: Any) -> Any:
    """Evaluate models on tasks; see evalkit.api.run."""
    from evalkit.api import run as _run

    return _run(*args, **kwargs)


def _register_lm_eval_backend() -> None:
    """Make `lm_eval.simple_evaluate(model="evalkit", ...)` work after `import evalkit`.
    lm-eval's registry module is light (~25 ms, no torch); the backend class loads on first use."""
    try:
        from evalkit.scoring import register
    except ImportError:  # lm-eval missing: nothing to register with
        return
    register()


def load_results(*args: Any, **kwargs: Any) -> Any:
    """The tidy metrics DataFrame of a results store; see evalkit.store.reader.load_results."""
    from evalkit.store import load_results as _load

    return _load(*args, **kwargs)



def gate(*args: Any, **kwargs: Any) -> Any:
    """GO / NO-GO / INCONCLUSIVE for a candidate run against a baseline; see evalkit.compare.api.gate
    (evalkit.compare.api.verdict_table gives its rows as a DataFrame)."""
    from evalkit.compare.api import gate as _gate

    return _gate(*args, **kwargs)


def trajectory(*args: Any, **kwargs: Any) -> Any:
    """The tidy trajectory DataFrame of a run (metric vs checkpoint / fine-tuning step); see
    evalkit.studies.trajectory."""
    from evalkit.studies import trajectory as _trajectory

    return _trajectory(*args, **kwargs)


def transfer(*args: Any, **kwargs: Any) -> Any:
    """The tidy transfer / forgetting matrix of a run; see evalkit.studies.transfer."""
    from evalkit.studies import transfer as _transfer

    return _transfer(*args, **kwargs)

_register_lm_eval_backend()
