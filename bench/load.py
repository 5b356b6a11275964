"""A small HTTP load generator for loopback servers: sequential or closed-loop.

Closed loop: each client sends its next request as soon as the previous answer
arrives, so the server is never offered more than `clients` requests at once. The
load is bounded both by a request count and by a time limit, whichever comes first.

One connection per request (tooling/servers/net.py): gunicorn's sync workers close the
connection after each answer anyway, and http.client never goes through a proxy.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tooling.servers.net import http_request, multipart_file

REQUEST_TIMEOUT_SECONDS = 30


class BadAnswer(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def multipart_upload(url: str, *, field_name: str, filename: str, data: bytes) -> Request:
    """A POST of one file as multipart/form-data, the way a browser form sends it."""
    body, headers = multipart_file(field_name, filename, data)
    return Request("POST", url, body, headers)


def send(request: Request) -> dict:
    """Sends one request and returns its JSON answer; anything but a 200 is an error."""
    answer = http_request(
        request.method,
        request.url,
        body=request.body,
        headers=request.headers,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if answer.status != 200:
        raise BadAnswer(
            f"{request.method} {request.url} answered {answer.status}: {answer.body[:300]!r}"
        )
    return json.loads(answer.body)


@dataclass
class LoadResult:
    latencies_ms: list[float]
    answers: list[dict]
    seconds: float  # from the first request sent to the last answer received

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds


def closed_loop(
    request: Request,
    *,
    clients: int,
    max_requests: int,
    max_seconds: float,
    send_one: Callable[[Request], dict] = send,
) -> LoadResult:
    """`clients` threads, each sending `request` again as soon as it has its answer.

    `send_one` sends it and checks the answer: send() by default, for JSON APIs."""
    lock = threading.Lock()
    latencies_ms: list[float] = []
    answers: list[dict] = []
    errors: list[Exception] = []
    sent = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    def claim_one() -> bool:
        nonlocal sent
        with lock:
            if sent >= max_requests or time.perf_counter() > deadline or errors:
                return False
            sent += 1
            return True

    def client() -> None:
        while claim_one():
            try:
                answer, elapsed_ms = timed(lambda: send_one(request))
            except Exception as error:  # noqa: BLE001 - reported by the caller below
                with lock:
                    errors.append(error)
                return
            with lock:
                latencies_ms.append(elapsed_ms)
                answers.append(answer)

    # Daemon threads: on Ctrl-C the main thread stops the server and exits without
    # waiting for a client stuck in a request.
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return LoadResult(latencies_ms, answers, time.perf_counter() - started)


def sequential(request: Request, *, max_requests: int, max_seconds: float) -> LoadResult:
    """One client, one request at a time: latency without any queueing."""
    return closed_loop(request, clients=1, max_requests=max_requests, max_seconds=max_seconds)


def timed(call: Callable[[], dict]) -> tuple[dict, float]:
    started = time.perf_counter()
    answer = call()
    return answer, (time.perf_counter() - started) * 1000
