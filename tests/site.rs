//! What site owners ask of a static server (issue 18): the operator's response fields
//! (`-H`), CORS with preflights (in a real browser too), a single-page app's fallback,
//! error pages, HTTP Basic, and precompressed `.br`/`.zst`/`.gz` twins decoded by the
//! real tools.

mod common;
use common::{Server, TempDir, bin, chromium, headless, split};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// `GET path` with `fields` (each `Name: value\r\n`), on a connection of its own.
fn get(server: &Server, path: &str, fields: &str) -> (String, Vec<u8>) {
    request(server, "GET", path, fields)
}

/// The client's side stays open until the answer is whole, as curl's does: a CGI
/// program's relay takes a FIN for a client that went away.
fn request(server: &Server, method: &str, path: &str, fields: &str) -> (String, Vec<u8>) {
    split(&server.exchange_open(format!("{method} {path} HTTP/1.1\r\nHost: a\r\n{fields}Connection: close\r\n\r\n").as_bytes()))
}

/// The values of the field `name` in `head`, in order.
fn values<'h>(head: &'h str, name: &str) -> Vec<&'h str> {
    head.split("\r\n").skip(1).filter_map(|l| l.split_once(": ")).filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v).collect()
}

fn status(head: &str) -> u16 {
    head[9..12].parse().unwrap()
}

/// forkhttpd's exit status and stderr for a command line that must not start.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin("forkhttpd")).args(["-p", "0", "-b", "127.0.0.1"]).args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn script(dir: &Path, name: &str, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    write(dir, name, text.as_bytes());
    std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
}

const FIELDS: [&str; 4] = [
    "Cache-Control: public, max-age=3600",
    "Content-Security-Policy: default-src 'self'",
    "Strict-Transport-Security: max-age=63072000",
    "X-Content-Type-Options: nosniff",
];

#[test]
fn the_operators_fields_are_on_every_response_the_server_writes() {
    let dir = TempDir::new("headers");
    write(dir.path(), "a.txt", b"alpha\n");
    write(dir.path(), "sub/b.txt", b"beta\n");
    script(dir.path(), "cgi-bin/app.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\nCache-Control: no-store\\r\\n\\r\\nfrom the app\\n'\n");
    let mut args = vec!["--list", "--cgi", "/cgi-bin/"];
    for f in FIELDS {
        args.extend(["-H", f]);
    }
    args.push(dir.path().to_str().unwrap());
    let server = Server::start(&args);
    let (head, _) = get(&server, "/a.txt", "");
    let etag = values(&head, "ETag")[0].to_string();
    let cases = [
        ("GET", "/a.txt", String::new(), 200),
        ("HEAD", "/a.txt", String::new(), 200),
        ("GET", "/a.txt", format!("If-None-Match: {etag}\r\n"), 304),
        ("GET", "/a.txt", "Range: bytes=1-2\r\n".into(), 206),
        ("GET", "/a.txt", "Range: bytes=99-\r\n".into(), 416),
        ("GET", "/sub", String::new(), 301),
        ("GET", "/sub/", String::new(), 200),
        ("GET", "/missing", String::new(), 404),
        ("GET", "/.env", String::new(), 404),
        ("DELETE", "/a.txt", String::new(), 405),
        ("OPTIONS", "/a.txt", String::new(), 204),
        ("GET", "/%zz", String::new(), 400),
        ("GET", "/cgi-bin/nothing", String::new(), 404),
    ];
    for (method, path, fields, code) in cases {
        let (head, _) = request(&server, method, path, &fields);
        assert_eq!(status(&head), code, "{method} {path}: {head}");
        for f in FIELDS {
            let (name, value) = f.split_once(": ").unwrap();
            assert_eq!(values(&head, name), [value], "{method} {path}: {head}");
        }
    }
    // A program's response is its own.
    let (head, body) = get(&server, "/cgi-bin/app.sh", "");
    assert_eq!((status(&head), body.as_slice()), (200, &b"from the app\n"[..]), "{head}");
    assert_eq!(values(&head, "Cache-Control"), ["no-store"], "{head}");
    assert!(values(&head, "X-Content-Type-Options").is_empty(), "{head}");

    // Hello too; and a field longer than a head's buffer: the head leaves in pieces, whole.
    let policy = format!("Content-Security-Policy: default-src 'self'; script-src {}", "https://cdn.example ".repeat(150));
    let hello = Server::start(&["-H", &policy, "-H", FIELDS[3]]);
    let (head, body) = get(&hello, "/", "");
    assert_eq!(body, b"Hello, World!\n");
    assert_eq!(values(&head, "Content-Security-Policy"), [policy.split_once(": ").unwrap().1], "a {}-byte field", policy.len());
    assert_eq!(values(&head, "X-Content-Type-Options"), ["nosniff"]);
}

