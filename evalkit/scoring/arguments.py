"""`model_args` for lm_eval.simple_evaluate(model="evalkit", ...): load through evalkit.models."""

from __future__ import annotations

from typing import Any

from evalkit.errors import ModelError, did_you_mean

# How greedy generation runs: evalkit's own batched loop, or transformers' model.generate.
GENERATION_MODES = ("loop", "generate")

# What `model_args` may contain; simple_evaluate itself adds batch_size, max_batch_size, device.
KNOWN_ARGUMENTS = ("pretrained", "dtype", "device", "batch_size", "max_batch_size", "max_length",
                   "adapter", "peft", "revision", "trust_remote_code", "generation")


def load_from_arguments(cls: Any, args: dict[str, Any], additional: dict[str, Any]) -> Any:
    """Resolve `pretrained` (alias, directory, hub id or .gguf) and build a backend on it."""
    from evalkit.models.loading import load_model
    from evalkit.models.spec import DEFAULT_MODEL, resolve_model_spec

    merged = {**args, **{k: v for k, v in additional.items() if v is not None}}
    unknown = sorted(set(merged) - set(KNOWN_ARGUMENTS))
    if unknown:
        hints = "".join(did_you_mean(name, list(KNOWN_ARGUMENTS)) for name in unknown)
        raise ModelError(f"Unknown model argument(s) for 'evalkit': {', '.join(unknown)}.{hints}",
                         hint=f"Known arguments: {', '.join(KNOWN_ARGUMENTS)}.")
    adapter = merged.get("adapter") or merged.get("peft")
    spec = resolve_model_spec(
        str(merged.get("pretrained", DEFAULT_MODEL)),
        adapter=str(adapter) if adapter else None,
        revision=str(merged["revision"]) if merged.get("revision") else None,
        dtype=str(merged.get("dtype", "auto")),
        device=lm_eval_device(merged.get("device")),
        trust_remote_code=bool(merged.get("trust_remote_code", False)),
    )
    max_length = merged.get("max_length")
    generation = str(merged.get("generation", "loop"))
    if generation not in GENERATION_MODES:
        raise ModelError(f"Unknown model argument value generation={generation}.",
                         hint=f"Use one of: {', '.join(GENERATION_MODES)}.")
    return cls.from_loaded(load_model(spec), batch_size=merged.get("batch_size", "auto"),
                           max_length=int(max_length) if max_length else None, generation=generation)


def lm_eval_device(requested: Any) -> str:
    """lm-eval's device argument in evalkit's terms. lm-eval's command line passes `cuda:0` by
    default and its HFLM falls back to what is there when that device is not; do the same."""
    if requested is None or str(requested) == "":
        return "auto"
    kind = str(requested).split(":", 1)[0]
    if kind in ("cuda", "mps"):
        import torch

        available = torch.cuda.is_available() if kind == "cuda" else torch.backends.mps.is_available()
        return kind if available else "auto"
    return kind
