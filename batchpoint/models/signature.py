"""A model's input signature in core form (for manifests and resolved models); defined in ``builtin/input_tables.py``.

It lives there, standalone, because the built-in scorer casts inputs to it inside a model's own
environment, where batchpoint is not importable.
"""

from __future__ import annotations

from batchpoint.scoring.builtin.input_tables import COLUMN_TYPES, ColumnSpec, ColumnType, InputSignature

__all__ = ["COLUMN_TYPES", "ColumnSpec", "ColumnType", "InputSignature"]
