//! Unit tests of the repair.

use super::prefix::{
    is_clean, strip_all, strip_deployer, strip_paste_layers, strip_transport, trim_end_quick,
    trim_start_quick,
};
use super::*;

/// Deployer's prefix is `[host]` then ` err ` or ` > `; the host holds no whitespace
/// (Unicode whitespace included), and a `[timestamp]` line keeps its text.
#[test]
fn deployer_prefixes_need_a_host_without_whitespace() {
    assert_eq!(strip_deployer("[prod] err boom"), Some("boom"));
    assert_eq!(
        strip_deployer("[web-1] > php bin/magento"),
        Some("php bin/magento")
    );
    assert_eq!(strip_deployer("[a b] err boom"), None);
    assert_eq!(strip_deployer("[a\u{a0}b] err boom"), None);
    assert_eq!(strip_deployer("[] err boom"), None);
    assert_eq!(strip_deployer("[prod] boom"), None);
    let stamped = "[2024-03-12T10:21:00.000000+00:00] INFO: Starting deploy.";
    assert_eq!(strip_deployer(stamped), None);
    assert_eq!(texts(stamped), [stamped]);
}

/// Repairs `input` and returns only the texts, which most tests compare.
fn texts(input: &str) -> Vec<String> {
    repair_text(input)
        .into_iter()
        .map(|line| line.text)
        .collect()
}

/// A line that may be wrapped holds the quiet lines after it back (they are read, so
/// that it is decided with its full lookahead), unless the line right after it starts
/// a log line: nothing then continues it, whatever comes later.
#[test]
fn a_line_that_may_wrap_holds_quiet_lines_only_when_the_next_can_continue_it() {
    let long = format!("    W: {}", "x".repeat(80));
    let mut out = Vec::new();
    let mut repairer = Repairer::new();
    repairer.push(1, &long, &mut out);
    let log_line = b"    W:   - Downloading acme/module-a (1.0.0)";
    let plain = b"and the rest of it";
    assert!(!repairer.flush_before_quiet(plain, false, &mut out));
    assert!(repairer.flush_before_quiet(log_line, false, &mut out));
    assert_eq!(out.len(), 1, "the window was emitted before the skip");

    // The same with the line still in the window after another.
    let mut repairer = Repairer::new();
    repairer.push(1, &long, &mut out);
    repairer.push(2, "[2024-06-02 03:25:50] INFO: Cache warmed up.", &mut out);
    assert!(repairer.flush_before_quiet(plain, false, &mut out));
    let mut repairer = Repairer::new();
    repairer.push(1, &long, &mut out);
    repairer.push(2, "the rest of it", &mut out);
    assert!(!repairer.flush_before_quiet(plain, false, &mut out));
}

/// Nor does a line that opens a sentence continue one cut in a word; one cut at a
/// space, it may.
#[test]
fn a_sentence_continues_only_a_line_cut_at_a_space() {
    let mut out = Vec::new();
    let module = b"Module 'Magento_Catalog':";
    let mut repairer = Repairer::new();
    repairer.push(1, &"x".repeat(80), &mut out);
    assert!(repairer.flush_before_quiet(module, false, &mut out));
    let mut repairer = Repairer::new();
    repairer.push(1, &format!("{} ", "x".repeat(79)), &mut out);
    assert!(!repairer.flush_before_quiet(module, false, &mut out));
}

#[test]
fn decodes_html_entities() {
    let input = "&lt;error&gt; &quot;a&quot; &amp; &#39;b&#x27; x&nbsp;y &#8230; &bogus; &#xZZ;";
    assert_eq!(texts(input), ["<error> \"a\" & 'b' x y ... &bogus; &#xZZ;"]);
}

#[test]
fn decodes_entities_only_once() {
    assert_eq!(texts("a &amp;lt; b"), ["a &lt; b"]);
}

#[test]
fn strips_ansi_sequences() {
    let input = "\u{1b}[1;31mERROR\u{1b}[0m: x\u{1b}]0;title\u{7}\u{1b}[K done";
    assert_eq!(texts(input), ["ERROR: x done"]);
}

#[test]
fn keeps_text_after_last_carriage_return() {
    let input = "Downloading (10%)\rDownloading (55%)\rDownloading (100%)\r";
    assert_eq!(texts(input), ["Downloading (100%)"]);
}

