"""Convert a GGUF file once into a cached float32 safetensors checkpoint.

transformers de-quantises GGUF on every load (~15 s for 135M parameters) and refuses to
save_pretrained such a model; rebuilding from the config and copying the state dict works.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from evalkit.home import evalkit_home
from evalkit.models.fingerprint import file_sha256


def cached_checkpoint_for(gguf_path: Path) -> Path:
    """Directory of the converted checkpoint for this GGUF file (converted on first call)."""
    target = evalkit_home() / "models" / f"gguf-{file_sha256(gguf_path)[:16]}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        try:
            _convert(gguf_path, staging)
        except ImportError:
            raise  # the models extra is missing: main() names the install line
        except Exception as exc:  # a truncated or foreign file fails in struct, numpy, gguf or transformers
            from evalkit.errors import ModelError

            raise ModelError(f"Cannot read GGUF file '{gguf_path}': {type(exc).__name__}: {str(exc)[:200]}",
                             hint="Check that it is a complete GGUF file of a model architecture transformers supports.") from exc
        try:
            staging.rename(target)
        except OSError:  # another process finished first
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert(gguf_path: Path, out_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantised = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_config(quantised.config)
    model.load_state_dict(quantised.state_dict(), strict=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    config_path = out_dir / "config.json"
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)  # else from_pretrained asks for gguf_file again
    config_path.write_text(json.dumps(config, indent=2))
    (out_dir / "SOURCE.txt").write_text(f"Converted from {gguf_path}\n")
