"""Many GETs of one URL by curl: a cheaper load generator than Python threads.

bench/load.py's client threads share Python's interpreter lock. That is fine for the
API, where the server takes milliseconds, but nginx serves a cached photo with about
0.05 ms of CPU: at 24 requests in flight the Python client used a whole core and set
the pace for every server alike. curl (C, libcurl) costs less per request, but on
this machine it shares the same 2 cores with the server, so it can still be what
limits a fast server: CurlRun.mean_in_flight tells how many requests were in flight
(at least), and a caller must look at it before trusting a "24 at once" figure.

Each transfer opens a new connection ("Connection: close"), as bench/load.py does and
as gunicorn's sync workers require anyway. curl writes one line per transfer (status,
size, time, X-Cache-Status, error); the bodies go to /dev/null. Callers compare the
bytes of one answer themselves; every transfer's status and size are checked here.
"""

import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from statistics import fmean

# One line per transfer, its fields separated by tabs (curl turns \t and \n into them);
# an absent header or error message is an empty field.
FIELDS = [
    "%{http_code}",
    "%{size_download}",
    "%{time_total}",
    "%header{x-cache-status}",
    "%{errormsg}",
]
WRITE_OUT = r"\t".join(FIELDS) + r"\n"
TRANSFER_TIMEOUT_SECONDS = 10


class CurlError(RuntimeError):
    pass


@dataclass(frozen=True)
class Transfer:
    status: int  # 0 when no HTTP answer came
    size: int
    ms: float  # from the start of this transfer (its connection) to its last byte
    cache_status: str  # X-Cache-Status, "" when absent
    error: str  # curl's reason when the transfer failed, "" otherwise


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

    @property
    def mean_in_flight(self) -> float:
        """Requests in flight on average (Little's law: rate x mean time per request).

        A slight underestimate: `seconds` also holds curl's start (about 10 ms) and the
        last transfers, when fewer are left than asked for; over a 2 s series, a few
        percent. Far below the number asked for, curl's own work set the pace."""
        return self.requests_per_second * fmean(self.latencies_ms) / 1000


def curl_gets(
    url: str,
    *,
    count: int,
    in_flight: int = 1,
    expect_size: int,
    expect_cache_status: str | None = None,
    timeout_seconds: float = 60,
) -> CurlRun:
    """GETs `url` `count` times, at most `in_flight` at once (closed loop: the next one
    starts when one ends); raises CurlError unless every answer is a 200 of
    `expect_size` bytes (and, if given, carries `expect_cache_status`)."""
    curl = shutil.which("curl")
    if curl is None:
        raise CurlError("curl is not installed: scripts/install-system-packages --test")
    # The URLs go in as a config file on stdin: thousands would not fit a command line.
    # In its quoted strings a backslash starts an escape, as in C.
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    config = f'url = "{quoted}"\noutput = "/dev/null"\n' * count
    # --parallel-immediate: open connections at once, rather than wait to see whether
    # an existing one could carry the request too (HTTP/2 multiplexing); that wait
    # would count in the transfer's time.
    parallel = ["--parallel", "--parallel-immediate", "--parallel-max", str(in_flight)]
    command = [
        curl,
        "--silent", "--show-error",  # no progress meter, but errors on stderr
        "--globoff",  # [] and {} in a URL are characters, not curl's URL patterns
        "--noproxy", "*",  # loopback only, whatever HTTP_PROXY says
        "--header", "Connection: close",
        "--max-time", str(TRANSFER_TIMEOUT_SECONDS),
        "--write-out", WRITE_OUT,
        *(parallel if in_flight > 1 else []),
        "--config", "-",
    ]  # fmt: skip
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    try:
        # run() kills curl if the timeout passes or Ctrl-C arrives.
        finished = subprocess.run(
            command, input=config, capture_output=True, text=True, timeout=timeout_seconds
        )
    except subprocess.TimeoutExpired:
        raise CurlError(f"{count} GETs of {url} took over {timeout_seconds} s") from None
    seconds = time.perf_counter() - started
    client_cpu_seconds = children_cpu_seconds() - cpu_before

    transfers = [parse(line) for line in finished.stdout.splitlines()]
    for transfer in transfers:
        check(transfer, url, expect_size, expect_cache_status)
    if finished.returncode != 0 or len(transfers) != count:
        raise CurlError(
            f"curl exited with {finished.returncode} after {len(transfers)} of {count} "
            f"transfers: {finished.stderr[:300]}"
        )
    return CurlRun(transfers, seconds, client_cpu_seconds)


def parse(line: str) -> Transfer:
    status, size, seconds, cache_status, error = line.split("\t")
    return Transfer(int(status), int(size), float(seconds) * 1000, cache_status, error)


def check(transfer: Transfer, url: str, expect_size: int, expect_cache_status: str | None) -> None:
    if transfer.error:
        raise CurlError(f"GET {url}: {transfer.error}")
    if transfer.status != 200 or transfer.size != expect_size:
        raise CurlError(
            f"GET {url}: {transfer.status} with {transfer.size} bytes, "
            f"expected 200 with {expect_size}"
        )
    if expect_cache_status and transfer.cache_status != expect_cache_status:
        raise CurlError(
            f"GET {url}: X-Cache-Status {transfer.cache_status!r}, expected {expect_cache_status}"
        )


def children_cpu_seconds() -> float:
    """User + system time of this process's finished children: here, curl alone,
    because the servers (children too) are still running, and only a child that has
    been waited for is counted."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
