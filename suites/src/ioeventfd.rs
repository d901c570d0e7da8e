//! KVM_IOEVENTFD (api.txt 4.56, seeds/004): every rule of kernel-semantics.md §7 as rows. Each
//! row: the registrations made first (`given`), the call under test, the exact expected outcome,
//! and optionally what follows (the registration is still there or gone; on live x86_64, what a
//! guest write does: signal the eventfd without an exit, or exit to userspace). One property
//! case runs random assign/deassign sequences against the reference model in
//! `fixtures::models::ioeventfd`.

use crate::rows::{bad_argument_cases, capability_is, Target};
use crate::rows::{
    cap, case, fixture_error, CaseDef, Checker, Fixture, Need, Property, Seed, Step,
};
use fixtures::models::ioeventfd::{self as model, KernelSystem, Model};
use fixtures::raw::ioctl::{ioeventfd, KVM_IOEVENTFD};
use fixtures::raw::uapi::*;
use fixtures::vm::Vm;
use harness::{CaseContext, CaseReport, Expected, Outcome};
use nix::errno::Errno::{self, EBADF, EEXIST, EINVAL, ENOENT};
use nix::sys::eventfd::{EfdFlags, EventFd};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

pub const SUITE: &str = "ioeventfd";
pub const SEED: Seed = Seed {
    section: "4.56",
    ioctl: "KVM_IOEVENTFD",
    file: "004_a3fca065b1adb3f7.txt",
};
const CALL: &str = "KVM_IOEVENTFD on the VM fd";

const DM: u32 = KVM_IOEVENTFD_FLAG_DATAMATCH;
const PIO: u32 = KVM_IOEVENTFD_FLAG_PIO;
const DEASSIGN: u32 = KVM_IOEVENTFD_FLAG_DEASSIGN;
const CCW: u32 = KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY;
const BIT4: u32 = KVM_IOEVENTFD_FLAG_BIT4_FAST_MMIO;

/// The address most rows register at (an MMIO address, or a port with PIO).
const A: u64 = 0x1000;

/// Which descriptor a row passes in `fd`.
#[derive(Debug, Clone, Copy)]
pub enum Fd {
    /// Eventfd number i of the row's three.
    Event(usize),
    /// A `dup` of eventfd i.
    Dup(usize),
    Raw(i32),
    /// A descriptor number that was just closed.
    Closed,
    /// The read end of a pipe.
    Pipe,
    /// A regular file.
    File,
    /// The VM fd itself.
    TheVm,
}

/// A `struct kvm_ioeventfd` with a symbolic descriptor.
#[derive(Debug, Clone, Copy)]
pub struct Reg {
    pub datamatch: u64,
    pub addr: u64,
    pub len: u32,
    pub fd: Fd,
    pub flags: u32,
    pub pad: [u8; 36],
}

pub fn mmio(addr: u64, len: u32) -> Reg {
    Reg {
        datamatch: 0,
        addr,
        len,
        fd: Fd::Event(0),
        flags: 0,
        pad: [0; 36],
    }
}

pub fn pio(addr: u64, len: u32) -> Reg {
    mmio(addr, len).flags(PIO)
}

impl Reg {
    /// DATAMATCH with `v`.
    fn dm(mut self, v: u64) -> Self {
        self.flags |= DM;
        self.datamatch = v;
        self
    }
    /// Only the `datamatch` field, without the flag.
    fn datamatch_field(mut self, v: u64) -> Self {
        self.datamatch = v;
        self
    }
    /// Add flag bits.
    fn flags(mut self, f: u32) -> Self {
        self.flags |= f;
        self
    }
    fn without(mut self, f: u32) -> Self {
        self.flags &= !f;
        self
    }
    fn fd(mut self, fd: Fd) -> Self {
        self.fd = fd;
        self
    }
    fn addr(mut self, a: u64) -> Self {
        self.addr = a;
        self
    }
    fn len(mut self, l: u32) -> Self {
        self.len = l;
        self
    }
    fn deassign(self) -> Self {
        self.flags(DEASSIGN)
    }
    fn pad(mut self, byte: u8) -> Self {
        self.pad = [byte; 36];
        self
    }

    fn resolve(&self, env: &Env) -> KvmIoeventfd {
        KvmIoeventfd {
            datamatch: self.datamatch,
            addr: self.addr,
            len: self.len,
            fd: env.fd(self.fd),
            flags: self.flags,
            pad: self.pad,
        }
    }
}

/// What a row's checks work with: a fresh VM, three eventfds (non-blocking, so a read gives the
/// counter or EAGAIN), a dup of each, a pipe, a regular file and a closed descriptor number.
pub struct Env {
    pub vm: Vm,
    pub eventfds: Vec<EventFd>,
    dups: Vec<OwnedFd>,
    pipe: (OwnedFd, OwnedFd),
    file: std::fs::File,
    closed: RawFd,
}

