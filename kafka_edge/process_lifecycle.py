"""What every long-running kafka_edge/ process does at start: log to stdout, stop on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

log = logging.getLogger(__name__)


def start_service(kafka_log_level: int) -> threading.Event:
    """Configure logging and return an event that SIGTERM or SIGINT sets, for the main loop to watch.

    ``kafka_log_level`` quiets kafka-python, which logs every connection attempt (several times per
    failure), so stdout keeps what the process itself does.
    """
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(kafka_log_level)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return stop
