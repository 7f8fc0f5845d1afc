//! `git` without approval: only in a repository the owner made (a `.git` directory below a
//! read root, nowhere near a write root), on paths inside its work tree, and hardened so
//! that nothing the repository's own files say can make it run a program.
//!
//! Why: a repository's config names programs git runs by itself (`core.fsmonitor` on
//! `git status`, pagers, diff drivers, hooks), and a `.git` *file* can point git at a
//! repository anywhere — one written into a write root, say. And `git diff A B` with a path
//! outside the work tree silently becomes `git diff --no-index`: a reader of any two trees.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::paths;
use super::roots::Roots;

/// Configuration given on the command line, which overrides every configuration file, so
/// a repository's config cannot name a program through these keys. Keys that cannot be
/// overridden this way (`include.path`, per-driver `filter.*`/`diff.*` commands) are dealt
/// with otherwise: includes refuse the repository, diff drivers are off by option, and the
/// config itself must lie outside the write roots.
const CONFIG: &[&str] = &[
    // Run by `git status` and `git diff` to list changed files.
    "core.fsmonitor=",
    "core.hooksPath=/dev/null",
    // A bare repository (a directory with HEAD, objects/, refs/) is never picked up.
    "safe.bareRepository=explicit",
    "core.pager=cat",
    "diff.external=",
    "core.attributesFile=/dev/null",
    "core.editor=false",
    "sequence.editor=false",
    "core.askPass=",
    "credential.helper=",
    "core.sshCommand=false",
    // No transport at all: lazy fetches of a partial clone, `ext::` URLs, remote helpers.
    "protocol.allow=never",
    "core.alternateRefsCommand=",
    "uploadpack.packObjectsHook=",
    // Signature checks (`log.showSignature`, `--format=%G?`) run these.
    "gpg.program=false",
    "gpg.ssh.program=false",
    "gpg.x509.program=false",
    "log.showSignature=false",
    // Submodule summaries run git again inside each submodule.
    "status.submoduleSummary=false",
    "submodule.recurse=false",
];

/// The hardened git's environment, on top of the allowlisted one. No system or global
/// configuration file is read, no lock taken, no prompt shown, no pager run.
const ENV: &[(&str, &str)] = &[
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_SYSTEM", "/dev/null"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    // Configuration passed by environment (`GIT_CONFIG_KEY_0`…), should any be inherited.
    ("GIT_CONFIG_COUNT", "0"),
    ("GIT_OPTIONAL_LOCKS", "0"),
    ("GIT_TERMINAL_PROMPT", "0"),
    // Empty: git then also ignores `SSH_ASKPASS`.
    ("GIT_ASKPASS", ""),
    ("GIT_PAGER", "cat"),
    ("PAGER", "cat"),
    ("GIT_EDITOR", "false"),
    ("GIT_SEQUENCE_EDITOR", "false"),
    ("GIT_ATTR_NOSYSTEM", "1"),
    ("GIT_NO_LAZY_FETCH", "1"),
    ("GIT_PROTOCOL_FROM_USER", "0"),
];

/// Subcommands that show diffs: external diff drivers and text conversion (both run
/// configured programs) are turned off right after them.
const DIFF_LIKE: &[&str] = &[
    "diff",
    "log",
    "show",
    "whatchanged",
    "diff-files",
    "diff-index",
    "diff-tree",
];

/// After a diff-like subcommand: no external diff, no text conversion, no colour.
const DIFF_OPTIONS: &[&str] = &["--no-ext-diff", "--no-textconv", "--no-color"];

/// Git's own subcommands that work on the local repository. Anything else is an alias
/// (`!sh -c …` in the repository's config) or a `git-<name>` program, or runs programs by
/// design (`help`, `difftool`, `bisect run`, `rebase --exec`, `submodule`).
const SUBCOMMANDS: &[&str] = &[
    "add",
    "blame",
    "branch",
    "cat-file",
    "check-attr",
    "check-ignore",
    "checkout",
    "cherry",
    "commit",
    "count-objects",
    "describe",
    "diff",
    "diff-files",
    "diff-index",
    "diff-tree",
    "for-each-ref",
    "grep",
    "log",
    "ls-files",
    "ls-tree",
    "merge-base",
    "mv",
    "name-rev",
    "reflog",
    "reset",
    "restore",
    "rev-list",
    "rev-parse",
    "rm",
    "shortlog",
    "show",
    "show-branch",
    "show-ref",
    "stash",
    "status",
    "switch",
    "tag",
    "version",
    "whatchanged",
];

