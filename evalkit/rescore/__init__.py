"""`evalkit rescore RUN`: score a run's stored model outputs again, without loading the model.

lm-eval's own evaluator runs on a replay model (evalkit.rescore.replay) that answers every request
with the output stored for its document, so the task's current filters and metrics — or a filter chain
or metric named on the command line — give the numbers a fresh run would give on those outputs. The
result is a new run whose config says `rescore_of` and what `changed`; it pairs with its source in
`evalkit compare` (same documents).
"""

from evalkit.rescore.options import RescoreOptions
from evalkit.rescore.run import rescore_run

__all__ = ["RescoreOptions", "rescore_run"]
