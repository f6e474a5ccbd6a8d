"""The one exception tree of batchpoint.

::

    BatchpointError                      (retriable: False unless a subclass says so)
    ├── SpecError                        a spec (YAML/JSON/Python) is invalid; names the field and the valid form
    │   ├── SpecProblemsError                   several problems of one spec, each a SpecError, reported at once
    │   ├── EnvironmentBuildError        uv could not build a deployment's environment; names the requirement
    │   └── LimitExceededError           input is larger than a configured limit; names the limit and its setting
    ├── NotFoundError                    an entity (endpoint, deployment, model, version) does not exist
    ├── ConflictError                    an operation contradicts the current state (delete the default ...)
    │   ├── RollbackRefusedError         ``latest`` cannot point at a version that did not complete
    │   └── JobNotFinishedError          a job's outputs are asked for before it reached a terminal state
    ├── AuthenticationError              the API refused the bearer token (missing, wrong or revoked)
    ├── StackError                       the embedded stack cannot start or is not healthy
    │   ├── PortInUseError               a configured port is taken; names the port and the setting
    │   └── ServiceCrashLoopError        a service kept crashing after restarts; names it, carries its log tail
    ├── StorageError                     the object store failed (retriable)
    │   ├── StoreUnreachableError        ... and kept failing for the whole retry budget (retriable)
    │   └── StoreRequestRefusedError     the store refused the request (a 4xx: access denied, bad request)
    ├── EventError                       a bus message cannot be decoded or routed (goes to dead letter)
    ├── ModelError                       a model cannot be resolved or loaded
    └── ScoringError                     scoring a job failed as a whole
        └── ScriptWorkerError            a scoring-script worker process failed (carries its log tail)
            ├── ScriptInitError          importing the script or its init() failed
            ├── MiniBatchTimeout         run() gave no answer within retry_settings.timeout (retriable)
            ├── WorkerCrashed            the worker exited mid-mini-batch: os._exit, segfault, OOM (retriable)
            └── ScriptProtocolError      the driver answered something that is not a protocol line

Every class knows whether retrying the same call may succeed (``retriable``); vendor errors are
translated at the adapter edge and chained with ``raise ... from exc``.

The files that run inside a deployment's own environment (``scoring/script_driver.py``,
``scoring/builtin/``) cannot import batchpoint and define their own, reported to the parent as text:
``InputFileError`` (``builtin/input_tables.py``: one input file cannot be scored, counted per file).
"""

from __future__ import annotations

import signal
from collections.abc import Sequence


class BatchpointError(Exception):
    """Base of every error batchpoint raises on purpose."""

    retriable: bool = False


