"""Chat templates at scoring time: the template a run selects (and its hash), a check that it
renders before the model loads, and the rendering lm-eval's few-shot context calls."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from evalkit.errors import InputError, did_you_mean
from evalkit.plan.prompts import ChatRenderer, PromptOptions, text_sha


def selected_chat_template(tokenizer: Any, choice: bool | str, *, model: str) -> str:
    """The template string lm-eval's `lm.chat_template(choice)` returns (what its chat_template_sha
    hashes), found by lm-eval's own resolution; InputError when there is none or NAME is unknown.
    Stricter than lm-eval in one case: a NAME for a tokenizer with a single template is refused
    (lm-eval ignores the name with a warning)."""
    from types import SimpleNamespace

    from lm_eval.api.model import TemplateLM

    templates = getattr(tokenizer, "chat_template", None)
    hint = "Use a model whose tokenizer has a chat template, or leave out --apply-chat-template."
    if not templates:
        raise InputError(f"--apply-chat-template: the tokenizer of model '{model}' has no chat template.", hint=hint)
    if isinstance(choice, str) and not isinstance(templates, dict):
        raise InputError(f"--apply-chat-template {choice}: the tokenizer of model '{model}' has a single, unnamed "
                         f"chat template, so there is no template named '{choice}'.",
                         hint="Pass --apply-chat-template without a name to use it.")
    if isinstance(templates, dict) and (isinstance(choice, str) or "default" not in templates):
        names = sorted(templates)
        if choice not in templates:
            asked = f" {choice}" if isinstance(choice, str) else ""
            raise InputError(f"--apply-chat-template{asked}: the tokenizer of model '{model}' has no chat template "
                             f"named '{choice if asked else 'default'}'."
                             + (did_you_mean(choice, names) if asked else ""),
                             hint=f"Name one of its templates: {', '.join(names)}.")
    return str(TemplateLM.chat_template(SimpleNamespace(tokenizer=tokenizer), choice))  # type: ignore[arg-type]


def with_template_sha(options: PromptOptions, tokenizer: Any, *, model: str) -> PromptOptions:
    """The options with the chat template's hash filled in (unchanged without a chat template)."""
    if not options.chat_template:
        return options
    return replace(options, chat_template_sha=text_sha(selected_chat_template(tokenizer, options.chat_template,
                                                                                  model=model)))


def check_chat_template(tokenizer: Any, options: PromptOptions, *, model: str) -> None:
    """Render the selected chat template once on a tiny conversation, time-limited like task prompts
    (evalkit.tasks.render_limit): a template that raises, does not parse or never ends is bad input
    found before the model loads, not a failed run blamed on the task's few-shot context."""
    from evalkit.tasks.render_limit import ENV_VAR, RenderTimeout, render_timeout_s, time_limit

    if not options.chat_template:
        return
    turns = [{"role": "user", "content": "Hello"}]
    if options.fewshot_as_multiturn:
        turns = [{"role": "user", "content": "1 + 1?"}, {"role": "assistant", "content": "2"}] + turns
    if options.system_instruction:
        turns = [{"role": "system", "content": "Answer briefly."}] + turns
    source = (f"the chat template{f' {options.template_name!r}' if options.template_name else ''} of model "
              f"'{model}' (tokenizer files in {getattr(tokenizer, 'name_or_path', '?')})")
    seconds = render_timeout_s()
    try:
        with time_limit(seconds):
            render_chat(tokenizer, turns, template_name=options.template_name)
    except RenderTimeout as exc:
        raise InputError(f"--apply-chat-template: {source} did not finish rendering a {len(turns)}-message "
                         f"conversation within {seconds:g} s.",
                         hint=f"Fix the template (a loop that never ends?); {ENV_VAR} sets the limit.") from exc
    except Exception as exc:  # jinja2 syntax errors, raise_exception(...), a missing variable
        lines = str(exc).strip().splitlines()
        raise InputError(f"--apply-chat-template: {source} fails on a {len(turns)}-message conversation: "
                         f"{type(exc).__name__}: {lines[0][:300] if lines else ''}",
                         hint="Fix the tokenizer's chat template (tokenizer_config.json or chat_template.jinja), "
                              "or leave out --apply-chat-template.") from exc


def render_chat(tokenizer: Any, chat_history: list[dict[str, str]], *, add_generation_prompt: bool = True,
                template_name: str | None = None) -> str:
    """A conversation rendered as lm-eval's HFLM.apply_chat_template renders it (a template that
    refuses the system role is retried without system messages, as HFLM does); `template_name`
    picks a named template of the tokenizer."""
    import jinja2

    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": add_generation_prompt,
                              "continue_final_message": not add_generation_prompt}
    if template_name is not None:
        kwargs["chat_template"] = template_name
    try:
        return str(tokenizer.apply_chat_template(chat_history, **kwargs))
    except jinja2.exceptions.TemplateError:
        without_system = [m for m in chat_history if m["role"] != "system"]
        return str(tokenizer.apply_chat_template(without_system, **kwargs))


def chat_renderer(tokenizer: Any, options: PromptOptions) -> ChatRenderer | None:
    """The `chat_template` callable lm-eval's fewshot_context takes, for the options (None: plain)."""
    if not options.chat_template:
        return None

    def render(chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return render_chat(tokenizer, chat_history, add_generation_prompt=add_generation_prompt,
                           template_name=options.template_name)

    return render
