"""Benchmark baseline, not shipped: the Lambda Runtime API loop that the Python runtime runs around a handler
(what awslambdaric does, without its C++ parts), so the Python handler runs under the same local Runtime API
as the Rust binary."""

import json
import os
import sys
import time
import urllib.request

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import handler  # noqa: E402  (the init phase: imports boto3 and crhelper, makes the IAM client)


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "baseline")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        self.log_group_name = "/aws/lambda/baseline"
        self.log_stream_name = "local"
        self._deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def post(path, body):
    req = urllib.request.Request(f"{API}/{path}", data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req).read()


while True:
    with urllib.request.urlopen(f"{API}/invocation/next") as resp:
        event = json.loads(resp.read())
        context = Context(resp.headers)
    try:
        result = handler.handler(event, context)
        post(f"invocation/{context.aws_request_id}/response", result)
    except Exception as e:  # noqa: BLE001 - reported to the runtime like awslambdaric does
        post(f"invocation/{context.aws_request_id}/error", {"errorMessage": str(e), "errorType": type(e).__name__})
