"""A local fake of the parts of Logz.io's public API that the handler uses, for the test tiers and `make demo`.

Standard library only (http.server, threading, json), plus boto3 to check the role against the IAM emulator
(moto) the way Logz.io checks it against AWS when an archive is set up.

    GET    /v1/log-shipping/s3-buckets/aws-assume-role-details   the account's issued external ID and AWS account
    GET    /v2/archive/settings                                  the account's archive settings (an array)
    POST   /v2/archive/settings                                  create (one archive per account), access checked
    GET    /v2/archive/settings/{id}                             read one
    PUT    /v2/archive/settings/{id}                             full replace, access checked
    DELETE /v2/archive/settings/{id}                             delete
    POST   /v2/archive/settings/test                             the access check alone (nothing stored)

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
- a refused access check (POST, PUT, POST .../test). Logz.io publishes no wording, status or errorCode for
  it anywhere (not the Swagger file, the docs, the Terraform client or provider; the Terraform client only
  retries 404, 429 and 500, so any other refusal reaches the user as `API call SetupArchiveLogs failed with
  status code <N>, data: <body>`). The fake's choice, two refusals in Logz.io's order, each a 400:
  * the assume check fails (role missing, trust without Logz.io's account or with another sts:ExternalId, a
    Deny, the role too new, a trust change not yet propagated, fault refuse_assume):
    `archive/ASSUME_ROLE_FAILED`, "Logz.io could not assume role <arn>: User: arn:aws:iam::<Logz.io's AWS
    account>:user/logzio-archiver is not authorized to perform: sts:AssumeRole on resource: <arn> (Service:
    AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; Request ID: <id>)" (a malformed ARN:
    "... <arn>: Invalid ARN (Service: AWSSecurityTokenService; Status Code: 400; Error Code: ValidationError;
    ...)"). STS says the same for every cause, so the message does too;
  * the role was assumed but the write of the test object failed:
    `archive/S3_WRITE_FAILED`, "Logz.io could not write the test object s3://<bucket>/[<prefix>/]logzio-verified
    with role <arn>: <S3's error>", S3's error being one of AWS's (the same-account wording S3 gives an
    assumed-role session):
      "User: arn:aws:sts::<acct>:assumed-role/<role name>/logzio-archive is not authorized to perform:
       s3:PutObject on resource: \"arn:aws:s3:::<bucket>/<key>\" because no identity-based policy allows the
       s3:PutObject action (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: <id>)"
       (or "... with an explicit deny in an identity-based policy", "... because no permissions boundary
       allows the s3:PutObject action", "... with an explicit deny in a permissions boundary"),
      "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket; ...)",
      "The bucket does not allow ACLs (Service: Amazon S3; Status Code: 400; Error Code:
       AccessControlListNotSupported; ...)",
      "User: ... is not authorized to perform: kms:GenerateDataKey on resource: <key ARN> because no
       identity-based policy allows the kms:GenerateDataKey action (Service: Amazon S3; Status Code: 403; ...)".
  The AWS texts are AWS's documented formats; the Logz.io sentence around them, the errorCodes, the status,
  the principal `logzio-archiver` and the session `logzio-archive` are invented (the real API may well pass
  only "Access Denied", use one errorCode for both, or answer another 4xx or a 5xx). Note that the write
  refusal mentions "assumed-role": tell the two apart by "sts:AssumeRole" / "could not assume role" versus
  "could not write" / "Amazon S3" / "logzio-verified", never by "assume" alone. A write refused while a new
  policy propagates reads exactly like a write refused for good (S3 cannot tell). Neither message ever
  contains the token or the external ID; the body's extra field `fakeDiagnosis` says why, in the fake's
  words (the real API has no such field: do not read it outside tests).
- an invalid body: 400 `archive/INVALID_REQUEST` naming the field. The fake requires `enabled` and `compressed`
  (the real service may default them) and accepts only `storageType` S3 with `credentialsType` IAM (the real
  one also has Azure BLOB and access keys). Extra fields are ignored and not stored.
- GET/PUT/DELETE of an id that is not this account's: 404 `archive/NOT_FOUND`, like a gone one. PUT looks the id
  up before it validates the body.
- DELETE answers 200 `{}` (`delete_status=204`: an empty 204); POST answers 200 (`create_status=201`: 201).
- the access check, as this fake models it (the real one is an STS AssumeRole plus a test write of a
  `logzio-verified` object, details unpublished), in this order:
  1. assume: the ARN `arn:aws:iam::<acct>:role[/path/]<name>` names a role that exists in the emulator's
     account (`iam_account`, moto's 123456789012) with exactly that ARN (path included); the trust policy in
     effect (see propagation below) has an Allow of `sts:AssumeRole` for `arn:aws:iam::<logzioAWSAccountId>:root`
     (or the bare account id) with Condition `StringEquals` `sts:ExternalId` equal to the account's issued
     external ID, and no Deny of it. A trust without the ExternalId condition is refused too: stricter than
     STS, which would allow it;
  2. write, to `[<prefix>/]logzio-verified` under the path: with `check_bucket`, the bucket exists in the
     emulator's S3; the permissions in effect (inline and attached managed policies; conditions ignored)
     allow `s3:PutObject` on a Resource that covers `arn:aws:s3:::<bucket>/[<prefix>/]*` (`*`, or a pattern
     ending in `*` whose stem is a prefix of that: stricter than S3, which checks only the test object), no
     Deny matches the test object, and the permissions boundary, if any, allows it too; with `check_bucket`,
     the bucket's Object Ownership is not BucketOwnerEnforced (Logz.io's docs: ACLs must be enabled) and, if
     it encrypts by default with a KMS key of its own, the role's policies allow `kms:GenerateDataKey` on it.
     Without `check_bucket` (the default) the bucket is not looked at.
  IAM propagation, for the trust policy and the permissions separately: a version becomes effective
  `propagation_s` (trust) or `policy_propagation_s` (permissions; default: `propagation_s`) after it was made,
  and until then the version before it applies (none for a new role: not assumable; no permissions: the
  write is refused). IAM dates no policy change, so the fake dates what it sees: the first version of a role
  it sees at the role's CreateDate (a managed policy's version at its CreateDate if later), a change at the
  first check that sees it (so the delay runs from then, not from the change). A new role is thus assumable
  after `propagation_s` and may write after `policy_propagation_s`; a policy or trust changed on a role the
  fake has checked before takes effect only a delay after the next check sees it. A role deleted and made
  again is a new role (another RoleId). Deletion is seen at once.
- Faults (`fault()`): statuses the real API may answer (429, 5xx, 401 ...) with an invented body unless given;
  `refuse_assume` (the assume check fails whatever the role); `refuse_write` (the role is assumed and may
  write, the test write fails anyway, with the S3 error the fault's `body` names); `hang` (no answer until
  `stop()`); `reset` (a TCP reset); `delay` (the call is held `delay_s` and then served: it takes effect and is
  answered late, even after its client gave up; `wait_landed()` waits for it). `after=True` applies the call
  first and loses its answer (e.g. a POST that created the archive but answered 500). No `Retry-After` is ever
  sent: Logz.io documents none. `calls(codes=True)` also gives each error answer's errorCode.
- Not the API's answers but the test's hands: `register_outside()` (an archive registered in Logz.io's console,
  not by the handler), `delete_outside()`, `rotate_external_id()`, and `answer_shape()`: answers that show the
  stored path normalised (`s3://`, a trailing `/`) and leave out fields (`compressed`), as the real API may
  (undocumented).

The token is a secret in this project: the fake keeps only its SHA-256, never logs it and never puts it in
`calls()` or in any answer.

In-process: `FakeLogzio(iam_endpoint, ...)`; CLI (for Rust tests, like tests/moto_server.py):

    python tests/logzio_fake.py --iam-endpoint http://127.0.0.1:PORT [--propagation S] [--policy-propagation S]
                                [--check-bucket] [--token T ...]

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
from botocore.config import Config

ASSUME_ROLE_DETAILS = "/v1/log-shipping/s3-buckets/aws-assume-role-details"
SETTINGS = "/v2/archive/settings"
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:(.*)/)?([\w+=,.@-]{1,64})$")
VERIFY_OBJECT = "logzio-verified"
ASSUME_FAILED = "archive/ASSUME_ROLE_FAILED"  # the errorCodes of the two refusals: the fake's choice (see above)
WRITE_FAILED = "archive/S3_WRITE_FAILED"
LOGZIO_PRINCIPAL = "logzio-archiver"  # invented: Logz.io's principal that calls sts:AssumeRole is unpublished
LOGZIO_SESSION = "logzio-archive"  # invented: the role session name Logz.io uses is unpublished


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


def _epoch(v):
    """An IAM date (datetime, ISO string or number) as epoch seconds."""
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        v = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return v.timestamp()


def _error_code(status, data):
    """The errorCode of an error answer's JSON body, else None."""
    if not isinstance(status, int) or status < 400 or not data:
        return None
    try:
        v = json.loads(data)
    except ValueError:
        return None
    return v.get("errorCode") if isinstance(v, dict) else None


