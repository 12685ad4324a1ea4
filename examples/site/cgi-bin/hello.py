#!/usr/bin/env python3
"""Part 2's WSGI application, served as a CGI program.

Part 2's server imported `app` and called it itself; here the standard library's
wsgiref.handlers.CGIHandler calls it, with the request the server put in the
environment and on stdin, and writes the response to stdout for the server to relay:

    target/release/webserver3h -- examples/site/cgi-bin/hello.py
    curl http://localhost:8888/hello

or behind forkhttpd's file server, beside static files:

    target/release/forkhttpd --cgi /cgi-bin/ examples/site
    curl http://localhost:8888/cgi-bin/hello.py
"""
from wsgiref.handlers import CGIHandler


def app(environ, start_response):
    """A barebones WSGI application.

    This is a starting point for your own Web framework :)
    """
    status = '200 OK'
    response_headers = [('Content-Type', 'text/plain')]
    start_response(status, response_headers)
    return [b'Hello world from a simple WSGI application!\n']


if __name__ == '__main__':
    CGIHandler().run(app)
