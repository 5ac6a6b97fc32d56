//! Unit tests of the masking shapes.
use super::*;

const PUB: &str = "0123456789abcdef0123456789abcdef";
const PRIV: &str = "fedcba9876543210fedcba9876543210";

/// Asserts that masking `input` gives exactly `expected`, as it would with every
/// shape run: each shape's trigger words are in each example it masks.
fn check(input: &str, expected: &str) {
    assert_eq!(mask(input), expected, "input: {input:?}");
    assert_eq!(
        mask_with(input, Select::Every),
        expected,
        "input: {input:?}"
    );
}

/// Asserts that `input` comes back untouched and borrowed, with every shape run too.
fn keep(input: &str) {
    let every = mask_with(input, Select::Every);
    assert!(matches!(every, Cow::Borrowed(_)), "{input:?} -> {every:?}");
    let out = mask(input);
    assert!(
        matches!(out, Cow::Borrowed(_)),
        "masked: {input:?} -> {out:?}"
    );
}

#[test]
fn plain_lines_are_borrowed() {
    keep("");
    keep("Running hook: build");
    keep("Generating autoload files");
    keep("ééé 日本語 \u{1F600}");
}

#[test]
fn composer_auth_json() {
    check(
        r#"{"http-basic":{"repo.magento.com":{"username":"alice","password":"s3cr3t pass"}}}"#,
        r#"{"http-basic":{"repo.magento.com":{"username":"****","password":"****"}}}"#,
    );
    check(
        r#""github-oauth": {"github.com": "abcdefABCDEF0123456789abcdefabcdef0123"}"#,
        r#""github-oauth": {"github.com": "****"}"#,
    );
    check(
        r#""gitlab-token": {"gitlab.com": "tok1tok1tok1", "git.corp.io": "tok2tok2"}"#,
        r#""gitlab-token": {"gitlab.com": "****", "git.corp.io": "****"}"#,
    );
    check(
        r#""bearer": {"repo.example.com": "opaque-bearer-value"}"#,
        r#""bearer": {"repo.example.com": "****"}"#,
    );
    check(
        r#""gitlab-token": {"gitlab.com": {"username": "me", "token": "abc123abc123"}}"#,
        r#""gitlab-token": {"gitlab.com": {"username": "****", "token": "****"}}"#,
    );
    check(
        r#"    "github.com": "0123abcd""#,
        r#"    "github.com": "****""#,
    );
}

#[test]
fn composer_auth_json_escaped_and_env() {
    check(
        r#"{"env":"{\"http-basic\":{\"repo.magento.com\":{\"username\":\"u1\",\"password\":\"p\\\"w\"}}}"}"#,
        r#"{"env":"{\"http-basic\":{\"repo.magento.com\":{\"username\":\"****\",\"password\":\"****\"}}}"}"#,
    );
    check(
        r#"COMPOSER_AUTH={"github-oauth":{"github.com":"tokentoken"}}"#,
        r#"COMPOSER_AUTH={"github-oauth":{"github.com":"****"}}"#,
    );
    check(
        r#"export COMPOSER_AUTH='{"http-basic":{"repo.magento.com":{"username":"x","password":"y"}}}'"#,
        r#"export COMPOSER_AUTH='{"http-basic":{"repo.magento.com":{"username":"****","password":"****"}}}'"#,
    );
    check(
        r#"\"bearer\":{\"repo.example.com\":\"abc\\\"def\"}"#,
        r#"\"bearer\":{\"repo.example.com\":\"****\"}"#,
    );
}

#[test]
fn composer_auth_that_is_not_json_is_masked_whole() {
    check("COMPOSER_AUTH=abc123secret", "COMPOSER_AUTH=****");
    check("COMPOSER_AUTH: opaque-value-1234", "COMPOSER_AUTH: ****");
    check(
        "env:COMPOSER_AUTH = 'not json at all'",
        "env:COMPOSER_AUTH = '****'",
    );
    check(
        r#"export COMPOSER_AUTH="plain value""#,
        r#"export COMPOSER_AUTH="****""#,
    );
    check(
        r#"{"COMPOSER_AUTH": "u:p"}"#,
        r#"{"COMPOSER_AUTH": "****"}"#,
    );
    keep("COMPOSER_AUTH environment variable is not set");
    keep("COMPOSER_AUTH=null");
}

