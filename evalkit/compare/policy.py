"""A gate policy: per task / metric tolerance (absolute and relative), tier, direction and minimum documents,
the tasks that must be present, the metrics gated, whether stored clusters are used.

A policy file is YAML:

    defaults: {tolerance: 0.01, relative: null, tier: required, min_documents: 0, clusters: true}
    rules:                       # later rules win; task / metric are shell patterns
      - {task: "mmlu_*", metric: acc, tolerance: 0.02}
      - {metric: bleu, tolerance: 1.0, tier: advisory}
      - {metric: my_score, direction: lower}
    required_tasks: [sst2, rte]  # a task the candidate lacks is NO-GO
    metrics: [acc, bleu]         # gate only these (default: every metric both runs report)
    calibration: noise.json      # a calibration run (`evalkit calibrate`) or its --json table; with a
                                 # rule's `noise_multiple: K` the tolerance is at least K x |its drift|

Every error names the file, the line and the key (exit 2).
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import InputError
from evalkit.regular_files import read_regular_bytes

TIERS = ("required", "advisory")
_MAX_POLICY_BYTES = 1 << 20
_RULE_KEYS = {"tolerance", "relative", "tier", "min_documents", "direction", "clusters", "noise_multiple"}


@dataclass(frozen=True)
class RowPolicy:
    """What the gate asks of one (task, metric) row."""

    tolerance: float = 0.01  # absolute, in metric units
    relative: float | None = None  # fraction of the baseline value; with both, the smaller tolerance applies
    tier: str = "required"
    min_documents: int = 0
    direction: str | None = None  # "higher" / "lower": overrides the stored direction
    clusters: bool = True  # use the documents' stored clusters when they have them
    noise_multiple: float | None = None  # K: the tolerance is at least K x the calibrated noise
    noise: float | None = None  # |aggregate drift| of this task / metric in the policy's calibration

    def tolerance_for(self, baseline_value: float) -> float:
        if self.relative is None or not math.isfinite(baseline_value):
            tolerance = self.tolerance
        else:
            tolerance = min(self.tolerance, self.relative * abs(baseline_value))
        if self.noise_multiple is None or self.noise is None:
            return tolerance
        return max(tolerance, self.noise_multiple * self.noise)


@dataclass(frozen=True)
class Rule:
    task: str
    metric: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class GatePolicy:
    defaults: RowPolicy = field(default_factory=RowPolicy)
    rules: tuple[Rule, ...] = ()
    required_tasks: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    source: str = "command line"
    noise: dict[tuple[str, str], float] | None = None  # (task, metric) -> |drift| from `calibration:`

    def row(self, task: str, metric: str) -> RowPolicy:
        """The matching rules applied (`row_rules`), with the calibrated noise of the row when there is one."""
        out = self.row_rules(task, metric)
        if self.noise is None:
            return out
        return replace(out, noise=self.noise.get((task, metric.split(",")[0])))

    def row_rules(self, task: str, metric: str) -> RowPolicy:
        """The defaults with every matching rule applied in order (`metric` may carry its filter: acc,none)."""
        out = self.defaults
        base = metric.split(",")[0]
        for rule in self.rules:
            if fnmatch.fnmatchcase(task, rule.task) and (fnmatch.fnmatchcase(metric, rule.metric)
                                                         or fnmatch.fnmatchcase(base, rule.metric)):
                out = replace(out, **rule.settings)
        return out


def simple_policy(max_drop: float) -> GatePolicy:
    """The policy `--max-drop` means: one absolute tolerance, every row required."""
    return GatePolicy(defaults=RowPolicy(tolerance=max_drop))


def load_policy(path: Path, max_drop: float | None = None, store: Any = None) -> GatePolicy:
    """Read and validate a policy file; `max_drop` (given on the command line) replaces the default tolerance;
    `store` is where a `calibration:` run reference is looked up."""
    try:
        text = read_regular_bytes(path, _MAX_POLICY_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # a FIFO or device is refused, never read (it would block)
        raise InputError(f"Cannot read the gate policy {path}: {exc}.", hint="Pass --policy an existing YAML file.") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InputError(f"The gate policy {path} is not valid YAML: {exc}.", hint="Fix the YAML syntax.") from exc
    where = _Where(str(path))
    if node is None:
        raise InputError(f"The gate policy {path} is empty.", hint="See README 'Use in CI' for a policy example.")
    top = where.mapping(node, "the policy", {"defaults", "rules", "required_tasks", "metrics", "calibration"})
    defaults = RowPolicy()
    if "defaults" in top:
        settings = where.settings(top["defaults"], "defaults")
        defaults = replace(defaults, **settings)
    if max_drop is not None:
        defaults = replace(defaults, tolerance=max_drop)
    rules = tuple(where.rule(item, i) for i, item in enumerate(where.sequence(top.get("rules"), "rules")))
    noise = where.calibration(top.get("calibration"), path.parent, store)
    return GatePolicy(defaults=defaults, rules=rules, source=str(path), noise=noise,
                      required_tasks=where.names(top.get("required_tasks"), "required_tasks"),
                      metrics=where.names(top.get("metrics"), "metrics"))


class _Where:
    """Validation of composed YAML nodes; every error names the file, line and key."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.noise_multiple: yaml.Node | None = None  # the first `noise_multiple:` seen (it needs `calibration:`)

    def fail(self, node: yaml.Node, what: str, hint: str) -> InputError:
        return InputError(f"Gate policy {self.path}, line {node.start_mark.line + 1}: {what}.", hint=hint)

    def mapping(self, node: yaml.Node, name: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{name} must be a mapping", "Write it as `key: value` lines.")
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = str(key_node.value)
            if key not in allowed:
                raise self.fail(key_node, f"unknown key '{key}' in {name}",
                                f"Allowed keys: {', '.join(sorted(allowed))}.")
            if key in out:
                raise self.fail(key_node, f"the key '{key}' appears twice in {name}", "Keep one of them.")
            out[key] = value
        return out

    def sequence(self, node: yaml.Node | None, name: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"'{name}' must be a list", f"Write `{name}:` followed by `- ...` items.")
        return list(node.value)

    def names(self, node: yaml.Node | None, name: str) -> tuple[str, ...]:
        out = []
        for item in self.sequence(node, name):
            if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
                raise self.fail(item, f"every entry of '{name}' must be a non-empty name", "Write names as strings.")
            out.append(str(item.value))
        return tuple(out)

    def rule(self, node: yaml.Node, index: int) -> Rule:
        fields = self.mapping(node, f"rule {index + 1}", _RULE_KEYS | {"task", "metric"})
        task = self.text(fields["task"], "task") if "task" in fields else "*"
        metric = self.text(fields["metric"], "metric") if "metric" in fields else "*"
        settings = self.settings(node, f"rule {index + 1}", skip={"task", "metric"})
        return Rule(task=task, metric=metric, settings=settings)

    def settings(self, node: yaml.Node, name: str, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
        fields = self.mapping(node, name, _RULE_KEYS | set(skip))
        return {key: self.setting(key, value) for key, value in fields.items() if key not in skip}

    def calibration(self, node: yaml.Node | None, folder: Path, store: Any) -> dict[tuple[str, str], float] | None:
        """The `calibration:` noise per (task, metric): a noise table file (relative to the policy) or a run."""
        from evalkit.compare.calibration import read_calibration_run, read_noise_file
        from evalkit.errors import EvalkitError

        if node is None:
            if self.noise_multiple is not None:
                raise self.fail(self.noise_multiple, "'noise_multiple' needs a top-level 'calibration'",
                                "Add `calibration: RUN_OR_FILE` (a run `evalkit calibrate` stored, or its --json).")
            return None
        ref = self.text(node, "calibration")
        file = folder / ref
        try:
            return read_noise_file(file) if file.is_file() else read_calibration_run(store, ref)
        except EvalkitError as exc:
            raise self.fail(node, f"'calibration': {exc.message}",
                            exc.hint or "Name a calibration run or file.") from exc

    def text(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(node, f"'{key}' must be a non-empty text", "Write a name or a shell pattern like mmlu_*.")
        return str(node.value)

    def setting(self, key: str, node: yaml.Node) -> Any:
        value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.Node) else node
        if key == "noise_multiple" and self.noise_multiple is None:
            self.noise_multiple = node
        if key in ("tolerance", "relative", "noise_multiple"):
            if value is None and key == "relative":
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise self.fail(node, f"'{key}' must be a finite number >= 0, not {value!r}",
                                "Tolerances are in the metric's units (relative: a fraction of the baseline).")
            return float(value)
        if key == "tier" and value not in TIERS:
            raise self.fail(node, f"'tier' must be one of {', '.join(TIERS)}, not {value!r}", "Use required or advisory.")
        if key == "min_documents" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise self.fail(node, f"'min_documents' must be an integer >= 0, not {value!r}", "Write e.g. 100.")
        if key == "direction" and value not in ("higher", "lower"):
            raise self.fail(node, f"'direction' must be higher or lower, not {value!r}",
                            "Say which way is better for the metric.")
        if key == "clusters" and not isinstance(value, bool):
            raise self.fail(node, f"'clusters' must be true or false, not {value!r}", "Write clusters: false.")
        return value
