//! `magediag serve`: a page and an API on a loopback port, for pasting or dropping logs in
//! a browser with nothing leaving the machine. The server writes no files and keeps
//! nothing between requests; each request is diagnosed with the CLI's own functions
//! ([`crate::serve::inputs`], [`crate::report::render`]) and forgotten.
//!
//! Security: it binds 127.0.0.1 unless `--listen` says otherwise, refuses requests whose
//! `Host` is not the bound address (DNS rebinding) and cross-origin requests, sends no
//! CORS headers, a Content-Security-Policy that allows this origin only, and takes at
//! most [`api::BODY_LIMIT`] bytes per request.

pub mod api;
pub mod inputs;
mod multipart;

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use crate::Exit;
use crate::pipeline::Runs;
use crate::rule::RuleSet;
use crate::warn;

use api::{BODY_LIMIT, Context, Method, Reply, Request};

/// Arguments of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The port to listen on [default: a free one].
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,

    /// Listen on this address instead of 127.0.0.1 (e.g. 0.0.0.0): anyone who can reach
    /// it can use the page. Prints a warning.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// How many requests are answered at once.
const WORKERS: usize = 4;

/// Runs the server until Ctrl-C.
pub fn serve(rules: RuleSet, args: &ServeArgs, runs: Runs) -> anyhow::Result<Exit> {
    let address = match bind_address(args) {
        Ok(address) => address,
        Err(e) => {
            warn(&e);
            return Ok(Exit::Trouble);
        }
    };
    let server = match tiny_http::Server::http(address) {
        Ok(server) => Arc::new(server),
        Err(e) => {
            warn(&format!("cannot listen on {address}: {e}"));
            return Ok(Exit::Trouble);
        }
    };
    let Some(bound) = server.server_addr().to_ip() else {
        warn("the server is not listening on an IP address");
        return Ok(Exit::Trouble);
    };
    // The page's plain text is the CLI's text without colour.
    colored::control::set_override(false);
    let guard = Guard::new(bound);
    // On a wildcard bind, the page is opened through this machine's loopback address.
    let url = if bound.ip().is_unspecified() {
        let loopback = match bound {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        };
        format!("http://{}/", SocketAddr::new(loopback, bound.port()))
    } else {
        format!("http://{}/", guard.host)
    };
    if !bound.ip().is_loopback() {
        warn(&format!(
            "warning: listening on {bound}, not only this machine: anyone who can reach it \
             can send logs to this page and read the answers. Use it on trusted networks only."
        ));
    }
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let server = Arc::clone(&server);
        let stopping = Arc::clone(&stopping);
        let set = ctrlc::set_handler(move || {
            stopping.store(true, Ordering::SeqCst);
            for _ in 0..WORKERS {
                server.unblock();
            }
        });
        if let Err(e) = set {
            warn(&format!("cannot catch Ctrl-C: {e}"));
        }
    }
    {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{url}")?;
        stdout.flush()?;
    }
    eprintln!("magediag serve: the page is at {url} (Ctrl-C stops it)");
    if args.open
        && let Err(e) = open::that_detached(&url)
    {
        warn(&format!("cannot open a browser ({e}); open {url} yourself"));
    }
    let context = Arc::new(Context { rules, runs });
    let guard = Arc::new(guard);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let server = Arc::clone(&server);
            let context = Arc::clone(&context);
            let guard = Arc::clone(&guard);
            let stopping = Arc::clone(&stopping);
            std::thread::spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    match server.recv() {
                        Ok(request) => answer(&context, &guard, request),
                        // Ctrl-C unblocks every worker this way; any other error is
                        // one connection's.
                        Err(_) if stopping.load(Ordering::SeqCst) => break,
                        Err(_) => {}
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    eprintln!("magediag serve: stopped");
    Ok(Exit::Clean)
}

/// The address to bind: `--listen` (with `--port` or a port of its own) or 127.0.0.1.
fn bind_address(args: &ServeArgs) -> Result<SocketAddr, String> {
    let port = args.port.unwrap_or(0);
    let Some(listen) = &args.listen else {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    };
    if let Ok(address) = listen.parse::<SocketAddr>() {
        if args.port.is_some_and(|p| p != address.port()) {
            return Err(format!(
                "--listen {listen} names a port and --port another: give one"
            ));
        }
        return Ok(address);
    }
    let ip = listen
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map_err(|_| {
            format!("invalid --listen `{listen}`: expected an IP address, like 0.0.0.0 or 192.168.1.5:8080")
        })?;
    Ok(SocketAddr::new(ip, port))
}

/// Which requests may be answered, judged by their headers alone.
pub struct Guard {
    /// The bound address as a `Host` header names it (`127.0.0.1:8080`, `[::1]:8080`).
    pub host: String,
    /// The bound port.
    port: u16,
    /// Bound to every address (`0.0.0.0`, `::`): any IP address of this machine is fine.
    wildcard: bool,
}

impl Guard {
    /// The guard for a server bound to `bound`.
    pub fn new(bound: SocketAddr) -> Guard {
        Guard {
            host: bound.to_string(),
            port: bound.port(),
            wildcard: bound.ip().is_unspecified(),
        }
    }

