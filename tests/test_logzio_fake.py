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
ASSUME = "archive/ASSUME_ROLE_FAILED"
WRITE = "archive/S3_WRITE_FAILED"
STS_DENIED = ("User: arn:aws:iam::406095609952:user/logzio-archiver is not authorized to perform: sts:AssumeRole on "
              "resource: {arn} (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; "
              "Request ID: ")
S3_DENIED = ("User: arn:aws:sts::123456789012:assumed-role/{name}/logzio-archive is not authorized to perform: "
             "s3:PutObject on resource: \"arn:aws:s3:::{key}\" {why} (Service: Amazon S3; Status Code: 403; "
             "Error Code: AccessDenied; Request ID: ")
NO_ALLOW = "because no identity-based policy allows the s3:PutObject action"


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
        self.assertIn("not assumable yet", err["fakeDiagnosis"])
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
        cases = [(wrong, ASSUME, "sts:ExternalId"), (nopolicy, WRITE, "s3:PutObject"),
                 (other_bucket, WRITE, "s3:PutObject"), (prefix_only, WRITE, "s3:PutObject"),
                 ("arn:aws:iam::123456789012:role/fake-missing", ASSUME, "does not exist"),
                 ("arn:aws:iam::123456789012:role/some/path/fake-prefix", ASSUME, "does not exist")]
        for arn, code, why in cases:
            status, err = self.call("POST", "/v2/archive/settings", body(arn))
            self.assertEqual((status, err["errorCode"]), (400, code), (arn, err))
            self.assertIn(why, err["fakeDiagnosis"])
            self.assertNotIn(self.ext, json.dumps(err))
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
        self.assertEqual((status, err["errorCode"]), (400, WRITE))
        self.assertIn("because no permissions boundary allows the s3:PutObject action", err["message"])
        self.assertIn("permissions boundary", err["fakeDiagnosis"])
        self.iam.delete_role_permissions_boundary(RoleName="fake-bounded")
        # A changed role: the fake sees the change now, and it takes effect PROPAGATION later.
        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual((status, err["errorCode"]), (400, WRITE))
        self.assertIn("IAM propagation", err["fakeDiagnosis"])
        time.sleep(PROPAGATION + 0.05)
        self.assertEqual(self.call("POST", "/v2/archive/settings", body(arn))[0], 200)

    def assert_assume_refusal(self, status, err, arn):
        self.assertEqual((status, err["errorCode"]), (400, ASSUME), err)
        self.assertTrue(err["message"].startswith(f"Logz.io could not assume role {arn}: " + STS_DENIED.format(
            arn=arn)), err["message"])
        self.assertNotIn("s3:PutObject", err["message"])
        self.assertNotIn(self.ext, json.dumps(err))

    def assert_write_refusal(self, status, err, arn, key, why=NO_ALLOW):
        self.assertEqual((status, err["errorCode"]), (400, WRITE), err)
        name = arn.rsplit("/", 1)[1]
        self.assertTrue(err["message"].startswith(
            f"Logz.io could not write the test object s3://{key} with role {arn}: "
            + S3_DENIED.format(name=name, key=key, why=why)), err["message"])
        self.assertNotIn("sts:AssumeRole", err["message"])
        self.assertNotIn("could not assume", err["message"])
        self.assertNotIn(self.ext, json.dumps(err))

    def test_assume_refusal_wording(self):
        # STS words every cause alike (role missing, trust wrong, role too new): so does the message.
        wrong = self.role("fake-w-wrong", trust("logzio:aws:extid:someone-else"),
                          put_policy(f"arn:aws:s3:::{BUCKET}/*"))
        missing = "arn:aws:iam::123456789012:role/fake-w-missing"
        new = self.good_role("fake-w-new", wait=False)
        for arn, why in ((wrong, "sts:ExternalId"), (missing, "does not exist"), (new, "not assumable yet")):
            for path, payload in (("/v2/archive/settings", body(arn)),
                                  ("/v2/archive/settings/test", {"archiveSettings": body(arn)})):
                status, err = self.call("POST", path, payload)
                self.assert_assume_refusal(status, err, arn)
                self.assertIn(why, err["fakeDiagnosis"])
        # Assume comes first: a role that may not be assumed is refused so even if it may not write either.
        nowrite = self.role("fake-w-neither", trust("logzio:aws:extid:someone-else"))
        self.assert_assume_refusal(*self.call("POST", "/v2/archive/settings", body(nowrite)), nowrite)
        self.assertEqual(self.fake.archives(TOKEN), [])

    def test_write_refusal_wording(self):
        # The role is assumable (trust right, propagated) but may not write the test object under the path.
        other = self.role("fake-w-other", trust(self.ext), put_policy("arn:aws:s3:::other/*"))
        status, err = self.call("POST", "/v2/archive/settings", body(other))
        self.assert_write_refusal(status, err, other, f"{BUCKET}/logzio-verified")
        self.assertIn(f"no policy of the role allows s3:PutObject on arn:aws:s3:::{BUCKET}/*", err["fakeDiagnosis"])
        # Under a prefix the test object is written under the prefix.
        status, err = self.call("POST", "/v2/archive/settings", body(other, f"{BUCKET}/logs/"))
        self.assert_write_refusal(status, err, other, f"{BUCKET}/logs/logzio-verified")
        # The test call refuses alike, and stores nothing.
        status, err = self.call("POST", "/v2/archive/settings/test", body(other))
        self.assert_write_refusal(status, err, other, f"{BUCKET}/logzio-verified")
        # An explicit Deny.
        denied = self.role("fake-w-deny", trust(self.ext), json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/logzio-*"}]}))
        status, err = self.call("POST", "/v2/archive/settings", body(denied))
        self.assert_write_refusal(status, err, denied, f"{BUCKET}/logzio-verified",
                                  "with an explicit deny in an identity-based policy")
        self.assertEqual(self.fake.archives(TOKEN), [])

        # refuse_write: the role may write, the test write fails anyway, with the S3 error named.
        good = self.good_role("fake-w-good")
        self.fake.fault("POST", "/v2/archive/settings", "refuse_write")
        self.assert_write_refusal(*self.call("POST", "/v2/archive/settings", body(good)), good,
                                  f"{BUCKET}/logzio-verified")
        texts = {"no_such_bucket": "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; "
                                   "Error Code: NoSuchBucket; Request ID: ",
                 "acl": "The bucket does not allow ACLs (Service: Amazon S3; Status Code: 400; Error Code: "
                        "AccessControlListNotSupported; Request ID: ",
                 "kms": "User: arn:aws:sts::123456789012:assumed-role/fake-w-good/logzio-archive is not authorized "
                        "to perform: kms:GenerateDataKey on resource: arn:aws:kms:"}
        for kind, text in texts.items():
            self.fake.fault("POST", "/v2/archive/settings", "refuse_write", body=kind)
            status, err = self.call("POST", "/v2/archive/settings", body(good))
            self.assertEqual((status, err["errorCode"]), (400, WRITE), err)
            self.assertTrue(err["message"].startswith(f"Logz.io could not write the test object "
                                                      f"s3://{BUCKET}/logzio-verified with role {good}: {text}"),
                            err["message"])
        self.assertEqual(self.call("POST", "/v2/archive/settings", body(good))[0], 200)

    def test_write_refusal_during_propagation_clears(self):
        # A new role: assumable after propagation_s, its permissions effective only after policy_propagation_s.
        self.fake.stop()
        self.fake = FakeLogzio(self.endpoint, propagation_s=0.3, policy_propagation_s=1.0)
        self.ext = self.fake.add_account(TOKEN)["external_id"]
        t0 = time.time()
        arn = self.good_role("fake-p-new", wait=False)
        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assert_assume_refusal(status, err, arn)
        time.sleep(max(0.0, t0 + 0.4 - time.time()))
        status, err = self.call("POST", "/v2/archive/settings", body(arn))
        self.assert_write_refusal(status, err, arn, f"{BUCKET}/logzio-verified")
        self.assertIn("IAM propagation", err["fakeDiagnosis"])
        time.sleep(max(0.0, t0 + 1.1 - time.time()))
        status, created = self.call("POST", "/v2/archive/settings", body(arn))
        self.assertEqual(status, 200, created)

        # A role the fake has seen: a policy fixed later is refused in the same words until it propagates.
        other = self.role("fake-p-fixed", trust(self.ext), put_policy("arn:aws:s3:::other/*"), wait=False)
        time.sleep(1.05)
        aid = created["id"]
        self.assert_write_refusal(*self.call("PUT", f"/v2/archive/settings/{aid}", body(other)), other,
                                  f"{BUCKET}/logzio-verified")
        self.iam.put_role_policy(RoleName="fake-p-fixed", PolicyName="LogzioArchiveAccess",
                                 PolicyDocument=put_policy(f"arn:aws:s3:::{BUCKET}/*"))
        t1 = time.time()
        status, err = self.call("PUT", f"/v2/archive/settings/{aid}", body(other))
        self.assert_write_refusal(status, err, other, f"{BUCKET}/logzio-verified")
        self.assertIn("IAM propagation", err["fakeDiagnosis"])
        time.sleep(0.5)
        self.assertEqual(self.call("PUT", f"/v2/archive/settings/{aid}", body(other))[1]["errorCode"], WRITE)
        time.sleep(max(0.0, t1 + 1.05 - time.time()))
        status, updated = self.call("PUT", f"/v2/archive/settings/{aid}", body(other))
        self.assertEqual(status, 200, updated)
        self.assertEqual(updated["settings"]["amazonS3StorageSettings"]["s3IamCredentials"]["arn"], other)

        # Taking the permission away propagates too: the old policy still applies for policy_propagation_s.
        self.iam.delete_role_policy(RoleName="fake-p-fixed", PolicyName="LogzioArchiveAccess")
        self.assertEqual(self.call("PUT", f"/v2/archive/settings/{aid}", body(other, enabled=False))[0], 200)
        time.sleep(1.05)
        self.assertEqual(self.call("PUT", f"/v2/archive/settings/{aid}", body(other))[1]["errorCode"], WRITE)

    def test_trust_change_propagates(self):
        arn = self.good_role("fake-p-trust")
        _, created = self.call("POST", "/v2/archive/settings", body(arn))
        aid = created["id"]
        # Logz.io issues a new external ID and the role is made to trust it: until IAM propagates the new trust,
        # STS still applies the old one, which does not name the new ID.
        self.ext = self.fake.rotate_external_id(TOKEN)
        self.iam.update_assume_role_policy(RoleName="fake-p-trust", PolicyDocument=trust(self.ext))
        status, err = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn))
        self.assert_assume_refusal(status, err, arn)
        self.assertIn("IAM propagation", err["fakeDiagnosis"])
        time.sleep(PROPAGATION + 0.05)
        status, updated = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn))
        self.assertEqual(status, 200, updated)
        self.assertEqual(updated["settings"]["amazonS3StorageSettings"]["s3IamCredentials"]["externalId"], self.ext)

    def test_check_bucket(self):
        self.fake.stop()
        self.fake = FakeLogzio(self.endpoint, propagation_s=0, check_bucket=True)
        self.ext = self.fake.add_account(TOKEN)["external_id"]
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        bucket = "fake-checked-bucket"
        arn = self.role("fake-b-role", trust(self.ext), put_policy(f"arn:aws:s3:::{bucket}/*"), wait=False)
        prefix = f"Logz.io could not write the test object s3://{bucket}/logzio-verified with role {arn}: "
        status, err = self.call("POST", "/v2/archive/settings", body(arn, bucket))
        self.assertEqual((status, err["errorCode"]), (400, WRITE), err)
        self.assertTrue(err["message"].startswith(prefix + "The specified bucket does not exist (Service: Amazon S3;"
                                                  " Status Code: 404; Error Code: NoSuchBucket;"), err["message"])
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        status, err = self.call("POST", "/v2/archive/settings", body(arn, bucket))
        self.assertTrue(err["message"].startswith(prefix + "The bucket does not allow ACLs (Service: Amazon S3; "
                                                  "Status Code: 400; Error Code: AccessControlListNotSupported;"),
                        err["message"])
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
        status, err = self.call("POST", "/v2/archive/settings", body(arn, bucket))
        self.assertTrue(err["message"].startswith(
            prefix + "User: arn:aws:sts::123456789012:assumed-role/fake-b-role/logzio-archive is not authorized to "
            f"perform: kms:GenerateDataKey on resource: {key} because no identity-based policy allows the "
            "kms:GenerateDataKey action (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied;"),
            err["message"])
        self.iam.put_role_policy(RoleName="fake-b-role", PolicyName="Kms", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:GenerateDataKey",
                                                    "Resource": key}]}))
        status, created = self.call("POST", "/v2/archive/settings", body(arn, bucket))
        self.assertEqual(status, 200, created)

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

    def test_refuse_write_other_access_denied_wordings(self):
        # refuse_write with the AccessDenied wordings that no propagation explains.
        good = self.good_role("fake-w-wordings")
        for kind, why in (("explicit_deny", "with an explicit deny in an identity-based policy"),
                          ("boundary", "because no permissions boundary allows the s3:PutObject action"),
                          ("boundary_deny", "with an explicit deny in a permissions boundary")):
            self.fake.fault("POST", "/v2/archive/settings", "refuse_write", body=kind)
            self.assert_write_refusal(*self.call("POST", "/v2/archive/settings", body(good)), good,
                                      f"{BUCKET}/logzio-verified", why)
        self.assertEqual(self.fake.archives(TOKEN), [])

    def test_calls_with_error_codes(self):
        arn = self.good_role("fake-codes")
        self.fake.fault("POST", "/v2/archive/settings", "refuse_write")
        self.fake.fault("GET", "/v2/archive/settings", 503, body="<html>503</html>")
        self.call("POST", "/v2/archive/settings", body(arn))
        self.call("GET", "/v2/archive/settings")
        self.call("POST", "/v2/archive/settings", body(arn))
        self.call("GET", "/v2/archive/settings/4242")
        self.assertEqual(self.fake.calls(codes=True), [
            ("POST", "/v2/archive/settings", 400, WRITE), ("GET", "/v2/archive/settings", 503, None),
            ("POST", "/v2/archive/settings", 200, None),
            ("GET", "/v2/archive/settings/4242", 404, "archive/NOT_FOUND")])
        self.call("GET", "/v2/archive/settings")
        self.assertEqual(self.fake.calls(), [("GET", "/v2/archive/settings", 200)])

    def test_delay_fault_lands_late_even_when_the_client_gave_up(self):
        arn = self.good_role("fake-delay")
        fid = self.fake.fault("POST", "/v2/archive/settings", "delay", delay_s=0.6)
        self.assertIsNone(self.fake.wait_landed(fid, 0.05))
        # The client stops waiting after 0.2 s; the call still takes effect, 0.6 s after it arrived.
        req = urllib.request.Request(self.fake.url + "/v2/archive/settings", method="POST",
                                     data=json.dumps(body(arn)).encode(),
                                     headers={"X-API-TOKEN": TOKEN, "Content-Type": "application/json"})
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, urllib.error.URLError)):
            urllib.request.urlopen(req, timeout=0.2)
        self.assertEqual(self.fake.archives(TOKEN), [])  # not yet
        landed = self.fake.wait_landed(fid, 5)
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in landed],
                         [("POST", "/v2/archive/settings", 200)])
        self.assertGreaterEqual(landed[0]["landed"] - landed[0]["arrived"], 0.6)
        self.assertGreaterEqual(landed[0]["arrived"], t0)
        self.assertEqual(len(self.fake.archives(TOKEN)), 1)
        # A client that waits gets the answer late; the next call is not delayed.
        aid = self.fake.archives(TOKEN)[0]["id"]
        fid = self.fake.fault("GET", f"/v2/archive/settings/{aid}", "delay", delay_s=0.4)
        t0 = time.monotonic()
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(len(self.fake.wait_landed(fid, 1)), 1)
        t0 = time.monotonic()
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[0], 200)
        self.assertLess(time.monotonic() - t0, 0.3)
        with self.assertRaises(ValueError):
            self.fake.fault("POST", "/v2/archive/settings", "delay")

    def test_answer_shape(self):
        arn = self.good_role("fake-shape")
        self.fake.answer_shape("s3+slash", omit=("compressed",))
        status, created = self.call("POST", "/v2/archive/settings", body(arn, f"{BUCKET}/logs"))
        self.assertEqual(status, 200)
        aid = created["id"]
        shown = {"storageType": "S3", "enabled": True, "amazonS3StorageSettings": {
            "credentialsType": "IAM", "path": f"s3://{BUCKET}/logs/",
            "s3IamCredentials": {"arn": arn, "externalId": self.ext}}}
        self.assertEqual(created["settings"], shown)
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}"), (200, {"id": aid, "settings": shown}))
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, [{"id": aid, "settings": shown}]))
        status, updated = self.call("PUT", f"/v2/archive/settings/{aid}", body(arn, f"{BUCKET}/logs", enabled=False))
        self.assertEqual((status, updated["settings"]["enabled"]), (200, False))
        self.assertNotIn("compressed", updated["settings"])
        # What Logz.io holds is what was sent.
        held = self.fake.archives(TOKEN)[0]["settings"]
        self.assertEqual((held["amazonS3StorageSettings"]["path"], held["compressed"], held["enabled"]),
                         (f"{BUCKET}/logs", True, False))
        self.fake.answer_shape("slash")
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}")[1]["settings"]["amazonS3StorageSettings"]
                         ["path"], f"{BUCKET}/logs/")
        self.fake.answer_shape()
        _, got = self.call("GET", f"/v2/archive/settings/{aid}")
        self.assertEqual(got, {"id": aid, "settings": self.fake.archives(TOKEN)[0]["settings"]})

    def test_register_outside(self):
        arn = "arn:aws:iam::123456789012:role/fake-by-hand"
        aid = self.fake.register_outside(TOKEN, f"{BUCKET}/logs", arn, enabled=False)
        want = {"id": aid, "settings": {"storageType": "S3", "enabled": False, "compressed": True,
                                        "amazonS3StorageSettings": {"credentialsType": "IAM", "path": f"{BUCKET}/logs",
                                                                    "s3IamCredentials": {"arn": arn,
                                                                                         "externalId": self.ext}}}}
        self.assertEqual(self.fake.archives(TOKEN), [want])
        self.assertEqual(self.call("GET", "/v2/archive/settings"), (200, [want]))
        self.assertEqual(self.call("GET", f"/v2/archive/settings/{aid}"), (200, want))
        self.assertEqual(self.fake.calls(), [("GET", "/v2/archive/settings", 200),
                                             ("GET", f"/v2/archive/settings/{aid}", 200)])  # no call recorded for it
        with self.assertRaises(ValueError):
            self.fake.register_outside(TOKEN, BUCKET, arn)
        status, err = self.call("POST", "/v2/archive/settings", body(self.good_role("fake-by-api")))
        self.assertEqual((status, err["errorCode"]), (409, "archive/ALREADY_EXISTS"))

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