#[test]
fn bad_values_are_refused_at_start_up() {
    let dir = TempDir::new("bad-values");
    let d = dir.path().to_str().unwrap();
    for (args, said) in [
        (vec!["-H", "Content-Length: 5"], "invalid header 'Content-Length: 5': the server writes that field itself"),
        (vec!["-H", "connection: keep-alive"], "invalid header 'connection: keep-alive': the server writes that field itself"),
        (vec!["-H", "Transfer-Encoding: chunked"], "invalid header 'Transfer-Encoding: chunked': the server writes"),
        (vec!["-H", "X-A: b\r\nX-Injected: c"], "invalid header 'X-A: b\r\nX-Injected: c': expected 'NAME: VALUE'"),
        (vec!["-H", "Bad Name: x"], "invalid header 'Bad Name: x': expected"),
        (vec!["-H", "no colon"], "invalid header 'no colon': expected"),
        (vec!["--cors", "app.example"], "invalid CORS origin 'app.example': expected * or an origin"),
        (vec!["--fallback", "index.html", d], "invalid fallback 'index.html': expected a file's path beneath DIR"),
        (vec!["--fallback", "/index.html"], "option needs a DIR to serve: '--fallback'"),
        (vec!["--error-page", "404", d], "invalid error page '404': expected CODE=PATH"),
        (vec!["--error-page", "302=/moved.html", d], "invalid error page '302=/moved.html': expected CODE=PATH, CODE from 400 to 599"),
        (vec!["--error-page", "404=/.secret.html", d], "invalid error page '404=/.secret.html': expected a file's path beneath DIR"),
        (vec!["--auth", "alice", d], "invalid credentials 'alice': expected USER:PASSWORD"),
    ] {
        let (code, err) = refused(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&format!("forkhttpd: {said}")), "{args:?}: {err}");
    }
    let mut seventeen = Vec::new();
    for i in 0..17 {
        seventeen.push("-H".to_string());
        seventeen.push(format!("X-{i}: v"));
    }
    let (code, err) = refused(&seventeen.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((code, err.as_str()), (Some(2), "forkhttpd: one header too many (at most 16): 'X-16: v' (see forkhttpd --help)\n"));
}

