"""The life cycle every test server shares: start, wait until it answers, stop, clean up.

Each server runs in its own process group with its own temporary directory, which
holds its data, configuration and log. `stop()` keeps that directory so `start()` can
bring the same server back (outage tests); `close()` stops it and deletes the directory.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    name = "server"
    startup_timeout = 15.0
    # Most servers shut down cleanly on SIGTERM; subclasses pick another signal if not.
    stop_signal = signal.SIGTERM
    stop_timeout = 10.0

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"birdai-{self.name}-"))
        self.log_path = self.workdir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self._started_before = False

    # --- What a subclass describes ------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        """True once the server really does its job (answers a query, not just a port)."""
        raise NotImplementedError

    def popen_options(self) -> dict[str, Any]:
        """Extra subprocess.Popen arguments: env, cwd, user..."""
        return {}

    def before_first_start(self) -> None:
        """Runs once: create the data directory, write the configuration."""

    def after_first_start(self) -> None:
        """Runs once the server is ready for the first time: create databases, buckets."""

    # --- The shared life cycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The server's process first, then those it started (gunicorn's or nginx's
        workers): all of them, for measuring their memory or CPU time."""
        main = self.process.pid
        return [main, *child_pids(main)]

    def total_cpu_seconds(self) -> float:
        """User + system CPU time of all of pids() so far."""
        return sum(cpu_seconds(pid) for pid in self.pids())

    def start(self) -> Self:
        if self.running:
            return self
        began = time.monotonic()
        first_start = not self._started_before
        if first_start:
            self.before_first_start()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so stop() reaches the workers it forks too.
                start_new_session=True,
                **self.popen_options(),
            )
        try:
            self._wait_until_ready()
            if first_start:
                self.after_first_start()
        except BaseException:
            # Also on Ctrl-C (KeyboardInterrupt): no server outlives a failed start.
            # The work directory stays behind so the whole log can be read.
            self.stop()
            raise
        self._started_before = True
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            exit_code = self.process.poll()
            if exit_code is not None:
                raise ServerStartError(self._failure(f"exited with code {exit_code}"))
            if self.is_ready():
                return
            if time.monotonic() > deadline:
                raise ServerStartError(self._failure(f"not ready after {self.startup_timeout} s"))
            time.sleep(0.05)

    def _failure(self, what: str) -> str:
        # The first exception names the cause; with several workers failing, the last
        # lines may hold only their exits.
        first = self.first_exception()
        cause = f"First exception: {first}\n" if first else ""
        return f"{self.name} {what}. {cause}Last lines of {self.log_path}:\n{self.log_tail()}"

    def first_exception(self) -> str | None:
        """The log's first `SomeError: message` line (a traceback's last line), if any."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return None
        match = re.search(r"^(\w+\.)*\w*(Error|Exception): .+$", text, re.MULTILINE)
        return match.group(0) if match else None

    def stop(self) -> None:
        """Shut down cleanly, or kill after stop_timeout; the work directory stays."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(self.stop_timeout)
        self._kill_process_group()

    def kill(self) -> None:
        """Stop abruptly, as a crash or a pulled plug would: no clean shutdown."""
        if self.process is not None:
            self._kill_process_group()

    def _kill_process_group(self) -> None:
        # Also takes down anything the server forked and did not reap in time.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- Reading /proc, for measuring a server's processes ------------------------------------


def child_pids(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return children


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    # The fields after the command name, which may itself hold spaces or ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory, counting pages shared with other processes in full."""
    return _proc_kib(f"/proc/{pid}/status", "VmRSS:") * 1024


def peak_rss_bytes(pid: int) -> int:
    """The most resident memory the process has held at once ("high water mark")."""
    return _proc_kib(f"/proc/{pid}/status", "VmHWM:") * 1024


def reset_peak_rss(pid: int) -> bool:
    """Sets the process's peak back to its current resident memory, so the next peak
    belongs to what happens next. False where the kernel does not allow it (writing
    /proc/PID/clear_refs needs the process's owner or root, and Linux 4.0+)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def pss_bytes(pid: int) -> int:
    """Proportional memory: each shared page is split between the processes sharing it.

    Summing RSS over forked workers counts copy-on-write pages once per worker;
    summing PSS gives the memory the group really uses.
    """
    return _proc_kib(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024


def _proc_kib(path: str, field: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise LookupError(f"{field} not found in {path}")
