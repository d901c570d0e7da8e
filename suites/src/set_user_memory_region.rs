//! KVM_SET_USER_MEMORY_REGION (api.txt 4.34, seeds/003): every rule of kernel-semantics.md §6
//! that applies to the host, as rows. Each row: the slots that exist first (`given`), the
//! call under test, the exact expected outcome, and optionally a check of what follows
//! (a guest program reading the memory, the dirty log, the slot still being there).

use crate::rows::not_runnable;
use crate::rows::{
    alt, cap, case, fixture_error, CaseDef, Checker, Fixture, Host, KnownBug, Need, Property, Seed,
    Step,
};
use crate::rows::{bad_argument_cases, Target};
use fixtures::memory::GuestMemory;
use fixtures::models::memslots::{self, MemslotModel, Rules, Space};
use fixtures::not_runnable::NotRunnable;
use fixtures::raw::ioctl::{set_user_memory_region, KVM_SET_USER_MEMORY_REGION};
use fixtures::raw::uapi::*;
use fixtures::vm::Vm;
use harness::{CaseContext, Expected, Outcome};
use nix::errno::Errno::{EEXIST, EINVAL};
use std::sync::Arc;

pub const SUITE: &str = "set_user_memory_region";
pub const SEED: Seed = Seed {
    section: "4.34",
    ioctl: "KVM_SET_USER_MEMORY_REGION",
    file: "003_bf7a430301ff8901.txt",
};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const PAGE: u64 = PAGE_SIZE;
/// Host memory behind the slots: 8 MiB, 1 MiB aligned (s390's granularity on older kernels),
/// so the generic rows are valid on every architecture.
const BACKING: u64 = 8 * MIB;
const CALL: &str = "KVM_SET_USER_MEMORY_REGION on the VM fd";

/// Which slot a row names: a fixed id, or one relative to KVM_CAP_NR_MEMSLOTS.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    Id(u32),
    /// KVM_CAP_NR_MEMSLOTS + delta (delta may be negative).
    Cap(i64),
}

/// The userspace address of a row: an offset into the backing, or a raw value.
#[derive(Debug, Clone, Copy)]
pub enum Uaddr {
    Backing(u64),
    Raw(u64),
    /// This many bytes below the end of the user address range (x86_64: 2^47 or 2^56 - 4096).
    BelowUserLimit(u64),
}

#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub slot: Slot,
    pub flags: u32,
    pub gpa: u64,
    /// s390: the gpa is this many bytes below the VM's memory limit (read from the kernel),
    /// instead of `gpa`.
    pub gpa_below_mem_limit: Option<u64>,
    pub size: u64,
    pub uaddr: Uaddr,
}

/// A 1 MiB-aligned slot backed from the start of the backing.
pub fn region(slot: u32, gpa: u64, size: u64) -> Region {
    Region {
        slot: Slot::Id(slot),
        flags: 0,
        gpa,
        size,
        uaddr: Uaddr::Backing(0),
        gpa_below_mem_limit: None,
    }
}

impl Region {
    pub fn flags(mut self, f: u32) -> Self {
        self.flags = f;
        self
    }
    pub fn at(mut self, off: u64) -> Self {
        self.uaddr = Uaddr::Backing(off);
        self
    }
    pub fn raw_uaddr(mut self, a: u64) -> Self {
        self.uaddr = Uaddr::Raw(a);
        self
    }
    pub fn gpa_below_mem_limit(mut self, n: u64) -> Self {
        self.gpa_below_mem_limit = Some(n);
        self
    }
    pub fn below_user_limit(mut self, n: u64) -> Self {
        self.uaddr = Uaddr::BelowUserLimit(n);
        self
    }
    pub fn slot(mut self, s: Slot) -> Self {
        self.slot = s;
        self
    }
    pub fn gpa(mut self, gpa: u64) -> Self {
        self.gpa = gpa;
        self
    }
    pub fn size(mut self, size: u64) -> Self {
        self.size = size;
        self
    }
    /// The same slot deleted (`memory_size` 0).
    pub fn deleted(self) -> Self {
        self.size(0)
    }

    pub fn resolve(&self, env: &Env) -> KvmUserspaceMemoryRegion {
        let slot = match self.slot {
            Slot::Id(id) => id,
            Slot::Cap(delta) => (env.nr_memslots + delta) as u32,
        };
        let userspace_addr = match self.uaddr {
            Uaddr::Backing(off) => env.backing.addr() + off,
            Uaddr::Raw(a) => a,
            Uaddr::BelowUserLimit(n) => fixtures::memory::x86_user_address_limit() - n,
        };
        let guest_phys_addr = match self.gpa_below_mem_limit {
            // run_row has read the limit (and skipped the row without one).
            Some(n) => env.mem_limit.unwrap_or(0).wrapping_sub(n),
            None => self.gpa,
        };
        KvmUserspaceMemoryRegion {
            slot,
            flags: self.flags,
            guest_phys_addr,
            memory_size: self.size,
            userspace_addr,
        }
    }
}

