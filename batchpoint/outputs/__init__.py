"""Versioned outputs of a scoring job: layout, manifest, job logs and the ``latest`` pointer."""
