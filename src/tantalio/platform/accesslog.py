"""The access log's writer: a line per request without a `logging` record per request.

A `logger.info` call per request (a LogRecord with caller lookup, a formatter, a write and
flush on stderr) cost the server a fifth of its raw-lookup throughput (docs/perf/platform.md).
Under `tantalio platform serve` the logger `tantalio.platform.access` has one handler, this
one (`web.logging_config`). The middleware hands it a request's fields as a tuple (`note`,
a deque append); a daemon thread formats what has gathered every `interval_s` and writes it
in one call. Lines are the ones the logging formatter made ("%(asctime)s %(levelname)s
%(name)s: %(message)s"), so readers of the log see no change; other records sent to this
handler through `logging` are formatted at once and queued in order with them.

Nothing is lost at a normal exit: `close` (called by `logging.shutdown` at exit) and
`flush` write what is queued. A crash loses at most `interval_s` of lines.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import IO, Any

ACCESS_LOGGER = "tantalio.platform.access"
_LINE = "%s,%03d INFO " + ACCESS_LOGGER + ": %s %s %d %.1fms key_id=%s key=%s\n"
Fields = tuple[float, str, str, int, float, Any, Any]  # time, method, route, status, ms, id, key


class BufferedAccessHandler(logging.Handler):
    """A logging handler whose hot path (`note`) takes fields, not records."""

    def __init__(self, stream: IO[str] | None = None, interval_s: float = 0.2) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self._queue: deque[Fields | str] = deque()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._second = -1
        self._stamp = ""
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    # -- producers -------------------------------------------------------------------------

    def note(self, method: str, route: str, status: int, ms: float, key_id: Any, key: Any) -> None:
        """One request (called by the middleware for every request: keep it an append)."""
        self._queue.append((time.time(), method, route, status, ms, key_id, key))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._queue.append(self.format(record) + "\n")
        except Exception:  # logging's contract: a bad record never raises
            self.handleError(record)

    # -- writer ----------------------------------------------------------------------------

    def _line(self, item: Fields | str) -> str:
        if isinstance(item, str):
            return item
        t, method, route, status, ms, key_id, key = item
        second = int(t)
        if second != self._second:  # one strftime per second, not per line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        return _LINE % (
            self._stamp,
            int((t - second) * 1000),
            method,
            route,
            status,
            ms,
            key_id,
            key,
        )

    def flush(self) -> None:
        """Write everything queued so far, in one write."""
        with self._write_lock:
            lines = []
            queue = self._queue
            while True:
                try:
                    lines.append(self._line(queue.popleft()))
                except IndexError:
                    break
            if lines:
                try:
                    self.stream.write("".join(lines))
                    self.stream.flush()
                except (OSError, ValueError):  # stderr closed: nothing left to tell
                    pass

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()
        super().close()


def sink(logger: logging.Logger) -> BufferedAccessHandler | None:
    """The logger's buffered handler when it is its only one and INFO is on, else None
    (then the caller logs through `logging` as usual: tests, other configurations)."""
    handlers = logger.handlers
    if len(handlers) != 1 or type(handlers[0]) is not BufferedAccessHandler:
        return None
    return handlers[0] if logger.isEnabledFor(logging.INFO) else None
