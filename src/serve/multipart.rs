//! `multipart/form-data` bodies, as a browser's `FormData` and `curl -F` send them: the
//! files of one request, each with its name. The body is already in memory (it is
//! bounded by the request limit), so parts are borrowed slices of it.

use memchr::memmem;

/// The most parts one body may hold.
pub const MAX_PARTS: usize = 1000;

/// One part: the file name it was sent under (or its field name), and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub bytes: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type, or `None` for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value.len() <= 200).then(|| value.to_owned())
    })
}

/// Splits a body into its parts; an error says what is wrong with it.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = memmem::find(body, opening.as_bytes())
        .ok_or("the multipart body does not hold its boundary")?;
    let mut rest = &body[start + opening.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a multipart boundary is not followed by a line break")?;
        let head_end = memmem::find(rest, b"\r\n\r\n").ok_or("a multipart part has no headers")?;
        let headers = String::from_utf8_lossy(&rest[..head_end]);
        let content = &rest[head_end + 4..];
        let end = memmem::find(content, delimiter.as_bytes())
            .ok_or("the multipart body ends inside a part (no closing boundary)")?;
        if parts.len() >= MAX_PARTS {
            return Err(format!("more than {MAX_PARTS} files in one request"));
        }
        parts.push(Part {
            name: part_name(&headers).unwrap_or_else(|| format!("file{}", parts.len() + 1)),
            bytes: &content[..end],
        });
        rest = &content[end + delimiter.len()..];
    }
}

/// The `filename` (else the `name`) of a part's `Content-Disposition` header.
fn part_name(headers: &str) -> Option<String> {
    let disposition = headers.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    let param = |wanted: &str| {
        disposition.split(';').find_map(|param| {
            let (key, value) = param.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (key.trim().eq_ignore_ascii_case(wanted) && !value.is_empty())
                // Browsers send a quote in a name as %22 and a line break as %0A.
                .then(|| {
                    value
                        .replace("%22", "\"")
                        .replace("%0D", "")
                        .replace("%0A", "")
                })
        })
    };
    param("filename").or_else(|| param("name"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----abc").as_deref(),
            Some("----abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"q r\"").as_deref(),
            Some("q r")
        );
        assert_eq!(boundary("text/plain; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn parts_keep_their_bytes_and_file_names() {
        let body = b"preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.log\"\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n--XX\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n\x1f\x8b\0binary\r\n--XX--\r\n";
        let parts = parts(body, "XX").unwrap();
        assert_eq!(
            parts,
            [
                Part {
                    name: "a.log".into(),
                    bytes: b"line 1\r\nline 2"
                },
                Part {
                    name: "other".into(),
                    bytes: b"\x1f\x8b\0binary"
                }
            ]
        );
    }

    #[test]
    fn broken_bodies_are_errors_not_panics() {
        assert!(parts(b"", "XX").is_err());
        assert!(parts(b"--XX", "XX").is_err());
        assert!(
            parts(
                b"--XX\r\nContent-Disposition: form-data\r\n\r\nno end",
                "XX"
            )
            .is_err()
        );
        assert!(parts(b"--XXjunk", "XX").is_err());
        assert_eq!(parts(b"--XX--", "XX").unwrap(), []);
    }
}
