"""Creates an ephemeral node in a session with a short timeout, prints the
session id, then waits to be killed: the server expires the session."""
import sys
import time

from kazoo.client import KazooClient

zk = KazooClient(hosts=sys.argv[1], timeout=1.0)
zk.start(timeout=20)
zk.create(sys.argv[2], b"", ephemeral=True)
print(hex(zk.client_id[0]), flush=True)
time.sleep(600)
