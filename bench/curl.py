"""Many GETs of one URL by curl: a load generator fast enough not to set the pace.

bench/load.py's client threads share Python's interpreter lock. That is fine for the
API, where the server takes milliseconds, but nginx serves a cached photo in about a
tenth of a millisecond: at 24 requests in flight the Python client used a whole core
and both servers looked equally fast, limited by the client rather than by themselves.
curl (C, libcurl) keeps up to `in_flight` transfers going from one process, each on
a new connection as in bench/load.py (gunicorn's sync workers close every connection
anyway), and writes one line per transfer: status, size, time and X-Cache-Status.

The bodies go to /dev/null. Callers compare the bytes of one answer themselves;
every transfer's status and size are checked here.
"""

import resource
import shutil
import subprocess
import time
from dataclasses import dataclass

# One line per transfer. The header comes last: it is empty when the server sends none.
WRITE_OUT = "%{http_code} %{size_download} %{time_total} %header{x-cache-status}\\n"
TRANSFER_TIMEOUT_SECONDS = 10


class CurlError(RuntimeError):
    pass


@dataclass(frozen=True)
class Transfer:
    status: int
    size: int
    ms: float  # from the start of this transfer (its connection) to its last byte
    cache_status: str  # X-Cache-Status, "" when absent


@dataclass(frozen=True)
class CurlRun:
    transfers: list[Transfer]
    seconds: float  # wall time of the whole run
    client_cpu_seconds: float  # curl's own user + system time

    @property
    def latencies_ms(self) -> list[float]:
        return [transfer.ms for transfer in self.transfers]

    @property
    def requests_per_second(self) -> float:
        return len(self.transfers) / self.seconds


def curl_gets(
    url: str,
    *,
    count: int,
    in_flight: int = 1,
    expect_size: int,
    expect_cache_status: str | None = None,
    timeout_seconds: float = 60,
) -> CurlRun:
    """GETs `url` `count` times, `in_flight` at once (closed loop: the next starts when
    one ends); raises CurlError unless every answer is a 200 of `expect_size` bytes
    (and, if given, carries `expect_cache_status`)."""
    curl = shutil.which("curl")
    if curl is None:
        raise CurlError("curl is not installed: scripts/install-system-packages --test")
    if '"' in url:
        raise CurlError(f"a URL with a double quote cannot go into curl's config: {url}")
    # The URLs go in as a config file on stdin: thousands would not fit a command line.
    config = f'url = "{url}"\noutput = "/dev/null"\n' * count
    parallel = ["--parallel", "--parallel-immediate", "--parallel-max", str(in_flight)]
    command = [
        curl,
        "--silent", "--show-error",
        "--noproxy", "*",  # loopback only, whatever HTTP_PROXY says
        "--header", "Connection: close",
        "--max-time", str(TRANSFER_TIMEOUT_SECONDS),
        "--write-out", WRITE_OUT,
        *(parallel if in_flight > 1 else []),
        "--config", "-",
    ]  # fmt: skip
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    # run() kills curl if the timeout passes or Ctrl-C arrives.
    finished = subprocess.run(
        command, input=config, capture_output=True, text=True, timeout=timeout_seconds
    )
    seconds = time.perf_counter() - started
    client_cpu_seconds = children_cpu_seconds() - cpu_before
    if finished.returncode != 0:
        raise CurlError(f"curl exited with {finished.returncode}: {finished.stderr[:300]}")

    transfers = [parse(line) for line in finished.stdout.splitlines()]
    if len(transfers) != count:
        raise CurlError(f"{len(transfers)} transfers reported, {count} asked for")
    for transfer in transfers:
        if transfer.status != 200 or transfer.size != expect_size:
            raise CurlError(
                f"GET {url}: {transfer.status} with {transfer.size} bytes, "
                f"expected 200 with {expect_size}"
            )
        if expect_cache_status and transfer.cache_status != expect_cache_status:
            raise CurlError(
                f"GET {url}: X-Cache-Status {transfer.cache_status!r}, "
                f"expected {expect_cache_status}"
            )
    return CurlRun(transfers, seconds, client_cpu_seconds)


def parse(line: str) -> Transfer:
    status, size, seconds, *cache_status = line.split()
    return Transfer(int(status), int(size), float(seconds) * 1000, "".join(cache_status))


def children_cpu_seconds() -> float:
    """User + system time of this process's finished children: here, curl alone,
    because the servers (children too) are still running, and only a child that has
    been waited for is counted."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