#[test]
fn composer_auth_json_lookalikes() {
    keep(r#""github-protocols": ["https"]"#);
    keep(r#""url": "https://github.com/magento/magento2.git""#);
    keep(r#""require": {"magento/product-enterprise-edition": "2.4.7-p3"}"#);
    keep(r#""password": null"#);
    keep(r#"Access denied for user 'magento'@'localhost' (using password: YES)"#);
}

#[test]
fn marketplace_keys() {
    check(PUB, "****");
    check(&format!("keys {PUB} {PRIV}."), "keys **** ****.");
    check(
        &format!("\"username\": \"{PUB}\""),
        "\"username\": \"****\"",
    );
    check(&format!("public={PUB}&x"), "public=****&x");
    check(
        &format!("composer config http-basic.repo.magento.com {PUB} {PRIV}"),
        "composer config http-basic.repo.magento.com **** ****",
    );
    check(
        &format!("\"content-hash\": \"{PUB}\""),
        "\"content-hash\": \"****\"",
    );
}

#[test]
fn marketplace_key_lookalikes() {
    keep("commit 0123456789abcdef0123456789abcdef01234567");
    keep("sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    keep(&format!("x{PUB}"));
    keep(&format!("{PUB}0"));
    keep(&format!("{PUB}_suffix"));
    keep("0123456789ABCDEF0123456789ABCDEF");
    keep("0123456789abcdef0123456789abcde");
    keep("magento/module-catalog 102.0.5.0-patch2");
    keep("reference: 7d8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f");
}

#[test]
fn url_credentials() {
    check(
        "Downloading https://user:pa55@repo.magento.com/archives/magento/module-foo.zip",
        "Downloading https://****:****@repo.magento.com/archives/magento/module-foo.zip",
    );
    check(
        "redis://:hunter2@127.0.0.1:6379/0",
        "redis://:****@127.0.0.1:6379/0",
    );
    check("mysql://db:p@ss@host/main", "mysql://****:****@host/main");
    check(
        "\"https://x-access-token:abc@github.com/o/r\"",
        "\"https://****:****@github.com/o/r\"",
    );
}

#[test]
fn url_lookalikes() {
    keep("git@github.com:magento/magento2.git");
    keep("https://git@github.com/magento/magento2.git");
    keep("https://repo.magento.com:443/packages.json");
    keep("Failed to download magento/module-foo from https://repo.magento.com/archives/x.zip");
}

#[test]
fn authorization_headers() {
    check(
        "Authorization: Basic dXNlcjpwYXNz",
        "Authorization: Basic ****",
    );
    check(
        "authorization: bearer abc.def.ghi",
        "authorization: bearer ****",
    );
    check(
        "AUTHORIZATION: token deadbeefcafe",
        "AUTHORIZATION: token ****",
    );
    check("Proxy-Authorization: xyzzy", "Proxy-Authorization: ****");
    check(
        r#"-H "Authorization: Bearer abcdefghijklmnop""#,
        r#"-H "Authorization: Bearer ****""#,
    );
    check("sent Bearer abcdefghijklmnopqrstuvwxyz", "sent Bearer ****");
    check("PRIVATE-TOKEN: secretvalue1", "PRIVATE-TOKEN: ****");
}

#[test]
fn authorization_lookalikes() {
    keep("The 'https://repo.magento.com/packages.json' URL required authentication.");
    keep("Bearer authentication failed");
    keep("Author: Jane Doe");
}

#[test]
fn vendor_tokens() {
    let classic = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    check(&format!("token {classic} used"), "token ghp_**** used");
    check("gho_abcdefghijklmnopqrstuvwxyz", "gho_****");
    check("x ghs_abcdefghijklmnopqrstuvwxyz_", "x ghs_****_");
    check(
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_pat_****",
    );
    check("glpat-abcdefghij0123456789", "glpat-****");
    check("AKIAIOSFODNN7EXAMPLE", "AKIA****");
    check("key ASIAIOSFODNN7EXAMPLE.", "key ASIA****.");
}

#[test]
fn vendor_token_lookalikes() {
    keep("ghp_short");
    keep("glpat-short");
    keep("AKIA is a prefix");
    keep("Europe/Asia timezone ASIASHORT");
}

#[test]
fn setup_install_flags() {
    check(
        "bin/magento setup:install --db-host=db --db-password=s3cret --admin-password='a b c' --admin-user=admin",
        "bin/magento setup:install --db-host=db --db-password=**** --admin-password='****' --admin-user=admin",
    );
    check("--db-password secret --x", "--db-password **** --x");
    check(
        "--amqp-password=\"q\\\"q\" --elasticsearch-password=e --opensearch-password=o",
        "--amqp-password=\"****\" --elasticsearch-password=**** --opensearch-password=****",
    );
    check(
        "--session-save-redis-password=r --cache-backend-redis-password=c",
        "--session-save-redis-password=**** --cache-backend-redis-password=****",
    );
    check(
        "--key=abcabc --encryption-key xyzxyz",
        "--key=**** --encryption-key ****",
    );
    check("--admin-password='unterminated", "--admin-password='****");
    check(
        "mysqldump -h db -u user -p'pw pw' main",
        "mysqldump -h db -u user -p'****' main",
    );
    check("curl -u user:pw https://x", "curl -u ****:**** https://x");
}

#[test]
fn setup_install_flag_lookalikes() {
    keep("bin/magento setup:install --db-host=db --db-user=magento --admin-user=admin");
    keep("composer install --no-dev --prefer-dist");
    keep("mysql -h db -P 3306 -u root main");
    keep("sudo -u www-data php bin/magento cache:flush");
}

#[test]
fn env_php_and_cloud_variables() {
    check("  'key' => 'b8f3a1c0'", "  'key' => '****'");
    check(
        "'crypt' => ['key' => \"base64abcDEF==\"],",
        "'crypt' => ['key' => \"****\"],",
    );
    check("'password' => 'dbpass',", "'password' => '****',");
    check(
        "MAGENTO_CLOUD_VARIABLES=eyJhZG1pbl9wYXNzd29yZCI6Inh5eiJ9",
        "MAGENTO_CLOUD_VARIABLES=****",
    );
    check(
        "export MAGENTO_CLOUD_RELATIONSHIPS='W3sicGFzcyI6IngifV0='",
        "export MAGENTO_CLOUD_RELATIONSHIPS='****'",
    );
}

#[test]
fn env_php_lookalikes() {
    keep("'backend' => ['frontName' => 'admin'],");
    keep("'cache_types' => ['config' => 1],");
    keep("MAGENTO_CLOUD_ENVIRONMENT=production");
    keep("MAGENTO_CLOUD_VARIABLES is empty");
}

#[test]
fn aws_and_jwt() {
    check(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
        "aws_secret_access_key = ****",
    );
    check(
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nat_ure end",
        "jwt **** end",
    );
}

#[test]
fn aws_and_jwt_lookalikes() {
    keep("monkeyJarFactory");
    keep("eyJ");
    keep("AKIAIOSFODNN7EXAMPL");
}

#[test]
fn pem_private_keys() {
    check(
        "-----BEGIN RSA PRIVATE KEY-----MIIEabc==-----END RSA PRIVATE KEY----- tail",
        "-----BEGIN RSA PRIVATE KEY-----****-----END RSA PRIVATE KEY----- tail",
    );
    check(
        r#""key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIB\n-----END PRIVATE KEY-----\n""#,
        r#""key": "-----BEGIN PRIVATE KEY-----****-----END PRIVATE KEY-----\n""#,
    );
    check(
        "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXk",
        "-----BEGIN OPENSSH PRIVATE KEY-----****",
    );
}

#[test]
fn pem_lookalikes() {
    keep("-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----");
    keep("-----BEGIN PUBLIC KEY-----");
    keep("-----BEGIN RSA PRIVATE KEY-----");
}

#[test]
fn generic_key_values() {
    check("DB_PASSWORD=abc&next=1", "DB_PASSWORD=****&next=1");
    check("?access_token=xyz123&page=2", "?access_token=****&page=2");
    check("passwd: letmein", "passwd: ****");
    check("client_secret=\"two words\" x", "client_secret=\"****\" x");
    check(
        "api_key=k1 api-key: k2 apikey=k3",
        "api_key=**** api-key: **** apikey=****",
    );
    check("secret=a;b", "secret=****;b");
}

#[test]
fn generic_key_value_lookalikes() {
    keep("password reset email sent");
    keep("token=");
    keep("enable_password_check: true");
    keep("PWD=/app/var");
    keep("bypass=1 passed=3");
}

#[test]
fn ansi_and_zero_width() {
    check("password=\x1b[31mhunter2\x1b[0m", "password=****");
    check("pass\u{200B}word=hunter2", "password=****");
    check("ghp_ABCDEFGHIJ\u{200D}KLMNOPQRSTUVWXYZ", "ghp_****");
    check(
        &format!("\u{FEFF}{}\u{2060}{}", &PUB[..10], &PUB[10..]),
        "****",
    );
    check(
        "\x1b]8;;https://u:p@h/x\x1b\\link",
        "8;;https://****:****@h/xlink",
    );
    keep("\x1b[1mBuilding\x1b[0m \u{200B}ok");
}

#[test]
fn every_trigger_word_has_a_bit() {
    assert!(SHAPES.scan.patterns_len() <= 64);
    assert!(SHAPES.shapes.iter().all(|shape| shape.triggers != 0));
}

/// A shape runs on a text with one of its trigger words only, and compiles then.
#[test]
fn a_rule_runs_on_its_own_trigger_words() {
    let url = "https://alice:pw@repo.example.com/x";
    let found = SHAPES.found_in(url);
    let running: Vec<&str> = SHAPES
        .shapes
        .iter()
        .filter(|shape| shape.triggers & found != 0)
        .map(|shape| shape.pattern.as_str())
        .collect();
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(running[0].contains("://"));
    check(url, "https://****:****@repo.example.com/x");
}

/// A pattern folds `ſ` to `s` and the Kelvin sign to `k`; the trigger words do not,
/// so a text that is not ASCII runs every shape once any trigger word is in it.
#[test]
fn a_text_that_is_not_ascii_runs_every_rule() {
    assert_eq!(SHAPES.found_in("paſſword=x"), u64::MAX);
    check(
        "https://repo.example.com paſſword=hunter2",
        "https://repo.example.com paſſword=****",
    );
    check(
        "ssh://h api_\u{212A}ey=abc123",
        "ssh://h api_\u{212A}ey=****",
    );
}

#[test]
fn idempotent_on_examples() {
    for input in [
        "https://u:p@h/x password=x Authorization: Bearer y",
        "-----BEGIN RSA PRIVATE KEY-----abc",
        r#"{"password":"a\"b","username":"c"}"#,
        "--db-password '' --key=",
    ] {
        let once = mask(input).into_owned();
        assert_eq!(mask(&once), once, "input: {input:?}");
    }
}

#[test]
fn huge_adversarial_lines_complete() {
    const MIB: usize = 1 << 20;
    let seeds = [
        "password=",
        "://a:b",
        "-----BEGIN PRIVATE KEY-----",
        "\"github-oauth\":{",
        "ghp_",
        "eyJ",
        "\\\"",
        "mysql -p",
        "a",
        "0123456789abcdef",
        "\x1b[",
        "\u{200B}",
    ];
    for seed in seeds {
        let line = seed.repeat(MIB / seed.len());
        let once = mask(&line).into_owned();
        assert!(once.len() <= line.len() + MASK.len(), "seed {seed:?} grew");
    }
    let key_run = format!("{PUB} ").repeat(MIB / 33);
    let masked = mask(&key_run);
    assert!(!masked.contains(&PUB[..8]));
}

#[test]
fn line_masker_pem_block() {
    let mut lm = LineMasker::new();
    let lines = [
        "key file:",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEA",
        "",
        "abcdEFGH==",
        "-----END RSA PRIVATE KEY----- done",
        "after MIIEpAIBAAKCAQEA",
    ];
    let out: Vec<String> = lines.iter().map(|l| lm.mask_line(l).into_owned()).collect();
    assert_eq!(
        out,
        [
            "key file:",
            "-----BEGIN RSA PRIVATE KEY-----",
            "****",
            "",
            "****",
            "-----END RSA PRIVATE KEY----- done",
            "after MIIEpAIBAAKCAQEA",
        ]
    );
}

#[test]
fn line_masker_auth_map() {
    let mut lm = LineMasker::new();
    let lines = [
        "{",
        "    \"bearer\": {",
        "        \"repo.example.com\": \"opaque-token\"",
        "    },",
        "    \"http-basic\": {",
        "        \"repo.magento.com\": {",
        "            \"username\": \"u\",",
        "            \"password\": \"p\"",
        "        }",
        "    },",
        "    \"name\": \"visible\"",
        "}",
    ];
    let out: Vec<String> = lines.iter().map(|l| lm.mask_line(l).into_owned()).collect();
    assert_eq!(out[2], "        \"repo.example.com\": \"****\"");
    assert_eq!(out[6], "            \"username\": \"****\",");
    assert_eq!(out[7], "            \"password\": \"****\"");
    assert_eq!(out[10], "    \"name\": \"visible\"");
}

#[test]
fn passwords_written_in_prose() {
    check(
        "The mysql password Qm7!xv9Lp was refused",
        "The mysql password **** was refused",
    );
    // Trailing punctuation goes with the value: it may be part of it.
    check(
        "our password is Summer2024, please",
        "our password is **** please",
    );
    check("the password was 'swordfish'", "the password was '****'");
    check(
        "Password `n0t-4-you` does not work",
        "Password `****` does not work",
    );
}

#[test]
fn prose_password_lookalikes() {
    keep("The password was refused");
    keep("password authentication failed for user magento");
    keep("Access denied for user 'root'@'localhost' (using password: YES)");
    keep("please reset the password (forgot it)");
    keep("the password is correct");
    keep("password-protected archive");
}

#[test]
fn a_key_wrapped_onto_the_next_line_is_masked_in_both_halves() {
    check(
        "key 0123456789abcdef0123\n456789abcdef and more",
        "key ****\n**** and more",
    );
    check(
        "> key 0123456789abcdef0123\r\n> 456789abcdef.",
        "> key ****\r\n> ****.",
    );
    // Two hex words that do not add up to 32 stay.
    keep("commit deadbeef\ncafe0123 done");
    keep("sha 0123456789abcdef0123\n456789abcdef0 and more");
}

#[test]
fn line_masker_masks_the_rest_of_a_wrapped_value() {
    let mut lm = LineMasker::new();
    assert_eq!(
        lm.mask_line(r#"{"http-basic": {"repo.magento.com": {"username": "0123456789abcdef0123456789abcdef", "password": "fedcba9876543210fe"#),
        r#"{"http-basic": {"repo.magento.com": {"username": "****", "password": "****"#
    );
    assert_eq!(lm.mask_line(r#"dcba9876543210"}}}"#), r#"****"}}}"#);
    assert_eq!(lm.mask_line("next line 42"), "next line 42");

    let mut lm = LineMasker::new();
    assert_eq!(
        lm.mask_line("key 0123456789abcdef0123"),
        "key 0123456789abcdef0123"
    );
    assert_eq!(lm.mask_line("456789abcdef and more"), "**** and more");
    // A hex word that does not complete a key is left alone.
    assert_eq!(lm.mask_line("cafe"), "cafe");
    assert_eq!(lm.mask_line("beef done"), "beef done");
}

#[test]
fn magento_commands_and_php_dumps() {
    check(
        "bin/magento config:set payment/braintree/private_key Xk92hsPq7Lm",
        "bin/magento config:set payment/braintree/private_key ****",
    );
    check(
        "php bin/magento config:sensitive:set --scope=websites --scope-code=base carriers/ups/password 'Jf8 3kd'",
        "php bin/magento config:sensitive:set --scope=websites --scope-code=base carriers/ups/password '****'",
    );
    check(
        "bin/magento config:set --scope stores --lock-env web/x/api_key \"Qp4z\"",
        "bin/magento config:set --scope stores --lock-env web/x/api_key \"****\"",
    );
    check(
        "#1 Mysql.php(128): PDO->__construct('mysql:host=db;port=3306', 'main', 'Zq8tUvX3Lp', Array)",
        "#1 Mysql.php(128): PDO->__construct('mysql:host=db;port=3306', 'main', '****', Array)",
    );
    check("    [password] => Rt6y Hn3Mk", "    [password] => ****");
    check(
        "Array ( [host] => db [password] => Rt6yHn3Mk [dbname] => main )",
        "Array ( [host] => db [password] => **** [dbname] => main )",
    );
    check(
        "  [\"db_password\":protected]=> string(9) \"Rt6yHn3Mk\"",
        "  [\"db_password\":**** string(9) \"****\"",
    );
    check(
        "define('DB_PASSWORD', 'Dw6Fr9Ty3');",
        "define('DB_PASSWORD', '****');",
    );
    check(
        "$config['db']['password'] = 'Dw6Fr9Ty3';",
        "$config['db']['password'] = '****';",
    );
    keep("bin/magento config:set --help");
    keep("    [host] => db.internal");
    keep("define('DB_HOST', 'db');");
    keep("#0 Mysql.php(128): PDO->__construct(Array)");
}

#[test]
fn composer_config_list_and_vendor_keys() {
    check(
        "[http-basic.repo.magento.com.password] Pw9Qx2Lk7Z",
        "[http-basic.repo.magento.com.password] ****",
    );
    check(
        "[http-basic.repo.magento.com.username] 0a1b2c3d4e5f",
        "[http-basic.repo.magento.com.username] ****",
    );
    check(
        "[github-oauth.github.com] ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
        "[github-oauth.github.com] ****",
    );
    check(
        "newrelic.license = \"abcd1234efgh5678ijkl9012mnop3456qrst7890\"",
        "newrelic.license = \"****\"",
    );
    check(
        "NEW_RELIC_LICENSE_KEY=eu01xx0123456789abcdef0123456789abNRAL",
        "NEW_RELIC_LICENSE_KEY=****",
    );
    check(
        "license key 0123456789abcdef0123456789abcdef01NRAL rejected",
        "license key **** rejected",
    );
    check("Fastly-Key: Fk7sL2mQ9zXc4VbN", "Fastly-Key: ****");
    check(
        "curl -H 'Fastly-Key: Fk7sL2mQ9zXc4VbN' https://api.fastly.com/service",
        "curl -H 'Fastly-Key: ****' https://api.fastly.com/service",
    );
    keep("[repositories.repo.packagist] false");
    keep("general failure in the central node");
}

#[test]
fn urls_with_an_email_user_or_a_slash_in_the_password() {
    check(
        "https://me@example.com:Pw8Zq2x@repo.example.com/packages.json",
        "https://****:****@repo.example.com/packages.json",
    );
    check(
        "https://user:ab/cd9Xyz@repo.example.com/packages.json",
        "https://****:****@repo.example.com/packages.json",
    );
    check(
        "https://user:pass@host.example/path@v2",
        "https://****:****@host.example/path@v2",
    );
    keep("https://registry.example.com:8443/@scope/pkg");
    keep("https://cdn.example.com:443/npm/@babel/core@7.0.0/index.js");
}

#[test]
fn config_show_and_variable_tables() {
    check(
        "payment/braintree/private_key - Bt5Lm9Qw2Z",
        "payment/braintree/private_key - ****",
    );
    keep("web/secure/base_url - https://shop.example.com/");
    check(
        "| DATABASE_PASSWORD | Vb7Nm3Kq1 | env |",
        "| DATABASE_PASSWORD | **** | env |",
    );
    check(
        "| env:ADMIN_PASSWORD | project | Xc4Vb8Nm2 | true |",
        "| env:ADMIN_PASSWORD | project | **** | true |",
    );
    keep("| SCD_THREADS | 4 | project |");
    keep("+----------------------+--------------+");
}

#[test]
fn secrets_that_span_lines_in_one_text() {
    check(
        "database:\n  password:\n    Qm7xv9Lp2\n  host: db",
        "database:\n  password:\n    ****\n  host: db",
    );
    check("password: |\n  Qm7xv9Lp2\n", "password: ****\n  ****\n");
    check(
        "{\n  \"bearer\": {\n    \"repo.example.com\": \"Tk9bearerValue\"\n  }\n}",
        "{\n  \"bearer\": {\n    \"repo.example.com\": \"****\"\n  }\n}",
    );
    check(
        "    \"repo.example.com\": \"Tk9bearerValue\"",
        "    \"repo.example.com\": \"****\"",
    );
    keep("    \"magento/framework\": \"103.0.6\",");
    keep("    \"php\": \"~8.2.0\",");
}

#[test]
fn mask_cut_masks_before_it_cuts() {
    let line = format!("{} {PUB} tail", "x".repeat(2030));
    let cut = mask_cut(&line, 2048);
    assert!(cut.len() <= 2048);
    assert!(!cut.contains("0123456789ab"), "{cut}");
    // A long line: the part kept never reaches the masking window's unmasked edge.
    let long = format!("head {}{PUB}", "y ".repeat(9000));
    let cut = mask_cut(&long, 300);
    assert_eq!(cut.len(), 300);
    let secret = format!(
        "ERROR: failed, MAGENTO_CLOUD_VARIABLES={}",
        "eyJh".repeat(9000)
    );
    assert_eq!(
        mask_cut(&secret, 300),
        "ERROR: failed, MAGENTO_CLOUD_VARIABLES=****"
    );
    // A token cut by the window's edge, brought within the kept part by a long value
    // masked before it, is not kept.
    let head = format!("MAGENTO_CLOUD_VARIABLES={} x ", "eyJh".repeat(4160));
    let edge = format!("{head}ghp_{}", "A1b2".repeat(10));
    let window = 300 + CUT_WINDOW;
    assert!(head.len() + 8 < window && window < edge.len());
    assert!(
        !mask_cut(&edge, 300).contains("A1b"),
        "{}",
        mask_cut(&edge, 300)
    );
}
