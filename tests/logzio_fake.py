"""A local fake of the parts of Logz.io's public API that the handler uses, for the test tiers and `make demo`.

Standard library only (http.server, threading, json), plus boto3 to check the role against the IAM emulator
(moto) the way Logz.io checks it against AWS when an archive is set up.

    GET    /v1/log-shipping/s3-buckets/aws-assume-role-details   the account's issued external ID and AWS account
    GET    /v2/archive/settings                                  the account's archive settings (an array)
    POST   /v2/archive/settings                                  create (one archive per account), access checked
    GET    /v2/archive/settings/{id}                             read one
    PUT    /v2/archive/settings/{id}                             full replace, access checked
    DELETE /v2/archive/settings/{id}                             delete

What is documented by Logz.io (see ../shared/LOGZIO-API.md, which cites the Swagger file, the docs' history and
the Terraform provider's client), and the fake follows:
- the paths above; the `X-API-TOKEN` header; one token = one Logz.io account, whose archive settings it sees;
- the assume-role-details answer `{"logzioAWSAccountId", "assignedExternalId"}`, one issued external ID per
  account shaped `logzio:aws:extid:<random>` (406095609952 is the default AWS account; each account can have
  another one, because current guides no longer name it);
- the POST/PUT body (`storageType`, `enabled`, `compressed`, `amazonS3StorageSettings` with `credentialsType`
  `IAM`, `path`, `s3IamCredentials.arn`) and the answer `{"id", "settings"}` whose `s3IamCredentials` carries the
  `externalId` Logz.io presents; PUT is a full replace; one archive per account; 404 on a read or delete of an
  archive that is gone; Logz.io checks that it can assume the role when the archive is set up, and a role made
  seconds earlier may not be assumable yet (IAM propagation); updates are eventually consistent (the Terraform
  provider re-reads after a PUT until the change shows);
- the list's shape is contradictory: the spec says one object, the Terraform client parses an array. The fake
  answers an array (`[]` when none) by default; `list_shape="object"` answers the first settings object, or `{}`
  when there is none (never `null`, never 404).

What is NOT documented, and is the fake's assumption (build the handler for other readings too):
- 401 `{"errorCode": "auth/UNAUTHORIZED", ...}` for a missing or unknown token (the status is the usual one; the
  body shape is the one other Logz.io APIs use: `{"errorCode": "<area>/<CODE>", "message", "requestId"}`). The
  archive calls document no error bodies at all: every error body below is in that borrowed shape.
- a second POST while an archive exists: 409 `archive/ALREADY_EXISTS` (the real status and body are unknown; the
  fake checks this after the body's shape and before the role).
- a refused access check: 400 `archive/ASSUME_ROLE_FAILED` with message
  "Logz.io could not assume role <arn>: <why>" (real status and wording unknown; it may well be a 4xx other than
  400, or a 5xx). The `why` never contains the token or the external ID.
- an invalid body: 400 `archive/INVALID_REQUEST` naming the field. The fake requires `enabled` and `compressed`
  (the real service may default them) and accepts only `storageType` S3 with `credentialsType` IAM (the real
  one also has Azure BLOB and access keys). Extra fields are ignored and not stored.
- GET/PUT/DELETE of an id that is not this account's: 404 `archive/NOT_FOUND`, like a gone one. PUT looks the id
  up before it validates the body.
- DELETE answers 200 `{}` (`delete_status=204`: an empty 204); POST answers 200 (`create_status=201`: 201).
- the access check, as this fake models it (the real one is an STS AssumeRole plus a test write of a
  `logzio-verified` object, details unpublished):
  * the ARN `arn:aws:iam::<acct>:role[/path/]<name>` names a role that exists in the emulator's account
    (`iam_account`, moto's 123456789012) with exactly that ARN (path included);
  * the role's CreateDate is at least `propagation_s` old (only creation is modelled as propagating, not later
    policy changes);
  * its trust policy has an Allow of `sts:AssumeRole` for `arn:aws:iam::<logzioAWSAccountId>:root` (or the bare
    account id) with Condition `StringEquals` `sts:ExternalId` equal to the account's issued external ID, and no
    Deny of it. A trust without the ExternalId condition is refused too: stricter than STS, which would allow it;
  * its identity policies (inline and attached managed; conditions ignored) allow `s3:PutObject` on a Resource
    that covers `arn:aws:s3:::<bucket>/[<prefix>/]*` (`*`, or a pattern ending in `*` whose stem is a prefix of
    that), no Deny matches the `logzio-verified` object, and its permissions boundary, if any, allows it too;
  * the bucket itself (existence, ACLs/object ownership, KMS) is not checked.
- Faults (`fault()`): statuses the real API may answer (429, 5xx, 401 ...) with an invented body unless given;
  `refuse_assume` (the access check fails whatever the role); `hang` (no answer until `stop()`); `reset` (a TCP
  reset). `after=True` applies the call first and loses its answer (e.g. a POST that created the archive but
  answered 500). No `Retry-After` is ever sent: Logz.io documents none.

The token is a secret in this project: the fake keeps only its SHA-256, never logs it and never puts it in
`calls()` or in any answer.

In-process: `FakeLogzio(iam_endpoint, ...)`; CLI (for Rust tests, like tests/moto_server.py):

    python tests/logzio_fake.py --iam-endpoint http://127.0.0.1:PORT [--propagation S] [--token T ...]

prints the port on the first line, then one JSON line per `--token` in order, `{"external_id", "aws_account"}`
(not the token), and serves until its stdin closes.
"""

