//! The filter programs, run by a small BPF interpreter over made-up calls (the real
//! kernel runs them in the applier's tests).

use super::*;

/// What the kernel would do with a call.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allow,
    Refuse,
    Kill,
}

/// Runs `program` over `seccomp_data { nr, arch, args[0] = arg0 }` as the kernel would.
fn run(program: &BpfProgram, arch: u32, nr: u32, arg0: u32) -> Verdict {
    let word = |offset: u32| match offset {
        DATA_NR => nr,
        DATA_ARCH => arch,
        DATA_ARG0_LOW => arg0,
        other => panic!("load of an unexpected offset {other}"),
    };
    let (mut pc, mut accumulator) = (0usize, 0u32);
    loop {
        let insn = &program[pc];
        let code = u32::from(insn.code);
        if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS {
            accumulator = word(insn.k);
            pc += 1;
        } else if code == JUMP_IF_EQUAL || code == JUMP_IF_AT_LEAST {
            let taken = if code == JUMP_IF_EQUAL {
                accumulator == insn.k
            } else {
                accumulator >= insn.k
            };
            pc += 1 + usize::from(if taken { insn.jt } else { insn.jf });
        } else if code == libc::BPF_RET | libc::BPF_K {
            return match insn.k {
                libc::SECCOMP_RET_ALLOW => Verdict::Allow,
                libc::SECCOMP_RET_KILL_PROCESS => Verdict::Kill,
                k if k == libc::SECCOMP_RET_ERRNO | libc::EPERM.unsigned_abs() => Verdict::Refuse,
                k => panic!("unexpected action {k:#x}"),
            };
        } else {
            panic!("unexpected instruction {insn:?}");
        }
    }
}

fn native() -> u32 {
    NATIVE_ARCH.unwrap()
}

fn nr(call: libc::c_long) -> u32 {
    u32::try_from(call).unwrap()
}

fn family(family: libc::c_int) -> u32 {
    family.unsigned_abs()
}

#[test]
fn ordinary_calls_are_allowed() {
    for network in [false, true] {
        let program = filter(network).unwrap();

        for call in [
            libc::SYS_getpid,
            libc::SYS_openat,
            libc::SYS_socketpair,
            libc::SYS_connect,
        ] {
            assert_eq!(
                run(program, native(), nr(call), 0),
                Verdict::Allow,
                "{call}"
            );
        }
    }
}

#[test]
fn every_socket_is_refused_without_the_network() {
    let program = filter(false).unwrap();

    for domain in [
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_UNIX,
        libc::AF_NETLINK,
        libc::AF_PACKET,
    ] {
        assert_eq!(
            run(program, native(), nr(libc::SYS_socket), family(domain)),
            Verdict::Refuse
        );
    }
}

#[test]
fn only_ip_and_netlink_sockets_are_allowed_with_the_network() {
    let program = filter(true).unwrap();
    let socket = |domain| run(program, native(), nr(libc::SYS_socket), family(domain));

    assert_eq!(socket(libc::AF_INET), Verdict::Allow);
    assert_eq!(socket(libc::AF_INET6), Verdict::Allow);
    assert_eq!(socket(libc::AF_NETLINK), Verdict::Allow);
    assert_eq!(socket(libc::AF_UNIX), Verdict::Refuse);
    assert_eq!(socket(libc::AF_VSOCK), Verdict::Refuse);
    assert_eq!(socket(libc::AF_PACKET), Verdict::Refuse);
}

#[test]
fn keyrings_and_io_uring_are_refused_either_way() {
    for network in [false, true] {
        let program = filter(network).unwrap();

        for &call in ALWAYS_REFUSED {
            assert_eq!(
                run(program, native(), nr(call), 0),
                Verdict::Refuse,
                "{call}"
            );
        }
    }
}

#[test]
fn another_architecture_kills_the_process() {
    let i386 = 0x4000_0003;

    assert_eq!(run(filter(true).unwrap(), i386, 20, 0), Verdict::Kill);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn every_x32_call_is_refused() {
    let x32 = |call| nr(call) | X32_SYSCALL_BIT.unwrap();

    assert_eq!(
        run(filter(true).unwrap(), native(), x32(libc::SYS_getpid), 0),
        Verdict::Refuse
    );
    assert_eq!(
        run(filter(true).unwrap(), native(), x32(libc::SYS_socket), 1),
        Verdict::Refuse
    );
}
