//! Records: each line's envelope with the context earlier lines gave it: the stage
//! (build, deploy, post-deploy), the Composer exception box it sits in, whether it
//! continues an ece-tools message (its suggestion), and where a new deployment run begins.
//!
//! The framer keeps a few words of state, never lines: memory stays flat.

pub mod cloud_error;
pub mod envelope;

use std::rc::Rc;

use serde::Serialize;

use envelope::Envelope;

/// The Cloud deployment phase a line belongs to, when the log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Build,
    Deploy,
    PostDeploy,
}

impl Stage {
    /// The stage as rules compare it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Build => "build",
            Stage::Deploy => "deploy",
            Stage::PostDeploy => "post-deploy",
        }
    }
}

/// One line with its context.
#[derive(Debug)]
pub struct Record<'a> {
    /// 1-based physical line number.
    pub line: u64,
    pub envelope: Envelope<'a>,
    pub stage: Option<Stage>,
    /// The exception box (`[Composer\...\TransportException]` or `In X.php line N`) this line is in.
    pub exception: Option<Rc<str>>,
    /// An unprefixed line right after an ece-tools line: its suggestion or detail.
    pub continues_ece: bool,
    /// This line starts a new deployment run; the label is its timestamp, or the line number.
    pub new_run: Option<String>,
}

impl<'a> Record<'a> {
    /// A record with no context from the lines around it but its stage: outside any
    /// box, not a suggestion, starting no run.
    pub fn bare(line: u64, envelope: Envelope<'a>, stage: Option<Stage>) -> Record<'a> {
        Record {
            line,
            envelope,
            stage,
            exception: None,
            continues_ece: false,
            new_run: None,
        }
    }
}

/// Words (ASCII case-insensitive), one of which every line that can change the framer's
/// or the repairer's state holds: phase markers, exception-box headers, `cloud.error.log`
/// entries, Vagrant's machine prefix. A line with none of them (and no signal literal)
/// only counts.
pub const CONTEXT_WORDS: &[&str] = &[
    // The phase markers' (see `phase_marker`), not every `Starting`: ece-tools also
    // starts `pre-deploy.` and much else, which changes nothing here.
    "starting scenario(s): scenario/",
    "starting build.",
    "starting deploy.",
    "starting post-deploy.",
    "building application",
    "executing ",
    "exception",
    "error",
    " line ",
    "\"errorcode\"",
    "==> ",
];

/// Most body lines an exception box is followed for.
const BOX_BODY_MAX: u32 = 40;
/// Most lines after an ece-tools message taken as its suggestion.
const SUGGESTION_MAX: u32 = 12;

/// Gives each line its context, one line at a time.
#[derive(Debug, Default)]
pub struct Framer {
    /// The number of the line being framed.
    line: u64,
    stage: Option<Stage>,
    exception: Option<Rc<str>>,
    box_body_lines: u32,
    after_ece: Option<u32>,
    /// The phase markers seen in the current run, as a bit set of [`PhaseMarker`]s.
    run_markers: u8,
    lines_in_run: u64,
}

impl Framer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Framer::default()
    }

    /// Frames the next line; `line` is its 1-based number in the source.
    pub fn frame<'a>(&mut self, line: u64, text: &'a str) -> Record<'a> {
        self.line = line;
        let envelope = envelope::parse(text);
        let new_run = self.track_runs(&envelope);
        self.track_box(&envelope);
        let continues_ece = self.track_suggestion(&envelope);
        self.lines_in_run += 1;
        Record {
            line: self.line,
            envelope,
            stage: self.stage,
            exception: self.exception.clone(),
            continues_ece,
            new_run,
        }
    }

    /// The stage of the line framed last.
    pub fn stage(&self) -> Option<Stage> {
        self.stage
    }

    /// Whether an exception box is open: its body lines are framed one by one.
    pub fn in_box(&self) -> bool {
        self.exception.is_some()
    }

    /// Whether the lines after the last ece-tools line are being read as its suggestion.
    pub fn reads_suggestion(&self) -> bool {
        self.after_ece.is_some()
    }

    /// Counts `lines` that were not framed, each without any of `CONTEXT_WORDS` while
    /// no box is open (why that changes no report: the skip contract, in
    /// `pipeline/steps.rs`).
    pub fn skipped(&mut self, lines: u64) {
        self.lines_in_run += lines;
    }

    /// A marker starts a new run when the run already saw the same marker, or when a
    /// build starts after a deploy: a build and the deploy that follows are one run.
    fn track_runs(&mut self, envelope: &Envelope<'_>) -> Option<String> {
        let marker = phase_marker(envelope.message)?;
        let deploys = PhaseMarker::Deploy as u8
            | PhaseMarker::LegacyDeploy as u8
            | PhaseMarker::DeployHook as u8;
        let starts_run = self.lines_in_run > 0
            && (self.run_markers & marker as u8 != 0
                || (marker.stage() == Stage::Build && self.run_markers & deploys != 0));
        if starts_run {
            self.run_markers = 0;
            self.lines_in_run = 0;
        }
        self.run_markers |= marker as u8;
        self.stage = Some(marker.stage());
        starts_run.then(|| {
            envelope
                .timestamp
                .map_or_else(|| format!("line {}", self.line), str::to_owned)
        })
    }

    fn track_box(&mut self, envelope: &Envelope<'_>) {
        if let Some(header) = envelope.header {
            let name = match header {
                envelope::BoxHeader::Exception(name) | envelope::BoxHeader::Location(name) => name,
            };
            self.exception = Some(Rc::from(name));
            self.box_body_lines = 0;
            return;
        }
        if self.exception.is_none() {
            return;
        }
        let blank = envelope.message.is_empty();
        let ends = envelope.level.is_some()
            || self.box_body_lines >= BOX_BODY_MAX
            || (blank && self.box_body_lines > 0);
        if ends {
            self.exception = None;
        } else if !blank {
            self.box_body_lines += 1;
        }
    }

    fn track_suggestion(&mut self, envelope: &Envelope<'_>) -> bool {
        if envelope.level.is_some() {
            self.after_ece = Some(0);
            return false;
        }
        let Some(taken) = self.after_ece else {
            return false;
        };
        let continues = !envelope.message.is_empty()
            && envelope.header.is_none()
            && envelope.timestamp.is_none()
            && taken < SUGGESTION_MAX;
        self.after_ece = continues.then_some(taken + 1);
        continues
    }
}