impl Env {
    fn new() -> Result<Env, String> {
        let vm = Vm::new()?;
        let flags = EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC;
        let eventfds = (0..3)
            .map(|_| EventFd::from_value_and_flags(0, flags).map_err(|e| format!("eventfd: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let dups = eventfds
            .iter()
            .map(|e| nix::unistd::dup(e).map_err(|e| format!("dup: {e}")))
            .collect::<Result<_, _>>()?;
        let pipe = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let file = std::fs::File::open(&exe).map_err(|e| format!("open {}: {e}", exe.display()))?;
        // Opened last, closed at once: no descriptor is created after it before the call.
        let closed = nix::unistd::dup(&eventfds[0])
            .map_err(|e| format!("dup: {e}"))?
            .as_raw_fd();
        Ok(Env {
            vm,
            eventfds,
            dups,
            pipe,
            file,
            closed,
        })
    }

    fn fd(&self, fd: Fd) -> RawFd {
        match fd {
            Fd::Event(i) => self.eventfds[i].as_raw_fd(),
            Fd::Dup(i) => self.dups[i].as_raw_fd(),
            Fd::Raw(n) => n,
            Fd::Closed => self.closed,
            Fd::Pipe => self.pipe.0.as_raw_fd(),
            Fd::File => self.file.as_raw_fd(),
            Fd::TheVm => self.vm.fd,
        }
    }

    fn ioctl(&self, e: &KvmIoeventfd) -> fixtures::raw::SysResult {
        ioeventfd(self.vm.k, self.vm.fd, e)
    }

    /// Resolve and call, judged against `expected`.
    fn check_call(
        &self,
        c: &mut Checker,
        what: &str,
        r: Reg,
        expected: impl Into<Expected>,
    ) -> Step<Outcome> {
        let e = r.resolve(self);
        c.call(what, &e, expected, self.ioctl(&e))
    }

    /// Each eventfd's counter (read, so it is reset), or EAGAIN when it was not signalled.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn counters(&self) -> Vec<Result<u64, Errno>> {
        self.eventfds.iter().map(|e| e.read()).collect()
    }
}

impl Fixture for Env {
    type Given = Reg;
    type Call = Reg;
    type Setup = ();

    fn open(_: &Arc<crate::rows::Host>, _: &CaseContext, _: &Row, _: &Expected) -> Step<Env> {
        Env::new().map_err(fixture_error)
    }

    fn given(&mut self, given: &[Reg], c: &mut Checker) -> Step<()> {
        for g in given {
            let e = g.resolve(self);
            c.setup(CALL, &e, self.ioctl(&e))?;
        }
        Ok(())
    }

    fn call(&mut self, call: &Reg, expected: Expected, c: &mut Checker) -> Step<()> {
        self.check_call(c, CALL, *call, expected).map(drop)
    }
}

type Row = crate::rows::Row<Env>;

#[track_caller]
fn row(id: impl Into<String>, call: Reg, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect)
}

const OK: Outcome = Outcome::OK;

fn any_length() -> Need {
    cap(KVM_CAP_IOEVENTFD_ANY_LENGTH, "KVM_CAP_IOEVENTFD_ANY_LENGTH")
}

/// What every case of this suite needs but the capability rows themselves: api.txt 4.56
/// "Capability: KVM_CAP_IOEVENTFD" (36; every architecture's check-extension list answers 1,
/// e.g. arch/x86/kvm/x86.c `case KVM_CAP_IOEVENTFD:`, arch/s390/kvm/kvm-s390.c). A kernel
/// without it skips each case with "needs KVM_CAP_IOEVENTFD; host reports 0" instead of failing
/// all of them; the one failure for that cause is `cap::ioeventfd_is_1`.
pub fn ioeventfd_cap() -> Need {
    cap(KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD")
}

const DOC_LEN0: &str =
    "api.txt 4.56 as seeded lists len 1, 2, 4 or 8; len 0 (any write length) came later with \
     KVM_CAP_IOEVENTFD_ANY_LENGTH (and KVM_CAP_IOEVENTFD_NO_LENGTH for MMIO on x86)";
const DOC_BIT4: &str = "api.txt 4.56 defines DATAMATCH, PIO and DEASSIGN (later VIRTIO_CCW_NOTIFY); the kernel's \
     valid mask is 0x1f, so bit 4 (kvm_ioeventfd_flag_nr_fast_mmio, no public macro) is accepted and ignored";
const DOC_CCW: &str =
    "VIRTIO_CCW_NOTIFY is not in the seeded api.txt 4.56 and is documented for s390; every \
     architecture accepts it (all buses exist everywhere)";
const DOC_COLLIDE: &str =
    "api.txt 4.56 does not say that an address can be registered once per length and \
     datamatch, whatever the eventfd (EEXIST)";
const DOC_DEASSIGN: &str =
    "api.txt 4.56 does not say that deassign validates nothing but the descriptor: \
     invalid len, undefined flags or an overflowing range just find no match (ENOENT)";

/// The whole table.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    let m4 = mmio(A, 4);
    let mut rows = vec![
        // ---- len: 1, 2, 4, 8 (and 0 with ANY_LENGTH) ----
        row("len::accepts_1", mmio(A, 1), OK).then(deassigns(mmio(A, 1))),
        row("len::accepts_2", mmio(A, 2), OK).then(deassigns(mmio(A, 2))),
        row("len::accepts_4", m4, OK).then(deassigns(m4)),
        row("len::accepts_8", mmio(A, 8), OK).then(deassigns(mmio(A, 8))),
        row("len::accepts_0_mmio", mmio(A, 0), OK).needs(&[any_length()]).doc(DOC_LEN0).then(deassigns(mmio(A, 0))),
        row("len::accepts_0_pio", pio(A, 0), OK).needs(&[any_length()]).doc(DOC_LEN0).then(deassigns(pio(A, 0))),
        row("len::rejects_0_pio_without_any_length", pio(A, 0), EINVAL).needs(&[Need::CapAbsent { cap: KVM_CAP_IOEVENTFD_ANY_LENGTH, name: "KVM_CAP_IOEVENTFD_ANY_LENGTH" }]),
        row("len::pio_accepts_1", pio(A, 1), OK),
        row("len::pio_accepts_8", pio(A, 8), OK),
        row("len::pio_rejects_3", pio(A, 3), EINVAL),
        // ---- flags: the documented ones, alone and combined ----
        row("flags::datamatch", m4.dm(1), OK).then(deassigns(m4.dm(1))),
        row("flags::pio", pio(A, 4), OK).then(deassigns(pio(A, 4))),
        row("flags::virtio_ccw_notify", m4.flags(CCW), OK).doc(DOC_CCW).then(deassigns(m4.flags(CCW))),
        row("flags::datamatch_pio", pio(A, 4).dm(1), OK),
        row("flags::datamatch_virtio_ccw_notify", m4.flags(CCW).dm(1), OK).doc(DOC_CCW),
        row("flags::pio_virtio_ccw_notify", m4.flags(PIO | CCW), OK).doc(DOC_CCW).then(deassigns(pio(A, 4))),
        row("flags::all_documented_but_deassign", m4.flags(PIO | CCW).dm(1), OK).doc(DOC_CCW),
        row("flags::bit_4_accepted", m4.flags(BIT4), OK).doc(DOC_BIT4).then(deassigns(m4)),
        row("flags::bit_4_with_every_documented_flag", m4.flags(BIT4 | PIO | CCW).dm(1), OK).doc(DOC_BIT4),
        row("flags::rejects_all_undefined_bits", m4.flags(!KVM_IOEVENTFD_VALID_FLAG_MASK), EINVAL),
        // ---- the range addr .. addr + len must not wrap ----
        row("bounds::highest_addr_len_8", mmio(u64::MAX - 8, 8), OK).then(deassigns(mmio(u64::MAX - 8, 8))),
        row("bounds::wraps_to_zero_len_8", mmio(u64::MAX - 7, 8), EINVAL),
        row("bounds::wraps_past_zero_len_8", mmio(u64::MAX - 3, 8), EINVAL),
        row("bounds::highest_addr_len_1", mmio(u64::MAX - 1, 1), OK),
        row("bounds::wraps_to_zero_len_1", mmio(u64::MAX, 1), EINVAL),
        row("bounds::pio_wraps", pio(u64::MAX - 1, 2), EINVAL),
        row("bounds::len_0_at_u64_max", mmio(u64::MAX, 0), OK).needs(&[any_length()]),
        row("bounds::pio_len_0_at_u64_max", pio(u64::MAX, 0), OK).needs(&[any_length()]),
        row("bounds::pio_port_above_0xffff", pio(0x1_0000, 1), OK).doc("api.txt 4.56 asks for a \"legal pio/mmio address\"; the kernel does not range-check PIO addresses"),
        row("bounds::datamatch_wider_than_len", mmio(A, 1).dm(0x1234_5678), OK).doc("a datamatch wider than len is accepted (it can never match a guest write)"),
        // ---- len 0 and DATAMATCH ----
        row("len0::datamatch_mmio", mmio(A, 0).dm(0), EINVAL),
        row("len0::datamatch_pio", pio(A, 0).dm(0), EINVAL),
        row("len0::mmio_assign_deassign_assign", mmio(A, 0), OK).needs(&[any_length()]).given(&[mmio(A, 0), mmio(A, 0).deassign()]).then(deassigns(mmio(A, 0))),
        row("len0::pio_assign_deassign_assign", pio(A, 0), OK).needs(&[any_length()]).given(&[pio(A, 0), pio(A, 0).deassign()]),
        // ---- fd ----
        row("fd::minus_one", m4.fd(Fd::Raw(-1)), EBADF),
        row("fd::closed", m4.fd(Fd::Closed), EBADF),
        row("fd::int_max", m4.fd(Fd::Raw(i32::MAX)), EBADF),
        row("fd::pipe", m4.fd(Fd::Pipe), EINVAL),
        row("fd::regular_file", m4.fd(Fd::File), EINVAL),
        row("fd::the_vm_fd", m4.fd(Fd::TheVm), EINVAL),
        row("fd::dup_of_eventfd", m4.fd(Fd::Dup(0)), OK).then(deassigns(m4)),
        row("fd::second_eventfd", m4.fd(Fd::Event(1)), OK).then(deassigns(m4.fd(Fd::Dup(1)))),
        // ---- check order: argument checks before the descriptor, the descriptor before collisions ----
        row("order::len_before_fd", mmio(A, 3).fd(Fd::Raw(-1)), EINVAL),
        row("order::overflow_before_fd", mmio(u64::MAX - 7, 8).fd(Fd::Raw(-1)), EINVAL),
        row("order::flags_before_fd", m4.flags(1 << 5).fd(Fd::Raw(-1)), EINVAL),
        row("order::len0_datamatch_before_fd", mmio(A, 0).dm(0).fd(Fd::Raw(-1)), EINVAL),
        row("order::fd_before_collision", m4.fd(Fd::Raw(-1)), EBADF).given(&[m4]),
        row("order::not_eventfd_before_collision", m4.fd(Fd::Pipe), EINVAL).given(&[m4]),
        // ---- collisions: same bus, address and length with a wildcard or equal datamatch ----
        row("collide::same_registration", m4, EEXIST).given(&[m4]).doc(DOC_COLLIDE),
        row("collide::other_eventfd", m4.fd(Fd::Event(1)), EEXIST).given(&[m4]).doc(DOC_COLLIDE).then(deassigns(m4)),
        row("collide::datamatch_over_wildcard", m4.dm(7).fd(Fd::Event(1)), EEXIST).given(&[m4]),
        row("collide::wildcard_over_datamatch", m4.fd(Fd::Event(1)), EEXIST).given(&[m4.dm(7)]),
        row("collide::equal_datamatch", m4.dm(7).fd(Fd::Event(1)), EEXIST).given(&[m4.dm(7)]),
        row("collide::pio_equal_datamatch", pio(A, 2).dm(7).fd(Fd::Event(1)), EEXIST).given(&[pio(A, 2).dm(7)]),
        row("collide::different_datamatch", m4.dm(8).fd(Fd::Event(1)), OK).given(&[m4.dm(7)]).then(deassigns(m4.dm(7))),
        row("collide::datamatch_differs_above_len", mmio(A, 1).dm(0x101), OK).given(&[mmio(A, 1).dm(0x1)]),
        row("collide::different_length", mmio(A, 2), OK).given(&[m4]).then(deassigns(m4)),
        row("collide::overlapping_address", mmio(A + 2, 4), OK).given(&[m4]),
        row("collide::pio_over_mmio", pio(A, 4), OK).given(&[m4]),
        row("collide::mmio_over_pio", m4, OK).given(&[pio(A, 4)]),
        row("collide::ccw_over_mmio", m4.flags(CCW), OK).given(&[m4]),
        row("collide::ccw_over_pio", m4.flags(CCW), OK).given(&[pio(A, 4)]),
        row("collide::pio_ccw_is_the_pio_bus", m4.flags(PIO | CCW).fd(Fd::Event(1)), EEXIST).given(&[pio(A, 4)]),
        row("collide::pio_ccw_not_the_ccw_bus", m4.flags(PIO | CCW), OK).given(&[m4.flags(CCW)]),
        row("collide::bit_4_same_registration", m4.flags(BIT4).fd(Fd::Event(1)), EEXIST).given(&[m4]).doc(DOC_BIT4),
        row("collide::len0_over_len4", mmio(A, 0).fd(Fd::Event(1)), EEXIST).needs(&[any_length()]).given(&[m4]),
        row("collide::len4_over_len0", m4.fd(Fd::Event(1)), EEXIST).needs(&[any_length()]).given(&[mmio(A, 0)]),
        row("collide::len8_datamatch_over_len0", mmio(A, 8).dm(3), EEXIST).needs(&[any_length()]).given(&[mmio(A, 0)]),
        row("collide::len0_over_datamatch", mmio(A, 0).fd(Fd::Event(1)), EEXIST).needs(&[any_length()]).given(&[m4.dm(7)]),
        row("collide::len0_over_len0", mmio(A, 0).fd(Fd::Event(1)), EEXIST).needs(&[any_length()]).given(&[mmio(A, 0)]),
        row("collide::pio_len0_over_len1", pio(A, 0), EEXIST).needs(&[any_length()]).given(&[pio(A, 1)]),
        row("collide::pio_len1_over_len0", pio(A, 1), EEXIST).needs(&[any_length()]).given(&[pio(A, 0)]),
        row("collide::len0_other_address", mmio(A + 1, 0), OK).needs(&[any_length()]).given(&[m4]),
        row("collide::len0_other_bus", pio(A, 0), OK).needs(&[any_length()]).given(&[mmio(A, 0)]),
        // ---- deassign: an exact match of bus, eventfd, address, length, wildcard, datamatch ----
        row("deassign::exact", m4.deassign(), OK).given(&[m4]).then(gone(m4)),
        row("deassign::exact_datamatch", m4.dm(7).deassign(), OK).given(&[m4.dm(7)]).then(gone(m4.dm(7))),
        row("deassign::exact_pio", pio(A, 2).deassign(), OK).given(&[pio(A, 2)]).then(gone(pio(A, 2))),
        row("deassign::exact_virtio_ccw_notify", m4.flags(CCW).deassign(), OK).given(&[m4.flags(CCW)]),
        row("deassign::exact_len0_pio", pio(A, 0).deassign(), OK).needs(&[any_length()]).given(&[pio(A, 0)]).then(gone(pio(A, 0))),
        row("deassign::exact_len0_mmio", mmio(A, 0).deassign(), OK).needs(&[any_length()]).given(&[mmio(A, 0)]).then(gone(mmio(A, 0))),
        row("deassign::nothing_registered", m4.deassign(), ENOENT),
        row("deassign::twice", m4.deassign(), ENOENT).given(&[m4, m4.deassign()]),
        row("deassign::through_a_dup", m4.fd(Fd::Dup(0)).deassign(), OK).given(&[m4]).then(gone(m4)),
        row("deassign::registered_through_a_dup", m4.deassign(), OK).given(&[m4.fd(Fd::Dup(0))]),
        row("deassign::other_eventfd", m4.fd(Fd::Event(1)).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::other_address", m4.addr(A + 4).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::other_length", m4.len(2).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::len0_for_len4", m4.len(0).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::other_bus_pio", m4.flags(PIO).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::other_bus_ccw", m4.flags(CCW).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::mmio_for_pio", pio(A, 4).without(PIO).deassign(), ENOENT).given(&[pio(A, 4)]).then(deassigns(pio(A, 4))),
        row("deassign::datamatch_for_wildcard", m4.dm(0).deassign(), ENOENT).given(&[m4]).then(deassigns(m4)),
        row("deassign::wildcard_for_datamatch", m4.deassign(), ENOENT).given(&[m4.dm(0)]).then(deassigns(m4.dm(0))),
        row("deassign::other_datamatch", m4.dm(8).deassign(), ENOENT).given(&[m4.dm(7)]).then(deassigns(m4.dm(7))),
        row("deassign::wildcard_ignores_datamatch_field", m4.datamatch_field(99).deassign(), OK).given(&[m4]).then(gone(m4)),
        row("deassign::bit_4_ignored", m4.flags(BIT4).deassign(), OK).given(&[m4]).doc(DOC_BIT4),
        // ... and validates nothing but the descriptor
        row("deassign::len_3_no_validation", mmio(A, 3).deassign(), ENOENT).doc(DOC_DEASSIGN),
        row("deassign::undefined_flag_bit_5_no_validation", m4.flags(1 << 5).deassign(), ENOENT).doc(DOC_DEASSIGN),
        row("deassign::all_flag_bits_no_validation", m4.flags(u32::MAX), ENOENT).doc(DOC_DEASSIGN),
        row("deassign::undefined_flag_bit_5_still_matches", m4.flags(1 << 5).deassign(), OK).given(&[m4]).doc(DOC_DEASSIGN).then(gone(m4)),
        row("deassign::overflow_no_validation", mmio(u64::MAX - 7, 8).deassign(), ENOENT).doc(DOC_DEASSIGN),
        row("deassign::len0_datamatch_no_validation", mmio(A, 0).dm(0).deassign(), ENOENT).doc(DOC_DEASSIGN),
        row("deassign::fd_minus_one", m4.fd(Fd::Raw(-1)).deassign(), EBADF).given(&[m4]).then(deassigns(m4)),
        row("deassign::fd_closed", m4.fd(Fd::Closed).deassign(), EBADF),
        row("deassign::fd_pipe", m4.fd(Fd::Pipe).deassign(), EINVAL).given(&[m4]),
        // ---- pad is never read ----
        row("pad::nonzero_accepted", m4.pad(0xff), OK).then(deassigns(m4)),
        row("pad::nonzero_on_deassign", m4.pad(0xa5).deassign(), OK).given(&[m4]).then(gone(m4)),
    ];
    for bit in 5..32 {
        rows.push(row(format!("flags::rejects_bit_{bit}"), m4.flags(1 << bit), EINVAL));
    }
    for len in [3, 5, 6, 7, 9, 16, 0xffff_ffff] {
        let name = if len < 0x100 {
            len.to_string()
        } else {
            format!("{len:#x}")
        };
        rows.push(row(format!("len::rejects_{name}"), mmio(A, len), EINVAL));
    }
    rows.extend(guest_rows());
    rows.push(Row::check("bus::more_than_nr_iobus_devs_on_one_bus", more_than_nr_iobus_devs));
    // Every case needs the capability (listed first: after the architecture it decides).
    for r in &mut rows {
        r.needs.insert(0, ioeventfd_cap());
    }
    // ... but the rows that read it: the one failure on a kernel without it.
    rows.push(Row::check("cap::ioeventfd_is_1", |env, c| capability_is(c, &env.vm, KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", 1)));
    rows
}

/// `NR_IOBUS_DEVS` (1000, include/linux/kvm_host.h) bounds the devices on one I/O bus, but
/// ioeventfds are not counted (kernel-semantics.md §7.2 step 9; kvm_io_bus_register_dev:
/// `bus->dev_count - bus->ioeventfd_count > NR_IOBUS_DEVS - 1` is -ENOSPC): one more than
/// 1000 registrations on the PIO bus all succeed, and the last one is really there.
const MANY: u64 = NR_IOBUS_DEVS + 1;
const NR_IOBUS_DEVS: u64 = 1000;

fn more_than_nr_iobus_devs(env: &Env, c: &mut Checker) -> Step<()> {
    let at = |i: u64| pio(0x4000 + i, 1);
    for i in 0..MANY {
        let e = at(i).resolve(env);
        let r = env.ioctl(&e);
        if r != Ok(0) {
            c.call(
                &format!("registration {} of {MANY} on the PIO bus (ioeventfds do not count against NR_IOBUS_DEVS = {NR_IOBUS_DEVS})", i + 1),
                &e,
                OK,
                r,
            )?;
        }
    }
    c.note(format!(
        "{MANY} ioeventfds registered on the PIO bus, one more than NR_IOBUS_DEVS ({NR_IOBUS_DEVS})"
    ));
    env.check_call(
        c,
        "deassign of the last registration (succeeds only if it is there)",
        at(MANY - 1).deassign(),
        OK,
    )
    .map(drop)
}

// ---- checks after the call ----

/// `r` is registered exactly like that: its deassign succeeds.
fn deassigns(r: Reg) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        env.check_call(
            c,
            "deassign of the registration (succeeds only if it is there)",
            r.deassign(),
            OK,
        )
        .map(drop)
    }
}

/// `r` is no longer registered: a second deassign finds nothing and it can be assigned again.
fn gone(r: Reg) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        env.check_call(
            c,
            "deassign again (nothing left to match)",
            r.deassign(),
            ENOENT,
        )?;
        env.check_call(
            c,
            "assign again (no collision with what was removed)",
            r,
            OK,
        )
        .map(drop)
    }
}

