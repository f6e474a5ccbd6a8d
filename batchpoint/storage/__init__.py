"""Object-store port (``ObjectStore``) with an S3 adapter and an in-memory fake."""
