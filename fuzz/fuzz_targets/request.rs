//! Any bytes a client can send, as a request head: lexed as httparse would, judged
//! without a panic, and answered with a well-formed HTTP/1.1 response whose
//! Content-Length is its body's length (a 204 has neither).
#![no_main]

use forkhttpd::buf::Buf;
use forkhttpd::http::request::{self, Head};
use forkhttpd::http::{HEAD_MAX, reference, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The child never reads more than HEAD_MAX bytes of head.
    let data = &data[..data.len().min(HEAD_MAX)];
    reference::check(data);
    let line = request::request_line(data);
    assert!(line.len() <= data.len());
    let verdict = match request::parse(data) {
        Head::Partial => {
            assert!(data.len() < HEAD_MAX, "a full buffer must be judged, not wait for more");
            return;
        }
        Head::Complete(verdict) => verdict,
    };
    assert!(verdict.head_len <= data.len());

    let mut out = Buf::new();
    let body = response::write(&mut out, verdict.status, verdict.head_only, response::CLOSE, 1_795_391_999) as usize;
    assert!(!out.is_full(), "the response was cut");
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(out.as_bytes()) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("not a complete response: {other:?}"),
    };
    assert_eq!(parsed.version, Some(1));
    assert_eq!(parsed.code, Some(verdict.status.code()));
    let sent = out.as_bytes().len() - head_len;
    let length = parsed.headers.iter().find(|h| h.name == "Content-Length");
    if parsed.code == Some(204) {
        // OPTIONS: no content, and no Content-Length (RFC 9110 §8.6).
        assert!(length.is_none() && sent == 0 && body == 0);
        return;
    }
    let length: usize = std::str::from_utf8(length.expect("Content-Length").value).unwrap().parse().unwrap();
    if verdict.head_only {
        assert_eq!(sent, 0);
    } else {
        assert_eq!((sent, body), (length, length));
    }
});
