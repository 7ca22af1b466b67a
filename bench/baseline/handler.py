"""Benchmark baseline, not shipped: the Custom::LogzioRole contract as teams usually write it, in Python with
AWS's crhelper and boto3. Same role, tags, naming and reconcile rules as the Rust handler (validation is a
subset: the required properties and the rules that keep the grant to one bucket), so both make comparable IAM
calls. It exists only to be measured beside the Rust handler by bench/run.py.
"""

import hashlib
import json
import os
import re
import urllib.parse

import boto3
from crhelper import CfnResource

helper = CfnResource(json_logging=False, log_level="WARNING", boto_level="CRITICAL",
                     ssl_verify=os.environ.get("CFN_CA_BUNDLE"))
iam = boto3.client("iam")

STACK_TAG = "logzio-role:stack-id"
LOGICAL_TAG = "logzio-role:logical-id"
LOGZIO_ACCOUNT = "406095609952"
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9+=,.@:/_-]{2,1224}$")


def props_of(event):
    p = {k: (str(v) if not isinstance(v, (list, dict)) else v) for k, v in event["ResourceProperties"].items()}
    errors = []
    bucket, ext = p.get("BucketName"), p.get("ExternalId")
    if not bucket or not BUCKET_RE.match(bucket) or ".." in bucket:
        errors.append("BucketName: must follow S3 naming rules")
    if not ext or not EXTERNAL_ID_RE.match(ext):
        errors.append("ExternalId: must be 2-1224 of [A-Za-z0-9+=,.@:/_-]")
    prefix = p.get("KeyPrefix", "")
    if "*" in prefix or "?" in prefix or prefix.startswith("/"):
        errors.append("KeyPrefix: no wildcards or leading /")
    session = int(p.get("MaxSessionDuration", 3600))
    if not 3600 <= session <= 43200:
        errors.append("MaxSessionDuration: 3600 to 43200")
    if errors:
        raise ValueError("invalid properties: " + "; ".join(errors))
    p["MaxSessionDuration"] = session
    return p


def partition(event):
    return event["StackId"].split(":")[1]


def role_name(event, p):
    if p.get("RoleName"):
        return p["RoleName"]
    stack = event["StackId"].split("/")[1][:24]
    digest = hashlib.sha256(f"{event['StackId']}|{event['LogicalResourceId']}|{p.get('Path', '/')}".encode())
    suffix = digest.hexdigest()[:12].upper()
    return f"{stack}-{event['LogicalResourceId'][:64 - 2 - 12 - len(stack)]}-{suffix}"


def desired(event, p):
    part = partition(event)
    bucket, prefix = p["BucketName"], p.get("KeyPrefix", "")
    statements = [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": f"arn:{part}:s3:::{bucket}"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": f"arn:{part}:s3:::{bucket}/{prefix}*"},
    ]
    if p.get("KmsKeyArn"):
        statements.append({"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                           "Resource": p["KmsKeyArn"]})
    tags = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
    tags.update({STACK_TAG: event["StackId"], LOGICAL_TAG: event["LogicalResourceId"]})
    return {
        "trust": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:{part}:iam::{p.get('LogzioAccountId', LOGZIO_ACCOUNT)}:root"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": p["ExternalId"]}}}]},
        "policy": {"Version": "2012-10-17", "Statement": statements},
        "policy_name": p.get("PolicyName", "LogzioArchiveAccess"),
        "description": p.get("Description") or f"Lets Logz.io archive logs to the S3 bucket {bucket}",
        "session": p["MaxSessionDuration"],
        "path": p.get("Path", "/"),
        "tags": tags,
    }


def decode(doc):
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def get_role(name):
    try:
        return iam.get_role(RoleName=name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        return None


def owned(role, event):
    tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
    return tags.get(STACK_TAG) == event["StackId"] and tags.get(LOGICAL_TAG) == event["LogicalResourceId"]


def ensure(event, name, d):
    role = get_role(name)
    if role is None:
        role = iam.create_role(RoleName=name, Path=d["path"], AssumeRolePolicyDocument=json.dumps(d["trust"]),
                               Description=d["description"], MaxSessionDuration=d["session"],
                               Tags=[{"Key": k, "Value": v} for k, v in d["tags"].items()])["Role"]
        try:
            iam.put_role_policy(RoleName=name, PolicyName=d["policy_name"], PolicyDocument=json.dumps(d["policy"]))
        except Exception:
            iam.delete_role(RoleName=name)
            raise
    else:
        if not owned(role, event):
            raise ValueError(f"RoleName: role {name} already exists and is not managed by this resource")
        if decode(role["AssumeRolePolicyDocument"]) != d["trust"]:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(d["trust"]))
        if role.get("Description") != d["description"] or role.get("MaxSessionDuration") != d["session"]:
            iam.update_role(RoleName=name, Description=d["description"], MaxSessionDuration=d["session"])
        have = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        stale = [k for k in have if k not in d["tags"]]
        if stale:
            iam.untag_role(RoleName=name, TagKeys=stale)
        changed = {k: v for k, v in d["tags"].items() if have.get(k) != v}
        if changed:
            iam.tag_role(RoleName=name, Tags=[{"Key": k, "Value": v} for k, v in changed.items()])
        names = iam.list_role_policies(RoleName=name)["PolicyNames"]
        current = None
        if d["policy_name"] in names:
            current = decode(iam.get_role_policy(RoleName=name, PolicyName=d["policy_name"])["PolicyDocument"])
        if current != d["policy"]:
            iam.put_role_policy(RoleName=name, PolicyName=d["policy_name"], PolicyDocument=json.dumps(d["policy"]))
        for other in names:
            if other != d["policy_name"]:
                iam.delete_role_policy(RoleName=name, PolicyName=other)
    helper.Data.update({"Arn": role["Arn"], "RoleName": role["RoleName"], "RoleId": role["RoleId"]})
    return name


@helper.create
def create(event, context):
    p = props_of(event)
    return ensure(event, role_name(event, p), desired(event, p))


@helper.update
def update(event, context):
    p = props_of(event)
    current = event["PhysicalResourceId"]
    name = p.get("RoleName") or current
    role = get_role(current) if not p.get("RoleName") else None
    if role is not None and role["Path"] != p.get("Path", "/"):
        name = role_name(event, p)
    return ensure(event, name, desired(event, p))


@helper.delete
def delete(event, context):
    name = event["PhysicalResourceId"]
    role = get_role(name)
    if role is None or not owned(role, event):
        return
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=p)
    for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    for p in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
        iam.remove_role_from_instance_profile(RoleName=name, InstanceProfileName=p["InstanceProfileName"])
    iam.delete_role(RoleName=name)


def handler(event, context):
    helper(event, context)
