"""evalkit's scoring backend: lm-eval's LM interface, computed without repeated work.

Importing this package registers the backend in lm-eval's model registry as "evalkit"
(lazily: the class module loads on first lookup), so that
`lm_eval.simple_evaluate(model="evalkit", model_args="pretrained=smollm2-135m")` runs on it.
Nothing here imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.scoring.backend import EvalkitLM, Progress

__all__ = ["EvalkitLM", "make_backend", "register"]

REGISTRY_NAME = "evalkit"
_TARGET = "evalkit.scoring.backend:EvalkitLM"


def register() -> None:
    """Register EvalkitLM in lm-eval's model registry under "evalkit" (idempotent), beside lm-eval's
    own models: lm-eval fills its registry only while it is empty, so they are registered first
    (lm_eval.models holds names and import paths only, no torch)."""
    import lm_eval.models  # noqa: F401 - registers lm-eval's own models ("hf", "vllm", ...) lazily
    from lm_eval.api.registry import model_registry

    if REGISTRY_NAME not in model_registry:
        model_registry.register(REGISTRY_NAME, target=_TARGET)


def make_backend(loaded: Any, batch_size: int | str = "auto", progress: "Progress | None" = None,
                 generation: str = "loop", precision: str = "exact") -> "EvalkitLM":
    """An lm-eval LM over an evalkit LoadedModel (generation: "loop" or "generate"; precision:
    "exact" or "fast-exact", see evalkit.scoring.precision)."""
    from evalkit.scoring.backend import EvalkitLM

    return EvalkitLM.from_loaded(loaded, batch_size=batch_size, progress=progress, generation=generation,
                                 precision=precision)


def __getattr__(name: str) -> Any:
    if name == "EvalkitLM":
        from evalkit.scoring.backend import EvalkitLM

        return EvalkitLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register()
