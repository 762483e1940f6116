"""lm-eval's ConfigurableTask with every prompt rendering under evalkit's time limit.

Imported only by `load_task` (it imports lm-eval). Overriding the rendering methods covers every
caller: lm-eval's own first-document check while the task is built, few-shot contexts, the
evaluator, `tasks show/validate`, and fine-tuning examples.
"""

from __future__ import annotations

from typing import Any

from lm_eval.api.task import ConfigurableTask

from evalkit.errors import TaskError
from evalkit.tasks.document_checks import empty_choice
from evalkit.tasks.render_limit import bounded_render


class BoundedTask(ConfigurableTask):
    """A ConfigurableTask whose doc_to_text/target/choice and fewshot_context are time-limited."""

    def __init__(self, *args: Any, evalkit_label: str = "Task", **kwargs: Any) -> None:
        self.evalkit_label = evalkit_label
        self._evalkit_last_choices: Any = None
        try:
            super().__init__(*args, **kwargs)
        except IndexError as exc:  # lm-eval's first-document check indexes each choice's first character
            if (empty := empty_choice(self._evalkit_last_choices)) is None:
                raise
            raise TaskError(f"{evalkit_label}, key 'doc_to_choice': the first evaluation document's {empty}.",
                            hint="Every choice needs text to score; fix the data or the doc_to_choice "
                                 "template.") from exc

    def doc_to_text(self, doc: Any, *args: Any, **kwargs: Any) -> Any:
        with bounded_render(self.evalkit_label, "doc_to_text", doc):
            return super().doc_to_text(doc, *args, **kwargs)

    def doc_to_target(self, doc: Any, *args: Any, **kwargs: Any) -> Any:
        with bounded_render(self.evalkit_label, "doc_to_target", doc):
            return super().doc_to_target(doc, *args, **kwargs)

    def doc_to_choice(self, doc: Any, *args: Any, **kwargs: Any) -> Any:
        with bounded_render(self.evalkit_label, "doc_to_choice", doc):
            self._evalkit_last_choices = super().doc_to_choice(doc, *args, **kwargs)
            return self._evalkit_last_choices

    def fewshot_context(self, doc: Any, *args: Any, **kwargs: Any) -> Any:
        with bounded_render(self.evalkit_label, "fewshot_context (description / few-shot examples)", doc):
            return super().fewshot_context(doc, *args, **kwargs)
