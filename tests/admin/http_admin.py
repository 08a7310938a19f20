"""A tiny HTTP client for the AdminServer tests (urllib, bounded timeouts)."""

import json
import urllib.error
import urllib.request


def request(port, path, method="GET", body=None, headers=None, timeout=20.0):
    """(status, headers dict (lower-case names), body bytes)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def command(port, name, **kw):
    """(status, parsed JSON) of /commands/<name>."""
    status, _, body = request(port, "/commands/" + name, **kw)
    return status, json.loads(body)