/// What a row's checks work with.
pub struct Env {
    pub host: Arc<Host>,
    pub vm: Vm,
    pub backing: GuestMemory,
    pub nr_memslots: i64,
    /// s390: the fresh VM's memory limit (KVM_S390_VM_MEM_LIMIT_SIZE); None elsewhere.
    pub mem_limit: Option<u64>,
}

impl Env {
    pub fn set(&self, r: &KvmUserspaceMemoryRegion) -> fixtures::raw::SysResult {
        set_user_memory_region(self.vm.k, self.vm.fd, r)
    }
}

impl Fixture for Env {
    type Given = Region;
    type Call = Region;
    type Setup = ();

    fn open(host: &Arc<Host>, _: &CaseContext, row: &Row, expected: &Expected) -> Step<Env> {
        let vm = Vm::new().map_err(fixture_error)?;
        let backing =
            GuestMemory::aligned(BACKING as usize, MIB as usize).map_err(fixture_error)?;
        let nr_memslots = vm.cap(KVM_CAP_NR_MEMSLOTS);
        let relative = row
            .given
            .iter()
            .chain(match &row.act {
                crate::rows::Act::Call(call) => Some(call),
                _ => None,
            })
            .any(|r| r.gpa_below_mem_limit.is_some());
        let mem_limit = if host.arch() == "s390x" {
            match fixtures::raw::ioctl::s390_mem_limit(vm.k, vm.fd) {
                Ok(limit) => Some(limit),
                Err(e) if relative => {
                    return Err(fixture_error(format!(
                        "KVM_GET_DEVICE_ATTR KVM_S390_VM_MEM_LIMIT_SIZE: {e:?}; the row places \
                         its slot relative to that limit"
                    )))
                }
                Err(_) => None,
            }
        } else {
            None
        };
        // A limit of 0 refuses every memslot (the cause is the one failure of
        // s390::mem_limit_nonzero): a row that needs a slot to exist, or that may succeed, or
        // that is about the limit's boundary, cannot tell anything then. Rows refused by a
        // generic check before the arch hook still run.
        if mem_limit == Some(0) && (relative || !row.given.is_empty() || accepts_ok(expected)) {
            return Err(not_runnable::skip(NotRunnable::MemLimitZero));
        }
        Ok(Env {
            host: Arc::clone(host),
            vm,
            backing,
            nr_memslots,
            mem_limit,
        })
    }

    fn given(&mut self, given: &[Region], c: &mut Checker) -> Step<()> {
        for g in given {
            let r = g.resolve(self);
            c.setup(CALL, &r, self.set(&r))?;
        }
        Ok(())
    }

    fn call(&mut self, call: &Region, expected: Expected, c: &mut Checker) -> Step<()> {
        let r = call.resolve(self);
        c.call(CALL, &r, expected, self.set(&r)).map(drop)
    }
}

type Row = crate::rows::Row<Env>;

#[track_caller]
fn row(id: impl Into<String>, call: Region, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect)
}

const OK: Outcome = Outcome::OK;

