"""Checks that scripts/ansible-test runs against the bird.ai that Ansible deployed on
throwaway hosts, from outside, through the proxy, as a user would:

    python -m tooling.deploy_checks classify URL [--servers app1,app2]
    python -m tooling.deploy_checks load URL STOP_FILE REPORT
    python -m tooling.deploy_checks recap LOG [--changed-zero]

Each exits non-zero with the reason when the check fails.
"""

import argparse
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tooling.photos import BIRD_PHOTO, read_testdata

# ansible-playbook's PLAY RECAP line for one host.
RECAP_LINE = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


def classify(base_url: str, photo: bytes, timeout: float = 30) -> tuple[int, dict, str]:
    """POST /api/v1/classify with the photo: (status, answer, the app server that answered)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="bird.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(  # noqa: S310 - the URL is the test's own http:// one
        f"{base_url}/api/v1/classify",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read()), answer.headers.get("X-Served-By", "")
    except urllib.error.HTTPError as error:
        return (
            error.code,
            {"error": error.read()[:200].decode(errors="replace")},
            error.headers.get("X-Served-By", ""),
        )


def check_classify(base_url: str, servers: list[str], wait_seconds: float) -> None:
    """A bird photo through the proxy comes back as its species, from every app server
    named (each app server names itself in X-Served-By; the proxy takes them in turn)."""
    photo = read_testdata(BIRD_PHOTO)
    seen: set[str] = set()
    deadline = time.monotonic() + wait_seconds
    while True:
        status, answer, served_by = classify(base_url, photo)
        if status == 200:
            species = answer["species"][0]["label"]  # the most likely bird species
            if not (answer["is_bird"] and "flamingo" in species.lower()):
                sys.exit(f"FAIL: the flamingo was classified as {answer}")
            if served_by not in seen:
                probability = answer["bird_probability"]
                print(f"classified through the proxy by {served_by}: {species} ({probability})")
            seen.add(served_by)
        if set(servers) <= seen:
            return
        if time.monotonic() > deadline:
            sys.exit(
                f"FAIL: after {wait_seconds:.0f} s answered only by {sorted(seen)}, "
                f"not {servers} (last: {status} {answer})"
            )
        time.sleep(0.5)


def run_load(
    base_url: str, stop_file: Path, report: Path, threads: int = 2, pause: float = 0.1
) -> None:
    """Classifies the same bird photo in a loop from a few threads until stop_file
    appears (or 10 minutes pass), then writes a JSON report. Bounded: each thread waits
    `pause` between requests, staying under the proxy's per-address classify rate."""
    photo = read_testdata(BIRD_PHOTO)
    counts: dict[str, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 600

    def loop() -> None:
        while not stop_file.exists() and time.monotonic() < deadline:
            try:
                status, answer, served_by = classify(base_url, photo)
                failed = None if status == 200 else f"{status} {answer}"
            except OSError as error:  # refused, reset, timed out
                failed, served_by = f"{type(error).__name__}: {error}", ""
            with lock:
                if failed:
                    failures.append(f"{time.strftime('%H:%M:%S')} {failed}")
                else:
                    counts[served_by] = counts.get(served_by, 0) + 1
            time.sleep(pause)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    report.write_text(json.dumps({"answered_by": counts, "failures": failures}, indent=1))


def check_recap(log: Path, changed_zero: bool) -> None:
    """Every host in the playbook's recap: reached, nothing failed (and nothing changed)."""
    recap = log.read_text().split("PLAY RECAP", 1)[-1]
    hosts = RECAP_LINE.findall(recap)
    if not hosts:
        sys.exit(f"FAIL: no PLAY RECAP in {log}")
    for host, ok, changed, unreachable, failed in hosts:
        print(f"{host}: ok={ok} changed={changed} unreachable={unreachable} failed={failed}")
        if int(unreachable) or int(failed):
            sys.exit(f"FAIL: {host} unreachable or failed")
        if changed_zero and int(changed):
            sys.exit(f"FAIL: {host} changed={changed} on a second run (not idempotent); see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    classify_parser = commands.add_parser("classify")
    classify_parser.add_argument("url")
    classify_parser.add_argument(
        "--servers", default="", help="app servers that must answer, comma-separated"
    )
    classify_parser.add_argument("--wait", type=float, default=60)
    load_parser = commands.add_parser("load")
    load_parser.add_argument("url")
    load_parser.add_argument("stop_file", type=Path)
    load_parser.add_argument("report", type=Path)
    recap_parser = commands.add_parser("recap")
    recap_parser.add_argument("log", type=Path)
    recap_parser.add_argument("--changed-zero", action="store_true")
    args = parser.parse_args()
    if args.command == "classify":
        check_classify(args.url, [name for name in args.servers.split(",") if name], args.wait)
    elif args.command == "load":
        run_load(args.url, args.stop_file, args.report)
    else:
        check_recap(args.log, args.changed_zero)


if __name__ == "__main__":
    main()
