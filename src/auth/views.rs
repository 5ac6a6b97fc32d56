//! Which pair a Cloud build uses and which pair a local run uses: they read different places.
//!
//! A Cloud build clones the repository, so it reads only committed files (`composer.json`,
//! and `auth.json` if it is committed), plus the `env:COMPOSER_AUTH` variable, which it
//! gets as `COMPOSER_AUTH`. It has no global `auth.json` of this machine and not this
//! shell's `COMPOSER_AUTH`. A local run reads the global `auth.json`, `COMPOSER_AUTH` from
//! its environment, and the project's `composer.json` and `auth.json`, committed or not.
//! Each view then applies Composer's merge order ([`super::precedence`]).
//!
//! What cannot be told here (an `auth.json` outside a readable git index, a Cloud
//! variable not given, a Composer version not pinned) is tried both ways: the answer is
//! settled only if every way gives the same place.

use super::keys::{Pair, fingerprint};
use super::model::{Place, Precedence, Sight, View, ViewPlace, ViewReport};
use super::precedence;
use super::sources::{Loaded, State};

/// A place as read, with whether its file is committed to git.
pub struct Read<'a> {
    /// The place.
    pub loaded: &'a Loaded,
    /// Whether its file is in the git index (`None`: not a file, or cannot tell).
    pub tracked: Option<bool>,
}

/// Everything the two views are computed from.
pub struct Inputs<'a> {
    /// Every place, in display order.
    pub places: Vec<Read<'a>>,
    /// Whether the value of `env:COMPOSER_AUTH` is known (given, or set in `.magento.app.yaml`).
    pub cloud_known: bool,
    /// The Composer version of the Cloud build, and where it came from.
    pub cloud_version: Option<(String, String)>,
    /// The Composer version of a local run, and where it came from.
    pub local_version: Option<(String, String)>,
}

/// Computes both views, Cloud build first.
pub fn both(inputs: &Inputs<'_>) -> Vec<ViewReport> {
    vec![
        view(View::CloudBuild, inputs, inputs.cloud_version.clone()),
        view(View::Local, inputs, inputs.local_version.clone()),
    ]
}

/// Whether `view` reads the place, and why in a few words.
pub fn sight(view: View, r: &Read<'_>, cloud_known: bool) -> (Sight, String) {
    let l = r.loaded;
    let found = l.state != State::NotFound;
    let (sight, why) = match (view, l.place) {
        (View::Local, Place::CloudVariable) => (
            Sight::NotSeen,
            "the Cloud variable; a local run reads this machine's COMPOSER_AUTH",
        ),
        (View::Local, _) if found => (Sight::Seen, "read on this machine"),
        (View::Local, _) => (Sight::NotSeen, "not found"),
        (View::CloudBuild, Place::GlobalAuthJson) => (
            Sight::NotSeen,
            "a file of this machine, not in the repository",
        ),
        (View::CloudBuild, Place::ComposerAuthEnv) => (
            Sight::NotSeen,
            "this machine's variable; the build reads env:COMPOSER_AUTH",
        ),
        (View::CloudBuild, Place::CloudVariable) if found => (Sight::Seen, "the build reads it"),
        (View::CloudBuild, Place::CloudVariable) if cloud_known => (Sight::NotSeen, "not set"),
        (View::CloudBuild, Place::CloudVariable) => (
            Sight::Unknown,
            "value not given (pass it with --composer-auth)",
        ),
        (View::CloudBuild, _) if !found => (Sight::NotSeen, "not found"),
        (View::CloudBuild, _) => match r.tracked {
            Some(true) => (Sight::Seen, "committed to git"),
            Some(false) => (Sight::NotSeen, "not committed to git, so not in the build"),
            None => (
                Sight::Unknown,
                "no git index here to tell whether it is committed",
            ),
        },
    };
    (sight, why.to_string())
}

/// One view: what it reads and which place wins.
fn view(view: View, inputs: &Inputs<'_>, version: Option<(String, String)>) -> ViewReport {
    let places: Vec<ViewPlace> = inputs
        .places
        .iter()
        .map(|r| {
            let (sight, why) = sight(view, r, inputs.cloud_known);
            ViewPlace {
                place: r.loaded.place,
                sight,
                why,
                has_pair: r.loaded.pair().is_some(),
            }
        })
        .collect();
    let precedence = version
        .as_ref()
        .map_or(Precedence::Unknown, |(v, _)| precedence::precedence_for(v));
    let decision = decide(&places, precedence);
    let used_pair = decision
        .used
        .and_then(|p| inputs.places.iter().find(|r| r.loaded.place == p))
        .and_then(|r| r.loaded.pair());
    let (composer_version, version_source) = version.unzip();
    ViewReport {
        view,
        places,
        composer_version,
        version_source,
        precedence,
        used: decision.used,
        fingerprint_username: used_pair.map(|p| fingerprint(&p.username)),
        fingerprint_password: used_pair.map(|p| fingerprint(&p.password)),
        candidates: decision.candidates,
        depends_on: decision.depends_on,
        online: None,
    }
}

