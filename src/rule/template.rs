//! Summary templates: text with `{field}` placeholders filled from a diagnosis.
//!
//! `{name}` is the value from the first evidence event that has it; `{name|list}` the
//! distinct values of all evidence events, joined; `{name|mb}` a byte count in MiB;
//! `{name|limit}` a byte count as PHP's `memory_limit` (`2G`); `{name|above}` a
//! `memory_limit` above that byte count (the next of 2G, 4G, 8G, ...); `{name|count}`
//! how many distinct values there are.
//! `{count}`, `{packages}`, `{package_count}` and `{first_line}` describe the diagnosis;
//! `{{` and `}}` are literal braces.
//!
//! `{? ...}` is an optional part: text and placeholders shown only when every
//! placeholder in it has a value. `HTTP {status}{? ({reason})}` reads `HTTP 400 (Bad
//! Request)`, or `HTTP 400` when no reason was captured, never `HTTP 400 ()`.

/// Placeholders every rule may use.
pub const BUILTIN_NAMES: &[&str] = &["count", "packages", "package_count", "first_line"];

/// How a placeholder's value is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// The first value.
    First,
    /// Every distinct value, joined with `, `.
    List,
    /// A byte count shown in MiB.
    Mb,
    /// A byte count written as PHP's `memory_limit` (`2G`, `1536M`).
    Limit,
    /// A `memory_limit` above a byte count: the next of 2G, 4G, 8G, ... past it.
    Above,
    /// How many distinct values there are (`{host|count} host(s)` reads `1 host`).
    Count,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field {
        name: String,
        filter: Filter,
        offset: usize,
    },
    /// `{? ...}`: shown only when each of its fields has a value.
    Optional(Vec<Part>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template mistake at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// Parses a template.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let at = text.len() - rest.len() + i;
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                literal.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(TemplateError {
                    offset: at,
                    message: "unmatched `}`: write `}}` for a literal brace".into(),
                });
            }
            let Some(end) = tail.find('}') else {
                return Err(TemplateError {
                    offset: at,
                    message: "unclosed `{`: expected `}` after the field name".into(),
                });
            };
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            if let Some(group) = tail.strip_prefix("{?") {
                let Some(close) = optional_end(group) else {
                    return Err(TemplateError {
                        offset: at,
                        message: "unclosed `{?`: expected `}` after the optional part".into(),
                    });
                };
                let inner = Template::parse(&group[..close]).map_err(|e| TemplateError {
                    offset: at + 2 + e.offset,
                    message: e.message,
                })?;
                let mut inner = inner.parts;
                for part in &mut inner {
                    match part {
                        Part::Field { offset, .. } => *offset += at + 2,
                        Part::Optional(_) => {
                            return Err(TemplateError {
                                offset: at,
                                message: "an optional part cannot hold another `{?`".into(),
                            });
                        }
                        Part::Text(_) => {}
                    }
                }
                parts.push(Part::Optional(inner));
                rest = &group[close + 1..];
                continue;
            }
            parts.push(parse_field(&tail[1..end], at + 1)?);
            rest = &tail[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Every placeholder name with its byte offset in the template.
    pub fn field_names(&self) -> Vec<(usize, &str)> {
        fn names<'a>(parts: &'a [Part], out: &mut Vec<(usize, &'a str)>) {
            for part in parts {
                match part {
                    Part::Field { name, offset, .. } => out.push((*offset, name.as_str())),
                    Part::Optional(inner) => names(inner, out),
                    Part::Text(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        names(&self.parts, &mut out);
        out
    }

    /// Fills the placeholders.
    pub fn render(&self, value: &dyn Fn(&str, Filter) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field { name, filter, .. } => out.push_str(&value(name, *filter)),
                Part::Optional(inner) => {
                    let mut shown = String::new();
                    let complete = inner.iter().all(|part| match part {
                        Part::Text(text) => {
                            shown.push_str(text);
                            true
                        }
                        Part::Field { name, filter, .. } => {
                            let v = value(name, *filter);
                            shown.push_str(&v);
                            !v.trim().is_empty()
                        }
                        Part::Optional(_) => true,
                    });
                    if complete {
                        out.push_str(&shown);
                    }
                }
            }
        }
        plurals(&out)
    }
}

/// Settles `word(s)` and `word(es)` after a number: `1 line(s)` is `1 line`, `4 line(s)`
/// is `4 lines`. Without a number before it, the word is left as written.
pub fn plurals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let (before, tail) = rest.split_at(open);
        let suffix = ["(s)", "(es)"].into_iter().find(|s| tail.starts_with(s));
        let Some(suffix) = suffix else {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        };
        let word_start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '-'))
            .map_or(0, |i| i + 1);
        let number = before[..word_start]
            .strip_suffix(' ')
            .map(|head| {
                let start = head
                    .rfind(|c: char| !c.is_ascii_digit())
                    .map_or(0, |i| i + 1);
                &head[start..]
            })
            .filter(|n| !n.is_empty() && word_start < before.len());
        out.push_str(before);
        match number {
            Some("1") => {}
            Some(_) => out.push_str(&suffix[1..suffix.len() - 1]),
            None => out.push_str(suffix),
        }
        rest = &tail[suffix.len()..];
    }
    out.push_str(rest);
    out
}