#[test]
fn normalizes_smart_quotes_and_invisible_characters() {
    let input = "The \u{2018}https://x\u{2019} URL \u{201c}q\u{201d}\u{a0}a\u{200b}b\u{feff}";
    assert_eq!(texts(input), ["The 'https://x' URL \"q\" ab"]);
}

#[test]
fn strips_nested_markdown_quotes() {
    let input = "> Problem 1\n> >   - root requires x\n>\n> done";
    assert_eq!(texts(input), ["Problem 1", "root requires x", "", "done"]);
}

#[test]
fn drops_code_fences() {
    let input = "```\nfirst\n```text\nsecond\n~~~\n```";
    assert_eq!(texts(input), ["first", "second"]);
}

#[test]
fn strips_fence_opened_on_a_log_line() {
    assert_eq!(
        texts("```web_1  | Installing x\nlast```"),
        ["Installing x", "last"]
    );
}

#[test]
fn strips_backticks_around_lines_and_pastes() {
    assert_eq!(texts("`Nothing to install`"), ["Nothing to install"]);
    assert_eq!(
        texts("`first line\nmiddle\nlast line   `"),
        ["first line", "middle", "last line"]
    );
}

#[test]
fn keeps_inline_code_inside_a_line() {
    let input = "Table `magento`.`quote` doesn't exist";
    assert_eq!(texts(input), [input]);
}

#[test]
fn strips_bullets_and_indentation_consistently() {
    let input = "- one\n* two\n\u{2022} three\n  - Installing vendor/package (1.0)\n-   - Installing b (2.0)";
    let expected = [
        "one",
        "two",
        "three",
        "Installing vendor/package (1.0)",
        "Installing b (2.0)",
    ];
    assert_eq!(texts(input), expected);
}

#[test]
fn strips_cloud_build_prefixes() {
    let input = "    W:   [Composer\\Downloader\\TransportException]\n  E: fatal\nW:";
    assert_eq!(
        texts(input),
        ["[Composer\\Downloader\\TransportException]", "fatal", ""]
    );
}

#[test]
fn strips_tool_prefixes() {
    let input = "magento_1  | Installing search\nweb-1 | ok\n==> default: Running\n    default: inner\n[prod] err boom\n[prod] > cmd";
    let expected = ["Installing search", "ok", "Running", "inner", "boom", "cmd"];
    assert_eq!(texts(input), expected);
}

/// A prefix that a tool added after the terminal wrapped the line is not part of the
/// wrap width: the line is still cut at a terminal's width.
#[test]
fn a_prefix_added_after_the_wrap_is_not_measured() {
    let line = format!(
        "The archive for acme/module-pay failed with status {}",
        "x".repeat(80)
    );
    let (first, rest) = line.split_at(80);
    let input = format!("[web-1] err {first}\n[web-1] err {rest}");
    assert_eq!(texts(&input), [line]);
    // A sentence that opens the next line stays apart when no width says it was cut.
    let input =
        "[web-1] err The archive for acme/module-pay failed with status 4\n[web-1] err Done";
    assert_eq!(texts(input).len(), 2);
}

/// A box header is a line of its own, however wide the screen padded it.
#[test]
fn a_box_header_is_never_joined_to_the_next_line() {
    // A container's lines on a 60-column screen: the header fills the width, as a cut line does.
    let header = "php_1  |   [Acme\\Shop\\Exception\\ThemeConfigurationException]";
    assert_eq!(header.len(), 60);
    let second = "php_1  |   The \"acme/theme\" theme has a parent that is regis";
    assert_eq!(second.len(), 60);
    let input = format!("{header}\n{second}\n{:<60}", "tered.");
    assert_eq!(
        texts(&input),
        [
            "[Acme\\Shop\\Exception\\ThemeConfigurationException]",
            "The \"acme/theme\" theme has a parent that is registered."
        ]
    );
}

/// A tool prefixes every line it prints: a wrapped piece (no prefix) that ends at a
/// space is not continued by the tool's next line (with its prefix).
#[test]
fn a_prefixed_line_never_continues_an_unprefixed_piece() {
    let first = "[web-1] err The archive https://repo.example.com/archives/acme/pay/acme-pay-1.0.";
    assert_eq!(first.len(), 80);
    // The rest fills the width and ends at the space the next cut would fall on.
    let rest = "0.zip could not be downloaded from the mirror either: HTTP/1.1 404 Not Found ok ";
    assert_eq!(rest.len(), 80);
    let input = format!("{first}\n{rest}\n[web-1] err The next step was skipped.");
    assert_eq!(texts(&input).len(), 2, "{:?}", texts(&input));
}

