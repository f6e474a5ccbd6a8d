"""Operation groups of ``MLClient`` (``batch_endpoints``, ``models``, ...), one module each."""
