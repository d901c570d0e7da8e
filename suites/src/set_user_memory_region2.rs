//! KVM_SET_USER_MEMORY_REGION2 (api.rst 4.140, Linux 6.8; not in the seeds: issue 8 asks for
//! it): the memslot rules of KVM_SET_USER_MEMORY_REGION through the v2 struct, and the rules of
//! its guest_memfd binding (KVM_MEM_GUEST_MEMFD). Both ioctls end in
//! `kvm_vm_ioctl_set_memory_region` (virt/kvm/kvm_main.c, 6.12 and 7.2): v1 copies the 32-byte
//! struct into a zeroed v2 one and refuses any flag but LOG_DIRTY_PAGES and READONLY
//! (`KVM_SET_USER_MEMORY_REGION_V1_FLAGS`); v2 copies all 160 bytes. Then
//! `check_memory_region_flags` decides the flags: KVM_MEM_GUEST_MEMFD is valid where the VM fd's
//! KVM_CAP_GUEST_MEMFD says so (6.12: `kvm_arch_has_private_mem`, 7.2: CONFIG_KVM_GUEST_MEMFD;
//! the capability returns exactly that on the VM fd), never with LOG_DIRTY_PAGES or READONLY.
//! The binding (`kvm_gmem_bind`, virt/kvm/guest_memfd.c) comes after the generic checks and the
//! overlap check: no such fd EBADF; not a guest_memfd, another VM's, an unaligned offset or a
//! range past the file EINVAL; a range bound already EEXIST. A guest_memfd slot cannot be
//! modified, only deleted. `pad1`/`pad2` are never read.
//!
//! Every row needs KVM_CAP_USER_MEMORY2. The rows that depend on whether this VM takes
//! guest_memfd memslots decide by the VM fd's KVM_CAP_GUEST_MEMFD and say so in the report.

use crate::rows::{alt, bad_argument_cases, cap, fixture_error, Checker, Fixture, Host, Need};
use crate::rows::{Seed, Step, Target};
use fixtures::memory::GuestMemory;
use fixtures::raw::ioctl::{
    create_guest_memfd, set_user_memory_region, set_user_memory_region2,
    KVM_SET_USER_MEMORY_REGION2,
};
use fixtures::raw::uapi::*;
use fixtures::vm::KernelFd;
use fixtures::vm::Vm;
use harness::{CaseContext, CaseReport, Expected, Outcome};
use nix::errno::Errno::{EBADF, EEXIST, EINVAL};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

pub const SUITE: &str = "set_user_memory_region2";
pub const SEED: Seed = Seed {
    section: "4.140 (api.rst 7.2)",
    ioctl: "KVM_SET_USER_MEMORY_REGION2",
    file: "none: Documentation/virt/kvm/api.rst",
};

const MIB: u64 = 1024 * 1024;
/// Host memory behind the slots, 1 MiB aligned (s390's segment) so the rows hold there too.
const BACKING: u64 = 4 * MIB;
/// The guest_memfd a row binds: as large as the backing.
const GMEM_SIZE: u64 = BACKING;
const OK: Outcome = Outcome::OK;
const NEEDS: &[Need] = &[cap(KVM_CAP_USER_MEMORY2, "KVM_CAP_USER_MEMORY2")];

/// The fd a row puts in `guest_memfd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gmem {
    /// A raw value (no such fd, or garbage where the field must be ignored).
    Raw(u32),
    /// The fixture's guest_memfd of this VM (KVM_CREATE_GUEST_MEMFD, GMEM_SIZE bytes).
    Own,
    /// A guest_memfd of another VM.
    OtherVms,
    /// An fd that is no guest_memfd (an eventfd).
    Eventfd,
}

/// One KVM_SET_USER_MEMORY_REGION(2) call of a row.
#[derive(Debug, Clone, Copy)]
pub struct Region2 {
    pub slot: u32,
    pub flags: u32,
    pub gpa: u64,
    pub size: u64,
    /// Offset into the backing (the userspace address), or a raw address with `raw_uaddr`.
    pub uaddr: u64,
    pub raw_uaddr: bool,
    pub gmem: Gmem,
    pub gmem_offset: u64,
    /// All ones in pad1 and pad2.
    pub pad: bool,
    /// Through KVM_SET_USER_MEMORY_REGION (v1) instead: the same slot, the v1 flag rule.
    pub v1: bool,
}

