"""`make release VERSION=x.y.z`: the release artifacts under dist/, built twice to prove they are reproducible.

1. The committed tree (`git archive HEAD`, so nothing uncommitted can slip in) is unpacked into two different
   directories, and each is built for Lambda (`cargo lambda build --release --arm64 --locked`, zig as the
   linker), each with its own target directory. Path remapping replaces the build directory, the cargo registry
   and the toolchain's paths with fixed ones, so no build-machine path reaches the binary; the release profile
   strips symbols.
2. Each `bootstrap` is zipped the same way: one entry, fixed timestamp (1980-01-01), fixed mode (0755), fixed
   compression level. The two zips must be bit-identical, or the release fails, printing both SHA-256s.
3. dist/ gets: the zip and its SHA-256, the packaged template (the function's code from the ArtifactBucket and
   ArtifactKey parameters, plain CloudFormation without the SAM transform, so `aws cloudformation deploy` and
   service-managed StackSets need no Rust, no SAM build and no transform; the SAR metadata's
   SourceCodeUrl from the git remote when it is a public URL), the SBOM (cargo-cyclonedx, CycloneDX JSON) and the
   dependency licences (cargo-about), both for the aarch64 target.
4. Checks: the zip holds exactly one file, `bootstrap`, an executable aarch64 ELF; the packaged template passes
   `sam validate --lint` and cfn-lint.

Run from the repository root with the project's .venv (cargo-lambda and zig, SAM CLI, cfn-lint).
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
TARGET = "aarch64-unknown-linux-gnu"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def crate_version():
    return re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)


def template_version(text):
    m = re.search(r"^    SemanticVersion: (\S+)$", text, re.M)
    return m.group(1) if m else None


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build(tree_tar, where, env):
    """Unpacks the committed tree into `where` and builds the arm64 bootstrap there; returns its path."""
    where.mkdir(parents=True)
    run(["tar", "-xf", str(tree_tar), "-C", str(where)])
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    rustup_home = Path(os.environ.get("RUSTUP_HOME", Path.home() / ".rustup"))
    flags = " ".join([
        f"--remap-path-prefix={where}=/build/logzio-role",
        f"--remap-path-prefix={cargo_home}=/cargo",
        f"--remap-path-prefix={rustup_home}=/rustup",
    ])
    env = dict(env, CARGO_TARGET_DIR=str(where / "target"), RUSTFLAGS=flags, CARGO_INCREMENTAL="0")
    env.pop("CARGO_ENCODED_RUSTFLAGS", None)  # it would override RUSTFLAGS
    run(["cargo", "lambda", "build", "--release", "--arm64", "--locked"], cwd=where, env=env)
    return where / "target" / "lambda" / "logzio-role" / "bootstrap"


def zip_bootstrap(bootstrap, out):
    """One entry, fixed time, mode and compression: the same bytes in, the same zip out."""
    info = zipfile.ZipInfo("bootstrap", date_time=ZIP_TIME)
    info.create_system = 3  # Unix, so the mode below is honoured
    info.external_attr = (0o100755 & 0xFFFF) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info, Path(bootstrap).read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def check_zip(path):
    """Exactly one file, `bootstrap`: an executable 64-bit little-endian ELF for aarch64 (e_machine 183)."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names == ["bootstrap"], f"the zip holds {names}, not exactly bootstrap"
        info = z.getinfo("bootstrap")
        assert (info.external_attr >> 16) & 0o111, "bootstrap is not executable"
        head = z.read("bootstrap")[:20]
    assert head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1, "not a 64-bit little-endian ELF"
    machine = int.from_bytes(head[18:20], "little")
    assert machine == 183, f"ELF machine {machine}, not aarch64 (183)"


def source_url():
    """The git remote as a public https URL, if it is one (SAR's SourceCodeUrl)."""
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    except subprocess.CalledProcessError:
        return None
    m = re.match(r"git@github\.com:(.+?)(\.git)?$", url)
    if m:
        return f"https://github.com/{m.group(1)}"
    return url.removesuffix(".git") if url.startswith("https://") else None


