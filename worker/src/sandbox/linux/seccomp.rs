//! The seccomp filter: what Landlock cannot see. Sockets (all of them without the network;
//! with it, everything but IP and netlink, so never a UNIX socket: the D-Bus session bus,
//! `docker.sock` or an agent's socket are ways out), io_uring (it opens sockets without
//! `socket(2)`), and the kernel keyrings. Each is refused with `EPERM`, so programs take
//! their usual fallback; `socketpair(2)` stays allowed.
//!
//! The filters depend only on the network flag, so both are compiled once.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use nix::libc;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::sandbox::SandboxError;

/// Refused always: the kernel keyrings (shared by all of a user's processes, outside
/// Landlock) and io_uring (a second door to sockets and a large kernel surface).
const ALWAYS_REFUSED: &[libc::c_long] = &[
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
];

/// The socket families a task with the network may open: IPv4, IPv6, and netlink (read
/// by the C library to learn which address families are configured).
const NETWORK_FAMILIES: &[libc::c_int] = &[libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK];

/// On x86-64 the x32 ABI reaches the same calls with this bit set in the number; a filter
/// that only names the plain numbers would let them through where x32 is enabled. (Other
/// architectures' calls, such as i386's, fail the filter's architecture check and kill
/// the process.)
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: i64 = 0x4000_0000;

/// The two compiled filters, or why they could not be built.
struct Filters {
    offline: BpfProgram,
    online: BpfProgram,
}

static FILTERS: OnceLock<Result<Filters, String>> = OnceLock::new();

/// The filter for a task with or without the network, compiled on first use.
pub fn filter(network: bool) -> Result<&'static BpfProgram, SandboxError> {
    let filters = FILTERS.get_or_init(|| {
        Ok(Filters {
            offline: compile(false)?,
            online: compile(true)?,
        })
    });
    match filters {
        Ok(filters) if network => Ok(&filters.online),
        Ok(filters) => Ok(&filters.offline),
        Err(why) => Err(SandboxError::Unavailable(why.clone())),
    }
}

/// Installs `program` on the calling thread (and every process it starts from now on).
/// Sets no_new_privs first, as the kernel requires of an unprivileged filter.
pub fn apply_to_current_thread(program: &BpfProgram) -> Result<(), SandboxError> {
    seccompiler::apply_filter(program).map_err(|err| SandboxError::Apply(format!("seccomp: {err}")))
}

fn compile(network: bool) -> Result<BpfProgram, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|err| format!("seccomp: no filter for this architecture: {err}"))?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    // An empty rule list matches the call whatever its arguments.
    for &call in ALWAYS_REFUSED {
        rules.insert(call, Vec::new());
    }
    let socket_rules = if network {
        vec![not_a_network_family().map_err(|err| format!("seccomp: {err}"))?]
    } else {
        Vec::new()
    };
    rules.insert(libc::SYS_socket, socket_rules);
    #[cfg(target_arch = "x86_64")]
    {
        let x32: Vec<(i64, Vec<SeccompRule>)> = rules
            .iter()
            .map(|(call, chain)| (call | X32_SYSCALL_BIT, chain.clone()))
            .collect();
        rules.extend(x32);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|err| format!("seccomp: {err}"))?;
    BpfProgram::try_from(filter).map_err(|err| format!("seccomp: {err}"))
}

/// Matches a `socket(2)` whose family (argument 0) is none of [`NETWORK_FAMILIES`].
fn not_a_network_family() -> Result<SeccompRule, seccompiler::BackendError> {
    let conditions = NETWORK_FAMILIES
        .iter()
        .map(|&family| {
            SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Ne,
                family.unsigned_abs().into(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    SeccompRule::new(conditions)
}
