"""Runs the built logzio-role binary as AWS Lambda would, with no AWS account and no Logz.io account.

- IAM and Secrets Manager: moto's server on 127.0.0.1 (AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_SECRETS_MANAGER
  point the binary's SDK at it); the Logz.io API token is a secret there.
- Logz.io: the fake of its public API (tests/logzio_fake.py) on 127.0.0.1 (LOGZIO_API_URL), which checks the role
  against moto the way Logz.io checks it against AWS, and refuses a role for its first seconds (IAM propagation).
- Lambda: a minimal Lambda Runtime API (GET .../invocation/next, POST .../response and .../error) that the
  unchanged binary polls, exactly as on Lambda. Like Lambda for an asynchronous invocation (which is how
  CloudFormation invokes a custom resource), an error result delivers the same event again, up to
  MaximumRetryAttempts times, 1 and then 2 minutes later, each time with a fresh deadline; a throttled event is
  tried again with Lambda's backoff; and an event older than MaximumEventAgeInSeconds is dropped, not delivered
  (both settings and the function's Timeout are read from template.yaml). Minutes are not waited: the waits
  between attempts run on a scaled clock, while each delivery and its deadline are real (see `EventClock`).
- CloudFormation: a local ResponseURL that records the PUT answers.

`demo` plays one stack with both resources: the role (its trust from Logz.io's API, from the token) and the
archive registered in Logz.io, each created, updated in place and deleted (and one invalid Create), and prints a
transcript: the answer CloudFormation would get, the role as IAM holds it, and the archive as Logz.io holds it
after each step. What it shows is asserted by the test tiers (tests/faults.py runs the same binary under this
Runtime API), not here.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from logzio_fake import FakeLogzio  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIGNATURE = "X-Amz-Signature=LOCAL-SECRET-SIGNATURE"
EXTERNAL_ID = "logzio:aws:extid:example1234"
ACCOUNT = "123456789012"
# The demo's Logz.io API token (a secret: it must never reach a log line or an answer).
TOKEN = "LOCAL-SECRET-LOGZIO-API-TOKEN-5c0ffee"
# Where the binary finds Logz.io when a test gives no fake: a loopback port nothing listens on, so that no test
# ever reaches the real API.
NO_LOGZIO = "http://127.0.0.1:9"
TEMPLATE = ROOT / "template.yaml"

# Lambda's asynchronous invocation, as documented in
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html: after a function error
# Lambda waits one minute before the first retry and two minutes before the second (here counted from the end of
# the failed attempt); a throttled event (429, no concurrency) goes back to the queue and is tried again "from
# 1 second after the first attempt to a maximum of 5 minutes", exponentially (here: doubling). An event older
# than MaximumEventAgeInSeconds is discarded instead of run
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html).
RETRY_SPACING_S = (60, 120)
THROTTLE_BACKOFF_FIRST_S = 1
THROTTLE_BACKOFF_MAX_S = 300
# The Init phase of an on-demand function is limited to 10 s
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
INIT_MAX_S = 10
# Virtual seconds per real second for the waits between attempts: Lambda's 1 minute is 0.2 s here.
TIME_SCALE = 300


def load_template(path=TEMPLATE):
    """A CloudFormation template as plain data: its `!` tags (`!Ref`, `!Sub`, ...) are read as the JSON form of
    the intrinsic functions ({"Ref": x}, {"Fn::Sub": x}, ...)."""
    import yaml  # PyYAML: moto[server] depends on it

    class CfnLoader(yaml.SafeLoader):
        pass

    def tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", tag)
    return yaml.load(Path(path).read_text(), Loader=CfnLoader)


def template_settings(path=TEMPLATE):
    """The asynchronous-invocation settings template.yaml deploys: {"retries": MaximumRetryAttempts,
    "max_event_age_s": MaximumEventAgeInSeconds, "timeout_s": the function's Timeout}; only plain values are
    used here."""
    doc = load_template(path)
    resources = doc["Resources"]
    configs = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::Lambda::EventInvokeConfig"]
    if len(configs) != 1:
        raise ValueError(f"{path}: expected one AWS::Lambda::EventInvokeConfig, found {len(configs)}")
    config = configs[0]
    function = resources[config["FunctionName"]["Ref"]]
    timeout = function.get("Properties", {}).get("Timeout",
                                                 doc.get("Globals", {}).get("Function", {}).get("Timeout"))
    # Lambda's defaults when a setting is absent: 2 retries, 6 hours; a SAM function's default Timeout is 3 s.
    return {"retries": int(config.get("MaximumRetryAttempts", 2)),
            "max_event_age_s": int(config.get("MaximumEventAgeInSeconds", 21600)),
            "timeout_s": int(timeout if timeout is not None else 3)}


class EventClock:
    """An event's age in Lambda's queue, from its enqueue. Time spent delivering it is real (the binary computes
    its deadline from Lambda-Runtime-Deadline-Ms, so a delivery's timeout must be real); the waits between
    attempts (Lambda's retry spacing, its throttling backoff) are virtual: `wait(s)` adds s seconds to the age
    and sleeps only s / scale. `pad(s)` adds s seconds without sleeping (a delivery counted as longer than it
    really took)."""

    def __init__(self, scale=TIME_SCALE):
        self.scale = scale
        self.start = time.monotonic()
        self.virtual = 0.0  # seconds added by wait() and pad()
        self.slept = 0.0  # real seconds spent in wait()

    def age(self):
        return time.monotonic() - self.start - self.slept + self.virtual

    def wait(self, s):
        t0 = time.monotonic()
        time.sleep(s / self.scale)
        self.slept += time.monotonic() - t0
        self.virtual += s

    def pad(self, s):
        self.virtual += max(0.0, s)


class LocalLambda:
    """A Lambda Runtime API and a CloudFormation ResponseURL on one local HTTP server.

    `retries` (MaximumRetryAttempts), `max_event_age_s` (MaximumEventAgeInSeconds) and `timeout_s` (the
    function's Timeout, each delivery's default deadline): from template.yaml unless given. `time_scale`: virtual
    seconds per real second for the waits between attempts (EventClock). `self.dropped`: the `last` record of
    every event Lambda discarded for its age."""

    def __init__(self, retries=None, max_event_age_s=None, timeout_s=None, time_scale=TIME_SCALE,
                 template=TEMPLATE):
        settings = template_settings(template) if None in (retries, max_event_age_s, timeout_s) else {}
        self.retries = settings["retries"] if retries is None else retries
        self.max_event_age_s = settings["max_event_age_s"] if max_event_age_s is None else max_event_age_s
        self.timeout_s = settings["timeout_s"] if timeout_s is None else timeout_s
        self.time_scale = time_scale
        self.dropped = []
        self.last = None
        self.alive = None  # set by start_binary: whether the handler process still runs
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

    def invoke(self, event, timeout_s=None, response_base=None, put_faults=(), raw=None, request_id=None,
               throttled_s=(), delivery_s=None, response_key=None):
        """Delivers one event through the Runtime API as Lambda's asynchronous invocation does: the event is
        queued (its age starts), and while its age is at most `self.max_event_age_s`, Lambda runs it: a throttled
        attempt is tried again after 1, 2, 4, ... s (at most 300 s); a delivery that reports an error is delivered
        again (up to `self.retries` times) RETRY_SPACING_S after it ended. An event older than the limit when its
        next attempt comes is dropped (recorded in `self.last["dropped"]` and `self.dropped`), not delivered. Each
        delivery gets a fresh, real deadline of `timeout_s` (default: the template's Timeout). Returns the last
        delivery's result, (kind, body), or ("dropped", why) when no delivery ran, and every PUT to the event's
        ResponseURL.

        `throttled_s`: when the function has no concurrency, in seconds of the event's age: a number N (the first
        N seconds) or (from, to) windows. `delivery_s`: count each delivery as lasting at least this long in the
        event's age (e.g. init + Timeout, the longest a delivery can run) without waiting for it.
        `raw`: bytes delivered as they are instead of the event's JSON (or a function of the event, with its
        ResponseURL and RequestId set, that makes them). `request_id`: deliver again with the id of
        an earlier event (a duplicate delivery). `response_key`: the ResponseURL of an earlier event (its
        `self.last["key"]`) instead of a fresh one; the PUTs returned are then only this invoke's.
        `put_faults`: what the ResponseURL does with the first PUTs.
        In `self.last`: each delivery's deadline, result kind and result time (monotonic) and its start and end
        age, the ages of the throttled attempts, the RequestId, and `dropped` (None, or when and why)."""
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        windows = [(0, throttled_s)] if isinstance(throttled_s, (int, float)) else list(throttled_s)
        event = copy.deepcopy(event)
        request_id = request_id or str(uuid.uuid4())
        key = response_key or str(uuid.uuid4())
        earlier = len(self.answers.get(key, []))  # PUTs a reused ResponseURL had before this invoke
        base = response_base or f"http://127.0.0.1:{self.port}"
        if event is not None:
            event["ResponseURL"] = f"{base}/cfn/{key}?{SIGNATURE}"
            event["RequestId"] = request_id
        self.put_faults[key] = list(put_faults)
        payload = raw(event) if callable(raw) else raw if raw is not None else event
        clock = EventClock(self.time_scale)
        deliveries, throttled, dropped = [], [], None
        backoff = THROTTLE_BACKOFF_FIRST_S
        last = None  # the last delivery's invocation id
        self.last = {"deadline": None, "result_at": None, "request_id": request_id, "key": key,
                     "deliveries": deliveries,
                     "throttled": throttled, "dropped": None, "max_event_age_s": self.max_event_age_s}
        while True:
            age = clock.age()
            if age > self.max_event_age_s:
                dropped = {"age_s": age, "after_deliveries": len(deliveries),
                           "why": f"older than MaximumEventAgeInSeconds {self.max_event_age_s}"}
                break
            if any(a <= age < b for a, b in windows):
                throttled.append(age)
                clock.wait(backoff)
                backoff = min(backoff * 2, THROTTLE_BACKOFF_MAX_S)
                continue
            backoff = THROTTLE_BACKOFF_FIRST_S
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
            if delivery_s is not None:
                clock.pad(age + delivery_s - clock.age())
            last = invocation
            kind = self.results[invocation][0]
            deliveries.append({"deadline": deadline, "result_at": self.result_at[invocation], "kind": kind,
                               "age_s": age, "end_age_s": clock.age()})
            self.last.update(deadline=deadline, result_at=self.result_at[invocation])
            if kind != "error" or len(deliveries) > self.retries:
                break
            clock.wait(RETRY_SPACING_S[min(len(deliveries), len(RETRY_SPACING_S)) - 1])
        self.last["dropped"] = dropped
        if dropped:
            self.dropped.append(self.last)
        answers = self.answers.get(key, [])[earlier:]
        if last is None:
            return ("dropped", dropped["why"]), answers
        return self.results[last], answers


def report(checks, title):
    """Prints each (name, ok, detail) check and a summary line; the exit status: 1 if any failed."""
    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"))
    print(f"{title}: {len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def load_event(name):
    return json.loads((ROOT / "events" / name).read_text())


def start_binary(binary, lam, moto_port, log, trace_json, logzio_url=None, secrets_port=None):
    """Starts the binary polling `lam`, IAM at `moto_port`, Secrets Manager at `secrets_port` (default:
    `moto_port`), Logz.io at `logzio_url` (default: nowhere); its output lines go to `log`. `trace_json`: log at
    TRACE in Lambda's JSON format."""
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{lam.port}",
        "AWS_LAMBDA_FUNCTION_NAME": "logzio-role",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_ENDPOINT_URL_IAM": f"http://127.0.0.1:{moto_port}",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{secrets_port or moto_port}",
        "LOGZIO_API_URL": logzio_url or NO_LOGZIO,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_LOG": env.get("RUST_LOG", "info"),
    })
    if trace_json:
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


