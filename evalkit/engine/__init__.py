"""The engine room: how a planned run is computed. `door` checks and prepares everything a run can
know before a model loads; `runner` records the run and drives an executor (`executors`: local or
Ray) over the cells; `cell` computes one cell (`evaluation` scores it with lm-eval, `compute`
meters it, `request_cache` makes it resumable); `cell_reuse` finds cells already in the store;
`processes` knows the distributed launch; `tensorboard` logs beside the store.

Deliberately no eager re-exports: importing a submodule stays as cheap as that submodule
(import `evalkit.engine.runner.execute`, `evalkit.engine.door.prepare_run` where needed)."""
