//! The built-in policy: a default allow set that is useful and harmless from a phone, and
//! deny lists that always apply, whatever the policy file says.
//!
//! Allow rules name every accepted option. Anything that writes a file or runs a program
//! is left out on purpose: `git diff --output=FILE` writes, `--ext-diff`/`--textconv` run
//! configured programs, `--no-index` reads any file, `git -c …` (global options are not
//! allowed at all: `args` pins the subcommand first) can set `core.pager` to a shell, and a
//! positional argument to `git branch` creates a branch. `date` takes no positional
//! argument, because one sets the clock. What the option lists cannot see — a repository's
//! own config, a path that turns `git diff` into `--no-index` — is the business of
//! [`super::git`], which every allowed `git` passes through.

use super::rules::CommandRule;

/// Program search path, system directories first, so a user-writable Homebrew directory
/// cannot shadow `/bin/ls`.
pub const SEARCH_PATH: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/usr/sbin",
    "/sbin",
    "/opt/homebrew/bin",
    "/usr/local/bin",
];

/// Default read roots (reads elsewhere need approval).
pub const READ_ROOTS: &[&str] = &["~/Desktop", "~/Documents", "~/Downloads", "~/Projects"];

/// Default write roots: one inbox directory, so a phone can drop files without asking.
pub const WRITE_ROOTS: &[&str] = &["~/Downloads/openclaw"];

/// Never read or written: secrets, credential stores, browser profiles, private mail.
pub const DENY_PATHS: &[&str] = &[
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/Library/Keychains",
    "~/Library/Cookies",
    "~/Library/Messages",
    "~/Library/Mail",
    "~/Library/Safari",
    "~/Library/Containers/com.apple.Safari",
    "~/Library/Application Support/Google/Chrome",
    "~/Library/Application Support/Chromium",
    "~/Library/Application Support/BraveSoftware",
    "~/Library/Application Support/Microsoft Edge",
    "~/Library/Application Support/Arc",
    "~/Library/Application Support/Firefox",
    "~/.mozilla",
    "~/.config/google-chrome",
    "~/.config/chromium",
    "~/.netrc",
    "~/.git-credentials",
    "~/.docker/config.json",
    "~/.kube",
    "~/.config/gh",
    "~/.config/gcloud",
    "~/.azure",
    "~/.npmrc",
    "~/.pypirc",
    "~/.password-store",
    "~/.config/op",
    "~/.claude/.credentials.json",
    "**/.env",
    "**/.env.*",
    "**/id_rsa",
    "**/id_ecdsa",
    "**/id_ed25519",
];

/// Never written: files that make a later, innocent-looking command run something else
/// (shell startup files, launch agents, git config and hooks, Claude settings).
pub const DENY_WRITE_PATHS: &[&str] = &[
    "~/.zshrc",
    "~/.zshenv",
    "~/.zprofile",
    "~/.zlogin",
    "~/.bashrc",
    "~/.bash_profile",
    "~/.profile",
    "~/.config/fish",
    "~/Library/LaunchAgents",
    "/Library/LaunchAgents",
    "/Library/LaunchDaemons",
    "~/.gitconfig",
    "~/.config/git",
    "**/.git/config",
    "**/.git/hooks",
    "**/.claude/settings.json",
    "**/.claude/settings.local.json",
];

/// Programs never run, even with approval: privilege changes and keychain or firmware access.
pub const DENY_COMMANDS: &[&str] = &[
    "sudo", "su", "doas", "security", "csrutil", "nvram", "shutdown", "reboot", "halt",
];

/// Options shared by the read-only git subcommands below.
const GIT_COMMON: &[&str] = &[
    "--",
    "--no-color",
    "--color",
    "--stat",
    "--shortstat",
    "--numstat",
    "--name-only",
    "--name-status",
    "--summary",
    "-p",
    "--patch",
    "--no-renames",
    // Revisions and paths: anything that is not an option.
    "[!-]*",
];

const GIT_STATUS: &[&str] = &[
    "-s",
    "--short",
    "-b",
    "--branch",
    "--porcelain",
    "--porcelain=v[12]",
    "--long",
    "-v",
    "--verbose",
    "-u",
    "-uno",
    "-unormal",
    "-uall",
    "--untracked-files=*",
    "--ignored",
    "--show-stash",
    "--ahead-behind",
    "--no-ahead-behind",
];

const GIT_LOG: &[&str] = &[
    "--oneline",
    "--graph",
    "--decorate",
    "--decorate=*",
    "--abbrev-commit",
    "--all",
    "--reverse",
    "--merges",
    "--no-merges",
    "--first-parent",
    "--follow",
    "-n",
    "-[0-9]",
    "-[0-9][0-9]",
    "-[0-9][0-9][0-9]",
    "--max-count=*",
    "--skip=*",
    "--since=*",
    "--until=*",
    "--after=*",
    "--before=*",
    "--author=*",
    "--committer=*",
    "--grep=*",
    "-i",
    "--format=*",
    "--pretty",
    "--pretty=*",
    "--date=*",
];

const GIT_DIFF: &[&str] = &[
    "--cached",
    "--staged",
    "-w",
    "-b",
    "--ignore-all-space",
    "--ignore-space-change",
    "-U[0-9]",
    "-U[0-9][0-9]",
    "--unified=[0-9]",
    "--unified=[0-9][0-9]",
    "--word-diff",
    "--word-diff=plain",
    "--word-diff=color",
    "--check",
    "--minimal",
    "--histogram",
    "--patience",
    "--diff-filter=*",
    "--exit-code",
    "--quiet",
];

const GIT_BRANCH: &[&str] = &[
    "-a",
    "--all",
    "-r",
    "--remotes",
    "-v",
    "-vv",
    "--verbose",
    "--list",
    "--show-current",
    "--no-color",
    "--merged",
    "--no-merged",
    "--sort=*",
];

fn rule(program: &str, args: &[&str], options: &[&[&str]]) -> CommandRule {
    let options: Vec<&str> = options.concat();
    CommandRule::new(program, args, &options)
}

/// The built-in allow set (the `commands.allow` default).
pub fn allow_rules() -> Vec<CommandRule> {
    vec![
        // No `ls` option writes or runs anything; listing shows names, not content.
        rule("ls", &[], &[&["*"]]),
        rule("pwd", &[], &[&["-L", "-P"]]),
        rule("df", &[], &[&["*"]]),
        rule("uptime", &[], &[]),
        rule("date", &[], &[&["-u", "-R", "+*"]]),
        rule("whoami", &[], &[]),
        rule("id", &[], &[&["-u", "-g", "-G", "-n", "-un", "-gn", "-p"]]),
        rule("hostname", &[], &[&["-s", "-f"]]),
        rule("uname", &[], &[&["-a", "-m", "-n", "-p", "-r", "-s", "-v"]]),
        rule("sw_vers", &[], &[&["-*"]]),
        rule("pmset", &["-g"], &[&["batt", "ps"]]),
        rule("git", &["status"], &[GIT_STATUS, GIT_COMMON]),
        rule("git", &["log"], &[GIT_LOG, GIT_COMMON]),
        rule("git", &["diff"], &[GIT_DIFF, GIT_COMMON]),
        rule("git", &["branch"], &[GIT_BRANCH]),
    ]
}