/// The case definitions for the harness.
pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::cases(SUITE, SEED, rows());
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &[ioeventfd_cap()], &[("", KVM_IOEVENTFD, Target::Vm)]);
    cases.extend(bad_arguments);
    cases.push(PROPERTY.case(SEED, &[ioeventfd_cap(), any_length()], property));
    // peers.md R8: a vCPU keeps writing to an ioeventfd port while the host deassigns and
    // re-assigns it and reloads a memslot; a hang ends in the case timeout. Slow: --ignored.
    let needs = [Need::Arch("x86_64"), ioeventfd_cap(), Need::Live];
    #[rustfmt::skip]
    let stress = CaseDef::new("stress::toggle_while_guest_writes_and_memslots_reload", SEED, &needs, |_, _| stress::toggle_while_guest_writes());
    cases.push(case(SUITE, stress.ignored()));
    cases
}

// ---- the property: random sequences against the reference model ----

// Every successful assign or deassign waits for an SRCU grace period (about 4 ms here), so 48
// sequences of up to 24 steps take well under a second; each gets a fresh VM (0.1-0.8 ms).
const PROPERTY: Property = Property::new(SUITE, "assign_deassign_model", model::STREAM, 48);
const MAX_STEPS: usize = 24;

fn property(_host: &Arc<crate::rows::Host>, ctx: &CaseContext, p: &Property) -> Step<CaseReport> {
    let start = || Ok((KernelSystem::new()?, Model::default()));
    let result = fixtures::models::check(&p.config(ctx), &model::sequences(MAX_STEPS), start);
    let fixture = format!(
        "each input on a fresh VM with eventfds 0, 1, 2 and descriptor 3 = dup of eventfd 0 ({} descriptors); the model is kernel-semantics.md §7",
        model::DESCRIPTORS
    );
    p.report(ctx, vec![fixture], result)
}

