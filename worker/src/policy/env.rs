//! The child environment: a pure function from the worker's environment to what a command
//! or Claude run may see. Only allowlisted names pass; the worker token never does.

use std::ffi::{OsStr, OsString};

/// Names every child gets (when the worker has them). `LC_*` also passes.
pub const BASE_ALLOWLIST: [&str; 8] = [
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "SHELL", "TMPDIR",
];

/// Names that never pass, even when listed in `env.extra`: the worker token under every
/// name the worker reads it from.
pub const NEVER_PASS: [&str; 2] = ["WORKER_TOKEN", "OPENCLAW_WORKER_TOKEN"];

/// Prefixes that never pass: the worker's own settings (`OPENCLAW_WORKER__TOKEN`-style
/// overrides included) and dynamic-linker injection.
pub const NEVER_PASS_PREFIXES: [&str; 4] = ["OPENCLAW_", "DYLD_", "LD_", "WORKER_"];

/// Whether `name` may never reach a child. Compared case-insensitively, so `worker_token`
/// is caught too.
pub fn is_forbidden(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    NEVER_PASS.contains(&upper.as_str()) || NEVER_PASS_PREFIXES.iter().any(|p| upper.starts_with(p))
}

fn is_allowed(name: &str, extra: &[String]) -> bool {
    if is_forbidden(name) {
        return false;
    }
    BASE_ALLOWLIST.contains(&name) || name.starts_with("LC_") || extra.iter().any(|e| e == name)
}

/// The environment for a child: the allowlisted part of `worker_env` (base names, `LC_*`,
/// and `extra`), with `PATH` replaced by `path` when given (so the child resolves
/// programs through the same directories the policy checked). Names that are not UTF-8
/// are dropped. Sorted by name, for stable output.
pub fn child_env(
    worker_env: impl IntoIterator<Item = (OsString, OsString)>,
    extra: &[String],
    path: Option<&OsStr>,
) -> Vec<(OsString, OsString)> {
    let mut out: Vec<(OsString, OsString)> = worker_env
        .into_iter()
        .filter(|(name, _)| name.to_str().is_some_and(|n| is_allowed(n, extra)))
        .filter(|(name, _)| !(path.is_some() && name == "PATH"))
        .collect();
    if let Some(path) = path {
        out.push(("PATH".into(), path.to_owned()));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    fn names(env: &[(OsString, OsString)]) -> Vec<String> {
        env.iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn only_allowlisted_names_pass() {
        let worker = env(&[
            ("HOME", "/Users/me"),
            ("LC_ALL", "C"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("GITHUB_TOKEN", "y"),
            ("TERM", "xterm"),
        ]);

        let child = child_env(worker, &[], None);

        assert_eq!(names(&child), ["HOME", "LC_ALL", "TERM"]);
    }

    #[test]
    fn worker_token_is_absent_even_when_listed_as_extra() {
        let worker = env(&[
            ("WORKER_TOKEN", "oc_worker_secret"),
            ("OPENCLAW_WORKER_TOKEN", "oc_worker_secret"),
            ("OPENCLAW_WORKER__TOKEN", "oc_worker_secret"),
            ("worker_token", "oc_worker_secret"),
            ("HOME", "/Users/me"),
        ]);
        let extra: Vec<String> = [
            "WORKER_TOKEN",
            "OPENCLAW_WORKER_TOKEN",
            "OPENCLAW_WORKER__TOKEN",
            "worker_token",
        ]
        .map(String::from)
        .into();

        let child = child_env(worker, &extra, None);

        assert_eq!(names(&child), ["HOME"]);
        assert!(child.iter().all(|(_, v)| v != "oc_worker_secret"));
    }

    #[test]
    fn configured_extras_pass() {
        let worker = env(&[("GITHUB_TOKEN", "y"), ("OTHER", "z")]);

        let child = child_env(worker, &["GITHUB_TOKEN".into()], None);

        assert_eq!(names(&child), ["GITHUB_TOKEN"]);
    }

    #[test]
    fn linker_injection_never_passes() {
        let worker = env(&[
            ("DYLD_INSERT_LIBRARIES", "/tmp/x.dylib"),
            ("LD_PRELOAD", "/x"),
        ]);

        let child = child_env(
            worker,
            &["DYLD_INSERT_LIBRARIES".into(), "LD_PRELOAD".into()],
            None,
        );

        assert!(child.is_empty());
    }

    #[test]
    fn path_is_replaced_by_the_checked_search_path() {
        let worker = env(&[("PATH", "/evil:/bin"), ("HOME", "/h")]);

        let child = child_env(worker, &[], Some(OsStr::new("/bin:/usr/bin")));

        assert_eq!(child, env(&[("HOME", "/h"), ("PATH", "/bin:/usr/bin")]));
    }

    #[test]
    fn process_environment_drops_a_token_set_in_it() {
        // The same function over a real process environment plus a planted token.
        let mut worker: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        worker.push(("WORKER_TOKEN".into(), "planted".into()));

        let child = child_env(worker, &[], None);

        assert!(!names(&child).contains(&"WORKER_TOKEN".to_owned()));
    }
}
