"""What TLS costs the server: the same pipelined getData load (4
connections, 100000 requests each, 200 in flight, a 100-byte node) over
the plaintext and the TLS port of one aviary-server, and the server's CPU
time (utime + stime from /proc) per request. The Python client is the
bottleneck, so ops/s say little; server CPU per request is the number.
aviary-bench does not speak TLS. Run: /usr/bin/python3 tests/security/bench_tls_cpu.py
(AVIARY_SERVER as for the tests; docs/PERFORMANCE.md has a result)."""
import os, socket, ssl, struct, sys, tempfile, threading, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'interop')); sys.path.insert(0, HERE)
import conftest, harness

def cpu(pid):
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')

def connect_req():
    body = struct.pack('>iqiq', 0, 0, 10000, 0) + struct.pack('>i', 16) + b'\0' * 16
    return struct.pack('>i', len(body)) + body

def get_req(xid, path=b'/bench'):
    body = struct.pack('>ii', xid, 4) + struct.pack('>i', len(path)) + path + b'\0'
    return struct.pack('>i', len(body)) + body

def recv_frames(s, buf, n):
    got = 0
    while got < n:
        while len(buf) >= 4:
            ln = struct.unpack('>i', buf[:4])[0]
            if len(buf) < 4 + ln: break
            buf = buf[4 + ln:]; got += 1
            if got == n: return buf
        d = s.recv(1 << 20)
        if not d: raise RuntimeError('closed')
        buf += d
    return buf

def worker(mk, reqs, depth):
    s = mk()
    s.sendall(connect_req())
    buf = recv_frames(s, b'', 1)
    sent = 0; done = 0; xid = 1
    while done < reqs:
        batch = []
        while sent - done < depth and sent < reqs:
            batch.append(get_req(xid)); xid += 1; sent += 1
        if batch: s.sendall(b''.join(batch))
        k = sent - done
        buf = recv_frames(s, buf, k); done += k
    s.close()

def run(mk, pid, conns=4, reqs=100000, depth=200):
    c0 = cpu(pid); t0 = time.time()
    ts = [threading.Thread(target=worker, args=(mk, reqs, depth)) for _ in range(conns)]
    [t.start() for t in ts]; [t.join() for t in ts]
    dt = time.time() - t0; dc = cpu(pid) - c0
    n = conns * reqs
    return n / dt, dc / n * 1e6

p = conftest.Pki(tempfile.mkdtemp(prefix='aviary-pki-'))
cfg = p.server_cfg(**{"ssl.clientAuth": "none"})
srv = harness.start_server(extra_cfg=cfg)
try:
    from kazoo.client import KazooClient
    z = KazooClient(hosts=srv.hostport); z.start(); z.create('/bench', b'x' * 100); z.stop()
    pid = srv.pid
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.load_verify_locations(p.ca_pem)
    plain = lambda: socket.create_connection(('127.0.0.1', srv.port))
    tls = lambda: ctx.wrap_socket(socket.create_connection(('127.0.0.1', cfg['secureClientPort'])), server_hostname='localhost')
    for rep in range(3):
        for name, mk in (('plain', plain), ('tls', tls)):
            ops, us = run(mk, pid)
            print('%-5s %8.0f ops/s (client-bound)  server CPU %.2f us/request' % (name, ops, us), flush=True)
finally:
    srv.stop()
