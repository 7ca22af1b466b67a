"""Redelivery bounds: template.yaml's FunctionEventInvokeConfig against Lambda's documented asynchronous invocation,
through the local Runtime API (tests/lambda_local.py LocalLambda), with no Rust binary: a small fake function polls
the Runtime API over HTTP exactly as lambda_runtime does and reports an error or an answer as each scenario scripts.

It checks the two goals template.yaml states for MaximumRetryAttempts / MaximumEventAgeInSeconds:
- redelivery works: an event whose every delivery fails (each lasting init + Timeout, the longest it can) gets
  both retries at Lambda's spacing (1 then 2 minutes); an event throttled for THROTTLE_S is still delivered, and
  then still gets both retries;
- no stale redelivery: an event older than the limit is dropped, no delivery starts after it, and the last
  possible delivery (age limit + init + Timeout) ends, with QUEUE_MARGIN_S to spare, before the shortest
  ServiceTimeout the handler accepts (MIN_SERVICE_TIMEOUT_SECS in src/properties/service_timeout.rs); every
  ServiceTimeout in examples/ and events/ is at least that.

Waits between attempts run on a scaled clock (1 virtual minute = 60 / --time-scale real seconds); each delivery's
deadline is real.

    .venv/bin/python tests/redelivery.py                       # template.yaml, the minimum from src/
    .venv/bin/python tests/redelivery.py --template T.yaml --min-service-timeout 1020
"""

import argparse
import json
import re
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_local import (INIT_MAX_S, RETRY_SPACING_S, ROOT, TEMPLATE, LocalLambda, load_event, report,  # noqa: E402
                          template_settings)

# "Throttled for a few minutes": 5 minutes, the longest interval Lambda's throttling backoff reaches
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). With the backoff doubling
# from 1 s, attempts come at 0, 1, 3, 7, ... 255, 511 s of age: such an event first runs at 511 s.
THROTTLE_S = 300
# CloudFormation's ServiceTimeout clock starts when it sends the event, a little before Lambda queues it (the
# event's age starts there): the project's margin for that gap.
QUEUE_MARGIN_S = 50
SERVICE_TIMEOUT_MAX_S = 3600  # CloudFormation's limit
TOLERANCE_S = 1.0  # real time spent outside the scaled waits (HTTP round trips) adds to the virtual age


class FakeFunction:
    """Polls the Runtime API like lambda_runtime: GET .../invocation/next, then, per `self.outcome(event)`,
    "success" (PUT a SUCCESS answer to the event's ResponseURL, POST .../response) or "error" (POST .../error,
    as the handler does when its answer could not be delivered)."""

    def __init__(self, port):
        self.api = f"http://127.0.0.1:{port}/2018-06-01/runtime/invocation"
        self.outcome = lambda event: "error"
        self.received = []  # per delivery: {"request_id", "deadline_in_s" (real), "event"}
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            with urllib.request.urlopen(f"{self.api}/next", timeout=None) as r:
                invocation = r.headers["Lambda-Runtime-Aws-Request-Id"]
                deadline_in = int(r.headers["Lambda-Runtime-Deadline-Ms"]) / 1000 - time.time()
                event = json.loads(r.read())
            self.received.append({"request_id": event.get("RequestId"), "deadline_in_s": deadline_in,
                                  "event": event})
            if self.outcome(event) == "success":
                answer = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": "fake", "StackId": event["StackId"],
                                     "RequestId": event["RequestId"],
                                     "LogicalResourceId": event["LogicalResourceId"]}).encode()
                urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], answer, method="PUT")).read()
                self.post(f"{invocation}/response", b"{}")
            else:
                self.post(f"{invocation}/error", json.dumps(
                    {"errorType": "ResponseNotDelivered", "errorMessage": "the answer could not be delivered"}
                ).encode())

    def post(self, path, body):
        urllib.request.urlopen(urllib.request.Request(f"{self.api}/{path}", body, method="POST")).read()


def min_service_timeout():
    text = (ROOT / "src/properties/service_timeout.rs").read_text()
    return int(re.search(r"MIN_SERVICE_TIMEOUT_SECS: u64 = (\d+);", text).group(1))


