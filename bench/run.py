"""`make bench`: the Rust handler against the Python baseline (crhelper + boto3), as Lambda runs them.

Both run as processes polling the same local Lambda Runtime API (tests/lambda_local.py), call IAM over HTTPS
through the same counting proxy in front of moto (bench/iam_proxy.py), and answer the same HTTPS ResponseURL
(local TLS servers with a throwaway CA that both are told to trust), so both pay the TLS handshakes they pay on
AWS. Measured:

- cold init: process start -> first poll of the Runtime API
- cold first Create: process start -> the response PUT arriving
- warm latency per request type: event handed out -> response PUT arriving
- IAM calls per request type, by action, counted at the proxy
- peak RSS (getrusage of the exited process) and CPU time (utime + stime)
- size of the arm64 bootstrap and zip (from `make build`) against the baseline's deployment zip
- Rust only: the cold first Create of a role whose trust comes from Logz.io's API (the token from Secrets Manager,
  the fake Logz.io API of tests/logzio_fake.py), and the calls of a no-op Update of a role with `RoleName`

Figures are medians with min-max over the repeats. Nothing here is asserted: it is a measurement.
"""

import argparse
import datetime
import io
import json
import logging
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import ThreadingHTTPServer
from pathlib import Path

from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from iam_proxy import IamProxy  # noqa: E402
from lambda_local import LocalLambda, load_event  # noqa: E402
from logzio_fake import FakeLogzio  # noqa: E402

# The one definition of a write call, shared with the Rust code (src/iam/calls.rs WRITE_ACTIONS).
WRITES = {line.strip() for line in (ROOT / "tests/iam_write_actions.txt").read_text().splitlines()
          if line.strip() and not line.startswith("#")}