/// The whole table.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    let a = region(0, 0, MIB); // the usual first slot: gpa 0, 1 MiB
    let mut rows = vec![
        // ---- create, identical, modify, move, delete ----
        row("create::slot_0", a, OK),
        row("create::second_slot", region(1, 2 * MIB, MIB).at(MIB), OK).given(&[a]),
        row("create::identical_again", a, OK).given(&[a]).then(still_there(a)),
        row("modify::dirty_logging_on", a.flags(KVM_MEM_LOG_DIRTY_PAGES), OK).given(&[a]).then(dirty_logging_off_again),
        row("modify::dirty_logging_off", a, OK).given(&[a.flags(KVM_MEM_LOG_DIRTY_PAGES)]),
        row("modify::move", a.gpa(16 * MIB), OK).given(&[a]).then(still_there(a.gpa(16 * MIB))),
        row("modify::move_and_dirty_logging", a.gpa(4 * MIB).flags(KVM_MEM_LOG_DIRTY_PAGES), OK).given(&[a]),
        row("modify::grow", a.size(2 * MIB), EINVAL).given(&[a]).then(still_there(a)),
        row("modify::shrink", region(0, 0, MIB), EINVAL).given(&[region(0, 0, 2 * MIB)]),
        row("modify::other_userspace_addr", a.at(MIB), EINVAL).given(&[a]).then(still_there(a)),
        row("modify::move_and_grow", a.gpa(4 * MIB).size(2 * MIB), EINVAL).given(&[a]),
        row("delete::existing", a.deleted(), OK).given(&[a]).then(slot_is_free(a.size(2 * MIB))),
        row("delete::absent", region(5, 0, 0), EINVAL),
        row("delete::absent_after_delete", a.deleted(), EINVAL).given(&[a, a.deleted()]),
        row("delete::ignores_gpa", a.gpa(32 * MIB).deleted(), OK).given(&[a]),
        // ---- overlap in guest-physical space (EEXIST), adjacency (fine) ----
        row("overlap::same_range", region(1, 0, MIB).at(MIB), EEXIST).given(&[a]),
        row("overlap::tail", region(1, 2 * MIB, 2 * MIB).at(2 * MIB), EEXIST).given(&[region(0, MIB, 2 * MIB)]),
        row("overlap::head", region(1, MIB, 2 * MIB).at(2 * MIB), EEXIST).given(&[region(0, 2 * MIB, 2 * MIB)]),
        row("overlap::inside", region(1, MIB, MIB).at(4 * MIB), EEXIST).given(&[region(0, 0, 4 * MIB)]),
        row("overlap::containing", region(1, 0, 4 * MIB).at(4 * MIB), EEXIST).given(&[region(0, MIB, MIB)]),
        row("overlap::last_page", region(1, MIB - PAGE, MIB).at(MIB), EEXIST).given(&[a]),
        row("overlap::first_page", region(1, 2 * MIB - PAGE, MIB).at(MIB), EEXIST).given(&[region(0, 2 * MIB, MIB)]),
        row("overlap::move_onto_other", region(1, MIB / 2, MIB).at(MIB), EEXIST).given(&[a, region(1, 4 * MIB, MIB).at(MIB)]).then(still_there(region(1, 4 * MIB, MIB).at(MIB))),
        row("adjacent::below", region(1, 0, MIB).at(MIB), OK).given(&[region(0, MIB, MIB)]),
        row("adjacent::above", region(1, MIB, MIB).at(MIB), OK).given(&[a]),
        row("adjacent::shared_host_memory", region(1, 2 * MIB, MIB), OK).given(&[a]),
        // ---- alignment ----
        row("align::size_one_byte", a.size(1), EINVAL),
        row("align::size_page_minus_one", a.size(PAGE - 1), EINVAL),
        row("align::size_not_page_multiple", a.size(MIB + 1), EINVAL),
        row("align::gpa_one", a.gpa(1), EINVAL),
        row("align::gpa_page_minus_one", a.gpa(PAGE - 1), EINVAL),
        row("align::userspace_addr_plus_one", a.at(1), EINVAL),
        row("align::userspace_addr_plus_page_minus_one", a.at(PAGE - 1), EINVAL),
        row("align::userspace_addr_checked_on_delete", a.at(1).deleted(), EINVAL).given(&[a]).then(still_there(a)),
        // ---- sizes and address ranges ----
        row("bounds::gpa_plus_size_wraps", a.gpa(u64::MAX - MIB + 1).size(2 * MIB), EINVAL),
        row("bounds::gpa_plus_size_wraps_to_zero", a.gpa(u64::MAX - MIB + 1), EINVAL),
        row("bounds::userspace_addr_kernel_half", a.raw_uaddr(0xffff_8000_0000_0000), EINVAL).needs(&[Need::NotArch("s390x")]),
        row("bounds::userspace_addr_end_past_user_limit", a.below_user_limit(MIB - PAGE), EINVAL).needs(&[Need::Arch("x86_64")]),
        row("bounds::userspace_addr_end_at_user_limit", a.below_user_limit(MIB), OK).needs(&[Need::Arch("x86_64")]),
        row("bounds::too_many_pages", a.size(1 << 43), EINVAL).doc("the 2^31 - 1 page limit of a slot is not documented"),
        // ---- slot ids and address spaces ----
        row("slot::highest_id", a.slot(Slot::Cap(-1)), OK),
        row("slot::id_equal_to_nr_memslots", a.slot(Slot::Cap(0)), EINVAL),
        row("slot::id_32767", a.slot(Slot::Id(32767)), EINVAL),
        row("slot::id_0xffff", a.slot(Slot::Id(0xffff)), EINVAL),
        row("slot::as_id_1", a.slot(Slot::Id(1 << 16)), EINVAL).expect_from_host(as_id_1),
        row("slot::as_id_1_same_range_as_as_0", a.slot(Slot::Id(1 << 16)), EINVAL).given(&[a]).expect_from_host(as_id_1),
        row("slot::as_id_0xffff", a.slot(Slot::Id(0xffff_0000)), EINVAL),
        row("slot::as_id_0x8000_id_0", a.slot(Slot::Id(0x8000_0000)), EINVAL),
        // ---- flags ----
        row("flags::log_dirty_pages", a.flags(KVM_MEM_LOG_DIRTY_PAGES), OK),
        row("flags::readonly", a.flags(KVM_MEM_READONLY), OK).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]),
        row("flags::readonly_and_log_dirty_pages", a.flags(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES), OK).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]),
        row("flags::readonly_without_capability", a.flags(KVM_MEM_READONLY), EINVAL).needs(&[Need::CapAbsent { cap: KVM_CAP_READONLY_MEM, name: "KVM_CAP_READONLY_MEM" }]),
        row("flags::readonly_toggled_on_existing", a.flags(KVM_MEM_READONLY), EINVAL).given(&[a]).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]),
        row("flags::readonly_toggled_off_existing", a, EINVAL).given(&[a.flags(KVM_MEM_READONLY)]).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]),
        row("flags::guest_memfd_needs_region2", a.flags(KVM_MEM_GUEST_MEMFD), EINVAL).doc("api.txt 4.34 names only KVM_MEM_LOG_DIRTY_PAGES; KVM_MEM_GUEST_MEMFD (bit 2) exists since 6.8 but only for KVM_SET_USER_MEMORY_REGION2"),
        row("flags::undefined_on_delete", a.flags(1 << 7).deleted(), EINVAL).given(&[a]).then(still_there(a)),
    ];
    for bit in 3..32 {
        rows.push(row(format!("flags::rejects_bit_{bit}"), a.flags(1 << bit), EINVAL));
    }
    // ---- s390: the arch hook (kernel-semantics.md §6.3) ----
    let s390 = [Need::Arch("s390x")];
    let granularity = || {
        Expected::OneOf(vec![
            alt(
                OK,
                "4 KiB memslot granularity (s390 \"Allow 4k granularity for memslots\", ~7.1)",
            ),
            alt(
                EINVAL,
                "1 MiB memslot granularity (s390 up to ~7.0, e.g. 6.12)",
            ),
        ])
    };
    rows.extend([
        row("s390::size_4k", a.size(4 * KIB), granularity()).needs(&s390).doc("s390's 1 MiB granularity is not in api.txt 4.34"),
        row("s390::userspace_addr_4k_aligned", a.at(4 * KIB), granularity()).needs(&s390),
        row("s390::gpa_4k_aligned", a.gpa(4 * KIB), OK).needs(&s390),
        row("s390::slot_ending_at_mem_limit", a.gpa_below_mem_limit(MIB), OK).needs(&s390).doc("the s390 memory limit (KVM_S390_VM_MEM_LIMIT_SIZE) on memslots is not in api.txt 4.34"),
        row("s390::slot_crossing_mem_limit", a.gpa_below_mem_limit(MIB / 2), EINVAL).needs(&s390),
        row("s390::slot_starting_at_mem_limit", a.gpa_below_mem_limit(0), EINVAL).needs(&s390),
        row("s390::userspace_addr_unmapped_accepted", a.raw_uaddr(0x4000_0000_0000_0000), OK).needs(&s390).doc("s390's access_ok() accepts any address (separate user address space)"),
    ]);
    rows.push(row("fill::every_slot_then_one_more", a, OK).then(fill_every_slot));
    // api.txt 4.34 "Capability: KVM_CAP_USER_MEM" (the name is KVM_CAP_USER_MEMORY, 3):
    // kvm_vm_ioctl_check_extension_generic answers 1 on every architecture.
    rows.push(Row::check("cap::user_memory_is_1", |env, c| crate::rows::capability_is(c, &env.vm, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", 1)).doc("api.txt 4.34 names the capability KVM_CAP_USER_MEM; the uapi constant is KVM_CAP_USER_MEMORY (3)"));
    rows.extend(guest_rows());
    rows
}

fn as_id_1(host: &Host) -> Expected {
    if host.cap(KVM_CAP_MULTI_ADDRESS_SPACE) >= 2 {
        Expected::Is(OK)
    } else {
        Expected::errno(EINVAL)
    }
}

/// The case definitions for the harness.
pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::cases(SUITE, SEED, rows());
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &[], &[("", KVM_SET_USER_MEMORY_REGION, Target::Vm)]);
    cases.extend(bad_arguments);
    cases.push(mem_limit_case());
    cases.push(unaligned_gpa_mapped_case());
    cases.push(PROPERTY.case(SEED, &[], property));
    cases
}

