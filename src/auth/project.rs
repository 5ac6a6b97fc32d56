//! A project folder read as `magediag auth` reads it, and the report made of it. Both
//! `magediag auth DIR` and `magediag --project DIR` go through [`read`] and [`report`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::model::{AuthReport, OnlineResult, Place, Severity};
use super::sources::{self, Loaded};
use super::views::{self, Inputs, Read};
use super::{cloud, findings, keys, online, precedence};

/// The value of `env:COMPOSER_AUTH` given on the command line, and how to name it.
pub struct CloudInput {
    /// The value (an empty value means the variable is not set).
    pub value: String,
    /// How it is shown, e.g. `read from stdin`.
    pub label: String,
}

/// Where `.magento.app.yaml` sets `env:COMPOSER_AUTH`, as shown in the report.
const APP_YAML_LABEL: &str = "set in .magento.app.yaml (variables: env: COMPOSER_AUTH)";

/// A project folder and every place its keys can come from.
pub struct Project {
    /// The project folder, resolved.
    pub dir: PathBuf,
    /// Every place, in display order.
    pub loaded: Vec<Loaded>,
    /// Whether the value of `env:COMPOSER_AUTH` is known.
    cloud_known: bool,
    /// The Composer version of the Cloud build, and where it came from.
    cloud_version: Option<(String, String)>,
    /// The Composer version of a local run, and where it came from.
    local_version: Option<(String, String)>,
}

/// Reads a project: the folder check, every place, and the Composer versions.
///
/// `cloud` is `--composer-auth`, else `.magento.app.yaml` is asked for the variable;
/// `local_env` is this machine's `COMPOSER_AUTH`; `version` is `--composer-version`.
pub fn read(
    dir: &Path,
    cloud: Option<CloudInput>,
    local_env: Option<String>,
    home: Option<PathBuf>,
    version: Option<&str>,
) -> anyhow::Result<Project> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let dir =
        std::fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    Ok(read_resolved(
        dir,
        cloud,
        local_env,
        home.as_deref(),
        version,
    ))
}

/// [`read`] for a folder known to exist.
pub fn read_resolved(
    dir: PathBuf,
    cloud: Option<CloudInput>,
    local_env: Option<String>,
    home: Option<&Path>,
    version: Option<&str>,
) -> Project {
    let app_yaml = crate::input::bounded::read_text(
        &dir.join(".magento.app.yaml"),
        crate::input::bounded::CONFIG_CAP,
    )
    .ok();
    let yaml_var = app_yaml.as_deref().and_then(cloud::app_yaml_composer_auth);
    let cloud_known = cloud.is_some() || yaml_var.is_some();
    let loaded = precedence::display_order()
        .into_iter()
        .map(|place| match place {
            Place::GlobalAuthJson => load_global(home),
            Place::ComposerAuthEnv => {
                sources::load_env(place, local_env.as_deref(), "environment variable")
            }
            Place::CloudVariable => match (&cloud, &yaml_var) {
                (Some(given), _) => sources::load_env(place, Some(&given.value), &given.label),
                (None, Some(value)) => {
                    let mut l = sources::load_env(place, Some(value), APP_YAML_LABEL);
                    l.repo_file = Some(".magento.app.yaml");
                    l
                }
                (None, None) => sources::load_env(place, None, "not given"),
            },
            Place::ComposerJsonConfig => sources::load_file(place, &dir.join("composer.json")),
            Place::ProjectAuthJson => sources::load_file(place, &dir.join("auth.json")),
        })
        .collect();
    let flag = version.map(|v| (v.to_string(), "--composer-version".to_string()));
    let pinned = app_yaml
        .as_deref()
        .and_then(precedence::version_in)
        .map(|v| (v, ".magento.app.yaml".to_string()));
    Project {
        dir,
        loaded,
        cloud_known,
        cloud_version: flag.clone().or(pinned),
        local_version: flag,
    }
}

impl Project {
    /// Replaces any key read from this project that slipped into `text` with `[redacted]`.
    pub fn redact(&self, text: String) -> String {
        super::redact(text, &self.loaded)
    }
}

/// Reads the global `auth.json`, or records that no Composer home could be determined.
fn load_global(home: Option<&Path>) -> Loaded {
    match home {
        Some(dir) => sources::load_file(Place::GlobalAuthJson, &dir.join("auth.json")),
        None => {
            let mut l = sources::load_env(Place::GlobalAuthJson, None, "");
            l.path = "(no Composer home: neither COMPOSER_HOME nor HOME is set)".to_string();
            l
        }
    }
}

