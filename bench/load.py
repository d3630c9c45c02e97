"""Servers on free loopback ports, and bounded wrk runs against them.

Every server runs in its own process group and is stopped (SIGTERM, then SIGKILL) when its
``with`` block ends, on error too; an ``atexit`` hook catches anything left over. Every wrk
run has a fixed duration and a request timeout. Only 127.0.0.1 is ever a target.
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
_RUNNING: set[int] = set()  # process-group ids of servers started here


def _cleanup() -> None:
    for pgid in list(_RUNNING):
        _stop_group(pgid, grace_s=3)


atexit.register(_cleanup)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _stop_group(
    pgid: int, grace_s: float = 10, leader: subprocess.Popen[bytes] | None = None
) -> None:
    """SIGTERM the process group ``pgid`` (a server and its workers), SIGKILL it after
    ``grace_s``. ``leader``, when given, is reaped as it exits, so that its zombie does not
    keep the group alive."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        _RUNNING.discard(pgid)
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if leader is not None:
            leader.poll()
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    _RUNNING.discard(pgid)


def http_get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    """GET a loopback URL; (status, body), errors included."""
    assert url.startswith(f"http://{HOST}:"), url
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def get_json(self, path: str) -> tuple[int, Any]:
        status, body = http_get(self.base + path)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, None


@contextmanager
def serve(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    ready_path: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout_s: float = 120,
    settle_s: float = 0,
) -> Iterator[Server]:
    """Start ``argv`` (which must listen on HOST:port), wait until ``ready_path`` answers 200
    (then ``settle_s`` more), yield it, and stop its whole process group afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    _RUNNING.add(process.pid)
    server = Server(name, port, process, log)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")
            try:
                if http_get(server.base + ready_path, timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout_s}s; see {log}")
            time.sleep(0.2)
        time.sleep(settle_s)  # e.g. until every worker process has started, not just one
        yield server
    finally:
        _stop_group(process.pid, leader=process)
        process.wait()


# --- wrk ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit(
            "bench: wrk (the load generator) is not installed. Install it with\n"
            "  sudo apt-get install -y wrk\n"
            "(or from https://github.com/wg/wrk) and run the benchmark again."
        )
    print("bench: installing wrk (apt-get install -y wrk) ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench: apt-get installed wrk but it is not on PATH")
    return found


@dataclass(frozen=True)
class LoadSettings:
    duration_s: int = 5
    connections: int = 8
    threads: int = 2
    warmup_s: int = 1
    timeout_s: int = 10


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's --latency report: requests/s, the latency distribution, errors."""
    pct = {m[1]: _ms(m[2]) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not (pct and done and rps):
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(done[1]),
        seconds=_ms(done[2] + done[3]) / 1000,
        rps=float(rps[1]),
        p50_ms=pct["50"],
        p75_ms=pct["75"],
        p90_ms=pct["90"],
        p99_ms=pct["99"],
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(x) for x in sock.groups()) if sock else 0,
    )


def _lua_for(paths: Sequence[str]) -> str:
    quoted = ",\n".join(json.dumps(p) for p in paths)  # JSON strings are valid Lua strings
    return (
        f"local paths = {{\n{quoted}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )


def run_wrk(wrk: str, base: str, paths: Sequence[str], settings: LoadSettings) -> WrkResult:
    """Load ``paths`` (cycled through) on ``base``: a short warm-up, then the measured run."""
    assert base.startswith(f"http://{HOST}:"), base
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua_for(paths))
    try:
        common = [
            wrk,
            f"-t{settings.threads}",
            f"-c{settings.connections}",
            f"--timeout={settings.timeout_s}s",
            "-s",
            script.name,
        ]
        limit = settings.duration_s + settings.timeout_s + 30
        if settings.warmup_s:
            subprocess.run(
                [*common, f"-d{settings.warmup_s}s", base],
                capture_output=True,
                check=True,
                timeout=settings.warmup_s + settings.timeout_s + 30,
            )
        done = subprocess.run(
            [*common, f"-d{settings.duration_s}s", "--latency", base],
            capture_output=True,
            text=True,
            check=True,
            timeout=limit,
        )
    finally:
        os.unlink(script.name)
    return parse_wrk(done.stdout)
