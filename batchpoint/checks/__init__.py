"""Checks of a version's predictions before it becomes ``latest`` (issue 14): pure functions.

- ``results``: ``CheckResult`` (passed, failed, or not evaluated and why) and ``CheckReport`` (a
  version's checks, and which failed blocking ones keep ``latest`` where it is), as the manifest
  keeps them.
- ``completeness``: every scored input file once, with its rows less its failed items.
- ``validity``: no null predictions unless allowed, the signature's columns and types, known classes.
- ``drift``: against the previous month's ``latest``, a population-stability index per numeric
  prediction column and the share of each class for class columns.
- ``histograms``: this month's histogram against the baseline's (sparklines, an SVG).
- ``challenger_diff``: a challenger's predictions against ``latest``, row by row.

They read plain records and Arrow tables, and know nothing of stores, pools or Dagster; the run
evaluates them after scoring and before publishing decides whether ``latest`` moves.
"""