class SpecError(BatchpointError, ValueError):
    """A spec is invalid: the message names the field, what was given and the accepted form."""

    def __init__(self, field: str, problem: str, valid_form: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.valid_form = valid_form
        message = f"{field}: {problem}"
        if valid_form:
            message += f" (expected {valid_form})"
        super().__init__(message)


class SpecProblemsError(SpecError):
    """Several problems of one spec, one ``field: problem (expected ...)`` a line, so one run shows them all.

    ``field``, ``problem`` and ``valid_form`` are the first problem's; ``problems`` holds each.
    """

    def __init__(self, problems: Sequence[SpecError]) -> None:
        if not problems:
            raise ValueError("SpecProblemsError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.field, first.problem, first.valid_form)
        lines = "\n".join(str(p) for p in self.problems)
        self.args = (f"{len(self.problems)} problems:\n{lines}",)


class EnvironmentBuildError(SpecError):
    """``uv`` could not build a deployment's environment; names the requirement when uv says which.

    A ``SpecError`` on ``environment.pip_requirements``: the same spec fails the same way again.
    """

    def __init__(self, requirement: str | None, problem: str, output_tail: str) -> None:
        self.requirement = requirement
        self.output_tail = output_tail
        what = f"{requirement}: {problem}" if requirement else problem
        super().__init__("environment.pip_requirements", f"{what}\nuv output (last lines):\n{output_tail}")


class LimitExceededError(SpecError):
    """Input is larger than a limit of ``Settings``: names the field, the limit and the setting that raises it."""

    def __init__(self, field: str, problem: str, *, limit: int, setting: str, unit: str = "bytes") -> None:
        self.limit = limit
        self.setting = setting
        super().__init__(field, problem, f"at most {limit} {unit}, the limit set by {setting}")


class NotFoundError(BatchpointError, LookupError):
    """An entity does not exist; the message names its kind and name."""

    def __init__(self, kind: str, name: str, hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        message = f"{kind} {name!r} not found"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class ConflictError(BatchpointError):
    """The operation contradicts the current state."""


class RollbackRefusedError(ConflictError):
    """``latest`` may only point at a Completed or Failed-check version; names the version and those that qualify."""

    def __init__(self, version_id: str, status: str, completed: list[str]) -> None:
        self.version_id = version_id
        self.status = status
        self.completed = completed
        choices = ", ".join(completed) if completed else "none yet"
        super().__init__(
            f"version {version_id!r} is {status}; latest can point only at a Completed or Failed-check "
            f"version: {choices}"
        )


class JobNotFinishedError(ConflictError):
    """A job's outputs can be downloaded once it has ended (Azure refuses a job not in a terminal state)."""

    def __init__(self, name: str, status: str) -> None:
        self.name = name
        self.status = status
        super().__init__(
            f"job {name} is {status}, not finished: its outputs can be downloaded once it is Completed, Failed "
            f"or Canceled; follow it with `batchpoint job stream -n {name}` (ml_client.jobs.stream)"
        )


class AuthenticationError(BatchpointError):
    """The API answered 401: the message says how to give a token."""


class StackError(BatchpointError):
    """The embedded stack cannot start or a service is not healthy."""


class PortInUseError(StackError):
    """A configured port is already taken by another process."""

    def __init__(self, service: str, port: int, setting: str) -> None:
        self.service = service
        self.port = port
        self.setting = setting
        super().__init__(
            f"port {port} for {service} is already in use; stop what holds it or choose another "
            f"port with {setting}=<port>"
        )


class StorageError(BatchpointError):
    """The object store failed; usually worth retrying."""

    retriable = True


class StoreRequestRefusedError(StorageError):
    """The store answered and refused the request (a 4xx other than a missing object or throttling).

    Not retriable: access denied, a bad request or a wrong bucket name fail the same way every time,
    and retrying them would only hold the job for the whole retry budget before saying so.
    """

    retriable = False


class StoreUnreachableError(StorageError):
    """A store operation kept failing with retriable errors for the whole retry budget.

    Still retriable (a later run may find the store back), and never the fault of a file: a job
    meeting it fails instead of counting failed items (``job_records/failure_causes.py``).
    """

    def __init__(self, what: str, attempts: int, seconds: float, last: BatchpointError) -> None:
        self.what = what
        self.attempts = attempts
        self.seconds = seconds
        self.last = last
        super().__init__(
            f"the store was unreachable: {what} failed {attempts} times over {seconds:.1f} s "
            f"(BATCHPOINT_STORE_RETRY_SECONDS); last error: {last}"
        )


class ServiceCrashLoopError(StackError):
    """A service crashed ``Settings.service_crash_limit`` times within the crash window: the stack stops."""

    def __init__(self, service: str, process: str, crashes: int, window_s: float, log_path: str, log_tail: str) -> None:
        self.service = service
        self.process = process
        self.log_tail = log_tail
        super().__init__(
            f"{process} ({service}) crashed {crashes} times within {window_s:.0f} s; stopping the stack. "
            f"Last lines of {log_path}:\n{log_tail}"
        )


class EventError(BatchpointError):
    """A bus message cannot be decoded, validated or routed."""


class ModelError(BatchpointError):
    """A model cannot be resolved or loaded."""


class ScoringError(BatchpointError):
    """A scoring job failed as a whole."""


class ScriptWorkerError(ScoringError):
    """A scoring-script worker failed; ``stderr_tail`` is the end of its process log."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        self.stderr_tail = stderr_tail
        super().__init__(message + (f"\n--- worker log (tail) ---\n{stderr_tail}" if stderr_tail else ""))


class ScriptInitError(ScriptWorkerError):
    """Importing the script or its ``init()`` failed (or did not finish): no mini-batch can run."""

    def __init__(self, error: str, traceback: str, stderr_tail: str = "") -> None:
        self.error = error
        self.traceback = traceback
        super().__init__(f"init() failed: {error}\n{traceback}".rstrip(), stderr_tail)


class MiniBatchTimeout(ScriptWorkerError):  # noqa: N818 -- the name callers and docs use
    """``run()`` gave no answer within ``retry_settings.timeout``; the worker was killed."""

    retriable = True

    def __init__(self, mini_batch: int, timeout: float, stderr_tail: str = "") -> None:
        self.mini_batch = mini_batch
        self.timeout = timeout
        super().__init__(f"mini-batch {mini_batch}: no answer from run() within {timeout:g}s", stderr_tail)


class WorkerCrashed(ScriptWorkerError):  # noqa: N818 -- the name callers and docs use
    """The worker process exited while scoring a mini-batch (``os._exit``, segfault, OOM kill)."""

    retriable = True

    def __init__(self, mini_batch: int, returncode: int | None, stderr_tail: str = "") -> None:
        self.mini_batch = mini_batch
        self.returncode = returncode
        super().__init__(f"mini-batch {mini_batch}: worker {describe_exit(returncode)}", stderr_tail)


class WorkerLost(WorkerCrashed):
    """The worker's node agent went away with it (its node died, the agent was killed): retriable elsewhere."""

    def __init__(self, mini_batch: int, reason: str) -> None:
        self.reason = reason
        ScriptWorkerError.__init__(self, f"mini-batch {mini_batch}: the worker's node agent was lost: {reason}")
        self.mini_batch = mini_batch
        self.returncode = None


class ScriptProtocolError(ScriptWorkerError):
    """The driver answered something that is not a protocol line for the mini-batch asked."""


def describe_exit(returncode: int | None) -> str:
    """``exited with code 7`` / ``killed by signal SIGKILL`` / ``exited``."""
    if returncode is None:
        return "exited"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by signal {name}"
    return f"exited with code {returncode}"
