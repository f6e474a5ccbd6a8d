"""Safe excerpts of text that may quote an input file: printable, one line, bounded.

A parser's error quotes the row it choked on, so a corrupt (binary) file would put raw bytes,
control characters and megabytes into ``job_error.txt`` and the manifest. ``excerpt`` is applied
where such text is recorded and again where logs are written; it is idempotent for the same limit.

Standard library only: the built-in scorer uses it inside a model's own environment, where
batchpoint is not importable. batchpoint's core imports it as ``batchpoint.text_excerpts``.
"""

from __future__ import annotations

EXCERPT_CHARS = 500
"""Characters an error keeps by default, the note on what was cut included."""

_REPLACEMENT = "\ufffd"  # what undecodable bytes became: printable, but says nothing


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` with every non-printable character escaped (``\\x05``, ``\\n``), cut to ``limit`` characters.

    A cut text ends with ``… (<n> more bytes cut)``, ``n`` being the UTF-8 size of what was left out.
    """
    escaped = "".join(_printable(ch) for ch in text)
    if len(escaped) <= limit:
        return escaped
    # The note for cutting everything is the longest one possible: room for it is enough.
    longest = len(_note(len(escaped.encode())))
    keep = max(limit - longest, 0)
    return escaped[:keep] + _note(len(escaped[keep:].encode()))


def _note(cut: int) -> str:
    return f"… ({cut} more bytes cut)"


def _printable(ch: str) -> str:
    if ch.isprintable() and ch != _REPLACEMENT:
        return ch
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