fn region(slot: u32, gpa: u64, size: u64) -> Region2 {
    Region2 {
        slot,
        flags: 0,
        gpa,
        size,
        uaddr: 0,
        raw_uaddr: false,
        gmem: Gmem::Raw(0),
        gmem_offset: 0,
        pad: false,
        v1: false,
    }
}

impl Region2 {
    fn flags(self, flags: u32) -> Self {
        Self { flags, ..self }
    }
    fn at(self, uaddr: u64) -> Self {
        Self { uaddr, ..self }
    }
    fn raw_uaddr(self, uaddr: u64) -> Self {
        Self {
            uaddr,
            raw_uaddr: true,
            ..self
        }
    }
    /// Bound to `gmem` at `offset` (KVM_MEM_GUEST_MEMFD set).
    fn bound(self, gmem: Gmem, offset: u64) -> Self {
        Self {
            flags: self.flags | KVM_MEM_GUEST_MEMFD,
            gmem,
            gmem_offset: offset,
            ..self
        }
    }
    /// `guest_memfd` and its offset filled in, the flag not set (the fields must be ignored).
    fn unbound_fields(self, gmem: Gmem, offset: u64) -> Self {
        Self {
            gmem,
            gmem_offset: offset,
            ..self
        }
    }
    fn pad(self) -> Self {
        Self { pad: true, ..self }
    }
    fn v1(self) -> Self {
        Self { v1: true, ..self }
    }
    fn deleted(self) -> Self {
        Self { size: 0, ..self }
    }
}

/// What a row's checks work with.
pub struct Env {
    pub vm: Vm,
    pub backing: GuestMemory,
    /// This VM's guest_memfd, made when a row binds one.
    gmem: Option<KernelFd>,
    /// Kept open while the fixture lives: another VM's guest_memfd (and that VM), an eventfd.
    foreign_gmem: Option<(KernelFd, Vm)>,
    eventfd: Option<OwnedFd>,
}

impl Env {
    /// A guest_memfd of `vm` (GMEM_SIZE bytes).
    fn new_gmem(vm: &Vm, c: &mut Checker) -> Step<KernelFd> {
        let g = KvmCreateGuestMemfd {
            size: GMEM_SIZE,
            ..KvmCreateGuestMemfd::default()
        };
        match create_guest_memfd(vm.k, vm.fd, &g) {
            Ok(fd) => Ok(KernelFd::new(vm.k, fd as i32)),
            Err(e) => Err(c.setup_failed(
                format!(
                    "KVM_CREATE_GUEST_MEMFD on the VM fd: {}",
                    Outcome::from(Err(e))
                ),
                vec![format!("argument: {g}")],
            )),
        }
    }

    fn gmem_fd(&mut self, gmem: Gmem, c: &mut Checker) -> Step<u32> {
        Ok(match gmem {
            Gmem::Raw(v) => v,
            Gmem::Own => {
                if self.gmem.is_none() {
                    self.gmem = Some(Self::new_gmem(&self.vm, c)?);
                }
                self.gmem.as_ref().map_or(0, |f| f.fd as u32)
            }
            Gmem::OtherVms => {
                let other = Vm::new().map_err(fixture_error)?;
                let fd = Self::new_gmem(&other, c)?;
                let raw = fd.fd as u32;
                self.foreign_gmem = Some((fd, other));
                raw
            }
            Gmem::Eventfd => {
                let fd = OwnedFd::from(nix::sys::eventfd::EventFd::new().map_err(fixture_error)?);
                let raw = fd.as_raw_fd() as u32;
                self.eventfd = Some(fd);
                raw
            }
        })
    }

