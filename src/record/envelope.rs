//! The envelope of one line: what wraps a log message (ece-tools timestamp, level and
//! error code, Cloud build `W:`/`E:` prefixes, Composer exception-box headers).
//!
//! [`parse`] never fails: a line that has none of these is a plain message.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{eof, opt, recognize, verify};
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};
use serde::Serialize;

/// The severity level of an ece-tools (Monolog) line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Level {
    /// The level ece-tools and Monolog print as `word` (`ERROR`), exactly.
    pub fn from_word(word: &str) -> Option<Level> {
        Some(match word {
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "NOTICE" => Level::Notice,
            "WARNING" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" => Level::Critical,
            "ALERT" => Level::Alert,
            "EMERGENCY" => Level::Emergency,
            _ => return None,
        })
    }

    /// The level as ece-tools prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Notice => "NOTICE",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
            Level::Alert => "ALERT",
            Level::Emergency => "EMERGENCY",
        }
    }
}

/// The Cloud build log's stderr (`W:`) or fatal (`E:`) prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudPrefix {
    Warning,
    Error,
}

/// A Composer / Symfony console exception-box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxHeader<'a> {
    /// `[Composer\Downloader\TransportException]`
    Exception(&'a str),
    /// `In RemoteFilesystem.php line 325:`
    Location(&'a str),
}

/// One line taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Leading spaces and tabs before anything else.
    pub indent: usize,
    pub prefix: Option<CloudPrefix>,
    pub timestamp: Option<&'a str>,
    pub level: Option<Level>,
    /// The ece-tools error code, as in `WARNING: [2003] ...`.
    pub code: Option<u32>,
    pub header: Option<BoxHeader<'a>>,
    /// What is left: the message itself, without surrounding whitespace.
    pub message: &'a str,
}

impl<'a> Envelope<'a> {
    /// The envelope of a message whose level and code are known from elsewhere (a
    /// `cloud.error.log` entry, a match kept for later): no indent, prefix, timestamp or
    /// box header.
    pub fn bare(level: Option<Level>, code: Option<u32>, message: &'a str) -> Envelope<'a> {
        Envelope {
            indent: 0,
            prefix: None,
            timestamp: None,
            level,
            code,
            header: None,
            message,
        }
    }
}

/// Takes a line apart; never fails.
pub fn parse(line: &str) -> Envelope<'_> {
    let rest = line.trim_start_matches([' ', '\t']);
    let indent = line.len() - rest.len();
    let (rest, prefix) = match cloud_prefix(rest) {
        Ok((rest, prefix)) => (rest, Some(prefix)),
        Err(_) => (rest, None),
    };
    let (rest, timestamp, level) = match ece_head(rest) {
        Ok((rest, (timestamp, level))) => (rest, Some(timestamp), Some(level)),
        Err(_) => (rest, None, None),
    };
    let (rest, code) = match level.map(|_| error_code(rest)) {
        Some(Ok((rest, code))) => (rest, code.parse().ok()),
        _ => (rest, None),
    };
    let message = rest.trim();
    let header = if level.is_none() {
        box_header(message).ok().map(|(_, header)| header)
    } else {
        None
    };
    Envelope {
        indent,
        prefix,
        timestamp,
        level,
        code,
        header,
        message,
    }
}

fn cloud_prefix(input: &str) -> IResult<&str, CloudPrefix> {
    let warning = tag("W:").map(|_| CloudPrefix::Warning);
    let error = tag("E:").map(|_| CloudPrefix::Error);
    terminated(alt((warning, error)), alt((space1, eof))).parse(input)
}

/// Exactly `n` ASCII digits. Byte by byte: this runs on every line read, and nom's
/// `take_while_m_n` decodes each char first (a fifth of a line's framing).
fn digits(n: usize) -> impl Fn(&str) -> IResult<&str, &str> {
    move |input| match input.as_bytes().get(..n) {
        Some(head) if head.iter().all(u8::is_ascii_digit) => Ok((&input[n..], &input[..n])),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TakeWhileMN,
        ))),
    }
}

/// `2019-01-03 19:44:11` or `2023-04-24T18:58:04.129888+00:00`.
fn timestamp(input: &str) -> IResult<&str, &str> {
    let date = (digits(4), char('-'), digits(2), char('-'), digits(2));
    let time = (digits(2), char(':'), digits(2), char(':'), digits(2));
    let fraction = opt(preceded(char('.'), digit1));
    let zone = opt(alt((
        tag("Z"),
        recognize((
            alt((char('+'), char('-'))),
            digits(2),
            opt(char(':')),
            digits(2),
        )),
    )));
    recognize((date, alt((char(' '), char('T'))), time, fraction, zone)).parse(input)
}

