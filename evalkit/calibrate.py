"""`evalkit calibrate`: re-run a stored run's cells with one nuisance changed (batch size, dtype, processes,
sampling seed), through the same path as `evalkit run` (evalkit.api.run), with no request cache and no
cell reuse (a cached answer would hide the nuisance), stored as a run whose config links it to its source:
{"calibration_of": RUN_ID, "nuisance": {KEY: VALUE}}. The noise is measured by evalkit.compare.calibration.

Everything that can be wrong is found at the door, before a model loads or the store is written: an
unknown run, an unknown nuisance key or value, a value equal to what the run used, a run that was imported
(from lm-eval's files: no model evaluation to repeat) or that `evalkit run` did not record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from evalkit.errors import InputError
from evalkit.models.spec import DTYPES

# nuisance key -> the run config key it changes (processes: not recorded, every stored run used one process)
NUISANCES = {"batch-size": "batch_size", "dtype": "dtype", "processes": "processes", "seed": "seed"}
_RUN_KEYS = ("models", "tasks", "include_paths")  # the rest of a run's config is evalkit.build_cells's options


@dataclass(frozen=True)
class Nuisance:
    """One changed run option: its command-line key (batch-size) and its typed value."""

    key: str
    value: int | str

    @property
    def label(self) -> str:
        return f"{self.key}={self.value}"


def parse_nuisance(text: str) -> Nuisance:
    """`KEY=VALUE` with a known key and a value of that key's type; InputError otherwise."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    known = ", ".join(f"{k}=" for k in NUISANCES)
    if not sep or key not in NUISANCES:
        raise InputError(f"--nuisance '{text}': unknown nuisance '{key}' (known: {known}).",
                         hint="Change one of them, e.g. --nuisance batch-size=1 or --nuisance dtype=bfloat16.")
    if key == "dtype":
        if value not in DTYPES:
            raise InputError(f"--nuisance '{text}': dtype must be one of {', '.join(DTYPES)}.",
                             hint="For example --nuisance dtype=bfloat16.")
        return Nuisance(key, value)
    if key == "batch-size" and value == "auto":
        return Nuisance(key, value)
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < (0 if key == "seed" else 1):
        raise InputError(f"--nuisance '{text}': {key} must be a whole number of at least {0 if key == 'seed' else 1}.",
                         hint=f"For example --nuisance {key}=2.")
    return Nuisance(key, number)


def rerun_config(config: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The source run's config, checked to be one `evalkit run` recorded (models and tasks to re-run)."""
    if isinstance(config, str):
        config = json.loads(config) if config.strip() else {}
    if not isinstance(config, Mapping) or config.get("source") or not config.get("models") or not config.get("tasks"):
        what = f"imported from {config.get('source')}" if isinstance(config, Mapping) and config.get("source") \
            else "not recorded by `evalkit run` (its config names no models and tasks)"
        raise InputError(f"{where} was {what}: there is no model evaluation to re-run.",
                         hint="Calibrate a run that `evalkit run` stored in this store.")
    if config.get("calibration_of"):
        raise InputError(f"{where} is itself a calibration re-run of {config['calibration_of']}.",
                         hint=f"Calibrate the source run {config['calibration_of']}.")
    return dict(config)


def check_changed(config: Mapping[str, Any], nuisance: Nuisance, where: str,
                  cell_details: Sequence[Mapping[str, Any]] = ()) -> None:
    """InputError when the nuisance value is the one the run already used (nothing would change): as given,
    or as every cell resolved it (`--dtype auto` that ran as float32; cell details hold dtype and batch_size)."""
    key = NUISANCES[nuisance.key]
    used = config.get(key, 1 if nuisance.key == "processes" else None)
    resolved = {str(d.get(key)) for d in cell_details if isinstance(d, Mapping) and d.get(key) is not None}
    if resolved == {str(nuisance.value)} and key in ("dtype", "batch_size") and str(used) != str(nuisance.value):
        used = f"{nuisance.value} (given as {used})"
    if str(used).split(" ")[0] == str(nuisance.value):
        raise InputError(f"--nuisance {nuisance.label}: {where} already ran with {nuisance.key} {used}, so the re-run "
                         "would measure nothing.", hint=f"Choose a {nuisance.key} other than {used}.")


def rerun_options(config: Mapping[str, Any], nuisance: Nuisance) -> dict[str, Any]:
    """evalkit.run's options for the re-run: the source's, with the nuisance changed, nothing reused."""
    from evalkit.plan import FineTuneOptions

    options = {k: v for k, v in config.items() if k not in _RUN_KEYS}
    finetune = options.get("finetune")
    options["finetune"] = FineTuneOptions(**finetune) if isinstance(finetune, Mapping) else None
    options["request_cache"] = False  # a cached answer was computed under the old nuisance
    if nuisance.key == "seed":  # only sampled generation changes: the few-shot examples stay those of the source
        pinned = config.get("fewshot_seed")
        options["fewshot_seed"] = config.get("seed") if pinned is None else pinned
    if nuisance.key != "processes":
        options[NUISANCES[nuisance.key]] = nuisance.value
    return options


def calibrate(config: Mapping[str, Any], source_id: str, nuisance: Nuisance, *, store: Any, name: str | None,
              progress: Any = None) -> str:
    """Re-run the source's cells with the nuisance changed; the new run's id."""
    from evalkit.api import run

    frame = run(list(config["models"]), list(config["tasks"]), include_paths=list(config.get("include_paths") or ()),
                store=store, name=name, progress=progress, rerun=True,
                linked={"calibration_of": source_id, "nuisance": {nuisance.key: nuisance.value}},
                **rerun_options(config, nuisance))
    return str(frame.attrs["run_id"])
