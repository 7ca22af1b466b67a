"""What the templates promise beyond what the linters check (`make templates` runs it after cfn-lint and checkov).

1. Names: every name a template sets (FunctionName, RoleName, BucketName, StackSetName, an export's Name, ...) is
   rendered for the longest stack name CloudFormation allows, a 128-character StackSets name
   (`StackSet-<name>-<uuid>`), the longest region name, and every parameter at each allowed value, its default
   and its longest value, each `Fn::If` both ways; each must fit its service's limit. A name the template leaves
   out is CloudFormation's to generate, within each limit; the role names the handler generates are held to
   64 characters for any stack name by src/plan.rs's tests.
2. The release's packaged template (tests/release/release.py --template-only) carries no transform: service-
   managed StackSets deploy no template with one. Its function is an AWS::Lambda::Function with its code in S3.
3. The lifecycle rules of the examples never touch the `logzio-verified` object that Logz.io writes at the bucket
   root when it checks access (taken to be at most 512 bytes): no rule that moves or expires objects applies to it.

Usage: templates.py TEMPLATE... [--release RELEASE_TEMPLATE]; exits 1 on any failure, naming each.
"""

import argparse
import itertools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lambda_local import load_template  # noqa: E402

# 128 characters: CloudFormation's longest stack name, in the shape StackSets gives its stacks.
STACK_NAME = ("StackSet-" + "a" * 82 + "-0f9c1f00-0000-4000-8000-000000000001")
assert len(STACK_NAME) == 128
# The longest region name (15 characters), e.g. for a bucket named <prefix>-<region>.
PSEUDO = {"AWS::StackName": STACK_NAME, "AWS::Region": "us-isof-south-1", "AWS::AccountId": "123456789012",
          "AWS::Partition": "aws-us-gov", "AWS::URLSuffix": "amazonaws.com",
          "AWS::StackId": f"arn:aws:cloudformation:ap-southeast-5:123456789012:stack/{STACK_NAME}/x"}

