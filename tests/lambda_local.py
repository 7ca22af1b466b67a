"""Runs the built logzio-role binary as AWS Lambda would, with no AWS account.

- IAM: moto's server on 127.0.0.1 (AWS_ENDPOINT_URL_IAM points the binary's SDK at it).
- Lambda: a minimal Lambda Runtime API (GET .../invocation/next, POST .../response and .../error) that the
  unchanged binary polls, exactly as on Lambda. Like Lambda for an asynchronous invocation (which is how
  CloudFormation invokes a custom resource), an error result delivers the same event again, up to twice
  (MaximumRetryAttempts 2 in template.yaml), each time with a fresh deadline.
- CloudFormation: a local ResponseURL that records the PUT answers.

`demo` sends Create -> Update -> Delete (and one invalid Create) and prints a transcript: the answer
CloudFormation would get and the role as IAM holds it after each step. `--check` also asserts the outcomes and
that neither the ResponseURL's signature nor the ExternalId ever reached the handler's logs, and exits non-zero
otherwise.
"""

import argparse
import copy
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
SIGNATURE = "X-Amz-Signature=LOCAL-SECRET-SIGNATURE"
EXTERNAL_ID = "logzio:aws:extid:example1234"
ACCOUNT = "123456789012"


class LocalLambda:
    """A Lambda Runtime API and a CloudFormation ResponseURL on one local HTTP server.

    `retries`: how many times an event whose invocation ended in an error is delivered again (Lambda's
    asynchronous invocation: 2 by default; Lambda waits about 1 and 2 minutes, here `retry_delay_s`)."""

    def __init__(self, retries=2, retry_delay_s=0.2):
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.events = queue.Queue()
        self.polls = []  # monotonic time of each GET .../invocation/next (the first one ends the cold init)
        self.answers = {}
        self.results = {}
        self.result_at = {}  # monotonic time the handler reported each event's result to the Runtime API
        self.put_faults = {}  # ResponseURL key -> faults for its next PUTs: ("status", code), ("hang",), or
        # ("first_delivery", code): every PUT made during the event's first delivery gets `code`
        self.delivery_of = {}  # ResponseURL key -> which delivery of its event is running (1, 2, 3)
        self.released = threading.Event()
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reply(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    outer.polls.append(time.monotonic())
                    request_id, deadline_ms, event = outer.events.get()
                    body = event if isinstance(event, bytes) else json.dumps(event).encode()
                    self._reply(200, body, [
                        ("Lambda-Runtime-Aws-Request-Id", request_id),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                        ("Lambda-Runtime-Invoked-Function-Arn",
                         f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:logzio-role"),
                        ("Content-Type", "application/json"),
                    ])
                else:
                    self._reply(404)

            def do_POST(self):
                body = self._body()
                parts = self.path.split("/")
                if "invocation" in parts and parts[-1] in ("response", "error"):
                    with outer.arrived:
                        outer.results[parts[-2]] = (parts[-1], body.decode(errors="replace"))
                        outer.result_at[parts[-2]] = time.monotonic()
                        outer.arrived.notify_all()
                self._reply(202)

            def do_PUT(self):
                body = self._body()
                key = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
                faults = outer.put_faults.get(key) or []
                if faults and faults[0][0] == "first_delivery":
                    fault = ("status", faults[0][1] if outer.delivery_of.get(key) == 1 else 200)
                else:
                    fault = faults.pop(0) if faults else ("status", 200)
                with outer.arrived:
                    outer.answers.setdefault(key, []).append(
                        {"body": body, "content_type": self.headers.get("Content-Type"), "at": time.monotonic(),
                         "status": fault[1] if fault[0] == "status" else None})
                    outer.arrived.notify_all()
                if fault[0] == "hang":  # accept the request, never answer it
                    outer.released.wait(300)
                    self.close_connection = True
                    return
                self._reply(fault[1])

        self.handler_class = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event, timeout_s=60, response_base=None, put_faults=(), raw=None, request_id=None):
        """Delivers one event through the Runtime API, as an asynchronous invocation: when the handler reports
        an error, the same event is delivered again (up to `self.retries` times), each delivery with a fresh
        deadline of `timeout_s`. Returns the last delivery's result and every PUT to the event's ResponseURL.

        `raw`: bytes delivered as they are instead of the event's JSON (or a function of the event, with its
        ResponseURL and RequestId set, that makes them). `request_id`: deliver again with the id of
        an earlier event (a duplicate delivery). `put_faults`: what the ResponseURL does with the first PUTs.
        In `self.last`: each delivery's deadline, result kind and result time (monotonic), and the RequestId."""
        event = copy.deepcopy(event)
        request_id = request_id or str(uuid.uuid4())
        key = str(uuid.uuid4())
        base = response_base or f"http://127.0.0.1:{self.port}"
        if event is not None:
            event["ResponseURL"] = f"{base}/cfn/{key}?{SIGNATURE}"
            event["RequestId"] = request_id
        self.put_faults[key] = list(put_faults)
        payload = raw(event) if callable(raw) else raw if raw is not None else event
        deliveries = []
        while True:
            self.delivery_of[key] = len(deliveries) + 1
            invocation = str(uuid.uuid4())
            deadline = time.monotonic() + timeout_s
            deadline_ms = int((time.time() + timeout_s) * 1000)
            self.events.put((invocation, deadline_ms, payload))
            end = time.monotonic() + timeout_s + 5
            with self.arrived:
                while invocation not in self.results:
                    if self.alive is not None and not self.alive():
                        raise RuntimeError("the handler process exited")
                    if time.monotonic() > end:
                        raise RuntimeError(f"the handler did not finish an event within {timeout_s}s")
                    self.arrived.wait(0.5)
            kind = self.results[invocation][0]
            deliveries.append({"deadline": deadline, "result_at": self.result_at[invocation], "kind": kind})
            if kind != "error" or len(deliveries) > self.retries:
                break
            time.sleep(self.retry_delay_s)
        self.last = {"deadline": deadline, "result_at": self.result_at[invocation], "request_id": request_id,
                     "deliveries": deliveries}
        return self.results[invocation], self.answers.get(key, [])


def load_event(name):
    return json.loads((ROOT / "events" / name).read_text())


def start_binary(binary, lam, moto_port, log, check):
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{lam.port}",
        "AWS_LAMBDA_FUNCTION_NAME": "logzio-role",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_ENDPOINT_URL_IAM": f"http://127.0.0.1:{moto_port}",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_LOG": env.get("RUST_LOG", "info"),
    })
    if check:
        # The most verbose setting a user can choose, in the format Lambda's JSON logging uses: even then no
        # secret may appear.
        env.update({"AWS_LAMBDA_LOG_LEVEL": "TRACE", "RUST_LOG": "trace", "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    env.pop("AWS_PROFILE", None)
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def pump():
        for line in proc.stdout:
            log.append(line.rstrip("\n"))

    proc.pump = threading.Thread(target=pump, daemon=True)  # join it after the process ends: every line read
    proc.pump.start()
    lam.alive = lambda: proc.poll() is None
    return proc


def role_state(iam, name):
    """The role as IAM holds it, with the ExternalId masked."""
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(urllib.parse.unquote(trust))
    policies = {}
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
        policies[p] = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
    return {
        "RoleName": role["RoleName"],
        "Path": role["Path"],
        "Description": role.get("Description"),
        "MaxSessionDuration": role.get("MaxSessionDuration"),
        "Tags": {t["Key"]: t["Value"] for t in role.get("Tags", [])},
        "Trust": json.loads(json.dumps(trust).replace(EXTERNAL_ID, "<ExternalId>")),
        "InlinePolicies": policies,
    }


def show(title, result, answers, state, quiet):
    if quiet:
        return
    print(f"\n=== {title}")
    if not answers:
        print(f"  no answer reached the ResponseURL; runtime result: {result}")
        return
    body = json.loads(answers[-1]["body"])
    print(f"  CloudFormation receives: {body['Status']}  PhysicalResourceId={body['PhysicalResourceId']}")
    if body.get("Reason"):
        print(f"  Reason: {body['Reason']}")
    for k, v in (body.get("Data") or {}).items():
        print(f"  Fn::GetAtt {k} = {v}")
    if not state:
        print("  IAM now holds: no such role")
        return
    print(f"  IAM now holds role {state['RoleName']} (path {state['Path']}, "
          f"max session {state['MaxSessionDuration']} s)")
    print(f"    description: {state['Description']}")
    for st in state["Trust"]["Statement"]:
        cond = st.get("Condition", {}).get("StringEquals", {})
        print(f"    trust: {st['Principal'].get('AWS')} may {st['Action']}"
              + "".join(f" when {k} = {v}" for k, v in cond.items()))
    for pname, doc in state["InlinePolicies"].items():
        print(f"    inline policy {pname}:")
        for st in doc["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            print(f"      {st['Effect']} {', '.join(actions)} on {st['Resource']}")
    print("    tags: " + ", ".join(f"{k}={v}" for k, v in sorted(state["Tags"].items())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary", help="the built logzio-role binary")
    ap.add_argument("--check", action="store_true", help="assert the outcomes; exit 1 on any failure")
    ap.add_argument("--quiet", action="store_true", help="no transcript")
    args = ap.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    lam = LocalLambda()
    log = []
    proc = start_binary(args.binary, lam, moto_port, log, args.check)
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    def step(title, event, role=None):
        """One event through the handler: prints it, returns the answers, the last answer and the role."""
        result, answers = lam.invoke(event)
        check(f"{title}: delivered once, no redelivery", len(lam.last["deliveries"]) == 1
              and sum(a["status"] == 200 for a in answers) == 1, (lam.last, answers))
        body = json.loads(answers[-1]["body"]) if answers else {}
        role = role or body.get("PhysicalResourceId")
        state = role_state(iam, role) if role else None
        show(title, result, answers, state, args.quiet)
        return answers, body, state

    try:
        if not args.quiet:
            print(f"IAM emulator (moto) on 127.0.0.1:{moto_port}; Lambda Runtime API and ResponseURL on "
                  f"127.0.0.1:{lam.port}; handler: {args.binary}")

        answers, body, state = step("Create", load_event("create.json"))
        name = body.get("PhysicalResourceId", "")
        check("create answered SUCCESS once", len(answers) == 1 and body.get("Status") == "SUCCESS", body)
        check("answer has no Content-Type", answers and not answers[0]["content_type"], answers)
        check("role exists with the Logz.io trust", state and state["Trust"]["Statement"][0]["Principal"]["AWS"]
              == "arn:aws:iam::406095609952:root", state)
        check("role has the archive policy", state and "LogzioArchiveAccess" in state["InlinePolicies"], state)

        update = load_event("update.json")
        update["PhysicalResourceId"] = name
        answers, body, state = step("Update (KeyPrefix, MaxSessionDuration, Tags: in place)", update, name)
        check("update answered SUCCESS with the same id",
              body.get("Status") == "SUCCESS" and body.get("PhysicalResourceId") == name, body)
        check("update applied in place", state and state["MaxSessionDuration"] == 7200
              and "acme-logzio-archive" in (state["Description"] or "")
              and state["Tags"].get("team") == "observability"
              and state["InlinePolicies"]["LogzioArchiveAccess"]["Statement"][2]["Resource"]
              == "arn:aws:s3:::acme-logzio-archive/logzio/*", state)

        bad = load_event("create.json")
        bad["LogicalResourceId"] = "TypoRole"
        props = bad["ResourceProperties"]
        props["Bucketname"] = props.pop("BucketName")
        props["MaxSessionDuration"] = "90000"
        answers, body, _ = step("Create with a typo and a bad value", bad)
        check("invalid create answered FAILED naming the properties", body.get("Status") == "FAILED"
              and "Bucketname: unknown property" in body.get("Reason", "")
              and "MaxSessionDuration" in body.get("Reason", ""), body)

        delete = load_event("delete.json")
        delete["PhysicalResourceId"] = name
        answers, body, state = step("Delete", delete, name)
        check("delete answered SUCCESS", body.get("Status") == "SUCCESS", body)
        check("role is gone", state is None, state)

        # The handler writes its log line before it returns to the Runtime API; wait for the pump to read it.
        until = time.time() + 5
        while sum("answered" in line for line in log) < 4 and time.time() < until:
            time.sleep(0.02)
        text = "\n".join(log)
        check("handler logs never show the ResponseURL signature", "LOCAL-SECRET-SIGNATURE" not in text)
        check("handler logs never show the ExternalId", EXTERNAL_ID not in text)
        check("handler logs one line per event", sum("answered" in line for line in log) == 4, text)
        check("process kept serving", proc.poll() is None)
        if args.check:
            def is_json(line):
                try:
                    return isinstance(json.loads(line), dict)
                except ValueError:
                    return False
            check("with AWS_LAMBDA_LOG_FORMAT=JSON every log line is JSON", log and all(map(is_json, log)), text)
        if not args.quiet:
            print("\n=== Handler log (what CloudWatch Logs would show)")
            for line in log:
                print("  " + line)
    finally:
        proc.kill()
        proc.wait()
        lam.server.shutdown()
        moto.stop()

    failed = [c for c in checks if not c[1]]
    if args.check:
        for name, ok, detail in checks:
            print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))
        print(f"e2e: {len(checks) - len(failed)} passed, {len(failed)} failed")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
