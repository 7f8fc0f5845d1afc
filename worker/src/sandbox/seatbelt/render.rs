//! The profile text for a spec: pure, the same on every platform, pinned by golden files.
//!
//! Seatbelt applies the last rule that matches an operation (Anthropic's sandbox-runtime
//! and OpenAI's Codex CLI order their profiles on the same rule), so the order is: deny
//! everything, allow what a program needs and the spec's trees, then deny again what is
//! hidden or read-only, so those denies win over any tree that contains them.
//!
//! What a plain program needs was learnt from Codex CLI's Seatbelt policies, Chromium's
//! `common.sb`/`network.sb` (which Codex's cite) and Firefox's content-process profile;
//! the rules here are our own, each with its reason. None of this has run on a Mac yet.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use super::pattern::{exact_regex, glob_parent_regexes, glob_regex, path_regex};
use super::sbpl::{comment, path_text, quote, rule, Filter};
use crate::policy::paths;
use crate::sandbox::SandboxSpec;

/// The sysctls a program may read: what `uname`, `sysconf` and the C, Rust, Go and Node
/// runtimes ask at start (CPU count and features, page and cache sizes, OS version, limits).
/// Others stay denied — notably `kern.procargs2`, which reads another process's arguments
/// and environment (the worker's included). Codex and Chromium allow similar lists.
const SYSCTL_NAMES: &[&str] = &[
    "hw.activecpu",
    "hw.byteorder",
    "hw.cachelinesize",
    "hw.cpufamily",
    "hw.cpusubtype",
    "hw.cputype",
    "hw.l1dcachesize",
    "hw.l1icachesize",
    "hw.l2cachesize",
    "hw.l3cachesize",
    "hw.logicalcpu",
    "hw.logicalcpu_max",
    "hw.machine",
    "hw.memsize",
    "hw.model",
    "hw.ncpu",
    "hw.nperflevels",
    "hw.pagesize",
    "hw.physicalcpu",
    "hw.physicalcpu_max",
    "hw.tbfrequency",
    "kern.argmax",
    "kern.boottime",
    "kern.hostname",
    "kern.maxfiles",
    "kern.maxfilesperproc",
    "kern.maxproc",
    "kern.ngroups",
    "kern.osproductversion",
    "kern.osrelease",
    "kern.ostype",
    "kern.osvariant_status",
    "kern.osversion",
    "kern.secure_kernel",
    "kern.usrstack64",
    "kern.version",
    "sysctl.proc_cputype",
    "sysctl.proc_native",
    "sysctl.proc_translated",
    "vm.loadavg",
];

/// Sysctl families read by name prefix: CPU feature flags (every crypto library and
/// Rust's `std_detect` probe them), performance levels, and a process's own state
/// (`kern.proc.pid.<pid>`, read by `ps` and by runtimes checking for a debugger).
const SYSCTL_PREFIXES: &[&str] = &[
    "hw.optional.",
    "hw.perflevel",
    "machdep.cpu.",
    "kern.proc.pid.",
];

/// Mach services every program may reach: only Open Directory's user and group lookup
/// (`getpwuid`: `ls -l`, `id`, git, ssh; Chromium and Codex allow it for the same
/// reason). Everything else — the keychain (`com.apple.SecurityServer`), the pasteboard,
/// Apple Events, launchd job submission — stays out of reach.
const MACH_SERVICES: &[&str] = &["com.apple.system.opendirectoryd.libinfo"];

/// Mach services a networked program needs: name resolution (mDNSResponder and the DNS
/// configuration), proxy settings, and certificate trust evaluation for TLS (Chromium's
/// network profile and Codex's allow these too). Not `com.apple.SecurityServer`, which
/// Codex allows: it is the keychain.
const NETWORK_MACH_SERVICES: &[&str] = &[
    "com.apple.dnssd.service",
    "com.apple.SystemConfiguration.DNSConfiguration",
    "com.apple.SystemConfiguration.configd",
    "com.apple.trustd",
    "com.apple.trustd.agent",
];

/// The unix socket the system resolver talks to mDNSResponder over. The only unix
/// socket a networked task may connect to: others (ssh-agent, Docker, gpg-agent) act
/// with the owner's keys.
const RESOLVER_SOCKET: &str = "/private/var/run/mDNSResponder";

