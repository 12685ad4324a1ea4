//! HTTP/1.x, as much as forkhttpd speaks: read a request head, decide the status, write
//! the response. Reading the head is `request`, the answer is `response`, HTTP-dates are
//! `date`; the request target's path is `target`, `Range` is `range`, entity tags are
//! `etag`. Bytes only: nothing here makes a syscall.

pub mod date;
pub mod etag;
pub mod range;
#[cfg(any(test, feature = "reference"))]
pub mod reference;
pub mod request;
pub mod response;
pub mod target;

/// The most a request head may take: a head that has not ended by then gets 431 (or
/// 414 when even the request line has not ended).
pub const HEAD_MAX: usize = 8192;

/// Every status forkhttpd sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    HeaderFieldsTooLarge,
    NotImplemented,
    ServiceUnavailable,
    VersionNotSupported,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::UriTooLong => 414,
            Status::HeaderFieldsTooLarge => 431,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::VersionNotSupported => 505,
        }
    }

    /// The status line's text after the code.
    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::UriTooLong => "URI Too Long",
            Status::HeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::NotImplemented => "Not Implemented",
            Status::ServiceUnavailable => "Service Unavailable",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }
}
