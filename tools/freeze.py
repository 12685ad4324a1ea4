#!/usr/bin/env python3
"""Issue 19's "never freeze" scenarios, for `make bench` (tools/bench, section freeze).

    python3 tools/freeze.py SCENARIO [--forkhttpd PATH] [--rounds N] [--server-cpu N]

SCENARIO is one of:

  idle       K (2, then 6) kept-alive connections, one request each, then idle; a new
             client's GET, timed from connect to the last byte (target < 50 ms), against
             `forkhttpd -q -w 2` and fork mode (`forkhttpd -q`).
  thousand   1,000 kept-alive connections against `forkhttpd -q -w 4 --max-children 1100`,
             one request each (count the 200s), then idle: the parent's VmRSS, the server's
             processes while they are open; then all closed: seconds until the server is
             back to 4 workers + parent (polled every 0.5 s up to 30 s; target <= 15 s).
  slowloris  220 connections each sending a request head a line a second, never ending
             it; after 2 s a new client's GET (target < 100 ms), against
             `forkhttpd -q -c 200 --timeout 30` and `forkhttpd -q -w 2 --max-children 200
             --timeout 30`.

Each scenario prints a Markdown section (its table, one line per server and setting, then
the commands). Every server is started here, on a free port of 127.0.0.1, pinned with
`taskset -c SERVER_CPU`, in a session of its own, and stopped (SIGTERM, then SIGKILL to its
process group and every descendant) in a `finally`, after Ctrl-C or SIGTERM too. Every wait
is capped: a new client's GET gives up after --cap seconds (20) and reports ">20 s".
Python 3 standard library only.
"""
import argparse
import os
import random
import resource
import selectors
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
PIDFILE = None  # --pidfile: each server's pid, for tools/bench's own clean-up


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --- Servers ---------------------------------------------------------------------------
def free_port():
    """A port below the ephemeral range nobody listens on (as tools/bench's free_port)."""
    while True:
        port = random.randint(20000, 31999)
        s = socket.socket()
        try:
            s.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            s.close()


def listening(port):
    """True when a socket of this network namespace listens on port (/proc/net/tcp)."""
    want = ":%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def proc_table():
    """{pid: ppid} of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                rest = f.read().rsplit(")", 1)[1].split()
            table[int(name)] = int(rest[1])
        except (OSError, IndexError, ValueError):
            pass
    return table


def tree(root):
    """root and its live descendants (zombies included: they are still in /proc)."""
    table = proc_table()
    if root not in table:
        return []
    found, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(found)


def vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class StartError(Exception):
    pass


class Server:
    """forkhttpd ARGS on a free port, pinned to a core, in a session of its own."""

    def __init__(self, forkhttpd, args, cpu):
        self.forkhttpd, self.args, self.cpu = forkhttpd, list(args), cpu
        self.proc = None

    def command(self, port="PORT"):
        return ["taskset", "-c", str(self.cpu), self.forkhttpd, "-p", str(port), "-b", HOST] + self.args

    def shown(self):
        return " ".join(shlex.quote(a) for a in self.command())

    def start(self):
        self.port = free_port()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.command(self.port), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     start_new_session=True)
        if PIDFILE:
            with open(PIDFILE, "a") as f:
                f.write("%d\n" % self.proc.pid)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if listening(self.port):
                return self
            time.sleep(0.02)
        why = self.stderr() or "no listening socket after 5 s"
        self.stop()
        raise StartError(why)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace").strip().replace("\n", " ")[:200]

    def stop(self):
        if self.proc is None:
            return
        pids = tree(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the tree (a child still reading a slow head, a worker):
        # SIGKILL, by process group and by pid.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        for pid in pids + tree(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- HTTP, just enough -----------------------------------------------------------------
class Response:
    """Feeds on a response's bytes; done once the head and Content-Length bytes are in."""

    def __init__(self):
        self.buf = b""
        self.status = None
        self.length = None
        self.done = False

    def feed(self, data):
        self.buf += data
        if self.status is None and b"\r\n\r\n" in self.buf:
            head, _, _ = self.buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            try:
                self.status = int(lines[0].split()[1])
            except (IndexError, ValueError):
                self.status = -1
            self.head_len = len(head) + 4
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.length = int(value.strip())
        if self.status is not None and self.length is not None:
            self.done = len(self.buf) >= self.head_len + self.length
        return self.done


