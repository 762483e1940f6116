"""Checks that make a checkpoint series comparable step to step: one architecture (or one base
model for adapters), one kind of checkpoint, distinct steps, one tokenizer.

Each failure is a ModelError naming the folder, raised before any weights are loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from evalkit.errors import ModelError

if TYPE_CHECKING:
    from evalkit.models.series import SeriesMember

_ABSENT = object()  # a key a JSON file does not have (None is a value)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a checkpoint file, or a ModelError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read '{path}': {exc}.",
                         hint="The file is damaged or incomplete; re-save the checkpoint.") from exc
    if not isinstance(data, dict):
        raise ModelError(f"'{path}' does not hold a JSON object.", hint="Re-save the checkpoint.")
    return data


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.json", "merges.txt", "vocab.txt", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model")
# config.json keys that make two checkpoints different models (type, classes, sizes), across model families.
ARCHITECTURE_KEYS = ("model_type", "architectures", "vocab_size", "hidden_size", "num_hidden_layers",
                     "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size",
                     "n_embd", "n_layer", "n_head", "n_inner", "d_model", "num_layers", "num_heads", "d_ff",
                     "is_encoder_decoder")
# adapter_config.json keys that one training run keeps for all its checkpoints.
ADAPTER_KEYS = ("peft_type", "r", "target_modules")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
# Keys that say where and how a tokenizer was loaded before it was saved, not what it does
# (transformers writes loading options such as local_files_only back into tokenizer_config.json).
_VOLATILE_KEYS = frozenset({"name_or_path", "_name_or_path", "is_local", "local_files_only", "cache_dir",
                            "force_download", "proxies", "token", "use_auth_token", "revision", "subfolder",
                            "trust_remote_code", "_commit_hash", "_from_auto", "use_fast"})
# Per file, the state a tokenizer was last *called* with, which Trainer saves as it finds it and which
# changes no token id: truncation / padding in tokenizer.json, lengths and sides in tokenizer_config.json.
# clean_up_tokenization_spaces only changes decoding, and every member of a series decodes with the
# series' one tokenizer, so it does not count either. What counts: vocabulary, merges, normalizer,
# pre-tokenizer, post-processor (BOS/EOS), decoder, added and special tokens, add_bos/eos_token, the
# tokenizer class and the chat template.
_CALL_STATE_KEYS = {"tokenizer.json": frozenset({"truncation", "padding"}),
                    "tokenizer_config.json": frozenset({"model_max_length", "padding_side", "truncation_side",
                                                        "clean_up_tokenization_spaces"})}


def check_series(label: str, members: Sequence["SeriesMember"]) -> None:
    """Raise a ModelError naming the folder when a series mixes things that cannot be compared."""
    _check_distinct(label, members)
    _check_one_kind(label, members)
    local = [m for m in members if m.revision is None]
    if local and local[0].kind == "full":
        _check_architecture(label, local)
    elif local:
        _check_base_model(label, local)


def _check_distinct(label: str, members: Sequence["SeriesMember"]) -> None:
    """No checkpoint given twice, no two checkpoints at the same step."""
    seen: dict[int | None, "SeriesMember"] = {}
    for member in members:
        other = seen.get(member.step)
        if other is not None and (other.ref, other.revision) == (member.ref, member.revision):
            raise ModelError(f"Checkpoint '{_where(member)}' is given twice in series '{label}'.",
                             hint="Give each checkpoint (or training output directory) once.")
        if other is not None:
            raise ModelError(f"Checkpoints '{_where(other)}' and '{_where(member)}' of series '{label}' "
                             f"are both at training step {member.step}.",
                             hint="A series holds one checkpoint per step; leave one of them out "
                                  "(they may come from two different training runs).")
        seen[member.step] = member


def _check_one_kind(label: str, members: Sequence["SeriesMember"]) -> None:
    """All full checkpoints or all adapter checkpoints."""
    first = members[0]
    for member in members[1:]:
        if member.kind != first.kind:
            raise ModelError(f"Checkpoint '{_where(member)}' is a {_kind_words(member)} but series '{label}' "
                             f"starts with a {_kind_words(first)} ('{_where(first)}').",
                             hint="A series is all full checkpoints or all PEFT adapters on one base model; "
                                  "evaluate the others as a separate -m.")


def _check_architecture(label: str, members: Sequence["SeriesMember"]) -> None:
    """Full checkpoints share config.json's architecture: model type, classes and every shape key."""
    expected = _architecture(Path(members[0].ref))
    for member in members[1:]:
        _refuse_differences(label, members[0], member, "config.json", expected, _architecture(Path(member.ref)),
                            "A series holds checkpoints of one model (one architecture, one size); evaluate the "
                            "other model as a separate -m.")


