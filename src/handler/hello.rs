//! Hello: without `DIR`, GET and HEAD of any path (origin-form or absolute-form) get the
//! article's `Hello, World!` (`http::response::HELLO`), in one `text/plain` buffer and
//! one `sendto`.

use super::{Answer, Exchange};
use crate::http::Status;

/// `200` and `Hello, World!\n` (HEAD: the head only).
pub fn answer(x: &Exchange<'_>) -> Answer {
    x.reply(Status::Ok)
}