def request(path, close=False):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, HOST, "Connection: close\r\n" if close else "")).encode()


def timed_get(port, cap, path="/hello"):
    """A new client's GET, from before connect to its last byte: (ms or None, status text)."""
    t0 = time.monotonic()
    deadline = t0 + cap
    s = socket.socket()
    resp = Response()
    try:
        s.settimeout(cap)
        s.connect((HOST, port))
        s.sendall(request(path, close=True))
        while not resp.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            s.settimeout(left)
            data = s.recv(65536)
            if not data:
                break
            resp.feed(data)
        ms = (time.monotonic() - t0) * 1000
        if resp.done or (resp.status is not None and resp.length is None):
            return ms, str(resp.status)
        return None, "closed after %d bytes, %.0f ms" % (len(resp.buf), ms)
    except socket.timeout:
        return None, "no answer within %g s" % cap
    except OSError as e:
        return None, "%s after %.0f ms" % (e.strerror or e, (time.monotonic() - t0) * 1000)
    finally:
        s.close()


def keepalive_conns(port, n, wait, path="/hello"):
    """n connections, one keep-alive request each, answers awaited up to `wait` s.
    Returns (sockets, statuses by connection (None: no complete answer), seconds taken)."""
    sel = selectors.DefaultSelector()
    socks, resps = [], []
    t0 = time.monotonic()
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex((HOST, port))
        socks.append(s)
        resps.append(Response())
        if err in (0, 115):  # EINPROGRESS
            sel.register(s, selectors.EVENT_WRITE, i)
        else:
            resps[i].status = "connect: %s" % os.strerror(err)
    pending = len(sel.get_map())
    deadline = t0 + wait
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, ev in sel.select(min(left, 0.5)):
            s, i = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    resps[i].status = "connect: %s" % os.strerror(err)
                    sel.unregister(s)
                    pending -= 1
                    continue
                try:
                    s.send(request(path))  # a few dozen bytes: one send
                except OSError:
                    sel.unregister(s)
                    pending -= 1
                    continue
                sel.modify(s, selectors.EVENT_READ, i)
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data or resps[i].feed(data):
                sel.unregister(s)
                pending -= 1
    sel.close()
    took = time.monotonic() - t0
    statuses = [r.status if r.done else None for r in resps]
    return socks, statuses, took


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# --- Output ----------------------------------------------------------------------------
def fmt_ms(ms, cap):
    """ms with 2 decimals, or ">20 s" for a run that gave up."""
    return ">%g s" % cap if ms is None else "%.2f" % ms


def median_ms(values):
    """Median of the runs, a run that gave up counting as the longest."""
    inf = float("inf")
    m = statistics.median_low([inf if v is None else v for v in values])
    return None if m == inf else m


def verdict(ms, bound):
    return "met" if ms is not None and ms < bound else "not met"


def say(line=""):
    print(line, flush=True)


def me(args, scenario):
    return "python3 tools/freeze.py %s --forkhttpd %s --rounds %d --server-cpu %d --cap %g" % (
        scenario, args.forkhttpd, args.rounds, args.server_cpu, args.cap)


# --- Scenarios -------------------------------------------------------------------------
def scenario_idle(args):
    servers = [("forkhttpd -q -w 2", ["-q", "-w", "2"]), ("forkhttpd -q (fork mode)", ["-q"])]
    rows = [(label, sargs, k) for label, sargs in servers for k in (2, 6)]
    runs = {i: [] for i in range(len(rows))}
    for rnd in range(args.rounds):
        for i, (label, sargs, k) in enumerate(rows):
            srv = Server(args.forkhttpd, sargs, args.server_cpu)
            socks = []
            try:
                srv.start()
                socks, statuses, _ = keepalive_conns(srv.port, k, args.answer_wait)
                answered = sum(1 for s in statuses if s == 200)
                ms, status = timed_get(srv.port, args.cap)
                runs[i].append((ms, status, answered))
            except StartError as e:
                runs[i].append((None, "server did not start: %s" % e, 0))
            finally:
                close_all(socks)
                srv.stop()
            log("freeze idle: %s K=%d run %d: %s (%s)" % (label, k, rnd + 1, fmt_ms(runs[i][-1][0], args.cap), runs[i][-1][1]))
    say("| server | K idle | idle answered (200 within %g s) | new client's GET, ms (connect to last byte) | status | target < 50 ms | runs (ms) |" % args.answer_wait)
    say("| --- | ---: | ---: | ---: | --- | --- | ---: |")
    for i, (label, sargs, k) in enumerate(rows):
        med = median_ms([r[0] for r in runs[i]])
        pick = next(r for r in runs[i] if r[0] == med) if med is not None else runs[i][0]
        say("| %s | %d | %d/%d | %s | %s | %s | %s |" % (
            label, k, pick[2], k, fmt_ms(med, args.cap), pick[1], verdict(med, 50),
            " / ".join(fmt_ms(r[0], args.cap) for r in runs[i])))
    say()
    for label, sargs in servers:
        say("- %s: `%s`" % (label, Server(args.forkhttpd, sargs, args.server_cpu).shown()))
    say("- client: `%s` (K connections each send `GET /hello` and read the answer, then stay open; "
        "then the timed `GET /hello` with `Connection: close`; median of %d runs, fresh server each, rows interleaved)" % (me(args, "idle"), args.rounds))