def _architecture(folder: Path) -> dict[str, Any]:
    """The ARCHITECTURE_KEYS a checkpoint's config.json sets (a nested text_config's as text_config.KEY)."""
    config = read_json(folder / "config.json")
    found = {key: config[key] for key in ARCHITECTURE_KEYS if key in config}
    text = config.get("text_config")
    if isinstance(text, dict):
        found.update({f"text_config.{key}": text[key] for key in ARCHITECTURE_KEYS if key in text})
    return found


def _adapter_shape(folder: Path) -> dict[str, Any]:
    """The ADAPTER_KEYS of an adapter_config.json (target_modules as a sorted list: peft saves a set)."""
    config = read_json(folder / "adapter_config.json")
    found = {key: config[key] for key in ADAPTER_KEYS if key in config}
    if isinstance(found.get("target_modules"), list):
        found["target_modules"] = sorted(map(str, found["target_modules"]))
    return found


def _refuse_differences(label: str, first: "SeriesMember", member: "SeriesMember", file: str,
                        expected: dict[str, Any], found: dict[str, Any], hint: str) -> None:
    """A ModelError naming both checkpoints and each key of `file` whose value differs."""
    keys = [key for key in dict.fromkeys([*expected, *found]) if expected.get(key) != found.get(key)]
    if not keys:
        return
    values = ", ".join(f"{key} {_value(expected.get(key))} vs {_value(found.get(key))}" for key in keys)
    raise ModelError(f"Checkpoints '{first.ref}' and '{member.ref}' of series '{label}' differ in {file}: {values}.",
                     hint=hint)


def _value(value: Any) -> str:
    """A config value as JSON ('unset' when missing)."""
    return "unset" if value is None else json.dumps(value)


def _check_base_model(label: str, members: Sequence["SeriesMember"]) -> None:
    """Adapter checkpoints name one base model."""
    for member in members:
        if not member.base_model:
            raise ModelError(f"Adapter checkpoint '{member.ref}' does not name its base model "
                             "(no base_model_name_or_path in adapter_config.json).",
                             hint="Set base_model_name_or_path in adapter_config.json to the model it was trained on.")
    expected = members[0].base_model
    shape = _adapter_shape(Path(members[0].ref))
    for member in members[1:]:
        if member.base_model != expected:
            raise ModelError(f"Adapter checkpoint '{member.ref}' was trained on '{member.base_model}' but series "
                             f"'{label}' starts with one trained on '{expected}' ('{members[0].ref}').",
                             hint="Adapters in one series must share their base model; evaluate the others "
                                  "as a separate -m.")
        _refuse_differences(label, members[0], member, "adapter_config.json", shape, _adapter_shape(Path(member.ref)),
                            "Adapters in one series come from one training run (one adapter type, rank and "
                            "target modules); evaluate the others as a separate -m.")


def canonical_tokenizer(folder: Path) -> dict[str, Any]:
    """What decides a folder's token ids, file by file: JSON files as data without load paths or call
    state (truncation, padding, max length), the chat template folded into tokenizer_config.json,
    other vocabulary files by content hash. Empty when the folder holds no tokenizer files."""
    canonical: dict[str, Any] = {}
    for name in TOKENIZER_FILES:
        path = folder / name
        if path.is_file():
            canonical[name] = _canonical_content(path)
    config = canonical.get("tokenizer_config.json")
    template = _chat_template_file(folder)
    if isinstance(config, dict) and template is not None:
        config["chat_template"] = template
    return canonical


def tokenizer_digest(folder: Path) -> str:
    """One digest of what decides a folder's token ids (canonical_tokenizer), equal across re-saves."""
    return _digest(canonical_tokenizer(folder))


