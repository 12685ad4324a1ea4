//! The dispatcher: which handler answers a request, in one place.
//!
//! | the request | its answer |
//! | --- | --- |
//! | `--health PATH`: GET or HEAD of exactly `PATH` | [`health`] (not logged) |
//! | a head the judge refused (400, 408, 414, 431, 501, 505) | its error |
//! | `--cors`: a preflight (OPTIONS with `Access-Control-Request-Method`) | [`preflight`] |
//! | `--auth`: no `Authorization` with the credentials | 401 |
//! | `--status PATH`: GET or HEAD of exactly `PATH` | [`status`] (loopback clients only, others 404) |
//! | tests only, `$FORKHTTPD_SANDBOX_TEST`: `/.sandbox-test/CALL` | [`trial`] |
//! | without `DIR`: GET or HEAD | [`hello`] |
//! | without `DIR`: OPTIONS; another method | 204 with `Allow`; 405 |
//! | with `DIR`: `OPTIONS *`; a target that does not decode; a dotfile | 204; 400; 404 |
//! | with `DIR`: a path under `--cgi`'s prefix, any method | [`cgi`] |
//! | with `DIR`: GET or HEAD | [`file`] (a file, a redirect, an index, a listing, `--fallback`) |
//! | with `DIR`: OPTIONS; another method | 204 with `Allow`; 405 |

use crate::config::Config;
use crate::handler::{Answer, Exchange, Request, Site, cgi, file, health, hello, preflight, status, trial};
use crate::http::request::{Message, Verdict};
use crate::http::{HEAD_MAX, Status, basic, cors, target};

/// Answers the request whose head, judged `verdict`, starts `head` (every byte received
/// so far).
pub fn answer(x: &Exchange<'_>, verdict: &Verdict, head: &[u8], config: &Config, site: Option<&Site<'_>>) -> Answer {
    if config.health.is_some_and(|path| verdict.status == Status::Ok && is_target(head, path)) {
        return health::answer(x);
    }
    // A script takes any method: the site decides on 405 and 204 too.
    if !matches!(verdict.status, Status::Ok | Status::MethodNotAllowed | Status::NoContent) {
        return x.reply(verdict.status);
    }
    if x.cors != cors::Allow::Off {
        if let Some(headers) = Message::lex(head).ok().as_ref().and_then(cors::preflight) {
            return preflight::answer(x, headers);
        }
    }
    let user = match config.auth {
        Some(credentials) if !basic::allows(head, credentials) => return x.reply(Status::Unauthorized),
        credentials => credentials.map(|c| c.split(|&b| b == b':').next().unwrap_or(c)),
    };
    let answer = if config.status.is_some_and(|path| verdict.status == Status::Ok && is_target(head, path)) {
        status::answer(x, config)
    } else if let Some(call) = trial_call(config, verdict, head) {
        trial::answer(x, call, site)
    } else {
        match (site, verdict.status) {
            (None, Status::Ok) => hello::answer(x),
            (Some(site), _) => for_site(x, head, site, user),
            (None, status) => x.reply(status),
        }
    };
    Answer { user, ..answer }
}

/// The site's handlers. Never inlined: the decoded target (8 KiB) and the file answer's
/// paths make a frame whose stack probes (a page fault a page) Hello's requests must not
/// pay.
#[inline(never)]
fn for_site(x: &Exchange<'_>, head: &[u8], site: &Site<'_>, user: Option<&[u8]>) -> Answer {
    let Ok(message) = Message::lex(head) else {
        return x.reply(Status::BadRequest);
    };
    // OPTIONS for the server itself (asterisk-form, RFC 9112 §3.2.4): what it allows.
    if message.method == b"OPTIONS" && message.target == b"*" {
        return x.reply(Status::NoContent);
    }
    let mut decoded = [0u8; HEAD_MAX];
    let Some(target) = target::decode(message.target, &mut decoded) else {
        return x.reply(Status::BadRequest);
    };
    // Dotfiles (`/.env`, `/.git/config`) are served to no one; `/.well-known/` is.
    if target::is_hidden(target.path) {
        return x.reply(Status::NotFound);
    }
    let request = Request { message: &message, received: head, path: target.path, query: target.query, user };
    if let Some(programs) = &site.cgi {
        if let Some(rest) = cgi::beneath(target.path, programs.prefix) {
            return cgi::answer(x, &request, site, programs, rest);
        }
    }
    match message.method {
        b"GET" | b"HEAD" => file::answer(x, &request, site),
        b"OPTIONS" => x.reply(Status::NoContent),
        _ => x.reply(Status::MethodNotAllowed),
    }
}

/// Tests only: the call a `/.sandbox-test/CALL` target names, when the trial is on.
fn trial_call<'h>(config: &Config, verdict: &Verdict, head: &'h [u8]) -> Option<&'h [u8]> {
    let on = config.trial && verdict.status == Status::Ok;
    on.then(|| Message::lex(head).ok()).flatten().and_then(|m| m.target.strip_prefix(trial::PREFIX))
}

/// The head's request target is exactly `target` (a judged head: it lexes).
fn is_target(head: &[u8], target: &[u8]) -> bool {
    Message::lex(head).is_ok_and(|message| message.target == target)
}