def _fingerprint(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def _verify_key(s3_path):
    """(bucket, key of the `logzio-verified` test object) for an archive path `bucket[/prefix]`."""
    bucket, _, prefix = s3_path.strip("/").partition("/")
    prefix = prefix.strip("/")
    return bucket, (f"{prefix}/" if prefix else "") + VERIFY_OBJECT


def _stem(s3_path):
    """`arn:aws:s3:::<bucket>/[<prefix>/]`: what the role must be allowed to write under."""
    bucket, key = _verify_key(s3_path)
    return f"arn:aws:s3:::{bucket}/{key[:-len(VERIFY_OBJECT)]}"


def _write_refusal(perms, stem):
    """(kind, why) when these permissions do not let the role write under `stem` (kind: "explicit_deny",
    "implicit", "boundary_deny", "boundary"), else (None, "")."""
    probe = stem + VERIFY_OBJECT

    def covers(pattern):
        return pattern == "*" or (pattern.endswith("*") and stem.startswith(pattern[:-1])
                                  and "*" not in pattern[:-1] and "?" not in pattern[:-1])

    def verdict(statements):
        """"deny", "allow" or None (no statement says)."""
        ok = False
        for st in statements:
            if not _action_matches(st, "s3:PutObject"):
                continue
            resources = _list(st.get("Resource"))
            if st.get("Effect") == "Deny" and any(_wildcard(r, probe) for r in resources):
                return "deny"
            if st.get("Effect") == "Allow" and any(covers(r) for r in resources):
                ok = True
        return "allow" if ok else None

    identity = verdict(perms["identity"])
    boundary = None if perms["boundary"] is None else verdict(perms["boundary"])
    if identity == "deny":
        return "explicit_deny", f"a Deny of s3:PutObject in the role's policies matches {probe}"
    if boundary == "deny":
        return "boundary_deny", f"a Deny of s3:PutObject in the role's permissions boundary matches {probe}"
    if identity is None:
        return "implicit", f"no policy of the role allows s3:PutObject on {stem}*"
    if perms["boundary"] is not None and boundary is None:
        return "boundary", f"the role's permissions boundary does not allow s3:PutObject on {stem}*"
    return None, ""


class Refused(Exception):
    """A refused check. `stage`: "assume" or "write"; `diagnosis`: why, in the fake's words (never in the
    message); `kind`: which AWS error the refusal quotes; `resource`: the KMS key, for kind "kms"."""

    def __init__(self, stage, diagnosis, kind="denied", resource=None):
        super().__init__(diagnosis)
        self.stage, self.diagnosis, self.kind, self.resource = stage, diagnosis, kind, resource


class FakeLogzio:
    def __init__(self, iam_endpoint, propagation_s=2.0, consistency_s=0.0, aws_account="406095609952",
                 list_shape="array", iam_account="123456789012", create_status=200, delete_status=200,
                 policy_propagation_s=None, check_bucket=False):
        if list_shape not in ("array", "object"):
            raise ValueError("list_shape is 'array' or 'object'")
        self.propagation_s = propagation_s
        self.policy_propagation_s = propagation_s if policy_propagation_s is None else policy_propagation_s
        self.check_bucket = check_bucket
        self.consistency_s = consistency_s
        self.aws_account = aws_account
        self.list_shape = list_shape
        self.iam_account = iam_account
        self.create_status = create_status
        self.delete_status = delete_status
        self.iam = boto3.client("iam", endpoint_url=iam_endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        # The bucket is looked at only with check_bucket (moto serves S3 on the same endpoint as IAM).
        self.s3 = boto3.client("s3", endpoint_url=iam_endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing",
                               config=Config(s3={"addressing_style": "path"})) if check_bucket else None
        self._lock = threading.Lock()
        self._roles = {}  # RoleId -> {"trust"|"perms": [[fingerprint, version, dated, effective_at], ...]}
        self._accounts = {}  # sha256(token) -> {"key", "external_id", "aws_account"}
        self._archives = {}  # id -> {"account", "settings", "previous", "changed_at"}
        self._next_id = 1001
        self._calls = []  # (method, path, status, errorCode or None)
        self._faults = []  # dicts: id, method, prefix, status, body, times, after, delay_s
        self._fault_ids = 0
        self._landed = {}  # fault id -> [{"method", "path", "status", "arrived", "landed"}] (delayed calls)
        self._landing = threading.Condition(self._lock)
        self._shape = None  # answer_shape(): (path function, fields to leave out)
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
                    outer._calls.append((self.command, path, status, _error_code(status, data)))
                if status == "hang":
                    outer._released.wait(600)
                    self.close_connection = True
                    return
                if status == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                try:
                    self.send_response(status)
                    if data:
                        self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except OSError:  # the client gave up meanwhile (a delayed call): the call took effect anyway
                    self.close_connection = True

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

    def register_outside(self, token, path, role_arn, enabled=True, compressed=True):
        """Someone registers an archive in Logz.io's console (not through the API the handler calls): it is
        stored as a POST would store it, with the account's external ID, and no access check. Its id. Logz.io
        allows one archive per account: ValueError if the account has one."""
        with self._lock:
            acct = self._accounts[_hash(token)]
            if any(a["account"] == acct["key"] for a in self._archives.values()):
                raise ValueError("the account already has an archive")
            archive_id = self._next_id
            self._next_id += 1
            self._archives[archive_id] = {"account": acct["key"], "previous": None, "changed_at": time.monotonic(),
                                          "settings": {"storageType": "S3", "enabled": enabled,
                                                       "compressed": compressed, "amazonS3StorageSettings": {
                                                           "credentialsType": "IAM", "path": path,
                                                           "s3IamCredentials": {"arn": role_arn,
                                                                                "externalId": acct["external_id"]}}}}
            return archive_id

    def answer_shape(self, path=None, omit=()):
        """From now on every answer that carries archive settings (the list, GET/POST/PUT by id) shows them as
        Logz.io might normalise them, not as stored: `path` "s3" (`s3://<path>`), "slash" (a trailing `/`),
        "s3+slash" (both), a function of the stored path, or None (as stored); `omit`: top-level settings
        fields left out (e.g. ("compressed",)). Undocumented either way: the real API may echo the path as sent.
        What the fake holds (`archives()`) is unchanged. `answer_shape()` restores the default."""
        presets = {"s3": lambda p: f"s3://{p}", "slash": lambda p: p.rstrip("/") + "/",
                   "s3+slash": lambda p: f"s3://{p.rstrip('/')}/"}
        fn = presets[path] if isinstance(path, str) else path
        with self._lock:
            self._shape = None if fn is None and not omit else (fn, tuple(omit))

    def fault(self, method, path_prefix, status, body=None, times=1, after=False, delay_s=None):
        """The next `times` calls with this method ("*": any) whose path starts with `path_prefix` get `status`
        (an int, with `body`: a dict as JSON, str/bytes as they are, None an invented JSON error), or:
        "refuse_assume" (POST/PUT only: the assume check fails, whatever the role; times=10**9 never clears),
        "refuse_write" (POST/PUT only: once the role is assumable and may write, the test write fails anyway;
        `body` picks the AWS error quoted: None an AccessDenied on s3:PutObject ("because no identity-based
        policy allows"), "explicit_deny", "boundary", "boundary_deny" (the other AccessDenied wordings),
        "no_such_bucket", "acl" or "kms"), "hang" (no answer until stop()), "reset" (TCP reset), "delay" (the
        call is held `delay_s` seconds after it arrived, then served as usual, so that it takes effect and is
        answered then, whether or not the client still waits; see `wait_landed`). `after`: the call is applied
        first, then its answer is replaced (an int status only). Returns the fault's id."""
        if status == "delay" and not isinstance(delay_s, (int, float)):
            raise ValueError("a delay fault needs delay_s")
        with self._lock:
            self._fault_ids += 1
            self._faults.append({"id": self._fault_ids, "method": method.upper(), "prefix": path_prefix,
                                 "status": status, "body": body, "times": times, "after": after,
                                 "delay_s": delay_s})
            return self._fault_ids

    def wait_landed(self, fault_id, timeout, count=1):
        """Waits (at most `timeout` s) until `count` calls held by the delay fault `fault_id` have been served:
        their records [{"method", "path", "status", "arrived", "landed"}] (time.monotonic(), so comparable with
        the local Lambda's deadlines), or None on timeout."""
        with self._landing:
            if not self._landing.wait_for(lambda: len(self._landed.get(fault_id, [])) >= count, timeout):
                return None
            return copy.deepcopy(self._landed[fault_id])

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def calls(self, codes=False):
        """[(method, path, status)] since the last call of calls(). `status` is the HTTP status answered, or
        "hang"/"reset". `codes`: [(method, path, status, errorCode)], errorCode that of an error answer (None
        for a success or a body without one)."""
        with self._lock:
            out, self._calls = self._calls, []
            return out if codes else [c[:3] for c in out]

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
        """The first fault matching the call, of `kind`: "before", "after", "refuse_assume", "refuse_write" or
        "delay"; consumed."""
        with self._lock:
            for f in self._faults:
                if f["method"] not in ("*", method) or not path.startswith(f["prefix"]):
                    continue
                fkind = (f["status"] if f["status"] in ("refuse_assume", "refuse_write", "delay")
                         else "after" if f["after"] else "before")
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
        held = self._take_fault(method, path, "delay")
        arrived = time.monotonic()
        if held:
            self._released.wait(held["delay_s"])
        f = self._take_fault(method, path, "before")
        if f:
            answer = self._fault_answer(f)
        else:
            answer = self._route(method, path, acct, raw)
            f = self._take_fault(method, path, "after")
            answer = self._fault_answer(f) if f else answer
        if held:
            with self._landing:
                self._landed.setdefault(held["id"], []).append(
                    {"method": method, "path": path, "status": answer[0], "arrived": arrived,
                     "landed": time.monotonic()})
                self._landing.notify_all()
        return answer

    def _shown(self, settings):
        """Settings as an answer shows them (see answer_shape); the caller holds the lock."""
        out = copy.deepcopy(settings)
        if self._shape is not None:
            fn, omit = self._shape
            if fn is not None:
                s3 = out["amazonS3StorageSettings"]
                s3["path"] = fn(s3["path"])
            for field in omit:
                out.pop(field, None)
        return out

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
        if path == SETTINGS + "/test":
            if method == "POST":
                return self._test(acct, path, raw)
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
            items = [{"id": i, "settings": self._shown(self._visible(a))}
                     for i, a in sorted(self._archives.items()) if a["account"] == acct["key"]]
        if self.list_shape == "object":
            return self._json(200, items[0] if items else {})
        return self._json(200, items)

    def _get(self, acct, archive_id):
        with self._lock:
            a = self._owned(acct, archive_id)
            if a is None:
                return self._not_found(archive_id)
            return self._json(200, {"id": archive_id, "settings": self._shown(self._visible(a))})

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
            return self._json(self.create_status, {"id": archive_id, "settings": self._shown(settings)})

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
            return self._json(200, {"id": archive_id, "settings": self._shown(settings)})

    def _test(self, acct, path, raw):
        """POST /v2/archive/settings/test: the access check of a POST, nothing stored. The published request
        schema is malformed (`id` and `archiveSettings` beside an empty `properties`): the fake takes
        `{"archiveSettings": {...}}` (an `id` is ignored) or the settings themselves, and answers 200 `{}`."""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("archiveSettings"), dict):
            raw = json.dumps(body["archiveSettings"]).encode()
        settings, err = self._validate(raw)
        if err:
            return err
        err = self._access(acct, "POST", path, settings)
        return err or self._json(200, {})

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
        """None when Logz.io can assume the role and then write the `logzio-verified` test object to the path
        (then the settings get the external ID), else the refusal, in Logz.io's order: the assume check first
        (ASSUME_ROLE_FAILED), then the write (S3_WRITE_FAILED)."""
        s3 = settings["amazonS3StorageSettings"]
        arn = s3["s3IamCredentials"]["arn"]
        try:
            if self._take_fault(method, path, "refuse_assume"):
                raise Refused("assume", "injected refusal (fault refuse_assume)")
            self._check_role(acct, arn, s3["path"], method, path)
        except Refused as e:
            return self._refusal(acct, arn, s3["path"], e)
        except Exception as e:  # the IAM (or S3) emulator failed: not the role's fault
            return self._error(500, "general/INTERNAL_ERROR", f"internal error ({type(e).__name__})")
        s3["s3IamCredentials"]["externalId"] = acct["external_id"]
        return None

    @staticmethod
    def _aws_request_id():
        return secrets.token_hex(8).upper()

    def _refusal(self, acct, arn, s3_path, e):
        """The 400 answer for a refused check, worded as module docstring says (AWS's own error text inside a
        Logz.io sentence); the fake's reason goes to `fakeDiagnosis`, never into the message."""
        rid = self._aws_request_id()
        if e.stage == "assume":
            if e.kind == "invalid_arn":
                aws = (f"Invalid ARN (Service: AWSSecurityTokenService; Status Code: 400; Error Code: ValidationError;"
                       f" Request ID: {rid})")
            else:
                aws = (f"User: arn:aws:iam::{acct['aws_account']}:user/{LOGZIO_PRINCIPAL} is not authorized to "
                       f"perform: sts:AssumeRole on resource: {arn} (Service: AWSSecurityTokenService; Status Code: "
                       f"403; Error Code: AccessDenied; Request ID: {rid})")
            code, message = ASSUME_FAILED, f"Logz.io could not assume role {arn}: {aws}"
        else:
            bucket, key = _verify_key(s3_path)
            m = ROLE_ARN.match(arn)
            caller = f"arn:aws:sts::{m.group(1)}:assumed-role/{m.group(3)}/{LOGZIO_SESSION}"
            if e.kind == "no_such_bucket":
                aws = (f"The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: "
                       f"NoSuchBucket; Request ID: {rid})")
            elif e.kind == "acl":
                aws = (f"The bucket does not allow ACLs (Service: Amazon S3; Status Code: 400; Error Code: "
                       f"AccessControlListNotSupported; Request ID: {rid})")
            elif e.kind == "kms":
                aws = (f"User: {caller} is not authorized to perform: kms:GenerateDataKey on resource: {e.resource} "
                       f"because no identity-based policy allows the kms:GenerateDataKey action (Service: Amazon S3;"
                       f" Status Code: 403; Error Code: AccessDenied; Request ID: {rid})")
            else:
                why = {"explicit_deny": "with an explicit deny in an identity-based policy",
                       "boundary": "because no permissions boundary allows the s3:PutObject action",
                       "boundary_deny": "with an explicit deny in a permissions boundary"}.get(
                    e.kind, "because no identity-based policy allows the s3:PutObject action")
                aws = (f"User: {caller} is not authorized to perform: s3:PutObject on resource: "
                       f"\"arn:aws:s3:::{bucket}/{key}\" {why} (Service: Amazon S3; Status Code: 403; Error Code: "
                       f"AccessDenied; Request ID: {rid})")
            code = WRITE_FAILED
            message = f"Logz.io could not write the test object s3://{bucket}/{key} with role {arn}: {aws}"
        return self._json(400, {"errorCode": code, "message": message, "requestId": str(uuid.uuid4()),
                                "fakeDiagnosis": e.diagnosis})

    def _check_role(self, acct, arn, s3_path, method, path):
        m = ROLE_ARN.match(arn)
        if not m:
            raise Refused("assume", "not an IAM role ARN", "invalid_arn")
        account, name = m.group(1), m.group(3)
        if account != self.iam_account:
            raise Refused("assume", f"the role does not exist (no such role in AWS account {account})")
        try:
            role = self.iam.get_role(RoleName=name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            raise Refused("assume", "the role does not exist") from None
        if role["Arn"] != arn:
            raise Refused("assume", f"the role does not exist (a role named {name} has the ARN {role['Arn']})")
        created = _epoch(role["CreateDate"])
        trust_doc = _doc(role["AssumeRolePolicyDocument"])
        perms, perms_dated = self._permissions(name, role, created)
        trust_now, trust_latest, perms_now, perms_latest, trust_since, perms_since = self._propagated(
            role["RoleId"], created, trust_doc, perms, perms_dated)

        # 1. STS AssumeRole, with the trust policy IAM has propagated.
        if trust_now is None:
            age = time.time() - created
            raise Refused("assume", f"the role is not assumable yet (created {age:.1f}s ago; IAM propagation)")
        why = self._trust_refusal(acct, trust_now)
        if why:
            if trust_latest is not trust_now and not self._trust_refusal(acct, trust_latest):
                why += (f" (IAM propagation: the role's trust policy changed {time.time() - trust_since:.1f}s ago "
                        "and its new version, which would allow it, is not effective yet)")
            raise Refused("assume", why)

        # 2. The write of the test object, with the permissions IAM has propagated.
        bucket, _ = _verify_key(s3_path)
        if self.check_bucket and not self._bucket_exists(bucket):
            raise Refused("write", f"the bucket {bucket} does not exist", "no_such_bucket")
        stem = _stem(s3_path)
        if perms_now is None:
            kind, why = "implicit", (f"IAM propagation: the role's permissions, made {time.time() - perms_since:.1f}s"
                                     " ago, are not effective yet")
        else:
            kind, why = _write_refusal(perms_now, stem)
        if kind:
            if perms_now is not None and perms_latest is not perms_now and not _write_refusal(perms_latest, stem)[0]:
                why += (f" (IAM propagation: the role's policies changed {time.time() - perms_since:.1f}s ago and "
                        "their new version, which would allow it, is not effective yet)")
            raise Refused("write", why, kind)
        f = self._take_fault(method, path, "refuse_write")
        if f:
            kind = (f["body"] if f["body"] in ("no_such_bucket", "acl", "kms", "explicit_deny", "boundary",
                                               "boundary_deny") else "implicit")
            raise Refused("write", f"injected refusal (fault refuse_write, {kind})", kind,
                          f"arn:aws:kms:us-east-1:{account}:key/00000000-0000-0000-0000-000000000000")
        if self.check_bucket:
            self._check_bucket_settings(bucket, account, perms_now)

    def _permissions(self, name, role, created):
        """The role's permissions as IAM has them now: {"identity": [statements], "boundary": [statements] or
        None}, and the earliest time they can have been set (the role's CreateDate, or a later CreateDate of a
        managed policy's default version)."""
        dated = created
        identity = []
        for pname in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
            identity += _statements(self.iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"])
        for p in self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            doc, when = self._managed(p["PolicyArn"])
            identity += _statements(doc)
            dated = max(dated, when)
        boundary = None
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary_arn:
            doc, when = self._managed(boundary_arn)
            boundary = _statements(doc)
            dated = max(dated, when)
        return {"identity": identity, "boundary": boundary}, dated

    def _propagated(self, role_id, created, trust_doc, perms, perms_dated):
        """IAM propagation, for the trust policy and for the permissions separately. Each version the fake has
        seen of either becomes effective `propagation_s` (trust) or `policy_propagation_s` (permissions) after
        it was made: a role's first version seen is dated at its CreateDate (IAM dates no policy change; a
        managed policy's version at its CreateDate if later), a change seen later at the moment the fake sees
        it. Until a newer version is effective, the previous one applies. Returns (trust in effect or None,
        latest trust, permissions in effect or None, latest permissions, when the latest trust and permissions
        were dated)."""
        now = time.time()
        with self._lock:
            seen = self._roles.get(role_id)
            if seen is None:
                seen = self._roles[role_id] = {
                    "trust": [[_fingerprint(trust_doc), trust_doc, created, created + self.propagation_s]],
                    "perms": [[_fingerprint(perms), perms, perms_dated, perms_dated + self.policy_propagation_s]]}
            else:
                for key, value, delay in (("trust", trust_doc, self.propagation_s),
                                          ("perms", perms, self.policy_propagation_s)):
                    fp = _fingerprint(value)
                    if seen[key][-1][0] != fp:
                        seen[key].append([fp, value, now, now + delay])
            out = []
            for key in ("trust", "perms"):
                versions = seen[key]
                live = [i for i, v in enumerate(versions) if v[3] <= now]
                if live:
                    del versions[:live[-1]]  # versions older than the one in effect are gone for good
                out.append((versions[0][1] if live else None, versions[-1][1], versions[-1][2]))
        (trust_now, trust_latest, trust_since), (perms_now, perms_latest, perms_since) = out
        return trust_now, trust_latest, perms_now, perms_latest, trust_since, perms_since

    def _trust_refusal(self, acct, trust_doc):
        """Why STS refuses Logz.io's AssumeRole (with the account's external ID) under this trust policy, or None."""
        root = f"arn:aws:iam::{acct['aws_account']}:root"
        trusting, with_id, denied = False, False, False
        for st in _statements(trust_doc):
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
            return f"its trust policy denies sts:AssumeRole to {root}"
        if not trusting:
            return f"its trust policy does not allow sts:AssumeRole by {root}"
        if not with_id:
            return (f"its trust policy allows {root} but not with this Logz.io account's sts:ExternalId "
                    "(a different ExternalId, or no StringEquals condition on it)")
        return None

    def _bucket_exists(self, bucket):
        try:
            self.s3.head_bucket(Bucket=bucket)
            return True
        except self.s3.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def _check_bucket_settings(self, bucket, account, perms):
        """`check_bucket`: ACLs disabled (BucketOwnerEnforced) and SSE-KMS with a key the role may not use."""
        ClientError = self.s3.exceptions.ClientError
        try:
            rules = self.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except ClientError as e:
            if "OwnershipControlsNotFound" not in e.response.get("Error", {}).get("Code", ""):
                raise
            rules = []
        if any(r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules):
            raise Refused("write", f"the bucket {bucket} has ACLs disabled (Object Ownership BucketOwnerEnforced)",
                          "acl")
        try:
            enc = self.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as e:
            if "ServerSideEncryptionConfigurationNotFound" not in e.response.get("Error", {}).get("Code", ""):
                raise
            enc = []
        for r in enc:
            d = r.get("ApplyServerSideEncryptionByDefault") or {}
            key = d.get("KMSMasterKeyID")
            if d.get("SSEAlgorithm", "").startswith("aws:kms") and key:
                key_arn = key if key.startswith("arn:") else f"arn:aws:kms:us-east-1:{account}:key/{key}"
                allowed = any(st.get("Effect") == "Allow" and _action_matches(st, "kms:GenerateDataKey")
                              and any(_wildcard(x, key_arn) for x in _list(st.get("Resource")))
                              for st in perms["identity"])
                denied = any(st.get("Effect") == "Deny" and _action_matches(st, "kms:GenerateDataKey")
                             and any(_wildcard(x, key_arn) for x in _list(st.get("Resource")))
                             for st in perms["identity"])
                if denied or not allowed:
                    raise Refused("write", f"the bucket encrypts with KMS key {key_arn} and no policy of the role "
                                           "allows kms:GenerateDataKey on it", "kms", key_arn)

    def _managed(self, policy_arn):
        """A managed policy's default version: (document, its CreateDate as epoch seconds)."""
        version = self.iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        v = self.iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]
        return v["Document"], _epoch(v.get("CreateDate") or 0)


def main():
    ap = argparse.ArgumentParser(description="A local fake of Logz.io's archive API (see the module docstring).")
    ap.add_argument("--iam-endpoint", required=True, help="the IAM emulator, e.g. http://127.0.0.1:5000")
    ap.add_argument("--propagation", type=float, default=2.0,
                    help="seconds before a new role, or a change of its trust policy, is effective")
    ap.add_argument("--policy-propagation", type=float, default=None,
                    help="seconds before a role's new or changed permissions are effective (default: --propagation)")
    ap.add_argument("--check-bucket", action="store_true",
                    help="also check the bucket in the emulator: exists, ACLs enabled, KMS key usable")
    ap.add_argument("--consistency", type=float, default=0.0, help="seconds a GET lags behind a PUT")
    ap.add_argument("--aws-account", default="406095609952", help="Logz.io's AWS account for every token")
    ap.add_argument("--iam-account", default="123456789012", help="the emulator's AWS account")
    ap.add_argument("--list-shape", choices=("array", "object"), default="array")
    ap.add_argument("--token", action="append", default=[], help="register a Logz.io account (repeatable)")
    args = ap.parse_args()
    fake = FakeLogzio(args.iam_endpoint, propagation_s=args.propagation, consistency_s=args.consistency,
                      aws_account=args.aws_account, list_shape=args.list_shape, iam_account=args.iam_account,
                      policy_propagation_s=args.policy_propagation, check_bucket=args.check_bucket)
    print(fake.port, flush=True)
    for token in args.token:
        info = fake.add_account(token)
        print(json.dumps({"external_id": info["external_id"], "aws_account": info["aws_account"]}), flush=True)
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