// ---- guest programs (live x86_64): what a guest write does ----

/// The port of the PIO rows and the MMIO address of the MMIO rows (no memslot there).
const PORT: u16 = 0x500;
const MMIO_SEG: u16 = 0x2000;
const MMIO_OFF: u16 = 0x100;
const MMIO_GPA: u64 = ((MMIO_SEG as u64) << 4) + MMIO_OFF as u64;

/// A guest write: PIO (`out dx, al/ax/eax`) or an MMIO store, `off` bytes past the base.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // read by the x86_64 guest programs only
#[derive(Debug, Clone, Copy)]
pub enum W {
    Pio { off: u16, len: u32, value: u64 },
    Mmio { off: u16, len: u32, value: u64 },
}

/// What the write must do.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // read by the x86_64 guest programs only
#[derive(Debug, Clone, Copy)]
pub enum Effect {
    /// Signal eventfd i once (and no other), without an exit to userspace.
    Signals(usize),
    /// Exit to userspace as KVM_EXIT_IO / KVM_EXIT_MMIO, signalling nothing.
    Exits,
}

/// One step of a guest scenario.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // read by the x86_64 guest programs only
#[derive(Debug, Clone, Copy)]
pub enum Act {
    Write(W, Effect),
    /// A KVM_IOEVENTFD call between writes, with its expected outcome.
    Call(Reg, Outcome),
}