/// The Seatbelt profile for `spec`, with paths as they are in it: resolve them on disk
/// first ([`super::resolve()`]), since Seatbelt matches the real path.
pub fn render(spec: &SandboxSpec) -> String {
    let mut out = String::new();
    out.push_str("(version 1)\n");
    comment(
        &mut out,
        &format!(
            "openclaw-worker sandbox `{}`. Denied unless allowed below; the last matching rule wins.",
            spec.profile.as_str()
        ),
    );
    out.push_str("(deny default)\n");
    processes(&mut out, spec);
    system(&mut out);
    files(&mut out, spec);
    network(&mut out, spec.network);
    denies(&mut out, spec);
    out
}

fn processes(out: &mut String, spec: &SandboxSpec) {
    out.push('\n');
    // Firefox's profile notes that (deny default) does not cover process-info, nvram or
    // file-map-executable: each is denied explicitly before what is allowed of it.
    comment(
        out,
        "Processes: children inherit this sandbox. Signals and process information reach only\n\
         processes inside it (process-info and nvram are not covered by (deny default)).",
    );
    out.push_str("(allow process-fork)\n");
    out.push_str("(allow signal (target same-sandbox))\n");
    out.push_str("(deny process-info*)\n");
    out.push_str("(allow process-info* (target same-sandbox))\n");
    out.push_str("(deny nvram*)\n");
    comment(
        out,
        "Programs (and #! interpreters) start, and executable code maps, only from runnable trees.",
    );
    let runnable = subpaths(spec, |access| access.runs());
    rule(out, "allow", "process-exec*", &runnable);
    out.push_str("(deny file-map-executable)\n");
    rule(out, "allow", "file-map-executable", &runnable);
}

fn system(out: &mut String) {
    out.push('\n');
    comment(
        out,
        "System facts programs read at start; other sysctls stay denied.",
    );
    out.push_str("(allow sysctl-read");
    for name in SYSCTL_NAMES {
        let _ = write!(out, "\n  (sysctl-name {})", quote(name));
    }
    for prefix in SYSCTL_PREFIXES {
        let _ = write!(out, "\n  (sysctl-name-prefix {})", quote(prefix));
    }
    out.push_str(")\n");
    comment(
        out,
        "User and group names (getpwuid); no other system service.",
    );
    mach_lookup(out, MACH_SERVICES);
    comment(
        out,
        "Named POSIX semaphores (Python's multiprocessing locks).",
    );
    out.push_str("(allow ipc-posix-sem)\n");
}

fn files(out: &mut String, spec: &SandboxSpec) {
    out.push('\n');
    comment(
        out,
        "Path traversal: the directories above each tree can be looked up, not read.\n\
         The root can be listed (getcwd falls back to walking up to it).",
    );
    // A directory inside a tree is readable already.
    let ancestors: Vec<Filter> = dirs_up(spec.trees.iter().filter_map(|t| t.path.parent()))
        .into_iter()
        .filter(|dir| !spec.trees.iter().any(|t| dir.starts_with(&t.path)))
        .filter_map(|path| path_text(&path).map(|p| Filter::Literal(p.to_owned())))
        .collect();
    rule(
        out,
        "allow",
        "file-read-metadata file-test-existence",
        &ancestors,
    );
    out.push_str("(allow file-read* (literal \"/\"))\n");
    comment(out, "The task's trees: read.");
    rule(
        out,
        "allow",
        "file-read* file-test-existence",
        &subpaths(spec, |_| true),
    );
    comment(out, "The task's trees: write.");
    rule(
        out,
        "allow",
        "file-write*",
        &subpaths(spec, |access| access.writes()),
    );
}

fn network(out: &mut String, on: bool) {
    out.push('\n');
    if !on {
        comment(
            out,
            "Network: none. (deny default) refuses TCP, UDP and unix-socket connections alike.",
        );
        return;
    }
    comment(
        out,
        "Network: IP in and out, name resolution and TLS certificate checks. No unix socket\n\
         but the resolver's: not ssh-agent, Docker or gpg-agent.",
    );
    out.push_str("(allow system-socket)\n");
    out.push_str("(allow network-outbound (remote ip))\n");
    out.push_str("(allow network-inbound (local ip))\n");
    out.push_str("(allow network-bind (local ip))\n");
    rule(
        out,
        "allow",
        "network-outbound",
        &[Filter::Literal(RESOLVER_SOCKET.to_owned())],
    );
    mach_lookup(out, NETWORK_MACH_SERVICES);
}

