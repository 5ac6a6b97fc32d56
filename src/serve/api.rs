//! What the server answers, as a pure function from a request to a reply: the page's
//! files, `POST /api/diagnose` (the CLI's JSON, Markdown or text) and `POST /api/page`
//! (everything the page shows). No socket here, so all of it is tested without one.

use serde::Serialize;

use crate::pipeline::Runs;
use crate::report::diagnosis::Report;
use crate::report::render::{self, Format};
use crate::rule::RuleSet;
use crate::serve::inputs::{self, Named, NearMiss, ReadView};

use super::multipart;

/// The most bytes one request body may hold.
pub const BODY_LIMIT: u64 = 20 << 20;

/// The most lines of one input the page's views hold.
const VIEW_LINES: usize = 200_000;

/// The most rules listed as near misses when nothing was found.
const NEAR_MISSES: usize = 3;

/// The Content-Security-Policy of every reply: nothing but this origin, no inline code.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");
const ICON_SVG: &str = include_str!("../../web/icon.svg");

/// An HTTP method, as far as the server cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// A request whose headers passed the checks of [`super::Guard`] and whose body was read.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    /// The path and query, e.g. `/api/diagnose?format=markdown`.
    pub url: &'a str,
    pub content_type: Option<&'a str>,
    pub body: Vec<u8>,
}

/// A reply: status, content type and body (the security headers are added when sent).
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    /// An error as `{"error": "..."}`.
    pub fn error(status: u16, message: &str) -> Reply {
        let body = serde_json::json!({ "error": message }).to_string();
        Reply {
            status,
            content_type: JSON,
            body: body.into_bytes(),
        }
    }

    /// The reply to a body over [`BODY_LIMIT`].
    pub fn too_large() -> Reply {
        Reply::error(
            413,
            &format!(
                "The input is larger than {} MiB, the most magediag serve takes at once. \
                 Diagnose a log this large in a terminal: magediag FILE (or magediag scan DIR).",
                BODY_LIMIT >> 20
            ),
        )
    }
}

const JSON: &str = "application/json; charset=utf-8";
const MARKDOWN: &str = "text/markdown; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// What the server needs to answer: the rules, loaded once, and how runs are reported.
pub struct Context {
    pub rules: RuleSet,
    pub runs: Runs,
}

/// Answers one request.
pub fn handle(context: &Context, request: Request<'_>) -> Reply {
    let (path, query) = request.url.split_once('?').unwrap_or((request.url, ""));
    match (path, request.method) {
        ("/" | "/index.html", Method::Get | Method::Head) => {
            Reply::ok("text/html; charset=utf-8", INDEX_HTML)
        }
        ("/app.js", Method::Get | Method::Head) => {
            Reply::ok("text/javascript; charset=utf-8", APP_JS)
        }
        ("/style.css", Method::Get | Method::Head) => {
            Reply::ok("text/css; charset=utf-8", STYLE_CSS)
        }
        ("/icon.svg" | "/favicon.ico", Method::Get | Method::Head) => {
            Reply::ok("image/svg+xml", ICON_SVG)
        }
        ("/api/diagnose", Method::Post) => diagnose(context, &request, query),
        ("/api/page", Method::Post) => page(context, &request, query),
        ("/" | "/index.html" | "/app.js" | "/style.css" | "/icon.svg" | "/favicon.ico", _)
        | ("/api/diagnose" | "/api/page", _) => Reply::error(405, "method not allowed"),
        _ => Reply::error(404, "not found"),
    }
}

/// The inputs of a request: one body, or the files of a `multipart/form-data` body.
enum Inputs {
    One(Named),
    Many(Vec<Named>),
}

fn inputs(request: &Request<'_>, query: &str) -> Result<Inputs, Reply> {
    if let Some(boundary) = request.content_type.and_then(multipart::boundary) {
        let parts =
            multipart::parts(&request.body, &boundary).map_err(|e| Reply::error(400, &e))?;
        if parts.is_empty() {
            return Err(Reply::error(400, "the multipart body holds no file"));
        }
        return Ok(Inputs::Many(
            parts
                .into_iter()
                .map(|p| Named {
                    name: p.name,
                    bytes: p.bytes.to_vec(),
                })
                .collect(),
        ));
    }
    let name = query_value(query, "name")
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "<paste>".to_owned());
    Ok(Inputs::One(Named {
        name,
        bytes: request.body.clone(),
    }))
}

/// A report, and whether it is a scan's (several inputs: rendered with the roll-up).
struct Diagnosed {
    report: Report,
    scan: bool,
    messages: Vec<String>,
    /// A paste is read whole, as `magediag paste` reads it: the customer's words,
    /// pasted configuration and the secrets it holds shape the reply.
    ticket: Option<crate::report::reply::Ticket>,
}

