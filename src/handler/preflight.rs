//! A CORS preflight (`--cors`): before a cross-origin request with a header of its own
//! (or a method other than GET, HEAD, POST), a browser asks with `OPTIONS` and
//! `Access-Control-Request-Method` whether it may. An allowed origin gets `204` with
//! the methods (GET, HEAD), the request headers it asked for, and how long to keep the
//! answer; another gets the plain `204` with `Allow`, and its browser gives up. Answered
//! before `--auth`: a browser sends no credentials with a preflight. One `sendto`.

use super::{Answer, Exchange};
use crate::buf::Buf;
use crate::http::cors::{self, Allow};
use crate::http::{Status, response};

/// The `204` for a preflight that asked for `headers`.
#[inline(never)]
pub fn answer(x: &Exchange<'_>, headers: Option<&[u8]>) -> Answer {
    let status = Status::NoContent;
    let mut out = Buf::new();
    response::start(&mut out, status, x.unix);
    response::status_fields(&mut out, status);
    if matches!(x.cors, Allow::Any | Allow::Origin(_)) {
        out.push(b"Access-Control-Allow-Methods: GET, HEAD\r\nAccess-Control-Max-Age: ").push(cors::MAX_AGE).push(b"\r\n");
        if let Some(headers) = headers {
            // As many names as the request held (up to 8 KiB): in pieces if need be.
            response::field(&mut out, b"Access-Control-Allow-Headers");
            if let Err(cut) = x.put(&mut out, headers) {
                return Answer::sent(status, 0, Some(cut));
            }
            response::line_end(&mut out);
        }
    }
    x.send_head(&mut out, status, 0).unwrap_or(Answer::sent(status, 0, None))
}
