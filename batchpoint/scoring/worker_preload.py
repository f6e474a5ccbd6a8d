"""Imported once by the pool's forkserver, so every worker forked from it starts warm.

Besides the imports, it builds one throw-away S3 client: botocore caches the S3 service model and
endpoint rules it parses for that (~0.7 s) in the default session, which forked workers inherit,
so each worker's own client then costs milliseconds. Building a client opens no connection, so
nothing that must not cross a fork is created here.
"""

from __future__ import annotations

import contextlib

import boto3
import mlflow.pyfunc  # noqa: F401 -- imported for its side effect: warm modules in every worker
import pandas  # noqa: F401
import pyarrow.csv
import pyarrow.parquet  # noqa: F401

import batchpoint.scoring.mlflow_worker
import batchpoint.storage.s3  # noqa: F401

# Never used to connect; the values only satisfy the client constructor. Warming is optional: a
# failure here must not take the forkserver (and so every worker) down with it.
with contextlib.suppress(Exception):
    boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:1",
        region_name="us-east-1",
        aws_access_key_id="preload",
        aws_secret_access_key="preload",  # noqa: S106 -- not a credential, no request is ever sent
    )