def role_state(iam, name, masks=None):
    """The role as IAM holds it, with the ExternalId masked (`masks`: {secret: shown instead}, default the sample
    events' ExternalId)."""
    masks = masks or {EXTERNAL_ID: "<ExternalId>"}
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
        "Arn": role["Arn"],
        "Path": role["Path"],
        "Description": role.get("Description"),
        "MaxSessionDuration": role.get("MaxSessionDuration"),
        "Tags": {t["Key"]: t["Value"] for t in role.get("Tags", [])},
        "Trust": json.loads(mask(json.dumps(trust), masks)),
        "InlinePolicies": policies,
    }


def mask(text, masks):
    for secret, shown in masks.items():
        text = text.replace(secret, shown)
    return text


def start_logzio(moto_port, token, propagation_s=1.5, consistency_s=0.5, secret_name="logzio/api-token", **kw):
    """The fake Logz.io (its IAM checks against moto) with one account for `token`, and the token as a Secrets
    Manager secret in moto: (fake, the account's {"token", "external_id", "aws_account"}, the secret's ARN)."""
    fake = FakeLogzio(f"http://127.0.0.1:{moto_port}", propagation_s=propagation_s, consistency_s=consistency_s,
                      **kw)
    account = fake.add_account(token)
    return fake, account, token_secret(moto_port, secret_name, token)