def service_timeouts():
    """(file, value) of every ServiceTimeout in examples/*.yaml and events/*.json."""
    found = []
    for f in sorted((ROOT / "examples").glob("*.yaml")):
        found += [(f.name, int(v)) for v in re.findall(r"^\s*ServiceTimeout:\s*\"?(\d+)", f.read_text(), re.M)]
    for f in sorted((ROOT / "events").glob("*.json")):
        found += [(f.name, int(v)) for v in re.findall(r"\"ServiceTimeout\":\s*\"?(\d+)", f.read_text())]
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default=str(TEMPLATE))
    ap.add_argument("--min-service-timeout", type=int, help="default: MIN_SERVICE_TIMEOUT_SECS in src/")
    ap.add_argument("--time-scale", type=float, default=3000, help="virtual seconds per real second of waiting")
    args = ap.parse_args()

    s = template_settings(args.template)
    floor = args.min_service_timeout or min_service_timeout()
    age_limit, timeout = s["max_event_age_s"], s["timeout_s"]
    longest = INIT_MAX_S + timeout  # the longest one delivery can take
    print(f"{args.template}: MaximumRetryAttempts {s['retries']}, MaximumEventAgeInSeconds {age_limit}, "
          f"Timeout {timeout}; shortest ServiceTimeout accepted {floor}")
    lam = LocalLambda(template=args.template, time_scale=args.time_scale)
    fake = FakeFunction(lam.port)
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    def near(a, b):
        return abs(a - b) <= TOLERANCE_S

    def timeline():
        last = lam.last
        return {"throttled": [round(a) for a in last["throttled"]],
                "deliveries": [(round(d["age_s"]), round(d["end_age_s"]), d["kind"]) for d in last["deliveries"]],
                "dropped": last["dropped"] and round(last["dropped"]["age_s"])}

    def run(name, outcome, **kw):
        fake.outcome = outcome
        before = len(fake.received)
        (kind, _), answers = lam.invoke(load_event("create.json"), **kw)
        got = fake.received[before:]
        print(f"  {name}: {timeline()}")
        return kind, answers, got

    error = lambda event: "error"  # noqa: E731
    success = lambda event: "success"  # noqa: E731

    # 1. A function error on every delivery, each lasting init + Timeout.
    kind, _, got = run("error on every delivery", error, delivery_s=longest)
    d = lam.last["deliveries"]
    check("error every time: 1 + MaximumRetryAttempts deliveries, none dropped",
          len(d) == 1 + s["retries"] and not lam.last["dropped"] and len(got) == len(d), timeline())
    check("the retries come at Lambda's spacing (1 min, then 2 min, after the failed delivery)",
          len(d) == 3 and near(d[1]["age_s"] - d[0]["end_age_s"], RETRY_SPACING_S[0])
          and near(d[2]["age_s"] - d[1]["end_age_s"], RETRY_SPACING_S[1]), timeline())
    check("each delivery's deadline is real: the template's Timeout from when the function got it",
          got and all(timeout - 2 < g["deadline_in_s"] <= timeout for g in got), [g["deadline_in_s"] for g in got])

    # 2. Throttled THROTTLE_S, then the function answers.
    kind, answers, got = run(f"throttled {THROTTLE_S} s, then success", success, throttled_s=THROTTLE_S)
    check(f"throttled {THROTTLE_S} s: still delivered, once, and answered", kind == "response" and len(got) == 1
          and [a["status"] for a in answers] == [200] and not lam.last["dropped"], timeline())
    check("throttled attempts follow Lambda's backoff (1 s doubling, at most 5 min)",
          [round(a) for a in lam.last["throttled"]] == [0, 1, 3, 7, 15, 31, 63, 127, 255]
          and lam.last["deliveries"] and near(lam.last["deliveries"][0]["age_s"], 511), timeline())

    # 3. Throttled THROTTLE_S, then an error on every delivery: the design point.
    kind, _, got = run(f"throttled {THROTTLE_S} s, then error on every delivery", error, throttled_s=THROTTLE_S,
                       delivery_s=longest)
    check(f"throttled {THROTTLE_S} s, then error every time: both retries still delivered",
          len(lam.last["deliveries"]) == 1 + s["retries"] and not lam.last["dropped"], timeline())

    # 4. Throttled past the age limit: dropped, never delivered.
    kind, answers, got = run("throttled past the age limit", success, throttled_s=age_limit + 3600)
    check("an event older than MaximumEventAgeInSeconds is dropped, not delivered", kind == "dropped"
          and not got and not answers and lam.dropped and lam.dropped[-1] is lam.last
          and lam.last["dropped"]["age_s"] > age_limit, timeline())

    # 5. Whatever the throttle, no delivery starts after the age limit, and each ends before CloudFormation stops
    # waiting for the shortest ServiceTimeout.
    for throttle in sorted({0, 120, THROTTLE_S, age_limit // 2, age_limit - 60, age_limit - 5}):
        run(f"throttled {throttle} s, error every time", error, throttled_s=throttle, delivery_s=longest)
        d = lam.last["deliveries"]
        check(f"throttled {throttle} s: no delivery starts after {age_limit} s of age, each ends by "
              f"{age_limit + longest} s, {QUEUE_MARGIN_S} s before ServiceTimeout {floor}",
              all(x["age_s"] <= age_limit and x["end_age_s"] <= age_limit + longest + TOLERANCE_S
                  and x["end_age_s"] + QUEUE_MARGIN_S <= floor + TOLERANCE_S for x in d), timeline())

    # 6. The bound itself, and the ServiceTimeouts the project ships.
    end = age_limit + INIT_MAX_S + timeout
    check(f"the last possible delivery ends at {age_limit} + {INIT_MAX_S} + {timeout} = {end} s; "
          f"+ {QUEUE_MARGIN_S} s <= shortest ServiceTimeout {floor}", end + QUEUE_MARGIN_S <= floor)
    check(f"the shortest ServiceTimeout {floor} is within CloudFormation's limit {SERVICE_TIMEOUT_MAX_S}",
          floor <= SERVICE_TIMEOUT_MAX_S)
    shipped = service_timeouts()
    check(f"every ServiceTimeout in examples/ and events/ is {floor} to {SERVICE_TIMEOUT_MAX_S}",
          shipped and all(floor <= v <= SERVICE_TIMEOUT_MAX_S for _, v in shipped),
          [x for x in shipped if not floor <= x[1] <= SERVICE_TIMEOUT_MAX_S])

    lam.server.shutdown()
    sys.exit(report(checks, "redelivery"))


if __name__ == "__main__":
    main()