import argparse
import copy
import datetime
import hashlib
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

ASSUME_ROLE_DETAILS = "/v1/log-shipping/s3-buckets/aws-assume-role-details"
SETTINGS = "/v2/archive/settings"
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:(.*)/)?([\w+=,.@-]{1,64})$")
VERIFY_OBJECT = "logzio-verified"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _list(v):
    return v if isinstance(v, list) else [] if v is None else [v]


def _wildcard(pattern, value, case=True):
    """IAM's wildcards: `*` any run, `?` one character; nothing else is special."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def _doc(doc):
    """A policy document as GetRole/GetRolePolicy give it: botocore decodes it to a dict; the raw API gives
    URL-encoded JSON."""
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    return doc or {}


def _statements(doc):
    return [s for s in _list(_doc(doc).get("Statement")) if isinstance(s, dict)]


def _action_matches(st, action):
    if "NotAction" in st:
        return not any(_wildcard(a, action, case=False) for a in _list(st["NotAction"]))
    return any(_wildcard(a, action, case=False) for a in _list(st.get("Action")))


class Refused(Exception):
    """The access check failed: `str(self)` says why."""


class FakeLogzio:
    def __init__(self, iam_endpoint, propagation_s=2.0, consistency_s=0.0, aws_account="406095609952",
                 list_shape="array", iam_account="123456789012", create_status=200, delete_status=200):
        if list_shape not in ("array", "object"):
            raise ValueError("list_shape is 'array' or 'object'")
        self.propagation_s = propagation_s
        self.consistency_s = consistency_s
        self.aws_account = aws_account
        self.list_shape = list_shape
        self.iam_account = iam_account
        self.create_status = create_status
        self.delete_status = delete_status
        self.iam = boto3.client("iam", endpoint_url=iam_endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self._lock = threading.Lock()
        self._accounts = {}  # sha256(token) -> {"key", "external_id", "aws_account"}
        self._archives = {}  # id -> {"account", "settings", "previous", "changed_at"}
        self._next_id = 1001
        self._calls = []
        self._faults = []  # dicts: method, prefix, status, body, times, after
        self._released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urllib.parse.urlsplit(self.path).path
                status, data, ctype = outer._handle(self.command, path, self.headers.get("X-API-TOKEN"), body)
                with outer._lock:
                    outer._calls.append((self.command, path, status))
                if status == "hang":
                    outer._released.wait(600)
                    self.close_connection = True
                    return
                if status == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    # --- the test's side --------------------------------------------------------------------------------------

    def add_account(self, token, aws_account=None, external_id=None):
        """Registers a Logz.io account for `token` (again: the same account). `aws_account`: the AWS account
        Logz.io assumes roles from for it (default: the constructor's)."""
        with self._lock:
            acct = self._accounts.get(_hash(token))
            if acct is None:
                acct = {"key": len(self._accounts) + 1,
                        "external_id": external_id or f"logzio:aws:extid:{secrets.token_hex(12)}",
                        "aws_account": aws_account or self.aws_account}
                self._accounts[_hash(token)] = acct
            return {"token": token, "external_id": acct["external_id"], "aws_account": acct["aws_account"]}

    def rotate_external_id(self, token):
        """Logz.io issues the account a new external ID (what a stack update must pick up). Returns it."""
        with self._lock:
            acct = self._accounts[_hash(token)]
            acct["external_id"] = f"logzio:aws:extid:{secrets.token_hex(12)}"
            return acct["external_id"]

    def archives(self, token):
        """What Logz.io holds for the account now (the latest write, whatever a lagging GET still shows)."""
        with self._lock:
            key = self._accounts[_hash(token)]["key"]
            return [{"id": i, "settings": copy.deepcopy(a["settings"])}
                    for i, a in sorted(self._archives.items()) if a["account"] == key]

    def delete_outside(self, token, archive_id):
        """Someone deletes the archive in Logz.io's console. False if the account has no such archive."""
        with self._lock:
            key = self._accounts[_hash(token)]["key"]
            a = self._archives.get(int(archive_id))
            if a is None or a["account"] != key:
                return False
            del self._archives[int(archive_id)]
            return True

    def fault(self, method, path_prefix, status, body=None, times=1, after=False):
        """The next `times` calls with this method ("*": any) whose path starts with `path_prefix` get `status`
        (an int, with `body`: a dict as JSON, str/bytes as they are, None an invented JSON error), or:
        "refuse_assume" (POST/PUT only: the access check fails, whatever the role; times=10**9 never clears),
        "hang" (no answer until stop()), "reset" (TCP reset). `after`: the call is applied first, then its answer
        is replaced (an int status only)."""
        with self._lock:
            self._faults.append({"method": method.upper(), "prefix": path_prefix, "status": status, "body": body,
                                 "times": times, "after": after})

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def calls(self):
        """[(method, path, status)] since the last call of calls(). `status` is the HTTP status answered, or
        "hang"/"reset"."""
        with self._lock:
            out, self._calls = self._calls, []
            return out

    def stop(self):
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    # --- the API ----------------------------------------------------------------------------------------------

    @staticmethod
    def _json(status, obj):
        return status, json.dumps(obj).encode(), "application/json"

    def _error(self, status, code, message):
        return self._json(status, {"errorCode": code, "message": message, "requestId": str(uuid.uuid4())})

    def _take_fault(self, method, path, kind):
        """The first fault matching the call, of `kind`: "before", "after" or "refuse_assume"; consumed."""
        with self._lock:
            for f in self._faults:
                if f["method"] not in ("*", method) or not path.startswith(f["prefix"]):
                    continue
                fkind = "refuse_assume" if f["status"] == "refuse_assume" else "after" if f["after"] else "before"
                if fkind != kind:
                    continue
                f["times"] -= 1
                if f["times"] <= 0:
                    self._faults.remove(f)
                return f
        return None

    def _fault_answer(self, f):
        status, body = f["status"], f["body"]
        if status in ("hang", "reset"):
            return status, b"", ""
        if body is None:
            codes = {401: "auth/UNAUTHORIZED", 403: "auth/FORBIDDEN", 429: "general/TOO_MANY_REQUESTS"}
            return self._error(status, codes.get(status, "general/INTERNAL_ERROR" if status >= 500
                                                  else "general/ERROR"), f"injected fault: HTTP {status}")
        if isinstance(body, (dict, list)):
            return self._json(status, body)
        return status, body.encode() if isinstance(body, str) else body, "text/html"

    def _handle(self, method, path, token, raw):
        with self._lock:
            acct = self._accounts.get(_hash(token)) if token else None
            acct = copy.deepcopy(acct)
        if acct is None:
            return self._error(401, "auth/UNAUTHORIZED", "Missing or invalid API token")
        f = self._take_fault(method, path, "before")
        if f:
            return self._fault_answer(f)
        answer = self._route(method, path, acct, raw)
        f = self._take_fault(method, path, "after")
        return self._fault_answer(f) if f else answer

    def _route(self, method, path, acct, raw):
        if path == ASSUME_ROLE_DETAILS:
            if method != "GET":
                return self._error(405, "general/METHOD_NOT_ALLOWED", f"{method} is not allowed here")
            return self._json(200, {"logzioAWSAccountId": acct["aws_account"],
                                    "assignedExternalId": acct["external_id"]})
        if path == SETTINGS:
            if method == "GET":
                return self._list(acct)
            if method == "POST":
                return self._create(acct, path, raw)
            return self._error(405, "general/METHOD_NOT_ALLOWED", f"{method} is not allowed here")
        m = re.fullmatch(re.escape(SETTINGS) + r"/(\d+)", path)
        if m:
            archive_id = int(m.group(1))
            if method == "GET":
                return self._get(acct, archive_id)
            if method == "PUT":
                return self._replace(acct, path, archive_id, raw)
            if method == "DELETE":
                return self._delete(acct, archive_id)
            return self._error(405, "general/METHOD_NOT_ALLOWED", f"{method} is not allowed here")
        return self._error(404, "general/NOT_FOUND", f"no such path: {path}")

    def _visible(self, a):
        """What a read shows: the previous settings for `consistency_s` after a PUT."""
        if a["previous"] is not None and time.monotonic() - a["changed_at"] < self.consistency_s:
            return a["previous"]
        return a["settings"]

    def _owned(self, acct, archive_id):
        a = self._archives.get(archive_id)
        return a if a is not None and a["account"] == acct["key"] else None

    def _not_found(self, archive_id):
        return self._error(404, "archive/NOT_FOUND", f"Archive settings {archive_id} not found")

    def _list(self, acct):
        with self._lock:
            items = [{"id": i, "settings": copy.deepcopy(self._visible(a))}
                     for i, a in sorted(self._archives.items()) if a["account"] == acct["key"]]
        if self.list_shape == "object":
            return self._json(200, items[0] if items else {})
        return self._json(200, items)

    def _get(self, acct, archive_id):
        with self._lock:
            a = self._owned(acct, archive_id)
            if a is None:
                return self._not_found(archive_id)
            return self._json(200, {"id": archive_id, "settings": copy.deepcopy(self._visible(a))})

    def _delete(self, acct, archive_id):
        with self._lock:
            if self._owned(acct, archive_id) is None:
                return self._not_found(archive_id)
            del self._archives[archive_id]
        return (204, b"", "") if self.delete_status == 204 else self._json(self.delete_status, {})

    def _create(self, acct, path, raw):
        settings, err = self._validate(raw)
        if err:
            return err
        with self._lock:
            if any(a["account"] == acct["key"] for a in self._archives.values()):
                return self._error(409, "archive/ALREADY_EXISTS", "An archive is already configured for this account")
        err = self._access(acct, "POST", path, settings)
        if err:
            return err
        with self._lock:  # a concurrent POST may have won meanwhile
            if any(a["account"] == acct["key"] for a in self._archives.values()):
                return self._error(409, "archive/ALREADY_EXISTS", "An archive is already configured for this account")
            archive_id = self._next_id
            self._next_id += 1
            self._archives[archive_id] = {"account": acct["key"], "settings": settings, "previous": None,
                                          "changed_at": time.monotonic()}
            return self._json(self.create_status, {"id": archive_id, "settings": copy.deepcopy(settings)})

    def _replace(self, acct, path, archive_id, raw):
        with self._lock:
            if self._owned(acct, archive_id) is None:
                return self._not_found(archive_id)
        settings, err = self._validate(raw)
        if err:
            return err
        err = self._access(acct, "PUT", path, settings)
        if err:
            return err
        with self._lock:
            a = self._owned(acct, archive_id)
            if a is None:
                return self._not_found(archive_id)
            a["previous"] = copy.deepcopy(self._visible(a))
            a["settings"] = settings
            a["changed_at"] = time.monotonic()
            return self._json(200, {"id": archive_id, "settings": copy.deepcopy(settings)})

    def _validate(self, raw):
        """(the settings to store, None) or (None, a 400 answer naming the field)."""
        def bad(message):
            return None, self._error(400, "archive/INVALID_REQUEST", message)

        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return bad("request body is not valid JSON")
        if not isinstance(body, dict):
            return bad("request body must be a JSON object")
        if "storageType" not in body:
            return bad("missing field: storageType")
        if body["storageType"] != "S3":
            return bad("storageType: only S3 is supported by this fake")
        for field in ("enabled", "compressed"):
            if field not in body:
                return bad(f"missing field: {field}")
            if not isinstance(body[field], bool):
                return bad(f"{field}: must be a boolean")
        s3 = body.get("amazonS3StorageSettings")
        if not isinstance(s3, dict):
            return bad("missing field: amazonS3StorageSettings")
        if "credentialsType" not in s3:
            return bad("missing field: amazonS3StorageSettings.credentialsType")
        if s3["credentialsType"] != "IAM":
            return bad("amazonS3StorageSettings.credentialsType: only IAM is supported by this fake")
        p = s3.get("path")
        if not isinstance(p, str) or not p.strip("/"):
            return bad("missing field: amazonS3StorageSettings.path")
        creds = s3.get("s3IamCredentials")
        if not isinstance(creds, dict):
            return bad("missing field: amazonS3StorageSettings.s3IamCredentials")
        if not isinstance(creds.get("arn"), str) or not creds["arn"]:
            return bad("missing field: amazonS3StorageSettings.s3IamCredentials.arn")
        return {"storageType": "S3", "enabled": body["enabled"], "compressed": body["compressed"],
                "amazonS3StorageSettings": {"credentialsType": "IAM", "path": p,
                                            "s3IamCredentials": {"arn": creds["arn"]}}}, None

    def _access(self, acct, method, path, settings):
        """None when Logz.io can assume the role and write the path (then the settings get the external ID),
        else the ASSUME_ROLE_FAILED answer."""
        s3 = settings["amazonS3StorageSettings"]
        arn = s3["s3IamCredentials"]["arn"]
        try:
            if self._take_fault(method, path, "refuse_assume"):
                raise Refused("AccessDenied: not authorized to perform sts:AssumeRole (injected refusal)")
            self._check_role(acct, arn, s3["path"])
        except Refused as e:
            return self._error(400, "archive/ASSUME_ROLE_FAILED", f"Logz.io could not assume role {arn}: {e}")
        except Exception as e:  # the IAM emulator failed: not the role's fault
            return self._error(500, "general/INTERNAL_ERROR", f"internal error ({type(e).__name__})")
        s3["s3IamCredentials"]["externalId"] = acct["external_id"]
        return None

    def _check_role(self, acct, arn, s3_path):
        m = ROLE_ARN.match(arn)
        if not m:
            raise Refused("not an IAM role ARN")
        account, name = m.group(1), m.group(3)
        if account != self.iam_account:
            raise Refused(f"the role does not exist (no such role in AWS account {account})")
        try:
            role = self.iam.get_role(RoleName=name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            raise Refused("the role does not exist") from None
        if role["Arn"] != arn:
            raise Refused(f"the role does not exist (a role named {name} has the ARN {role['Arn']})")
        created = role["CreateDate"]
        if isinstance(created, str):
            created = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
        age = time.time() - created.timestamp()
        if age < self.propagation_s:
            raise Refused(f"AccessDenied: the role is not assumable yet (created {age:.1f}s ago; IAM propagation)")

        root = f"arn:aws:iam::{acct['aws_account']}:root"
        trusting, with_id, denied = False, False, False
        for st in _statements(role["AssumeRolePolicyDocument"]):
            principal = st.get("Principal")
            aws = _list(principal.get("AWS")) if isinstance(principal, dict) else _list(principal)
            if not (_action_matches(st, "sts:AssumeRole") and any(p in ("*", root, acct["aws_account"]) for p in aws)):
                continue
            if st.get("Effect") == "Deny":
                denied = True
                continue
            if st.get("Effect") != "Allow":
                continue
            trusting = True
            cond = {k.lower(): v for k, v in (st.get("Condition") or {}).items()}
            equals = {k.lower(): v for k, v in (cond.get("stringequals") or {}).items()}
            if acct["external_id"] in _list(equals.get("sts:externalid")):
                with_id = True
        if denied:
            raise Refused(f"its trust policy denies sts:AssumeRole to {root}")
        if not trusting:
            raise Refused(f"its trust policy does not allow sts:AssumeRole by {root}")
        if not with_id:
            raise Refused(f"its trust policy allows {root} but not with this Logz.io account's sts:ExternalId "
                          "(a different ExternalId, or no StringEquals condition on it)")

        bucket, _, prefix = s3_path.strip("/").partition("/")
        stem = f"arn:aws:s3:::{bucket}/" + (prefix.strip("/") + "/" if prefix.strip("/") else "")
        want = f"{stem}*"
        probe = stem + VERIFY_OBJECT

        def covers(pattern):
            return pattern == "*" or (pattern.endswith("*") and stem.startswith(pattern[:-1])
                                      and "*" not in pattern[:-1] and "?" not in pattern[:-1])

        def allows(statements):
            ok = False
            for st in statements:
                if not _action_matches(st, "s3:PutObject"):
                    continue
                resources = _list(st.get("Resource"))
                if st.get("Effect") == "Deny" and any(_wildcard(r, probe) for r in resources):
                    return False
                if st.get("Effect") == "Allow" and any(covers(r) for r in resources):
                    ok = True
            return ok

        statements = []
        for pname in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
            statements += _statements(self.iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"])
        for p in self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            statements += _statements(self._managed(p["PolicyArn"]))
        if not allows(statements):
            raise Refused(f"no policy of the role allows s3:PutObject on {want}")
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary and not allows(_statements(self._managed(boundary))):
            raise Refused(f"the role's permissions boundary does not allow s3:PutObject on {want}")

    def _managed(self, policy_arn):
        version = self.iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        return self.iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]


def main():
    ap = argparse.ArgumentParser(description="A local fake of Logz.io's archive API (see the module docstring).")
    ap.add_argument("--iam-endpoint", required=True, help="the IAM emulator, e.g. http://127.0.0.1:5000")
    ap.add_argument("--propagation", type=float, default=2.0, help="seconds before a new role is assumable")
    ap.add_argument("--consistency", type=float, default=0.0, help="seconds a GET lags behind a PUT")
    ap.add_argument("--aws-account", default="406095609952", help="Logz.io's AWS account for every token")
    ap.add_argument("--iam-account", default="123456789012", help="the emulator's AWS account")
    ap.add_argument("--list-shape", choices=("array", "object"), default="array")
    ap.add_argument("--token", action="append", default=[], help="register a Logz.io account (repeatable)")
    args = ap.parse_args()
    fake = FakeLogzio(args.iam_endpoint, propagation_s=args.propagation, consistency_s=args.consistency,
                      aws_account=args.aws_account, list_shape=args.list_shape, iam_account=args.iam_account)
    print(fake.port, flush=True)
    for token in args.token:
        info = fake.add_account(token)
        print(json.dumps({"external_id": info["external_id"], "aws_account": info["aws_account"]}), flush=True)
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