/// A message that the rule catalogue matches only at the start of a line opens one,
/// even after a line as wide as a terminal.
#[test]
fn a_message_rules_read_at_a_line_start_is_never_a_wrapped_rest() {
    let progress = format!(
        "Interceptors generation... 3/9 [====>-----]  33% 45 secs {}",
        "=".repeat(63)
    );
    assert_eq!(progress.len(), 120);
    assert_eq!(texts(&format!("{progress}\nKilled")).len(), 2);
}

/// A `->` cut after its `-` under a tool's prefix: the rest opens like a prompt.
#[test]
fn an_arrow_cut_under_a_prefix_is_joined() {
    let first = "[web-1] err     - acme/module-ship[2.0.0, ..., 2.0.4] require php >=7.1.3 <8.0 -";
    assert_eq!(first.len(), 80);
    let input = format!("{first}\n> your php version (8.3.1) does not satisfy that requirement.");
    assert_eq!(
        texts(&input),
        [
            "acme/module-ship[2.0.0, ..., 2.0.4] require php >=7.1.3 <8.0 -> your php version (8.3.1) does not satisfy that requirement."
        ]
    );
}

/// Regression: a line that ends in a multi-byte blank (an en space) was sliced inside
/// it when asked whether its cut shows (found by `tests/mask_props.rs`).
#[test]
fn a_line_ending_in_a_wide_blank_does_not_panic() {
    let first = format!("ERROR: failed: {}\u{2002}", "x".repeat(60));
    let input = format!("{first}\n{first}\nnext part of it");
    assert!(!texts(&input).is_empty());
}

/// Prefixes stack in any order: a runner stamps what a container printed under `W:`.
#[test]
fn strips_stacked_tool_prefixes() {
    let input = "    W: 2024-05-14T08:12:45.4417823Z Downloading acme/x\n    W: php_1  | Downloading acme/y\n2024-05-14T08:12:46.0000000Z php_1  |     W: Downloading acme/z";
    let expected = [
        "Downloading acme/x",
        "Downloading acme/y",
        "Downloading acme/z",
    ];
    assert_eq!(texts(input), expected);
}

#[test]
fn keeps_pipes_that_are_not_docker_prefixes() {
    let input = "magento/framework 103.0.4 requires php ~7.3.0||~7.4.0";
    assert_eq!(texts(input), [input]);
}

#[test]
fn splits_json_escaped_output() {
    let input = r#"build failed\n\nIn Cli.php line 7:\n  The \"x\" failed"#;
    let lines = repair_text(input);
    let got: Vec<_> = lines.iter().map(|l| (l.line, l.text.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, "build failed"),
            (1, ""),
            (1, "In Cli.php line 7:"),
            (1, "The \"x\" failed")
        ]
    );
}

#[test]
fn leaves_windows_paths_with_backslash_n_alone() {
    let input = r"C:\xampp\htdocs\new\node\lib.php on line 3";
    assert_eq!(texts(input), [input]);
}

/// An 80-column terminal cut a PHP fatal error in the middle of words and numbers.
#[test]
fn joins_lines_wrapped_at_a_terminal_width() {
    let original = "PHP Fatal error:  Allowed memory size of 2097152 bytes exhausted (tried to allocate 32768 bytes) in /app/vendor/magento/framework/Interception/Interceptor.php on line 58";
    let wrapped = wrap(original, 80);
    let lines = repair_text(&format!("# bin/magento setup:upgrade\n{wrapped}\nnext"));
    let next_line = wrapped.lines().count() as u64 + 2;
    let got: Vec<_> = lines.iter().map(|l| (l.line, l.text.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, "# bin/magento setup:upgrade"),
            (2, original),
            (next_line, "next")
        ]
    );
}

/// A mail client cut at 75: uncommon, so two cut lines must show the width.
#[test]
fn joins_lines_wrapped_at_a_width_seen_twice() {
    let original = "Could not find a matching version of package magento/extension-b2b. Check the package spelling, your version constraint and that the package is available.";
    assert_eq!(texts(&wrap(original, 75)), [original]);
}

