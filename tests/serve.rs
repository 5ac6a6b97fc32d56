//! `magediag serve` over real sockets, without a browser: the API's answers equal the
//! CLI's output for the same text, and the guards (Host, Origin, body size) hold.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;

/// A running `magediag serve`, stopped when dropped.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    address: String,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[], &[])
    }

    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_magediag"));
        command
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .trim()
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("no URL on stdout: {line:?}"))
            .to_owned();
        Server { child, address }
    }

    /// Sends a request with `Host` set to the bound address.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut all = vec![("Host", self.address.as_str())];
        all.extend_from_slice(headers);
        self.raw(method, path, &all, body)
    }

    fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[], body)
    }

    /// Sends a request with exactly these headers (plus Content-Length and Connection).
    fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) before it read the body, and close.
        let _ = stream.write_all(body);
        read_reply(stream)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

fn read_reply(mut stream: TcpStream) -> Reply {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no reply head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// What the CLI prints for `args` with `input` on stdin, run in `dir`.
fn cli(args: &[&str], input: &[u8], dir: &Path, env: &[(&str, &str)]) -> Vec<u8> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_magediag"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output.stdout
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("samples").join(name)).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const SAMPLES: [&str; 4] = [
    "auth-keys-rejected.log",
    "dependency-conflict.log",
    "healthy-deploy.log",
    "deploy-log-three-runs.log",
];

#[test]
fn the_api_answers_what_paste_prints_as_json_markdown_and_text() {
    let server = Server::start();
    for name in SAMPLES {
        let text = sample(name);
        for (query, format) in [
            ("", "json"),
            ("?format=json", "json"),
            ("?format=markdown", "markdown"),
            ("?format=text", "text"),
        ] {
            let reply = server.post(&format!("/api/diagnose{query}"), &text);
            assert_eq!(reply.status, 200, "{name} {query}: {}", reply.text());
            let expected = cli(
                &["paste", "--format", format, "--color", "never"],
                &text,
                repo(),
                &[],
            );
            assert!(!expected.is_empty());
            assert_eq!(
                reply.text(),
                String::from_utf8(expected).unwrap(),
                "{name} {query}"
            );
        }
    }
}

#[test]
fn a_gzip_body_is_read_as_its_text_under_the_decompression_cap() {
    let text = sample("auth-keys-rejected.log");
    let server = Server::start();
    let plain = server.post("/api/diagnose", &text);
    let zipped = server.post("/api/diagnose", &gzip(&text));
    assert_eq!(plain.text(), zipped.text());
    assert_eq!(zipped.json()["summary"]["errors"], 1);

    // The cap `scan` and `paste` obey holds here too: the report says the read stopped.
    let env = [("MAGEDIAG_MAX_DECOMPRESSED", "1K")];
    let capped = Server::start_with(&[], &env);
    let reply = capped.post("/api/diagnose", &gzip(&text));
    let expected = cli(&["paste", "--format", "json"], &gzip(&text), repo(), &env);
    assert_eq!(reply.text(), String::from_utf8(expected).unwrap());
    assert!(
        reply.text().contains("read stopped early"),
        "{}",
        reply.text()
    );
}

#[test]
fn several_files_are_diagnosed_as_scan_diagnoses_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("b-disk.log.gz", gzip(&sample("disk-full.log"))),
        ("a-patch.log", sample("patch-failed.log")),
        ("c-healthy.log", sample("healthy-build.log")),
        ("d-binary.dat", b"\0\x01\x02binary".to_vec()),
    ];
    let boundary = "----magediagTestBoundary";
    let mut body = Vec::new();
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let server = Server::start();
    let mut names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    for format in ["json", "markdown"] {
        let reply = server.request(
            "POST",
            &format!("/api/diagnose?format={format}"),
            &[("Content-Type", &content_type)],
            &body,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let mut args = vec!["scan", "--format", format];
        args.extend(&names);
        let expected = cli(&args, b"", dir.path(), &[]);
        assert_eq!(
            reply.text(),
            String::from_utf8(expected).unwrap(),
            "{format}"
        );
    }
    let json = server
        .request(
            "POST",
            "/api/diagnose",
            &[("Content-Type", &content_type)],
            &body,
        )
        .json();
    assert_eq!(json["summary"]["scan"]["read"], 3);
    assert_eq!(json["summary"]["scan"]["compressed"], 1);
    assert_eq!(json["summary"]["scan"]["skipped"]["binary"], 1);
}

