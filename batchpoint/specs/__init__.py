"""Typed, frozen specs with Azure ML field names (``BatchEndpoint``, ``BatchDeployment``, ...)."""
