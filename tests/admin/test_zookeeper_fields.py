"""The JSON of each command compared with Apache ZooKeeper 3.8's own
AdminServer (Jetty, from the Debian jars) on the same kind of state: the
same field names, each of the same JSON type, recursively (list elements by
their first element). Where Aviary has no counterpart the difference is
listed here, with the reason."""

from kazoo.client import KazooClient

from http_admin import command

# Commands compared field by field. (snapshot/restore are 3.9 commands:
# 3.8 has neither.)
COMPARED = ["connection_stat_reset", "configuration", "connections", "dirs", "dump", "environment",
            "get_trace_mask", "hash", "initial_configuration", "is_read_only", "last_snapshot", "leader",
            "observer_connection_stat_reset", "ruok", "server_stats", "stats", "stat_reset", "voting_view",
            "watch_summary", "watches", "watches_by_path", "zabstate"]

# environment: the JVM's keys (java.*) have no meaning in a C++ server (Aviary
# prints them as envi does, with placeholder values); the rest must match.
ENV_SKIPPED_PREFIX = "java."


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    return type(v).__name__


def shape(v, path=""):
    """{path: kind} for every field, recursively."""
    out = {path: kind(v)}
    if isinstance(v, dict):
        for k, x in v.items():
            # maps keyed by ids or paths: compare one value's shape under "*"
            key = "*" if (k.isdigit() or k.startswith("/")) else k
            out.update(shape(x, path + "." + key))
    elif isinstance(v, list) and v:
        out.update(shape(v[0], path + "[]"))
    return out


def state(hostport):
    zk = KazooClient(hosts=hostport, timeout=10.0)
    zk.start(timeout=30)
    zk.create("/cmp", b"x")
    zk.create("/cmp/e", b"y", ephemeral=True)
    zk.get("/cmp", watch=lambda e: None)
    return zk


def test_fields_and_types_match_zookeeper(aviary_shared, zookeeper):
    clients = [state(aviary_shared.hostport), state(zookeeper.hostport)]
    try:
        for name in COMPARED:
            s_a, a = command(aviary_shared.admin_port, name)
            s_z, z = command(zookeeper.admin_port, name)
            assert s_a == s_z == 200, name
            if name == "environment":
                z = {k: v for k, v in z.items() if not k.startswith(ENV_SKIPPED_PREFIX)}
                a = {k: v for k, v in a.items() if not k.startswith(ENV_SKIPPED_PREFIX)}
            assert shape(a) == shape(z), (name, a, z)
    finally:
        for zk in clients:
            zk.stop()
            zk.close()


def test_monitor_types_match_zookeeper(aviary_shared, zookeeper):
    """monitor: every key Aviary shows that ZooKeeper also shows has the same
    JSON type; Aviary's key set is mntr's (test_commands), a subset of
    ZooKeeper 3.8's metrics plus Aviary's own."""
    _, a = command(aviary_shared.admin_port, "monitor")
    _, z = command(zookeeper.admin_port, "monitor")
    common = set(a) & set(z)
    assert {"server_state", "znode_count", "avg_latency", "packets_received", "watch_count",
            "num_alive_connections", "open_file_descriptor_count"} <= common
    for k in common:
        if k == "version":
            continue
        assert kind(a[k]) == kind(z[k]) or {kind(a[k]), kind(z[k])} <= {"int", "float"} and k.startswith("avg_"), \
            (k, a[k], z[k])
