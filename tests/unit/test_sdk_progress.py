"""The SDK's progress: drawn only on a terminal, and counting what httpx really sends."""

from __future__ import annotations

import io
import re

import httpx
from rich.console import Console

from batchpoint.sdk.progress import JobBar, UploadBar, counting_reader, terminal_console


def without_control_codes(drawn: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)


def test_no_console_off_a_terminal_or_when_progress_is_off() -> None:
    assert terminal_console(io.StringIO(), show_progress=True) is None
    assert terminal_console(io.StringIO(), show_progress=False) is None


def test_the_counting_reader_sees_every_byte_httpx_puts_in_a_multipart_body() -> None:
    data = bytes(range(256)) * 1000  # several of httpx's 64 KiB chunks
    seen: list[int] = []
    body = counting_reader(io.BytesIO(data), seen.append)
    request = httpx.Request(
        "POST", "http://api/v1/uploads", files={"file": ("a.bin", body, "application/octet-stream")}
    )
    sent = request.read()
    assert data in sent
    assert sum(seen) == len(data) and len(seen) > 1


def test_an_upload_bar_counts_files_and_bytes_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with UploadBar(console, "uploading model m", total_bytes=3000, total_files=3) as bar:
        for _ in range(3):
            bar.advance(1000)
            bar.file_done()
    drawn = screen.getvalue()
    assert "\x1b[" in drawn
    assert "uploading model m" in without_control_codes(drawn) and "3/3 files" in without_control_codes(drawn)


def test_without_a_console_the_bars_draw_nothing_and_the_log_goes_to_its_sink() -> None:
    sink = io.StringIO()
    with UploadBar(None, "uploading", 10, 1) as upload:
        upload.advance(10)
        upload.file_done()
    with JobBar(None, "batchjob-0123456789ab") as bar:
        assert not bar.shown
        bar.write("line one", sink)
        bar.update("Running", {"mini_batches": 4, "mini_batches_done": 1, "rows": 10, "elapsed_seconds": 1.0})
        bar.write("line two\n", sink)
    assert sink.getvalue() == "line one\nline two\n"


def test_a_job_bar_shows_mini_batches_failed_and_rows_per_second() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with JobBar(console, "batchjob-0123456789ab") as bar:
        bar.write("2026-12-02T05:00:00 mini-batches 3/4", io.StringIO())
        progress = {"mini_batches": 4, "mini_batches_done": 3, "failed_mini_batches": 1, "rows": 300}
        bar.update("Running", progress | {"elapsed_seconds": 2.0})
    drawn = without_control_codes(screen.getvalue())
    assert "3/4 mini-batches, 1 failed, 150 rows/s" in drawn
    assert "2026-12-02T05:00:00 mini-batches 3/4" in drawn
