//! The file system rules: hidden, read-only, read and write roots, carving, links.

use super::*;

#[tokio::test]
async fn hidden_file_cannot_be_read() {
    let home = Home::new();

    for spec in [home.allowed(false), home.approved(false)] {
        let output = run(&spec, "/bin/cat", &[&home.text("secret/key.txt")]).await;

        assert_refused(&output, "Permission denied");
        assert!(!stdout(&output).contains("top secret"));
    }
}

#[tokio::test]
async fn hidden_dir_reached_through_a_symlink_is_refused() {
    let home = Home::new();

    let in_read_root = run(
        &home.allowed(false),
        "/bin/cat",
        &[&home.text("read/link/key.txt")],
    )
    .await;
    let in_carved_home = run(
        &home.approved(false),
        "/bin/cat",
        &[&home.text("link/key.txt")],
    )
    .await;

    assert_refused(&in_read_root, "Permission denied");
    assert_refused(&in_carved_home, "Permission denied");
}

#[tokio::test]
async fn read_root_can_be_listed_and_read() {
    let home = Home::new();

    let listed = run(&home.allowed(false), "/bin/ls", &[&home.text("read")]).await;
    let read = run(
        &home.allowed(false),
        "/bin/cat",
        &[&home.text("read/readme.txt")],
    )
    .await;

    assert_ok(&listed);
    assert!(stdout(&listed).contains("readme.txt"));
    assert_ok(&read);
    assert_eq!(stdout(&read), "readable");
}

#[tokio::test]
async fn read_root_cannot_be_written() {
    let home = Home::new();
    let script = format!("echo x > {}", home.text("read/new.txt"));

    let output = sh(&home.allowed(false), &script).await;

    assert_refused(&output, "Permission denied");
    assert!(!home.path("read/new.txt").exists());
}

#[tokio::test]
async fn write_root_can_be_written() {
    let home = Home::new();
    let script = format!(
        "mkdir {0}/dir && echo x > {0}/dir/new.txt",
        home.text("write")
    );

    let output = sh(&home.allowed(false), &script).await;

    assert_ok(&output);
    assert_eq!(
        fs::read_to_string(home.path("write/dir/new.txt")).unwrap(),
        "x\n"
    );
}

#[tokio::test]
async fn program_in_a_write_root_cannot_be_run() {
    let home = Home::new();
    fs::copy("/bin/true", home.path("write/true")).unwrap();

    let output = sh(&home.allowed(false), &home.text("write/true")).await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn read_only_file_in_a_writable_tree_cannot_be_written() {
    let home = Home::new();
    let spec = home.approved(false);

    let appended = sh(&spec, &format!("echo evil >> {}", home.text(".zshrc"))).await;
    // truncate(2) by path, and the open(O_RDONLY | O_TRUNC) quirk: no write access asked.
    let truncated = python(
        &spec,
        "import os, sys; os.truncate(sys.argv[1], 0)",
        &[&home.text(".zshrc")],
    )
    .await;
    let opened_truncating = python(
        &spec,
        "import os, sys; os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC)",
        &[&home.text(".zshrc")],
    )
    .await;
    let replaced = sh(&spec, &format!("rm -f {}", home.text(".zshrc"))).await;
    let read = run(&spec, "/bin/cat", &[&home.text(".zshrc")]).await;

    assert_refused(&appended, "Permission denied");
    assert_refused(&truncated, "Permission denied");
    assert_refused(&opened_truncating, "Permission denied");
    assert_refused(&replaced, "Permission denied");
    assert_ok(&read);
    assert_eq!(
        fs::read_to_string(home.path(".zshrc")).unwrap(),
        "export A=1\n"
    );
}

#[tokio::test]
async fn missing_read_only_path_cannot_be_created() {
    let home = Home::new();
    let mut spec = home.allowed(false);
    spec.read_only
        .push(home.path("write/.config/fish/config.fish"));
    let script = format!(
        "mkdir -p {0}/.config/fish && echo evil > {0}/.config/fish/config.fish",
        home.text("write")
    );

    let output = sh(&spec, &script).await;

    assert_refused(&output, "Permission denied");
    assert!(!home.path("write/.config").exists());
}

#[tokio::test]
async fn tree_inside_a_hidden_path_grants_nothing() {
    let home = Home::new();
    let mut spec = home.allowed(false);
    spec.trees.push(tree(home.path("secret"), Access::Read));

    let output = run(&spec, "/bin/cat", &[&home.text("secret/key.txt")]).await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn carved_home_keeps_its_other_entries_writable() {
    let home = Home::new();
    let spec = home.approved(false);

    let sibling = sh(&spec, &format!("echo more >> {}", home.text("notes.txt"))).await;
    let below = sh(&spec, &format!("echo x > {}", home.text("write/new.txt"))).await;
    let listed = run(&spec, "/bin/ls", &["-a", &home.text("")]).await;
    // The documented price of carving: nothing new directly in the carved directory.
    let directly_in_home = sh(&spec, &format!("echo x > {}", home.text("new.txt"))).await;

    assert_ok(&sibling);
    assert_eq!(
        fs::read_to_string(home.path("notes.txt")).unwrap(),
        "notesmore\n"
    );
    assert_ok(&below);
    assert_ok(&listed);
    assert!(stdout(&listed).contains(".zshrc"));
    assert_refused(&directly_in_home, "Permission denied");
}

#[tokio::test]
async fn hidden_file_under_another_name_is_refused() {
    let home = Home::new();
    fs::hard_link(home.path("secret/key.txt"), home.path("innocent.txt")).unwrap();
    let mut spec = home.approved(false);
    spec.hidden.push(home.path("secret/key.txt"));

    let output = run(&spec, "/bin/cat", &[&home.text("innocent.txt")]).await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn symlink_in_a_carved_tree_does_not_grant_its_target() {
    let home = Home::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("private.txt"), "private").unwrap();
    std::os::unix::fs::symlink(outside.path(), home.path("outside")).unwrap();

    let output = run(
        &home.approved(false),
        "/bin/cat",
        &[&home.text("outside/private.txt")],
    )
    .await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn hard_link_of_a_hidden_file_in_a_readable_dir_is_refused() {
    let home = Home::new();
    fs::write(home.path("write/read-only.txt"), "r").unwrap();
    fs::hard_link(home.path("secret/key.txt"), home.path("write/alias.txt")).unwrap();
    let mut spec = home.approved(false);
    spec.hidden.push(home.path("secret/key.txt"));
    spec.read_only.push(home.path("write/read-only.txt"));

    let output = run(&spec, "/bin/cat", &[&home.text("write/alias.txt")]).await;

    assert_refused(&output, "Permission denied");
}