#[test]
fn the_page_data_holds_the_cli_markdown_and_text_and_what_was_read() {
    let text = "W: Loading composer repositories with package information\r\nW:   - Installing magento/module-sales (102.0.5.0-patch2): Downloading\r\nW: The &#039;https://repo.magento.com/archives/magento/module-sales/magento-module-sales-102.0.5.0-patch2.zip&#039; URL could not be accessed: HTTP/1.1 403 Forbidden\r\n";
    let server = Server::start();
    let page = server.post("/api/page", text.as_bytes()).json();
    let markdown = cli(&["paste"], text.as_bytes(), repo(), &[]);
    assert_eq!(page["markdown"], String::from_utf8(markdown).unwrap());
    let plain = cli(
        &["paste", "--format", "text", "--color", "never"],
        text.as_bytes(),
        repo(),
        &[],
    );
    assert_eq!(page["text"], String::from_utf8(plain).unwrap());
    let view = &page["views"][0];
    assert_eq!(view["path"], "<paste>");
    assert_eq!(view["lines"].as_array().unwrap().len(), 3);
    assert!(view["lines"][2].as_str().unwrap().contains("&#039;"));
    let repaired = view["repaired"][2]["text"].as_str().unwrap();
    assert!(
        repaired.starts_with("The 'https://repo.magento.com/"),
        "{repaired}"
    );
}

#[test]
fn nothing_found_comes_with_the_rules_that_came_closest() {
    // A 403 from a host no auth rule looks at: the download signal matches, no rule fires.
    let text = "Downloading acme/module-x (1.0.0)\nThe 'https://packages.acme.example/archives/acme/module-x/acme-module-x-1.0.0.zip' URL could not be accessed: HTTP/1.1 418 I'm a teapot\n";
    let server = Server::start();
    let page = server.post("/api/page", text.as_bytes()).json();
    let diagnoses = page["report"]["sources"][0]["diagnoses"]
        .as_array()
        .unwrap();
    assert!(
        diagnoses.is_empty(),
        "a rule fired; pick a text none does: {page}"
    );
    let misses = page["views"][0]["near_misses"].as_array().unwrap();
    let explains_the_refusal = misses.iter().any(|m| {
        m["tests"].as_array().unwrap().iter().any(|t| {
            let t = t.as_str().unwrap();
            t.starts_with("false") && t.contains("composer.archive-refused")
        })
    });
    assert!(explains_the_refusal, "{page}");
    // A text that fires a rule lists no near misses.
    let page = server
        .post("/api/page", &sample("auth-keys-rejected.log"))
        .json();
    assert_eq!(page["views"][0]["near_misses"], serde_json::json!([]));
}

#[test]
fn secrets_are_masked_in_every_answer() {
    let key = "0123456789abcdef0123456789abcdef";
    let text = format!(
        "composer config --global http-basic.repo.magento.com {key} s3cr3tPassw0rdValue\nCOMPOSER_AUTH={{\"http-basic\":{{\"repo.magento.com\":{{\"username\":\"{key}\",\"password\":\"s3cr3tPassw0rdValue\"}}}}}}\nThe 'https://user:s3cr3tPassw0rdValue@repo.magento.com/archives/magento/module-sales/magento-module-sales-1.0.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden\n"
    );
    let server = Server::start();
    for path in [
        "/api/diagnose",
        "/api/diagnose?format=markdown",
        "/api/diagnose?format=text",
        "/api/page",
    ] {
        let reply = server.post(path, text.as_bytes());
        assert_eq!(reply.status, 200);
        let body = reply.text();
        assert!(!body.contains("s3cr3tPassw0rdValue"), "{path}: {body}");
        assert!(!body.contains(key), "{path}: {body}");
    }
    let page = server.post("/api/page", text.as_bytes()).json();
    assert!(
        page["views"][0]["lines"][0]
            .as_str()
            .unwrap()
            .contains("****")
    );
}

