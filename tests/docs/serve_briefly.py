"""``python serve_briefly.py up|daemon|worker ARGS``: a documented server command, run the way a
snippet test can: start ``legato COMMAND ARGS``, wait until it is up, stop it with SIGTERM and
exit 0 if it came up and then stopped (otherwise 1, with its output on stderr). A server may end
by re-raising the SIGTERM after its clean shutdown, as uvicorn does.

``legato up`` is up when its health check answers; it gets a free port unless ARGS name one.
The daemon and workers are up when they are still running after a few seconds.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

READY_WITHIN = 90.0
ALIVE_FOR = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


def is_up(command: str, args: list[str], started: float) -> bool:
    if command != "up":
        return time.monotonic() - started >= ALIVE_FOR
    host = option(args, "--host", "127.0.0.1").replace("0.0.0.0", "127.0.0.1")
    url = f"http://{host}:{option(args, '--port', '8642')}/api/v1/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main(command: str, *given: str) -> int:
    args = list(given)
    if command == "up" and "--port" not in args:
        args += ["--port", str(free_port())]
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(["legato", command, *args], stdout=out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        up = False
        while process.poll() is None and time.monotonic() - started < READY_WITHIN:
            if is_up(command, args, started):
                up = True
                break
            time.sleep(0.2)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        out.seek(0)
        output = out.read()
    if up and process.returncode in (0, -signal.SIGTERM):
        return 0
    what = "stopped" if up else "did not come up and ended"
    print(f"legato {command} {what} with code {process.returncode}:\n{output}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
