"""The admin.* keys: a busy port does not stop the server (ZooKeeper logs
and runs without its AdminServer), admin.enableServer=false binds nothing,
admin.commandURL moves the commands and 3.9's switches answer 503 (HTTPS:
test_https.py)."""

import socket

import conftest
import harness
from http_admin import request


def test_busy_port_does_not_stop_the_server():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        srv = harness.start_server(extra_cfg=conftest.admin_cfg(port))
        try:
            assert srv.four_letter("ruok").strip() == "imok"
            assert "without its AdminServer" in srv.log_tail()
        finally:
            srv.stop()


def test_disabled_binds_nothing():
    port = conftest.free_port()
    srv = harness.start_server(extra_cfg=conftest.admin_cfg(port, **{"admin.enableServer": "false"}))
    try:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        srv.stop()


def test_command_url_and_switches():
    srv = conftest.start_aviary(**{"admin.commandURL": "/zk", "admin.snapshot.enabled": "false",
                                   "admin.restore.enabled": "false"})
    try:
        status, _, _ = request(srv.admin_port, "/commands/ruok")
        assert status == 404  # /commands is not served any more
        status, _, body = request(srv.admin_port, "/zk/ruok")
        assert status == 200 and b'"command": "ruok"' in body
        status, _, body = request(srv.admin_port, "/zk/snapshot", headers={"Authorization": "digest super:secret"})
        assert status == 503 and b'"error": null' in body
        status, _, body = request(srv.admin_port, "/zk/restore", method="POST", body=b"x",
                                  headers={"Authorization": "digest super:secret"})
        assert status == 503
    finally:
        srv.stop()