    /// The call as it goes to the kernel (v1 takes the v1 fields), judged against `expected`,
    /// or as a setup step that must succeed.
    fn set(
        &mut self,
        r: &Region2,
        what: &str,
        c: &mut Checker,
        expected: Option<Expected>,
    ) -> Step<()> {
        let uaddr = if r.raw_uaddr {
            r.uaddr
        } else {
            self.backing.addr() + r.uaddr
        };
        let judge = |c: &mut Checker, ioctl: &str, arg: &dyn std::fmt::Display, res| {
            let what = format!("{ioctl} on the VM fd ({what})");
            match expected {
                Some(e) => c.call(&what, arg, e, res).map(drop),
                None => c.setup(&what, arg, res).map(drop),
            }
        };
        if r.v1 {
            let arg = KvmUserspaceMemoryRegion {
                slot: r.slot,
                flags: r.flags,
                guest_phys_addr: r.gpa,
                memory_size: r.size,
                userspace_addr: uaddr,
            };
            let res = set_user_memory_region(self.vm.k, self.vm.fd, &arg);
            return judge(c, "KVM_SET_USER_MEMORY_REGION", &arg, res);
        }
        let guest_memfd = self.gmem_fd(r.gmem, c)?;
        let (pad1, pad2) = if r.pad {
            (u32::MAX, [u64::MAX; 14])
        } else {
            (0, [0; 14])
        };
        let arg = KvmUserspaceMemoryRegion2 {
            slot: r.slot,
            flags: r.flags,
            guest_phys_addr: r.gpa,
            memory_size: r.size,
            userspace_addr: uaddr,
            guest_memfd_offset: r.gmem_offset,
            guest_memfd,
            pad1,
            pad2,
        };
        let res = set_user_memory_region2(self.vm.k, self.vm.fd, &arg);
        judge(c, "KVM_SET_USER_MEMORY_REGION2", &arg, res)
    }
}

impl Fixture for Env {
    type Given = Region2;
    type Call = Region2;
    type Setup = Setup;

    fn open(host: &Arc<Host>, _: &CaseContext, row: &Row, expected: &Expected) -> Step<Env> {
        let vm = if row.setup.ucontrol {
            crate::set_user_memory_region::ucontrol_vm()?
        } else {
            Vm::new().map_err(fixture_error)?
        };
        // s390: a VM memory limit of 0 refuses every memslot; that is the one failure of
        // set_user_memory_region::s390::mem_limit_nonzero. A row that needs a slot to exist or
        // that may succeed cannot tell anything then.
        let needs_a_slot = !row.given.is_empty() || crate::rows::accepts_ok(expected);
        if host.arch() == "s390x"
            && needs_a_slot
            && fixtures::raw::ioctl::s390_mem_limit(vm.k, vm.fd) == Ok(0)
        {
            return Err(crate::rows::not_runnable::skip(
                fixtures::not_runnable::NotRunnable::MemLimitZero,
            ));
        }
        let backing =
            GuestMemory::aligned(BACKING as usize, MIB as usize).map_err(fixture_error)?;
        let gmem_cap = vm.cap(KVM_CAP_GUEST_MEMFD);
        if row.setup.binds_guest_memfd && gmem_cap < 1 {
            return Err(CaseReport::skip(format!(
                "needs KVM_CAP_GUEST_MEMFD on the VM fd (guest_memfd memslots for this VM type); the VM reports {gmem_cap}"
            )));
        }
        Ok(Env {
            vm,
            backing,
            gmem: None,
            foreign_gmem: None,
            eventfd: None,
        })
    }

    fn given(&mut self, given: &[Region2], c: &mut Checker) -> Step<()> {
        for g in given {
            self.set(g, "setup", c, None)?;
        }
        Ok(())
    }

    fn call(&mut self, call: &Region2, expected: Expected, c: &mut Checker) -> Step<()> {
        self.set(call, "the call", c, Some(expected))
    }
}

/// What a row needs of its fixture beyond the table's needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Setup {
    /// The row binds a guest_memfd for real: the VM must take guest_memfd memslots, decided on
    /// the VM fd in `open` (the system fd's KVM_CAP_GUEST_MEMFD is not the VM's answer).
    binds_guest_memfd: bool,
    /// A ucontrol VM (KVM_VM_S390_UCONTROL) instead of a default one.
    ucontrol: bool,
}

type Row = crate::rows::Row<Env>;

trait RowExt {
    fn binds_guest_memfd(self) -> Self;
    fn on_ucontrol_vm(self) -> Self;
}

impl RowExt for Row {
    fn binds_guest_memfd(mut self) -> Self {
        self.setup.binds_guest_memfd = true;
        self
    }
    /// On a fresh ucontrol VM; needs what set_user_memory_region's ucontrol rows need.
    fn on_ucontrol_vm(mut self) -> Self {
        self.setup.ucontrol = true;
        self.needs(&crate::set_user_memory_region::UCONTROL)
    }
}

#[track_caller]
fn row(id: impl Into<String>, call: Region2, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect).needs(NEEDS)
}

