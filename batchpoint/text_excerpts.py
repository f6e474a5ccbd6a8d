"""Safe excerpts of text that may quote an input file; the code lives in ``scoring/builtin/text_excerpts.py``.

It is standalone there because the built-in scorer needs it inside a model's own environment.
"""

from __future__ import annotations

from batchpoint.scoring.builtin.text_excerpts import EXCERPT_CHARS, excerpt

__all__ = ["EXCERPT_CHARS", "excerpt"]
