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
