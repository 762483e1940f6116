"""Keep library chatter (progress bars, info logs) out of evalkit's own output."""

from __future__ import annotations

import logging
import os
import warnings


def quiet_libraries() -> None:
    """Silence datasets/transformers progress bars and lm-eval's info logging."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")  # lm-eval builds requests under tqdm bars
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\..*")
    for name in ("lm_eval", "lm-eval", "datasets", "transformers", "accelerate", "peft", "filelock", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # evalkit reports failures itself
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.utils.logging.set_verbosity(logging.CRITICAL)
    except ImportError:
        pass
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:
        pass
