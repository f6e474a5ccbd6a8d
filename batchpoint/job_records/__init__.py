"""Plain records of what a job did to each input and mini-batch, shared by scoring, outputs and reconciliation.

Below both ``scoring`` and ``outputs``: scoring produces these records, outputs writes them into
the manifest and the job logs, reconciliation reads them back. They import nothing of either.
"""
