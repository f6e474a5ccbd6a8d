"""The ``batchpoint`` command: a click group; each command lives in its own module here.

Add a command by defining it in ``batchpoint/cli/<topic>_commands.py`` and registering it below.
"""

from __future__ import annotations

import click

from batchpoint.cli.asset_commands import compute, data, environment
from batchpoint.cli.backfill_command import backfill
from batchpoint.cli.compare_command import compare
from batchpoint.cli.demo_command import demo
from batchpoint.cli.deployment_commands import batch_deployment
from batchpoint.cli.endpoint_commands import batch_endpoint
from batchpoint.cli.job_commands import job
from batchpoint.cli.model_commands import model
from batchpoint.cli.output_commands import output
from batchpoint.cli.serve_command import serve
from batchpoint.cli.stack_commands import down, status, up
from batchpoint.cli.token_commands import token


@click.group()
def main() -> None:
    """batchpoint: event-driven batch endpoints for ML models, self-hosted.

    `batchpoint up` starts the embedded stack (S3, Kafka, MLflow, Dagster) on this machine.
    """


main.add_command(up)
main.add_command(down)
main.add_command(status)
main.add_command(demo)
main.add_command(model)
main.add_command(batch_endpoint)
batch_endpoint.add_command(backfill)
batch_endpoint.add_command(compare)
main.add_command(batch_deployment)
main.add_command(job)
main.add_command(environment)
main.add_command(compute)
main.add_command(data)
main.add_command(serve)
main.add_command(token)
main.add_command(output)


if __name__ == "__main__":
    main()