/// EBADF where the VM takes guest_memfd memslots (kvm_gmem_bind's fget fails), else EINVAL
/// (check_memory_region_flags refuses the flag first): decided by the VM fd's
/// KVM_CAP_GUEST_MEMFD, which the report names.
fn no_such_fd_by_gmem_cap(_: &Host) -> Step<(Expected, String)> {
    let n = Vm::new().map_err(fixture_error)?.cap(KVM_CAP_GUEST_MEMFD);
    let fact = format!("KVM_CHECK_EXTENSION(KVM_CAP_GUEST_MEMFD) on a VM fd = {n}");
    Ok(if n > 0 {
        let why =
            "KVM_MEM_GUEST_MEMFD is a valid flag for this VM and kvm_gmem_bind finds no such fd";
        (Expected::errno(EBADF), format!("{fact}; so EBADF: {why}"))
    } else {
        let why = "check_memory_region_flags refuses KVM_MEM_GUEST_MEMFD for this VM";
        (Expected::errno(EINVAL), format!("{fact}; so EINVAL: {why}"))
    })
}

/// A guest_memfd range bound to a slot already: kvm_gmem_bind finds it in the file's bindings.
/// No capability tells the two answers apart (KVM_CAP_GUEST_MEMFD_FLAGS predates the change).
fn bound_twice() -> Expected {
    Expected::OneOf(vec![
        alt(EINVAL, "kvm_gmem_bind leaves r = -EINVAL when the range is bound (6.8 to at least 6.18, e.g. 6.12)"),
        alt(EEXIST, "kvm_gmem_bind returns -EEXIST for a bound range (7.2)"),
    ])
}

/// Then: a KVM_SET_USER_MEMORY_REGION (v1) create of another slot over `r`'s guest range (from
/// other host memory) gives `expected`: EEXIST while `r` is there for v1 too, 0 once it is gone.
fn v1_create_over(
    r: Region2,
    expected: impl Into<Expected>,
    what: &'static str,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    let expected = expected.into();
    move |env, c| {
        let arg = KvmUserspaceMemoryRegion {
            slot: r.slot + 1,
            flags: 0,
            guest_phys_addr: r.gpa,
            memory_size: MIB,
            userspace_addr: env.backing.addr() + 2 * MIB,
        };
        let res = set_user_memory_region(env.vm.k, env.vm.fd, &arg);
        c.call(what, &arg, expected.clone(), res).map(drop)
    }
}

/// Then: the slot is there for v1 as well.
fn seen_by_v1(r: Region2) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    v1_create_over(
        r,
        EEXIST,
        "then: KVM_SET_USER_MEMORY_REGION of another slot over the same guest range",
    )
}

/// Then: the range is free.
fn range_free(r: Region2) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    v1_create_over(
        r,
        OK,
        "then: KVM_SET_USER_MEMORY_REGION of another slot over the freed range",
    )
}