/// Whether `e` accepts success (0), alone or among alternatives.
fn accepts_ok(e: &Expected) -> bool {
    match e {
        Expected::Is(o) => *o == OK,
        Expected::OneOf(alts) => alts.iter().any(|a| a.outcome == OK),
    }
}

/// kernel-semantics.md §6.3: a fresh s390 VM's memory limit must be above 0, or no memslot
/// can ever be created. 7.2 computes the default as `sclp.hamax + 1`, which wraps to 0 when
/// the machine reports no host address limit (SCLP `hamaxpow` 0 makes `sclp.hamax` all
/// ones); the classic gmap special-cased that value. This row is the one failure for that
/// cause; every case that needs a memslot reports "not runnable" and points here.
const MEM_LIMIT_ROW: &str = "s390::mem_limit_nonzero";

fn mem_limit_case() -> harness::Case {
    case(
        SUITE,
        CaseDef::new(
            MEM_LIMIT_ROW,
            SEED,
            &[Need::Arch("s390x")],
            |_host, _ctx| {
                let vm = Vm::new().map_err(fixture_error)?;
                let mut c = Checker::new();
                let read = fixtures::raw::ioctl::s390_mem_limit(vm.k, vm.fd);
                c.call(
                    "KVM_GET_DEVICE_ATTR (KVM_S390_VM_MEM_CTRL, KVM_S390_VM_MEM_LIMIT_SIZE) on a fresh VM fd",
                    &"kvm_device_attr { group: 0 (KVM_S390_VM_MEM_CTRL), attr: 1 (KVM_S390_VM_MEM_LIMIT_SIZE), addr: &u64 }",
                    OK,
                    read.map(|_| 0),
                )?;
                let limit = read.unwrap_or(0);
                c.ensure(limit > 0, || {
                    "the VM memory limit (KVM_S390_VM_MEM_LIMIT_SIZE) of a fresh VM is 0, expected \
                     a non-zero limit, so the \
                     kernel refuses every memslot with EINVAL: 0 means the machine reports no \
                     host address limit (SCLP hamaxpow 0, sclp.hamax all ones) and the kernel \
                     wrapped sclp.hamax + 1 to 0 (kernel-semantics.md §6.3); the classic gmap \
                     used TASK_SIZE_MAX for that value. Every case that needs a memslot is \
                     reported as not runnable."
                        .into()
                })?;
                c.note(format!(
                    "memory limit of a fresh VM: {limit:#x} ({} GiB)",
                    limit >> 30
                ));
                c.note(
                    "documentation deviation: the s390 memory limit (KVM_S390_VM_MEM_LIMIT_SIZE) on memslots is not in api.txt 4.34",
                );
                c.pass()
            },
        ),
    )
}

