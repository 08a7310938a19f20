"""The guard itself: it must notice a lost write and a dead server."""

import pytest

import adv
import rawzk


def test_guard_passes_on_a_quiet_server(server):
    with adv.Guard(server) as g:
        pass
    assert g.rss_after_kb > 0


def test_guard_notices_a_lost_write(server):
    g = adv.Guard(server, writes=3).__enter__()
    c = rawzk.open_session(server.host, server.port)
    assert c.delete(next(iter(g.acked))) == 0
    c.close_session()
    with pytest.raises(AssertionError, match="lost"):
        g.verify()
