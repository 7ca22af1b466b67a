"""Self-test of tests/logzio_fake.py against moto: `.venv/bin/python tests/test_logzio_fake.py` (a few seconds)."""

import http.client
import json
import socket
import logging
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from logzio_fake import FakeLogzio  # noqa: E402

TOKEN = "test-token-1"
OTHER = "test-token-2"
BUCKET = "acme-archive"
PROPAGATION = 0.5


def trust(external_id, account="406095609952"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]})


def put_policy(resource):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": resource}]})


def body(arn, path=BUCKET, enabled=True):
    return {"storageType": "S3", "enabled": enabled, "compressed": True,
            "amazonS3StorageSettings": {"credentialsType": "IAM", "path": path, "s3IamCredentials": {"arn": arn}}}


class FakeLogzioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        cls.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.moto.start()
        cls.endpoint = f"http://127.0.0.1:{cls.moto.get_host_and_port()[1]}"
        cls.iam = boto3.client("iam", endpoint_url=cls.endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def setUp(self):
        self.fake = FakeLogzio(self.endpoint, propagation_s=PROPAGATION)
        self.acct = self.fake.add_account(TOKEN)
        self.ext = self.acct["external_id"]

    def tearDown(self):
        self.fake.stop()

    def call(self, method, path, payload=None, token=TOKEN):
        req = urllib.request.Request(self.fake.url + path, method=method,
                                     data=None if payload is None else json.dumps(payload).encode())
        if token is not None:
            req.add_header("X-API-TOKEN", token)
        if payload is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode()

    def role(self, name, trust_doc, policy=None, wait=True):
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_doc)
        if policy:
            self.iam.put_role_policy(RoleName=name, PolicyName="LogzioArchiveAccess", PolicyDocument=policy)
        if wait:
            time.sleep(PROPAGATION + 0.05)
        return f"arn:aws:iam::123456789012:role/{name}"

    def good_role(self, name, wait=True):
        return self.role(name, trust(self.ext), put_policy(f"arn:aws:s3:::{BUCKET}/*"), wait)

    def test_auth(self):
        for token in (None, "not-a-token"):
            for method, path in (("GET", "/v2/archive/settings"),
                                 ("GET", "/v1/log-shipping/s3-buckets/aws-assume-role-details")):
                status, err = self.call(method, path, token=token)
                self.assertEqual(status, 401)
                self.assertEqual(err["errorCode"], "auth/UNAUTHORIZED")
        calls = self.fake.calls()
        self.assertEqual([c[2] for c in calls], [401] * 4)
        self.assertNotIn("not-a-token", repr(calls))

    def test_assume_role_details(self):
        status, d = self.call("GET", "/v1/log-shipping/s3-buckets/aws-assume-role-details")
        self.assertEqual(status, 200)
        self.assertEqual(d, {"logzioAWSAccountId": "406095609952", "assignedExternalId": self.ext})
        self.assertTrue(self.ext.startswith("logzio:aws:extid:"))
        self.assertEqual(self.fake.add_account(TOKEN)["external_id"], self.ext)  # stable
        other = self.fake.add_account(OTHER, aws_account="111122223333")
        self.assertNotEqual(other["external_id"], self.ext)
        _, d = self.call("GET", "/v1/log-shipping/s3-buckets/aws-assume-role-details", token=OTHER)
        self.assertEqual(d["logzioAWSAccountId"], "111122223333")
        rotated = self.fake.rotate_external_id(TOKEN)
        _, d = self.call("GET", "/v1/log-shipping/s3-buckets/aws-assume-role-details")
        self.assertEqual(d["assignedExternalId"], rotated)

    def test_lifecycle(self):
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, []))
        arn = self.good_role("fake-good", wait=False)
        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual(status, 400)
        self.assertEqual(err["errorCode"], "archive/ASSUME_ROLE_FAILED")
        self.assertIn(f"could not assume role {arn}", err["message"])
        self.assertIn("not assumable yet", err["message"])
        time.sleep(PROPAGATION + 0.05)
        status, created = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual(status, 200, created)
        aid = created["id"]
        creds = created["settings"]["amazonS3StorageSettings"]["s3IamCredentials"]
        self.assertEqual(creds, {"arn": arn, "externalId": self.ext})
        self.assertEqual(self.fake.archives(TOKEN), [created])

        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual((status, err["errorCode"]), (409, "archive/ALREADY_EXISTS"))
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, [created]))
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}"), (200, created))

        # Another Logz.io account sees none of it.
        self.fake.add_account(OTHER)
        self.assertEqual(self.call("GET", "/v2/archive/settings", token=OTHER), (200, []))
        for method in ("GET", "DELETE"):
            status, err = self.call(method, f"/v2/archive/settings/{aid}", token=OTHER)
            self.assertEqual((status, err["errorCode"]), (404, "archive/NOT_FOUND"))
        self.assertEqual(self.call("PUT", f"/v2/archive/settings/{aid}", body(arn), token=OTHER)[0], 404)

        status, updated = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn, enabled=False))
        self.assertEqual(status, 200)
        self.assertFalse(updated["settings"]["enabled"])
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}"), (200, updated))

        status, _ = self.call("DELETE", f"/v2/archive/settings/{aid}")
        self.assertEqual(status, 200)
        for method in ("GET", "DELETE"):
            self.assertEqual(self.call(method, f"/v2/archive/settings/{aid}")[0], 404)
        self.assertEqual(self.call("PUT", f"/v2/archive/settings/{aid}", body(arn))[0], 404)
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, []))
        calls = self.fake.calls()
        self.assertEqual(calls[0], ("GET", "/v2/archive/settings", 200))
        self.assertNotIn(TOKEN, repr(calls))

    def test_refusals_name_why(self):
        wrong = self.role("fake-wrong-extid", trust("logzio:aws:extid:someone-else"),
                          put_policy(f"arn:aws:s3:::{BUCKET}/*"), wait=False)
        nopolicy = self.role("fake-no-policy", trust(self.ext), wait=False)
        other_bucket = self.role("fake-other-bucket", trust(self.ext), put_policy("arn:aws:s3:::other/*"),
                                 wait=False)
        prefix_only = self.role("fake-prefix", trust(self.ext), put_policy(f"arn:aws:s3:::{BUCKET}/logs/*"))
        cases = [(wrong, BUCKET, "sts:ExternalId"), (nopolicy, BUCKET, "s3:PutObject"),
                 (other_bucket, BUCKET, "s3:PutObject"), (prefix_only, BUCKET, "s3:PutObject"),
                 ("arn:aws:iam::123456789012:role/fake-missing", BUCKET, "does not exist"),
                 ("arn:aws:iam::123456789012:role/some/path/fake-prefix", BUCKET, "does not exist")]
        for arn, path, why in cases:
            status, err = self.call("POST", "/v2/archive/settings", body(arn, path))
            self.assertEqual((status, err["errorCode"]), (400, "archive/ASSUME_ROLE_FAILED"), (arn, err))
            self.assertIn(why, err["message"])
            self.assertNotIn(self.ext, err["message"])
        # The prefix role may write under its prefix.
        status, created = self.call("POST", "/v2/archive/settings", body(prefix_only, f"{BUCKET}/logs"))
        self.assertEqual(status, 200, created)
        self.assertEqual(self.fake.archives(TOKEN)[0]["settings"]["amazonS3StorageSettings"]["path"],
                         f"{BUCKET}/logs")

    def test_boundary_and_managed_policies(self):
        doc = put_policy(f"arn:aws:s3:::{BUCKET}/*")
        managed = self.iam.create_policy(PolicyName="fake-managed", PolicyDocument=doc)["Policy"]["Arn"]
        narrow = self.iam.create_policy(PolicyName="fake-narrow", PolicyDocument=put_policy(
            "arn:aws:s3:::elsewhere/*"))["Policy"]["Arn"]
        self.iam.create_role(RoleName="fake-bounded", AssumeRolePolicyDocument=trust(self.ext),
                             PermissionsBoundary=narrow)
        self.iam.attach_role_policy(RoleName="fake-bounded", PolicyArn=managed)
        time.sleep(PROPAGATION + 0.05)
        arn = "arn:aws:iam::123456789012:role/fake-bounded"
        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual(status, 400)
        self.assertIn("permissions boundary", err["message"])
        self.iam.delete_role_permissions_boundary(RoleName="fake-bounded")
        self.assertEqual(self.call("POST", "/v2/archive/settings", body(arn))[0], 200)

    def test_invalid_bodies(self):
        arn = "arn:aws:iam::123456789012:role/x"
        b = body(arn)
        del b["amazonS3StorageSettings"]["s3IamCredentials"]
        cases = [({k: v for k, v in body(arn).items() if k != "enabled"}, "enabled"),
                 (b, "s3IamCredentials"), ({"storageType": "S3"}, "enabled"), ([], "JSON object")]
        for payload, field in cases:
            status, err = self.call("POST", "/v2/archive/settings", payload)
            self.assertEqual((status, err["errorCode"]), (400, "archive/INVALID_REQUEST"))
            self.assertIn(field, err["message"])

    def test_consistency_lag(self):
        self.fake.consistency_s = 0.6
        arn = self.good_role("fake-lag")
        _, created = self.call("POST", "/v2/archive/settings", body(arn))
        aid = created["id"]
        status, updated = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn, enabled=False))
        self.assertEqual(status, 200)
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[1], created)
        self.assertEqual(self.call("GET", "/v2/archive/settings")[1], [created])
        self.assertFalse(self.fake.archives(TOKEN)[0]["settings"]["enabled"])  # what Logz.io holds
        time.sleep(0.65)
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[1], updated)

    def test_faults(self):
        arn = self.good_role("fake-faults")
        self.fake.fault("POST", "/v2/archive/settings", 429, times=2)
        statuses = [self.call("POST", "/v2/archive/settings", body(arn))[0] for _ in range(3)]
        self.assertEqual(statuses, [429, 429, 200])
        aid = self.fake.archives(TOKEN)[0]["id"]

        self.fake.fault("GET", "/v2/archive/settings", 503, body="<html>503</html>")
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[0], 503)
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[0], 200)

        self.fake.fault("PUT", "/v2/archive/settings", "refuse_assume", times=10 ** 9)
        for _ in range(3):
            status, err = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn))
            self.assertEqual((status, err["errorCode"]), (400, "archive/ASSUME_ROLE_FAILED"))
        self.fake.clear_faults()

        # The answer is lost after the call took effect: the archive exists although the POST answered 500.
        self.assertTrue(self.fake.delete_outside(TOKEN, aid))
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[0], 404)
        self.fake.fault("POST", "/v2/archive/settings", 500, after=True)
        self.assertEqual(self.call("POST", "/v2/archive/settings", body(arn))[0], 500)
        self.assertEqual(len(self.fake.archives(TOKEN)), 1)

        self.fake.fault("*", "/v1/", 401)
        self.assertEqual(self.call("GET", "/v1/log-shipping/s3-buckets/aws-assume-role-details")[0], 401)

    def test_keep_alive_hang_reset(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=5)
        for token, want in (("nope", 401), (TOKEN, 200), (TOKEN, 404), (TOKEN, 200)):
            path = "/v2/archive/settings/9999" if want == 404 else "/v2/archive/settings"
            conn.request("GET", path, headers={"X-API-TOKEN": token})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, want)
        conn.close()
        self.fake.fault("GET", "/v2/", "reset")
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.call("GET", "/v2/archive/settings")
        self.fake.fault("GET", "/v2/", "hang")
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=0.3)
        conn.request("GET", "/v2/archive/settings", headers={"X-API-TOKEN": TOKEN})
        with self.assertRaises(socket.timeout):
            conn.getresponse()
        conn.close()
        self.assertEqual([c[2] for c in self.fake.calls()][-2:], ["reset", "hang"])

    def test_object_shape_and_delete_204(self):
        self.fake.stop()
        self.fake = FakeLogzio(self.endpoint, propagation_s=0, list_shape="object", delete_status=204)
        self.fake.add_account(TOKEN)
        self.ext = self.fake.add_account(TOKEN)["external_id"]
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, {}))
        arn = self.good_role("fake-object", wait=False)
        _, created = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, created))
        self.assertEqual(self.call("DELETE", f"/v2/archive/settings/{created['id']}"), (204, None))

    def test_cli(self):
        proc = subprocess.Popen([sys.executable, str(HERE / "logzio_fake.py"), "--iam-endpoint", self.endpoint,
                                 "--propagation", "0", "--token", "cli-a", "--token", "cli-b"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            port = int(proc.stdout.readline())
            accounts = [json.loads(proc.stdout.readline()) for _ in range(2)]
            self.assertNotEqual(accounts[0]["external_id"], accounts[1]["external_id"])
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/log-shipping/s3-buckets/"
                                         "aws-assume-role-details", headers={"X-API-TOKEN": "cli-b"})
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(json.loads(r.read())["assignedExternalId"], accounts[1]["external_id"])
        finally:
            proc.stdin.close()
            self.assertEqual(proc.wait(10), 0)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