#[test]
fn cors_tells_the_origins_it_allows() {
    let dir = TempDir::new("cors");
    write(dir.path(), "data.json", b"{\"a\":1}\n");
    let d = dir.path().to_str().unwrap();
    let listed = Server::start(&["--cors", "https://app.example", "--cors", "http://localhost:3000", d]);
    let (head, _) = get(&listed, "/data.json", "Origin: https://app.example\r\n");
    assert_eq!(values(&head, "Access-Control-Allow-Origin"), ["https://app.example"], "{head}");
    assert_eq!(values(&head, "Vary"), ["Accept-Encoding", "Origin"], "{head}");
    for (fields, what) in [("Origin: https://evil.example\r\n", "another origin"), ("", "no Origin")] {
        let (head, _) = get(&listed, "/data.json", fields);
        assert!(values(&head, "Access-Control-Allow-Origin").is_empty(), "{what}: {head}");
        assert_eq!(values(&head, "Vary"), ["Accept-Encoding", "Origin"], "{what}: the answer depends on Origin: {head}");
    }
    // Errors too: a page may read a 404.
    let (head, _) = get(&listed, "/missing", "Origin: http://localhost:3000\r\n");
    assert_eq!((status(&head), values(&head, "Access-Control-Allow-Origin")), (404, vec!["http://localhost:3000"]), "{head}");

    // A preflight from an allowed origin, and from another.
    let preflight = "Origin: https://app.example\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-token, content-type\r\n";
    let (head, body) = request(&listed, "OPTIONS", "/data.json", preflight);
    assert_eq!(status(&head), 204, "{head}");
    assert!(body.is_empty() && values(&head, "Content-Length").is_empty(), "{head}");
    assert_eq!(values(&head, "Access-Control-Allow-Origin"), ["https://app.example"]);
    assert_eq!(values(&head, "Access-Control-Allow-Methods"), ["GET, HEAD"]);
    assert_eq!(values(&head, "Access-Control-Allow-Headers"), ["x-token, content-type"]);
    assert_eq!(values(&head, "Access-Control-Max-Age"), ["7200"]);
    let (head, _) = request(&listed, "OPTIONS", "/data.json", &preflight.replace("app.example", "evil.example"));
    assert_eq!(status(&head), 204);
    assert!(values(&head, "Access-Control-Allow-Origin").is_empty() && values(&head, "Access-Control-Allow-Methods").is_empty(), "{head}");

    // `*`: any origin, without looking; a preflight is answered before --auth (a browser
    // sends no credentials with it), the request itself is not.
    let any = Server::start(&["--cors", "*", "--auth", "alice:pw", d]);
    let (head, _) = request(&any, "OPTIONS", "/data.json", preflight);
    assert_eq!((status(&head), values(&head, "Access-Control-Allow-Origin")), (204, vec!["*"]), "{head}");
    let (head, _) = get(&any, "/data.json", "Origin: https://x.example\r\n");
    assert_eq!((status(&head), values(&head, "Access-Control-Allow-Origin")), (401, vec!["*"]), "{head}");
    assert!(!values(&head, "Vary").contains(&"Origin"), "{head}");
    // Without --cors, an OPTIONS is the plain 204.
    let plain = Server::start(&[d]);
    let (head, _) = request(&plain, "OPTIONS", "/data.json", preflight);
    assert_eq!(status(&head), 204);
    assert!(!head.contains("Access-Control-"), "{head}");
}