/// One line at an uncommon width, ended as a sentence ends: nothing shows a cut.
#[test]
fn leaves_a_single_line_at_an_uncommon_width_alone() {
    let input = format!("{}.\n{}", "a".repeat(74), "continues here");
    assert_eq!(texts(&input).len(), 2);
}

/// The same line cut in the middle of a word, a URL, a number or a quote: the cut
/// shows, whatever the width.
#[test]
fn joins_a_single_line_cut_in_the_middle_of_something() {
    let cases = [
        (
            "Allowed memory size of 1610612736 bytes exhausted (tried to allocate 65536",
            " bytes) in Solver.php on line 223",
        ),
        (
            "Invalid credentials for 'https://repo.magento.com/archives/acme/module-pay/acme-module-pay-1",
            ".4.2.zip', aborting.",
        ),
        (
            "PHP Warning:  file_put_contents(/app/pub/static/deployed_version.txt): failed to open stream: Read-o",
            "nly file system",
        ),
        (
            "acme/module-feed 2.1.0 requires magento/framework ^102.0 -> found magento/framework 103",
            ".0.6 but it does not match the constraint.",
        ),
        (
            "Exception: the \"php bin/magento cache:flush --all-stores --no-interaction --verbose",
            "\" command failed.",
        ),
        (
            "Could not connect to the search engine at tcp://opensearch.internal:9200 (elasticsearch client",
            ")",
        ),
        // A namespaced class cut before a capital (its rest opens as its line did), a
        // host cut after a dot.
        (
            "Exception #0 (Acme\\Shop\\Catalog\\Model\\Config\\Reader\\Validation",
            "Exception): Element 'block' is not allowed.",
        ),
        (
            "Could not reach the package metadata for acme/module-pay on mirror.example.",
            "org (it timed out)",
        ),
        // An HTTP status cut in its digits.
        (
            "The 'https://repo.example.com/packages.json' file could not be downloaded: HTTP/1.1 4",
            "01 Unauthorized",
        ),
        // A protocol cut from its version.
        (
            "The 'https://repo.example.com/archives/acme/module-pay/acme-module-pay-1.0.0.zip' URL could not be accessed: HTTP",
            "/2 403",
        ),
        // A JSON record left open, even where its rest opens like a sentence.
        (
            r#"{"errorCode":33,"stage":"deploy","step":"warm-up","suggestion":"Check the warm-up pages.","title":""#,
            r#"Warming up failed","type":"warning"}"#,
        ),
    ];
    for (first, rest) in cases {
        assert_eq!(
            texts(&format!("{first}\n{rest}")),
            [format!("{first}{rest}")],
            "{first}"
        );
    }
}

/// A line that ends in a whole short word, over one that opens with a lowercase word,
/// shows no cut at a width no terminal has: they stay two lines. A short piece that is
/// no word (`it do` `es not`, `Read-on` `ly`) is a cut.
#[test]
fn a_whole_short_word_at_a_line_end_shows_no_cut() {
    let apart = [
        (
            "[2024-01-01T00:00:00] NOTICE: the nightly maintenance job went on",
            "plain text follows on a line of its own",
        ),
        (
            "Exception: could not connect to the database server, giving up on",
            "retries after 3 attempts",
        ),
        (
            "Waiting for the deployment of the new release to finish, then",
            "on to the post-deploy hooks of the environment",
        ),
    ];
    for (first, second) in apart {
        assert!(!wrap::is_terminal_width(first.len()), "{first}");
        assert_eq!(texts(&format!("{first}\n{second}")), [first, second]);
    }
    let cut = [
        (
            "Root composer.json requires acme/module-mailer 5.0.0, found acme/module-mailer[4.2.0] but it do",
            "es not match the constraint.",
        ),
        (
            "PHP Warning:  file_put_contents(/app/pub/static/deployed_version.txt): failed to open stream: Read-on",
            "ly file system",
        ),
    ];
    for (first, rest) in cut {
        assert_eq!(
            texts(&format!("{first}\n{rest}")),
            [format!("{first}{rest}")]
        );
    }
}

#[test]
fn keeps_full_width_log_lines_apart() {
    let first = format!(
        "[2023-04-24T18:58:04.129888+00:00] ERROR: [13] {}",
        "x".repeat(33)
    );
    let second = format!(
        "[2023-04-24T18:58:05.129888+00:00] ERROR: [13] {}",
        "y".repeat(33)
    );
    assert_eq!(first.len(), 80);
    assert_eq!(texts(&format!("{first}\n{second}")), [first, second]);
}

