"""How much of each document's prompt the backend cuts to fit the model's context.

A prompt longer than the model's context (forty few-shot examples on a 512-position model) is
left-truncated as lm-eval's HFLM does it (`loglikelihood.causal_items`, `seq2seq_loglikelihood`,
`generation.Generator`): the model then sees fewer shots than its setting says. `TruncationMeter`
counts, per document, the tokens cut from its longest request, so a cell stores (details["truncation"], read by evalkit.report.truncation)
and the run says how many documents were shortened and by how much. It wraps the lm-eval facing side
(outside the request cache), so requests answered from the cache or by other processes count as well.
"""

from __future__ import annotations

from typing import Any


def loglikelihood_cut(context: int, continuation: int, max_length: int, *, encoder_decoder: bool) -> int:
    """Context tokens a loglikelihood request loses: a causal model's input is
    `(context + continuation)[-(max_length + 1):][:-1]`, an encoder's the context's last max_length."""
    if encoder_decoder:
        return max(0, context - max_length)
    return max(0, context + continuation - 1 - max_length)


def generation_cut(context: int, max_gen_toks: int, max_length: int, *, encoder_decoder: bool) -> int:
    """Context tokens a generation request loses: a causal model keeps room for max_gen_toks."""
    room = max_length if encoder_decoder else max_length - max_gen_toks
    return max(0, context - room)


def generation_context_tokens(tokenizer: Any, text: str, *, encoder_decoder: bool) -> list[int]:
    """A generation prompt's tokens, as HFLM.tok_batch_encode: no special tokens when it starts with BOS."""
    from lm_eval.models.utils import has_bos_prefix

    bos = getattr(tokenizer, "bos_token", None)
    kwargs = {"add_special_tokens": False} if not encoder_decoder and has_bos_prefix(text, bos) else {}
    return list(tokenizer(text, **kwargs)["input_ids"])


class TruncationMeter:
    """An lm-eval LM proxy that measures each request's cut with the backend's own encoding, then
    passes the requests on unchanged; `record` is what the cell stores."""

    def __init__(self, lm: Any, backend: Any) -> None:
        self.lm = lm
        self.backend = backend  # the EvalkitLM: its encoding, max_length and kind of model
        self.cuts: dict[Any, int] = {}  # document -> most tokens cut from one of its requests

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lm, name)

    def loglikelihood(self, requests: list, *args: Any, **kwargs: Any) -> Any:
        for req in requests:
            context, continuation = self.backend.encode_request(*req.args)
            self._note(req, loglikelihood_cut(len(context), len(continuation), self.backend.max_length,
                                              encoder_decoder=self._encoder_decoder))
        return self.lm.loglikelihood(requests, *args, **kwargs)

    def generate_until(self, requests: list, *args: Any, **kwargs: Any) -> Any:
        from lm_eval.models.utils import normalize_gen_kwargs

        for req in requests:
            max_gen_toks = int(normalize_gen_kwargs(dict(req.args[1]), self.backend.max_gen_toks)["max_gen_toks"])
            tokens = generation_context_tokens(self.backend.tokenizer, req.args[0],
                                               encoder_decoder=self._encoder_decoder)
            self._note(req, generation_cut(len(tokens), max_gen_toks, self.backend.max_length,
                                           encoder_decoder=self._encoder_decoder))
        return self.lm.generate_until(requests, *args, **kwargs)

    @property
    def _encoder_decoder(self) -> bool:
        return self.backend.backend == "seq2seq"

    def _note(self, req: Any, cut: int) -> None:
        key = (getattr(req, "task_name", None), getattr(req, "doc_id", None))
        self.cuts[key] = max(cut, self.cuts.get(key, 0))

    def record(self) -> dict[str, Any] | None:
        """details["truncation"]: documents measured, how many lost prompt tokens, the most and the mean
        tokens cut (over those), and the context they were cut to; None when no request was measured."""
        if not self.cuts:
            return None
        cut = [value for value in self.cuts.values() if value > 0]
        return {"documents": len(self.cuts), "truncated_documents": len(cut), "max_length": self.backend.max_length,
                "max_cut_tokens": max(cut, default=0), "mean_cut_tokens": round(sum(cut) / len(cut), 1) if cut else 0.0}

