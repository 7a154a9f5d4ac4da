"""A child for tests/execution/test_fork_server.py: reports what it sees, or ends as asked."""

from __future__ import annotations

import json
import os
import sys
import time

from legato.execution.children import child_connections


def main(argv: list[str]) -> int:
    recv, send = child_connections(argv)
    how = recv.recv()
    if how == "describe":
        with open(f"/proc/{os.getpid()}/cmdline", "rb") as raw:
            cmdline = raw.read().replace(b"\0", b" ").decode()
        send.send(
            json.dumps(
                {
                    "cwd": os.getcwd(),
                    "sys_path0": sys.path[0],
                    "mark": os.environ.get("PROBE_MARK", ""),
                    "session_leader": os.getsid(0) == os.getpid(),
                    "stdin": sys.stdin.read(),
                    "cmdline": cmdline,
                    "parent": os.getppid(),
                    "parent_is_server": False,
                }
            )
        )
        return 0
    if how == "exit":
        return 3
    if how == "raise":
        raise RuntimeError("as asked")
    time.sleep(60)  # hold on, whatever happens to the parent, until killed
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
