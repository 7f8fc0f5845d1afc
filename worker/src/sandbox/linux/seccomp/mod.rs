//! The seccomp filter: what Landlock cannot see. Sockets (all of them without the network;
//! with it, everything but IP and netlink, so never a UNIX socket: the D-Bus session bus,
//! `docker.sock` or an agent's socket are ways out), io_uring (it opens sockets without
//! `socket(2)`), and the kernel keyrings. Each is refused with `EPERM`, so programs take
//! their usual fallback; `socketpair(2)` stays allowed.
//!
//! The program is a handful of instructions written out here rather than compiled by
//! `seccompiler`'s generic rule compiler: the kernel checks a new filter against every
//! system call number when it is installed, once per spawn, so its length is paid on
//! every task (44 µs for the compiled form against 15 µs for a ten-instruction one,
//! measured here). `seccompiler` installs it. Both filters are built once.

use std::sync::OnceLock;

use nix::libc;
use seccompiler::{sock_filter, BpfProgram};

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

/// The `AUDIT_ARCH_*` value of the architecture the worker runs as. Calls made through
/// another one (i386's `int 0x80` on x86-64) fail the filter and kill the process.
#[cfg(target_arch = "x86_64")]
const NATIVE_ARCH: Option<u32> = Some(0xC000_003E);
#[cfg(target_arch = "aarch64")]
const NATIVE_ARCH: Option<u32> = Some(0xC000_00B7);
#[cfg(target_arch = "riscv64")]
const NATIVE_ARCH: Option<u32> = Some(0xC000_00F3);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
const NATIVE_ARCH: Option<u32> = None;

/// On x86-64 the x32 ABI reaches every call with this bit set in its number. Nothing the
/// worker runs uses x32, so all of it is refused, not just the x32 twins of the calls
/// above.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: Option<u32> = Some(0x4000_0000);
#[cfg(not(target_arch = "x86_64"))]
const X32_SYSCALL_BIT: Option<u32> = None;

/// Offsets in `struct seccomp_data`: the call number, the architecture, and the low 32
/// bits of the first argument (little-endian; the kernel reads `socket`'s family as an
/// `int`, so the high bits do not matter).
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARG0_LOW: u32 = 16;

/// The two built filters, or why they could not be built.
struct Filters {
    offline: BpfProgram,
    online: BpfProgram,
}

static FILTERS: OnceLock<Result<Filters, String>> = OnceLock::new();

/// The filter for a task with or without the network, built on first use.
pub fn filter(network: bool) -> Result<&'static BpfProgram, SandboxError> {
    let filters = FILTERS.get_or_init(|| {
        Ok(Filters {
            offline: build(false)?,
            online: build(true)?,
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

/// Where a jump goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Allow,
    Refuse,
    Kill,
    Socket,
}

/// One step of the program: an instruction, or a label marking the next one.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Load the 32-bit word at this offset of `seccomp_data`.
    Load(u32),
    /// Jump to the label if the loaded word equals the value, else go on.
    IfEqual(u32, Label),
    /// Jump to the label if the loaded word differs from the value, else go on.
    IfNotEqual(u32, Label),
    /// Jump to the label if the loaded word is at least the value, else go on.
    IfAtLeast(u32, Label),
    /// End with this seccomp action.
    Return(u32),
    /// The next instruction is the label's.
    Mark(Label),
}

fn build(network: bool) -> Result<BpfProgram, String> {
    let arch =
        NATIVE_ARCH.ok_or_else(|| format!("no seccomp filter for {}", std::env::consts::ARCH))?;
    let refuse = libc::SECCOMP_RET_ERRNO | (libc::EPERM.unsigned_abs() & libc::SECCOMP_RET_DATA);
    let mut steps = vec![
        Step::Load(DATA_ARCH),
        Step::IfNotEqual(arch, Label::Kill),
        Step::Load(DATA_NR),
    ];
    if let Some(x32) = X32_SYSCALL_BIT {
        steps.push(Step::IfAtLeast(x32, Label::Refuse));
    }
    steps.push(Step::IfEqual(call_number(libc::SYS_socket)?, Label::Socket));
    for &call in ALWAYS_REFUSED {
        steps.push(Step::IfEqual(call_number(call)?, Label::Refuse));
    }
    // Every other call (BPF jumps only forward, so the labelled returns come last).
    steps.push(Step::Return(libc::SECCOMP_RET_ALLOW));
    steps.push(Step::Mark(Label::Socket));
    if network {
        steps.push(Step::Load(DATA_ARG0_LOW));
        for &family in NETWORK_FAMILIES {
            steps.push(Step::IfEqual(family.unsigned_abs(), Label::Allow));
        }
    }
    steps.push(Step::Mark(Label::Refuse));
    steps.push(Step::Return(refuse));
    steps.push(Step::Mark(Label::Allow));
    steps.push(Step::Return(libc::SECCOMP_RET_ALLOW));
    steps.push(Step::Mark(Label::Kill));
    steps.push(Step::Return(libc::SECCOMP_RET_KILL_PROCESS));
    assemble(&steps)
}

fn call_number(call: libc::c_long) -> Result<u32, String> {
    u32::try_from(call).map_err(|_| format!("system call number {call} out of range"))
}

/// Turns steps into BPF: labels become forward jump offsets.
fn assemble(steps: &[Step]) -> Result<BpfProgram, String> {
    let mut at = Vec::new();
    let mut count = 0usize;
    for step in steps {
        match step {
            Step::Mark(label) => at.push((*label, count)),
            _ => count += 1,
        }
    }
    let offset_to = |label: Label, from: usize| -> Result<u8, String> {
        let (_, target) = at
            .iter()
            .find(|(marked, _)| *marked == label)
            .ok_or_else(|| format!("seccomp: no {label:?} in the program"))?;
        target
            .checked_sub(from + 1)
            .and_then(|offset| u8::try_from(offset).ok())
            .ok_or_else(|| format!("seccomp: {label:?} out of a jump's reach"))
    };
    let mut program = Vec::with_capacity(count);
    for step in steps {
        let pc = program.len();
        let (code, jt, jf, k) = match *step {
            Step::Mark(_) => continue,
            Step::Load(offset) => (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, offset),
            Step::IfEqual(value, label) => (JUMP_IF_EQUAL, offset_to(label, pc)?, 0, value),
            Step::IfNotEqual(value, label) => (JUMP_IF_EQUAL, 0, offset_to(label, pc)?, value),
            Step::IfAtLeast(value, label) => (JUMP_IF_AT_LEAST, offset_to(label, pc)?, 0, value),
            Step::Return(action) => (libc::BPF_RET | libc::BPF_K, 0, 0, action),
        };
        program.push(sock_filter {
            code: u16::try_from(code).map_err(|_| "seccomp: bad opcode".to_owned())?,
            jt,
            jf,
            k,
        });
    }
    Ok(program)
}

const JUMP_IF_EQUAL: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const JUMP_IF_AT_LEAST: u32 = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;

#[cfg(test)]
mod tests;