fn pio_w(len: u32, value: u64) -> W {
    W::Pio { off: 0, len, value }
}
fn mmio_w(len: u32, value: u64) -> W {
    W::Mmio { off: 0, len, value }
}

/// A guest row: `call` registers, then the guest's writes and the calls between them.
#[track_caller]
fn g(id: &str, call: Reg, acts: Vec<Act>) -> Row {
    row(format!("guest::{id}"), call, OK)
        .needs(&[Need::Arch("x86_64"), Need::Live])
        .then(guest::scenario(acts))
}

#[rustfmt::skip]
fn guest_rows() -> Vec<Row> {
    use Act::{Call, Write};
    use Effect::{Exits, Signals};
    let p = |len| pio(PORT as u64, len);
    let m = |len| mmio(MMIO_GPA, len);
    vec![
        g("pio_1_signals_without_exit", p(1), vec![Write(pio_w(1, 0x5a), Signals(0))]),
        g("pio_2_signals_without_exit", p(2), vec![Write(pio_w(2, 0x5a5a), Signals(0))]),
        g("pio_4_signals_without_exit", p(4), vec![Write(pio_w(4, 0x5a5a_5a5a), Signals(0))]),
        g("mmio_1_signals_without_exit", m(1), vec![Write(mmio_w(1, 0x5a), Signals(0))]),
        g("mmio_2_signals_without_exit", m(2), vec![Write(mmio_w(2, 0x5a5a), Signals(0))]),
        g("mmio_4_signals_without_exit", m(4), vec![Write(mmio_w(4, 0x5a5a_5a5a), Signals(0))]),
        g("mmio_8_signals_without_exit", m(8), vec![Write(mmio_w(8, 0x5a5a_5a5a_5a5a_5a5a), Signals(0))]),
        g("every_write_signals", p(1), vec![Write(pio_w(1, 1), Signals(0)), Write(pio_w(1, 2), Signals(0))]),
        g("pio_unregistered_port_exits", p(1), vec![Write(W::Pio { off: 1, len: 1, value: 1 }, Exits)]),
        g("mmio_inside_registration_exits", m(4), vec![Write(W::Mmio { off: 1, len: 1, value: 1 }, Exits)]),
        g("pio_datamatch_match_signals", p(2).dm(0x1234), vec![Write(pio_w(2, 0x1234), Signals(0))]),
        g("pio_datamatch_mismatch_exits", p(2).dm(0x1234), vec![Write(pio_w(2, 0x1235), Exits), Write(pio_w(2, 0x1234), Signals(0))]),
        g("mmio_datamatch_match_signals", m(4).dm(0xdead_beef), vec![Write(mmio_w(4, 0xdead_beef), Signals(0))]),
        g("mmio_datamatch_mismatch_exits", m(4).dm(0xdead_beef), vec![Write(mmio_w(4, 0xdead_beee), Exits)]),
        g("mmio_datamatch_8_bytes_compares_all_bytes", m(8).dm(0x1122_3344_5566_7788), vec![Write(mmio_w(8, 0x1122_3344_5566_7788), Signals(0)), Write(mmio_w(8, 0x1122_3345_5566_7788), Exits)]),
        g("datamatch_wider_than_len_never_matches", p(1).dm(0x100), vec![Write(pio_w(1, 0), Exits), Write(pio_w(1, 0xff), Exits)]),
        g("datamatch_routes_to_its_eventfd", p(1).dm(2).fd(Fd::Event(1)), vec![Call(p(1).dm(1), OK), Write(pio_w(1, 2), Signals(1)), Write(pio_w(1, 1), Signals(0)), Write(pio_w(1, 3), Exits)]),
        g("pio_other_length_exits", p(2), vec![Write(pio_w(1, 0x12), Exits), Write(pio_w(4, 0x12), Exits), Write(pio_w(2, 0x12), Signals(0))]),
        g("mmio_other_length_exits", m(4), vec![Write(mmio_w(2, 0x12), Exits), Write(mmio_w(8, 0x12), Exits), Write(mmio_w(1, 0x12), Exits)]),
        g("pio_after_deassign_exits", p(1), vec![Write(pio_w(1, 7), Signals(0)), Call(p(1).deassign(), OK), Write(pio_w(1, 7), Exits)]),
        g("mmio_after_deassign_exits", m(4), vec![Write(mmio_w(4, 7), Signals(0)), Call(m(4).deassign(), OK), Write(mmio_w(4, 7), Exits)]),
        g("pio_len0_fires_for_every_length", p(0), vec![Write(pio_w(1, 1), Signals(0)), Write(pio_w(2, 2), Signals(0)), Write(pio_w(4, 3), Signals(0))]).needs(&[any_length()]),
        g("mmio_len0_fires_for_every_length", m(0), vec![Write(mmio_w(1, 1), Signals(0)), Write(mmio_w(2, 2), Signals(0)), Write(mmio_w(4, 3), Signals(0)), Write(mmio_w(8, 4), Signals(0))]).needs(&[any_length()]),
        g("mmio_len0_after_deassign_exits", m(0), vec![Write(mmio_w(4, 1), Signals(0)), Call(m(0).deassign(), OK), Write(mmio_w(4, 1), Exits), Call(m(0), OK), Write(mmio_w(2, 1), Signals(0))]).needs(&[any_length()]),
        g("registered_through_a_dup_signals_the_eventfd", p(1).fd(Fd::Dup(0)), vec![Write(pio_w(1, 1), Signals(0))]),
        g("virtio_ccw_notify_not_hit_by_mmio", m(4).flags(CCW), vec![Write(mmio_w(4, 1), Exits)]),
        g("pio_registration_not_hit_by_mmio", pio(MMIO_GPA, 4), vec![Write(mmio_w(4, 1), Exits)]),
        g("pad_ignored_for_signalling", p(1).pad(0xff), vec![Write(pio_w(1, 1), Signals(0))]),
        // ---- range ends: the address must be exact (ioeventfd_in_range: `addr != p->addr`) ----
        g("mmio_range_ends", mmio(MMIO_GPA + 8, 4), vec![Write(mw(12, 4, 1), Exits), Write(mw(4, 4, 1), Exits), Write(mw(7, 4, 1), Exits), Write(mw(9, 4, 1), Exits), Write(mw(8, 4, 1), Signals(0))]),
        g("pio_range_ends", pio(PORT as u64 + 8, 2), vec![Write(pw(10, 2, 1), Exits), Write(pw(6, 2, 1), Exits), Write(pw(7, 2, 1), Exits), Write(pw(9, 2, 1), Exits), Write(pw(8, 2, 1), Signals(0))]),
        g("mmio_len0_range_ends", mmio(MMIO_GPA + 8, 0), vec![Write(mw(9, 1, 1), Exits), Write(mw(7, 1, 1), Exits), Write(mw(7, 2, 1), Exits), Write(mw(8, 1, 1), Signals(0))]).needs(&[any_length()]),
        g("pio_len0_range_ends", pio(PORT as u64 + 8, 0), vec![Write(pw(9, 1, 1), Exits), Write(pw(7, 1, 1), Exits), Write(pw(7, 2, 1), Exits), Write(pw(8, 1, 1), Signals(0))]).needs(&[any_length()]),
    ]
    .into_iter()
    .chain(datamatch_byte_rows())
    .collect()
}