def token_secret(moto_port, name, token):
    """A Secrets Manager secret in moto whose SecretString is `token`: its ARN."""
    sm = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    return sm.create_secret(Name=name, SecretString=token)["ARN"]


def archive_state(fake, token, masks):
    """What Logz.io holds for the token's account, with the external ID masked."""
    return json.loads(mask(json.dumps(fake.archives(token)), masks))


def show_answer(title, result, answers, quiet):
    """Prints the step's title and the answer CloudFormation receives; False when none reached it."""
    if quiet:
        return False
    print(f"\n=== {title}")
    if not answers:
        print(f"  no answer reached the ResponseURL; runtime result: {result}")
        return False
    body = json.loads(answers[-1]["body"])
    print(f"  CloudFormation receives: {body['Status']}  PhysicalResourceId={body['PhysicalResourceId']}")
    if body.get("Reason"):
        print(f"  Reason: {body['Reason']}")
    for k, v in (body.get("Data") or {}).items():
        print(f"  Fn::GetAtt {k} = {v}")
    return True


def show_role(state):
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


def show(title, result, answers, state, quiet):
    """The answer, then the role as IAM holds it."""
    if show_answer(title, result, answers, quiet):
        show_role(state)


def show_archives(calls, held):
    """The calls the handler made to Logz.io during the step, and the archives Logz.io holds after it."""
    if calls:
        print("  Logz.io was called: " + ", ".join(f"{m} {p} -> {s}" for m, p, s in calls))
    if not held:
        print("  Logz.io now holds: no archive for this account")
    for a in held:
        s = a["settings"]
        s3 = s["amazonS3StorageSettings"]
        creds = s3["s3IamCredentials"]
        print(f"  Logz.io now holds archive {a['id']}: {s['storageType']} to {s3['path']}, "
              f"{'enabled' if s['enabled'] else 'disabled'}, {'compressed' if s['compressed'] else 'uncompressed'}")
        print(f"    assumes {creds['arn']} ({s3['credentialsType']}) presenting external ID "
              f"{creds.get('externalId', '(none)')}")


