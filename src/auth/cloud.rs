//! `env:COMPOSER_AUTH` written into `.magento.app.yaml`: a Cloud build reads it as
//! `COMPOSER_AUTH` unless a project or environment variable of the same name overrides it.
//!
//! `.magento.app.yaml` can set application variables (`variables: env: NAME: value`);
//! those with the `env` prefix become environment variables of the build. Application
//! variables have the lowest precedence: a project variable overrides them, and an
//! environment variable overrides both. Only the indentation is read here, not the whole
//! YAML language: enough for a plain, quoted or block (`|`, `>`) value.

/// The value of `variables: env: COMPOSER_AUTH` in `.magento.app.yaml` text, if set.
pub fn app_yaml_composer_auth(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut section: Option<usize> = None;
    let mut env: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some((indent, key, rest)) = key_line(line) else {
            continue;
        };
        if section.is_some_and(|s| indent <= s) {
            section = None;
            env = None;
        }
        if env.is_some_and(|e| indent <= e) {
            env = None;
        }
        match (section, env) {
            (None, _) if key == "variables" && rest.is_empty() => section = Some(indent),
            (Some(_), None) if key == "env" && rest.is_empty() => env = Some(indent),
            (Some(_), Some(_)) if key == "COMPOSER_AUTH" => {
                return value(rest, indent, &lines[i + 1..]);
            }
            _ => {}
        }
    }
    None
}

/// Splits `  key: rest` into its indentation, the unquoted key and the rest; `None` for
/// blank lines, comments and lines that are not `key:`.
fn key_line(line: &str) -> Option<(usize, &str, &str)> {
    let body = line.trim_start();
    if body.is_empty() || body.starts_with('#') || body.starts_with('-') {
        return None;
    }
    let indent = line.len() - body.len();
    let (key, rest) = body.split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.contains(' ') {
        return None;
    }
    Some((indent, key, rest.trim()))
}

/// Reads a scalar value starting with `rest`, continued on the following lines if it
/// is a block scalar or an unfinished quoted string.
fn value(rest: &str, indent: usize, following: &[&str]) -> Option<String> {
    if rest.starts_with('|') || rest.starts_with('>') {
        let block: Vec<&str> = following
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .map(|l| l.trim())
            .collect();
        let joined = block.join("\n").trim().to_string();
        return (!joined.is_empty()).then_some(joined);
    }
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
    let Some(quote) = quote else {
        let plain = rest.trim();
        return (!plain.is_empty()).then(|| plain.to_string());
    };
    let mut text = rest[1..].to_string();
    let mut more = following.iter();
    loop {
        if let Some(end) = closing_quote(&text, quote) {
            let inner = &text[..end];
            return Some(if quote == '\'' {
                inner.replace("''", "'")
            } else {
                inner.replace("\\\"", "\"").replace("\\\\", "\\")
            });
        }
        text.push(' ');
        text.push_str(more.next()?.trim());
    }
}

/// The byte offset of the quote that closes a quoted scalar, skipping `''` and `\"`.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let q = quote as u8;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == '"' => i += 2,
            b if b == q && quote == '\'' && bytes.get(i + 1) == Some(&q) => i += 2,
            b if b == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str =
        r#"{"http-basic": {"repo.magento.com": {"username": "u", "password": "p"}}}"#;

    #[test]
    fn reads_single_quoted_double_quoted_plain_and_block_values() {
        let single = format!("name: app\nvariables:\n    env:\n        COMPOSER_AUTH: '{JSON}'\n");
        assert_eq!(app_yaml_composer_auth(&single).as_deref(), Some(JSON));
        let escaped = JSON.replace('"', "\\\"");
        let double = format!("variables:\n  env:\n    \"COMPOSER_AUTH\": \"{escaped}\"\n");
        assert_eq!(app_yaml_composer_auth(&double).as_deref(), Some(JSON));
        let plain = format!("variables:\n  env:\n    COMPOSER_AUTH: {JSON}\n");
        assert_eq!(app_yaml_composer_auth(&plain).as_deref(), Some(JSON));
        let block = "variables:\n  env:\n    COMPOSER_AUTH: |\n      {\"http-basic\":\n        {}}\n  php:\n    memory_limit: 1G\n";
        assert_eq!(
            app_yaml_composer_auth(block).as_deref(),
            Some("{\"http-basic\":\n{}}")
        );
    }

    #[test]
    fn ignores_the_name_outside_variables_env() {
        let other = "variables:\n  php:\n    COMPOSER_AUTH: 'x'\n";
        assert_eq!(app_yaml_composer_auth(other), None);
        let top = "COMPOSER_AUTH: 'x'\nvariables:\n  env:\n    OTHER: 'y'\n";
        assert_eq!(app_yaml_composer_auth(top), None);
        let left = "variables:\n  env:\n    OTHER: 1\nhooks:\n  env:\n    COMPOSER_AUTH: 'x'\n";
        assert_eq!(app_yaml_composer_auth(left), None);
        assert_eq!(
            app_yaml_composer_auth("variables:\n  env:\n    COMPOSER_AUTH: '{\"a\""),
            None
        );
    }
}
