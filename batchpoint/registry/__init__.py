"""The registry of endpoints and deployments (SQL: sqlite embedded, Postgres in production)."""
