//! Damages that pasting does to text, shared by the damage tests.

#![allow(dead_code)]

/// Applies `f` to every line, each ending in `\n`.
pub fn each_line(text: &str, f: impl Fn(&str) -> String) -> String {
    text.lines().map(|l| f(l) + "\n").collect()
}

/// What a web form does: `&`, `<`, `>` and quotes as HTML entities.
pub fn entities(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// What a word processor does: straight quotes turned curly, opening and closing.
pub fn smart_quotes(text: &str) -> String {
    let mut out = String::new();
    let (mut single, mut double) = (false, false);
    for c in text.chars() {
        match c {
            '\'' => {
                out.push(if single { '\u{2019}' } else { '\u{2018}' });
                single = !single;
            }
            '"' => {
                out.push(if double { '\u{201d}' } else { '\u{201c}' });
                double = !double;
            }
            c => out.push(c),
        }
    }
    out
}