def make_ca(directory):
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (the local ResponseURL's TLS).
    Returns (CA file to trust, server certificate, server key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    life = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=1))

    def build(subject, issuer, public_key, signing_key, extensions):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
             .serial_number(x509.random_serial_number()).not_valid_before(life[0]).not_valid_after(life[1]))
        for ext, critical in extensions:
            b = b.add_extension(ext, critical)
        return b.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "logzio-role bench CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True)])
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)])
    d = Path(directory)
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    # What the Rust handler trusts: the system's root bundle plus the bench CA, so it loads a full root store at
    # start as it does on Lambda (SSL_CERT_FILE replaces, not extends, the system store).
    system = ssl.get_default_verify_paths().openssl_cafile
    bundle = (Path(system).read_bytes() if system and Path(system).exists() else b"") + (d / "ca.pem").read_bytes()
    (d / "bundle.pem").write_bytes(bundle)
    (d / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return str(d / "ca.pem"), str(d / "bundle.pem"), str(d / "cert.pem"), str(d / "key.pem")


class Harness:
    def __init__(self, ca, bundle, cert, key):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        self.ca, self.bundle, self.cert, self.key = ca, bundle, cert, key
        self.proxy = IamProxy(self.moto.get_host_and_port()[1], tls=(cert, key))

    def lambda_api(self):
        """A fresh Runtime API per process (a dead process's pending poll must not swallow the next event),
        with its ResponseURL also served over TLS."""
        lam = LocalLambda()
        tls = ThreadingHTTPServer(("127.0.0.1", 0), lam.handler_class)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        tls.daemon_threads = True
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        lam.https_base = f"https://127.0.0.1:{tls.server_address[1]}"
        return lam

    def env(self, extra_env=None, drop_env=()):
        """The environment a handler gets, as on Lambda, except AWS_LAMBDA_RUNTIME_API."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in drop_env}
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_ENDPOINT_URL_IAM": f"https://127.0.0.1:{self.proxy.port}",
            "AWS_CA_BUNDLE": self.bundle,  # boto3's TLS roots for IAM
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SSL_CERT_FILE": self.bundle,  # the Rust handler's TLS roots: the system's and the bench CA
            "CFN_CA_BUNDLE": self.ca,  # crhelper's ssl_verify
            "RUST_LOG": os.environ.get("BENCH_RUST_LOG", "info"),
        })
        env.update(extra_env or {})
        return env

    def spawn(self, cmd, lam, extra_env=None, drop_env=()):
        env = dict(self.env(extra_env, drop_env), AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{lam.port}")
        start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, start

    def run(self, lam, event):
        sent = time.monotonic()
        self.proxy.take()
        result, answers = lam.invoke(event, response_base=lam.https_base)
        if not answers:
            raise RuntimeError(f"no answer to {event['RequestType']}: {result}")
        body = json.loads(answers[-1]["body"])
        return {"latency": answers[-1]["at"] - sent, "at": answers[-1]["at"], "calls": self.proxy.take(),
                "status": body["Status"], "id": body["PhysicalResourceId"], "reason": body.get("Reason")}


def wait_first_poll(lam, proc, limit_s=30):
    until = time.monotonic() + limit_s
    while not lam.polls:
        if proc.poll() is not None or time.monotonic() > until:
            raise RuntimeError("the handler never polled the Runtime API")
        time.sleep(0.0005)
    return lam.polls[0]


def cpu_seconds(pid):
    """On-CPU time of all the process's threads, in nanoseconds from the scheduler (/proc/*/schedstat): the
    tick-sampled utime/stime are too coarse for events that take a few milliseconds."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


def peak_rss_mb(pid):
    """VmHWM: the peak resident set since exec (getrusage's maxrss would also count the forked parent)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def finish(proc):
    """Peak RSS, then stop the process; returns (peak RSS in MB, rusage)."""
    rss = peak_rss_mb(proc.pid)
    proc.terminate()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -15
    return rss, usage


def events_for(logical, i):
    create = load_event("create.json")
    create["LogicalResourceId"] = logical
    base = dict(create["ResourceProperties"])
    changed = dict(base, ExternalId=f"logzio:aws:extid:rotated{i}", KeyPrefix="logzio/")

    def update(phys, old, new):
        e = load_event("update.json")
        e.update(LogicalResourceId=logical, PhysicalResourceId=phys, OldResourceProperties=old,
                 ResourceProperties=new)
        return e

    def delete(phys, props):
        e = load_event("delete.json")
        e.update(LogicalResourceId=logical, PhysicalResourceId=phys, ResourceProperties=props)
        return e

    return create, base, changed, update, delete


def measure(h, name, cmd, repeats):
    out = {"init": [], "cold": [], "cold_cpu": [], "cold_rss": [], "Create": [], "Update (no-op)": [],
           "Update (changing)": [], "Delete": [], "calls": {}}
    for i in range(repeats):
        lam = h.lambda_api()
        proc, start = h.spawn(cmd, lam)
        out["init"].append(wait_first_poll(lam, proc) - start)
        create, *_ = events_for(f"Cold{i}", i)
        r = h.run(lam, create)
        assert r["status"] == "SUCCESS", r
        out["cold"].append(r["at"] - start)
        out["calls"].setdefault("Create (cold)", r["calls"])
        rss, usage = finish(proc)
        out["cold_cpu"].append(usage.ru_utime + usage.ru_stime)
        out["cold_rss"].append(rss)
        print(f"  {name} cold {i + 1}/{repeats}: init {out['init'][-1] * 1000:.1f} ms, "
              f"first Create {out['cold'][-1] * 1000:.1f} ms", file=sys.stderr)

    lam = h.lambda_api()
    proc, _ = h.spawn(cmd, lam)
    wait_first_poll(lam, proc)
    # One event first so the process is warm (connections, lazy init) before counting CPU.
    warmup, *_ = events_for("Warmup", 0)
    h.run(lam, warmup)
    cpu_before, events = cpu_seconds(proc.pid), 0
    for i in range(repeats):
        create, base, changed, update, delete = events_for(f"Warm{i}", i)
        r = h.run(lam, create)
        phys = r["id"]
        results = [("Create", r),
                   ("Update (no-op)", h.run(lam, update(phys, base, base))),
                   ("Update (changing)", h.run(lam, update(phys, base, changed))),
                   ("Delete", h.run(lam, delete(phys, changed)))]
        for kind, res in results:
            assert res["status"] == "SUCCESS", (kind, res)
            out[kind].append(res["latency"])
            out["calls"].setdefault(kind, res["calls"])
        events += len(results)
    out["warm_cpu"] = (cpu_seconds(proc.pid) - cpu_before) / events
    out["warm_rss"], _ = finish(proc)
    return out


def measure_rust_only(h, binary, repeats):
    """The cold first Create of a role from the Logz.io token (Secrets Manager on moto, the fake Logz.io API), and
    the calls of a no-op Update of a role with RoleName."""
    import boto3
    moto_port = h.moto.get_host_and_port()[1]
    logzio = FakeLogzio(f"http://127.0.0.1:{moto_port}", propagation_s=0)
    logzio.add_account("bench-token")
    secret = boto3.client("secretsmanager", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing").create_secret(
        Name="logzio/bench-token", SecretString="bench-token")["ARN"]
    env = {"LOGZIO_API_URL": logzio.url, "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{moto_port}"}
    out = {"init": [], "cold": [], "calls": {}}
    for i in range(repeats):
        lam = h.lambda_api()
        proc, start = h.spawn([binary], lam, env)
        out["init"].append(wait_first_poll(lam, proc) - start)
        create, *_ = events_for(f"Token{i}", i)
        props = create["ResourceProperties"]
        del props["ExternalId"]
        props["LogzioApiTokenSecretArn"] = secret
        logzio.calls()
        r = h.run(lam, create)
        assert r["status"] == "SUCCESS", r
        out["cold"].append(r["at"] - start)
        out["calls"].setdefault("Create from the token (cold)", (r["calls"], logzio.calls()))
        finish(proc)
    lam = h.lambda_api()
    proc, _ = h.spawn([binary], lam, env)
    wait_first_poll(lam, proc)
    create, base, _, update, _ = events_for("Named", 0)
    create["ResourceProperties"]["RoleName"] = "bench-named-role"
    base = dict(base, RoleName="bench-named-role")
    r = h.run(lam, create)
    noop = h.run(lam, update(r["id"], base, base))
    assert noop["status"] == "SUCCESS", noop
    out["calls"]["Update (no-op, RoleName set)"] = (noop["calls"], [])
    finish(proc)
    logzio.stop()
    return out


# The TLS roots the handler reads at start, in two environments: SSL_CERT_FILE (the system bundle plus the bench
# CA) with the SSL_CERT_DIR of this machine's environment (rustls-native-certs then reads every file of it too),
# and one bundle only, as on provided.al2023 (no SSL_CERT_DIR).
ROOTS_ENVIRONMENTS = [
    ("SSL_CERT_FILE + SSL_CERT_DIR", {"SSL_CERT_DIR": os.environ.get("SSL_CERT_DIR", "/etc/ssl/certs")}, ()),
    ("one bundle (SSL_CERT_FILE only)", {}, ("SSL_CERT_DIR",)),
]


def measure_roots(h, binary, repeats):
    """Cold init and cold first Create of the Rust handler in each ROOTS_ENVIRONMENTS."""
    out = {}
    for name, extra, drop in ROOTS_ENVIRONMENTS:
        got = out[name] = {"init": [], "cold": []}
        for i in range(repeats):
            lam = h.lambda_api()
            proc, start = h.spawn([binary], lam, extra, drop)
            got["init"].append(wait_first_poll(lam, proc) - start)
            create, *_ = events_for(f"Roots{len(out)}x{i}", i)
            r = h.run(lam, create)
            assert r["status"] == "SUCCESS", r
            got["cold"].append(r["at"] - start)
            finish(proc)
        print(f"  rust [{name}]: init {stat(got['init'])}, first Create {stat(got['cold'])}", file=sys.stderr)
    return out


def measure_init_probe(h, binary, bare, repeats):
    """Cold init timed by bench/init_probe.py, a process that does nothing else (see its docstring): the bare
    poll (the floor: a process that only sends its first GET), and the handler in each ROOTS_ENVIRONMENTS. One of
    each in turn, `repeats` times."""
    runs = [{"name": f"logzio-role, {name}", "cmd": [binary], "env": h.env(extra, drop)}
            for name, extra, drop in ROOTS_ENVIRONMENTS]
    if bare and Path(bare).exists():
        runs.insert(0, {"name": "bare poll (the floor)", "cmd": [bare], "env": h.env()})
    spec = json.dumps({"repeats": repeats, "runs": runs})
    got = subprocess.run([sys.executable, str(ROOT / "bench/init_probe.py")], input=spec, capture_output=True,
                         text=True, check=True, timeout=600)
    out = json.loads(got.stdout)
    for name, values in out.items():
        print(f"  probe [{name}]: init {stat(values)}", file=sys.stderr)
    return out


def stat(values, scale=1000.0, unit="ms", digits=1):
    v = [x * scale for x in values]
    return f"{statistics.median(v):.{digits}f} {unit} ({min(v):.{digits}f}–{max(v):.{digits}f})"


def ratio(a, b):
    return f"{a / b:.3f}" if b else "—"


def calls_text(calls):
    writes = sum(n for a, n in calls.items() if a in WRITES)
    total = sum(calls.values())
    detail = ", ".join(f"{a} {n}" if n > 1 else a for a, n in sorted(calls.items()))
    return f"{total} ({writes} writes): {detail}"


def sizes(rust_zip, baseline_python):
    rows = {}
    if Path(rust_zip).exists():
        with zipfile.ZipFile(rust_zip) as z:
            rows["rust_bootstrap"] = sum(i.file_size for i in z.infolist() if i.filename == "bootstrap")
        rows["rust_zip"] = Path(rust_zip).stat().st_size
    pkg = Path(subprocess.run([baseline_python, "-c", "import crhelper, os; print(os.path.dirname(crhelper.__file__))"],
                              capture_output=True, text=True, check=True).stdout.strip())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ROOT / "bench/baseline/handler.py", "handler.py")
        for f in pkg.rglob("*.py"):
            z.write(f, f"crhelper/{f.relative_to(pkg)}")
    rows["python_zip"] = len(buf.getvalue())
    return rows


def main():
    ap = argparse.ArgumentParser(description="Rust handler vs Python crhelper baseline")
    ap.add_argument("--binary", default=str(ROOT / "target/release/logzio-role"))
    ap.add_argument("--zip", default=str(ROOT / "target/lambda/logzio-role/bootstrap.zip"))
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--bare", default=str(ROOT / "target/bench/bare_poll"),
                    help="bench/bare_poll.rs built: the floor of cold init (its row is left out when absent)")
    ap.add_argument("--probe-repeats", type=int, default=30)
    ap.add_argument("--baseline-python", default=sys.executable,
                    help="the Python for the baseline: one with only boto3 and crhelper, as in Lambda")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(*make_ca(tmp))
        # moto builds its IAM backend on the first request: pay that before anything is measured.
        import boto3
        boto3.client("iam", endpoint_url=f"https://127.0.0.1:{h.proxy.port}", region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing", verify=h.bundle).list_roles()
        h.proxy.take()
        rust = measure(h, "rust", [args.binary], args.repeats)
        token = measure_rust_only(h, args.binary, args.repeats)
        roots = measure_roots(h, args.binary, args.repeats)
        probe = measure_init_probe(h, args.binary, args.bare, args.probe_repeats)
        python = measure(h, "python", [args.baseline_python, str(ROOT / "bench/baseline/bootstrap.py")],
                         args.repeats)
        h.moto.stop()

    med = statistics.median
    lines = [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.platform()}; Python {platform.python_version()}; "
        f"{args.repeats} repeats; medians (min–max).",
        "",
        "| measure | Rust (logzio-role) | Python (crhelper + boto3) | Rust / Python |",
        "|---|---|---|---|",
        f"| cold init (start → first poll, timed by the harness) | {stat(rust['init'])} | {stat(python['init'])} | "
        f"{ratio(med(rust['init']), med(python['init']))} |",
        f"| cold first Create (start → answer) | {stat(rust['cold'])} | {stat(python['cold'])} | "
        f"{ratio(med(rust['cold']), med(python['cold']))} |",
        f"| CPU, cold (init + first Create) | {stat(rust['cold_cpu'])} | {stat(python['cold_cpu'])} | "
        f"{ratio(med(rust['cold_cpu']), med(python['cold_cpu']))} |",
        f"| CPU per warm event (mean of {4 * args.repeats}) | {rust['warm_cpu'] * 1000:.2f} ms | "
        f"{python['warm_cpu'] * 1000:.2f} ms | {ratio(rust['warm_cpu'], python['warm_cpu'])} |",
        f"| peak RSS, cold | {stat(rust['cold_rss'], 1, 'MB')} | {stat(python['cold_rss'], 1, 'MB')} | "
        f"{ratio(med(rust['cold_rss']), med(python['cold_rss']))} |",
        f"| peak RSS after {4 * args.repeats + 1} events | {rust['warm_rss']:.1f} MB | {python['warm_rss']:.1f} MB | "
        f"{ratio(rust['warm_rss'], python['warm_rss'])} |",
    ]
    for kind in ["Create", "Update (no-op)", "Update (changing)", "Delete"]:
        lines.append(f"| warm {kind} | {stat(rust[kind])} | {stat(python[kind])} | "
                     f"{ratio(med(rust[kind]), med(python[kind]))} |")
    s = sizes(args.zip, args.baseline_python)
    mb = 1024 * 1024
    if "rust_zip" in s:
        lines.append(f"| deployment zip | {s['rust_zip'] / mb:.2f} MB (bootstrap {s['rust_bootstrap'] / mb:.2f} MB, "
                     f"arm64) | {s['python_zip'] / 1024:.0f} KB (+ boto3 from the runtime) | — |")
    else:
        lines.append("| deployment zip | run `make build` first | — | — |")
    lines += ["", "IAM calls per request type, counted at the proxy:", "",
              "| request | Rust | Python |", "|---|---|---|"]
    for kind in ["Create (cold)", "Create", "Update (no-op)", "Update (changing)", "Delete"]:
        lines.append(f"| {kind} | {calls_text(rust['calls'][kind])} | {calls_text(python['calls'][kind])} |")
    lines += ["", "Rust only:", "",
              "| measure | Rust (logzio-role) |", "|---|---|",
              f"| cold init, with the Logz.io and Secrets Manager settings | {stat(token['init'])} |",
              f"| cold first Create of a role from the Logz.io token (start → answer) | {stat(token['cold'])} |"]
    for kind, (iam, lz) in token["calls"].items():
        other = f"; Logz.io: {', '.join(f'{m} {p}' for m, p, _ in lz)}" if lz else ""
        lines.append(f"| calls: {kind} | IAM {calls_text(iam)}{other} |")
    lines += ["", "Rust, by the TLS roots the environment gives (timed by the harness):", "",
              "| environment | cold init (start → first poll) | cold first Create (start → answer) |", "|---|---|---|"]
    for name, got in roots.items():
        lines.append(f"| {name} | {stat(got['init'])} | {stat(got['cold'])} |")
    lines += ["", f"Cold init timed by bench/init_probe.py, a process of its own ({args.probe_repeats} colds each, "
              "interleaved):", "", "| process | cold init (start → first poll) | above the floor |", "|---|---|---|"]
    floor = probe.get("bare poll (the floor)")
    for name, values in probe.items():
        above = f"{(med(values) - med(floor)) * 1000:.1f} ms" if floor else "—"
        lines.append(f"| {name} | {stat(values)} | {above} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
