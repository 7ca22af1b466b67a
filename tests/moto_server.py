"""Runs moto's IAM emulator on 127.0.0.1 on a free port for the tests.

Prints the port on stdout, then serves until its stdin closes (the test process exited), so no server is left
behind however the tests end.
"""
import logging
import sys

from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
