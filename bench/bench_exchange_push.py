"""The exchange's push path in-process, without HTTP: `ExchangeService.push` of `--requests`
JSON bodies of 10,000 records each (decoded per request, as the server does) into an exchange
(SQLite, or `--db URL`) holding `--records`, then the deferred PDQ fan-out drained. Cheap
enough to run
without the benchmark lock at 100,000 records and 6 requests (well under a minute of CPU).

    .venv/bin/python bench/bench_exchange_push.py --records 100000 --requests 6

To compare with another version of the code in the same minutes, run it again with that
version first on the path (its `src/`), e.g. `PYTHONPATH=/work/main/src`; the line printed
names the code it measured. The HTTP measurement at 1M is `bench_exchange.py --push-only`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_exchange import Data, bulk_load, hexes, load  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=6, help="pushes of 10,000 records")
    ap.add_argument(
        "--db", default=None, help="an empty exchange database URL (default: a new SQLite file)"
    )
    args = ap.parse_args()

    import tantalio
    from tantalio.exchange.admin import create_agency
    from tantalio.exchange.config import ExchangeConfig
    from tantalio.exchange.service import Caller, ExchangeService

    tmp = Path(tempfile.mkdtemp(prefix="tantalio-bench-push-"))
    db = args.db or f"sqlite:///{tmp / 'exchange.db'}"
    data = Data(args.records, 15, 2000, np.random.default_rng(1))
    ids = []
    for a in range(15):
        _, agency, _ = create_agency(db, f"agency-{a:02d}", "DE", "b", ["push"], 1e6, 10**6)
        ids.append(agency.id)
    token, _, _ = create_agency(db, "pusher", "FR", "b", ["push", "query"], 1e6, 10**6)
    bulk_load(db, data, ids)
    svc = ExchangeService(ExchangeConfig(db_url=db, signing_key=str(tmp / "k.pem")))
    svc.start(background=False)
    rng = np.random.default_rng(7)
    n = 10_000 * args.requests
    sha = hexes(rng.integers(0, 256, (n, 32), dtype=np.uint8))
    md5 = hexes(rng.integers(0, 256, (n, 16), dtype=np.uint8))
    pdq = hexes(rng.integers(0, 256, (n, 32), dtype=np.uint8))
    bodies = [
        json.dumps(
            {
                "records": [
                    {
                        "sha256": sha[k],
                        "md5": md5[k],
                        "pdq": pdq[k],
                        "pdq_quality": 90,
                        "category": 3,
                        "series": f"S{k % 500}",
                        "status": "unidentified",
                        "case_ref": "bench",
                    }
                    for k in range(a, a + 10_000)
                ]
            }
        ).encode()
        for a in range(0, n, 10_000)
    ]
    key = svc.keyring.authenticate(token)
    assert key is not None
    caller = Caller(key)
    before = load()
    t0 = time.perf_counter()
    for body in bodies:
        svc.push(caller, json.loads(body))
    push = time.perf_counter() - t0
    t0 = time.perf_counter()
    fanned = 0
    while done := svc.drain_fanout(compact=True):
        fanned += done
    fanout = time.perf_counter() - t0
    svc.close()
    code = os.path.dirname(tantalio.__file__)
    print(
        f"{code}: {n:,} records pushed at {args.records:,} stored: push {push:.2f} s "
        f"({n / push:,.0f} records/s), fan-out of {fanned:,} {fanout:.2f} s;"
        f" {db.split(':')[0]};"
        f" load average {before} -> {load()}"
    )


if __name__ == "__main__":
    main()
