"""The management plane's facade: ``Workspace`` and its operations over the registry, MLflow and S3."""
