"""``python -m batchpoint.api``: serve the HTTPS API with the settings of this process's environment."""

from __future__ import annotations

import sys

from batchpoint.api.server import serve
from batchpoint.config import Settings
from batchpoint.errors import SpecError


def main() -> int:
    """Read settings once, then serve until interrupted."""
    try:
        serve(Settings.from_env())
    except SpecError as exc:
        print(f"batchpoint api: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