def packaged_template(version, zip_name):
    """template.yaml as plain CloudFormation, for `aws cloudformation deploy` and for service-managed StackSets
    (which deploy no template with a transform): no SAM transform, the function an AWS::Lambda::Function whose
    code is in an S3 bucket of the deployer's choosing (two parameters, or one bucket per region for StackSets),
    no build metadata. Every other resource is plain CloudFormation already, and the SAM function's properties
    that template.yaml uses are AWS::Lambda::Function's too (checked below: the text must change exactly so)."""
    text = (ROOT / "template.yaml").read_text()
    replacements = [
        ("Transform: AWS::Serverless-2016-10-31\n", ""),
        ("    Type: AWS::Serverless::Function\n", "    Type: AWS::Lambda::Function\n"),
        ("      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: logzio-role\n", ""),
        ("      CodeUri: .\n",
         "      Code:\n"
         "        S3Bucket: !If [CodeInRegionalBucket, !Sub \"${ArtifactBucket}-${AWS::Region}\", !Ref ArtifactBucket]\n"
         "        S3Key: !Ref ArtifactKey\n"),
        ("\nConditions:\n", "\nConditions:\n  CodeInRegionalBucket: !Equals [!Ref ArtifactBucketPerRegion, \"true\"]\n"),
        ("\nParameters:\n", f"""
Parameters:
  ArtifactBucket:
    Type: String
    MinLength: 3
    Description: >-
      S3 bucket, in the region of this stack, holding the function's code: upload {zip_name} there (its SHA-256
      is in {zip_name}.sha256). With ArtifactBucketPerRegion "true", the name without its region suffix.
  ArtifactBucketPerRegion:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: >-
      "true": the code is read from the bucket <ArtifactBucket>-<this stack's region> (Lambda reads code only
      from a bucket in the function's region; a stack set deploys one template to many regions).
  ArtifactKey:
    Type: String
    Default: logzio-role/{version}/{zip_name}
    Description: Key of {zip_name} in the artifact bucket.
"""),
    ]
    for old, new in replacements:
        if text.count(old) != 1:
            sys.exit(f"template.yaml changed shape: expected {old!r} exactly once")
        text = text.replace(old, new)
    for sam_only in ("AWS::Serverless::", "CodeUri", "BuildMethod", "Globals:"):
        if sam_only in text:
            sys.exit(f"the packaged template still holds {sam_only!r}")
    url = source_url()
    if url:
        text = text.replace(f"    SemanticVersion: {version}\n",
                            f"    SemanticVersion: {version}\n    SourceCodeUrl: {url}\n    HomePageUrl: {url}\n")
    else:
        print("note: no public git remote: the packaged template has no SourceCodeUrl", file=sys.stderr)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", required=True)
    ap.add_argument("--dist", default=str(ROOT / "dist"))
    ap.add_argument("--venv-bin", default=str(ROOT / ".venv/bin"))
    ap.add_argument("--template-only", metavar="OUT",
                    help="write only the packaged template to OUT (no build; make templates lints it)")
    args = ap.parse_args()

    version = crate_version()
    if args.template_only:
        Path(args.template_only).write_text(packaged_template(version, f"logzio-role-{version}-arm64.zip"))
        return
    if args.version != version:
        sys.exit(f"VERSION={args.version}, but Cargo.toml says {version}: bump the crate's version (and "
                 f"template.yaml's SemanticVersion) in a commit first")
    if template_version((ROOT / "template.yaml").read_text()) != version:
        sys.exit(f"template.yaml's SemanticVersion is not the crate's version {version}")
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                      text=True).stdout.strip():
        print("note: uncommitted changes are not in the release (it builds HEAD)", file=sys.stderr)

    # The commit built, fixed now: a commit made while the release builds must not change what it names.
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    env = dict(os.environ)
    env["PATH"] = f"{args.venv_bin}{os.pathsep}{env['PATH']}"  # cargo-lambda finds zig through this python
    env["SOURCE_DATE_EPOCH"] = subprocess.run(["git", "log", "-1", "--format=%ct", commit], cwd=ROOT,
                                              capture_output=True, text=True, check=True).stdout.strip()
    dist = Path(args.dist)
    shutil.rmtree(dist, ignore_errors=True)
    dist.mkdir(parents=True)
    zip_name = f"logzio-role-{version}-arm64.zip"

    with tempfile.TemporaryDirectory(prefix="logzio-role-release-") as tmp:
        tree = Path(tmp) / "tree.tar"
        run(["git", "archive", "--format=tar", "-o", str(tree), commit], cwd=ROOT)
        zips = []
        for name in ("first", "second-build-elsewhere"):
            bootstrap = build(tree, Path(tmp) / name / "src", env)
            out = Path(tmp) / name / zip_name
            zip_bootstrap(bootstrap, out)
            zips.append(out)
            print(f"{name}: bootstrap {sha256(bootstrap)}  zip {sha256(out)}", flush=True)
        a, b = (sha256(z) for z in zips)
        if a != b:
            sys.exit(f"NOT reproducible: the two builds differ ({a} vs {b})")
        print(f"reproducible: both builds give {a}")
        shutil.copy(zips[0], dist / zip_name)

    check_zip(dist / zip_name)
    info = {
        "commit": commit,
        "rustc": subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout,
        "cargo-lambda": subprocess.run(["cargo", "lambda", "--version"], capture_output=True, text=True,
                                       env=env).stdout,
        "zig": subprocess.run([str(Path(args.venv_bin) / "python"), "-m", "ziglang", "version"],
                              capture_output=True, text=True).stdout,
        "SOURCE_DATE_EPOCH": env["SOURCE_DATE_EPOCH"],
    }
    (dist / f"logzio-role-{version}.buildinfo").write_text(
        "".join(f"{k}: {v.strip()}\n" for k, v in info.items()))
    (dist / f"{zip_name}.sha256").write_text(f"{sha256(dist / zip_name)}  {zip_name}\n")
    template = dist / f"logzio-role-{version}.yaml"
    template.write_text(packaged_template(version, zip_name))
    lint_env = dict(env, AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true", SAM_CLI_TELEMETRY="0")
    run(["sam", "validate", "--lint", "-t", str(template)], env=lint_env)
    run(["cfn-lint", str(template)], env=lint_env)
    run(["checkov", "--skip-download", "--quiet", "--compact", "--framework", "cloudformation", "-f", str(template)],
        env=lint_env)
    run([sys.executable, str(ROOT / "tests/templates.py"), "--release", str(template)], env=lint_env)

    # The SBOM and the licences of what the binary is built from (the aarch64 target's dependency graph).
    run(["cargo", "cyclonedx", "--format", "json", "--target", TARGET, "--override-filename",
         f"logzio-role-{version}.cdx"], cwd=ROOT)
    shutil.move(ROOT / f"logzio-role-{version}.cdx.json", dist / f"logzio-role-{version}.cdx.json")
    with open(dist / "THIRD-PARTY-LICENSES.html", "w") as out:
        subprocess.run(["cargo", "about", "generate", "--locked", "--target", TARGET, "-c",
                        str(HERE / "about.toml"), str(HERE / "about.hbs")], cwd=ROOT, stdout=out, check=True)
    for f in sorted(dist.iterdir()):
        print(f"dist/{f.name}  {f.stat().st_size} bytes")
    size = zipfile.ZipFile(dist / zip_name).getinfo("bootstrap").file_size
    print(f"bootstrap (arm64) {size / 2**20:.2f} MB, zip {(dist / zip_name).stat().st_size / 2**20:.2f} MB")


if __name__ == "__main__":
    main()