#[test]
fn keeps_equal_length_sentences_apart() {
    let first = "Package zendframework/zend-barcode is abandoned, you should avoid using it. Use laminas/laminas-barcode instead.";
    let second = "Package zendframework/zend-captcha is abandoned, you should avoid using it. Use laminas/laminas-captcha instead.";
    let third = "Package zendframework/zend-config is abandoned.";
    let input = format!("{first}\n{second}\n{third}");
    assert_eq!(texts(&input), [first, second, third]);
}

/// Regression: static-content progress lines of equal length, the longest in their
/// window, were joined as if wrapped (found on the bench corpus).
#[test]
fn keeps_equal_length_progress_lines_apart() {
    let progress = |area: &str, count: u32| {
        format!(
            "{area}        {count}/{count}           ============================ 100%   %  3 sec"
        )
    };
    let lines = [
        progress("adminhtml/Magento/backend/nl_NL", 1996),
        progress("adminhtml/Magento/backend/de_DE", 1675),
        progress("frontend/Magento/luma/fr_FR", 15830),
        "Generating autoload files".to_owned(),
    ];
    assert_eq!(lines[0].len(), lines[1].len());
    assert_eq!(texts(&lines.join("\n")), lines);
}

/// Regression: an indented Composer list item of box width followed by an indented
/// warning was joined as if an unpadded box had been split (found on the bench corpus).
#[test]
fn keeps_indented_lines_apart_without_a_box_header() {
    let input = "    W:   - Installing magento/module-banner (104.1.3.0-patch2): Extracting archive\n  fwrite(): Write of 8192 bytes failed with errno=28 No space left on device";
    assert_eq!(texts(input).len(), 2);
}

/// More long lines before than a writer adds above a paste, or one after: the
/// lines of the width are whole lines.
#[test]
fn keeps_lines_apart_once_longer_lines_were_seen() {
    let long = |n: usize| format!("{}.", "x".repeat(n));
    let cut = format!("{}\n{}", "a".repeat(80), "b".repeat(80));
    let before = format!("{}\n{}\n{}\n{cut}\nc", long(150), long(160), long(170));
    assert_eq!(texts(&before).len(), 6);
    let after = format!("{cut}\n{}", long(150));
    assert_eq!(texts(&after).len(), 3);
}

/// Regression: a command line ending in a quoted path, above a line that opens
/// lowercase, was joined as if the path had been cut (found on the real-world set).
#[test]
fn keeps_a_closed_path_apart_from_the_next_line() {
    let first = "patch -p1 --forward -d '/srv/shop/vendor/acme/module-pay' < '/srv/shop/patches/acme-fix-1234.diff'";
    let second = "can't find file to patch at input line 7";
    assert_eq!(texts(&format!("{first}\n{second}")), [first, second]);
}

/// A sentence longer than the width above a wrapped log does not hide the wrap.
#[test]
fn joins_a_wrapped_log_below_a_long_sentence() {
    let prose = "Hi, our build failed after we rotated the keys yesterday, the output is below, please help us find out what is wrong:";
    let original = "The 'https://repo.magento.com/archives/magento/module-rma/magento-module-rma-101.2.6.zip' URL could not be accessed (HTTP 403): HTTP/2 403";
    let wrapped = wrap(original, 80);
    assert_eq!(texts(&format!("{prose}\n{wrapped}")), [prose, original]);
}

#[test]
fn keeps_screen_padded_lines_apart() {
    let input = format!(
        "{:<92}\n{:<92}\n{:<92}",
        "Authentication required (repo.magento.com):", "  Username: someone", "  Password:"
    );
    assert_eq!(
        texts(&input),
        [
            "Authentication required (repo.magento.com):",
            "Username: someone",
            "Password:"
        ]
    );
}

/// Symfony split the message at the box's content width: `(H` / `TTP 401)`.
#[test]
fn joins_lines_split_inside_a_symfony_box() {
    let input = [
        "In AuthHelper.php line 205:",
        &" ".repeat(79),
        "  The 'https://repo.magento.com/packages.json' URL required authentication (H  ",
        "  TTP 401).                                                                    ",
        &" ".repeat(79),
    ]
    .join("\n");
    let expected = [
        "In AuthHelper.php line 205:",
        "",
        "The 'https://repo.magento.com/packages.json' URL required authentication (HTTP 401).",
        "",
    ];
    assert_eq!(texts(&input), expected);
}

