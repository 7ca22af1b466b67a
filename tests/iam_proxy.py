"""An HTTP(S) proxy in front of moto's IAM that sees every call by its action name (from the request, not from
the code under test) and can inject the faults real IAM produces: error answers (throttling, 5xx, AccessDenied,
...), a connection reset before or after the call reached IAM, a call that never returns, a slow call that
reaches IAM late (whether or not the caller still waits), and someone else's change to IAM just before a call
(a role deleted mid-Update, a name taken by another role).

Used by the fault tier (tests/faults.py) and the benchmark (bench/run.py), which counts calls."""

import collections
import http.client
import socket
import ssl
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def error_xml(code, message):
    """An IAM error body, as IAM's query protocol sends it."""
    kind = "Receiver" if code in ("ServiceFailure", "ServiceUnavailable", "InternalFailure") else "Sender"
    return (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()


class IamProxy:
    def __init__(self, upstream_port, tls=None):
        """`tls`: (certificate file, key file) to serve HTTPS, as IAM does."""
        self.counts = collections.Counter()
        self.calls = []  # [action, fault or 'forwarded', IAM's status] in order, since the last take()
        self.rules = []  # [action, remaining, fault], first match wins
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.landed = threading.Condition(self.lock)  # notified when a delayed call has reached IAM
        self.landed_at = {}  # action -> monotonic time its last delayed call reached IAM
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as with real IAM

            def log_message(self, *args):
                pass

            def reset(self):
                """Closes the connection with a TCP RST: what a dropped connection looks like to the client."""
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def reply(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def forward(self, body):
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                return resp.status, resp.getheaders(), data

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]
                fault = outer._take_fault(action)
                kind = fault[0] if fault else "forwarded"
                with outer.lock:
                    outer.counts[action] += 1
                    call = [action, kind, None]  # the status IAM answered, when it did
                    outer.calls.append(call)
                if kind == "error":
                    _, status, code, message = fault
                    self.reply(status, [("Content-Type", "text/xml")], error_xml(code, message))
                elif kind == "reset":
                    self.reset()
                elif kind == "reset_after":
                    call[2] = self.forward(body)[0]
                    self.reset()
                elif kind == "hang":
                    outer.released.wait(300)
                    self.reset()
                elif kind == "delay":  # IAM is slow: the call lands late, whether or not anyone still waits
                    outer.released.wait(fault[1])
                    response = self.forward(body)
                    with outer.lock:
                        call[2] = response[0]
                        outer.landed_at[action] = time.monotonic()
                        outer.landed.notify_all()
                    try:
                        self.reply(*response)
                    except OSError:  # the caller gave up and closed the connection
                        self.close_connection = True
                else:
                    if kind == "before":
                        fault[1]()
                    response = self.forward(body)
                    call[2] = response[0]
                    self.reply(*response)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fault(self, action, *fault, times=1):
        """The next `times` calls of `action` get `fault`:
        ("error", status, code, message) | ("reset",) | ("reset_after",) | ("hang",) | ("delay", seconds)
        | ("before", callable)."""
        with self.lock:
            self.rules.append([action, times, fault])

    def _take_fault(self, action):
        with self.lock:
            for rule in self.rules:
                if rule[0] == action and rule[1] > 0:
                    rule[1] -= 1
                    return rule[2]
        return None

    def wait_landed(self, action, timeout):
        """Waits until a delayed call of `action` has reached IAM; True if it did."""
        with self.landed:
            return self.landed.wait_for(lambda: action in self.landed_at, timeout)

    def clear(self):
        """Drops the faults not yet used; calls hung so far return (as a reset)."""
        with self.lock:
            self.rules.clear()
            self.landed_at.clear()
        self.released.set()
        self.released = threading.Event()

    def take(self):
        """The counts since the last take, and reset."""
        with self.lock:
            counts = dict(self.counts)
            self.counts.clear()
            self.calls.clear()
        return counts

    def take_calls(self):
        """The calls since the last take, in order, as (action, fault or 'forwarded', IAM's status), and reset."""
        with self.lock:
            calls = [tuple(c) for c in self.calls]
            self.calls.clear()
            self.counts.clear()
        return calls

    def stop(self):
        self.clear()
        self.server.shutdown()
