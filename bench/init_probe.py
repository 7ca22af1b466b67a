"""Cold init, measured by a process that does nothing else: start -> the first poll of the Runtime API.

`make bench`'s harness (moto, the TLS servers, the Runtime API of tests/lambda_local.py) lives in one Python
process with many threads; timed from there, even a program that only sends one GET takes about 3 ms, most of it
the harness's own fork and the wake-up of its server thread. This probe is a small process of its own: it listens
on a port, takes the time, `posix_spawn`s the handler with `AWS_LAMBDA_RUNTIME_API` pointing at that port, and
takes the time again when the request's headers have arrived. Then it kills the handler (no event is given: what
follows the first poll is measured by the harness as the cold first Create).

Input (stdin, JSON): {"repeats": N, "runs": [{"name": ..., "cmd": [...], "env": {...}}, ...]}. The runs are
interleaved (one of each, N times) so that the machine's noise falls on all alike. Output (stdout, JSON):
{name: [seconds, ...]}.
"""

import json
import os
import signal
import socket
import sys
import time


def once(cmd, env, limit_s=30.0):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(limit_s)
        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{listener.getsockname()[1]}")
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            start = time.monotonic()
            pid = os.posix_spawn(cmd[0], cmd, env, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                                                 (os.POSIX_SPAWN_DUP2, devnull, 2)])
            try:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(limit_s)
                    got = b""
                    while b"\r\n\r\n" not in got:
                        chunk = conn.recv(4096)
                        if not chunk:
                            raise RuntimeError(f"{cmd[0]} closed the connection before its first poll")
                        got += chunk
                    polled = time.monotonic()
                if not got.startswith(b"GET /2018-06-01/runtime/invocation/next "):
                    raise RuntimeError(f"{cmd[0]}'s first request is not a poll: {got[:80]!r}")
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        finally:
            os.close(devnull)
    return polled - start


def main():
    spec = json.load(sys.stdin)
    out = {run["name"]: [] for run in spec["runs"]}
    for _ in range(spec["repeats"]):
        for run in spec["runs"]:
            out[run["name"]].append(once(run["cmd"], run["env"]))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