# (resource type, property path) -> (the longest allowed, a pattern the name must match or None). From each
# service's API reference (CreateFunction FunctionName 64, CreateRole RoleName 64, PutRolePolicy PolicyName 128,
# CreatePolicy PolicyName 128, CreateLogGroup 512, PutMetricAlarm AlarmName 255, CreateBucket 3-63 lowercase,
# CreateTopic 256, CreateStackSet 128, CreateAlias 256, CreateSecret 512) and CloudFormation's export name (255).
NAME_LIMITS = {
    ("AWS::Lambda::Function", "FunctionName"): (64, r"[A-Za-z0-9_-]+"),
    ("AWS::Serverless::Function", "FunctionName"): (64, r"[A-Za-z0-9_-]+"),
    ("AWS::IAM::Role", "RoleName"): (64, r"[\w+=,.@-]+"),
    ("AWS::IAM::Role", "Policies.PolicyName"): (128, r"[\w+=,.@-]+"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"): (128, r"[\w+=,.@-]+"),
    ("AWS::Logs::LogGroup", "LogGroupName"): (512, r"[.\-_/#A-Za-z0-9]+"),
    ("AWS::CloudWatch::Alarm", "AlarmName"): (255, None),
    ("AWS::S3::Bucket", "BucketName"): (63, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    ("AWS::SNS::Topic", "TopicName"): (256, r"[A-Za-z0-9_-]+"),
    ("AWS::CloudFormation::StackSet", "StackSetName"): (128, r"[a-zA-Z][-a-zA-Z0-9]*"),
    ("AWS::KMS::Alias", "AliasName"): (256, r"alias/[a-zA-Z0-9/_-]+"),
    ("AWS::SecretsManager::Secret", "Name"): (512, None),
}
EXPORT_LIMIT = 255
LOGZIO_VERIFIED = ("logzio-verified", 512)  # key, largest size taken


class Unrenderable(Exception):
    pass


def parameter_values(doc, name):
    """The values a parameter is rendered with: each allowed value, else its default and its longest value
    (MaxLength); a parameter with neither a default nor a MaxLength cannot be rendered."""
    p = doc.get("Parameters", {}).get(name)
    if p is None:
        raise Unrenderable(f"Ref to unknown {name}")
    if "AllowedValues" in p:
        return [str(v) for v in p["AllowedValues"]]
    values = [str(p["Default"])] if "Default" in p and str(p["Default"]) != "" else []
    if "MaxLength" in p:
        values.append("x" * int(p["MaxLength"]))
    if not values:
        raise Unrenderable(f"parameter {name} has no default and no MaxLength")
    return values


def render(doc, v):
    """Every string `v` can become (a list): parameters at their defaults, pseudo parameters as above, both
    branches of each Fn::If. Raises Unrenderable for what depends on a resource (Fn::GetAtt, a Ref to one)."""
    if isinstance(v, (str, int, float)):
        return [str(v)]
    if isinstance(v, dict) and len(v) == 1:
        (fn, arg), = v.items()
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return []  # no name: CloudFormation generates one
            if arg in PSEUDO:
                return [PSEUDO[arg]]
            if arg in doc.get("Resources", {}):
                raise Unrenderable(f"Ref to resource {arg}")
            return parameter_values(doc, arg)
        if fn == "Fn::If":
            return render(doc, arg[1]) + render(doc, arg[2])
        if fn == "Fn::Join":
            sep, parts = arg
            options = [render(doc, p) for p in parts]
            return [sep.join(c) for c in itertools.product(*options)]
        if fn == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else arg
            names = re.findall(r"\$\{([^}!]+)\}", text)
            options = []
            for n in names:
                if n in local:
                    options.append(render(doc, local[n]))
                elif "." in n:
                    raise Unrenderable(f"${{{n}}}")
                else:
                    options.append(render(doc, {"Ref": n}))
            out = []
            for combo in itertools.product(*options):
                t = text
                for n, value in zip(names, combo):
                    t = t.replace("${" + n + "}", value, 1)
                out.append(t)
            return out
    raise Unrenderable(repr(v)[:80])


def name_values(props, path):
    """The values at a dotted property path; a list on the way is walked item by item."""
    values = [props]
    for key in path.split("."):
        nxt = []
        for x in values:
            items = x if isinstance(x, list) else [x]
            nxt += [i[key] for i in items if isinstance(i, dict) and key in i]
        values = nxt
    return values


def check_names(path, doc, failures):
    checked = 0
    for logical, res in doc.get("Resources", {}).items():
        for (rtype, prop), (limit, pattern) in NAME_LIMITS.items():
            if res.get("Type") != rtype:
                continue
            for raw in name_values(res.get("Properties", {}), prop):
                try:
                    rendered = render(doc, raw)
                except Unrenderable as e:
                    failures.append(f"{path}: {logical}.{prop} cannot be rendered ({e})")
                    continue
                for name in rendered:
                    checked += 1
                    if len(name) > limit:
                        failures.append(f"{path}: {logical}.{prop} is {len(name)} characters for a "
                                        f"{len(STACK_NAME)}-character stack name (at most {limit}): {name}")
                    if pattern and not re.fullmatch(pattern, name):
                        failures.append(f"{path}: {logical}.{prop} {name!r} does not match {pattern}")
    for out, o in doc.get("Outputs", {}).items():
        if "Export" in o:
            for name in render(doc, o["Export"]["Name"]):
                checked += 1
                if len(name) > EXPORT_LIMIT:
                    failures.append(f"{path}: export {out} is {len(name)} characters (at most {EXPORT_LIMIT})")
    return checked


def rule_applies(rule, key, size):
    if rule.get("Status") != "Enabled":
        return False
    prefix = rule.get("Prefix", "")
    if "TagFilters" in rule:
        return False  # an object-tag filter: Logz.io tags nothing (checked by hand if a rule ever has one)
    if not key.startswith(prefix):
        return False
    if "ObjectSizeGreaterThan" in rule and not size > int(rule["ObjectSizeGreaterThan"]):
        return False
    if "ObjectSizeLessThan" in rule and not size < int(rule["ObjectSizeLessThan"]):
        return False
    return True


def check_lifecycle(path, doc, failures):
    checked = 0
    key, size = LOGZIO_VERIFIED
    for logical, res in doc.get("Resources", {}).items():
        if res.get("Type") != "AWS::S3::Bucket":
            continue
        for rule in res.get("Properties", {}).get("LifecycleConfiguration", {}).get("Rules", []):
            checked += 1
            moves = any(k in rule for k in ("Transitions", "Transition", "ExpirationInDays", "ExpirationDate"))
            for tiny in (0, size):
                if moves and rule_applies(rule, key, tiny):
                    failures.append(f"{path}: {logical}'s lifecycle rule {rule.get('Id')} moves or expires "
                                    f"{key} ({tiny} bytes), which Logz.io writes when it checks access")
    return checked


def check_release(path, doc, failures):
    if "Transform" in doc:
        failures.append(f"{path}: the release template has a transform ({doc['Transform']}): StackSets refuse it")
    types = {r["Type"] for r in doc["Resources"].values()}
    if any(t.startswith("AWS::Serverless::") for t in types):
        failures.append(f"{path}: SAM resource types remain: {sorted(t for t in types if 'Serverless' in t)}")
    functions = [r for r in doc["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    if len(functions) != 1 or set(functions[0]["Properties"]["Code"]) != {"S3Bucket", "S3Key"}:
        failures.append(f"{path}: expected one AWS::Lambda::Function with its Code in S3")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("templates", nargs="*")
    ap.add_argument("--release", help="the release's packaged template")
    args = ap.parse_args()
    failures = []
    paths = list(args.templates) + ([args.release] if args.release else [])
    names = rules = 0
    for path in paths:
        doc = load_template(path)
        names += check_names(path, doc, failures)
        rules += check_lifecycle(path, doc, failures)
    if args.release:
        check_release(args.release, load_template(args.release), failures)
    for f in failures:
        print(f"FAIL {f}")
    print(f"templates: {len(paths)} templates, {names} names rendered for a {len(STACK_NAME)}-character stack name, "
          f"{rules} lifecycle rules held against {LOGZIO_VERIFIED[0]}; {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