/// Long options that would undo the hardening, run a program, write a file or read
/// outside the repository. Git accepts any unambiguous prefix of a long option, so a
/// prefix of one of these is refused too.
const REFUSED_OPTIONS: &[&str] = &[
    "--textconv",
    "--ext-diff",
    "--open-files-in-pager",
    "--output",
    "--no-index",
    "--upload-pack",
    "--receive-pack",
    "--exec",
];

/// Whether `arg` is (an abbreviation of) a refused option, or a short option cluster with
/// `-O` in it (`git grep -O<pager>` opens the matches in a program).
fn is_refused(arg: &str) -> bool {
    if let Some(long) = arg.strip_prefix("--") {
        let name = long.split_once('=').map_or(long, |(name, _)| name);
        !name.is_empty()
            && REFUSED_OPTIONS
                .iter()
                .any(|refused| refused[2..].starts_with(name))
    } else {
        arg.starts_with('-') && arg.contains('O')
    }
}

/// Largest repository config read to look for includes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A repository as git would find it from a working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// The `.git` directory.
    pub git_dir: PathBuf,
    /// The directory holding it: the work tree.
    pub work_tree: PathBuf,
}

/// What an allowed `git` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardened {
    /// The argument vector with the hardening options inserted (`argv[0]` first).
    pub argv: Vec<String>,
    /// Variables to set in the child's environment.
    pub env: Vec<(String, String)>,
    /// The work tree git reads, whatever directory below it it runs in.
    pub work_tree: PathBuf,
}

/// Finds the repository git would use from the resolved directory `cwd`, walking up as git
/// does: at each level a `.git` entry first, then the directory itself as a bare
/// repository. Only a `.git` *directory* is accepted; `Err` says why not.
pub fn discover(cwd: &Path) -> Result<Repository, String> {
    for dir in cwd.ancestors() {
        let dot_git = dir.join(".git");
        match std::fs::symlink_metadata(&dot_git) {
            Ok(meta) if meta.is_dir() => {
                return Ok(Repository {
                    git_dir: dot_git,
                    work_tree: dir.to_path_buf(),
                })
            }
            Ok(_) => {
                return Err(format!(
                    "{} is not a directory (a `.git` file or link can point git at any \
                     repository)",
                    dot_git.display()
                ))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("cannot inspect {}: {err}", dot_git.display())),
        }
        if looks_bare(dir) {
            return Err(format!("{} is a bare repository", dir.display()));
        }
    }
    Err(
        "the working directory is not inside a git repository (where `git diff` reads any \
         two paths)"
            .to_owned(),
    )
}

/// Whether `dir` looks like a git directory itself: `HEAD` beside `objects` or `refs`.
fn looks_bare(dir: &Path) -> bool {
    let exists = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok();
    exists("HEAD") && (exists("objects") || exists("refs"))
}

/// Checks that `git` may run from `cwd` without approval, and hardens it. `argv` is the
/// command as typed (`argv[0]` the program word); `cwd` is resolved. `Err` is the reason
/// the allow does not hold.
pub fn harden(argv: &[String], cwd: &Path, home: &Path, roots: &Roots) -> Result<Hardened, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let (subcommand, rest) = args.split_first().ok_or("`git` without a subcommand")?;
    if subcommand.starts_with('-') {
        return Err(format!(
            "`git {subcommand}`: options before the subcommand are not allowed without approval"
        ));
    }
    if !SUBCOMMANDS.contains(&subcommand.as_str()) {
        return Err(format!(
            "`git {subcommand}` is not one of git's own subcommands (an alias or a \
             `git-{subcommand}` program could run anything)"
        ));
    }
    if let Some(option) = rest.iter().find(|a| is_refused(a)) {
        return Err(format!("`git {subcommand} {option}` can run a program"));
    }
    let repo = check_place(cwd, roots)?;
    check_config(&repo)?;
    check_paths(rest, cwd, home, &repo)?;

    let mut hardened = vec![
        program.clone(),
        "--no-pager".to_owned(),
        "--no-optional-locks".to_owned(),
        format!("--git-dir={}", exact(&repo.git_dir)?),
        format!("--work-tree={}", exact(&repo.work_tree)?),
    ];
    for setting in CONFIG {
        hardened.push("-c".to_owned());
        hardened.push((*setting).to_owned());
    }
    hardened.push(subcommand.clone());
    if DIFF_LIKE.contains(&subcommand.as_str()) {
        hardened.extend(DIFF_OPTIONS.iter().map(|o| (*o).to_owned()));
    }
    hardened.extend(rest.iter().cloned());
    Ok(Hardened {
        argv: hardened,
        env: ENV
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        work_tree: repo.work_tree,
    })
}

