"""The README demo's pieces: a generated monthly sales history and a forecaster trained on it."""
