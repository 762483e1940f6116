"""ASCII stand-ins for the few non-ASCII symbols evalkit writes ("→", "±", "Δ", box drawing aside),
so output to a terminal or log that cannot encode them degrades to readable text instead of crashing.

One table, used twice: the terminal table layout (evalkit.report.rich_fit) swaps symbols before it
measures columns, so an ASCII table stays aligned; the CLI's stdout / stderr encode anything else
through `ENCODE_ERRORS` (the same stand-ins, then backslash escapes for other text such as stored names).
"""

from __future__ import annotations

import codecs

ASCII_FALLBACK: dict[str, str] = {
    "→": "->", "±": "+/-", "−": "-", "–": "-", "—": "--", "Δ": "d", "α": "alpha", "·": "-", "…": "...",
    "★": "*", "✓": "ok", "✗": "x", "✅": "[ok]", "❌": "[x]", "≥": ">=", "≤": "<=",
    "▁": "_", "▂": ".", "▃": ",", "▄": "-", "▅": "=", "▆": "+", "▇": "*", "█": "#",
}
ENCODE_ERRORS = "evalkit-ascii-fallback"  # a codecs error handler name (registered on import)

_TRANSLATION = str.maketrans(ASCII_FALLBACK)


def ascii_text(text: str) -> str:
    """`text` with evalkit's symbols replaced by their ASCII stand-ins (other characters unchanged)."""
    return text.translate(_TRANSLATION)


def _encode_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a known symbol becomes its stand-in, anything else a backslash escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    text = "".join(ASCII_FALLBACK.get(c) or c.encode("ascii", "backslashreplace").decode("ascii") for c in bad)
    return text, error.end


codecs.register_error(ENCODE_ERRORS, _encode_fallback)


def encoding_safe(stream: object) -> None:
    """Let `stream` (the process's stdout or stderr) write any text: what its encoding cannot hold
    becomes an ASCII stand-in or a backslash escape instead of a UnicodeEncodeError, so output never
    changes a command's exit code. Streams that cannot be reconfigured (a test's StringIO) are left alone."""
    reconfigure = getattr(stream, "reconfigure", None)
    if callable(reconfigure):
        try:
            reconfigure(errors=ENCODE_ERRORS)
        except (AttributeError, ValueError, OSError):  # a detached or closed stream: nothing to protect
            pass