    /// Why a request with these `Host` and `Origin` headers is refused, if it is.
    ///
    /// A web page elsewhere can make the browser send requests here under a name of its
    /// own that resolves to this address (DNS rebinding): the `Host` then names that
    /// name, so only the bound address itself is accepted (on a wildcard bind, an IP
    /// address with the bound port, which no DNS answer can stand for). A request that a
    /// page of another origin sends carries its `Origin`: refused too.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), String> {
        let Some(host) = host else {
            return Err("the request has no Host header".into());
        };
        if !self.host_is_bound(host) {
            return Err(format!(
                "the request is for `{host}`, not {}: refused (this server answers only \
                 requests for its own address)",
                self.host
            ));
        }
        match origin {
            Some(origin) if !origin.eq_ignore_ascii_case(&format!("http://{host}")) => Err(
                format!("requests from `{origin}` are refused: only this page may call the API"),
            ),
            _ => Ok(()),
        }
    }

    fn host_is_bound(&self, host: &str) -> bool {
        // Port 80 may go unnamed.
        let host = if host.ends_with(']') || !host.contains(':') {
            format!("{host}:80")
        } else if host.starts_with('[') || host.matches(':').count() == 1 {
            host.to_owned()
        } else {
            return false;
        };
        if host.eq_ignore_ascii_case(&self.host) {
            return true;
        }
        self.wildcard
            && host
                .parse::<SocketAddr>()
                .is_ok_and(|address| address.port() == self.port)
    }
}

/// Answers one request on its connection; errors writing the reply are the client's.
fn answer(context: &Context, guard: &Guard, mut request: tiny_http::Request) {
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let host = header("Host");
    let origin = header("Origin");
    let content_type = header("Content-Type");
    if let Err(message) = guard.check(host.as_deref(), origin.as_deref()) {
        send(request, Reply::error(403, &message));
        return;
    }
    if request.body_length().is_some_and(|n| n as u64 > BODY_LIMIT) {
        send(request, Reply::too_large());
        return;
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(BODY_LIMIT + 1)
        .read_to_end(&mut body);
    if let Err(e) = read {
        let reply = Reply::error(
            400,
            &format!(
                "cannot read the request: {}",
                crate::messages::describe_io(&e)
            ),
        );
        send(request, reply);
        return;
    }
    if body.len() as u64 > BODY_LIMIT {
        send(request, Reply::too_large());
        return;
    }
    let method = match request.method() {
        tiny_http::Method::Get => Method::Get,
        tiny_http::Method::Head => Method::Head,
        tiny_http::Method::Post => Method::Post,
        _ => Method::Other,
    };
    let url = request.url().to_owned();
    let reply = api::handle(
        context,
        Request {
            method,
            url: &url,
            content_type: content_type.as_deref(),
            body,
        },
    );
    send(request, reply);
}

/// Sends a reply with the security headers every reply carries.
fn send(request: tiny_http::Request, reply: Reply) {
    let headers: [(&str, &str); 7] = [
        ("Content-Type", reply.content_type),
        ("Content-Security-Policy", api::CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ];
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    // The client may have gone; nothing to do about it.
    let _ = request.respond(response);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bound_address_is_a_good_host() {
        let guard = Guard::new("127.0.0.1:8123".parse().unwrap());
        assert!(guard.check(Some("127.0.0.1:8123"), None).is_ok());
        assert!(
            guard
                .check(Some("127.0.0.1:8123"), Some("http://127.0.0.1:8123"))
                .is_ok()
        );
        for host in [
            "localhost:8123",
            "evil.example:8123",
            "127.0.0.1:8124",
            "127.0.0.1",
            "127.0.0.1:8123:1",
            "",
        ] {
            assert!(guard.check(Some(host), None).is_err(), "{host}");
        }
        assert!(guard.check(None, None).is_err());
        let error = guard
            .check(Some("127.0.0.1:8123"), Some("http://evil.example"))
            .unwrap_err();
        assert!(error.contains("evil.example"), "{error}");
    }

    #[test]
    fn port_80_may_go_unnamed_and_ipv6_is_bracketed() {
        let guard = Guard::new("127.0.0.1:80".parse().unwrap());
        assert!(guard.check(Some("127.0.0.1"), None).is_ok());
        let guard = Guard::new("[::1]:9000".parse().unwrap());
        assert!(guard.check(Some("[::1]:9000"), None).is_ok());
        assert!(guard.check(Some("[::2]:9000"), None).is_err());
    }

    #[test]
    fn a_wildcard_bind_takes_any_ip_address_but_no_name() {
        let guard = Guard::new("0.0.0.0:9000".parse().unwrap());
        assert!(guard.check(Some("192.168.1.5:9000"), None).is_ok());
        assert!(guard.check(Some("192.168.1.5:9001"), None).is_err());
        assert!(guard.check(Some("intranet.example:9000"), None).is_err());
    }

    #[test]
    fn listen_addresses() {
        let args = |listen: Option<&str>, port: Option<u16>| ServeArgs {
            port,
            open: false,
            listen: listen.map(str::to_owned),
        };
        assert_eq!(
            bind_address(&args(None, None)).unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            bind_address(&args(Some("0.0.0.0"), Some(8080))).unwrap(),
            "0.0.0.0:8080".parse().unwrap()
        );
        assert_eq!(
            bind_address(&args(Some("[::1]:81"), None)).unwrap(),
            "[::1]:81".parse().unwrap()
        );
        assert!(bind_address(&args(Some("0.0.0.0:81"), Some(82))).is_err());
        assert!(bind_address(&args(Some("example.com"), None)).is_err());
    }
}
