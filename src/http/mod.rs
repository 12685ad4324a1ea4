//! HTTP/1.x, as much as forkhttpd speaks: read a request head, decide the status, write
//! the response. Reading the head is `request`, the answer is `response`, HTTP-dates are
//! `date`; the request target's path is `target`, `Range` is `range`, entity tags are
//! `etag`, content types `mime`; a chunked request body is `chunked`; what a CGI program
//! writes before its body is `header_block`; `Accept-Encoding` is `coding`, `Origin` and
//! preflights are `cors`, `Authorization: Basic` is `basic`. Bytes only: nothing here
//! makes a syscall.

pub mod basic;
pub mod chunked;
pub mod coding;
pub mod cors;
pub mod date;
pub mod etag;
pub mod header_block;
pub mod mime;
pub mod range;
#[cfg(any(test, feature = "reference"))]
pub mod reference;
pub mod request;
pub mod response;
pub mod target;

/// The most a request head may take: a head that has not ended by then gets 431 (or
/// 414 when even the request line has not ended).
pub const HEAD_MAX: usize = 8192;

/// Every status forkhttpd sends, in the order of [`CODES`] and [`REASONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 200
    Ok,
    /// 204
    NoContent,
    /// 206
    PartialContent,
    /// 301
    MovedPermanently,
    /// 304
    NotModified,
    /// 400
    BadRequest,
    /// 401
    Unauthorized,
    /// 403
    Forbidden,
    /// 404
    NotFound,
    /// 405
    MethodNotAllowed,
    /// 408
    RequestTimeout,
    /// 413
    ContentTooLarge,
    /// 414
    UriTooLong,
    /// 416
    RangeNotSatisfiable,
    /// 431
    HeaderFieldsTooLarge,
    /// 500
    InternalServerError,
    /// 501
    NotImplemented,
    /// 502
    BadGateway,
    /// 503
    ServiceUnavailable,
    /// 504
    GatewayTimeout,
    /// 505
    VersionNotSupported,
}

/// Tables, not `match`es: two of them over every status take more code than the data.
const CODES: [u16; 21] = [200, 204, 206, 301, 304, 400, 401, 403, 404, 405, 408, 413, 414, 416, 431, 500, 501, 502, 503, 504, 505];
const REASONS: &str = "OK
No Content
Partial Content
Moved Permanently
Not Modified
Bad Request
Unauthorized
Forbidden
Not Found
Method Not Allowed
Request Timeout
Content Too Large
URI Too Long
Range Not Satisfiable
Request Header Fields Too Large
Internal Server Error
Not Implemented
Bad Gateway
Service Unavailable
Gateway Timeout
HTTP Version Not Supported";

impl Status {
/// The status code: 200, 404.
    pub fn code(self) -> u16 {
        CODES.get(self as usize).copied().unwrap_or(500)
    }

    /// The status line's text after the code.
    pub fn reason(self) -> &'static [u8] {
        crate::errno::nth(REASONS, b'\n', self as usize).unwrap_or(b"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_code_and_reason() {
        assert_eq!(REASONS.lines().count(), CODES.len());
        assert_eq!((Status::Ok.code(), Status::Ok.reason()), (200, &b"OK"[..]));
        assert_eq!((Status::NotFound.code(), Status::NotFound.reason()), (404, &b"Not Found"[..]));
        assert_eq!((Status::ContentTooLarge.code(), Status::ContentTooLarge.reason()), (413, &b"Content Too Large"[..]));
        assert_eq!((Status::BadGateway.code(), Status::BadGateway.reason()), (502, &b"Bad Gateway"[..]));
        assert_eq!((Status::GatewayTimeout.code(), Status::GatewayTimeout.reason()), (504, &b"Gateway Timeout"[..]));
        assert_eq!(
            (Status::VersionNotSupported.code(), Status::VersionNotSupported.reason()),
            (505, &b"HTTP Version Not Supported"[..])
        );
    }
}
