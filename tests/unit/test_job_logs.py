"""What a job's logs are called inside its version, and what a corrupt file's error looks like in them."""

from __future__ import annotations

from pathlib import Path

from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.job_logs import init_error_reports, job_error_text, job_result_text
from batchpoint.outputs.job_publishing import worker_logs_in
from batchpoint.scoring.script_process import process_log
from batchpoint.text_excerpts import EXCERPT_CHARS


def test_every_pool_process_log_is_uploaded_under_its_own_name(tmp_path: Path) -> None:
    for name in ("worker-0", "worker-1", "zygote"):
        process_log(tmp_path, name).write_text(f"{name} says hello\n")
    logs = worker_logs_in(tmp_path)
    assert sorted(logs) == [
        "logs/user/stdout/worker-0.txt",
        "logs/user/stdout/worker-1.txt",
        "logs/user/stdout/zygote.txt",
    ]
    assert logs["logs/user/stdout/zygote.txt"].read_text() == "zygote says hello\n"


def _failed(name: str, error: str) -> FileResult:
    return FileResult("landing", f"sales/2026-11/{name}", "etag", 10, 0, error, 0.0)


def test_a_corrupt_files_error_reaches_job_error_txt_as_a_printable_bounded_line() -> None:
    binary = "CSV parse error: Expected 3 columns, got 1: " + bytes(range(256)).decode("latin-1") * 5000
    files = [_failed("corrupt.csv", binary), _failed("ok-but-empty.csv", "the file is empty (0 bytes of data)")]
    text = job_error_text(files, None)
    lines = text.splitlines()
    assert len(lines) == 2
    assert all(line.isprintable() for line in lines)
    corrupt = lines[0]
    assert corrupt.startswith("s3://landing/sales/2026-11/corrupt.csv: CSV parse error: Expected 3 columns")
    assert len(corrupt) <= len("s3://landing/sales/2026-11/corrupt.csv: ") + EXCERPT_CHARS
    assert corrupt.endswith("more bytes cut)")
    assert lines[1] == "s3://landing/sales/2026-11/ok-but-empty.csv: the file is empty (0 bytes of data)"
    result = job_result_text(
        status="Completed",
        job_id="j",
        version_id="v",
        files=files,
        mini_batches=1,
        error_threshold=-1,
        job_error=None,
        latest_note="moved to v",
    )
    assert all(line.isprintable() for line in result.splitlines())
    assert len(result) < 2 * EXCERPT_CHARS + 1000


def test_each_distinct_init_error_is_reported_once_with_its_workers_and_attempts() -> None:
    boom = "ModuleNotFoundError: No module named 'xgboost'\nTraceback (most recent call last):\n  File score.py"
    other = "ValueError: bad model\nTraceback (most recent call last):\n  File other.py"
    failures = [(f"worker-{w}", boom) for w in range(4) for _ in range(4)] + [("worker-0", other)]
    reports = init_error_reports(failures)
    assert len(reports) == 2
    assert reports[0].startswith("init() failed in 4 workers, 16 attempts:\n    ModuleNotFoundError")
    assert reports[1].startswith("init() failed in 1 worker, 1 attempt:\n    ValueError")
    text = job_result_text(
        status="Failed",
        job_id="j",
        version_id="v",
        files=[],
        mini_batches=4,
        error_threshold=-1,
        job_error="init() failed in every worker: ModuleNotFoundError",
        latest_note="not moved",
        init_errors=failures,
    )
    assert text.count("No module named 'xgboost'") == 1 and len(text.splitlines()) < 30
