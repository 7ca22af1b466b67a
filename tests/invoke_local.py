"""`make invoke`: one event from events/ through the handler under `cargo lambda watch` + `cargo lambda invoke`.

IAM is moto's server on 127.0.0.1 and the event's ResponseURL is replaced by a local one, so no AWS account is
needed. Prints what the runtime returned, the answer CloudFormation would receive, and the role IAM then holds.
"""

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_local import LocalLambda, role_state, show  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, limit_s):
    until = time.time() + limit_s
    while time.time() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"cargo lambda watch exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"cargo lambda watch did not listen on {port} within {limit_s}s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("event", help="an event file, e.g. events/create.json")
    args = ap.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    sink = LocalLambda()  # only its ResponseURL is used here; cargo lambda plays the Runtime API
    port = free_port()
    env_vars = {
        "AWS_ENDPOINT_URL_IAM": f"http://127.0.0.1:{moto_port}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
    }
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1",
         "--invoke-port", str(port), "--timeout", "60"]
        + [f"--env-var={k}={v}" for k, v in env_vars.items()],
        start_new_session=True,
    )
    try:
        wait_for_port(port, watch, 900)
        event = json.loads(Path(args.event).read_text())
        key = event.get("RequestId", "request")
        event["ResponseURL"] = f"http://127.0.0.1:{sink.port}/cfn/{key}?X-Amz-Signature=LOCAL"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(event, f)
        print(f"\n$ cargo lambda invoke logzio-role --data-file {args.event}  (ResponseURL -> 127.0.0.1:{sink.port})")
        result = subprocess.run(
            ["cargo", "lambda", "invoke", "logzio-role", "--data-file", f.name, "--invoke-address", "127.0.0.1",
             "--invoke-port", str(port), "--output-format", "json"],
            capture_output=True, text=True, timeout=120)
        print(f"runtime result: {result.stdout.strip() or result.stderr.strip()}")
        answers = sink.answers.get(key, [])
        name = json.loads(answers[-1]["body"])["PhysicalResourceId"] if answers else ""
        iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        show(f"{event['RequestType']} ({args.event})", result.stdout, answers,
             role_state(iam, name) if name else None, False)
        os.unlink(f.name)
        sys.exit(0 if answers else 1)
    finally:
        os.killpg(watch.pid, signal.SIGTERM)
        watch.wait()
        moto.stop()
        sink.server.shutdown()


if __name__ == "__main__":
    main()