/// Builds the report of a project; with `online`, first asks that URL about each pair.
pub fn report(project: &Project, online: Option<&str>) -> AuthReport {
    let loaded = &project.loaded;
    let results = online.map(|url| probe_all(loaded, url));
    let tracked: Vec<Option<bool>> = loaded
        .iter()
        .map(|l| super::git_state(&project.dir, l).0)
        .collect();
    let inputs = Inputs {
        places: loaded
            .iter()
            .zip(&tracked)
            .map(|(loaded, tracked)| Read {
                loaded,
                tracked: *tracked,
            })
            .collect(),
        cloud_known: project.cloud_known,
        cloud_version: project.cloud_version.clone(),
        local_version: project.local_version.clone(),
    };
    let mut views = views::both(&inputs);
    if let Some(results) = &results {
        for v in &mut views {
            v.online = online::answer_for(v, results);
        }
    }
    let local_pairs: Vec<Place> = views
        .iter()
        .filter(|v| v.view == super::model::View::Local)
        .flat_map(|v| views::pair_places(v, loaded))
        .map(|l| l.place)
        .collect();
    let verdict = precedence::verdict(&local_pairs, project.local_version.clone());
    let mut report = super::assemble(&project.dir, loaded, verdict, &|l| {
        super::git_state(&project.dir, l)
    });
    report.findings.extend(findings::for_views(
        loaded,
        &views,
        &report.key_sources,
        results.as_deref(),
    ));
    if let (Some(results), Some(url)) = (&results, online) {
        let shown = online::shown_url(url);
        if online::is_plain_http(url) {
            report.findings.push(findings::plain_http(&shown));
        }
        report
            .findings
            .extend(findings::for_online(results, &shown));
        report.online = results.clone();
    }
    findings::online_ran(&mut report.findings, results.as_deref());
    report.views = views;
    report
}

/// Probes the repository once per distinct pair, in display order.
fn probe_all(loaded: &[Loaded], url: &str) -> Vec<OnlineResult> {
    let mut groups: Vec<(&keys::Pair, Vec<Place>)> = Vec::new();
    for l in loaded {
        let Some(pair) = l.pair() else { continue };
        match groups.iter_mut().find(|(p, _)| *p == pair) {
            Some((_, places)) => places.push(l.place),
            None => groups.push((pair, vec![l.place])),
        }
    }
    groups
        .into_iter()
        .map(|(pair, places)| online::probe(url, pair, places))
        .collect()
}

/// What `magediag auth DIR` says, to add to the auth diagnoses of a log
/// (`magediag --project DIR`): causes and one fix step, redacted as `auth` redacts.
pub struct Sharpening {
    /// One line per error-level finding, then which pair the Cloud build uses.
    pub causes: Vec<String>,
    /// One step pointing at `magediag auth DIR`, when it finds a problem.
    pub step: Option<String>,
}

/// Reads the project as `magediag auth DIR` does (this machine's `COMPOSER_AUTH` and
/// Composer home, the version pinned in `.magento.app.yaml`) and says what it finds.
pub fn sharpening(dir: &Path) -> anyhow::Result<Sharpening> {
    let project = read(
        dir,
        None,
        std::env::var("COMPOSER_AUTH").ok(),
        super::command::resolve_home(None),
        None,
    )?;
    let report = report(&project, None);
    let shown = dir.display();
    let mut causes: Vec<String> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
    {
        let cause = project.redact(format!("In {shown} (magediag auth): {}", f.message));
        if !causes.contains(&cause) {
            causes.push(cause);
        }
        if !ids.contains(&f.id) {
            ids.push(f.id);
        }
    }
    if let Some(cloud) = report.views.first() {
        let used = project.redact(findings::describe_use(cloud, &report.key_sources));
        if !causes.iter().any(|c| c.contains(&used)) {
            causes.push(format!("In {shown} (magediag auth): {used}"));
        }
    }
    let step = (!ids.is_empty()).then(|| {
        format!(
            "Fix what `magediag auth {shown}` finds in the project first ({}): it lists the steps for each.",
            ids.join(", ")
        )
    });
    Ok(Sharpening { causes, step })
}

/// With `magediag --project DIR`: adds what `magediag auth DIR` finds to every auth
/// diagnosis of the report (see [`Sharpening::apply`]). An error when the folder cannot
/// be inspected, as `auth` exits 2.
pub fn add_to_report(
    report: &mut crate::report::diagnosis::Report,
    dir: &Path,
) -> anyhow::Result<()> {
    let found = sharpening(dir)?;
    for source in &mut report.sources {
        found.apply(&mut source.diagnoses);
    }
    Ok(())
}

impl Sharpening {
    /// Adds what was found to every auth diagnosis (a 403 plus two different pairs
    /// configured is a sharper answer than either alone). Its causes come first, each
    /// once, and one step points at `magediag auth DIR` instead of copying steps the
    /// rule already gives in its own words.
    pub fn apply(&self, diagnoses: &mut [crate::report::diagnosis::Diagnosis]) {
        for d in diagnoses {
            if !d.category.starts_with("auth-") {
                continue;
            }
            let new: Vec<String> = self
                .causes
                .iter()
                .filter(|c| !d.causes.contains(c))
                .cloned()
                .collect();
            d.causes.splice(0..0, new);
            if let Some(step) = &self.step
                && !d.remediation.contains(step)
            {
                d.remediation.insert(0, step.clone());
            }
        }
    }
}