/// The place a view uses, or the candidates and what decides between them.
struct Decision {
    used: Option<Place>,
    candidates: Vec<Option<Place>>,
    depends_on: Vec<String>,
}

/// What the answer may depend on: an unknown place, or the unknown Composer version.
#[derive(Clone, Copy, PartialEq)]
enum Factor {
    Place(Place),
    Version,
}

/// Tries every way the unknowns can go and keeps the answers that differ.
fn decide(places: &[ViewPlace], precedence: Precedence) -> Decision {
    // An unknown Cloud variable may hold a pair; an unknown file is known to hold one or not.
    let may_hold = |p: &ViewPlace| p.has_pair || p.place == Place::CloudVariable;
    let sure: Vec<Place> = places
        .iter()
        .filter(|p| p.sight == Sight::Seen && p.has_pair)
        .map(|p| p.place)
        .collect();
    let mut factors: Vec<Factor> = places
        .iter()
        .filter(|p| p.sight == Sight::Unknown && may_hold(p))
        .map(|p| Factor::Place(p.place))
        .collect();
    if precedence == Precedence::Unknown {
        factors.push(Factor::Version);
    }
    let answer = |mask: usize| -> Option<Place> {
        let mut with_pair = sure.clone();
        let mut order = precedence;
        for (i, f) in factors.iter().enumerate() {
            let on = mask & (1 << i) != 0;
            match f {
                Factor::Place(p) if on => with_pair.push(*p),
                Factor::Place(_) => {}
                Factor::Version if on => order = Precedence::EnvLast,
                Factor::Version => order = Precedence::ProjectFileLast,
            }
        }
        precedence::winner_under(order, &with_pair)
    };
    let ways = 1usize << factors.len();
    let mut candidates: Vec<Option<Place>> = Vec::new();
    for mask in 0..ways {
        let a = answer(mask);
        if !candidates.contains(&a) {
            candidates.push(a);
        }
    }
    if let [only] = candidates.as_slice() {
        return Decision {
            used: *only,
            candidates: Vec::new(),
            depends_on: Vec::new(),
        };
    }
    let depends_on = factors
        .iter()
        .enumerate()
        .filter(|(i, _)| (0..ways).any(|m| answer(m) != answer(m ^ (1 << i))))
        .map(|(_, f)| match f {
            Factor::Version => "composer-version".to_string(),
            Factor::Place(p) => serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        })
        .collect();
    Decision {
        used: None,
        candidates,
        depends_on,
    }
}

/// The pair a view uses, when settled and known.
pub fn used_pair<'a>(v: &ViewReport, loaded: &'a [Loaded]) -> Option<&'a Pair> {
    let place = v.used?;
    loaded.iter().find(|l| l.place == place)?.pair()
}

/// The places holding a pair that a view reads or may read.
pub fn pair_places<'a>(v: &ViewReport, loaded: &'a [Loaded]) -> Vec<&'a Loaded> {
    v.places
        .iter()
        .filter(|p| p.sight != Sight::NotSeen && p.has_pair)
        .filter_map(|p| loaded.iter().find(|l| l.place == p.place))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(place: Place, sight: Sight, has_pair: bool) -> ViewPlace {
        ViewPlace {
            place,
            sight,
            why: String::new(),
            has_pair,
        }
    }

    #[test]
    fn a_settled_view_names_one_place() {
        let places = [
            place(Place::CloudVariable, Sight::Seen, true),
            place(Place::ProjectAuthJson, Sight::NotSeen, true),
        ];
        let d = decide(&places, Precedence::ProjectFileLast);
        assert_eq!(d.used, Some(Place::CloudVariable));
        assert!(d.candidates.is_empty() && d.depends_on.is_empty());
    }

    #[test]
    fn an_unknown_cloud_variable_leaves_the_answer_open() {
        let places = [
            place(Place::CloudVariable, Sight::Unknown, false),
            place(Place::ComposerJsonConfig, Sight::Seen, false),
        ];
        let d = decide(&places, Precedence::ProjectFileLast);
        assert_eq!(d.used, None);
        assert_eq!(d.candidates, vec![None, Some(Place::CloudVariable)]);
        assert_eq!(d.depends_on, vec!["cloud-variable".to_string()]);
    }

    #[test]
    fn only_the_factors_that_change_the_answer_are_named() {
        // The project auth.json wins in both orders over composer.json: the version
        // does not matter, whether auth.json is committed does.
        let places = [
            place(Place::ComposerJsonConfig, Sight::Seen, true),
            place(Place::ProjectAuthJson, Sight::Unknown, true),
        ];
        let d = decide(&places, Precedence::Unknown);
        assert_eq!(d.depends_on, vec!["project-auth-json".to_string()]);
        let places = [
            place(Place::ComposerAuthEnv, Sight::Seen, true),
            place(Place::ProjectAuthJson, Sight::Seen, true),
        ];
        let d = decide(&places, Precedence::Unknown);
        assert_eq!(d.depends_on, vec!["composer-version".to_string()]);
    }
}
