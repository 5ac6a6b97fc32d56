//! Masking a log line by line, with secrets that span several lines.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::hex::{is_lower_hex, is_word_byte};
use super::hidden::{has_hidden, strip_hidden};
use super::patterns::{AUTH_MAPS, PEM_LABEL};
use super::shapes::map_value_spans;
use super::{MASK, mask, replace_spans};

/// A PEM private key BEGIN or END marker.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static PEM_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("-----(BEGIN|END) {PEM_LABEL}-----")).expect("valid regex")
});

/// The opening of a Composer auth map (or http-basic) object.
// Constant pattern, exercised by the unit tests: it cannot fail at run time.
#[allow(clippy::expect_used)]
static AUTH_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)\\*"(?:{AUTH_MAPS}|http-basic)\\*"\s*:\s*\{{"#
    ))
    .expect("valid regex")
});

/// Masks a log one line at a time, remembering multi-line secrets across calls.
///
/// On top of [`mask`], it masks every line between a PEM `-----BEGIN … PRIVATE
/// KEY-----` line and its END line, and every string value inside a
/// pretty-printed Composer auth map (`"github-oauth": {`, `"bearer": {`,
/// `"http-basic": {`, …) until its closing brace.
#[derive(Debug, Default, Clone)]
pub struct LineMasker {
    /// Inside a PEM private key body.
    in_pem: bool,
    /// Brace depth inside a Composer auth map; 0 when outside.
    auth_depth: usize,
    /// The quote of a secret value the last line left open: the next line continues it
    /// up to that quote (a wrapped `"password": "…`).
    open_quote: Option<char>,
    /// The length of the hex run that ended the last line: the next line may open with
    /// the rest of a wrapped 32-hex key.
    hex_tail: usize,
}

impl LineMasker {
    /// Creates a masker that is outside any multi-line secret.
    pub fn new() -> Self {
        Self::default()
    }

    /// Masks one line (without its line terminator) and updates the multi-line state.
    pub fn mask_line<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let clean = if has_hidden(line) {
            Cow::Owned(strip_hidden(line))
        } else {
            Cow::Borrowed(line)
        };
        if self.in_pem {
            return self.mask_pem_line(line, &clean);
        }
        let continued = self.continue_value(&clean);
        let masked = if self.auth_depth > 0 {
            self.mask_auth_line(continued.as_deref().unwrap_or(&clean))
        } else {
            self.enter_state(&clean);
            match &continued {
                Some(text) => Cow::Owned(mask(text).into_owned()),
                None => mask(line),
            }
        };
        self.note_open_value(&clean, &masked);
        masked
    }

    /// The line with the rest of a value the last line left open masked, if it has one.
    fn continue_value(&mut self, clean: &str) -> Option<String> {
        let lead = clean.len() - clean.trim_start_matches([' ', '\t', '>']).len();
        let body = &clean[lead..];
        if let Some(quote) = self.open_quote {
            let Some(end) = body.find(quote) else {
                // The value goes on past this line too.
                return Some(format!("{}{MASK}", &clean[..lead]));
            };
            self.open_quote = None;
            return (end > 0).then(|| format!("{}{MASK}{}", &clean[..lead], &body[end..]));
        }
        let wanted = 32usize.checked_sub(std::mem::take(&mut self.hex_tail))?;
        let run = body.bytes().take_while(|&b| is_lower_hex(b)).count();
        let fits = run == wanted && run < 32 && !is_word_byte(body.as_bytes().get(run));
        fits.then(|| format!("{}{MASK}{}", &clean[..lead], &body[run..]))
    }

    /// Remembers a quoted secret masked to the end of the line (its closing quote is on
    /// the next line), or a hex run that ends the line (a key the wrap may have cut).
    fn note_open_value(&mut self, clean: &str, masked: &str) {
        if self.open_quote.is_some() {
            return;
        }
        self.hex_tail = 0;
        if let Some(head) = masked.strip_suffix(MASK)
            && let Some(quote) = head.chars().last().filter(|c| matches!(c, '"' | '\''))
        {
            self.open_quote = Some(quote);
            return;
        }
        let bytes = clean.as_bytes();
        let run = bytes.iter().rev().take_while(|&&b| is_lower_hex(b)).count();
        let before = bytes.len().checked_sub(run + 1).and_then(|i| bytes.get(i));
        if run > 0 && run < 32 && !is_word_byte(before) {
            self.hex_tail = run;
        }
    }

    /// Masks a line inside a PEM body: all of it, or everything before the END marker.
    fn mask_pem_line<'a>(&mut self, line: &'a str, clean: &str) -> Cow<'a, str> {
        let end = PEM_MARKER
            .captures_iter(clean)
            .find(|c| c.get(1).is_some_and(|m| m.as_str() == "END"));
        let Some(end) = end.and_then(|c| c.get(0)) else {
            if clean.trim().is_empty() {
                return Cow::Borrowed(line);
            }
            return Cow::Owned(MASK.to_owned());
        };
        self.in_pem = false;
        let rest = &clean[end.start()..];
        self.enter_state(rest);
        let prefix = if end.start() == 0 { "" } else { MASK };
        Cow::Owned(format!("{prefix}{}", mask(rest)))
    }

    /// Masks every string value on a line inside an auth map and tracks its braces.
    fn mask_auth_line<'a>(&mut self, clean: &str) -> Cow<'a, str> {
        let opens = clean.matches('{').count();
        let closes = clean.matches('}').count();
        self.auth_depth = (self.auth_depth + opens).saturating_sub(closes);
        let mut spans = Vec::new();
        map_value_spans(clean, 0, &mut spans);
        let values = replace_spans(clean, spans).unwrap_or_else(|| clean.to_owned());
        Cow::Owned(mask(&values).into_owned())
    }

    /// Enters the PEM or auth-map state when `clean` opens one without closing it.
    fn enter_state(&mut self, clean: &str) {
        let last = PEM_MARKER.captures_iter(clean).last();
        if last.is_some_and(|c| c.get(1).is_some_and(|m| m.as_str() == "BEGIN")) {
            self.in_pem = true;
            return;
        }
        if let Some(open) = AUTH_OPEN.find(clean) {
            let tail = &clean[open.start()..];
            let opens = tail.matches('{').count();
            self.auth_depth = opens.saturating_sub(tail.matches('}').count());
        }
    }
}