def tokenizer_digests(folder: Path) -> dict[str, str]:
    """The digest of each tokenizer file's id-deciding content (canonical_tokenizer), by file name."""
    return {name: _digest(content) for name, content in canonical_tokenizer(folder).items()}


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _canonical_content(path: Path) -> Any:
    """A JSON object without load paths and call state; any other file as the hash of its bytes."""
    raw = path.read_bytes()
    data: Any = None
    if path.suffix == ".json":
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return hashlib.sha256(raw).hexdigest()
    ignored = _VOLATILE_KEYS | _CALL_STATE_KEYS.get(path.name, frozenset())
    return {k: v for k, v in data.items() if k not in ignored}


def _chat_template_file(folder: Path) -> Any:
    """The chat template saved beside tokenizer_config.json (newer transformers), or None."""
    for name in CHAT_TEMPLATE_FILES:
        path = folder / name
        if path.is_file():
            content = _canonical_content(path) if name.endswith(".json") else path.read_text(encoding="utf-8")
            return content.get("chat_template", content) if isinstance(content, dict) else content
    return None


def series_tokenizer(label: str, root: Path | None,
                     members: Sequence["SeriesMember"]) -> Callable[["SeriesMember"], str | None]:
    """Check every checkpoint's tokenizer against the series' one; return which folder a member reads it from."""
    local = [m for m in members if m.revision is None]
    if not local:
        return lambda member: None
    reference = _reference_tokenizer(root, local)
    if reference is None:
        if local[0].kind == "full":
            raise ModelError(f"Series '{label}' has no tokenizer: neither '{root}' nor any of its checkpoints "
                             "holds tokenizer files (tokenizer.json, tokenizer_config.json, vocab files).",
                             hint="Save the tokenizer into the training output directory "
                                  "(tokenizer.save_pretrained(OUT)) or pass processing_class to Trainer.")
        return lambda member: None
    expected = canonical_tokenizer(reference)
    for member in local:
        _check_same_tokenizer(label, Path(member.ref), reference, expected)
    return lambda member: str(reference)


def _reference_tokenizer(root: Path | None, members: Sequence["SeriesMember"]) -> Path | None:
    """The series' tokenizer: an adapter's local base model, else the output directory, else the first checkpoint."""
    candidates: list[Path] = []
    if members[0].kind == "adapter" and members[0].base_model:
        candidates.append(Path(members[0].base_model).expanduser())
    if root is not None:
        candidates.append(root)
    candidates.extend(Path(m.ref) for m in members)
    for folder in candidates:
        if folder.is_dir() and canonical_tokenizer(folder):
            return folder
    return None


def _check_same_tokenizer(label: str, folder: Path, reference: Path, expected: dict[str, Any]) -> None:
    """A checkpoint with tokenizer files must agree with the series' on what decides token ids in every
    file both hold (not on bytes, nor on the truncation / padding it was last called with)."""
    found = canonical_tokenizer(folder)
    if not found or folder == reference:
        return
    common = sorted(set(found) & set(expected))
    differing = [_difference(name, found[name], expected[name]) for name in common if found[name] != expected[name]]
    if differing or not common:
        what = "; ".join(differing) if differing else "no tokenizer file in common"
        raise ModelError(f"Checkpoint '{folder}' has a different tokenizer from series '{label}' "
                         f"(compared with '{reference}': {what}).",
                         hint="Every checkpoint of a series must use one tokenizer, or its scores cannot be "
                              "compared step to step; evaluate this checkpoint as a separate -m.")


def _difference(name: str, found: Any, expected: Any) -> str:
    """'tokenizer.json (model, added_tokens)': a file and, for JSON, the keys that differ."""
    if not (isinstance(found, dict) and isinstance(expected, dict)):
        return name
    keys = sorted(k for k in set(found) | set(expected) if found.get(k, _ABSENT) != expected.get(k, _ABSENT))
    return f"{name} ({', '.join(keys)})"


def _where(member: "SeriesMember") -> str:
    """A member as the user would write it."""
    return f"{member.ref}@{member.revision}" if member.revision else member.ref


def _kind_words(member: "SeriesMember") -> str:
    """'full checkpoint' or 'PEFT adapter checkpoint'."""
    return "PEFT adapter checkpoint" if member.kind == "adapter" else "full checkpoint"
