"""Pure trigger state: what the sensors decide, kept free of Dagster and Kafka.

- ``routing``: which endpoint watches an object-created event, and for which month.
- ``arrival_batching`` and ``object_versions``: the arrival sensor's cursor (pending, held and
  taken files per month; when a month's run is requested).
- ``invocation_cursor``: the invocation sensor's cursor (invocations waiting for their run).
- ``broker_epoch``: whether the broker's offsets still mean what a cursor saved.
- ``reconciliation``: which months' outputs miss files the store holds.

The sensors in ``dagster_project`` hold these in their cursors; ``kafka_edge`` reads and writes the
broker. See docs/ARCHITECTURE.md, "Layering".
"""
