"""The buffered access-log handler writes the lines the logging formatter wrote (the access
log's readers see no change), in order, and loses nothing at close."""

from __future__ import annotations

import io
import logging
import re

from tantalio.platform.accesslog import ACCESS_LOGGER, BufferedAccessHandler, sink
from tantalio.platform.web import logging_config


def test_lines_match_the_formatter_and_close_flushes() -> None:
    out = io.StringIO()
    h = BufferedAccessHandler(out, interval_s=3600)  # only close() writes here
    fmt = logging_config()["formatters"]["tantalio_access"]["format"]
    h.setFormatter(logging.Formatter(fmt))
    h.note("GET", "/m/raw_lookup", 200, 1.25, 7, "abcd1234")
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, "via %s", ("logging",), None
    )
    h.handle(record)
    h.note("POST", "/v1/match", 429, 0.04, "-", "-")
    assert out.getvalue() == ""  # buffered: nothing written on the request path
    h.close()
    lines = out.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(
        stamp + " INFO tantalio.platform.access: GET /m/raw_lookup 200 1.2ms key_id=7 key=abcd1234",
        lines[0],
    )
    assert re.fullmatch(stamp + " INFO tantalio.platform.access: via logging", lines[1])
    assert lines[2].endswith("POST /v1/match 429 0.0ms key_id=- key=-")
    assert len(lines) == 3


def test_sink_only_for_the_buffered_handler_at_info() -> None:
    logger = logging.getLogger("tantalio.test.accesslog")
    assert sink(logger) is None
    h = BufferedAccessHandler(io.StringIO())
    logger.addHandler(h)
    try:
        logger.setLevel(logging.WARNING)
        assert sink(logger) is None  # --no-access-log
        logger.setLevel(logging.INFO)
        assert sink(logger) is h
    finally:
        logger.removeHandler(h)
        h.close()