/// The whole table.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    let a = region(0, 0, MIB);
    let gm = a.bound(Gmem::Own, 0);
    let mut rows = vec![
        // ---- the v1 rules through v2: one slot space for both ----
        row("create::slot_0", a, OK).then(seen_by_v1(a)),
        row("create::identical_through_v1", a.v1(), OK).given(&[a]),
        row("delete::a_v1_slot", a.deleted(), OK).given(&[a.v1()]).then(range_free(a)),
        row("delete::absent", a.deleted(), EINVAL),
        row("overlap::a_v1_slot", region(1, 0, MIB).at(MIB), EEXIST).given(&[a.v1()]),
        row("size::not_page_aligned", region(0, 0, MIB + 0x800), EINVAL),
        row("gpa::not_page_aligned", region(0, 0x800, MIB), EINVAL),
        row("uaddr::not_page_aligned", a.at(0x800), EINVAL),
        row("uaddr::kernel_half", a.raw_uaddr(0xffff_8000_0000_0000), EINVAL).needs(&[Need::NotArch("s390x")]),
        row("slot::address_space_beyond", region(0xffff_0000, 0, MIB), EINVAL),
        // ---- flags ----
        row("flags::log_dirty_pages", a.flags(KVM_MEM_LOG_DIRTY_PAGES), OK),
        row("flags::readonly", a.flags(KVM_MEM_READONLY), OK).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]),
        row("flags::v1_refuses_guest_memfd", a.flags(KVM_MEM_GUEST_MEMFD).v1(), EINVAL),
        row("flags::guest_memfd_with_readonly", gm.flags(KVM_MEM_READONLY | KVM_MEM_GUEST_MEMFD).unbound_fields(Gmem::Raw(u32::MAX), 0), EINVAL),
        row("flags::guest_memfd_with_dirty_logging", gm.flags(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_GUEST_MEMFD).unbound_fields(Gmem::Raw(u32::MAX), 0), EINVAL),
        // ---- fields the kernel ignores ----
        row("fields::guest_memfd_ignored_without_the_flag", a.unbound_fields(Gmem::Raw(0x7fff_fff0), 1), OK).then(seen_by_v1(a)),
        row("fields::pad_ignored", a.pad(), OK).then(seen_by_v1(a)),
        // ---- the guest_memfd binding: the same answer whether or not the VM takes it ----
        row("guest_memfd::not_a_guest_memfd", a.bound(Gmem::Eventfd, 0), EINVAL),
        row("guest_memfd::offset_not_page_aligned", a.bound(Gmem::Raw(u32::MAX), 0x800), EINVAL),
        row("guest_memfd::offset_wraps", a.bound(Gmem::Raw(u32::MAX), u64::MAX - 0xfff), EINVAL),
        // ---- decided by the VM fd's KVM_CAP_GUEST_MEMFD ----
        row("guest_memfd::no_such_fd", a.bound(Gmem::Raw(u32::MAX), 0), EINVAL).expect_from_fact(no_such_fd_by_gmem_cap),
        // ---- a real binding (the VM takes guest_memfd memslots) ----
        row("guest_memfd::bound", gm, OK).binds_guest_memfd().then(seen_by_v1(a)),
        row("guest_memfd::immutable_even_identical", gm, EINVAL).given(&[gm]).binds_guest_memfd(),
        row("guest_memfd::deleted", a.deleted(), OK).given(&[gm]).binds_guest_memfd().then(range_free(a)),
        row("guest_memfd::range_bound_twice", region(1, 2 * MIB, MIB).at(MIB).bound(Gmem::Own, 0), bound_twice()).given(&[gm]).binds_guest_memfd(),
        row("guest_memfd::second_range", region(1, 2 * MIB, MIB).at(MIB).bound(Gmem::Own, MIB), OK).given(&[gm]).binds_guest_memfd(),
        row("guest_memfd::range_past_the_file", a.bound(Gmem::Own, GMEM_SIZE - MIB + 4096), EINVAL).binds_guest_memfd(),
        row("guest_memfd::other_vms", a.bound(Gmem::OtherVms, 0), EINVAL).binds_guest_memfd(),
    ];
    // ---- ucontrol VMs: v2 as v1 (kernel-semantics.md §6.3, selftest uc_no_user_region) ----
    use crate::set_user_memory_region::{ucontrol_slot_at_0_by_internal_slot, ucontrol_slot_past_internal_slot, UCONTROL_SLOT_END, UCONTROL_SLOT_SAFE};
    rows.extend([
        row("ucontrol::slot_at_gpa_0", a, EINVAL).on_ucontrol_vm().needs(&[UCONTROL_SLOT_SAFE]).expect_from_fact(ucontrol_slot_at_0_by_internal_slot),
        row("ucontrol::slot_past_internal_slot_end", region(0, UCONTROL_SLOT_END, 4096), ucontrol_slot_past_internal_slot()).on_ucontrol_vm(),
    ]);
    // Without the capability there is no such ioctl: s390's kvm_arch_vm_ioctl answers an unknown
    // request with ENOTTY (6.1, before 6.8's v2; other architectures' defaults were not read).
    rows.push(
        row("absent::enotty_without_the_capability", a, nix::errno::Errno::ENOTTY)
            .only(&[Need::Arch("s390x"), Need::CapAbsent { cap: KVM_CAP_USER_MEMORY2, name: "KVM_CAP_USER_MEMORY2" }]),
    );
    // Every flag bit no kernel defines (3..=31).
    for bit in 3..32 {
        rows.push(row(format!("flags::rejects_bit_{bit}"), a.flags(1 << bit), EINVAL));
    }
    rows
}

pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::table::cases(SUITE, SEED, rows());
    cases.extend(bad_argument_cases(
        SUITE,
        SEED,
        NEEDS,
        &[("", KVM_SET_USER_MEMORY_REGION2, Target::Vm)],
    ));
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let cases = cases();
        let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(n, ids.len());
    }
}
