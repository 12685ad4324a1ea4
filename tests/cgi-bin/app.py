#!/usr/bin/env python3
"""The WSGI application tests/cgi.rs serves through webserver3h, as a CGI program
(wsgiref.handlers.CGIHandler). One route per behaviour under test, by PATH_INFO."""
import os

# The descriptors this program started with, before Python or the app opens any:
# a CGI program must get exactly 0, 1 and 2 (RFC 3875 §4; nothing of the server's).
def _open_fds():
    found = []
    for fd in range(1024):
        try:
            os.fstat(fd)
        except OSError:
            continue
        try:
            found.append(f'{fd}={os.readlink(f"/proc/self/fd/{fd}")}')
        except OSError:
            found.append(f'{fd}=?')
    return found


STARTED_WITH = _open_fds()

import signal
import sys
import time
from wsgiref.handlers import CGIHandler


def text(start_response, body, status='200 OK', headers=()):
    start_response(status, [('Content-Type', 'text/plain')] + list(headers))
    return [body.encode()]


def note_pid(environ):
    """Writes this process's pid where the test said (?pidfile=PATH), for it to watch."""
    for part in environ.get('QUERY_STRING', '').split('&'):
        if part.startswith('pidfile='):
            with open(part[len('pidfile='):], 'w') as f:
                f.write(str(os.getpid()))


def app(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path == '/hello':
        return text(start_response, 'Hello world from a simple WSGI application!\n')
    if path.startswith('/env'):
        lines = [f'{k}={v}' for k, v in sorted(os.environ.items())]
        lines += [f'CWD={os.getcwd()}', f'ARGV={sys.argv[1:]}']
        return text(start_response, '\n'.join(lines) + '\n')
    if path == '/fds':
        return text(start_response, '\n'.join(STARTED_WITH) + '\n')
    if path == '/self':
        # How a program finds itself and the files beside it (a Flask app's root_path,
        # its templates): argv[0], __file__, and a file read from __file__'s directory.
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, 'beside.txt')) as f:
            beside = f.read().strip()
        lines = [f'ARGV0={sys.argv[0]}', f'FILE={__file__}', f'HERE={here}', f'BESIDE={beside}']
        return text(start_response, '\n'.join(lines) + '\n')
    if path == '/daemon':
        # The classic double fork: the grandchild leaves the script's session and process
        # group (setsid), writes its pid (?pidfile=PATH) and lives on for a minute.
        first = os.fork()
        if first == 0:
            os.setsid()
            if os.fork() == 0:
                note_pid(environ)
                time.sleep(60)
            os._exit(0)
        os.waitpid(first, 0)
        pidfile = environ.get('QUERY_STRING', '').split('&')[0][len('pidfile='):]
        while not os.path.exists(pidfile):
            time.sleep(0.01)
        if environ.get('QUERY_STRING', '').endswith('&hang'):
            time.sleep(60)
        return text(start_response, 'daemon started\n')
    if path == '/echo':
        data = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return [data]
    if path == '/redirect':
        start_response('301 Moved Permanently', [('Location', 'http://example.com/elsewhere')])
        return [b'']
    if path == '/teapot':
        return text(start_response, 'short and stout\n', "418 I'm a teapot")
    if path == '/cookies':
        return text(start_response, 'two cookies\n', headers=[('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2; Path=/')])
    if path == '/big':
        # 5 MiB (or ?mib=N) in pieces of 64 KiB, no Content-Length: the close ends the body.
        query = environ.get('QUERY_STRING', '')
        mib = int(query[len('mib='):]) if query.startswith('mib=') else 5
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return (bytes(range(256)) * 256 for _ in range(16 * mib))
    if path == '/sleep':
        time.sleep(1)  # the article's slow request
        return text(start_response, f'{os.getpid()}\n')
    if path == '/crash':
        os.kill(os.getpid(), signal.SIGSEGV)
    if path == '/exit':
        os._exit(3)
    if path == '/hang':
        note_pid(environ)
        time.sleep(60)
    if path == '/wait-body':
        note_pid(environ)
        data = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        return text(start_response, f'{len(data)}\n')
    return text(start_response, 'no such route\n', '404 Not Found')


if __name__ == '__main__':
    CGIHandler().run(app)
