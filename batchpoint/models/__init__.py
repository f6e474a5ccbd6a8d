"""Model access: resolved model versions (core) and the MLflow registry adapter."""
