//! Where the `openclaw-worker` binary under test is (and the `openclaw-bot` binary, for the
//! tests of its `mcp-stdio` subcommand): beside the test binary, where cargo
//! puts every binary it builds, and no older than the worker's sources.
//!
//! `env!("CARGO_BIN_EXE_openclaw-worker")` exists only in the worker's own tests, and a
//! dependency on `openclaw-worker` builds its library, never its binary. So the binary is
//! found where cargo puts it: a test binary runs from `target/<profile>/deps/`, and the
//! workspace's binaries are linked one level up, in `target/<profile>/` (the directory
//! `CARGO_BIN_EXE_*` points into). `cargo test --workspace` builds them before it runs any
//! test (the worker has integration tests of its own, which need its binary);
//! `cargo test -p openclaw-e2e` does not, so there the binary may be missing or older than
//! the code under test. Both fail the test with what to run, rather than test an old worker.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The worker binary's file name, as cargo names it for the target platform.
const WORKER_BIN_NAME: &str = "openclaw-worker";

/// What rebuilds the binary, for the failure messages.
const HOW_TO_BUILD: &str = "build it with `cargo build -p openclaw-worker` (with `--release` \
    if the tests run with it), or run `cargo test --workspace`, which builds it first";

/// The `openclaw-worker` binary to run, found once per test process.
///
/// # Panics
/// If no binary is beside the test binary, or one of the worker's (or `shared`'s) source
/// files is newer than it: the message says how to build it.
pub fn worker_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BIN.get_or_init(|| {
        locate(
            WORKER_BIN_NAME,
            &["openclaw_worker", "openclaw_shared"],
            HOW_TO_BUILD,
        )
    });
    match found {
        Ok(path) => path,
        Err(problem) => panic!("{problem}"),
    }
}

/// The `openclaw-bot` binary to run (for `openclaw-bot mcp-stdio`), found as
/// [`worker_bin`] finds the worker's.
///
/// # Panics
/// As [`worker_bin`]: missing, or older than the bot's (or `shared`'s) sources.
pub fn bot_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = BIN.get_or_init(|| {
        locate(
            "openclaw-bot",
            &["openclaw_bot", "openclaw_shared"],
            "build it with `cargo build -p openclaw-bot` (with `--release` if the tests run \
             with it)",
        )
    });
    match found {
        Ok(path) => path,
        Err(problem) => panic!("{problem}"),
    }
}

/// Finds the binary `bin_name` beside the test binary and checks it against the sources of
/// `crates`.
fn locate(bin_name: &str, crates: &[&str], how_to_build: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|err| format!("locating the test binary: {err}"))?;
    let name = format!("{bin_name}{}", std::env::consts::EXE_SUFFIX);
    // `deps/`'s parent for test binaries; the directory itself in case a runner copied the
    // test binary up beside the others.
    let candidates: Vec<PathBuf> = me
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(&name))
        .collect();
    let Some(bin) = candidates.iter().find(|path| path.is_file()) else {
        return Err(format!(
            "the binary {bin_name} is not beside the test binary (looked for \
             {candidates:?}): {how_to_build}"
        ));
    };
    check_current(bin, crates, how_to_build)?;
    Ok(bin.clone())
}

/// Fails if a source file of the worker (or of `shared`, which it links) changed after
/// the binary was linked: cargo would rebuild it, so it is not the code under test.
///
/// The files are the ones rustc read for the libraries' last build, from its dep-info
/// beside them (`deps/<crate>-<hash>.d`): what cargo itself watches. A file only unit tests
/// read, a stray one, or a manifest comment is not among them, so it cannot make a current
/// binary look stale. Without dep-info there is nothing to compare, and the binary is used.
fn check_current(bin: &Path, crates: &[&str], how_to_build: &str) -> Result<(), String> {
    let built = modified(bin)
        .ok_or_else(|| format!("reading the modification time of {}", bin.display()))?;
    let Some(deps) = bin.parent().map(|dir| dir.join("deps")) else {
        return Ok(());
    };
    // rustc runs in the workspace root, so dep-info names the workspace's files relative
    // to it; this crate is one of its members.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let newest = crates
        .iter()
        .copied()
        .filter_map(|krate| newest_input(&deps, krate, workspace))
        .max();
    match newest {
        Some((changed, file)) if changed > built => Err(format!(
            "{} is older than {}: {how_to_build}",
            bin.display(),
            file.display()
        )),
        _ => Ok(()),
    }
}

/// The most recently changed workspace file that the last build of `krate`'s library
/// read, with its modification time.
fn newest_input(deps: &Path, krate: &str, workspace: &Path) -> Option<(SystemTime, PathBuf)> {
    let rlib = format!("lib{krate}-");
    let prefix = format!("{krate}-");
    // Every build of the library (per profile and feature set) leaves one; test and
    // check builds, which also read the unit tests' files, produce no `.rlib`.
    let info = std::fs::read_dir(deps)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "d")
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(&prefix))
        })
        .filter_map(|path| Some((modified(&path)?, std::fs::read_to_string(&path).ok()?)))
        .filter(|(_, text)| {
            text.lines()
                .any(|line| line.contains(&rlib) && line.contains(".rlib:"))
        })
        .max_by_key(|(written, _)| *written)?
        .1;
    // After the rules, each input has a line of its own: `path:`, spaces escaped.
    info.lines()
        .filter(|line| !line.starts_with('#') && line.ends_with(':') && !line.contains(": "))
        .map(|line| workspace.join(line.trim_end_matches(':').replace("\\ ", " ")))
        .filter(|path| path.starts_with(workspace))
        .filter_map(|path| Some((modified(&path)?, path)))
        .max()
}

/// The modification time of `path`, if it can be read.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}
