"""Progress the SDK shows on a terminal: upload bars, and a job's live mini-batch bar.

Like Azure's ``MLClient(show_progress=True)``: bars appear only when ``show_progress`` is on and
the stream they would draw on is a terminal. Piped, redirected or with ``show_progress=False``
nothing is drawn and no control code is written; ``job stream`` then prints its log lines only.

- ``UploadBar``: bytes and files of a model, data or code folder being sent to the API.
- ``JobBar``: a job's mini-batches (done, failed, total) and rows/s, under its log lines.
- ``counting_reader``: a binary stream that reports every chunk read from it (httpx reads
  multipart bodies in chunks, so the bar follows what is actually sent).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


def terminal_console(stream: TextIO, show_progress: bool) -> Console | None:
    """A rich console drawing on ``stream`` when progress is wanted and ``stream`` is a terminal."""
    if not show_progress:
        return None
    console = Console(file=stream)
    # rich also says no for TERM=dumb and for streams it cannot query; either way: no bar.
    return console if console.is_terminal else None


class _CountingReader(io.RawIOBase):
    """Reads from ``inner`` and calls ``on_read(n)`` for every ``n`` bytes read."""

    def __init__(self, inner: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._inner = inner
        self._on_read = on_read
        self.name = getattr(inner, "name", "")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        if data:
            self._on_read(len(data))
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        if data:
            self._on_read(len(data))
        return data


def counting_reader(inner: IO[bytes], on_read: Callable[[int], None]) -> BinaryIO:
    """``inner``, reporting each chunk read through ``on_read`` (bytes)."""
    return _CountingReader(inner, on_read)  # type: ignore[return-value]  # a RawIOBase reads as a BinaryIO


class _Bar:
    """A rich ``Progress`` drawn while the ``with`` block runs, or nothing without a console."""

    _progress: Progress | None = None

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


class UploadBar(_Bar):
    """One upload's bar: ``advance(bytes)`` as bytes go out, ``file_done()`` after each file.

    Without a console every call does nothing, so callers need not ask whether one is shown.
    """

    def __init__(self, console: Console | None, what: str, total_bytes: int, total_files: int) -> None:
        self._files_total = total_files
        self._files_done = 0
        self._progress: Progress | None = None
        self._task = TaskID(0)
        if console is not None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[files]}"),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._task = self._progress.add_task(what, total=max(total_bytes, 1), files=self._files_text())

    @classmethod
    def for_files(cls, console: Console | None, what: str, files: list[Path]) -> UploadBar:
        """A bar over ``files``' sizes."""
        return cls(console, what, sum(f.stat().st_size for f in files), len(files))

    def _files_text(self) -> str:
        return f"{self._files_done}/{self._files_total} files"

    def advance(self, sent: int) -> None:
        """``sent`` more bytes went out."""
        if self._progress is not None:
            self._progress.advance(self._task, sent)

    def file_done(self, count: int = 1) -> None:
        """``count`` more files are on the server."""
        self._files_done += count
        if self._progress is not None:
            self._progress.update(self._task, files=self._files_text())


class JobBar(_Bar):
    """A job's mini-batch bar on a terminal; the log's lines are printed above it."""

    def __init__(self, console: Console | None, name: str) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._task = TaskID(0)
        if console is not None:
            self._progress = Progress(
                TextColumn(f"{name} {{task.fields[status]}}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("mini-batches, {task.fields[failed]} failed, {task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
            )
            self._task = self._progress.add_task("", total=None, status="", failed=0, rate="")

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn (a terminal, progress wanted)."""
        return self._progress is not None

    def write(self, text: str, sink: TextIO) -> None:
        """A piece of the job's log: above the bar on a terminal, as it is on ``sink`` otherwise."""
        if self._progress is not None and self._console is not None:
            self._console.print(text.rstrip("\n"), markup=False, highlight=False, emoji=False)
            return
        sink.write(text if text.endswith("\n") else text + "\n")
        sink.flush()

    def update(self, status: str, progress: Mapping[str, Any]) -> None:
        """The job's status and its ``progress`` record (``JobProgress`` as the API sends it)."""
        if self._progress is None:
            return
        total = int(progress.get("mini_batches") or 0)
        elapsed = float(progress.get("elapsed_seconds") or 0.0)
        rows = int(progress.get("rows") or 0)
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else f"{rows:,} rows"
        self._progress.update(
            self._task,
            total=total or None,
            completed=int(progress.get("mini_batches_done") or 0),
            status=status,
            failed=int(progress.get("failed_mini_batches") or 0),
            rate=rate,
        )


def stderr_console(show_progress: bool) -> Console | None:
    """``terminal_console`` on this process's stderr (where upload bars go: stdout stays the answer)."""
    return terminal_console(sys.stderr, show_progress)
