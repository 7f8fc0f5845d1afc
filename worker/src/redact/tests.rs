//! Tests of output redaction: every kind of planted secret, counts, and what must survive.

use super::*;

fn plain() -> Redactor {
    Redactor::new(Vec::<String>::new()).unwrap()
}

fn one(text: &str) -> (String, Redactions) {
    redact(text, &plain())
}

// Built at run time so no literal token sits in the source for scanners to flag.
fn fake(prefix: &str, body_char: char, len: usize) -> String {
    format!("{prefix}{}", body_char.to_string().repeat(len))
}

#[test]
fn private_key_block_is_redacted_whole() {
    let text = "before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\nAAAA\n-----END OPENSSH PRIVATE KEY-----\nafter";

    let (out, counts) = one(text);

    assert_eq!(out, "before\n[REDACTED:private_key]\nafter");
    assert_eq!(counts.count(SecretKind::PrivateKey), 1);
}

#[test]
fn private_key_cut_off_by_the_output_cap_is_redacted_to_the_end() {
    let (out, counts) = one("x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow");

    assert_eq!(out, "x\n[REDACTED:private_key]");
    assert_eq!(counts.total(), 1);
}

#[test]
fn pgp_private_key_block_is_redacted() {
    let (out, _) =
        one("-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx\n-----END PGP PRIVATE KEY BLOCK-----");

    assert_eq!(out, "[REDACTED:private_key]");
}

#[test]
fn public_key_block_is_left_alone() {
    let text = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----";

    assert_eq!(one(text), (text.to_owned(), Redactions::default()));
}

#[test]
fn github_tokens_of_every_prefix_are_redacted() {
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let token = fake(prefix, 'a', 36);
        let (out, counts) = one(&format!("clone with {token} ok"));
        assert_eq!(out, "clone with [REDACTED:github_token] ok", "{prefix}");
        assert_eq!(counts.count(SecretKind::GithubToken), 1);
    }
    let pat = fake("github_pat_", 'B', 40);
    assert_eq!(one(&pat).0, "[REDACTED:github_token]");
}

#[test]
fn slack_aws_openai_anthropic_and_discord_tokens_are_redacted() {
    let cases = [
        (fake("xoxb-", '1', 20), SecretKind::SlackToken),
        (fake("AKIA", 'Q', 16), SecretKind::AwsAccessKeyId),
        (fake("sk-", 'x', 40), SecretKind::OpenaiKey),
        (fake("sk-proj-", 'x', 40), SecretKind::OpenaiKey),
        (fake("sk-ant-api03-", 'x', 40), SecretKind::AnthropicKey),
        (
            format!("{}.{}.{}", fake("MT", 'A', 24), "GhIjKl", fake("", 'z', 38)),
            SecretKind::DiscordToken,
        ),
    ];
    for (secret, kind) in cases {
        let (out, counts) = one(&format!("value: [{secret}]"));
        assert_eq!(
            out,
            format!("value: [[REDACTED:{}]]", kind.as_str()),
            "{secret}"
        );
        assert_eq!(counts.count(kind), 1, "{secret}");
    }
}

#[test]
fn aws_secret_key_next_to_its_name_is_redacted() {
    let secret = fake("", 'w', 40);

    let (out, counts) = one(&format!("aws_secret_access_key = {secret}\n"));

    assert_eq!(out, "aws_secret_access_key = [REDACTED:aws_secret_key]\n");
    assert_eq!(counts.count(SecretKind::AwsSecretKey), 1);
}

#[test]
fn credential_pairs_are_redacted_keeping_key_and_quotes() {
    let (out, counts) = one(
        "password=hunter2 PASSWD: letmein\nDB_SECRET='s3 cr3t' \"api_key\": \"abc\" GITHUB_TOKEN=xyz",
    );

    assert_eq!(
        out,
        "password=[REDACTED:credential] PASSWD: [REDACTED:credential]\n\
         DB_SECRET='[REDACTED:credential]' \"api_key\": \"[REDACTED:credential]\" \
         GITHUB_TOKEN=[REDACTED:credential]"
    );
    assert_eq!(counts.count(SecretKind::Credential), 5);
}

#[test]
fn token_counts_in_prose_are_not_credentials() {
    let text = "input_tokens: 1200, max_tokens=4096, tokenizer: bpe";

    assert_eq!(one(text).0, text);
}

#[test]
fn specific_kind_wins_over_the_generic_pair_and_is_counted_once() {
    let token = fake("ghp_", 'a', 36);

    let (out, counts) = one(&format!("token={token}"));

    assert_eq!(out, "token=[REDACTED:github_token]");
    assert_eq!(counts.total(), 1);
}

#[test]
fn url_password_is_redacted() {
    let (out, counts) = one("remote: https://me:s3cret@example.com/repo.git");

    assert_eq!(
        out,
        "remote: https://me:[REDACTED:url_credential]@example.com/repo.git"
    );
    assert_eq!(counts.count(SecretKind::UrlCredential), 1);
}