/// A line where ece-tools or the Cloud platform starts a phase (bit flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhaseMarker {
    /// `Building application '...'` (Cloud activity log).
    PlatformBuild = 1,
    /// `Starting scenario(s): scenario/build/...`
    Build = 2,
    /// `Starting scenario(s): scenario/deploy.xml` (ece-tools 2002.1+).
    Deploy = 4,
    /// `Starting deploy.` (older ece-tools; also printed inside a scenario run).
    LegacyDeploy = 8,
    /// `Executing deploy hook for application` (Cloud activity log).
    DeployHook = 16,
    /// `Starting post-deploy.` or the post-deploy scenario.
    PostDeploy = 32,
    /// `Starting build.` (older ece-tools; also printed inside a build scenario).
    LegacyBuild = 64,
}

impl PhaseMarker {
    fn stage(self) -> Stage {
        match self {
            PhaseMarker::PlatformBuild | PhaseMarker::Build | PhaseMarker::LegacyBuild => {
                Stage::Build
            }
            PhaseMarker::Deploy | PhaseMarker::LegacyDeploy | PhaseMarker::DeployHook => {
                Stage::Deploy
            }
            PhaseMarker::PostDeploy => Stage::PostDeploy,
        }
    }
}

/// Recognises the lines where ece-tools or the Cloud activity log start a phase.
fn phase_marker(message: &str) -> Option<PhaseMarker> {
    if let Some(rest) = message.strip_prefix("Starting scenario(s): scenario/") {
        return if rest.starts_with("build/") {
            Some(PhaseMarker::Build)
        } else if rest.starts_with("deploy.xml") {
            Some(PhaseMarker::Deploy)
        } else if rest.starts_with("post-deploy.xml") {
            Some(PhaseMarker::PostDeploy)
        } else {
            None
        };
    }
    match message {
        "Starting build." => Some(PhaseMarker::LegacyBuild),
        "Starting deploy." => Some(PhaseMarker::LegacyDeploy),
        "Starting post-deploy." => Some(PhaseMarker::PostDeploy),
        _ if message.starts_with("Building application '") => Some(PhaseMarker::PlatformBuild),
        _ if message.starts_with("Executing deploy hook for application") => {
            Some(PhaseMarker::DeployHook)
        }
        _ if message.starts_with("Executing post_deploy hook for application") => {
            Some(PhaseMarker::PostDeploy)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(log: &str) -> Vec<(u64, String)> {
        let mut framer = Framer::new();
        log.lines()
            .zip(1..)
            .filter_map(|(l, n)| {
                let r = framer.frame(n, l);
                r.new_run.map(|label| (r.line, label))
            })
            .collect()
    }

    #[test]
    fn a_second_legacy_deploy_starts_a_run() {
        let log = "[2019-01-03 19:44:11] NOTICE: Starting deploy.\n\
                   [2019-01-03 19:45:00] NOTICE: Deployment completed.\n\
                   [2019-02-03 10:00:00] NOTICE: Starting deploy.\n";
        assert_eq!(runs(log), vec![(3, "2019-02-03 10:00:00".to_string())]);
    }

    #[test]
    fn the_activity_log_build_line_and_the_ece_build_scenario_are_one_run() {
        let log = "Building application 'mymagento' (runtime type: php:8.2, tree: 4b7e2aa)\n\
                   [2024-03-12T10:15:32+00:00] NOTICE: Starting scenario(s): scenario/build/generate.xml\n\
                   [2024-03-12T10:15:33+00:00] NOTICE: Starting build.\n\
                   Executing deploy hook for application mymagento\n\
                   [2024-03-12T10:21:04+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml\n\
                   [2024-03-12T10:21:05+00:00] NOTICE: Starting deploy.\n";
        assert!(runs(log).is_empty());
    }

    #[test]
    fn build_then_deploy_is_one_run() {
        let log = "[2023-04-24T18:50:00+00:00] NOTICE: Starting scenario(s): scenario/build/generate.xml scenario/build/transfer.xml\n\
                   [2023-04-24T18:58:04+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml (magento/ece-tools version: 2002.1.14)\n\
                   [2023-04-24T18:58:05+00:00] NOTICE: Starting deploy.\n\
                   [2023-04-24T18:59:00+00:00] NOTICE: Starting scenario(s): scenario/post-deploy.xml\n\
                   [2023-04-25T09:00:00+00:00] NOTICE: Starting scenario(s): scenario/deploy.xml\n";
        assert_eq!(
            runs(log),
            vec![(5, "2023-04-25T09:00:00+00:00".to_string())]
        );
    }

    #[test]
    fn lines_inside_an_exception_box_know_it() {
        let mut framer = Framer::new();
        let lines = [
            "  [Composer\\Downloader\\TransportException]",
            "  The 'https://repo.magento.com/packages.json' URL required authentication.",
            "",
            "Done",
        ];
        let boxes: Vec<bool> = lines
            .iter()
            .zip(1..)
            .map(|(l, n)| framer.frame(n, l).exception.is_some())
            .collect();
        assert_eq!(boxes, vec![true, true, false, false]);
    }

    #[test]
    fn unprefixed_lines_after_an_ece_line_continue_it() {
        let mut framer = Framer::new();
        let lines = [
            "[2023-04-24T18:58:04+00:00] WARNING: [2003] The configured state is not ideal",
            "  Set SCD_ON_DEMAND to false.",
            "[2023-04-24T18:58:05+00:00] INFO: next",
        ];
        let cont: Vec<bool> = lines
            .iter()
            .zip(1..)
            .map(|(l, n)| framer.frame(n, l).continues_ece)
            .collect();
        assert_eq!(cont, vec![false, true, false]);
    }
}