def token_props(props, secret_arn):
    """Role properties with the trust from Logz.io's API instead of a hand-copied ExternalId."""
    props = {k: v for k, v in props.items() if k != "ExternalId"}
    props["LogzioApiTokenSecretArn"] = secret_arn
    return props


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary", help="the built logzio-role binary")
    args = ap.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    # Logz.io: a new role is refused for 1.5 s (the demo shows the handler waiting it out) and a read lags 0.5 s
    # behind a change (the handler reads until the change shows).
    fake, account, secret_arn = start_logzio(moto_port, TOKEN, propagation_s=1.5, consistency_s=0.5)
    issued = account["external_id"]
    masks = {EXTERNAL_ID: "<ExternalId>", issued: "<Logz.io's external ID>"}
    lam = LocalLambda()
    log = []
    proc = start_binary(args.binary, lam, moto_port, log, False, logzio_url=fake.url)

    def deliver(title, event):
        fake.calls()
        result, answers = lam.invoke(event)
        body = json.loads(answers[-1]["body"]) if answers else {}
        return result, answers, body

    def step(title, event, role=None):
        """One role event through the handler: prints it, returns the answers, the last answer and the role."""
        result, answers, body = deliver(title, event)
        role = role or body.get("PhysicalResourceId")
        state = role_state(iam, role, masks) if role else None
        show(title, result, answers, state, False)
        return answers, body, state

    def archive_step(title, event):
        """One archive event: prints it and what Logz.io holds; returns the answers, the last answer, the
        archives Logz.io holds (external ID masked) and the Logz.io calls made."""
        result, answers, body = deliver(title, event)
        calls = fake.calls()
        held = archive_state(fake, TOKEN, masks)
        if show_answer(title, result, answers, False):
            show_archives(calls, held)
        return answers, body, held, calls

    try:
        print(f"IAM and Secrets Manager emulator (moto) on 127.0.0.1:{moto_port}; Logz.io (fake) on "
              f"127.0.0.1:{fake.port}; Lambda Runtime API and ResponseURL on 127.0.0.1:{lam.port}; "
              f"handler: {args.binary}")
        print(f"The Logz.io API token is in Secrets Manager: {secret_arn}")
        print("No external ID is copied by hand: the role asks Logz.io's API for it with that token.")

        create = load_event("create.json")
        create["ResourceProperties"] = token_props(create["ResourceProperties"], secret_arn)
        answers, body, state = step("Create role (trust from Logz.io's API, with the token)", create)
        name = body.get("PhysicalResourceId", "")
        role_arn = (body.get("Data") or {}).get("Arn", "")

        archive = load_event("archive-create.json")
        archive["ResourceProperties"].update(LogzioApiTokenSecretArn=secret_arn, RoleArn=role_arn)
        answers, body, held, calls = archive_step("Create archive (Logz.io archives to the bucket with the role)",
                                                  archive)
        archive_id = body.get("PhysicalResourceId", "")

        archive_update = load_event("archive-update.json")
        archive_update["PhysicalResourceId"] = archive_id
        for key in ("ResourceProperties", "OldResourceProperties"):
            archive_update[key].update(LogzioApiTokenSecretArn=secret_arn, RoleArn=role_arn)
        answers, body, held, calls = archive_step("Update archive (Compressed false: in place)", archive_update)

        update = load_event("update.json")
        update["PhysicalResourceId"] = name
        for key in ("ResourceProperties", "OldResourceProperties"):
            update[key] = token_props(update[key], secret_arn)
        answers, body, state = step("Update role (KeyPrefix, MaxSessionDuration, Tags: in place)", update, name)

        bad = load_event("create.json")
        bad["LogicalResourceId"] = "TypoRole"
        props = bad["ResourceProperties"]
        props["Bucketname"] = props.pop("BucketName")
        props["MaxSessionDuration"] = "90000"
        answers, body, _ = step("Create with a typo and a bad value", bad)

        archive_delete = load_event("archive-delete.json")
        archive_delete["PhysicalResourceId"] = archive_id
        archive_delete["ResourceProperties"].update(LogzioApiTokenSecretArn=secret_arn, RoleArn=role_arn)
        answers, body, held, calls = archive_step("Delete archive", archive_delete)

        delete = load_event("delete.json")
        delete["PhysicalResourceId"] = name
        delete["ResourceProperties"] = token_props(delete["ResourceProperties"], secret_arn)
        answers, body, state = step("Delete role", delete, name)

        # The handler writes its log line before it returns to the Runtime API; wait for the pump to read it.
        events = 7
        until = time.time() + 5
        while sum("answered" in line for line in log) < events and time.time() < until:
            time.sleep(0.02)
        print("\n=== Handler log (what CloudWatch Logs would show)")
        for line in log:
            print("  " + line)
    finally:
        proc.kill()
        proc.wait()
        lam.server.shutdown()
        fake.stop()
        moto.stop()


if __name__ == "__main__":
    main()
