#!/usr/bin/env python3
"""The WSGI application tests/cgi.rs serves through webserver3h, as a CGI program
(wsgiref.handlers.CGIHandler). One route per behaviour under test, by PATH_INFO."""
import os
import signal
import sys
import time
from wsgiref.handlers import CGIHandler


def text(start_response, body, status='200 OK', headers=()):
    start_response(status, [('Content-Type', 'text/plain')] + list(headers))
    return [body.encode()]


def note_pid(environ):
    """Writes this process's pid where the test said (?pidfile=PATH), for it to watch."""
    query = environ.get('QUERY_STRING', '')
    if query.startswith('pidfile='):
        with open(query[len('pidfile='):], 'w') as f:
            f.write(str(os.getpid()))


def app(environ, start_response):
    path = environ.get('PATH_INFO', '')
    if path == '/hello':
        return text(start_response, 'Hello world from a simple WSGI application!\n')
    if path.startswith('/env'):
        lines = [f'{k}={v}' for k, v in sorted(os.environ.items())]
        lines += [f'CWD={os.getcwd()}', f'ARGV={sys.argv[1:]}']
        return text(start_response, '\n'.join(lines) + '\n')
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