/// docs/kernel-6.1.md, "failed to commit memory region": the classic gmap's prepare hook
/// accepts a guest address that is 4 KiB but not 1 MiB aligned, and its commit hook
/// (`gmap_map_segment`, segments only) then fails, logs the line and maps nothing, although
/// the ioctl returned 0. KVM_S390_VCPU_FAULT faults a guest address in on the path a guest's
/// own access takes (`gmap_fault`, as KVM_RUN's fault-in does), without running a guest.
const UNALIGNED_GPA_ROW: &str = "s390::slot_at_4k_gpa_is_mapped";
const UNALIGNED_GPA_BUG: &str = "classic gmap: KVM_SET_USER_MEMORY_REGION accepts a guest address 4 KiB but not 1 MiB aligned and returns 0, but kvm_arch_commit_memory_region cannot map it (gmap_map_segment needs segment alignment; logs \"kvm-s390: failed to commit memory region\"): the guest's first access to the slot faults with EFAULT";

fn unaligned_gpa_mapped_case() -> harness::Case {
    case(
        SUITE,
        CaseDef::new(
            UNALIGNED_GPA_ROW,
            SEED,
            &[Need::Arch("s390x")],
            |host, _ctx| {
                let vm = Vm::new().map_err(fixture_error)?;
                let backing =
                    GuestMemory::aligned(BACKING as usize, MIB as usize).map_err(fixture_error)?;
                if fixtures::raw::ioctl::s390_mem_limit(vm.k, vm.fd) == Ok(0) {
                    return Ok(not_runnable::skip(NotRunnable::MemLimitZero));
                }
                let (classic, fact) = crate::rows::classic_gmap(host)?;
                let bug = KnownBug {
                    bug: UNALIGNED_GPA_BUG,
                    here: classic,
                    fact,
                };
                let vcpu = vm
                    .vcpu(0)
                    .map_err(|e| fixture_error(format!("KVM_CREATE_VCPU 0: {e:?}")))?;
                let base = backing.addr();
                let slot = |id: u32, gpa: u64, offset: u64| KvmUserspaceMemoryRegion {
                    slot: id,
                    flags: 0,
                    guest_phys_addr: gpa,
                    memory_size: MIB,
                    userspace_addr: base + offset,
                };
                let fault =
                    |gaddr: u64| fixtures::raw::ioctl::s390_vcpu_fault(vm.k, vcpu.fd, gaddr);
                let mut c = Checker::new();
                // The control: a segment-aligned slot is mapped on every gmap, so a kernel
                // whose fault-in or commit is broken altogether fails here, not as the bug.
                let aligned = slot(0, MIB, 0);
                c.setup(
                    CALL,
                    &aligned,
                    set_user_memory_region(vm.k, vm.fd, &aligned),
                )?;
                c.call(
                    &format!("KVM_S390_VCPU_FAULT on vcpu 0 at guest address {MIB:#x}, inside slot 0 (1 MiB aligned)"),
                    &format_args!("{MIB:#x}"),
                    OK,
                    fault(MIB),
                )?;
                const GPA: u64 = 4 * MIB + 4 * KIB;
                let unaligned = slot(1, GPA, 2 * MIB);
                c.setup(
                    CALL,
                    &unaligned,
                    set_user_memory_region(vm.k, vm.fd, &unaligned),
                )?;
                let r = fault(GPA);
                c.ensure(matches!(r, Ok(0) | Err(nix::errno::Errno::EFAULT)), || {
                    format!("KVM_S390_VCPU_FAULT at guest address {GPA:#x}, inside slot 1: expected 0, got {r:?}")
                })?;
                c.known_bug(&bug, r.is_err(), || {
                    format!("slot 1 at guest address {GPA:#x} (4 KiB, not 1 MiB aligned) was accepted with 0, but KVM_S390_VCPU_FAULT at {GPA:#x} returned EFAULT, expected 0: the slot was never mapped")
                })?;
                c.note("what a guest sees: its first access to such a slot ends KVM_RUN with EFAULT (vcpu_post_run -> kvm_arch_fault_in_page -> gmap_fault, the path KVM_S390_VCPU_FAULT takes)");
                c.pass()
            },
        ),
    )
}

