"""EvalkitLM: lm-eval's LM interface on a loaded transformers model, without recomputing.

Tokenisation is lm-eval's own (TemplateLM.loglikelihood and _encode_pair, HFLM's tok_encode
rules), so the token requests are exactly HFLM's; only how they are computed differs
(prefix-shared rows, vocabulary projection at scored positions only, length-sorted batches
sized by a token budget). torch is imported only when a backend is constructed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lm_eval.api.model import TemplateLM

from evalkit.scoring.arguments import GENERATION_MODES

Progress = Callable[[str, int, int], None]

_DEFAULT_MAX_LENGTH = 2048
DEFAULT_MAX_GEN_TOKS = 256

class EvalkitLM(TemplateLM):
    """lm-eval backend over an already loaded model and tokenizer (causal or seq2seq)."""

    def __init__(self, model: Any, tokenizer: Any, *, device: str = "cpu", batch_size: int | str = "auto",
                 max_length: int | None = None, progress: Progress | None = None,
                 generation: str = "loop", precision: str = "exact", fingerprint: str | None = None) -> None:
        super().__init__()
        import torch

        from evalkit.scoring.budget import parse_batch_size, plan_batches
        from evalkit.scoring.forward import RowScorer
        from evalkit.scoring.loglikelihood import CausalScorer
        from evalkit.scoring.stats import ScoringStats

        parse_batch_size(batch_size)  # validate early
        if generation not in GENERATION_MODES:
            raise ValueError(f"generation must be one of {GENERATION_MODES}, got {generation!r}")
        self.generation = generation
        target = torch.device(device)
        if next(model.parameters()).device.type != target.type:
            model.to(target)
        self._model = model.eval()
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._device = next(model.parameters()).device
        self.batch_size = batch_size
        self.progress = progress
        self.backend = "seq2seq" if getattr(model.config, "is_encoder_decoder", False) else "causal"
        self._max_length = max_length
        self.stats = ScoringStats()
        self.plan = plan_batches(model, batch_size)
        self._causal = (CausalScorer(RowScorer(model, tokenizer.pad_token_id), self.plan, self.stats)
                        if self.backend == "causal" else None)
        self._encode_cached = lru_cache(maxsize=8192)(self._encode_uncached)
        self.precision = precision
        self._fast_exact = self._fast_exact_scorer(precision, fingerprint)
        prefix = self.prefix_token_id
        self._bos_text = tokenizer.decode(prefix) if prefix is not None else None

    # ----- construction -----------------------------------------------------------------
    @classmethod
    def from_loaded(cls, loaded: Any, batch_size: int | str = "auto", progress: Progress | None = None,
                    max_length: int | None = None, generation: str = "loop",
                    precision: str = "exact") -> "EvalkitLM":
        """A backend over an evalkit LoadedModel."""
        return cls(loaded.model, loaded.tokenizer, device=loaded.device, batch_size=batch_size,
                   max_length=max_length, progress=progress, generation=generation,
                   precision=precision, fingerprint=loaded.fingerprint)

    def _fast_exact_scorer(self, precision: str, fingerprint: str | None) -> Any:
        """The fast-exact path (evalkit.scoring.fast_exact) or None: exact, or not a causal model."""
        from evalkit.scoring.precision import PRECISIONS

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if precision == "exact" or self._causal is None:
            return None
        import torch

        if next(self._model.parameters()).dtype != torch.float32:
            raise ValueError("precision 'fast-exact' decides in float32: load the model in float32")
        from evalkit.scoring.fast_exact import FastExactScorer

        return FastExactScorer(self, fingerprint)

    def register_task(self, name: str, task: Any) -> None:
        """Tell fast-exact which metrics decide task `name` (lm-eval task object); a no-op when exact."""
        if self._fast_exact is not None:
            self._fast_exact.register_task(name, task)

    def precision_details(self) -> dict[str, Any]:
        """What the cell stores about precision (details["precision"])."""
        if self._fast_exact is None:
            reason = {} if self.precision == "exact" else {"fallback": "encoder-decoder model: float32 throughout"}
            return {"precision": self.precision, **reason}
        return self._fast_exact.report.as_dict()

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None) -> "EvalkitLM":
        """`pretrained=<evalkit model spec>,dtype=...,device=...,batch_size=...,adapter=...`."""
        from lm_eval.utils import simple_parse_args_string

        return cls.create_from_arg_obj(simple_parse_args_string(arg_string), additional_config)

    @classmethod
    def create_from_arg_obj(cls, arg_dict: dict[str, Any], additional_config: dict | None = None) -> "EvalkitLM":
        from evalkit.scoring.arguments import load_from_arguments

        return load_from_arguments(cls, dict(arg_dict), additional_config or {})

    # ----- lm-eval properties ---------------------------------------------------------------
    @property
    def model(self) -> Any:
        return self._model

    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else self.tokenizer.eos_token_id

    @property
    def max_length(self) -> int:
        if self._max_length:
            return self._max_length
        from lm_eval.models.utils import resolve_max_length

        return resolve_max_length(self._model.config, self.tokenizer, default=_DEFAULT_MAX_LENGTH)

    @property
    def max_gen_toks(self) -> int:
        return DEFAULT_MAX_GEN_TOKS

    @property
    def tokenizer_name(self) -> str:
        return self.tokenizer.name_or_path.replace("/", "__")

    # ----- chat templates (lm-eval's API, rendered as HFLM renders them: evalkit.plan.prompts) ---------
    # A named template of the tokenizer (--apply-chat-template NAME); None: the tokenizer's default one.
    # lm-eval's evaluator passes only apply_chat_template to the tasks, so the name is set here.
    chat_template_name: str | None = None

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        from evalkit.scoring.chat import render_chat

        return render_chat(self.tokenizer, chat_history, add_generation_prompt=add_generation_prompt,
                           template_name=self.chat_template_name)

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        """The template string lm-eval records (and hashes as chat_template_sha): TemplateLM's
        resolution, with the backend's selected name when asked for True."""
        if chat_template is True and self.chat_template_name is not None:
            chat_template = self.chat_template_name
        return super().chat_template(chat_template)

    # ----- tokenisation (as HFLM.tok_encode with add_bos_token unset) ---------------------
    def tok_encode(self, string: str, add_special_tokens: bool | None = None, left_truncate_len: int | None = None,
                   **kwargs: Any) -> list[int]:
        encoding = list(self._encode_cached(string, add_special_tokens))
        return encoding[-left_truncate_len:] if left_truncate_len else encoding

    def _encode_uncached(self, string: str, add_special_tokens: bool | None) -> tuple[int, ...]:
        kwargs: dict[str, Any] = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        if add_special_tokens is None and self._bos_text is not None and string.startswith(self._bos_text):
            kwargs["add_special_tokens"] = False
        return tuple(self.tokenizer.encode(string, **kwargs))

    def encode_request(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """The (context, continuation) token ids that loglikelihood scores, by lm-eval's
        TemplateLM.loglikelihood rule: the one encoding that evaluation and fine-tuning share."""
        if context != "":
            return self._encode_pair(context, continuation)
        # An empty context is conditioned on the prefix token (BOS, else EOS), as lm-eval does.
        continuation_enc = self.tok_encode(continuation, add_special_tokens=False)
        if continuation_enc and continuation_enc[0] == self.prefix_token_id:
            return continuation_enc[:1], continuation_enc[1:]
        return [self.prefix_token_id], continuation_enc

    # ----- the three request types ---------------------------------------------------------------
    def loglikelihood(self, requests: list, disable_tqdm: bool = True) -> list[tuple[float, bool]]:
        from evalkit.scoring.checks import check_token_request

        try:
            token_requests = []
            for req in requests:
                context_enc, continuation_enc = self.encode_request(*req.args)
                check_token_request(req, continuation_enc, self.max_length)
                token_requests.append((req.args, context_enc, continuation_enc))
            if self._fast_exact is not None:
                return self._fast_exact.loglikelihood(requests, token_requests)
            return self._loglikelihood_tokens(token_requests)
        finally:
            self._encode_cached.cache_clear()

    def _loglikelihood_tokens(self, requests: list, disable_tqdm: bool = True, kind: str = "loglikelihood",
                              **kwargs: Any) -> list[tuple[float, bool]]:
        from evalkit.scoring.loglikelihood import causal_items, seq2seq_loglikelihood

        self.stats.requests += len(requests)
        on_batch = self._progress_counter(kind, len(requests))
        if self._causal is None:
            results = seq2seq_loglikelihood(self._model, requests, self.max_length, self.plan, self.stats, on_batch)
        else:
            results = self._causal.run(causal_items(requests, self.max_length), on_batch)
        if kind == "loglikelihood":
            for (strings, _, _), answer in zip(requests, results):
                if strings is not None:
                    self.cache_hook.add_partial("loglikelihood", strings, answer)
        return results

    def loglikelihood_rolling(self, requests: list, disable_tqdm: bool = True) -> list[float]:
        """Sum of token log-probabilities over lm-eval's disjoint rolling windows."""
        from lm_eval import utils

        windows: list[tuple[None, list[int], list[int]]] = []
        owner: list[int] = []
        for index, (string,) in enumerate(req.args for req in requests):
            tokens = self.tok_encode(string)
            for context, continuation in map(utils.make_disjoint_window, utils.get_rolling_token_windows(
                    token_list=tokens, prefix_token=self.prefix_token_id, max_seq_len=self.max_length,
                    context_len=1)):
                windows.append((None, context, continuation))
                owner.append(index)
        scores = self._loglikelihood_tokens(windows, kind="loglikelihood_rolling") if windows else []
        totals = [0.0] * len(requests)
        for index, (value, _greedy) in zip(owner, scores):
            totals[index] += value
        for req, total in zip(requests, totals):
            self.cache_hook.add_partial("loglikelihood_rolling", req.args, total)
        return totals

    def generate_until(self, requests: list, disable_tqdm: bool = True) -> list[str]:
        from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs

        from evalkit.scoring.checks import check_generation_length
        from evalkit.scoring.generation import GenerationSettings, Generator

        generator = Generator(self._model, self.tokenizer, encoder_decoder=self.backend == "seq2seq",
                              max_length=self.max_length, rows_for_length=self.plan.generation_rows,
                              stats=self.stats, use_generate=self.generation == "generate")
        eos = self.tokenizer.decode(self.eot_token_id, skip_special_tokens=False)
        groups: dict[str, list[int]] = {}
        for index, req in enumerate(requests):
            groups.setdefault(json.dumps(req.args[1], sort_keys=True, default=str), []).append(index)
        results = [""] * len(requests)
        on_batch = self._progress_counter("generate_until", len(requests))
        self.stats.requests += len(requests)
        for indices in groups.values():
            kwargs = dict(normalize_gen_kwargs(requests[indices[0]].args[1], self.max_gen_toks))
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
            settings = GenerationSettings(until=until, max_gen_toks=int(kwargs.pop("max_gen_toks")), extra=kwargs)
            check_generation_length(requests[indices[0]], settings.max_gen_toks, self.max_length,
                                    encoder_decoder=self.backend == "seq2seq")
            texts = generator.run([requests[i].args[0] for i in indices], settings, on_batch)
            for i, text in zip(indices, texts):
                results[i] = text
                self.cache_hook.add_partial("generate_until", requests[i].args, text)
        return results

    def _progress_counter(self, kind: str, total: int) -> Callable[[int], None] | None:
        if self.progress is None:
            return None
        done = 0

        def on_batch(finished: int) -> None:
            nonlocal done
            done += finished
            self.progress(kind, min(done, total), total)

        return on_batch