/// A write at `off` bytes past the MMIO base / the port.
fn mw(off: u16, len: u32, value: u64) -> W {
    W::Mmio { off, len, value }
}
fn pw(off: u16, len: u32, value: u64) -> W {
    W::Pio { off, len, value }
}

/// The registered datamatch value of the byte rows, cut to the width: every byte non-zero and
/// different, so a compare that drops or mixes up any byte is seen.
const DM_VALUE: u64 = 0x1122_3344_5566_7788;

/// For every width (MMIO 1, 2, 4, 8; PIO 1, 2, 4: `out` has no 8-byte form) a write that
/// differs from the registered datamatch only in the highest byte of the width (its top bit),
/// and one that differs only in the lowest byte (its bit 0), exit to userspace; the exact value
/// signals. ioeventfd_in_range reads exactly `len` bytes (get_unaligned of u8/u16/u32/u64) and
/// compares them with the datamatch: a kernel comparing fewer bytes (or a sign-extended value)
/// signals for the first write, one comparing from the wrong end for the second.
#[rustfmt::skip]
fn datamatch_byte_rows() -> Vec<Row> {
    use Act::Write;
    use Effect::{Exits, Signals};
    let mut rows = Vec::new();
    for (bus, widths) in [("mmio", &[1u32, 2, 4, 8][..]), ("pio", &[1, 2, 4][..])] {
        for &w in widths {
            let bits = 8 * w;
            let v = if w == 8 { DM_VALUE } else { DM_VALUE & ((1 << bits) - 1) };
            let highest = v ^ (0x80 << (bits - 8));
            let lowest = v ^ 1;
            let (reg, write): (Reg, fn(u32, u64) -> W) = match bus {
                "mmio" => (mmio(MMIO_GPA, w), mmio_w),
                _ => (pio(PORT as u64, w), pio_w),
            };
            rows.push(g(&format!("{bus}_datamatch_{w}_differs_only_in_highest_or_lowest_byte_exits"), reg.dm(v), vec![Write(write(w, highest), Exits), Write(write(w, lowest), Exits), Write(write(w, v), Signals(0))]));
        }
    }
    rows
}

#[cfg(target_arch = "x86_64")]
mod guest {
    use super::*;
    use fixtures::guest_x86::{Exit, Guest, Program};

    fn bytes(value: u64, len: u32) -> Vec<u8> {
        value.to_le_bytes()[..len as usize].to_vec()
    }

    /// The instructions of one write.
    fn emit(p: Program, w: W) -> Program {
        match w {
            W::Pio { off, len, value } => {
                let p = p.set_dx(PORT + off);
                match len {
                    1 => p.set_al(value as u8).out_dx_al(),
                    2 => p.set_ax(value as u16).out_dx_ax(),
                    _ => p.set_eax(value as u32).out_dx_eax(),
                }
            }
            W::Mmio { off, len, value } => {
                let at = MMIO_OFF + off;
                let p = p.set_ds(MMIO_SEG);
                match len {
                    1 => p.set_al(value as u8).store_al(at),
                    2 => p.set_ax(value as u16).store_ax(at),
                    4 => p.set_eax(value as u32).store_eax(at),
                    _ => p.store_qword(at, value),
                }
            }
        }
    }

    /// The exit a write makes when nothing handles it in the kernel.
    fn exit_of(w: W) -> Exit {
        match w {
            W::Pio { off, len, value } => Exit::IoOut(PORT + off, bytes(value, len)),
            W::Mmio { off, len, value } => {
                Exit::MmioWrite(MMIO_GPA + u64::from(off), bytes(value, len))
            }
        }
    }