#[test]
fn joins_box_lines_whose_padding_was_stripped() {
    let input = "  [Composer\\Downloader\\TransportException]\n  The \"https://repo.magento.com/archives/magento/composer/magento-composer-1.\n  0.2.0.zip\" file could not be downloaded (HTTP/1.1 404 Not Found)";
    let joined = "The \"https://repo.magento.com/archives/magento/composer/magento-composer-1.0.2.0.zip\" file could not be downloaded (HTTP/1.1 404 Not Found)";
    assert_eq!(
        texts(input),
        ["[Composer\\Downloader\\TransportException]", joined]
    );
}

/// A narrow box is never split, so its widest line is a whole line.
#[test]
fn keeps_lines_of_an_unsplit_box_apart() {
    let width = 70;
    let line = |text: &str| format!("  {text:<width$}  ", width = width - 4);
    let first = "x".repeat(width - 4);
    let input = [
        " ".repeat(width),
        line(&first),
        line("second line of the message"),
        " ".repeat(width),
    ]
    .join("\n");
    assert_eq!(
        texts(&input),
        ["", first.as_str(), "second line of the message", ""]
    );
}

#[test]
fn holds_only_a_small_window() {
    let mut repairer = Repairer::new();
    let mut out = Vec::new();
    for line_no in 1..=100 {
        repairer.push(line_no, "Generating autoload files", &mut out);
    }
    assert_eq!(out.len(), 100 - LOOKAHEAD - 1);
    repairer.finish(&mut out);
    assert_eq!(out.len(), 100);
}

#[test]
fn fast_path_recognises_clean_lines() {
    assert!(is_clean("Generating autoload files"));
    assert!(is_clean(
        "Loading composer repositories with package information"
    ));
    assert!(!is_clean("  - Installing x"));
    assert!(!is_clean("a &lt; b"));
    assert!(!is_clean("caf\u{e9}"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
    /// The quick way of [`strip_all`] never changes what a line is read as: lines
    /// made of the pieces each stripper looks for, in any order, come out as trying
    /// every stripper gives them, with and without a Vagrant machine.
    #[test]
    fn quick_stripping_strips_as_every_stripper_does(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            " ", "   ", "\t", "\u{b}", "\u{3000}", ">", "> ", "- ", "* ", "\u{2022} ",
            "`", "```", "~~~", "W:", "E: ", "==> ", "default", ": ", "[host]", " err ",
            " > ", "|", "web_1  | ", "    default: ", "-", "Installing a (1.0)", "x",
            "caf\u{e9}",
        ]), 0..8),
        knows_machine in proptest::bool::ANY,
    ) {
        let text = pieces.concat();
        let machine = knows_machine.then_some("default");
        let every_stripper = strip_paste_layers(&text)
            .map(|as_printed| (as_printed, strip_transport(as_printed, machine)));
        proptest::prop_assert_eq!(strip_all(&text, machine), every_stripper, "{:?}", text);
    }
}

proptest::proptest! {
    /// The quick trims are the std ones, whatever the whitespace, ASCII or not.
    #[test]
    fn quick_trims_trim_as_std_does(text in "[ \t\n\u{b}\u{c}\r\u{85}\u{a0}\u{3000}\u{2028}a\u{e9}\u{1f600}-]{0,12}") {
        proptest::prop_assert_eq!(trim_start_quick(&text), text.trim_start());
        proptest::prop_assert_eq!(trim_end_quick(&text), text.trim_end());
    }
}

/// Cuts `text` into pieces of `width` characters, as a terminal does.
fn wrap(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let pieces: Vec<String> = chars
        .chunks(width)
        .map(|piece| piece.iter().collect())
        .collect();
    pieces.join("\n")
}

/// How a Symfony box was pasted.
#[derive(Debug, Clone, Copy)]
enum BoxPaste {
    /// As the console printed it: indented and padded to the box width.
    AsPrinted,
    /// Trailing spaces stripped, as trackers and chat do.
    TrailingStripped,
    /// Indentation and trailing spaces stripped.
    Stripped,
    /// Under the Cloud build log's prefix, padded.
    CloudPrefix,
    /// The box header and the first line of the message lost their indentation.
    FirstIndentLost,
}

