"""Excerpts of text that may quote an input file: printable, bounded, saying what was cut."""

from __future__ import annotations

import pytest

from batchpoint.text_excerpts import excerpt


def test_short_printable_text_is_kept_as_it_is() -> None:
    assert excerpt("missing column(s) units; prénom is fine") == "missing column(s) units; prénom is fine"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("line\nnext", "line\\nnext"),
        ("bad \ufffd byte", "bad \\ufffd byte"),
        ("\x1b[31m", "\\x1b[31m"),
    ],
)
def test_non_printable_characters_are_escaped(raw: str, shown: str) -> None:
    assert excerpt(raw) == shown


def test_a_long_text_is_cut_to_the_limit_and_says_how_many_bytes_were_cut() -> None:
    text = "x" * 10_000
    shown = excerpt(text, limit=200)
    assert len(shown) <= 200
    kept = shown.split("…", 1)[0]
    assert kept == "x" * len(kept)
    assert shown.endswith(f"… ({10_000 - len(kept)} more bytes cut)")


def test_bytes_are_counted_after_escaping() -> None:
    shown = excerpt("\x00" * 1000, limit=100)
    kept = shown.split("…", 1)[0]
    assert ("\\x00" * 1000).startswith(kept)
    assert shown.endswith(f"({4000 - len(kept)} more bytes cut)")


def test_an_excerpt_of_an_excerpt_is_the_same() -> None:
    once = excerpt(bytes(range(256)).decode("latin-1") * 20, limit=300)
    assert excerpt(once, limit=300) == once