/// `[timestamp] LEVEL: ` or Monolog's `[timestamp] channel.LEVEL: `.
fn ece_head(input: &str) -> IResult<&str, (&str, Level)> {
    let (rest, stamp) = delimited(char('['), timestamp, char(']')).parse(input)?;
    let (rest, _) = space1(rest)?;
    let channel = opt(terminated(
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        char('.'),
    ));
    let (rest, word) =
        preceded(channel, take_while1(|c: char| c.is_ascii_uppercase())).parse(rest)?;
    let level = Level::from_word(word)
        .ok_or_else(|| nom::Err::Error(nom::error::Error::new(rest, nom::error::ErrorKind::Tag)))?;
    let (rest, _) = (char(':'), space0).parse(rest)?;
    Ok((rest, (stamp, level)))
}

/// `[2003] ` after the level.
fn error_code(input: &str) -> IResult<&str, &str> {
    terminated(delimited(char('['), digit1, char(']')), space0).parse(input)
}

fn box_header(message: &str) -> IResult<&str, BoxHeader<'_>> {
    let class = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '\\' || c == '_');
    let class = verify(class, |name: &str| {
        name.ends_with("Exception") || name.ends_with("Error")
    });
    let exception = delimited(char('['), class, (char(']'), eof)).map(BoxHeader::Exception);
    let file = take_while1(|c: char| !c.is_whitespace());
    let location = delimited(
        tag("In "),
        recognize((file, tag(" line "), digit1)),
        (char(':'), eof),
    )
    .map(BoxHeader::Location);
    alt((exception, location)).parse(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_old_ece_tools_timestamp() {
        let e = parse("[2019-01-03 19:44:11] NOTICE: Starting deploy.");
        assert_eq!(e.timestamp, Some("2019-01-03 19:44:11"));
        assert_eq!(e.level, Some(Level::Notice));
        assert_eq!(e.message, "Starting deploy.");
    }

    #[test]
    fn reads_iso_timestamp_and_error_code() {
        let e = parse("[2023-04-24T18:58:04.129888+00:00] WARNING: [2003] Some issue");
        assert_eq!(e.timestamp, Some("2023-04-24T18:58:04.129888+00:00"));
        assert_eq!(e.level, Some(Level::Warning));
        assert_eq!(e.code, Some(2003));
        assert_eq!(e.message, "Some issue");
    }

    /// A timestamp's fields have exactly their number of ASCII digits.
    #[test]
    fn a_timestamp_needs_each_field_s_digits() {
        assert_eq!(parse("[2019-1-03 19:44:11] INFO: x").level, None);
        assert_eq!(parse("[2019-01-03 19:44:1] INFO: x").level, None);
        assert_eq!(parse("[201\u{0669}-01-03 19:44:11] INFO: x").level, None);
        assert_eq!(parse("[2019-01-0").level, None);
        let e = parse("[2019-01-03T19:44:11+0100] INFO: x");
        assert_eq!(e.timestamp, Some("2019-01-03T19:44:11+0100"));
        assert_eq!(e.message, "x");
    }

    #[test]
    fn reads_monolog_channel_level() {
        let e = parse("[2018-07-07 21:10:17] main.CRITICAL: No alive nodes found");
        assert_eq!(e.level, Some(Level::Critical));
        assert_eq!(e.message, "No alive nodes found");
    }

    #[test]
    fn reads_cloud_prefix_with_indent() {
        let e = parse("    W:   [Composer\\Downloader\\TransportException]");
        assert_eq!(e.indent, 4);
        assert_eq!(e.prefix, Some(CloudPrefix::Warning));
        assert_eq!(
            e.header,
            Some(BoxHeader::Exception(
                "Composer\\Downloader\\TransportException"
            ))
        );
    }

    #[test]
    fn reads_location_header() {
        let e = parse("In RemoteFilesystem.php line 325:");
        assert_eq!(
            e.header,
            Some(BoxHeader::Location("RemoteFilesystem.php line 325"))
        );
    }

    #[test]
    fn plain_text_is_a_message() {
        let e = parse("  - Installing magento/framework (103.0.5): Extracting archive");
        assert_eq!(e.level, None);
        assert_eq!(e.prefix, None);
        assert_eq!(
            e.message,
            "- Installing magento/framework (103.0.5): Extracting archive"
        );
    }

    #[test]
    fn words_that_look_like_prefixes_are_not() {
        assert_eq!(parse("W:x").prefix, None);
        assert_eq!(parse("[2019-01-03 19:44:11] Started").level, None);
        assert_eq!(parse("[Progress: 408 / 425]").header, None);
    }

    #[test]
    fn bracketed_words_are_headers_only_when_they_name_an_exception() {
        assert_eq!(
            parse("[Exception]").header,
            Some(BoxHeader::Exception("Exception"))
        );
        assert_eq!(parse("[magento]").header, None);
    }
}
