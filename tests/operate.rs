//! Operating forkhttpd (issue 17): health probes in an image with nothing else, the
//! image's own files, logs that tools read, signals, command-line errors that say what
//! to do, the man page.

mod common;
use common::{Server, Signal, TempDir, bin, children, split, wait_for};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `forkhttpd --probe URL`: its exit status and what it wrote on stderr.
fn probe(url: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(bin("forkhttpd")).arg("--probe").arg(url).args(extra).output().unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn probe_says_whether_a_server_is_healthy() {
    let server = Server::start(&["--health", "/health"]);
    let base = format!("http://127.0.0.1:{}", server.port);
    assert_eq!(probe(&format!("{base}/health"), &[]), (Some(0), String::new()));
    assert_eq!(probe(&format!("http://localhost:{}/", server.port), &[]), (Some(0), String::new()), "Hello's 200");
    // Another status: 1, and why.
    let dir = TempDir::new("probe");
    let files = Server::start(&[dir.path().to_str().unwrap()]);
    let (code, why) = probe(&format!("http://127.0.0.1:{}/missing", files.port), &[]);
    assert_eq!((code, why.as_str()), (Some(1), format!("forkhttpd: probe http://127.0.0.1:{}/missing: status 404\n", files.port).as_str()));
    // Nobody listening.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, why) = probe(&format!("http://127.0.0.1:{free}/health"), &[]);
    assert_eq!(code, Some(1));
    assert!(why.ends_with(": connect: connection refused (ECONNREFUSED)\n"), "{why}");
    // A listener that never answers: the --timeout, 2 s unless told.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/health", silent.local_addr().unwrap().port());
    let start = Instant::now();
    let (code, why) = probe(&url, &["--timeout", "1"]);
    let took = start.elapsed();
    assert_eq!((code, why), (Some(1), format!("forkhttpd: probe {url}: no answer within 1 s (--timeout)\n")));
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");
    // Not a URL it takes: a usage error.
    let (code, why) = probe("https://example.com/", &[]);
    assert_eq!(code, Some(2));
    assert!(why.starts_with("forkhttpd: invalid probe URL 'https://example.com/': expected http://"), "{why}");
}

#[test]
fn health_answers_probes_and_is_not_logged() {
    let dir = TempDir::new("health");
    std::fs::write(dir.path().join("health"), "a file of that name\n").unwrap();
    for args in [vec!["--health", "/health"], vec!["--health", "/health", dir.path().to_str().unwrap()]] {
        let server = Server::start(&args.iter().map(|s| &**s).collect::<Vec<_>>());
        let (head, body) = split(&server.exchange(b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Length: 3\r\n"), "{head}");
        assert_eq!(body, b"ok\n");
        let (head, body) = split(&server.exchange(b"HEAD /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && body.is_empty(), "{head}");
        // Not exactly the path: the usual answer, and its log line.
        let (head, _) = split(&server.exchange(b"GET /health?x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 "), "{head}");
        let log = server.wait_log(1);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(server.log().len(), 1, "the probes wrote no line: {log:?}");
        assert!(log[0].contains("\"GET /health?x HTTP/1.1\""), "{log:?}");
    }
}

/// The image, built and run. No container engine runs here (a runtime's `setrlimit` is
/// refused) and no registry is reachable for the build stage's toolchain image, so the
/// Dockerfile's final stage is built by buildah (`--isolation chroot`, storage of its
/// own) with the build stage's product copied from the context instead, then the README's
/// site image on top of it. Their configuration is read back, their file systems mounted
/// and listed, and each is run as the image says (`ENTRYPOINT` + `CMD`, user 65534,
/// `chroot` for the runtime, a network namespace of its own on the image's port 8888),
/// probed by the `HEALTHCHECK`'s own command.
#[test]
fn the_image_builds_serves_and_probes_itself() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("cargo build --release --locked"), "a locked build");
    let ignored = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignored.lines().any(|l| l == "target"), "the build context leaves target/ out");
    let copy = "COPY --from=build /forkhttpd /forkhttpd";
    let last = &dockerfile[dockerfile.find("\nFROM scratch\n").expect("a FROM scratch stage") + 1..];
    assert!(last.contains(copy), "the final stage copies the build stage's binary");
    if !rustix::process::geteuid().is_root() {
        eprintln!("the_image_builds_serves_and_probes_itself: buildah and chroot need root; not tested here");
        return;
    }
    let work = TempDir::new("image");
    let (final_ctx, site_ctx) = (work.path().join("final"), work.path().join("site"));
    std::fs::create_dir_all(site_ctx.join("public")).unwrap();
    std::fs::create_dir(&final_ctx).unwrap();
    Command::new("strip").arg("-o").arg(final_ctx.join("forkhttpd")).arg(bin("forkhttpd")).status().unwrap();
    std::fs::write(final_ctx.join("Dockerfile"), last.replace(copy, "COPY forkhttpd /forkhttpd")).unwrap();
    // The README's site image, as the README writes it.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let site = readme.split("```dockerfile\n").find(|b| b.starts_with("FROM forkhttpd\n")).expect("the README's site image");
    let site = &site[..site.find("```").unwrap()];
    std::fs::write(site_ctx.join("Dockerfile"), site.replace("FROM forkhttpd\n", "FROM localhost/forkhttpd-test\n")).unwrap();
    std::fs::write(site_ctx.join("public/index.html"), "<h1>a site</h1>\n").unwrap();

    let storage = work.path().join("storage");
    let buildah = |args: &[&str]| -> String {
        let out = Command::new("buildah")
            .arg("--root").arg(storage.join("root")).arg("--runroot").arg(storage.join("run"))
            .args(["--storage-driver", "vfs"]).args(args).output().expect("buildah (make test-tools installs it)");
        assert!(out.status.success(), "buildah {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let bud = |tag: &str, ctx: &Path| {
        buildah(&["bud", "--format", "docker", "--isolation", "chroot", "-q", "-t", tag, ctx.to_str().unwrap()]);
    };
    bud("forkhttpd-test", &final_ctx);
    bud("forkhttpd-site", &site_ctx);
    let config = |image: &str, field: &str| buildah(&["inspect", "--format", &format!("{{{{.Docker.Config.{field}}}}}"), image]);
    for image in ["forkhttpd-test", "forkhttpd-site"] {
        assert_eq!(config(image, "User"), "65534");
        assert_eq!(config(image, "Entrypoint"), "[/forkhttpd --health /health]");
        assert_eq!(config(image, "StopSignal"), "SIGTERM");
        assert_eq!(config(image, "ExposedPorts"), "map[8888/tcp:{}]");
        assert_eq!(config(image, "Healthcheck.Test"), "[CMD /forkhttpd --probe http://127.0.0.1:8888/health]");
    }
    assert_eq!(config("forkhttpd-test", "Cmd"), "[]");
    assert_eq!(config("forkhttpd-site", "Cmd"), "[/public]");

    for (image, files, page, first) in [
        ("forkhttpd-test", "/forkhttpd", "/", "(0.0.0.0, Hello)"),
        ("forkhttpd-site", "/forkhttpd /public /public/index.html", "/index.html", "(0.0.0.0, /public)"),
    ] {
        let container = buildah(&["from", image]);
        let rootfs = PathBuf::from(buildah(&["mount", &container]));
        let listed = Command::new("find").arg(".").current_dir(&rootfs).output().unwrap();
        let mut listed: Vec<_> = String::from_utf8(listed.stdout).unwrap().lines().filter(|l| *l != ".").map(|l| l[1..].to_string()).collect();
        listed.sort();
        assert_eq!(listed.join(" "), files, "{image}: the binary and the site, nothing else");
        let run = |what: &str| {
            let l = config(image, what);
            l.trim_matches(|c| c == '[' || c == ']').to_string()
        };
        let command = format!("{} {}", run("Entrypoint"), run("Cmd"));
        let health = run("Healthcheck.Test").trim_start_matches("CMD ").to_string();
        let user = config(image, "User");
        let mut cmd = common::unshare();
        cmd.args(["--net", "--", "sh", "-c"]).arg(format!(
            "ip link set lo up; chroot --userspec={user}:{user} {root} {command} & server=$!; sleep 0.5; \
             chroot --userspec={user}:{user} {root} {health}; echo health=$?; \
             chroot --userspec={user}:{user} {root} /forkhttpd --probe http://127.0.0.1:8888{page}; echo page=$?; \
             kill $server; wait $server; echo server=$?",
            root = rootfs.display(),
        ));
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let said = format!("{image}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("Serving HTTP on port 8888 ... {first}")), "{said}");
        assert!(stdout.contains("health=0\n") && stdout.contains("page=0\n") && stdout.contains("server=0\n"), "{said}");
        buildah(&["umount", &container]);
        buildah(&["rm", &container]);
    }
    // vfs layers are plain directories: take them away with the storage.
    buildah(&["rmi", "--all", "--force"]);
}

/// The Kubernetes manifest is YAML a cluster takes: a Deployment and a Service, locked
/// down, probed through forkhttpd, with a grace period above --grace.
#[test]
fn the_kubernetes_manifest() {
    let check = r#"
import json, sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
print(json.dumps(docs))
"#;
    let out = Command::new("python3").args(["-c", check]).arg(root().join("deploy/kubernetes.yaml")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        r#""kind": "Deployment""#,
        r#""kind": "Service""#,
        r#""runAsNonRoot": true"#,
        r#""readOnlyRootFilesystem": true"#,
        r#""drop": ["ALL"]"#,
        r#""command": ["/forkhttpd", "--probe", "http://127.0.0.1:8888/health"]"#,
        r#""httpGet": {"path": "/health""#,
        r#""terminationGracePeriodSeconds": 15"#,
        r#""replicas": 3"#,
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}

/// The three log formats: each line a request, in one `write`; `combined` read by a real
/// log analyser, GoAccess; `json` by Python's parser, whatever bytes the request held.
#[test]
fn combined_logs_read_by_goaccess_and_json_by_python() {
    let requests: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8.0\r\nReferer: http://example.com/\r\nConnection: close\r\n\r\n",
        b"GET /missing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"HEAD /x HTTP/1.0\r\n\r\n",
        b"GET /\"q\"\\\xff HTTP/1.1\r\nHost: a\r\nUser-Agent: \"evil\"\\\xff\tx\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ];
    let dir = TempDir::new("logs");
    std::fs::write(dir.path().join("index.html"), "<p>hi</p>\n").unwrap();
    for format in ["combined", "json"] {
        let server = Server::start(&["--log-format", format, dir.path().to_str().unwrap()]);
        for r in requests {
            server.exchange(r);
        }
        let log = server.wait_log(requests.len());
        let file = dir.path().join(format!("{format}.log"));
        std::fs::write(&file, log.join("\n") + "\n").unwrap();
        match format {
            "combined" => {
                assert!(log[0].starts_with("127.0.0.1 - - ["), "{log:?}");
                assert!(log[0].ends_with("] \"GET / HTTP/1.1\" 200 10 \"http://example.com/\" \"curl/8.0\""), "{log:?}");
                assert!(log[3].contains(r#""GET /\x22q\x22\x5c\xff HTTP/1.1" 404 14 "-" "\x22evil\x22\x5c\xff\x09x""#), "{log:?}");
                let report = dir.path().join("report.json");
                let out = Command::new("goaccess").arg(&file).args(["--log-format=COMBINED", "--no-global-config", "-o"]).arg(&report).output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                let report = std::fs::read_to_string(&report).unwrap();
                let general = &report[report.find("\"general\"").unwrap()..];
                let number = |key: &str| -> u64 {
                    let at = general.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("{key} in {general}"));
                    general[at..].split(':').nth(1).unwrap().trim().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
                };
                assert_eq!((number("total_requests"), number("failed_requests")), (requests.len() as u64, 0), "{general:.600}");
            }
            _ => {
                let check = "import json, sys\nfor line in open(sys.argv[1], encoding='ascii'):\n    json.loads(line)\n";
                let out = Command::new("python3").args(["-c", check]).arg(&file).output().unwrap();
                assert!(out.status.success(), "{}\n{log:#?}", String::from_utf8_lossy(&out.stderr));
                assert!(log[0].starts_with("{\"time\":\"") && log[0].contains(r#","client":"127.0.0.1","method":"GET","target":"/","protocol":"HTTP/1.1","status":200,"bytes":10,"duration_us":"#), "{log:?}");
                assert!(log[3].contains(r#""target":"/\"q\"\\\u00ff""#) && log[3].contains(r#""user_agent":"\"evil\"\\\u00ff\u0009x""#), "{log:?}");
            }
        }
        // Events carry their time too.
        server.signal(Signal::HUP);
        let event = server.wait_event("SIGHUP");
        let time = if format == "combined" { event.starts_with('[') && event.contains(" +0000] forkhttpd: ") } else { event.as_bytes().get(19) == Some(&b'Z') };
        assert!(time, "{event}");
    }
}

#[test]
fn every_signal_has_a_meaning() {
    // HUP and USR2: ignored, one line each, and the server serves on.
    let mut server = Server::start(&["--quiet"]);
    for (sig, name) in [(Signal::HUP, "SIGHUP"), (Signal::USR2, "SIGUSR2")] {
        server.signal(sig);
        assert_eq!(server.wait_event(name), format!("forkhttpd: {name}: ignored (forkhttpd has no configuration file to reload)"));
    }
    let (_, body) = split(&server.exchange(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    assert_eq!(body, b"Hello, World!\n");
    assert_eq!(server.events().len(), 2, "{:?}", server.events());
    // QUIT: a forced stop, requests in flight killed at once: 131.
    wait_for(Duration::from_secs(5), || children(server.pid()).is_empty());
    let mut stuck = server.connect();
    stuck.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    wait_for(Duration::from_secs(5), || children(server.pid()).len() == 1);
    let start = Instant::now();
    server.signal(Signal::QUIT);
    assert_eq!(server.wait_exit(Duration::from_secs(3)).code(), Some(131));
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    // Prefork too.
    let mut workers = Server::start(&["--quiet", "-w", "2"]);
    wait_for(Duration::from_secs(5), || children(workers.pid()).len() == 2);
    workers.signal(Signal::HUP);
    workers.wait_event("SIGHUP: ignored");
    assert_eq!(workers.events().len(), 1, "one line, the parent's: {:?}", workers.events());
    workers.signal(Signal::QUIT);
    assert_eq!(workers.wait_exit(Duration::from_secs(3)).code(), Some(131));
}

/// What is served, on the start-up line; errors that say what to do.
#[test]
fn the_command_line_says_what_it_does_and_what_to_do() {
    let dir = TempDir::new("cli");
    let server = Server::spawn({
        let mut cmd = Command::new(bin("forkhttpd"));
        cmd.args(["-p0", "-b", "127.0.0.1", "site"]).current_dir(dir.path());
        std::fs::create_dir(dir.path().join("site")).unwrap();
        cmd
    });
    drop(server);
    let run = |args: &[&str], dir: &Path| Command::new(bin("forkhttpd")).args(args).current_dir(dir).stdout(Stdio::piped()).output().unwrap();
    let out = run(&["-p0", "-b", "127.0.0.1", "--list"], dir.path());
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stderr).as_ref()), (Some(2), "forkhttpd: option needs a DIR to serve: '--list' (see forkhttpd --help)\n"));
    let out = run(&["-p0", "pubilc"], dir.path());
    let resolved = dir.path().canonicalize().unwrap().join("pubilc");
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()),
        (Some(2), format!("forkhttpd: cannot serve 'pubilc' ({}): no such file or directory (ENOENT)\n", resolved.display()))
    );
    // --user needs root: said so. (As root, a user id of no one's, not allowed to change.)
    if rustix::process::geteuid().is_root() {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(dir.copy_bin("forkhttpd"))
            .args(["-p0", "-b", "127.0.0.1", "-u", "1000"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.starts_with("forkhttpd: --user: cannot setgroups: operation not permitted (EPERM): dropping privileges needs root"), "{err}");
    }
    // The start-up line: the article's words, then what is served.
    let mut cmd = Command::new(bin("forkhttpd"));
    cmd.args(["-p", "0", "-b", "127.0.0.1", "site"]).current_dir(dir.path()).stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("Serving HTTP on port ") && first.ends_with(" ... (127.0.0.1, site)\n"), "{first:?}");
}

/// Every option `--help` shows is in the man page and the README; `man` renders the page;
/// `make install` puts the binary and the page where PREFIX says.
#[test]
fn the_man_page_and_the_readme_know_every_option() {
    let help = String::from_utf8(Command::new(bin("forkhttpd")).arg("--help").output().unwrap().stdout).unwrap();
    let man = std::fs::read_to_string(root().join("docs/forkhttpd.1")).unwrap().replace("\\-", "-");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    // The options' lines: `  -p, --port PORT …`, `      --list …`.
    let lines = help.lines().filter(|l| l.starts_with("  -") || l.starts_with("      --"));
    // Each `--name`, as the names column and the help text mention it (`--health's`).
    let options: Vec<String> = lines
        .flat_map(str::split_whitespace)
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| format!("--{}", w[2..].split(|c: char| !c.is_ascii_alphanumeric() && c != '-').next().unwrap()))
        .collect();
    assert!(options.len() >= 19, "{options:?}");
    for option in &options {
        assert!(man.contains(option), "{option} is not in docs/forkhttpd.1");
        assert!(readme.contains(&format!("`{option}")), "{option} is not in README.md");
    }
    let out = Command::new("man").arg("-l").arg(root().join("docs/forkhttpd.1")).env("MANPAGER", "cat").env("MANWIDTH", "80").output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && page.contains("a tiny static HTTP server") && page.contains("--probe URL"), "{page}");

    let prefix = TempDir::new("install");
    let out = Command::new("make")
        .arg("-C")
        .arg(root())
        .arg("install")
        .arg(format!("PREFIX={}", prefix.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(prefix.path().join("bin/forkhttpd").is_file() && prefix.path().join("share/man/man1/forkhttpd.1").is_file());
}