/// Prints `message` in a Symfony console exception box on a terminal `terminal` columns
/// wide, as Symfony's console does: the box is one column narrower than the terminal,
/// the message is cut into pieces of the box's content width wherever the width falls,
/// and every box line is indented by two spaces and padded to the box's width. `modern`
/// puts `In File.php line N:` above the box, else the class is the box's title.
fn symfony_box(message: &str, terminal: usize, modern: bool) -> Vec<String> {
    let content = terminal - 5;
    let chars: Vec<char> = message.chars().collect();
    let pieces: Vec<String> = chars.chunks(content).map(|c| c.iter().collect()).collect();
    let title = "[Acme\\Console\\Exception\\InvalidArgumentException]";
    let mut width = pieces
        .iter()
        .map(|p| p.chars().count() + 4)
        .max()
        .unwrap_or(0);
    if !modern {
        width = width.max(title.len() + 4);
    }
    let line = |text: &str| format!("  {text:<w$}  ", w = width - 4);
    let mut lines = vec![String::new()];
    if modern {
        lines.push("In Installer.php line 412:".to_owned());
    }
    lines.push(" ".repeat(width));
    if !modern {
        lines.push(line(title));
    }
    lines.extend(pieces.iter().map(|p| line(p)));
    lines.push(" ".repeat(width));
    lines.push(String::new());
    lines
}

fn paste_box(lines: &[String], paste: BoxPaste) -> String {
    let first_message = lines.iter().position(|l| l.contains("word")).unwrap_or(0);
    let lines: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| match paste {
            BoxPaste::AsPrinted => l.clone(),
            BoxPaste::TrailingStripped => l.trim_end().to_owned(),
            BoxPaste::Stripped => l.trim().to_owned(),
            BoxPaste::CloudPrefix => format!("    W: {l}"),
            BoxPaste::FirstIndentLost
                if i == first_message || l.contains("line 412") || l.contains("[Acme") =>
            {
                l.trim_start().to_owned()
            }
            BoxPaste::FirstIndentLost => l.clone(),
        })
        .collect();
    lines.join("\n")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// A message Symfony split across the lines of its box is joined back whole, at
    /// every common terminal width, however the box was pasted: wherever the cut fell
    /// (inside a word, after a space, before one) and with or without the padding.
    #[test]
    fn a_message_split_in_a_symfony_box_is_joined_whole(
        words in proptest::collection::vec("[a-z0-9]([a-z0-9./_-]{0,10}[a-z0-9])?", 30..70),
        terminal in proptest::sample::select(wrap::TERMINAL_WIDTHS.to_vec()),
        modern in proptest::bool::ANY,
        paste in proptest::sample::select(vec![
            BoxPaste::AsPrinted, BoxPaste::TrailingStripped, BoxPaste::Stripped,
            BoxPaste::CloudPrefix, BoxPaste::FirstIndentLost,
        ]),
    ) {
        let message = format!("The word {}.", words.join(" "));
        let content = terminal - 5;
        let chars: Vec<char> = message.chars().collect();
        proptest::prop_assume!(chars.len() > content);
        let lost_padding = matches!(paste, BoxPaste::TrailingStripped | BoxPaste::Stripped);
        if lost_padding {
            // Without the padding the box width is read from the terminal widths, and
            // neighbouring widths (78, 79, 80) cannot tell a cut after a space from one
            // inside a word: only the others are checked.
            proptest::prop_assume!(![78, 79].contains(&terminal));
        }
        if matches!(paste, BoxPaste::Stripped | BoxPaste::FirstIndentLost) {
            // A stripped box shows it only by a `[Class]` title without indentation:
            // `In File.php line N:` is never indented.
            proptest::prop_assume!(!modern);
        }
        if matches!(paste, BoxPaste::Stripped) {
            // A piece that began with a space lost it with the indentation: nothing
            // in the text can tell it was there.
            proptest::prop_assume!(chars.chunks(content).skip(1).all(|c| c[0] != ' '));
        }
        let input = paste_box(&symfony_box(&message, terminal, modern), paste);
        let repaired = texts(&input);
        proptest::prop_assert!(
            repaired.contains(&message),
            "{:?} at {} columns:\n{}\nrepaired as {:#?}", paste, terminal, input, repaired
        );
    }
}

