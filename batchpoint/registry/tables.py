"""Table definitions of the registry: each row keeps its spec as JSON beside its key columns."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

endpoints = sa.Table(
    "bp_endpoints",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

deployments = sa.Table(
    "bp_deployments",
    metadata,
    sa.Column("endpoint_name", sa.String(64), sa.ForeignKey("bp_endpoints.name"), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# ---- management plane (docs/management-plane.md, section 1) ----------------------------

environments = sa.Table(
    "bp_environments",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

computes = sa.Table(
    "bp_computes",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

data_assets = sa.Table(
    "bp_data_assets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

jobs = sa.Table(
    "bp_jobs",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),  # batchjob-<uuid12>
    sa.Column("endpoint_name", sa.String(64), nullable=False, index=True),
    sa.Column("deployment_name", sa.String(64), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),  # invoke | data-arrival | backfill
    sa.Column("status", sa.String(16), nullable=False),  # Preparing | Running | Completed | Failed | Canceled
    sa.Column("spec", sa.Text, nullable=False),  # inputs, output_path, setting overrides, partition
    sa.Column("progress", sa.Text, nullable=False),  # mini_batches_done, mini_batches, files_done, files, ...
    sa.Column("output_uri", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("dagster_run_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
)

outbox = sa.Table(
    "bp_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("key", sa.String(255), nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True, index=True),
)

api_tokens = sa.Table(
    "bp_api_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),  # tok_<hex8>
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # sha256 hex of the secret
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