fn denies(out: &mut String, spec: &SandboxSpec) {
    out.push('\n');
    comment(
        out,
        "Denies, after every allow so they win. A hard link or clone would give a hidden or\n\
         read-only file a second name the rules below do not know (Seatbelt matches names, not files).",
    );
    out.push_str("(deny file-link file-clone)\n");
    comment(
        out,
        "Hidden: never read, written, run or mapped, in any letter case, nor anything below.",
    );
    let hidden = protected_filters(&spec.hidden, &spec.hidden_patterns);
    rule(
        out,
        "deny",
        "file-read* file-test-existence file-write* process-exec* file-map-executable",
        &hidden,
    );
    comment(
        out,
        "Read-only: never written, in any letter case, nor anything below.",
    );
    let read_only = protected_filters(&spec.read_only, &spec.read_only_patterns);
    rule(out, "deny", "file-write*", &read_only);
    // Anthropic's sandbox-runtime blocks moving a protected path's ancestors for the same
    // reason: Seatbelt checks names, and a rename changes every name below it at once.
    comment(
        out,
        "The directories above a protected path cannot be renamed, removed or replaced: that\n\
         would move it out from under its rule (or plant a symlink on its way).",
    );
    let pattern_prefixes: Vec<PathBuf> = spec
        .hidden_patterns
        .iter()
        .chain(&spec.read_only_patterns)
        .filter_map(|glob| literal_prefix(glob))
        .collect();
    let literal_parents = spec
        .hidden
        .iter()
        .chain(&spec.read_only)
        .filter_map(|path| path.parent());
    let parents: Vec<Filter> =
        dirs_up(literal_parents.chain(pattern_prefixes.iter().map(PathBuf::as_path)))
            .into_iter()
            .map(|dir| Filter::Regex(exact_regex(dir.as_os_str().as_bytes())))
            .collect();
    rule(out, "deny", "file-write-unlink file-write-create", &parents);
    comment(
        out,
        "Directories a protected pattern runs through (.git for .git/hooks) cannot be renamed\n\
         away either; creating one stays possible (git init).",
    );
    let pattern_parents: Vec<Filter> = dedup(
        spec.hidden_patterns
            .iter()
            .chain(&spec.read_only_patterns)
            .flat_map(|glob| glob_parent_regexes(glob)),
    )
    .into_iter()
    .map(Filter::Regex)
    .collect();
    rule(out, "deny", "file-write-unlink", &pattern_parents);
}

fn mach_lookup(out: &mut String, services: &[&str]) {
    out.push_str("(allow mach-lookup");
    for service in services {
        let _ = write!(out, "\n  (global-name {})", quote(service));
    }
    out.push_str(")\n");
}

/// `subpath` filters for the trees whose access passes `keep`, in spec order, without
/// those inside another one (`/usr/bin` when `/usr` is there).
fn subpaths(spec: &SandboxSpec, keep: impl Fn(crate::sandbox::Access) -> bool) -> Vec<Filter> {
    let kept: Vec<&Path> = spec
        .trees
        .iter()
        .filter(|t| keep(t.access))
        .map(|t| t.path.as_path())
        .collect();
    let outermost = kept
        .iter()
        .filter(|path| {
            !kept
                .iter()
                .any(|other| other != *path && path.starts_with(other))
        })
        .filter_map(|path| path_text(path))
        .map(str::to_owned);
    dedup(outermost).into_iter().map(Filter::Subpath).collect()
}

/// Filters for protected paths and patterns: each path as a `subpath` (exactly as
/// spelled) and as a case-insensitive regex; each pattern as a case-insensitive regex.
fn protected_filters(paths: &[PathBuf], patterns: &[String]) -> Vec<Filter> {
    let mut filters = Vec::new();
    for path in paths {
        if let Some(text) = path_text(path) {
            filters.push(Filter::Subpath(text.to_owned()));
        }
        filters.push(Filter::Regex(path_regex(path.as_os_str().as_bytes())));
    }
    filters.extend(patterns.iter().map(|glob| Filter::Regex(glob_regex(glob))));
    dedup(filters)
}

/// Each directory and every directory above it, without `/`, in first-seen order.
fn dirs_up<'a>(dirs: impl Iterator<Item = &'a Path>) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        let mut chain: Vec<&Path> = dir.ancestors().collect();
        chain.reverse();
        for dir in chain {
            if dir.parent().is_some() && seen.insert(dir.to_path_buf()) {
                out.push(dir.to_path_buf());
            }
        }
    }
    out
}

/// The literal leading directories of an absolute glob (`/Users/me/proj` for
/// `/Users/me/proj/*.pem`): renaming one would take its matches out of the pattern.
fn literal_prefix(glob: &str) -> Option<PathBuf> {
    let (prefix, _) = paths::split_literal_prefix(glob);
    (glob.starts_with('/') && prefix.len() > 1).then(|| PathBuf::from(prefix))
}

fn dedup<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}
