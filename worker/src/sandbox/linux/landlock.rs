//! The Landlock ruleset: file rights from the carved grants, TCP refused without the
//! network, and scoping (no signals to, no abstract sockets of, processes outside).
//! Applied to the calling thread only; see the parent module for why that is enough.

use landlock::{
    Access as _, AccessFs, AccessNet, BitFlags, LandlockStatus, PathBeneath, Ruleset,
    RulesetAttr as _, RulesetCreatedAttr as _, RulesetError, RulesetStatus, Scope, ABI,
};

use super::carve::{Grant, Rights};
use super::resolve::Kind;
use crate::sandbox::{Access, SandboxError};

/// The newest Landlock ABI this applier is tested against. Rights a newer kernel offers
/// (pathname UNIX sockets in ABI 9, UDP in ABI 10) stay unhandled until tested with it:
/// the crate's compatibility contract (and seccomp, for sockets) covers the rest.
pub const TESTED_ABI: ABI = ABI::V7;

/// The oldest kernel ABI the worker accepts. ABI 3 is the first that refuses `truncate`
/// on files a task may only read; below it, read-only would not mean unchanged.
pub const MIN_ABI: i32 = 3;

/// The Landlock file rights a grant gives, on a directory or on a file.
pub fn fs_rights(rights: Rights, kind: Kind) -> BitFlags<AccessFs> {
    let abi = TESTED_ABI;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let on_tree = match rights {
        Rights::List => BitFlags::from(AccessFs::ReadDir),
        Rights::Tree(Access::Read) => read,
        Rights::Tree(Access::ReadExec) => read | AccessFs::Execute,
        Rights::Tree(Access::ReadWrite) => read | AccessFs::from_write(abi),
        Rights::Tree(Access::Full) => AccessFs::from_all(abi),
    };
    match kind {
        Kind::Dir => on_tree,
        Kind::File | Kind::Symlink => on_tree & AccessFs::from_file(abi),
    }
}

/// Restricts the calling thread (and every process it starts from now on) to `grants`,
/// with TCP refused unless `network`. Returns the kernel's Landlock ABI.
///
/// Errors: the kernel refused a rule or the ruleset (`Apply`), or Landlock is missing,
/// disabled or older than [`MIN_ABI`] (`Unavailable`). The thread may be partly
/// restricted after an error: it must not go on to start anything.
pub fn restrict_current_thread(grants: &[Grant], network: bool) -> Result<i32, SandboxError> {
    let apply = |err: RulesetError| SandboxError::Apply(format!("landlock: {err}"));
    let abi = TESTED_ABI;
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(apply)?
        .scope(Scope::from_all(abi))
        .map_err(apply)?;
    if !network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(apply)?;
    }
    let mut created = ruleset.create().map_err(apply)?;
    for grant in grants {
        let access = fs_rights(grant.rights, grant.opened.kind);
        if access.is_empty() {
            continue;
        }
        created = created
            .add_rule(PathBeneath::new(&grant.opened.file, access))
            .map_err(|err| {
                SandboxError::Apply(format!("landlock rule for {}: {err}", grant.path.display()))
            })?;
    }
    let status = created.restrict_self().map_err(apply)?;
    let kernel_abi =
        match status.landlock {
            LandlockStatus::Available {
                effective_abi,
                kernel_abi,
            } => kernel_abi.unwrap_or(effective_abi as i32),
            LandlockStatus::NotEnabled => {
                return Err(SandboxError::Unavailable(
                    "Landlock is built into this kernel but not enabled (boot with lsm=…,landlock)"
                        .to_owned(),
                ))
            }
            LandlockStatus::NotImplemented => return Err(SandboxError::Unavailable(
                "this kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK)"
                    .to_owned(),
            )),
        };
    check_enforced(&status.ruleset, kernel_abi)?;
    Ok(kernel_abi)
}

/// Refuses a ruleset the kernel did not enforce, or a kernel too old for our guarantees.
pub fn check_enforced(status: &RulesetStatus, kernel_abi: i32) -> Result<(), SandboxError> {
    if *status == RulesetStatus::NotEnforced {
        return Err(SandboxError::Unavailable(
            "the kernel did not enforce the Landlock ruleset".to_owned(),
        ));
    }
    if kernel_abi < MIN_ABI {
        return Err(SandboxError::Unavailable(format!(
            "Landlock ABI {kernel_abi} is too old: ABI {MIN_ABI} (Linux 6.2) is the first that \
             refuses truncating read-only files"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unenforced_ruleset_is_unavailable() {
        let err = check_enforced(&RulesetStatus::NotEnforced, 7).unwrap_err();

        assert!(matches!(err, SandboxError::Unavailable(_)), "{err:?}");
    }

    #[test]
    fn kernel_without_truncate_rights_is_unavailable() {
        assert!(check_enforced(&RulesetStatus::PartiallyEnforced, 2).is_err());
        assert!(check_enforced(&RulesetStatus::PartiallyEnforced, 3).is_ok());
        assert!(check_enforced(&RulesetStatus::FullyEnforced, 7).is_ok());
    }

    #[test]
    fn file_rules_take_only_file_rights() {
        let on_file = fs_rights(Rights::Tree(Access::Full), Kind::File);

        assert!(!on_file.contains(AccessFs::ReadDir));
        assert!(!on_file.contains(AccessFs::MakeReg));
        assert!(on_file.contains(AccessFs::WriteFile));
    }

    #[test]
    fn write_trees_run_nothing_and_read_trees_change_nothing() {
        let write = fs_rights(Rights::Tree(Access::ReadWrite), Kind::Dir);
        let read = fs_rights(Rights::Tree(Access::ReadExec), Kind::Dir);

        assert!(!write.contains(AccessFs::Execute));
        assert!(write.contains(AccessFs::Truncate | AccessFs::Refer | AccessFs::RemoveDir));
        assert!((read & AccessFs::from_write(TESTED_ABI)).is_empty());
        assert_eq!(fs_rights(Rights::List, Kind::Dir), AccessFs::ReadDir);
    }
}