// ---- checks after the call ----

/// The slot is (still) there exactly as `r` describes it: re-setting it identically is a
/// no-op (0), and a different size is refused (EINVAL), which only an existing slot does.
fn still_there(r: Region) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let same = r.resolve(env);
        c.call(
            "re-set of the slot, identical (a no-op if the slot is there)",
            &same,
            OK,
            env.set(&same),
        )?;
        let grown = KvmUserspaceMemoryRegion {
            memory_size: same.memory_size + MIB,
            ..same
        };
        c.call(
            "resize of the slot (refused only if the slot is there)",
            &grown,
            EINVAL,
            env.set(&grown),
        )?;
        Ok(())
    }
}

/// After a delete, the slot id is free: a slot of another size can be created with it.
fn slot_is_free(r: Region) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let r = r.resolve(env);
        c.call(
            "create with the deleted slot's id and another size",
            &r,
            OK,
            env.set(&r),
        )
        .map(drop)
    }
}

fn dirty_logging_off_again(env: &Env, c: &mut Checker) -> Step<()> {
    let r = region(0, 0, MIB).resolve(env);
    c.call(
        "flags-only change back (dirty logging off)",
        &r,
        OK,
        env.set(&r),
    )
    .map(drop)
}

/// Create every slot id up to KVM_CAP_NR_MEMSLOTS - 1, then one more (EINVAL). Slots share
/// one backing granule (aliasing host memory is allowed) at consecutive guest addresses.
fn fill_every_slot(env: &Env, c: &mut Checker) -> Step<()> {
    let granule = if env.host.arch() == "s390x" {
        MIB
    } else {
        PAGE
    };
    let n = env.nr_memslots;
    c.ensure(n > 1, || format!("KVM_CAP_NR_MEMSLOTS is {n}"))?;
    // Slot 0 exists (the row's call); start above it.
    for id in 1..n {
        let r = KvmUserspaceMemoryRegion {
            slot: id as u32,
            flags: 0,
            guest_phys_addr: (id as u64 + 16) * granule.max(MIB),
            memory_size: granule,
            userspace_addr: env.backing.addr(),
        };
        let res = env.set(&r);
        if res != Ok(0) {
            c.call(&format!("create slot {id} of {n}"), &r, OK, res)?;
        }
    }
    c.note(format!("created all {n} slots (KVM_CAP_NR_MEMSLOTS)"));
    let one_more = KvmUserspaceMemoryRegion {
        slot: n as u32,
        flags: 0,
        guest_phys_addr: (n as u64 + 16) * MIB,
        memory_size: granule,
        userspace_addr: env.backing.addr(),
    };
    c.call(
        "create one slot more than KVM_CAP_NR_MEMSLOTS",
        &one_more,
        EINVAL,
        env.set(&one_more),
    )
    .map(drop)
}

// ---- guest programs (live x86_64): what the guest sees ----