fn run(context: &Context, inputs: Inputs) -> Diagnosed {
    match inputs {
        Inputs::One(input) => {
            let name = input.name.clone();
            let ticket = (name == "<paste>").then(|| {
                crate::report::reply::Ticket::read(&inputs::decoded_text(&input.bytes, PASTE_TEXT))
            });
            let (mut report, error) = inputs::diagnose_one(&context.rules, input, context.runs);
            if let Some(ticket) = &ticket {
                crate::report::reply::redact_report(&mut report, ticket);
            }
            Diagnosed {
                ticket,
                report,
                scan: false,
                messages: error
                    .map(|e| format!("{name}: {e}; what was read before is diagnosed"))
                    .into_iter()
                    .collect(),
            }
        }
        Inputs::Many(inputs) => {
            let scan = inputs::diagnose_many(&context.rules, inputs, context.runs);
            Diagnosed {
                ticket: None,
                report: scan.report,
                scan: true,
                messages: scan.messages,
            }
        }
    }
}

/// The most of a paste read as the customer's ticket, as `magediag paste` caps it.
const PASTE_TEXT: u64 = 64 << 20;

/// Renders as the CLI does: `paste`/`magediag FILE` for one input (Markdown is the
/// support reply), `scan` for several.
fn rendered(context: &Context, diagnosed: &Diagnosed, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = if diagnosed.scan {
        render::render_scan(&diagnosed.report, format, &mut out)
    } else if format == Format::Markdown {
        crate::report::reply::write(
            &diagnosed.report,
            &context.rules,
            diagnosed.ticket.as_ref(),
            &mut out,
        )
    } else {
        render::render(&diagnosed.report, format, &mut out)
    };
    out
}

fn diagnose(context: &Context, request: &Request<'_>, query: &str) -> Reply {
    let format = match query_value(query, "format").as_deref() {
        None | Some("json") => Format::Json,
        Some("markdown") => Format::Markdown,
        Some("text") => Format::Text,
        Some(other) => {
            return Reply::error(
                400,
                &format!("unknown format `{other}`: expected json, markdown or text"),
            );
        }
    };
    let inputs = match inputs(request, query) {
        Ok(inputs) => inputs,
        Err(reply) => return reply,
    };
    let diagnosed = run(context, inputs);
    let content_type = match format {
        Format::Markdown => MARKDOWN,
        Format::Text => TEXT,
        _ => JSON,
    };
    Reply::ok(content_type, rendered(context, &diagnosed, format))
}

/// Everything the page shows for its inputs.
#[derive(Serialize)]
struct Page {
    /// The report, as `--format json` writes it.
    report: Report,
    /// Exactly what `--format markdown` prints (`paste`'s output for a paste).
    markdown: String,
    /// What `--format text --color never` prints.
    text: String,
    /// Inputs that could not be read in full, and why.
    messages: Vec<String>,
    /// What magediag read of each input, in the report's order.
    views: Vec<View>,
}

#[derive(Serialize)]
struct View {
    path: String,
    #[serde(flatten)]
    read: ReadView,
    /// When no rule fired: the rules closest to firing, and why they did not.
    near_misses: Vec<NearMiss>,
}

fn page(context: &Context, request: &Request<'_>, query: &str) -> Reply {
    let inputs = match inputs(request, query) {
        Ok(inputs) => inputs,
        Err(reply) => return reply,
    };
    let mut views: Vec<(String, ReadView, Vec<u8>)> = Vec::new();
    let mut view_of = |input: &Named| {
        views.push((
            input.name.clone(),
            inputs::read_view(&input.bytes, VIEW_LINES),
            input.bytes.clone(),
        ));
    };
    match &inputs {
        Inputs::One(input) => view_of(input),
        Inputs::Many(many) => many.iter().for_each(&mut view_of),
    }
    views.sort_by(|a, b| a.0.cmp(&b.0));
    let diagnosed = run(context, inputs);
    let views = views
        .into_iter()
        .map(|(path, read, bytes)| {
            let found = diagnosed
                .report
                .sources
                .iter()
                .any(|s| s.path == path && !s.diagnoses.is_empty());
            let near_misses = if found {
                Vec::new()
            } else {
                let text = inputs::decoded_text(&bytes, inputs::NEAR_MISS_TEXT);
                inputs::near_misses(&context.rules, &text, NEAR_MISSES)
            };
            View {
                path,
                read,
                near_misses,
            }
        })
        .collect();
    let page = Page {
        markdown: String::from_utf8_lossy(&rendered(context, &diagnosed, Format::Markdown))
            .into_owned(),
        text: String::from_utf8_lossy(&rendered(context, &diagnosed, Format::Text)).into_owned(),
        report: diagnosed.report,
        messages: diagnosed.messages,
        views,
    };
    match serde_json::to_vec(&page) {
        Ok(body) => Reply::ok(JSON, body),
        Err(e) => Reply::error(500, &format!("cannot write the page's data: {e}")),
    }
}

/// The value of `key` in a query string, percent-decoded.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` escapes and `+` (a space in a form query); invalid escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded() {
        assert_eq!(
            query_value("format=markdown&name=deploy%20log.gz", "name").as_deref(),
            Some("deploy log.gz")
        );
        assert_eq!(query_value("a=1", "name"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz+x%41"), "%zz xA");
    }
}
