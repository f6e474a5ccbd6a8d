"""The embedded stack launcher: S3, a Ray head, Kafka, MLflow, Dagster and the publisher as child processes.

``Stack`` starts and stops them; ``free_ports`` picks ports for tests; the CLI in
``batchpoint.cli.stack_commands`` wraps both.
"""

from batchpoint.stack.launcher import Stack
from batchpoint.stack.ports import check_ports, free_ports
from batchpoint.stack.services import SERVICE_ORDER, default_services

__all__ = ["SERVICE_ORDER", "Stack", "check_ports", "default_services", "free_ports"]