def scenario_thousand(args):
    n, workers, cap_children = args.conns, 4, 1100
    sargs = ["-q", "-w", str(workers), "--max-children", str(cap_children)]
    need = 2 * n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:  # the client's, and the server's (it inherits it)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    srv = Server(args.forkhttpd, sargs, args.server_cpu)
    notes = []
    try:
        srv.start()
    except StartError as e:
        notes.append("`%s` refused to start: %s; ran with `--max-children 1024` instead" % (srv.shown(), e))
        sargs = ["-q", "-w", str(workers), "--max-children", "1024"]
        srv = Server(args.forkhttpd, sargs, args.server_cpu)
        srv.start()
    socks = []
    try:
        parent = srv.proc.pid
        rss0 = vmrss(parent)
        socks, statuses, took = keepalive_conns(srv.port, n, args.cap)
        ok = sum(1 for s in statuses if s == 200)
        other = sum(1 for s in statuses if s not in (200, None))
        procs_open = len(tree(parent))
        rss1 = vmrss(parent)
        close_all(socks)
        socks = []
        t0 = time.monotonic()
        back = None
        while time.monotonic() - t0 <= 30:
            count = len(tree(parent))
            if count == workers + 1:
                back = time.monotonic() - t0
                break
            time.sleep(0.5)
        procs_after = len(tree(parent))
        rss2 = vmrss(parent)
    finally:
        close_all(socks)
        srv.stop()
    answered = ("all in %.1f s" % took) if ok + other == n else "%d without a complete answer after %g s" % (n - ok - other, args.cap)
    say("| server | answered 200 (target %d/%d) | answers | server processes while open | parent VmRSS before → open → closed | back to %d workers + parent after (target ≤ 15 s) |" % (n, n, workers))
    say("| --- | ---: | --- | ---: | --- | --- |")
    say("| %s | %d/%d%s (%s) | %s | %d | %s → %s → %s kB | %s |" % (
        "forkhttpd " + " ".join(sargs), ok, n, (" (%d other statuses)" % other) if other else "", "met" if ok == n else "not met", answered, procs_open,
        rss0, rss1, rss2,
        ("%.1f s (%s)" % (back, "met" if back <= 15 else "not met")) if back is not None else ">30 s (%d processes still; not met)" % procs_after))
    say()
    say("- server: `%s`" % Server(args.forkhttpd, sargs, args.server_cpu).shown())
    for note in notes:
        say("- %s" % note)
    say("- client: `%s` (RLIMIT_NOFILE %d for the client and the server, raised when below %d; %d connections open at once, each sends `GET /hello`, "
        "answers awaited up to %g s, then all stay open idle; processes: the server's parent and descendants in /proc; "
        "then every client closes, /proc polled every 0.5 s up to 30 s)" % (
            me(args, "thousand"), resource.getrlimit(resource.RLIMIT_NOFILE)[0], need, n, args.cap))


