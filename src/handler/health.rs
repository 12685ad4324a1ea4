//! `--health PATH`: a probe's answer, for orchestrators and load balancers. A GET or HEAD
//! of exactly `PATH` gets `200` and `ok`, before any file lookup and even without `DIR`,
//! and writes no access-log line: a probe every few seconds must not flood the log. One
//! `sendto`.

use super::{Answer, Exchange, send_all};
use crate::buf::Buf;
use crate::http::{Status, response};
use rustix::net::SendFlags;

/// The body.
const OK: &[u8] = b"ok\n";

/// `200`, `ok` (HEAD: the head only), in one `send`; not logged.
pub fn answer(x: &Exchange<'_>) -> Answer {
    let mut out = Buf::new();
    response::start(&mut out, Status::Ok, x.unix);
    response::content(&mut out, b"text/plain; charset=utf-8", OK.len() as u64);
    response::end(&mut out, x.connection);
    let body = if x.head_only { 0 } else { OK.len() as u64 };
    if !x.head_only {
        out.push(OK);
    }
    let sent = Answer::sent(Status::Ok, body, send_all(x.conn, out.as_bytes(), SendFlags::empty()).err());
    Answer { log: false, ..sent }
}
