//! The `magediag auth` command: its arguments, its help, and where its inputs come from.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::online::DEFAULT_REPO_URL;
use super::project::{self, CloudInput};
use super::render;

/// The examples and notes shown after `magediag auth --help`.
pub const HELP: &str = "\
A Cloud build reads only what is committed to git, plus the env:COMPOSER_AUTH variable;
a local run also reads this machine's global auth.json, its COMPOSER_AUTH and the
project's auth.json even if it is not committed. The report says which pair each uses.

Examples:
  magediag auth                                  check the project in the current folder
  magento-cloud variable:get env:COMPOSER_AUTH --property=value | magediag auth --composer-auth -
                                                 include the Cloud variable
  magediag auth ~/projects/shop --online         also ask repo.magento.com which pair works
  magediag auth --online --repo-url https://mirror.example.com/packages.json
                                                 ask another repository (https only is safe)
  magediag auth --format json | jq '.views[] | {view, used, online}'

Keys are shown only as fingerprints (first 4 characters and a short hash).
Exit status: 0 fine, 1 a problem found, 2 usage or I/O error (missing folder, bad --repo-url).";

/// Output format of `magediag auth`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// The `AuthReport` as JSON.
    Json,
}

/// Command-line arguments of `magediag auth`.
#[derive(clap::Args, Debug, Clone)]
pub struct AuthArgs {
    /// Project root, where composer.json and auth.json live.
    #[arg(default_value = ".")]
    pub project_dir: PathBuf,
    /// The value of the Cloud variable env:COMPOSER_AUTH, read from stdin (`-`) or a file.
    /// Inline JSON is refused so keys stay out of shell history.
    #[arg(long, value_name = "-|FILE")]
    pub composer_auth: Option<String>,
    /// Composer home holding the global auth.json [default: $COMPOSER_HOME, else
    /// ~/.config/composer or ~/.composer].
    #[arg(long, value_name = "DIR")]
    pub composer_home: Option<PathBuf>,
    /// Composer version to assume, which decides whether COMPOSER_AUTH or auth.json wins
    /// [default: Cloud build: composer/composer in .magento.app.yaml; local run: unknown].
    #[arg(long, value_name = "X.Y.Z")]
    pub composer_version: Option<String>,
    /// Also ask the repository whether each distinct pair is accepted (network access).
    #[arg(long)]
    pub online: bool,
    /// URL requested by --online (http:// sends the keys unencrypted: a warning).
    #[arg(long, value_name = "URL", default_value = DEFAULT_REPO_URL, requires = "online")]
    pub repo_url: String,
    /// Output format (the JSON is the `AuthReport`, see docs/auth.md).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What `magediag auth` concluded: exit code 0 or 1 (errors are exit code 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No error-level finding.
    Fine,
    /// At least one error-level finding.
    ProblemFound,
}

/// Runs `magediag auth`, writes the report to `out`, returns whether a problem was found.
pub fn run(
    args: &AuthArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
) -> anyhow::Result<AuthOutcome> {
    let url = if args.online {
        Some(super::online::check_url(&args.repo_url)?)
    } else {
        None
    };
    let cloud = match args.composer_auth.as_deref() {
        Some(flag) => Some(cloud_input(flag, stdin)?),
        None => None,
    };
    let project = project::read(
        &args.project_dir,
        cloud,
        std::env::var("COMPOSER_AUTH").ok(),
        resolve_home(args.composer_home.as_deref()),
        args.composer_version.as_deref(),
    )?;
    let report = project::report(&project, url.as_deref());
    let rendered = match args.format {
        // `--repo-url` may carry credentials (`http://u:PW@host?access_token=…`).
        Format::Text => render::text(&report, &super::online::shown_url(&args.repo_url)),
        Format::Json => render::json(&report)?,
    };
    out.write_all(project.redact(rendered).as_bytes())
        .context("cannot write the report")?;
    Ok(if report.has_problem() {
        AuthOutcome::ProblemFound
    } else {
        AuthOutcome::Fine
    })
}

/// Reads `--composer-auth`: `-` for stdin, else a file.
fn cloud_input(flag: &str, stdin: &mut dyn Read) -> anyhow::Result<CloudInput> {
    if flag == "-" {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .context("cannot read COMPOSER_AUTH from stdin")?;
        return Ok(CloudInput {
            value: text.trim().to_string(),
            label: "read from stdin".to_string(),
        });
    }
    read_composer_auth_file(flag)
}

/// Reads `--composer-auth FILE`, refusing inline JSON and never echoing the argument.
pub(super) fn read_composer_auth_file(path: &str) -> anyhow::Result<CloudInput> {
    let file = Path::new(path);
    if !file.is_file() {
        if path.trim_start().starts_with('{') {
            bail!(
                "--composer-auth takes `-` (stdin) or a file, not inline JSON: pipe the value so the keys stay out of shell history"
            );
        }
        bail!("--composer-auth: the file given does not exist or is not a file");
    }
    let value = crate::input::bounded::read_text(file, crate::input::bounded::CONFIG_CAP)
        .context("--composer-auth: cannot read the file given")?;
    Ok(CloudInput {
        value: value.trim().to_string(),
        label: format!("read from {}", file.display()),
    })
}

/// Finds the Composer home as Composer does: the flag, `$COMPOSER_HOME`, or the first
/// existing of `$XDG_CONFIG_HOME/composer` (default `~/.config/composer`) and `~/.composer`.
pub(super) fn resolve_home(flag: Option<&Path>) -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = flag {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = var("COMPOSER_HOME") {
        return Some(dir);
    }
    let home = var("HOME")?;
    let xdg = var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
    let candidates = [xdg.join("composer"), home.join(".composer")];
    let existing = candidates.iter().find(|d| d.is_dir()).cloned();
    existing.or_else(|| Some(home.join(".composer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_json_is_refused_without_echo() {
        let key = "0123456789abcdef0123456789abcdef";
        let inline = format!(
            r#"{{"http-basic":{{"repo.magento.com":{{"username":"{key}","password":"x"}}}}}}"#
        );
        let Err(err) = read_composer_auth_file(&inline) else {
            panic!("inline JSON was accepted");
        };
        let shown = format!("{err:#}");
        assert!(shown.contains("inline JSON"));
        assert!(!shown.contains(key));
    }

    #[test]
    fn composer_home_flag_wins() {
        let dir = Path::new("/some/where");
        assert_eq!(resolve_home(Some(dir)).as_deref(), Some(dir));
    }
}