#[test]
fn requests_for_another_host_or_from_another_origin_are_refused() {
    let server = Server::start();
    let port = server.address.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("localhost:{port}"),
        format!("rebind.example:{port}"),
        "127.0.0.1".to_owned(),
    ] {
        let reply = server.raw("GET", "/", &[("Host", &host)], b"");
        assert_eq!(reply.status, 403, "{host}");
        assert!(reply.text().contains("refused"), "{}", reply.text());
        let reply = server.raw("POST", "/api/diagnose", &[("Host", &host)], b"text");
        assert_eq!(reply.status, 403, "{host}");
    }
    let reply = server.request(
        "POST",
        "/api/diagnose",
        &[("Origin", "http://evil.example")],
        b"text",
    );
    assert_eq!(reply.status, 403);
    let origin = format!("http://{}", server.address);
    let reply = server.request("POST", "/api/diagnose", &[("Origin", &origin)], b"text");
    assert_eq!(reply.status, 200);
    // No CORS: nothing tells a browser that another origin may read the answers.
    assert!(
        reply
            .headers
            .iter()
            .all(|(n, _)| !n.to_ascii_lowercase().starts_with("access-control"))
    );
}

#[test]
fn a_body_over_the_limit_gets_a_clear_error() {
    let server = Server::start();
    let body = vec![b'a'; (20 << 20) + 1];
    let reply = server.post("/api/diagnose", &body);
    assert_eq!(reply.status, 413);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("larger than 20 MiB"), "{error}");

    // Chunked, so the size is known only once read.
    let mut stream = TcpStream::connect(&server.address).unwrap();
    let head = format!(
        "POST /api/diagnose HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.address
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'b'; 1 << 20];
    for _ in 0..21 {
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| stream.write_all(&chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let reply = read_reply(stream);
    assert_eq!(reply.status, 413);
}

#[test]
fn every_reply_carries_the_content_security_policy() {
    let server = Server::start();
    for (method, path, status) in [
        ("GET", "/", 200),
        ("GET", "/app.js", 200),
        ("GET", "/style.css", 200),
        ("GET", "/nowhere", 404),
        ("GET", "/api/diagnose", 405),
    ] {
        let reply = server.request(method, path, &[], b"");
        assert_eq!(reply.status, status, "{path}");
        let csp = reply.header("Content-Security-Policy").unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert_eq!(reply.header("X-Content-Type-Options"), Some("nosniff"));
    }
    let page = server.request("GET", "/", &[], b"").text();
    // No inline script or style, and nothing from elsewhere.
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains(" style="), "{page}");
    assert!(!page.contains("http://") && !page.contains("https://"));
}

#[test]
fn ctrl_c_stops_it_cleanly() {
    let mut server = Server::start();
    let reply = server.request("GET", "/", &[], b"");
    assert_eq!(reply.status, 200);
    let pid = i32::try_from(server.child.id()).unwrap();
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("stopped"), "{stderr}");
}

#[test]
fn listen_on_another_address_warns() {
    let server = Server::start_with(&["--listen", "0.0.0.0"], &[]);
    assert!(
        server.address.starts_with("127.0.0.1:"),
        "{}",
        server.address
    );
    let port = server.address.rsplit(':').next().unwrap().to_owned();
    let mut child = server;
    let pid = i32::try_from(child.child.id()).unwrap();
    let reply = child.raw("GET", "/", &[("Host", &format!("127.0.0.1:{port}"))], b"");
    assert_eq!(reply.status, 200);
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    child.child.wait().unwrap();
    let mut stderr = String::new();
    child
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("warning: listening on 0.0.0.0"), "{stderr}");
}
