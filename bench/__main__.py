"""`python -m bench`: runs every measurement, prints one table, writes var/bench.json.

python -m bench                  everything (a few minutes on 2 cores)
python -m bench --only decode    some measurements, by name
"""

import argparse
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birdai.settings")

from django.conf import settings

from bench import (
    decode,
    floor,
    history,
    inference,
    proxy_memory,
    scaleout,
    serving,
    upload_memory,
)
from bench.context import BenchContext
from bench.machine import OtherWork, busy_warning, describe_machine, summary
from bench.table import Row, render, write_json

# In table order. A new figure is a function (context) -> list[Row] added here.
MEASUREMENTS: dict[str, Callable[[BenchContext], list[Row]]] = {
    "floor": floor.floor_rows,
    "inference": inference.backend_rows,
    "decode": decode.decode_rows,
    "serving": serving.classify_rows,
    "upload_memory": upload_memory.upload_memory_rows,
    "history": history.history_rows,
    "scaleout": scaleout.scaleout_rows,
    "proxy_memory": proxy_memory.proxy_memory_rows,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, help="run only these")
    parser.add_argument("--json", type=Path, default=Path(settings.VAR_DIR) / "bench.json")
    arguments = parser.parse_args()
    names = arguments.only or list(MEASUREMENTS)

    # `kill` (SIGTERM) unwinds like Ctrl-C does, so the servers we started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    machine = describe_machine(settings.CLASSIFIER_THREADS)
    other_work = OtherWork()
    rows: list[Row] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="birdai-bench-") as workdir:
        context = BenchContext(workdir=Path(workdir), threads=settings.CLASSIFIER_THREADS)
        for name in names:
            started = time.monotonic()
            print(f"bench: {name}...", file=sys.stderr, flush=True)
            try:
                rows += MEASUREMENTS[name](context)
            except Exception as error:  # noqa: BLE001 - one broken measurement, not the run
                traceback.print_exc()
                failures.append(f"{name}: {type(error).__name__}: {error}")
            print(f"bench: {name} took {time.monotonic() - started:.0f} s", file=sys.stderr)

    other_cpus = other_work.cpus(context.cpu_seconds_elsewhere)
    machine["other_work_cpus"] = f"{other_cpus:.2f}"
    print(f"bird.ai bench: {summary(machine)}")
    print(render(rows))
    for failure in failures:
        print(f"FAILED {failure}")
    if warning := busy_warning(other_cpus):
        print(warning)
    write_json(arguments.json, rows, machine, failures)
    print(f"bench: also written to {arguments.json}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