    /// Run the writes (each followed by `hlt`) with the calls in between, checking after each
    /// write how the guest stopped and exactly which eventfd counters moved.
    pub fn scenario(acts: Vec<Act>) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
        move |env, c| {
            let mut p = Program::default();
            for a in &acts {
                if let Act::Write(w, _) = a {
                    p = emit(p, *w).hlt();
                }
            }
            let mut g = Guest::new(&env.vm, &p).map_err(fixture_error)?;
            for (i, a) in acts.iter().enumerate() {
                match *a {
                    Act::Call(r, want) => {
                        env.check_call(
                            c,
                            &format!("step {}: KVM_IOEVENTFD between guest writes", i + 1),
                            r,
                            want,
                        )?;
                    }
                    Act::Write(w, effect) => {
                        let exit = g.run();
                        let counters = env.counters();
                        let fmt = |v: &[Result<u64, Errno>]| {
                            v.iter()
                                .enumerate()
                                .map(|(i, r)| match r {
                                    Ok(n) => format!("eventfd {i}: {n}"),
                                    Err(e) => format!("eventfd {i}: {e:?}"),
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        let quiet = |i: usize, r: &Result<u64, Errno>| {
                            *r == Err(Errno::EAGAIN)
                                || (Some(i) == signalled(effect) && *r == Ok(1))
                        };
                        match effect {
                            Effect::Signals(n) => {
                                c.ensure(exit == Exit::Hlt, || {
                                    format!("step {}: guest write {w:?}: exit {exit:?}, expected none (the guest goes on to hlt) because an ioeventfd handles it", i + 1)
                                })?;
                                c.ensure(counters[n] == Ok(1) && counters.iter().enumerate().all(|(i, r)| quiet(i, r)), || {
                                    format!("step {}: guest write {w:?}: {}; expected eventfd {n}: 1 and the others EAGAIN (not signalled)", i + 1, fmt(&counters))
                                })?;
                            }
                            Effect::Exits => {
                                let want = exit_of(w);
                                c.ensure(exit == want, || {
                                    format!("step {}: guest write {w:?}: exit {exit:?}, expected {want:?} (no ioeventfd matches)", i + 1)
                                })?;
                                c.ensure(
                                    counters.iter().all(|r| *r == Err(Errno::EAGAIN)),
                                    || {
                                        format!(
                                            "step {}: guest write {w:?} exited but signalled: {}",
                                            i + 1,
                                            fmt(&counters)
                                        )
                                    },
                                )?;
                                let next = g.run();
                                c.ensure(next == Exit::Hlt, || format!("step {}: after the exit the guest stopped with {next:?}, expected hlt", i + 1))?;
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    fn signalled(e: Effect) -> Option<usize> {
        match e {
            Effect::Signals(n) => Some(n),
            Effect::Exits => None,
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod stress {
    use super::*;
    use fixtures::guest_x86::{Exit, Guest, Program};
    use fixtures::memory::GuestMemory;
    use fixtures::raw::ioctl::set_user_memory_region;
    use std::sync::atomic::{AtomicBool, Ordering};

    const PORT: u16 = 0x60;
    const ROUNDS: usize = 64;

    pub fn toggle_while_guest_writes() -> Step<CaseReport> {
        let vm = Vm::new().map_err(fixture_error)?;
        let efd = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(fixture_error)?;
        let reg = KvmIoeventfd {
            addr: u64::from(PORT),
            len: 1,
            fd: efd.as_raw_fd(),
            flags: KVM_IOEVENTFD_FLAG_PIO,
            ..Default::default()
        };
        let dereg = KvmIoeventfd {
            flags: reg.flags | KVM_IOEVENTFD_FLAG_DEASSIGN,
            ..reg
        };
        let mut c = Checker::new();
        c.setup("KVM_IOEVENTFD assign", &reg, ioeventfd(vm.k, vm.fd, &reg))?;
        // mov dx, PORT; mov al, 1; again: out dx, al; jmp again
        let mut program = Program::default().set_dx(PORT).set_al(1).out_dx_al();
        program.0.extend_from_slice(&[0xeb, 0xfd]);
        let mut guest = Guest::new(&vm, &program).map_err(fixture_error)?;
        let stop = AtomicBool::new(false);
        let backing = GuestMemory::new(4096).map_err(fixture_error)?;
        std::thread::scope(|scope| -> Step<()> {
            let vcpu = scope.spawn(|| {
                // Exits happen only while the port is not registered.
                let mut exits = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    match guest.run() {
                        Exit::IoOut(PORT, _) => exits += 1,
                        other => return Err(format!("unexpected guest exit {other:?}")),
                    }
                }
                Ok(exits)
            });
            let mut result = Ok(());
            for round in 0..ROUNDS {
                let slot = KvmUserspaceMemoryRegion {
                    slot: 7,
                    flags: 0,
                    guest_phys_addr: 0x10_0000,
                    memory_size: if round % 2 == 0 { 4096 } else { 0 },
                    userspace_addr: backing.addr(),
                };
                let steps = [
                    c.call(
                        "KVM_IOEVENTFD deassign",
                        &dereg,
                        OK,
                        ioeventfd(vm.k, vm.fd, &dereg),
                    ),
                    c.call(
                        "memslot create/delete",
                        &slot,
                        OK,
                        set_user_memory_region(vm.k, vm.fd, &slot),
                    ),
                    c.call(
                        "KVM_IOEVENTFD assign again",
                        &reg,
                        OK,
                        ioeventfd(vm.k, vm.fd, &reg),
                    ),
                ];
                if let Some(Err(e)) = steps.into_iter().find(|s| s.is_err()) {
                    result = Err(e);
                    break;
                }
            }
            // Let the guest exit once more so the vCPU thread sees the stop flag.
            stop.store(true, Ordering::SeqCst);
            let _ = ioeventfd(vm.k, vm.fd, &dereg);
            let exits = vcpu
                .join()
                .map_err(|_| CaseReport::error("the vCPU thread panicked"))?;
            result?;
            let exits = exits.map_err(CaseReport::fail)?;
            let signals = efd.read().unwrap_or(0);
            c.ensure(signals > 0, || {
                "the guest's writes never signalled the eventfd".into()
            })?;
            c.note(format!(
                "{ROUNDS} rounds: {signals} eventfd signals, {exits} exits to userspace"
            ));
            Ok(())
        })?;
        c.pass()
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod stress {
    use super::*;
    pub fn toggle_while_guest_writes() -> Step<CaseReport> {
        Err(CaseReport::skip(
            "guest programs are implemented for x86_64 only",
        ))
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod guest {
    //! Guest programs exist for x86_64 only; these rows need Arch("x86_64") and never run here.
    use super::*;
    pub fn scenario(_acts: Vec<Act>) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
        |_, _| {
            Err(CaseReport::skip(
                "guest programs are implemented for x86_64 only",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_lowercase() {
        let rows = rows();
        let mut seen = HashSet::new();
        for r in &rows {
            assert!(seen.insert(r.id.clone()), "duplicate id {}", r.id);
            assert_eq!(r.id, r.id.to_lowercase(), "{}", r.id);
            assert!(r.id.contains("::"), "{}", r.id);
        }
        assert!(seen.insert(PROPERTY.id()));
    }

    /// The simulated kernel, but x86_64 and "live" (so the guest rows' other needs hold) and
    /// with KVM_CAP_IOEVENTFD read as `ioeventfd_cap`: a host fact for the needs check only.
    struct Facts {
        sim: fixtures::sim::SimKernel,
        ioeventfd_cap: i64,
    }

    impl fixtures::raw::Kernel for Facts {
        fn backend(&self) -> fixtures::raw::Backend {
            fixtures::raw::Backend::Live
        }
        fn release(&self) -> String {
            "facts".into()
        }
        fn arch(&self) -> &'static str {
            "x86_64"
        }
        fn open_kvm(&self) -> Result<RawFd, Errno> {
            self.sim.open_kvm()
        }
        fn ioctl(&self, fd: RawFd, request: u64, arg: u64) -> fixtures::raw::SysResult {
            use fixtures::raw::ioctl::KVM_CHECK_EXTENSION;
            match (request, arg) {
                (KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) => Ok(self.ioeventfd_cap),
                (KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH | KVM_CAP_READONLY_MEM) => Ok(1),
                _ => self.sim.ioctl(fd, request, arg),
            }
        }
        fn close(&self, fd: RawFd) {
            self.sim.close(fd)
        }
    }

    fn host(ioeventfd_cap: i64) -> crate::rows::Host {
        let k: &'static Facts = Box::leak(Box::new(Facts {
            sim: fixtures::sim::SimKernel::new(Default::default(), None),
            ioeventfd_cap,
        }));
        let sys = fixtures::host::open_kvm(k).unwrap();
        crate::rows::Host { k, sys }
    }

    /// The first unmet need as `rows::case` checks them: the architecture first.
    fn skip_reason(r: &Row, host: &crate::rows::Host) -> Option<String> {
        let arch = r
            .needs
            .iter()
            .filter(|n| matches!(n, Need::Arch(_) | Need::NotArch(_)));
        let rest = r
            .needs
            .iter()
            .filter(|n| !matches!(n, Need::Arch(_) | Need::NotArch(_)));
        arch.chain(rest).find_map(|n| n.unmet(host))
    }

    #[test]
    fn without_kvm_cap_ioeventfd_every_row_but_the_capability_row_skips() {
        let without = host(0);
        for r in rows() {
            let reason = skip_reason(&r, &without);
            if r.id == "cap::ioeventfd_is_1" {
                assert_eq!(reason, None, "the capability row runs (and fails) there");
            } else {
                assert_eq!(
                    reason.as_deref(),
                    Some("needs KVM_CAP_IOEVENTFD; host reports 0"),
                    "{}",
                    r.id
                );
            }
        }
        // The control: with the capability, no row skips for it (the reason above comes from
        // the capability, not from something else these host facts lack).
        let with = host(1);
        for r in rows() {
            let reason = skip_reason(&r, &with);
            assert!(
                !reason
                    .as_deref()
                    .unwrap_or("")
                    .contains("KVM_CAP_IOEVENTFD;"),
                "{}: {reason:?}",
                r.id
            );
        }
    }

    /// The guest checks are live-only (the simulated kernel runs no guest), so the byte and
    /// range rows are proven here on this host's kernel: each row passes as written, and with
    /// the nearest wrong kernel's answer as a deliberately wrong expectation (the mismatching
    /// write signals) it fails at that write. Without usable KVM this does nothing.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn datamatch_byte_and_range_rows_fail_on_the_nearest_wrong_answer() {
        if Env::new().is_err() {
            eprintln!("skipped: no usable KVM");
            return;
        }
        let run = |r: &Row, acts: Vec<Act>| -> Result<(), String> {
            let mut env = Env::new().unwrap();
            let mut c = Checker::new();
            let crate::rows::Act::Call(call) = &r.act else {
                unreachable!()
            };
            env.call(call, Expected::ok(), &mut c).unwrap();
            guest::scenario(acts)(&env, &mut c).map_err(|r| r.summary)
        };
        let rows: Vec<Row> = rows()
            .into_iter()
            .filter(|r| {
                r.id.contains("_differs_only_in_highest_or_lowest_byte_exits")
                    || r.id.ends_with("range_ends")
            })
            .collect();
        assert_eq!(rows.len(), 7 + 4);
        for r in &rows {
            // The row as written (its check is the scenario its `then` runs).
            let mut env = Env::new().unwrap();
            let mut c = Checker::new();
            let crate::rows::Act::Call(call) = &r.act else {
                unreachable!()
            };
            env.call(call, Expected::ok(), &mut c).unwrap();
            assert!(r.then.as_ref().unwrap()(&env, &mut c).is_ok(), "{}", r.id);
        }
        // The wrong expectations: each mismatching write signals (the nearest wrong kernel).
        for (bus, w) in [
            ("mmio", 1),
            ("mmio", 2),
            ("mmio", 4),
            ("mmio", 8),
            ("pio", 1),
            ("pio", 2),
            ("pio", 4),
        ] {
            let id =
                format!("guest::{bus}_datamatch_{w}_differs_only_in_highest_or_lowest_byte_exits");
            let r = rows.iter().find(|r| r.id == id).unwrap();
            let bits = 8 * w;
            let v = if w == 8 {
                DM_VALUE
            } else {
                DM_VALUE & ((1 << bits) - 1)
            };
            let write = |x| {
                if bus == "mmio" {
                    mmio_w(w, x)
                } else {
                    pio_w(w, x)
                }
            };
            for (what, wrong) in [("highest", v ^ (0x80 << (bits - 8))), ("lowest", v ^ 1)] {
                let e = run(r, vec![Act::Write(write(wrong), Effect::Signals(0))])
                    .expect_err(&format!("{id}: a signal for the {what} byte differing"));
                assert!(e.contains("expected none"), "{id}: {e}");
            }
        }
        let past_end = [
            ("guest::mmio_range_ends", mw(12, 4, 1)),
            ("guest::pio_range_ends", pw(10, 2, 1)),
            ("guest::mmio_len0_range_ends", mw(9, 1, 1)),
            ("guest::pio_len0_range_ends", pw(9, 1, 1)),
        ];
        for (id, w) in past_end {
            let r = rows.iter().find(|r| r.id == id).unwrap();
            let e = run(r, vec![Act::Write(w, Effect::Signals(0))]).expect_err(id);
            assert!(e.contains("expected none"), "{id}: {e}");
        }
    }

    #[test]
    fn one_row_per_undefined_flag_bit() {
        let ids: HashSet<_> = rows().into_iter().map(|r| r.id).collect();
        for bit in 5..32 {
            assert!(
                ids.contains(&format!("flags::rejects_bit_{bit}")),
                "bit {bit}"
            );
        }
    }
}