/// `path` as text, exactly: a lossy spelling of a name that is not UTF-8 could name
/// another directory.
fn exact(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// The working directory and its repository must be the owner's: inside a read root,
/// outside every write root (under any name), the work tree holding no write root.
fn check_place(cwd: &Path, roots: &Roots) -> Result<Repository, String> {
    if roots.read_root_for(cwd).is_none() {
        return Err(format!(
            "`git` runs in {}, outside the read roots",
            cwd.display()
        ));
    }
    if let Some(root) = roots.touched_write_root(cwd) {
        return Err(format!(
            "`git` runs in {} ({}): files written there could make git run a program",
            cwd.display(),
            root.key
        ));
    }
    let repo = discover(cwd)?;
    if roots.read_root_for(&repo.git_dir).is_none() {
        return Err(format!(
            "the repository {} is outside the read roots",
            repo.git_dir.display()
        ));
    }
    if let Some(root) = roots.touched_write_root(&repo.git_dir) {
        return Err(format!(
            "the repository {} is in a write root ({})",
            repo.git_dir.display(),
            root.key
        ));
    }
    if let Some(root) = roots.write_root_below(&repo.work_tree) {
        return Err(format!(
            "the work tree {} holds a write root ({}), whose files git would read",
            repo.work_tree.display(),
            root.key
        ));
    }
    Ok(repo)
}

/// The repository's config must be a plain file that includes no other file (an include
/// can pull in configuration from anywhere, and `-c` cannot undo an include), and the
/// repository must not borrow another's (`commondir`).
fn check_config(repo: &Repository) -> Result<(), String> {
    if std::fs::symlink_metadata(repo.git_dir.join("commondir")).is_ok() {
        return Err(format!(
            "the repository {} takes its config from another (`commondir`)",
            repo.git_dir.display()
        ));
    }
    let config = repo.git_dir.join("config");
    let meta = match std::fs::symlink_metadata(&config) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(format!("cannot inspect {}: {err}", config.display())),
    };
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", config.display()));
    }
    let mut text = Vec::new();
    std::fs::File::open(&config)
        .and_then(|file| file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut text))
        .map_err(|err| format!("cannot read {}: {err}", config.display()))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "{} is over {MAX_CONFIG_BYTES} bytes",
            config.display()
        ));
    }
    // Section and key names are ASCII and case-insensitive; any mention is enough to refuse.
    if text
        .to_ascii_lowercase()
        .windows(7)
        .any(|w| w == b"include")
    {
        return Err(format!(
            "{} includes other config files, which could name a program",
            config.display()
        ));
    }
    Ok(())
}

/// Every path argument (every word that is not an option, and every word after `--`)
/// must lie inside the work tree, as written and resolved: with a path outside it, `git
/// diff A B` turns into `git diff --no-index`.
fn check_paths(args: &[String], cwd: &Path, home: &Path, repo: &Repository) -> Result<(), String> {
    let mut after_separator = false;
    for arg in args {
        if !after_separator && arg == "--" {
            after_separator = true;
            continue;
        }
        if !after_separator && arg.starts_with('-') {
            continue;
        }
        // Git itself does not expand `~`: the word is relative to the cwd unless absolute.
        let named = paths::fold(&cwd.join(arg));
        let real = paths::resolve(&named.to_string_lossy(), home, cwd)
            .map_err(|err| format!("cannot resolve `{arg}`: {err}"))?
            .real;
        if !paths::is_within(&named, &repo.work_tree) || !paths::is_within(&real, &repo.work_tree) {
            return Err(format!(
                "`{arg}` is outside the work tree {} (git would compare any two paths)",
                repo.work_tree.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