/// `N thing` or `N things`.
pub fn count(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// A version as Composer writes it: archive names hold the normalised form
/// (`103.0.5.0-patch2`), Composer and composer.json say `103.0.5-p2`.
pub fn composer_version(version: &str) -> String {
    let (numbers, patch) = match version.split_once("-patch") {
        Some((numbers, patch))
            if !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (numbers, Some(patch))
        }
        Some(_) => return version.to_owned(),
        None => (version, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric || parts.len() < 3 {
        return version.to_owned();
    }
    let numbers = match parts.as_slice() {
        [a, b, c, "0"] => format!("{a}.{b}.{c}"),
        _ => numbers.to_owned(),
    };
    match patch {
        Some(p) => format!("{numbers}-p{p}"),
        None => numbers,
    }
}

/// Where the `}` that closes an optional part is, in the text after its `{?`: the first
/// one outside its placeholders (`{{` and `}}` are literal braces).
fn optional_end(group: &str) -> Option<usize> {
    let bytes = group.as_bytes();
    let mut i = 0;
    let mut in_field = false;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) if !in_field => i += 2,
            (b'{', _) => {
                in_field = true;
                i += 1;
            }
            (b'}', _) if in_field => {
                in_field = false;
                i += 1;
            }
            (b'}', _) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn parse_field(inner: &str, offset: usize) -> Result<Part, TemplateError> {
    let (name, filter) = match inner.split_once('|') {
        Some((name, filter)) => (name.trim(), Some(filter.trim())),
        None => (inner.trim(), None),
    };
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(TemplateError {
            offset,
            message: format!("invalid field name `{name}`: expected letters, digits or `_`"),
        });
    }
    let filter = match filter {
        None | Some("first") => Filter::First,
        Some("list") => Filter::List,
        Some("mb") => Filter::Mb,
        Some("limit") => Filter::Limit,
        Some("above") => Filter::Above,
        Some("count") => Filter::Count,
        Some(other) => {
            return Err(TemplateError {
                offset,
                message: format!(
                    "unknown filter `{other}`: expected `first`, `list`, `count`, `mb`, `limit` or `above`"
                ),
            });
        }
    };
    Ok(Part::Field {
        name: name.to_owned(),
        filter,
        offset,
    })
}

/// Formats a byte count as MiB, the way PHP's memory_limit is usually written.
pub fn bytes_to_mb(bytes: &str) -> String {
    match bytes.trim().parse::<u64>() {
        Ok(b) if b % (1 << 20) == 0 => format!("{} MB", b >> 20),
        Ok(b) => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        Err(_) => bytes.to_owned(),
    }
}

/// Formats a byte count as PHP writes a `memory_limit`: `2G`, `1536M`, or bytes.
pub fn bytes_to_limit(bytes: &str) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    match bytes.trim().parse::<u64>() {
        Ok(b) if b > 0 && b % GIB == 0 => format!("{}G", b / GIB),
        Ok(b) if b > 0 && b % MIB == 0 => format!("{}M", b / MIB),
        Ok(b) => b.to_string(),
        Err(_) => bytes.to_owned(),
    }
}

