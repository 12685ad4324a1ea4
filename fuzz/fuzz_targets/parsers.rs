//! Any bytes, as a request target, a `Range` value, an HTTP-date, an `If-None-Match` list,
//! a file name and a CGI script's header block: each parsed without a panic, and what
//! each returns holds its promises.
#![no_main]

use forkhttpd::buf::Buf;
use forkhttpd::http::range::{self, Range};
use forkhttpd::http::{HEAD_MAX, date, etag, header_block, mime, target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(HEAD_MAX)];
    request_target(data);
    for len in [0, 1, 2, 10, data.len() as u64, u64::MAX - 1, u64::MAX] {
        if let Range::Part { start, end } = range::parse(data, len) {
            assert!(start <= end && end < len, "{start}-{end} of {len}");
        }
    }
    if let Some(t) = date::parse(data) {
        let mut written = Buf::new();
        date::write(&mut written, t);
        assert_eq!(written.as_bytes().len(), 29, "not an IMF-fixdate");
        assert_eq!(date::parse(written.as_bytes()), Some(t), "{:?} read back", written.as_bytes().escape_ascii().to_string());
    }
    let tag = b"\"1a-2b-3c.4d\"";
    if etag::matches(data, tag, false) {
        assert!(etag::matches(data, tag, true), "a strong match that is not a weak one");
    }
    assert!(mime::content_type(data).contains(&b'/'));
    if let header_block::Output::Complete(header) = header_block::parse(data) {
        assert!((200..=599).contains(&header.status), "status {}", header.status);
        assert!(header.len <= data.len(), "the block ends inside what was read");
    }
});

fn request_target(data: &[u8]) {
    let mut out = [0u8; HEAD_MAX];
    let Some(decoded) = target::decode(data, &mut out) else { return };
    let path = decoded.path;
    assert!(path.starts_with(b"/"));
    assert!(!path.contains(&0));
    assert!(path.len() <= data.len().max(1));
    assert!(!path.windows(4).any(|w| w == b"/../") && !path.windows(3).any(|w| w == b"/./"));
    assert!(!path.ends_with(b"/..") && !path.ends_with(b"/."));
    if let Some(query) = decoded.query {
        // The query is raw: a piece of what was received, never past a fragment.
        let range = data.as_ptr_range();
        assert!(range.start <= query.as_ptr() && query.as_ptr_range().end <= range.end);
        assert!(!query.contains(&b'#'));
    }
    target::is_hidden(path);
    // The decoded path, encoded for a link, leads back to itself.
    let mut link = Buf::new();
    target::encode(&mut link, path);
    if !link.is_full() {
        let mut again = [0u8; HEAD_MAX * 3];
        let back = target::decode(link.as_bytes(), &mut again).expect("an encoded path decodes");
        assert_eq!(back.path, path);
        assert_eq!(back.query, None);
    }
}