#[rustfmt::skip]
fn guest_rows() -> Vec<Row> {
    let live_x86 = [Need::Arch("x86_64"), Need::Live];
    let data = region(1, DATA_GPA, 4 * PAGE);
    vec![
        row("guest::reads_what_the_host_wrote", data, OK).needs(&live_x86).then(guest::reads_host_value),
        row("guest::sees_slot_at_new_address_after_move", data, OK).needs(&live_x86).then(guest::sees_move),
        row("guest::write_to_readonly_slot_exits_as_mmio", data.flags(KVM_MEM_READONLY), OK).needs(&live_x86).needs(&[cap(KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM")]).then(guest::readonly_write_exits),
        row("guest::dirty_log_reports_written_page", data.flags(KVM_MEM_LOG_DIRTY_PAGES), OK).needs(&live_x86).then(guest::dirty_log),
        row("guest::sees_new_host_mapping_with_sync_mmu", data, OK).needs(&live_x86).needs(&[cap(KVM_CAP_SYNC_MMU, "KVM_CAP_SYNC_MMU")]).then(guest::sync_mmu),
        row("guest::deleted_slot_reads_exit_as_mmio", data, OK).needs(&live_x86).then(guest::deleted_slot),
    ]
}

/// The data slot of the guest rows: guest-physical 0x20000 (real-mode segment 0x2000).
const DATA_GPA: u64 = 0x20000;

#[cfg(target_arch = "x86_64")]
mod guest {
    use super::*;
    use fixtures::guest_x86::{Exit, Guest, Program, REPORT_PORT};
    use fixtures::raw::ioctl::get_dirty_log;

    const SEG: u16 = (DATA_GPA >> 4) as u16;

    /// A program that reads the byte at data offset `off` (segment `seg`) and reports it.
    fn read_and_report(seg: u16, off: u16) -> Program {
        Program::default()
            .set_ds(seg)
            .load_al(off)
            .out_al(REPORT_PORT as u8)
            .hlt()
    }

    fn expect_report(c: &mut Checker, exit: Exit, value: u8, what: &str) -> Step<()> {
        let want = Exit::IoOut(REPORT_PORT, vec![value]);
        c.ensure(exit == want, || {
            format!("{what}: guest exit {exit:?}, expected {want:?}")
        })
    }

    fn guest(env: &Env, p: &Program) -> Step<Guest> {
        Guest::new(&env.vm, p).map_err(fixture_error)
    }

    pub fn reads_host_value(env: &Env, c: &mut Checker) -> Step<()> {
        env.backing.write_byte(0x123, 0xa5);
        let mut g = guest(env, &read_and_report(SEG, 0x123))?;
        expect_report(c, g.run(), 0xa5, "guest read of the byte the host wrote")
    }

    pub fn sees_move(env: &Env, c: &mut Checker) -> Step<()> {
        env.backing.write_byte(0x10, 0x3c);
        let moved = region(1, 0x40000, 4 * PAGE).resolve(env);
        c.call("move the data slot to 0x40000", &moved, OK, env.set(&moved))?;
        // Read at the new address and report it, then read at the old one.
        let p = read_and_report(0x4000, 0x10).0;
        let p = Program(p[..p.len() - 1].to_vec())
            .set_ds(SEG)
            .load_al(0x10)
            .hlt();
        let mut g = guest(env, &p)?;
        expect_report(c, g.run(), 0x3c, "guest read at the new address")?;
        let exit = g.run();
        c.ensure(matches!(exit, Exit::MmioRead(0x20010, 1)), || {
            format!("read at the old address after the move: exit {exit:?}, expected an MMIO read of 0x20010")
        })
    }

    pub fn readonly_write_exits(env: &Env, c: &mut Checker) -> Step<()> {
        env.backing.write_byte(0x40, 0x11);
        let mut g = guest(
            env,
            &Program::default().set_ds(SEG).store_byte(0x40, 0x5a).hlt(),
        )?;
        let exit = g.run();
        c.ensure(exit == Exit::MmioWrite(DATA_GPA + 0x40, vec![0x5a]), || {
            format!("guest write to a read-only slot: exit {exit:?}, expected MmioWrite(0x20040, [0x5a])")
        })?;
        let now = env.backing.read_byte(0x40);
        c.ensure(now == 0x11, || {
            format!("read-only memory changed to {now:#x} by a guest write")
        })
    }

    pub fn dirty_log(env: &Env, c: &mut Checker) -> Step<()> {
        let mut bitmap = [0u64; 1];
        c.call(
            "KVM_GET_DIRTY_LOG before the guest runs (clears)",
            &"slot 1",
            OK,
            get_dirty_log(env.vm.k, env.vm.fd, 1, &mut bitmap),
        )?;
        let mut g = guest(
            env,
            &Program::default()
                .set_ds(SEG)
                .store_byte(0x2010, 0x77)
                .hlt(),
        )?;
        let exit = g.run();
        c.ensure(exit == Exit::Hlt, || {
            format!("guest write: exit {exit:?}, expected HLT")
        })?;
        c.ensure(env.backing.read_byte(0x2010) == 0x77, || {
            "the guest's write did not reach host memory".into()
        })?;
        bitmap = [0];
        c.call(
            "KVM_GET_DIRTY_LOG after the guest wrote page 2",
            &"slot 1",
            OK,
            get_dirty_log(env.vm.k, env.vm.fd, 1, &mut bitmap),
        )?;
        c.ensure(bitmap[0] == 0b100, || {
            format!(
                "dirty bitmap {:#b}, expected 0b100 (only page 2)",
                bitmap[0]
            )
        })
    }

    pub fn sync_mmu(env: &Env, c: &mut Checker) -> Step<()> {
        env.backing.write_byte(0x80, 0x01);
        let p = Program::default()
            .set_ds(SEG)
            .load_al(0x80)
            .out_al(REPORT_PORT as u8)
            .load_al(0x80)
            .out_al(REPORT_PORT as u8)
            .hlt();
        let mut g = guest(env, &p)?;
        expect_report(c, g.run(), 0x01, "first read (old mapping)")?;
        env.backing.replace_page(0).map_err(fixture_error)?;
        env.backing.write_byte(0x80, 0x02);
        expect_report(
            c,
            g.run(),
            0x02,
            "second read after mmap of a new page over the backing",
        )
    }

    pub fn deleted_slot(env: &Env, c: &mut Checker) -> Step<()> {
        let del = region(1, DATA_GPA, 0).resolve(env);
        c.call("delete the data slot", &del, OK, env.set(&del))?;
        let mut g = guest(env, &read_and_report(SEG, 0x10))?;
        let exit = g.run();
        c.ensure(matches!(exit, Exit::MmioRead(0x20010, 1)), || {
            format!("read of a deleted slot: exit {exit:?}, expected an MMIO read of 0x20010")
        })
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod guest {
    //! Guest programs exist for x86_64 only; these rows need Arch("x86_64") and never run here.
    use super::*;
    pub fn unsupported(_: &Env, _: &mut Checker) -> Step<()> {
        Err(harness::CaseReport::skip(
            "guest programs are implemented for x86_64 only",
        ))
    }
    pub use unsupported as reads_host_value;
    pub use unsupported as sees_move;
    pub use unsupported as readonly_write_exits;
    pub use unsupported as dirty_log;
    pub use unsupported as sync_mmu;
    pub use unsupported as deleted_slot;
}

// ---- property: random slot sequences against the reference model ----
//
// fixtures::models::memslots holds the model of §6.2/§6.3 and the proptest state machine; here
// it runs against fresh VMs of the selected kernel, seeded from the run's --seed.

#[rustfmt::skip]
const PROPERTY: Property = Property::new(SUITE, "create_modify_move_delete_model", memslots::STREAM, memslots::DEFAULT_CASES);

fn property(host: &Arc<Host>, ctx: &CaseContext, p: &Property) -> Step<harness::CaseReport> {
    let vm = Vm::new().map_err(fixture_error)?;
    if let Some(cause) = fixtures::not_runnable::memslots_refused(vm.k, vm.fd) {
        return Ok(not_runnable::skip(cause));
    }
    let rules = Rules::for_host(
        host.arch(),
        vm.cap(KVM_CAP_NR_MEMSLOTS),
        vm.cap(KVM_CAP_MULTI_ADDRESS_SPACE),
        vm.cap(KVM_CAP_READONLY_MEM),
    );
    drop(vm);
    let backing =
        GuestMemory::aligned(Space::BACKING_LEN as usize, MIB as usize).map_err(fixture_error)?;
    let space = Arc::new(Space::new(&rules, backing.addr()));
    let facts = format!(
        "model facts: KVM_CAP_NR_MEMSLOTS {}, address spaces {}, read-only memory {}, arch granule {:#x} ({}); each input on a fresh VM, then probes of the final state (identical re-set of each slot the model has: 0; delete of each other id: EINVAL)",
        rules.nr_memslots,
        rules.address_spaces,
        rules.readonly,
        rules.granule,
        host.arch()
    );
    let strategy = memslots::sequences(rules.clone(), space.clone(), memslots::MAX_STEPS);
    let start = || Ok((Vm::new()?, MemslotModel::new(rules.clone(), space.clone())));
    let result = fixtures::models::check(&p.config(ctx), &strategy, start);
    p.report(ctx, vec![facts], result)
}
