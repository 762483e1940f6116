"""The type of every task key, checked before lm-eval sees the config.

The expected types come from lm-eval's own `TaskConfig` field annotations (one source of truth),
plus what `ConfigurableTask` accepts beyond them. A wrong type (`doc_to_choice: 5`,
`num_fewshot: "x"`, `metric_list: 5`) is a TaskError naming file and key, not lm-eval's bare
`TypeError` or a traceback deep in its constructor.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

from evalkit.errors import TaskError
from evalkit.tasks.clusters import cluster_key_problem
from evalkit.tasks.metric_names import check_metric_names
from evalkit.tasks.yaml_source import FunctionRef

_HOOK = FunctionRef  # a `!function` reference stands for lm-eval's `Callable`
_ANNOTATION_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "bool": (bool,), "list": (list,), "dict": (dict,),
    "dict[str, Any]": (dict,), "FewshotConfig": (dict,), "OutputType": (str,), "None": (type(None),),
    "Callable": (_HOOK,),
}
# ConfigurableTask accepts these although TaskConfig's annotations do not say so
# (`doc_to_target: 0` with a `doc_to_choice` list is common in lm-eval's own tasks).
_ALSO_ACCEPTED: dict[str, tuple[type, ...]] = {"doc_to_text": (int,), "doc_to_target": (int, list)}
_NAMES = {str: "a string", int: "an integer", bool: "true/false", list: "a list", dict: "a mapping",
          type(None): "empty", _HOOK: "a `!function` hook"}
_EXTRA_KEYS: dict[str, tuple[type, ...]] = {"group": (str, list), "class": (_HOOK,)}


@functools.cache
def expected_types() -> dict[str, tuple[type, ...]]:
    """Key -> accepted Python types, from lm-eval's TaskConfig annotations."""
    from lm_eval.config.task import TaskConfig

    table: dict[str, tuple[type, ...]] = dict(_EXTRA_KEYS)
    for spec in dataclasses.fields(TaskConfig):
        annotation = spec.type if isinstance(spec.type, str) else getattr(spec.type, "__name__", "")
        types: tuple[type, ...] = ()
        for token in (t.strip() for t in annotation.split("|")):
            types += _ANNOTATION_TYPES.get(token, ())
        table[spec.name] = types + _ALSO_ACCEPTED.get(spec.name, ())
    return table


def output_types() -> tuple[str, ...]:
    from typing import get_args

    from lm_eval.api.instance import OutputType

    return tuple(get_args(OutputType))


def check_types(config: dict[str, Any], yaml_path: Path | None) -> None:
    """Raise a TaskError for the first key whose value has the wrong type or an impossible value."""
    table = expected_types()
    for key, value in config.items():
        accepted = table.get(key)
        if accepted and not _is_a(value, accepted):
            wanted = " or ".join(dict.fromkeys(_NAMES[t] for t in accepted))
            _fail(yaml_path, key, f"must be {wanted}, not {_shown(value)}")
    _check_values(config, yaml_path)


def _is_a(value: Any, accepted: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # YAML `true` is not the integer 1
        return bool in accepted
    return isinstance(value, accepted)


def _check_values(config: dict[str, Any], yaml_path: Path | None) -> None:
    if config.get("dataset_path") is None and config.get("custom_dataset") is None and "task" in config:
        _fail(yaml_path, "dataset_path", "is missing: it names the data (e.g. `dataset_path: json` with "
              "dataset_kwargs.data_files, or a Hugging Face dataset id)")
    if isinstance(config.get("num_fewshot"), int) and config["num_fewshot"] < 0:
        _fail(yaml_path, "num_fewshot", f"must be 0 or more, not {config['num_fewshot']}")
    if isinstance(config.get("repeats"), int) and config["repeats"] < 1:
        _fail(yaml_path, "repeats", f"must be 1 or more, not {config['repeats']}")
    if "output_type" in config and config["output_type"] not in output_types():
        _fail(yaml_path, "output_type", f"must be one of {', '.join(output_types())}, not {_shown(config['output_type'])}")
    for i, item in enumerate(config.get("metric_list") or []):
        if not isinstance(item, dict) or not isinstance(item.get("metric"), (str, _HOOK)):
            _fail(yaml_path, f"metric_list[{i}]", f"must be a mapping with a `metric:` name, not {_shown(item)}")
    filters = config.get("filter_list")
    for i, item in enumerate(filters if isinstance(filters, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("filter"), list):
            _fail(yaml_path, f"filter_list[{i}]", f"must be a mapping with `name:` and a `filter:` list, not {_shown(item)}")
    _check_filter_patterns(filters, yaml_path)
    _check_generation_kwargs(config.get("generation_kwargs"), yaml_path)
    if (cluster := cluster_key_problem(config.get("metadata"))):
        _fail(yaml_path, "metadata.cluster", cluster)
    check_metric_names(config, yaml_path)


def _check_filter_patterns(filters: Any, yaml_path: Path | None) -> None:
    """Every `regex_pattern` of a filter compiles: lm-eval compiles it only when the filter first runs,
    after the model has answered every request."""
    for i, item in enumerate(filters if isinstance(filters, list) else []):
        for j, step in enumerate(item.get("filter") or []):
            pattern = step.get("regex_pattern") if isinstance(step, dict) else None
            if pattern is None:
                continue
            key = f"filter_list[{i}].filter[{j}].regex_pattern"
            if not isinstance(pattern, str):
                _fail(yaml_path, key, f"must be a regular expression (a string), not {_shown(pattern)}")
            try:
                re.compile(pattern)
            except re.error as exc:
                _fail(yaml_path, key, f"{_shown(pattern)} is not a valid regular expression ({exc})")


def _check_generation_kwargs(kwargs: Any, yaml_path: Path | None) -> None:
    if not isinstance(kwargs, dict):
        return
    until = kwargs.get("until")
    if until is not None and not (isinstance(until, str) or (isinstance(until, list) and all(isinstance(u, str) for u in until))):
        _fail(yaml_path, "generation_kwargs.until", f"must be a string or a list of strings, not {_shown(until)}")
    temperature = kwargs.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))):
        _fail(yaml_path, "generation_kwargs.temperature", f"must be a number, not {_shown(temperature)}")
    tokens = kwargs.get("max_gen_toks")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1):
        _fail(yaml_path, "generation_kwargs.max_gen_toks", f"must be a positive integer, not {_shown(tokens)}")


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, FunctionRef) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(yaml_path: Path | None, key: str, problem: str) -> None:
    raise TaskError(f"Task file '{yaml_path}', key '{key}' {problem}.",
                    hint="Task YAML uses lm-eval's task keys and types (see lm-eval's task guide).")
