"""Adapter checkpoints of one series evaluated on one base model held in memory.

`AdapterSwitcher` activates PEFT adapters one after another on the same base weights (load
the next adapter, make it active, delete the previous one), so a series of K adapter
checkpoints costs one base load plus K small adapter loads. `SharedBaseLoader` does the same
at the level of evalkit's `LoadedModel`, for the runner. peft is imported inside the methods.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from evalkit.errors import ModelError
from evalkit.models.fingerprint import combine, directory_fingerprint

# ModelSpec fields that describe a member rather than the base model it loads onto.
MEMBER_FIELDS = ("adapter", "member")


class AdapterSwitcher:
    """Keeps one base model and switches the active PEFT adapter without reloading the base."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self._peft: Any = None
        self._active: str | None = None
        self._loaded = 0

    @property
    def model(self) -> Any:
        """The PeftModel wrapping the base, with the latest adapter active (None before the first)."""
        return self._peft

    @property
    def active(self) -> str | None:
        """Folder of the active adapter."""
        return self._active

    def activate(self, adapter_dir: str | Path) -> Any:
        """Make the adapter in `adapter_dir` the only one on the base; return the PeftModel."""
        name = f"member{self._loaded}"
        try:
            if self._peft is None:
                self._peft = _first_adapter(self.base, str(adapter_dir), name)
            else:
                self._replace_adapter(str(adapter_dir), name)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise ModelError(f"Cannot apply adapter '{adapter_dir}': {_first_line(exc)}",
                             hint="Every adapter of a series must have been trained on the same base model.") from exc
        self._loaded += 1
        self._active = str(adapter_dir)
        self._peft.eval()
        return self._peft

    def _replace_adapter(self, adapter_dir: str, name: str) -> None:
        """Load the next adapter, activate it, then free the previous one."""
        previous = self._peft.active_adapter
        self._peft.load_adapter(adapter_dir, adapter_name=name)
        self._peft.set_adapter(name, inference_mode=True)
        self._peft.delete_adapter(previous)


def _first_adapter(base: Any, adapter_dir: str, name: str) -> Any:
    """Wrap the base in a PeftModel holding its first adapter."""
    from peft import PeftModel

    return PeftModel.from_pretrained(base, adapter_dir, adapter_name=name)


class SharedBaseLoader:
    """Loads models for a sequence of cells: an adapter spec on the base already in memory
    switches adapters instead of loading the base again."""

    def __init__(self, load: Callable[[Any], Any] | None = None) -> None:
        self._load = load or _default_load
        self._current: Any = None
        self._base: Any = None
        self._switcher: AdapterSwitcher | None = None
        self.base_loads = 0

    def holds_base_of(self, spec: Any) -> bool:
        """Whether loading `spec` will switch adapters on the base in memory instead of loading."""
        return spec.adapter is not None and self._base is not None and self._base.spec == base_spec_of(spec)

    def load(self, spec: Any) -> Any:
        """The LoadedModel for `spec`, reusing the model in memory where it can."""
        if self._current is not None and self._current.spec == spec:
            return self._current
        if spec.adapter is None:
            self._forget()
            self._current = self._load(spec)
            return self._current
        base_spec = base_spec_of(spec)
        if self._base is None or self._base.spec != base_spec:
            self._forget()
            self._base = self._load(base_spec)
            self._switcher = AdapterSwitcher(self._base.model)
            self.base_loads += 1
        assert self._switcher is not None
        model = self._switcher.activate(spec.adapter)
        model.to(self._base.device)
        fingerprint = combine(self._base.fingerprint, directory_fingerprint(Path(spec.adapter)))
        self._current = dataclasses.replace(self._base, spec=spec, model=model, fingerprint=fingerprint)
        return self._current

    def _forget(self) -> None:
        """Drop the models held (the base has adapter layers injected, so it is not reused bare)."""
        self._current = self._base = self._switcher = None


def base_spec_of(spec: Any) -> Any:
    """The spec of the base model an adapter member loads onto: member-only fields reset."""
    defaults = {f.name: f.default for f in dataclasses.fields(spec) if f.name in MEMBER_FIELDS}
    return dataclasses.replace(spec, **defaults)


def _default_load(spec: Any) -> Any:
    """evalkit's loader, imported when first needed."""
    from evalkit.models.loading import load_model

    return load_model(spec)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
