"""The one exception tree of batchpoint.

::

    BatchpointError                      (retriable: False unless a subclass says so)
    ├── SpecError                        a spec (YAML/JSON/Python) is invalid; names the field and the valid form
    ├── NotFoundError                    an entity (endpoint, deployment, model, version) does not exist
    ├── ConflictError                    an operation contradicts the current state (delete the default ...)
    ├── AuthenticationError              the API refused the bearer token (missing, wrong or revoked)
    ├── StackError                       the embedded stack cannot start or is not healthy
    │   └── PortInUseError               a configured port is taken; names the port and the setting
    ├── StorageError                     the object store failed (retriable)
    ├── EventError                       a bus message cannot be decoded or routed (goes to dead letter)
    ├── ModelError                       a model cannot be resolved or loaded
    └── ScoringError                     scoring a job failed as a whole
        └── InputFileError               one input file cannot be scored (counted per file, not fatal)

Every class knows whether retrying the same call may succeed (``retriable``); vendor errors are
translated at the adapter edge and chained with ``raise ... from exc``.
"""

from __future__ import annotations


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


class EventError(BatchpointError):
    """A bus message cannot be decoded, validated or routed."""


class ModelError(BatchpointError):
    """A model cannot be resolved or loaded."""


class ScoringError(BatchpointError):
    """A scoring job failed as a whole."""


class InputFileError(ScoringError):
    """One input file cannot be scored; counted against error_threshold, the rest go on."""

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")