/// A box's body ends at its first empty line: an unindented line after it that happens
/// to be as wide as a box piece is not joined to the line after it.
#[test]
fn lines_after_a_closed_box_are_not_box_pieces() {
    let piece = format!("after the box, {}done.", "word ".repeat(11));
    assert_eq!(piece.len(), 75);
    let input = [
        "  [RuntimeException]",
        "  The command failed.",
        "",
        &piece,
        "and a lowercase line after it",
    ]
    .join("\n");
    assert_eq!(
        texts(&input),
        [
            "[RuntimeException]",
            "The command failed.",
            "",
            piece.as_str(),
            "and a lowercase line after it"
        ]
    );
}

/// Markdown emphasis a paste put around lines is not part of them: around a whole line,
/// or a bold span opened on one line and closed lines later. Identifiers keep their
/// underscores, and a bullet or a glob keeps its star.
#[test]
fn strips_markdown_emphasis_around_lines() {
    let input = "**Installing dependencies from lock file\nWriting lock file\nKilled**\n_Segmentation fault_\n__Aborted__\n*Done*\n*Unknown column 'store_id' in 'where clause'*";
    assert_eq!(
        texts(input),
        [
            "Installing dependencies from lock file",
            "Writing lock file",
            "Killed",
            "Segmentation fault",
            "Aborted",
            "Done",
            "Unknown column 'store_id' in 'where clause'"
        ]
    );
    // A line that holds its marker keeps the outer ones: they may be the text's own.
    let kept = "__construct() expects 2 arguments\nvendor_dir_\n** not emphasis **\nsrc/**/*.php\n_cache _warm_";
    assert_eq!(
        texts(kept),
        [
            "__construct() expects 2 arguments",
            "vendor_dir_",
            "** not emphasis **",
            "src/**/*.php",
            "_cache _warm_"
        ]
    );
}

/// A mail client breaks a quoted log at the space before a word that does not fit, and
/// puts a word longer than its width (a URL) on a line of its own: the pieces are
/// joined with a space. The width is the longest line of several words around.
#[test]
fn joins_lines_a_mail_client_word_wrapped() {
    let input = [
        "> Hello, the deployment of the staging branch stopped again today with the",
        "> errors below, can you have a look please?",
        ">",
        ">     W: The",
        "> 'https://repo.example.test/archives/acme/module-widget/acme-module-widget-2.4.1.zip'",
        "> URL could not be accessed: HTTP/1.1 403 Forbidden",
        ">     W: The",
        "> 'https://repo.example.test/archives/acme/module-gadget/acme-module-gadget-1.0.9.zip'",
        "> URL could not be accessed: HTTP/1.1 403 Forbidden",
    ]
    .join("\n");
    assert_eq!(
        texts(&input),
        [
            "Hello, the deployment of the staging branch stopped again today with the",
            "errors below, can you have a look please?",
            "",
            "The 'https://repo.example.test/archives/acme/module-widget/acme-module-widget-2.4.1.zip' URL could not be accessed: HTTP/1.1 403 Forbidden",
            "The 'https://repo.example.test/archives/acme/module-gadget/acme-module-gadget-1.0.9.zip' URL could not be accessed: HTTP/1.1 403 Forbidden",
        ]
    );
}

/// Only quoted lines are read as a mail's, and only where the next word would not have
/// fit: a quoted log whose short lines end where its lines end keeps them apart, and so
/// does the same text unquoted.
#[test]
fn keeps_lines_apart_that_no_mail_client_wrapped() {
    let lines = [
        "Loading composer repositories with package information from the mirror host",
        "Installing dependencies from lock file (including require-dev)",
        "Generating autoload files",
        "Nothing to install, update or remove",
        "/app/vendor/acme/module-widget/Setup/Patch/Data/AddWidgetAttributes.php",
    ];
    let expected: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let quoted: Vec<String> = lines.iter().map(|l| format!("> {l}")).collect();
    assert_eq!(texts(&quoted.join("\n")), expected);
    let unquoted = "Hello, the deployment of the staging branch stopped again today with those\nerrors below.\n\nThe\n'https://repo.example.test/archives/acme/module-widget/acme-module-widget-2.4.1.zip'";
    assert_eq!(texts(unquoted).len(), 5);
}