#[test]
fn configured_env_values_are_redacted_literally() {
    let redactor = Redactor::new(["p@ss.w0rd*literal", "short"]).unwrap();

    let (out, counts) = redact("a p@ss.w0rd*literal b short", &redactor);

    assert_eq!(out, "a [REDACTED:env_value] b short");
    assert_eq!(counts.count(SecretKind::EnvValue), 1);
}

#[test]
fn from_env_looks_up_named_variables_and_adds_extras() {
    let lookup = |name: &str| (name == "MY_SECRET").then(|| "value-of-my-secret".to_owned());

    let redactor = Redactor::from_env(
        &["MY_SECRET".into(), "UNSET".into()],
        lookup,
        &["the-worker-token".into()],
    )
    .unwrap();
    let (out, counts) = redact("value-of-my-secret the-worker-token", &redactor);

    assert_eq!(out, "[REDACTED:env_value] [REDACTED:env_value]");
    assert_eq!(counts.total(), 2);
}

#[test]
fn non_ascii_text_around_secrets_survives() {
    let (out, _) = one("mot de passe — password=héllo✓ fin");

    assert_eq!(out, "mot de passe — password=[REDACTED:credential] fin");
}

#[test]
fn invalid_utf8_bytes_are_redacted_too() {
    let bytes = b"\xff\xfe token=abc \xff";

    let (out, counts) = redact_bytes(bytes, &plain());

    assert_eq!(out, b"\xff\xfe token=[REDACTED:credential] \xff");
    assert_eq!(counts.total(), 1);
}

#[test]
fn one_mebibyte_with_planted_secrets_is_redacted_everywhere() {
    let token = fake("ghp_", 'k', 36);
    let line = "an ordinary line of build output, nothing to see here 0123456789\n";
    let mut text = String::with_capacity(1 << 20);
    let mut planted = 0;
    while text.len() < (1 << 20) {
        text.push_str(line);
        if text.len() % 65_536 < line.len() {
            text.push_str(&format!("leaked {token}\n"));
            planted += 1;
        }
    }

    let (out, counts) = one(&text);

    assert!(!out.contains(&token));
    assert_eq!(counts.count(SecretKind::GithubToken), planted);
    assert!(planted >= 10);
}

#[test]
fn counts_merge_and_serialize_by_kind_name() {
    let (_, mut a) = one("password=x");
    let (_, b) = one(&fake("AKIA", 'Z', 16));

    a.merge(&b);

    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::json!({"aws_access_key_id": 1, "credential": 1})
    );
}

// ---- terminal controls ----

#[test]
fn a_key_split_by_a_colour_code_is_still_redacted() {
    let key = fake("AKIA", 'Q', 16);
    let (head, tail) = key.split_at(4);

    let (out, counts) = one(&format!("id: {head}\x1b[0m{tail}\x1b[1;31m!\x1b[m\n"));

    assert_eq!(out, "id: [REDACTED:aws_access_key_id]!\n");
    assert_eq!(counts.count(SecretKind::AwsAccessKeyId), 1);
}

#[test]
fn a_token_split_by_cursor_moves_titles_and_hyperlinks_is_still_redacted() {
    let token = fake("ghp_", 'a', 36);
    let (head, tail) = token.split_at(10);
    let text = format!(
        "{head}\x1b]0;window title\x07\x1b]8;;https://x.example\x1b\\\u{9b}2K\x1b7\x1b(B{tail}"
    );

    let (out, counts) = one(&text);

    assert_eq!(out, "[REDACTED:github_token]");
    assert_eq!(counts.count(SecretKind::GithubToken), 1);
}

#[test]
fn controls_are_removed_but_newlines_tabs_and_crlf_stay() {
    let text = "a\0b\x08c\rd\r\ne\tf\u{85}g\x7fh\u{9d}osc\u{9c}i ©";

    assert_eq!(strip_terminal_controls(text), "abcd\r\ne\tfghi ©");
}

#[test]
fn a_lone_escape_and_an_unterminated_string_leave_nothing_behind() {
    let token = fake("ghp_", 'a', 36);

    assert_eq!(strip_terminal_controls("x\x1b"), "x");
    assert_eq!(strip_terminal_controls(&format!("x\x1b]0;{token}")), "x");
    assert_eq!(strip_terminal_controls("x\x1b[12;"), "x");
}

#[test]
fn text_without_controls_is_borrowed_unchanged() {
    let text = "plain output — café\n\tindented";

    assert!(matches!(strip_terminal_controls(text), Cow::Borrowed(t) if t == text));
}

#[test]
fn raw_bytes_keep_their_controls() {
    let bytes = b"\x1b[0mbinary\x00";

    assert_eq!(redact_bytes(bytes, &plain()).0, bytes);
}
