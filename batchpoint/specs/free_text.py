"""Free-text fields of every spec (``description``, ``tags``, ``properties``) and their sane maxima.

These are stored in the registry and shown by every interface; the API's body limit bounds a
request as a whole, these bound each field so one description cannot be a mebibyte of text.
The tag limits are the cloud providers' usual ones (50 tags, keys up to 128, values up to 256).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DESCRIPTION_MAX_LENGTH = 4096
TAGS_MAX_ITEMS = 50
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256

Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
"""Free text, at most ``DESCRIPTION_MAX_LENGTH`` characters."""

TagKey = Annotated[str, Field(min_length=1, max_length=TAG_KEY_MAX_LENGTH)]
TagValue = Annotated[str, Field(max_length=TAG_VALUE_MAX_LENGTH)]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=TAGS_MAX_ITEMS)]
"""At most ``TAGS_MAX_ITEMS`` name/value pairs (``tags``, a model's ``properties``)."""