class Slowloris:
    """n connections, each sending `GET /hello HTTP/1.1`, then a header line a second."""

    def __init__(self, port, n):
        self.port, self.n = port, n
        self.socks, self.closed = [], set()
        self.stop_event = threading.Event()
        self.thread = None

    def start(self):
        for i in range(self.n):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((HOST, self.port))
                s.setblocking(False)
                s.send(b"GET /hello HTTP/1.1\r\n")
            except OSError:
                self.closed.add(i)
            self.socks.append(s)
        self.thread = threading.Thread(target=self.drip, daemon=True)
        self.thread.start()

    def check(self):
        for i, s in enumerate(self.socks):
            if i in self.closed:
                continue
            try:
                if s.recv(4096, socket.MSG_PEEK | socket.MSG_DONTWAIT) is not None:
                    self.closed.add(i)  # an answer (408?) or EOF: the server is done with it
            except BlockingIOError:
                pass
            except OSError:
                self.closed.add(i)

    def drip(self):
        line = 0
        while not self.stop_event.wait(1):
            line += 1
            for i, s in enumerate(self.socks):
                if i in self.closed:
                    continue
                try:
                    s.send(b"X-Slow-%d: %d\r\n" % (line, line))
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed.add(i)

    def open_count(self):
        self.check()
        return self.n - len(self.closed)

    def stop(self):
        self.stop_event.set()
        if self.thread:
            self.thread.join(3)
        close_all(self.socks)


def scenario_slowloris(args):
    n = args.conns
    need = n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    servers = [("forkhttpd -q -c 200 --timeout 30 (fork mode)", ["-q", "-c", "200", "--timeout", "30"]),
               ("forkhttpd -q -w 2 --max-children 200 --timeout 30", ["-q", "-w", "2", "--max-children", "200", "--timeout", "30"])]
    runs = {i: [] for i in range(len(servers))}
    for rnd in range(args.rounds):
        for i, (label, sargs) in enumerate(servers):
            srv = Server(args.forkhttpd, sargs, args.server_cpu)
            slow = None
            try:
                srv.start()
                slow = Slowloris(srv.port, n)
                slow.start()
                time.sleep(2)
                still = slow.open_count()
                procs = len(tree(srv.proc.pid))
                ms, status = timed_get(srv.port, args.cap)
                runs[i].append((ms, status, still, procs))
            except StartError as e:
                runs[i].append((None, "server did not start: %s" % e, 0, 0))
            finally:
                if slow:
                    slow.stop()
                srv.stop()
            log("freeze slowloris: %s run %d: %s (%s)" % (label, rnd + 1, fmt_ms(runs[i][-1][0], args.cap), runs[i][-1][1]))
    say("| server | slow heads still open at the GET | server processes then | new client's GET, ms (connect to last byte) | status | target < 100 ms | runs (ms) |")
    say("| --- | ---: | ---: | ---: | --- | --- | ---: |")
    for i, (label, sargs) in enumerate(servers):
        med = median_ms([r[0] for r in runs[i]])
        pick = next(r for r in runs[i] if r[0] == med) if med is not None else runs[i][0]
        say("| %s | %d/%d | %d | %s | %s | %s | %s |" % (
            label, pick[2], n, pick[3], fmt_ms(med, args.cap), pick[1], verdict(med, 100),
            " / ".join(fmt_ms(r[0], args.cap) for r in runs[i])))
    say()
    for label, sargs in servers:
        say("- %s: `%s`" % (label, Server(args.forkhttpd, sargs, args.server_cpu).shown()))
    say("- client: `%s` (%d connections each send `GET /hello HTTP/1.1`, then `X-Slow-N: N` a line a second, never the blank line; "
        "2 s later the timed `GET /hello`; still open: neither answered nor closed by the server; median of %d runs, fresh server each, rows interleaved)" % (
            me(args, "slowloris"), n, args.rounds))


def main():
    global PIDFILE
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=["idle", "thousand", "slowloris"])
    p.add_argument("--forkhttpd", default="target/release/forkhttpd")
    p.add_argument("--rounds", type=int, default=3, help="runs of each row (idle, slowloris)")
    p.add_argument("--server-cpu", type=int, default=1)
    p.add_argument("--cap", type=float, default=20, help="seconds a new client's GET (or the 1,000 answers) may take")
    p.add_argument("--answer-wait", type=float, default=3, help="idle: seconds the K answers may take")
    p.add_argument("--conns", type=int, help="thousand: 1000; slowloris: 220")
    p.add_argument("--pidfile", help="append each server's pid here")
    args = p.parse_args()
    if args.conns is None:
        args.conns = {"thousand": 1000, "slowloris": 220}.get(args.scenario, 0)
    PIDFILE = args.pidfile
    # SIGTERM as Ctrl-C: the finally clauses stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    {"idle": scenario_idle, "thousand": scenario_thousand, "slowloris": scenario_slowloris}[args.scenario](args)


if __name__ == "__main__":
    main()
