"""Loopback networking helpers: pick free ports, wait for a server, make one HTTP request.

HTTP goes through http.client, not urllib: urllib honours HTTP_PROXY from the
environment, and a test talking to 127.0.0.1 must never be sent through a proxy.
"""

import http.client
import socket
import time
import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int, *, also_free_at_offset: int = 0) -> list[int]:
    """`count` different free ports; with an offset, port + offset is free as well.

    The probe sockets stay open until all ports are picked, so the kernel cannot hand
    out the same port twice. Another process may still take a port before the server
    binds it; that race is rare on a test machine and fails loudly when it happens.
    """
    with ExitStack() as probes:
        ports: list[int] = []
        while len(ports) < count:
            probe = probes.enter_context(socket.socket())
            probe.bind((LOOPBACK, 0))
            port = probe.getsockname()[1]
            if also_free_at_offset:
                partner = port + also_free_at_offset
                if partner > 65535 or not _claim(probes, partner):
                    continue
            ports.append(port)
        return ports


def _claim(probes: ExitStack, port: int) -> bool:
    probe = probes.enter_context(socket.socket())
    try:
        probe.bind((LOOPBACK, port))
    except OSError:
        return False
    return True


def tcp_port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def http_request(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """One HTTP request; any status (404, 503...) is returned, not raised."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10) -> Response:
    return http_request("GET", url, headers=headers, timeout=timeout)


def multipart_file(field_name: str, filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a POST sending one file, as a browser form sends it."""
    return multipart_files([(field_name, filename, data)])


def multipart_files(files: Iterable[tuple[str, str, bytes]]) -> tuple[bytes, dict[str, str]]:
    """The same for several files in one form: (field name, file name, bytes) each."""
    boundary = uuid.uuid4().hex
    parts = []
    for field_name, filename, data in files:
        parts += [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{field_name}"; '
            f'filename="{filename}"\r\n'.encode(),
            b"Content-Type: application/octet-stream\r\n\r\n",
            data,
            b"\r\n",
        ]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def http_post_file(
    url: str,
    *,
    field_name: str,
    filename: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Response:
    body, form_headers = multipart_file(field_name, filename, data)
    headers = {**form_headers, **(headers or {})}
    return http_request("POST", url, body=body, headers=headers, timeout=timeout)


def http_status(url: str) -> int | None:
    """The status code of a GET, or None when nothing answers with HTTP."""
    try:
        return http_get(url, timeout=2).status
    except (OSError, http.client.HTTPException):
        return None


def wait_for_tcp(host: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not tcp_port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")
        time.sleep(0.05)


def wait_for_http(url: str, timeout: float = 10, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while (last := http_status(url)) != status:
        if time.monotonic() > deadline:
            raise TimeoutError(f"GET {url} answered {last}, not {status}, after {timeout} s")
        time.sleep(0.05)
