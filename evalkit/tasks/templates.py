"""Task templates rendered in a sandbox.

lm-eval renders `doc_to_text` / `doc_to_target` / `doc_to_choice` / `gen_prefix` templates with a
plain jinja2 Environment, in which `{{ cycler.__init__.__globals__.__builtins__ }}` reaches Python's
builtins: a task YAML could run any code on disk, from outside the task's folder, where hooks may
not. evalkit swaps lm-eval's environment for jinja2's SandboxedEnvironment with the same settings
(no loader, StrictUndefined, trailing newlines kept, lm-eval's filters such as `regex_replace`);
it refuses underscore attributes and other unsafe access with a SecurityError, reported as a task
error. Templates that only read the document render exactly as before.
"""

from __future__ import annotations


def sandbox_lm_eval_templates() -> None:
    """Make lm-eval's template environment a sandbox (once per process; idempotent)."""
    import lm_eval.utils as lm_eval_utils
    from jinja2 import BaseLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    current = lm_eval_utils.env
    if isinstance(current, SandboxedEnvironment):
        return
    sandbox = SandboxedEnvironment(loader=BaseLoader(), undefined=StrictUndefined,
                                   keep_trailing_newline=current.keep_trailing_newline)
    sandbox.filters.update(current.filters)
    sandbox.tests.update(current.tests)
    lm_eval_utils.env = sandbox