/// A `memory_limit` strictly above a byte count: the first of 2G, 4G, 8G, ... past it
/// (Magento's CLI wants 2G at least, so a lower limit is raised to 2G).
pub fn limit_above(bytes: &str) -> String {
    const GIB: u64 = 1 << 30;
    let Ok(current) = bytes.trim().parse::<u64>() else {
        return String::new();
    };
    let mut gigabytes: u64 = 2;
    while gigabytes.saturating_mul(GIB) <= current && gigabytes < (1 << 20) {
        gigabytes *= 2;
    }
    format!("{gigabytes}G")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_plurals_after_numbers() {
        assert_eq!(plurals("1 download(s) refused"), "1 download refused");
        assert_eq!(plurals("4 download(s) refused"), "4 downloads refused");
        assert_eq!(plurals("(12 line(s))"), "(12 lines)");
        assert_eq!(plurals("1 patch(es); 2 patch(es)"), "1 patch; 2 patches");
        assert_eq!(
            plurals("Search index(es) blocked"),
            "Search index(es) blocked"
        );
        assert_eq!(plurals("host(s) (see above)"), "host(s) (see above)");
        assert_eq!(plurals("10 line(s)"), "10 lines");
        assert_eq!(plurals("a (s)"), "a (s)");
    }

    #[test]
    fn versions_in_composer_form() {
        assert_eq!(composer_version("103.0.5.0-patch2"), "103.0.5-p2");
        assert_eq!(composer_version("101.4.1.0"), "101.4.1");
        assert_eq!(composer_version("2.4.6.1"), "2.4.6.1");
        assert_eq!(composer_version("2.15.3"), "2.15.3");
        assert_eq!(composer_version("dev-main"), "dev-main");
        assert_eq!(composer_version("1.0.0.0-patchx"), "1.0.0.0-patchx");
        assert_eq!(composer_version("1.0"), "1.0");
    }

    #[test]
    fn an_optional_part_shows_only_with_all_its_values() {
        let t = Template::parse("HTTP {status}{? ({reason})}.").unwrap();
        let with = |reason: &'static str| {
            move |name: &str, _: Filter| match name {
                "status" => "400".to_owned(),
                _ => reason.to_owned(),
            }
        };
        assert_eq!(t.render(&with("Bad Request")), "HTTP 400 (Bad Request).");
        assert_eq!(t.render(&with("")), "HTTP 400.");
        assert_eq!(t.render(&with("  ")), "HTTP 400.");
        let names: Vec<&str> = t.field_names().iter().map(|&(_, n)| n).collect();
        assert_eq!(names, ["status", "reason"]);
        // The field's offset is in the whole template, for errors.
        assert_eq!(t.field_names()[1].0, 18);
        assert!(Template::parse("a {? b {c}").is_err());
        assert!(Template::parse("a {? {? {c}}}").is_err());
        let braces = Template::parse("{? {{x}} {c}}").unwrap();
        assert_eq!(braces.render(&|_, _| "1".into()), " {x} 1");
    }

    #[test]
    fn renders_fields_and_braces() {
        let t = Template::parse("{count} archive(s) {{x}} first {name|list}").unwrap();
        let out = t.render(&|name, filter| format!("<{name}:{filter:?}>"));
        assert_eq!(out, "<count:First> archive(s) {x} first <name:List>");
        assert_eq!(t.field_names(), vec![(1, "count"), (32, "name")]);
    }

    #[test]
    fn reports_unclosed_and_bad_filters() {
        assert_eq!(Template::parse("a {b").unwrap_err().offset, 2);
        assert!(
            Template::parse("{b|nope}")
                .unwrap_err()
                .message
                .contains("unknown filter")
        );
        assert!(Template::parse("a } b").is_err());
    }

    #[test]
    fn memory_limits_are_written_as_php_does_and_raised_above_the_current_one() {
        assert_eq!(bytes_to_limit("2147483648"), "2G");
        assert_eq!(bytes_to_limit("1610612736"), "1536M");
        assert_eq!(bytes_to_limit("1000"), "1000");
        assert_eq!(limit_above("2147483648"), "4G");
        assert_eq!(limit_above("2147483647"), "2G");
        assert_eq!(limit_above("1610612736"), "2G");
        assert_eq!(limit_above("134217728"), "2G");
        assert_eq!(limit_above("4294967296"), "8G");
        assert_eq!(limit_above("not a number"), "");
        assert!(Template::parse("{bytes|above} {bytes|limit}").is_ok());
    }

    #[test]
    fn formats_megabytes() {
        assert_eq!(bytes_to_mb("2097152"), "2 MB");
        assert_eq!(bytes_to_mb("1610612736"), "1536 MB");
        assert_eq!(bytes_to_mb("1000"), "0.0 MB");
    }
}
