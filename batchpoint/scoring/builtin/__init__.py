"""Scoring scripts that ship with batchpoint, run by ``script_driver.py`` like any user script."""