/// A page served from one origin reads a file from forkhttpd on another, with a header
/// of its own, so its browser first sends a preflight: in headless Chromium. The same
/// page is refused by a forkhttpd that allows another origin.
#[test]
fn chromium_reads_across_origins_after_a_preflight() {
    let Some(browser) = chromium("chromium_reads_across_origins_after_a_preflight") else { return };
    let data = TempDir::new("cors-data");
    write(data.path(), "data.json", b"{\"answer\":42}");
    let pages = TempDir::new("cors-pages");
    let app = Server::start(&[pages.path().to_str().unwrap()]);
    let origin = format!("http://127.0.0.1:{}", app.port);
    let allowing = Server::start(&["--cors", &origin, data.path().to_str().unwrap()]);
    let other = Server::start(&["--cors", "https://elsewhere.example", data.path().to_str().unwrap()]);
    for (name, server) in [("allowed", &allowing), ("refused", &other)] {
        write(
            pages.path(),
            &format!("{name}.html"),
            format!(
                r#"<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
fetch('http://127.0.0.1:{}/data.json', {{headers: {{'X-Token': 'abc'}}}})
  .then(r => r.text()).then(t => document.getElementById('out').textContent = 'read ' + t)
  .catch(e => document.getElementById('out').textContent = 'blocked ' + e);
</script></body></html>"#,
                server.port
            )
            .as_bytes(),
        );
        let profile = pages.path().join(format!("profile-{name}"));
        let out = headless(&browser, &profile)
            .args(["--virtual-time-budget=10000", "--dump-dom"])
            .arg(format!("{origin}/{name}.html"))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        let shown = dom.split_once(r#"<pre id="out">"#).and_then(|(_, r)| r.split_once('<')).map(|(s, _)| s.to_string()).unwrap_or_default();
        match name {
            "allowed" => assert_eq!(shown, r#"read {"answer":42}"#, "{dom:.600}"),
            _ => assert!(shown.starts_with("blocked "), "{shown}: {dom:.600}"),
        }
        // The browser's own preflight came first.
        let log = server.wait_log(1);
        assert!(log[0].contains("\"OPTIONS /data.json HTTP/1.1\" 204 "), "{log:?}");
        if name == "allowed" {
            let log = server.wait_log(2);
            assert!(log[1].contains("\"GET /data.json HTTP/1.1\" 200 "), "{log:?}");
        }
    }
}

#[test]
fn a_single_page_app_gets_its_index_for_missing_paths() {
    let dir = TempDir::new("fallback");
    write(dir.path(), "index.html", b"<div id=app></div>\n");
    write(dir.path(), "app.js", b"route()\n");
    script(dir.path(), "cgi-bin/app.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\napp\\n'\n");
    let d = dir.path().to_str().unwrap();
    let server = Server::start(&["--fallback", "/index.html", "--cgi", "/cgi-bin/", d]);
    let (index_head, index) = get(&server, "/index.html", "");
    for path in ["/users/42", "/deep/route/x.png", "/users/"] {
        let (head, body) = get(&server, path, "");
        assert_eq!((status(&head), &body), (200, &index), "{path}: {head}");
        assert_eq!(values(&head, "ETag"), values(&index_head, "ETag"), "its own validators");
        assert_eq!(values(&head, "Content-Type"), ["text/html; charset=utf-8"]);
    }
    let (head, body) = request(&server, "HEAD", "/users/42", "");
    assert_eq!((status(&head), body.len()), (200, 0));
    let (head, _) = get(&server, "/users/42", &format!("If-None-Match: {}\r\n", values(&index_head, "ETag")[0]));
    assert_eq!(status(&head), 304);
    assert_eq!(get(&server, "/app.js", "").1, b"route()\n");
    // Never for the programs' paths, never for a dotfile, never for another method.
    assert_eq!(status(&get(&server, "/cgi-bin/missing", "").0), 404);
    assert_eq!(status(&get(&server, "/.env", "").0), 404);
    assert_eq!(status(&request(&server, "DELETE", "/users/42", "").0), 405);

    // The file missing at start: a warning, 404s until it is there.
    let empty = TempDir::new("fallback-missing");
    let server = Server::start(&["--fallback", "/index.html", empty.path().to_str().unwrap()]);
    let warning = server.wait_event("warning");
    assert!(warning.starts_with("forkhttpd: warning: --fallback '/index.html' beneath '"), "{warning}");
    assert!(warning.ends_with(": no such file or directory (ENOENT): 404s until it can be served"), "{warning}");
    assert_eq!(status(&get(&server, "/users/42", "").0), 404);
    write(empty.path(), "index.html", b"late\n");
    assert_eq!(get(&server, "/users/42", "").1, b"late\n");
}

#[test]
fn error_pages_replace_the_plain_bodies() {
    let dir = TempDir::new("error-pages");
    let outside = TempDir::new("error-pages-outside");
    write(dir.path(), "errors/404.html", b"<h1>Not here</h1>\n");
    write(dir.path(), "errors/405.txt", b"not that method\n");
    write(dir.path(), "errors/502.html", b"<h1>The app fell over</h1>\n");
    write(outside.path(), "secret.html", b"outside DIR\n");
    std::os::unix::fs::symlink(outside.path().join("secret.html"), dir.path().join("errors/403.html")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("errors/500.html")).unwrap();
    script(dir.path(), "cgi-bin/broken.sh", "#!/bin/sh\necho 'not a header block'\n");
    write(dir.path(), "locked/x", b"");
    let d = dir.path().to_str().unwrap();
    let mut args = vec!["--cgi", "/cgi-bin/", "-H", "X-Frame-Options: DENY"];
    for page in ["404=/errors/404.html", "405=/errors/405.txt", "403=/errors/403.html", "502=/errors/502.html", "503=/errors/none.html"] {
        args.extend(["--error-page", page]);
    }
    args.push(d);
    let server = Server::start(&args);
    // At start-up, what cannot be served is said: a page that is not there, one that
    // leads out of DIR.
    let warning = server.wait_event("'/errors/none.html'");
    assert!(warning.starts_with("forkhttpd: warning: --error-page '/errors/none.html' beneath '"), "{warning}");
    assert!(warning.ends_with(": no such file or directory (ENOENT): the plain body until it can be served"), "{warning}");
    let warning = server.wait_event("'/errors/403.html'");
    assert!(warning.ends_with(": invalid cross-device link: it leads out of DIR (EXDEV): the plain body until it can be served"), "{warning}");

    let (head, body) = get(&server, "/nothing/here", "");
    assert_eq!((status(&head), body.as_slice()), (404, &b"<h1>Not here</h1>\n"[..]), "{head}");
    assert_eq!(values(&head, "Content-Type"), ["text/html; charset=utf-8"]);
    assert_eq!(values(&head, "Content-Length"), ["18"]);
    assert_eq!(values(&head, "X-Frame-Options"), ["DENY"]);
    assert!(values(&head, "ETag").is_empty(), "an error is no representation to revalidate: {head}");
    let (head, body) = request(&server, "HEAD", "/nothing/here", "");
    assert_eq!((status(&head), body.len(), values(&head, "Content-Length")), (404, 0, vec!["18"]));
    let (head, body) = request(&server, "DELETE", "/x", "");
    assert_eq!((status(&head), body.as_slice()), (405, &b"not that method\n"[..]), "{head}");
    assert_eq!(values(&head, "Allow"), ["GET, HEAD, OPTIONS"], "the status's own field stays");
    assert_eq!(values(&head, "Content-Type"), ["text/plain; charset=utf-8"]);
    // A script's failure: the relay's 502 is the server's own.
    let (head, body) = get(&server, "/cgi-bin/broken.sh", "");
    assert_eq!((status(&head), body.as_slice()), (502, &b"<h1>The app fell over</h1>\n"[..]), "{head}");
    assert_eq!(values(&head, "Connection"), ["close"]);
    // A page that leads out of DIR is no page: the plain body. (The 403 here is the
    // symlinked page's own refusal, asked for directly.)
    let (head, body) = get(&server, "/errors/403.html", "");
    assert_eq!((status(&head), body.as_slice()), (403, &b"403 Forbidden\n"[..]), "{head}");
    // A page that is missing: the plain body.
    std::fs::remove_file(dir.path().join("errors/404.html")).unwrap();
    let (head, body) = get(&server, "/nothing/here", "");
    assert_eq!((status(&head), body.as_slice()), (404, &b"404 Not Found\n"[..]), "{head}");
}

#[test]
fn basic_auth_for_every_request_but_the_probes() {
    let dir = TempDir::new("auth");
    write(dir.path(), "a.txt", b"alpha\n");
    script(dir.path(), "cgi-bin/env.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nenv\n");
    let d = dir.path().to_str().unwrap();
    // The credentials from the environment: `ps` does not show them.
    let mut cmd = Command::new(bin("forkhttpd"));
    cmd.args(["-p", "0", "-b", "127.0.0.1", "--health", "/health", "--cgi", "/cgi-bin/", "--log-format", "combined", d]);
    cmd.env("FORKHTTPD_AUTH", "alice:s3cret: with colon");
    let server = Server::spawn(cmd);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("s3cret"));

    let challenge = "Basic realm=\"forkhttpd\", charset=\"UTF-8\"";
    let basic = |credentials: &str| {
        let out = Command::new("base64").arg("-w0").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        let mut out = out;
        out.stdin.take().unwrap().write_all(credentials.as_bytes()).unwrap();
        let token = String::from_utf8(out.wait_with_output().unwrap().stdout).unwrap();
        format!("Authorization: Basic {token}\r\n")
    };
    for (fields, what) in [
        (String::new(), "none"),
        (basic("alice:wrong"), "a wrong password"),
        (basic("bob:s3cret: with colon"), "a wrong user"),
        (basic("alice:s3cret: with colo"), "a prefix"),
        ("Authorization: Bearer abc\r\n".to_string(), "another scheme"),
    ] {
        let (head, body) = get(&server, "/a.txt", &fields);
        assert_eq!(status(&head), 401, "{what}: {head}");
        assert_eq!(values(&head, "WWW-Authenticate"), [challenge], "{what}");
        assert_eq!(body, b"401 Unauthorized\n");
    }
    // curl, as users do.
    let url = format!("http://127.0.0.1:{}/a.txt", server.port);
    let out = Command::new("curl").args(["-sf", "-u", "alice:s3cret: with colon", &url]).output().unwrap();
    assert_eq!(out.stdout, b"alpha\n", "{}", String::from_utf8_lossy(&out.stderr));
    let (head, _) = get(&server, "/health", "");
    assert_eq!(status(&head), 200, "probes need no password");
    // The script learns who, not the password; nor does it get the server's credentials.
    let (head, env) = get(&server, "/cgi-bin/env.sh", &basic("alice:s3cret: with colon"));
    assert_eq!(status(&head), 200);
    let env = String::from_utf8(env).unwrap();
    assert!(env.lines().any(|l| l == "REMOTE_USER=alice") && env.lines().any(|l| l == "AUTH_TYPE=Basic"), "{env}");
    assert!(!env.contains("s3cret") && !env.contains("HTTP_AUTHORIZATION") && !env.contains("FORKHTTPD_AUTH"), "{env}");
    // The combined log names the user.
    let log = server.wait_log(7);
    assert!(log.iter().any(|l| l.starts_with("127.0.0.1 - alice [") && l.contains("\"GET /a.txt HTTP/1.1\" 200 6 ")), "{log:#?}");
    assert!(log.iter().any(|l| l.starts_with("127.0.0.1 - - [") && l.contains("\" 401 17 ")), "{log:#?}");
}

#[test]
fn precompressed_twins_by_the_clients_q_values() {
    let dir = TempDir::new("twins");
    let text: String = (0..2000).map(|i| format!("line {i} of a text that compresses well\n")).collect();
    write(dir.path(), "big.txt", text.as_bytes());
    write(dir.path(), "only-gz.txt", text.as_bytes());
    let big = dir.path().join("big.txt");
    for tool in [&["brotli", "-k"][..], &["zstd", "-q", "-k"], &["gzip", "-k"]] {
        assert!(Command::new(tool[0]).args(&tool[1..]).arg(&big).status().unwrap().success(), "{tool:?}");
    }
    assert!(Command::new("gzip").arg("-k").arg(dir.path().join("only-gz.txt")).status().unwrap().success());
    let server = Server::start(&[dir.path().to_str().unwrap()]);
    let decode = |coding: &str, body: &[u8]| -> Vec<u8> {
        let tool: &[&str] = match coding {
            "br" => &["brotli", "-d", "-c"],
            "zstd" => &["zstd", "-d", "-c", "-q"],
            "gzip" => &["gzip", "-d", "-c"],
            other => panic!("{other}"),
        };
        let mut child = Command::new(tool[0]).args(&tool[1..]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(body).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{coding}");
        out.stdout
    };
    let mut etags = Vec::new();
    for (accept, coding) in [
        ("gzip, deflate, br, zstd", Some("br")),
        ("br;q=0.5, gzip", Some("gzip")),
        ("br;q=0.5, gzip;q=0.8, zstd;q=0.9", Some("zstd")),
        ("zstd", Some("zstd")),
        ("br;q=0, *", Some("zstd")),
        ("*;q=0.1", Some("br")),
        ("identity", None),
        ("gzip;q=0, br;q=0, zstd;q=0", None),
        ("", None),
    ] {
        let fields = if accept.is_empty() { String::new() } else { format!("Accept-Encoding: {accept}\r\n") };
        let (head, body) = get(&server, "/big.txt", &fields);
        assert_eq!(status(&head), 200);
        assert_eq!(values(&head, "Content-Type"), ["text/plain; charset=utf-8"], "the file's own type");
        assert_eq!(values(&head, "Vary"), ["Accept-Encoding"]);
        match coding {
            Some(coding) => {
                assert_eq!(values(&head, "Content-Encoding"), [coding], "{accept}: {head}");
                assert!(body.len() < text.len() / 4, "{accept}: {} bytes", body.len());
                assert_eq!(decode(coding, &body), text.as_bytes(), "{accept}: {coding} decodes to the file");
            }
            None => {
                assert!(values(&head, "Content-Encoding").is_empty(), "{accept}: {head}");
                assert_eq!(body, text.as_bytes());
            }
        }
        let etag = values(&head, "ETag")[0].to_string();
        if !etags.contains(&etag) {
            etags.push(etag);
        }
    }
    assert_eq!(etags.len(), 4, "an entity tag per representation: {etags:?}");
    // A range of the representation sent.
    let br = std::fs::read(dir.path().join("big.txt.br")).unwrap();
    let (head, body) = get(&server, "/big.txt", "Accept-Encoding: br\r\nRange: bytes=0-9\r\n");
    assert_eq!(status(&head), 206);
    assert_eq!(values(&head, "Content-Range"), [format!("bytes 0-9/{}", br.len()).as_str()]);
    assert_eq!(body, br[..10]);
    // Only the twins that are there: the best one there.
    let (head, body) = get(&server, "/only-gz.txt", "Accept-Encoding: br, zstd, gzip\r\n");
    assert_eq!(values(&head, "Content-Encoding"), ["gzip"]);
    assert_eq!(decode("gzip", &body), text.as_bytes());
}
