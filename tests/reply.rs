//! The support reply of `magediag paste`, on tickets written for these tests in the shapes
//! support receives (customer prose, e-mail quoting, HTML entities from a web form, a Slack
//! fence, a PuTTY wrap, pasted configuration, secrets). Each reply is snapshotted, and every
//! reply is held to what a reply must never do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use assert_cmd::Command;
use magediag::testing::mask::find_secrets;
use magediag::testing::rule::RuleSet;

fn paste(path: &Path, format: Option<&str>) -> String {
    let mut cmd = Command::cargo_bin("magediag").unwrap();
    cmd.arg("paste").env("NO_COLOR", "1");
    if let Some(format) = format {
        cmd.args(["--format", format]);
    }
    let output = cmd
        .write_stdin(std::fs::read(path).unwrap())
        .output()
        .unwrap();
    assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The part of a reply that is sent to the customer: everything before the notes.
fn customer_part(reply: &str) -> &str {
    reply.split("<details>").next().unwrap()
}

fn ticket(name: &str) -> String {
    paste(&Path::new("tests/tickets").join(name), None)
}

#[test]
fn replies_to_tickets() {
    insta::glob!("tickets", "*.txt", |path| {
        insta::assert_snapshot!(paste(path, None));
    });
}

/// What no reply may hold, whatever the ticket: a product header, rule ids, the paste's
/// line numbers, steps that run magediag, advice support does not give, any secret of the
/// paste (in the reply, and in the JSON report of the same paste).
#[test]
fn no_reply_breaks_the_rules_of_a_customer_answer() {
    let rules = RuleSet::embedded().unwrap();
    insta::glob!("tickets", "*.txt", |path| {
        let reply = paste(path, None);
        let customer = customer_part(&reply);
        let name = path.display();
        assert!(
            reply.contains("<details>") && reply.trim_end().ends_with("</details>"),
            "{name}"
        );
        assert!(
            !customer.starts_with('#'),
            "{name}: a header opens the reply"
        );
        assert!(!customer.contains("magediag"), "{name}: {customer}");
        for rule in &rules.rules {
            assert!(!customer.contains(&rule.id), "{name}: rule id {}", rule.id);
        }
        for line in customer.lines() {
            let numbered = line
                .split_once(": ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            assert!(!numbered, "{name}: a paste line number: {line}");
        }
        for phrase in [
            "open a ticket",
            "share access",
            "Adobe Commerce Support",
            "use `127.0.0.1`",
        ] {
            assert!(!customer.contains(phrase), "{name}: {phrase}");
        }
        let input = std::fs::read_to_string(path).unwrap();
        let json = paste(path, Some("json"));
        for secret in find_secrets(&input).iter().filter(|s| s.value.len() >= 8) {
            assert!(
                !reply.contains(&secret.value),
                "{name}: a secret in the reply"
            );
            assert!(
                !json.contains(&secret.value),
                "{name}: a secret in the JSON"
            );
        }
    });
}

#[test]
fn the_customers_words_put_the_lapsed_licence_first() {
    let reply = ticket("licence-lapsed.txt");
    let customer = customer_part(&reply);
    let first_step = customer.lines().find(|l| l.starts_with("1. ")).unwrap();
    assert!(first_step.contains("account team"), "{first_step}");
    assert!(
        customer
            .lines()
            .next()
            .unwrap()
            .contains("You mention that your licence lapsed")
    );
    // Versions as Composer writes them, not as archive names do.
    assert!(customer.contains("102.0.6-p3") && !customer.contains("102.0.6.0-patch3"));
    assert!(reply.contains("How sure: high"));
}

#[test]
fn an_extension_bought_by_an_agency_that_left_is_answered_with_buy_or_transfer() {
    let customer = ticket("agency-left-email.txt");
    let customer = customer_part(&customer);
    assert!(customer.contains("bought again"));
    assert!(customer.contains("Disable the old owner's keys"));
    assert!(customer.contains("`mirasvit/module-search-ultimate` 2.2.31."));
}

#[test]
fn a_pasted_database_override_explains_the_refused_connection() {
    let reply = ticket("database-env-yaml.txt");
    let customer = customer_part(&reply);
    let answer = customer.lines().next().unwrap();
    assert!(
        answer.contains("127.0.0.1:3307") && answer.contains("_merge: true"),
        "{answer}"
    );
    assert!(customer.contains("Remove the `host` and `port`"));
}

#[test]
fn a_memory_fix_names_a_limit_above_the_one_that_was_hit() {
    let customer = ticket("memory-slack.txt");
    assert!(customer.contains("above the 2G that was hit"));
    assert!(customer.contains("`memory_limit = 4G`"));
}

#[test]
fn pasted_configuration_goes_through_the_auth_checks() {
    let reply = ticket("secrets-keys-rotated.txt");
    let customer = customer_part(&reply);
    assert!(customer.contains("2 different key pairs are configured"));
    assert!(customer.contains("Take `auth.json` out of the repository"));
    assert!(customer.contains("a user name and password inside the URL"));
    assert!(customer.contains("It contained 4 repo.magento.com access keys and 1 password."));
    assert!(reply.contains("Redact the ticket now"));
    assert!(reply.contains("`keys-conflict`") && reply.contains("`credentials-in-repository-url`"));
}

#[test]
fn an_environment_level_variable_is_why_no_keys_reached_the_build() {
    let customer = ticket("new-project-web-form.txt");
    let answer = customer.lines().next().unwrap();
    assert!(answer.contains("set at environment level"), "{answer}");
    assert!(customer.contains("It contained 2 repo.magento.com access keys."));
}

#[test]
fn a_key_wrapped_by_putty_is_masked_in_both_halves() {
    let reply = ticket("putty-wrapped-key.txt");
    for half in ["a1b2c3d4e5f60718293a4b5c", "6d7e8f9a"] {
        assert!(!reply.contains(half), "{half}");
    }
    assert!(reply.contains("It contained 2 repo.magento.com access keys."));
}

#[test]
fn only_a_catch_all_rule_says_the_cause_was_not_recognised() {
    let reply = ticket("unrecognised-screenshot.txt");
    let customer = customer_part(&reply);
    assert!(customer.starts_with("We could not recognise the cause"));
    assert!(
        customer.contains("```text\n[2024-04-02T16:40:12.118000+00:00] CRITICAL: [243] Acme_Feed")
    );
    assert!(reply.contains("How sure: low"));
    // A recognised failure is never answered that way.
    assert!(!ticket("licence-lapsed.txt").contains("could not recognise"));
}

#[test]
fn a_healthy_log_is_said_to_be_healthy() {
    let customer = ticket("nothing-found.txt");
    assert!(customer.starts_with("We did not find a failure"));
}

/// Regression: the reply to a file or to standard input said "The paste holds 3 deployment
/// runs" and headed its evidence "paste line". The notes name what was read.
#[test]
fn the_notes_name_what_was_read_a_file_stdin_or_a_paste() {
    let log = "samples/deploy-log-three-runs.log";
    let reply = |args: &[&str], stdin: bool| {
        let mut cmd = Command::cargo_bin("magediag").unwrap();
        cmd.args(args).env("NO_COLOR", "1");
        if stdin {
            cmd.write_stdin(std::fs::read(log).unwrap());
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let file = reply(&[log, "--format", "markdown"], false);
    assert!(
        file.contains(&format!("`{log}` holds 3 deployment runs; the latest")),
        "{file}"
    );
    assert!(
        file.contains(&format!("Evidence (line of `{log}`: text)")),
        "{file}"
    );
    assert!(!file.to_lowercase().contains("paste"), "{file}");
    let stdin = reply(&["--format", "markdown"], true);
    assert!(
        stdin.contains("Standard input holds 3 deployment runs; the latest"),
        "{stdin}"
    );
    assert!(stdin.contains("Evidence (stdin line: text)"), "{stdin}");
    assert!(!stdin.to_lowercase().contains("paste"), "{stdin}");
    let pasted = reply(&["paste"], true);
    assert!(
        pasted.contains("The paste holds 3 deployment runs; the latest"),
        "{pasted}"
    );
    assert!(pasted.contains("Evidence (paste line: text)"), "{pasted}");
}
