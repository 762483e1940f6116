"""The plan room: what a run will compute, decided before anything loads. `cells` expands models x
tasks x settings into Cells (with their limits, seeds and fine-tuning options), `settings` parses
the setting names (zero-shot, k-shot, fine-tuned, transfer), `prompts` holds the prompt options.
This facade re-exports the names the rest of evalkit imports from `evalkit.plan`."""

from evalkit.plan.cells import (
    ALL_TASKS,
    FINETUNE_METHODS,
    FINETUNE_OBJECTIVES,
    SEED_RANGE,
    Cell,
    FineTuneOptions,
    StudyFacts,
    document_count,
    expand_cells,
    make_plan,
    resolve_task_facts,
    snapshot_steps,
    trains_on_itself,
)

__all__ = ["ALL_TASKS", "FINETUNE_METHODS", "FINETUNE_OBJECTIVES", "SEED_RANGE", "Cell", "FineTuneOptions",
           "StudyFacts", "document_count", "expand_cells", "make_plan", "resolve_task_facts", "snapshot_steps",
           "trains_on_itself"]
