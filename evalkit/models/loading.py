"""Load a ModelSpec into a transformers model + tokenizer, with its fingerprint.

Heavy imports (torch, transformers, peft) happen inside these functions only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import ModelError
from evalkit.models.fingerprint import combine, directory_fingerprint
from evalkit.models.spec import ModelSpec


@dataclass
class LoadedModel:
    """A ready model: weights on their device, tokenizer, and identity for the store."""

    spec: ModelSpec
    model: Any
    tokenizer: Any
    fingerprint: str
    checkpoint: str
    device: str
    dtype: str
    is_encoder_decoder: bool


def resolve_device(requested: str) -> str:
    import torch

    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise ModelError("--device cuda was requested but CUDA is not available here.",
                             hint="Use --device cpu or --device auto.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise ModelError("--device mps was requested but MPS is not available here.",
                             hint="Use --device cpu or --device auto.")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(requested: str, device: str) -> str:
    """'auto' is bfloat16 on CUDA with bf16 support, float16 on MPS, float32 otherwise."""
    import torch

    if requested != "auto":
        return requested
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "float32"


def checkpoint_location(spec: ModelSpec) -> str:
    """Where from_pretrained reads: a local directory or a hub id (GGUF converted first)."""
    from evalkit.models.gguf import cached_checkpoint_for

    if spec.kind == "alias":
        from evalkit.models.embedded import smollm2_gguf_path

        return str(cached_checkpoint_for(smollm2_gguf_path()))
    if spec.kind == "gguf":
        return str(cached_checkpoint_for(Path(spec.location)))
    return spec.location


def load_model(spec: ModelSpec) -> LoadedModel:
    """Load weights, tokenizer and (optionally) a PEFT adapter; compute the fingerprint."""
    import torch

    location = checkpoint_location(spec)
    device = resolve_device(spec.device)
    dtype = resolve_dtype(spec.dtype, device)
    config = _load_config(spec, location)
    tokenizer = load_tokenizer(spec, spec.tokenizer or location)
    model = _load_weights(spec, location, config, getattr(torch, dtype))
    _check_vocabulary(spec, tokenizer, model)
    fingerprint = _with_tokenizer(spec, location, _fingerprint(spec, location, model))
    if spec.adapter:
        model = _attach_adapter(model, spec.adapter)
        fingerprint = combine(fingerprint, directory_fingerprint(Path(spec.adapter)))
    model.to(device)
    model.eval()
    return LoadedModel(spec=spec, model=model, tokenizer=tokenizer, fingerprint=fingerprint,
                       checkpoint=location, device=device, dtype=dtype,
                       is_encoder_decoder=bool(getattr(config, "is_encoder_decoder", False)))


def _hub_kwargs(spec: ModelSpec) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    if spec.revision and spec.kind == "hub":
        kwargs["revision"] = spec.revision
    return kwargs


def read_config(spec: ModelSpec) -> Any | None:
    """The model's configuration without its weights (None for GGUF sources, which are
    converted on load and are always causal): lets input checks know the model's kind and
    context length before anything is loaded."""
    if spec.kind in ("alias", "gguf"):
        return None
    return _load_config(spec, spec.location)


def _load_config(spec: ModelSpec, location: str) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(location, **_hub_kwargs(spec))
    except (OSError, ValueError) as exc:
        _raise_if_remote_code(spec, exc)
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        if spec.kind == "local":
            hint = (f"Fix '{Path(location) / 'config.json'}': it must be a transformers model configuration "
                    "(valid JSON with a model_type this transformers version knows).")
        elif offline:
            hint = ("Offline mode is on (HF_HUB_OFFLINE=1): the model must already be in the local "
                    "Hugging Face cache, or pass a local directory.")
        else:
            hint = "Check the hub id, your network, and --revision."
        raise ModelError(f"Cannot load model '{spec.name}': {_first_line(exc)}", hint=hint) from exc


def load_tokenizer(spec: ModelSpec, location: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(location, **_hub_kwargs(spec))
    except (OSError, ValueError, TypeError) as exc:
        _raise_if_remote_code(spec, exc)
        raise ModelError(f"Cannot load the tokenizer of model '{spec.name}': {_first_line(exc)}",
                         hint="The checkpoint needs tokenizer files (tokenizer.json or a vocab).") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_weights(spec: ModelSpec, location: str, config: Any, torch_dtype: Any) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModelForCausalLM
    try:
        return auto.from_pretrained(location, dtype=torch_dtype, **_hub_kwargs(spec))
    except Exception as exc:  # safetensors, torch and transformers raise many unrelated types
        _raise_if_remote_code(spec, exc)
        raise ModelError(f"Cannot load the weights of model '{spec.name}': {_first_line(exc)}",
                         hint="Check that the checkpoint is complete and matches its config.json.") from exc


def _check_vocabulary(spec: ModelSpec, tokenizer: Any, model: Any) -> None:
    """A tokenizer whose ids exceed the embedding table would crash (or silently misbehave) later."""
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        raise ModelError(f"Tokenizer mismatch for model '{spec.name}': the tokenizer has {len(tokenizer):,} tokens "
                         f"but the model's embedding table has {rows:,} rows.",
                         hint="The tokenizer files do not belong to these weights; use the tokenizer saved with the model.")


def _attach_adapter(model: Any, adapter: str) -> Any:
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, adapter)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(f"Cannot apply adapter '{adapter}': {_first_line(exc)}",
                         hint="The adapter must have been trained on this base model.") from exc


def _fingerprint(spec: ModelSpec, location: str, model: Any) -> str:
    if Path(location).is_dir():
        return directory_fingerprint(Path(location))
    from evalkit.models.hub_revision import hub_commit

    commit = getattr(model.config, "_commit_hash", None)  # transformers 5 no longer sets it
    commit = commit or hub_commit(spec.location, spec.revision, ask_hub_first=False) or spec.revision
    return combine(spec.location, str(commit or "unknown-revision"))


def _with_tokenizer(spec: ModelSpec, location: str, fingerprint: str) -> str:
    """A tokenizer read from another folder (a series' shared one) is part of what the scores depend on."""
    if not spec.tokenizer or Path(spec.tokenizer) == Path(location):
        return fingerprint
    from evalkit.models.series_checks import tokenizer_digests

    digests = tokenizer_digests(Path(spec.tokenizer))
    return combine(fingerprint, *(f"{name}:{digest}" for name, digest in sorted(digests.items())))


def _raise_if_remote_code(spec: ModelSpec, exc: BaseException) -> None:
    """transformers refuses a repository's own code unless trusted: say which evalkit option trusts it."""
    if "trust_remote_code" in str(exc) and not spec.trust_remote_code:
        raise ModelError(f"Model '{spec.name}' needs to run code from its own repository (custom modelling "
                         "files), which evalkit does not run unless told to.",
                         hint="If you trust that code, pass --trust-remote-code "
                         "(trust_remote_code=True in the Python API).") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
