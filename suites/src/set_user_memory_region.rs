//! KVM_SET_USER_MEMORY_REGION (api.txt 4.34, seeds/003): every rule of kernel-semantics.md §6
//! that applies to the host, as rows. Each row: the slots that exist first (`given`), the
//! call under test, the exact expected outcome, and optionally a check of what follows
//! (a guest program reading the memory, the dirty log, the slot still being there).

use crate::rows::not_runnable;
use crate::rows::{
    alt, cap, case, fixture_error, regression, CaseDef, Checker, Fixture, Host, KnownBug, Need,
    Property, Seed, Step,
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

/// The VM a row runs in beyond its `given`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Setup {
    /// A ucontrol VM (KVM_CREATE_VM type KVM_VM_S390_UCONTROL) instead of a default one.
    pub ucontrol: bool,
}

/// A VM of type KVM_VM_S390_UCONTROL, or the setup error that names the row about creating
/// one (the fixture checks its own setup: a kernel that refuses the type fails that row).
pub fn ucontrol_vm() -> Step<Vm> {
    Vm::of_type(KVM_VM_S390_UCONTROL).map_err(|e| match e {
        Ok(errno) => fixture_error(format!(
            "setup failed: KVM_CREATE_VM(KVM_VM_S390_UCONTROL) on /dev/kvm: {errno:?} ({}), although KVM_CAP_S390_UCONTROL is non-zero and this process has CAP_SYS_ADMIN; see {SUITE}::{UCONTROL_CREATE_ROW}",
            errno.desc()
        )),
        Err(reason) => fixture_error(reason),
    })
}

impl Fixture for Env {
    type Given = Region;
    type Call = Region;
    type Setup = Setup;

    fn open(host: &Arc<Host>, _: &CaseContext, row: &Row, expected: &Expected) -> Step<Env> {
        let vm = if row.setup.ucontrol {
            ucontrol_vm()?
        } else {
            Vm::new().map_err(fixture_error)?
        };
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
        if mem_limit == Some(0)
            && (relative || !row.given.is_empty() || crate::rows::accepts_ok(expected))
        {
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
    rows.extend([
        row("s390::size_4k", a.size(4 * KIB), EINVAL).expect_from_fact(granularity_by_gmap).needs(&s390).doc("s390's 1 MiB granularity is not in api.txt 4.34"),
        row("s390::userspace_addr_4k_aligned", a.at(4 * KIB), EINVAL).expect_from_fact(granularity_by_gmap).needs(&s390),
        row("s390::gpa_4k_aligned", a.gpa(4 * KIB), OK).needs(&s390),
        row("s390::slot_ending_at_mem_limit", a.gpa_below_mem_limit(MIB), OK).needs(&s390).doc("the s390 memory limit (KVM_S390_VM_MEM_LIMIT_SIZE) on memslots is not in api.txt 4.34"),
        row("s390::slot_crossing_mem_limit", a.gpa_below_mem_limit(MIB / 2), EINVAL).needs(&s390),
        row("s390::slot_starting_at_mem_limit", a.gpa_below_mem_limit(0), EINVAL).needs(&s390),
        row("s390::userspace_addr_unmapped_accepted", a.raw_uaddr(0x4000_0000_0000_0000), OK).needs(&s390).doc("s390's access_ok() accepts any address (separate user address space)"),
    ]);
    rows.extend(ucontrol_rows());
    rows.push(row("fill::every_slot_then_one_more", a, OK).then(fill_every_slot).long());
    rows.extend(guest_rows());
    rows
}

// ---- ucontrol VMs (kernel-semantics.md §6.3, selftest s390/ucontrol_test.c) ----

/// What every row on a ucontrol VM needs: s390x, a kernel built with
/// CONFIG_KVM_S390_UCONTROL (KVM_CAP_S390_UCONTROL 1; Debian's kernels have 0) and
/// CAP_SYS_ADMIN (kvm_arch_init_vm refuses the type to anyone else).
pub const UCONTROL: [Need; 3] = [
    Need::Arch("s390x"),
    cap(KVM_CAP_S390_UCONTROL, "KVM_CAP_S390_UCONTROL"),
    Need::SysAdmin,
];

/// The end of a ucontrol VM's internal memslot on 6.13+: it covers [0, TASK_SIZE rounded down
/// to 1 MiB), and s390's TASK_SIZE is -PAGE_SIZE [V 7.2].
pub const UCONTROL_SLOT_END: u64 = 0xffff_ffff_fff0_0000;

/// A 1 MiB slot on a ucontrol VM is accepted by a kernel without the hook's ucontrol test
/// (6.1.176) and then mapped through the VM's NULL gmap: a crash of the host kernel, not an
/// answer. No capability tells; the hook is in 6.12.107 and 7.2.13 (read), so older releases
/// skip the rows that create one.
pub const UCONTROL_SLOT_SAFE: Need = Need::KernelAtLeast {
    release: (6, 12, 107),
    why: "older kernels may lack the ucontrol memslot check and map the slot through the ucontrol VM's NULL gmap, a host crash",
};

/// The row about creating a ucontrol VM; the other ucontrol rows' fixtures point at it.
const UCONTROL_CREATE_ROW: &str = "ucontrol::create_vm";

/// What 6.1 did (the ucontrol VM has no gmap, and its commit maps the slot through it).
pub const UCONTROL_ACCEPTS_HINT: &str = "the memslot is accepted on a ucontrol VM; fixed by the 2024 patch that makes kvm_arch_prepare_memory_region refuse memslot changes on ucontrol VMs with EINVAL (api.rst: \"Returns -EINVAL if the VM has the KVM_VM_S390_UCONTROL flag set\"; in 6.12, not in 6.1.176, whose commit then maps the slot through the VM's NULL gmap)";

/// A user slot at guest address 0 on a ucontrol VM. 6.13 gave ucontrol VMs an internal memslot
/// over [0, UCONTROL_SLOT_END) and reserved one slot id for it (KVM_INTERNAL_MEM_SLOTS 1, so
/// KVM_CAP_NR_MEMSLOTS = 32767 - 1 = 32766 on s390; s390 has no other internal slot): there the
/// generic overlap check refuses the slot with EEXIST before the arch hook. Without it (6.12:
/// 32767) the hook's ucontrol test refuses it with EINVAL. The slot count decides, a rule other
/// than the one under test.
pub fn ucontrol_slot_at_0_by_internal_slot(host: &Host) -> Step<(Expected, String)> {
    let n = host.cap(KVM_CAP_NR_MEMSLOTS);
    let fact = format!("KVM_CHECK_EXTENSION(KVM_CAP_NR_MEMSLOTS) = {n}");
    Ok(if n == 32766 {
        let why = "32767 slot ids less the one s390 reserves for the ucontrol VM's internal slot (6.13+), which covers guest address 0: the overlap check refuses the slot first";
        (Expected::errno(EEXIST), format!("{fact}; so EEXIST: {why}"))
    } else {
        let why = "no internal slot is reserved (6.12: 32767), so nothing overlaps and the s390 memslot hook refuses the user slot of a ucontrol VM";
        let e = Expected::OneOf(vec![
            alt(
                EINVAL,
                "kvm_arch_prepare_memory_region refuses every memslot change on a ucontrol VM",
            ),
            regression(OK, UCONTROL_ACCEPTS_HINT),
        ]);
        (e, format!("{fact}; so EINVAL: {why}"))
    })
}

/// A user slot past the internal slot's end: no overlap on any kernel, so the hook's ucontrol
/// test refuses it (6.12: any change; 7.2: any user slot id). Less than 1 MiB fits there
/// (gpa + size must not wrap), so a classic-gmap kernel without that test refuses it for its
/// 1 MiB granularity; a new-gmap kernel without it accepts it.
pub fn ucontrol_slot_past_internal_slot() -> Expected {
    Expected::OneOf(vec![
        alt(EINVAL, "kvm_arch_prepare_memory_region refuses a user memslot on a ucontrol VM (6.12: any change, 7.2: any user slot id)"),
        regression(OK, UCONTROL_ACCEPTS_HINT),
    ])
}

/// A row on a fresh ucontrol VM.
trait UcontrolRow {
    fn on_ucontrol_vm(self) -> Self;
}

impl UcontrolRow for Row {
    fn on_ucontrol_vm(mut self) -> Self {
        self.setup.ucontrol = true;
        self.needs(&UCONTROL)
    }
}

const MEM_LIMIT_ATTR: &str =
    "kvm_device_attr { group: 0 (KVM_S390_VM_MEM_CTRL), attr: 2 (KVM_S390_VM_MEM_LIMIT_SIZE)";

/// Then: KVM_GET_DEVICE_ATTR KVM_S390_VM_MEM_LIMIT_SIZE reads KVM_S390_NO_MEM_LIMIT (~0): a
/// ucontrol VM is created without a limit (kvm_arch_init_vm) [V 6.1, 6.12, 7.2].
fn mem_limit_is_none(env: &Env, c: &mut Checker) -> Step<()> {
    let read = fixtures::raw::ioctl::s390_mem_limit(env.vm.k, env.vm.fd);
    let arg = format!("{MEM_LIMIT_ATTR}, addr: &u64 }}");
    c.call(
        "KVM_GET_DEVICE_ATTR KVM_S390_VM_MEM_LIMIT_SIZE on the ucontrol VM fd",
        &arg,
        OK,
        read.map(|_| 0),
    )?;
    let limit = read.unwrap_or(0);
    c.ensure(limit == KVM_S390_NO_MEM_LIMIT, || {
        format!("KVM_S390_VM_MEM_LIMIT_SIZE of the ucontrol VM: expected {KVM_S390_NO_MEM_LIMIT:#x} (KVM_S390_NO_MEM_LIMIT: a ucontrol VM has no limit), got {limit:#x}")
    })
}

/// Then: KVM_SET_DEVICE_ATTR KVM_S390_VM_MEM_LIMIT_SIZE with the new limit at `addr` (None: a
/// 1 GiB limit in a u64 of ours) is EINVAL: kvm_s390_set_mem_control refuses it on a ucontrol
/// VM before it reads the value (so a NULL `addr` is EINVAL too, not EFAULT) [V 6.1, 6.12,
/// 7.2]; the limit still reads none after it.
fn mem_limit_set_refused(
    addr: Option<u64>,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let new_limit: u64 = 1 << 30;
        let ptr = addr.unwrap_or(&new_limit as *const u64 as u64);
        let arg = match addr {
            Some(a) => format!("{MEM_LIMIT_ATTR}, addr: {a:#x} }}"),
            None => format!("{MEM_LIMIT_ATTR}, addr: &{new_limit:#x} }}"),
        };
        let r = fixtures::raw::ioctl::s390_set_mem_limit(env.vm.k, env.vm.fd, ptr);
        c.call(
            "KVM_SET_DEVICE_ATTR KVM_S390_VM_MEM_LIMIT_SIZE on the ucontrol VM fd",
            &arg,
            EINVAL,
            r,
        )?;
        mem_limit_is_none(env, c)
    }
}

#[rustfmt::skip]
fn ucontrol_rows() -> Vec<Row> {
    let a = region(0, 0, MIB);
    vec![
        row("ucontrol::slot_at_gpa_0", a, EINVAL).on_ucontrol_vm().needs(&[UCONTROL_SLOT_SAFE]).expect_from_fact(ucontrol_slot_at_0_by_internal_slot).doc("api.txt 4.34 does not say that a ucontrol VM takes no memslot (api.rst does since 2024)"),
        row("ucontrol::slot_past_internal_slot_end", region(0, UCONTROL_SLOT_END, 4 * KIB), ucontrol_slot_past_internal_slot()).on_ucontrol_vm(),
        Row::check("ucontrol::mem_limit_is_none", mem_limit_is_none).on_ucontrol_vm(),
        Row::check("ucontrol::mem_limit_set_refused", mem_limit_set_refused(None)).on_ucontrol_vm(),
        Row::check("ucontrol::mem_limit_set_refused_before_reading_it", mem_limit_set_refused(Some(0))).on_ucontrol_vm(),
    ]
}

/// KVM_CREATE_VM with type KVM_VM_S390_UCONTROL where KVM_CAP_S390_UCONTROL is non-zero and
/// the process has CAP_SYS_ADMIN: a VM fd (kvm_arch_init_vm) [V 6.12, 7.2].
fn ucontrol_create_case() -> harness::Case {
    case(
        SUITE,
        CaseDef::new(UCONTROL_CREATE_ROW, SEED, &UCONTROL, |host, _ctx| {
            let mut c = Checker::new();
            let r = fixtures::raw::ioctl::create_vm(host.k, host.sys.fd, KVM_VM_S390_UCONTROL);
            if let Ok(fd) = r {
                host.k.close(fd as i32);
            }
            c.ensure(r.is_ok(), || {
                format!("KVM_CREATE_VM(KVM_VM_S390_UCONTROL = 1) on /dev/kvm: expected a VM fd, got {r:?}, although KVM_CAP_S390_UCONTROL is non-zero and this process has CAP_SYS_ADMIN")
            })?;
            c.pass()
        }),
    )
}

/// KVM_CREATE_VM with type KVM_VM_S390_UCONTROL by a caller without CAP_SYS_ADMIN in its
/// effective set, on a kernel with KVM_CAP_S390_UCONTROL: kvm_arch_init_vm's
/// `capable(CAP_SYS_ADMIN)` refuses it with EINVAL (not EPERM) [V 6.12, 7.2]. The case takes
/// CAP_SYS_ADMIN out of its own thread's effective set (capset; it stays permitted), checks with
/// capget that it is gone, makes the call and puts the capability back. It runs only in a
/// process of its own (the default; each case is a fork of the case server, which runs it on its
/// one thread), so the drop cannot reach another case. The nearest wrong kernel: one whose
/// kvm_arch_init_vm lost the capable() check and hands any user of /dev/kvm a ucontrol VM.
fn ucontrol_without_cap_sys_admin_case() -> harness::Case {
    let needs = [
        Need::Arch("s390x"),
        cap(KVM_CAP_S390_UCONTROL, "KVM_CAP_S390_UCONTROL"),
    ];
    case(
        SUITE,
        CaseDef::new(
            "ucontrol::create_vm_without_cap_sys_admin",
            SEED,
            &needs,
            |host, ctx| {
                use fixtures::raw::caps::{drop_effective, effective, CAP_SYS_ADMIN};
                if !ctx.isolated {
                    return Err(harness::CaseReport::skip(
                        "drops CAP_SYS_ADMIN from its own effective set: needs a process per case, run without --in-process",
                    ));
                }
                let mut c = Checker::new();
                let dropped = drop_effective(CAP_SYS_ADMIN).map_err(|e| {
                    c.setup_failed(
                        format!(
                            "capset without CAP_SYS_ADMIN in the effective set: {e:?} ({})",
                            e.desc()
                        ),
                        vec![],
                    )
                })?;
                match effective(CAP_SYS_ADMIN) {
                    Ok(false) => {}
                    other => {
                        return Err(c.setup_failed(
                            format!("after the capset, capget shows CAP_SYS_ADMIN still effective ({other:?}), expected it gone"),
                            vec![],
                        ))
                    }
                }
                let r = fixtures::raw::ioctl::create_vm(host.k, host.sys.fd, KVM_VM_S390_UCONTROL);
                if let Ok(fd) = r {
                    host.k.close(fd as i32);
                }
                let restored = dropped.restore();
                c.call(
                    "KVM_CREATE_VM on /dev/kvm, type KVM_VM_S390_UCONTROL, by a process without CAP_SYS_ADMIN in its effective set",
                    &KVM_VM_S390_UCONTROL,
                    EINVAL,
                    r,
                )?;
                c.note(
                    "kvm_arch_init_vm: the ucontrol type needs capable(CAP_SYS_ADMIN), else EINVAL",
                );
                if let Err(e) = restored {
                    c.note(format!("CAP_SYS_ADMIN could not be put back ({e:?}); the case's process ends with it anyway"));
                }
                c.pass()
            },
        ),
    )
}

/// KVM_CREATE_VM with type KVM_VM_S390_UCONTROL on a kernel without KVM_CAP_S390_UCONTROL
/// (built without CONFIG_KVM_S390_UCONTROL, as Debian's are): kvm_arch_init_vm then takes no
/// type but 0, EINVAL [V 6.1, 6.12, 7.2]; whatever the caller's capabilities.
fn ucontrol_without_cap_case() -> harness::Case {
    let needs = [
        Need::Arch("s390x"),
        Need::CapAbsent {
            cap: KVM_CAP_S390_UCONTROL,
            name: "KVM_CAP_S390_UCONTROL",
        },
    ];
    case(
        SUITE,
        CaseDef::new(
            "ucontrol::create_vm_without_capability",
            SEED,
            &needs,
            |host, _ctx| {
                let mut c = Checker::new();
                let r = fixtures::raw::ioctl::create_vm(host.k, host.sys.fd, KVM_VM_S390_UCONTROL);
                if let Ok(fd) = r {
                    host.k.close(fd as i32);
                }
                c.call(
                    "KVM_CREATE_VM on /dev/kvm, type KVM_VM_S390_UCONTROL, KVM_CAP_S390_UCONTROL 0",
                    &KVM_VM_S390_UCONTROL,
                    EINVAL,
                    r,
                )?;
                c.note(
                    "kvm_arch_init_vm: without CONFIG_KVM_S390_UCONTROL any type but 0 is EINVAL",
                );
                c.pass()
            },
        ),
    )
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
    cases.push(user_memory_cap_case());
    cases.push(ucontrol_create_case());
    cases.push(ucontrol_without_cap_case());
    cases.push(ucontrol_without_cap_sys_admin_case());
    cases.push(mem_limit_case());
    cases.push(unaligned_gpa_mapped_case());
    cases.push(PROPERTY.case(SEED, &[], property));
    cases
}

/// api.txt 4.34 "Capability: KVM_CAP_USER_MEM" (the name is KVM_CAP_USER_MEMORY, 3):
/// kvm_vm_ioctl_check_extension_generic answers 1 on every architecture, on /dev/kvm and on the
/// VM fd. Its own case, not a row: it needs no memslot, so it also runs where the s390 memory
/// limit is 0 (every row's fixture then skips).
fn user_memory_cap_case() -> harness::Case {
    case(
        SUITE,
        CaseDef::new("cap::user_memory_is_1", SEED, &[], |_host, _ctx| {
            let vm = Vm::new().map_err(fixture_error)?;
            let mut c = Checker::new();
            crate::rows::capability_is(&mut c, &vm, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", 1)?;
            c.note("documentation deviation: api.txt 4.34 names the capability KVM_CAP_USER_MEM; the uapi constant is KVM_CAP_USER_MEMORY (3)");
            c.pass()
        }),
    )
}

/// s390 memslot granularity (size and userspace address): 1 MiB on the classic gmap, exactly,
/// decided by the gmap fact (`rows::classic_gmap`). On the new gmap it was 1 MiB at first (7.0)
/// and 4 KiB after "Allow 4k granularity for memslots" (~7.1); no capability or probe tells
/// those two apart, so both stay accepted there.
fn granularity_by_gmap(host: &Host) -> Step<(Expected, String)> {
    let (classic, fact) = crate::rows::classic_gmap(host)?;
    Ok(if classic {
        let why = "1 MiB memslot granularity (the classic gmap, e.g. 6.12)";
        (Expected::errno(EINVAL), format!("{fact}; so EINVAL: {why}"))
    } else {
        let alts = Expected::OneOf(vec![
            alt(
                OK,
                "4 KiB memslot granularity (s390 \"Allow 4k granularity for memslots\", ~7.1)",
            ),
            alt(
                EINVAL,
                "1 MiB memslot granularity (the new gmap before that patch, 7.0)",
            ),
        ]);
        let why =
            "the new gmap had 1 MiB granularity at first and 4 KiB later; no fact tells them apart";
        (alts, format!("{fact}; so 0 or EINVAL: {why}"))
    })
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
    // Slot 0 exists (the row's call); the others in the kernel's fastest order, each 1 MiB
    // above the one before.
    let ids = fixtures::vm::slot_ids_in_id_hash_order(1..n as u32);
    for (k, &id) in ids.iter().enumerate() {
        let r = KvmUserspaceMemoryRegion {
            slot: id,
            flags: 0,
            guest_phys_addr: (k as u64 + 17) * granule.max(MIB),
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
        // ---- the backings api.txt 4.34 names: "anonymous memory, ordinary files, and hugetlbfs" ----
        Row::check("backing::ordinary_file_map_shared_both_ways", |env, c| guest::shared_backing(env, c, guest::Shared::File, guest::SHARED)).needs(&live_x86).doc(DOC_BACKINGS),
        Row::check("backing::memfd_both_ways", |env, c| guest::shared_backing(env, c, guest::Shared::Memfd, guest::SHARED)).needs(&live_x86).doc(DOC_BACKINGS),
        Row::check("backing::hugetlb", |env, c| guest::hugetlb(env, c, guest::HUGETLB)).needs(&live_x86),
        // ---- a vCPU running in the slot while the host moves or deletes it (the kernel's set_memory_region_test) ----
        row("running::delete_while_guest_reads_exits_as_mmio", data, OK).needs(&live_x86).then(|env, c| guest::while_running(env, c, guest::Change::Delete, guest::MOVED)),
        row("running::move_while_guest_reads_then_data_at_new_address", data, OK).needs(&live_x86).then(|env, c| guest::while_running(env, c, guest::Change::Move, guest::MOVED)),
        row("backing::madv_dontneed_guest_reads_zeros_with_sync_mmu", data, OK).needs(&live_x86).needs(&[cap(KVM_CAP_SYNC_MMU, "KVM_CAP_SYNC_MMU")]).doc(DOC_MADV).then(|env, c| guest::madv_dontneed(env, c, guest::DONTNEED)),
    ]
}

const DOC_BACKINGS: &str = "api.txt 4.34 names anonymous memory, ordinary files and hugetlbfs; it does not say that a MAP_SHARED file (or memfd) backing stays shared with the guest both ways";
const DOC_MADV: &str = "api.txt 4.34 (this revision) names madvise(MADV_DROP), which does not exist; the advice that drops the pages is MADV_DONTNEED";

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

    /// A MAP_SHARED backing: an ordinary file (in the temporary directory) or a memfd.
    #[derive(Debug, Clone, Copy)]
    pub enum Shared {
        File,
        Memfd,
    }

    /// What the guest reads and the file holds, step by step (the kernel's values: `SHARED`).
    #[derive(Debug, Clone, Copy)]
    pub struct SharedWant {
        /// The guest's read of X, which the host wrote with pwrite before the guest ran.
        pub first: u8,
        /// The guest's read of X again, after the host changed it with pwrite (the page was
        /// already mapped for the guest: a private or stale copy reads `first`).
        pub after_pwrite: u8,
        /// The guest's read of Y (on another page), before the guest writes it.
        pub y: u8,
        /// What pread of Y returns after the guest wrote 0x5a there (a copy-on-write of the
        /// page for the guest leaves the file at `y`).
        pub y_in_file: u8,
    }

    pub const SHARED: SharedWant = SharedWant {
        first: 0x11,
        after_pwrite: 0x22,
        y: 0x33,
        y_in_file: 0x5a,
    };
    const X: u16 = 0x123;
    const Y: u16 = 0x2040;

    pub fn shared_backing(env: &Env, c: &mut Checker, kind: Shared, want: SharedWant) -> Step<()> {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileExt;
        let len = 4 * PAGE;
        let (file, what): (std::fs::File, String) = match kind {
            Shared::File => {
                let dir = std::env::temp_dir();
                let path = dir.join(format!("kvm-conformance-backing-{}", std::process::id()));
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|e| fixture_error(format!("create {}: {e}", path.display())))?;
                // Unlinked at once: still an ordinary file, and nothing is left behind.
                let _ = std::fs::remove_file(&path);
                let fs = nix::sys::statfs::fstatfs(&f)
                    .map(|s| format!("{:#x}", s.filesystem_type().0))
                    .unwrap_or_else(|e| format!("unknown ({e})"));
                (
                    f,
                    format!(
                        "an ordinary file in {} (filesystem magic {fs})",
                        dir.display()
                    ),
                )
            }
            Shared::Memfd => {
                let fd = nix::sys::memfd::memfd_create(
                    "kvm-conformance-backing",
                    nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
                )
                .map_err(|e| fixture_error(format!("memfd_create: {e}")))?;
                (std::fs::File::from(fd), "a memfd".into())
            }
        };
        let io = |r: std::io::Result<()>| r.map_err(|e| fixture_error(format!("file I/O: {e}")));
        io(file.set_len(len))?;
        io(file.write_all_at(&[0x11], X.into()))?;
        io(file.write_all_at(&[0x33], Y.into()))?;
        let mem = GuestMemory::shared_file(file.as_fd(), len as usize).map_err(fixture_error)?;
        let slot = KvmUserspaceMemoryRegion {
            slot: 1,
            flags: 0,
            guest_phys_addr: DATA_GPA,
            memory_size: len,
            userspace_addr: mem.addr(),
        };
        c.setup(
            &format!("{CALL}, slot 1 backed by {what} (MAP_SHARED)"),
            &slot,
            env.set(&slot),
        )?;
        let p = Program::default()
            .set_ds(SEG)
            .load_al(X)
            .out_al(REPORT_PORT as u8)
            .load_al(X)
            .out_al(REPORT_PORT as u8)
            .load_al(Y)
            .out_al(REPORT_PORT as u8)
            .store_byte(Y, 0x5a)
            .hlt();
        let mut g = guest(env, &p)?;
        expect_report(
            c,
            g.run(),
            want.first,
            "guest read of a byte written to the file with pwrite before the guest ran",
        )?;
        io(file.write_all_at(&[0x22], X.into()))?;
        expect_report(c, g.run(), want.after_pwrite, "guest read of the same byte after pwrite changed it in the file (the guest had that page mapped already)")?;
        expect_report(
            c,
            g.run(),
            want.y,
            "guest read of a byte on another page, before the guest writes it",
        )?;
        let exit = g.run();
        c.ensure(exit == Exit::Hlt, || {
            format!("guest write: exit {exit:?}, expected HLT")
        })?;
        let mut b = [0u8];
        io(file.read_exact_at(&mut b, Y.into()))?;
        c.ensure(b[0] == want.y_in_file, || {
            format!("pread of the file after the guest wrote 0x5a at data offset {Y:#x}: {:#x}, expected {:#x}", b[0], want.y_in_file)
        })?;
        c.note(format!("backing: {what}, {len} bytes mapped MAP_SHARED; the file write went through pwrite(2), the guest's write read back with pread(2)"));
        Ok(())
    }

    /// What the guest reads from a hugetlb backing (the kernel's values: `HUGETLB`).
    #[derive(Debug, Clone, Copy)]
    pub struct HugetlbWant {
        /// At data offset 0x123 and 0xd0123 (on another 4 KiB page of the huge page), which
        /// the host wrote through its mapping.
        pub low: u8,
        pub high: u8,
    }

    pub const HUGETLB: HugetlbWant = HugetlbWant {
        low: 0xa5,
        high: 0x5a,
    };

    /// A slot backed by one huge page (MAP_HUGETLB, the default huge page size): the guest
    /// reads what the host wrote on two of its 4 KiB pages, and its write reaches the host.
    /// Without a free huge page the suite reserves one as root (given back when the case ends,
    /// even if it is killed) and otherwise skips, naming what is missing.
    pub fn hugetlb(env: &Env, c: &mut Checker, want: HugetlbWant) -> Step<()> {
        use fixtures::memory::{huge_pages, HugePageReservation};
        let (size, free) = huge_pages().map_err(fixture_error)?;
        let mut reservation = None;
        if free == 0 {
            if !nix::unistd::geteuid().is_root() {
                return Err(harness::CaseReport::skip(format!(
                    "needs a free huge page: HugePages_Free 0 (Hugepagesize {} KiB), and not root, so none can be reserved",
                    size / 1024
                )));
            }
            let r = HugePageReservation::add(1).map_err(|e| {
                harness::CaseReport::skip(format!(
                    "needs a free huge page: HugePages_Free 0 (Hugepagesize {} KiB), and reserving one failed: {e}",
                    size / 1024
                ))
            })?;
            c.note(format!(
                "reserved a huge page: /proc/sys/vm/nr_hugepages {} -> {} (written back when the case ends)",
                r.before, r.after
            ));
            reservation = Some(r);
        }
        let (_, free) = huge_pages().map_err(fixture_error)?;
        if free == 0 {
            return Err(harness::CaseReport::skip(format!(
                "needs a free huge page: HugePages_Free 0 (Hugepagesize {} KiB), also after adding one to /proc/sys/vm/nr_hugepages",
                size / 1024
            )));
        }
        // Declared after the reservation, so it is unmapped before the pool shrinks back.
        let mem = GuestMemory::hugetlb(size)
            .map_err(|e| fixture_error(format!("mmap MAP_HUGETLB of {size} bytes: {e}")))?;
        const LOW: usize = 0x123;
        const HIGH: usize = 0xd0123;
        const WRITTEN: usize = 0xd0200;
        mem.write_byte(LOW, 0xa5);
        mem.write_byte(HIGH, 0x5a);
        let slot = KvmUserspaceMemoryRegion {
            slot: 1,
            flags: 0,
            guest_phys_addr: DATA_GPA,
            memory_size: size as u64,
            userspace_addr: mem.addr(),
        };
        c.setup(
            &format!("{CALL}, slot 1 backed by one huge page (MAP_HUGETLB)"),
            &slot,
            env.set(&slot),
        )?;
        let high_seg = ((DATA_GPA + 0xd0000) >> 4) as u16;
        let p = Program::default()
            .set_ds(SEG)
            .load_al(LOW as u16)
            .out_al(REPORT_PORT as u8)
            .set_ds(high_seg)
            .load_al(0x123)
            .out_al(REPORT_PORT as u8)
            .store_byte(0x200, 0x77)
            .hlt();
        let mut g = guest(env, &p)?;
        expect_report(
            c,
            g.run(),
            want.low,
            "guest read at data offset 0x123 of the huge page",
        )?;
        expect_report(
            c,
            g.run(),
            want.high,
            "guest read at data offset 0xd0123 of the huge page",
        )?;
        let exit = g.run();
        c.ensure(exit == Exit::Hlt, || {
            format!("guest write: exit {exit:?}, expected HLT")
        })?;
        let now = mem.read_byte(WRITTEN);
        c.ensure(now == 0x77, || format!("the guest's write at data offset {WRITTEN:#x} reads back {now:#x} on the host, expected 0x77"))?;
        c.note(format!(
            "backing: one {} KiB huge page; guest_phys_addr {DATA_GPA:#x} and userspace_addr differ in their low 21 bits (real mode reaches no 2 MiB-aligned address but 0), so KVM maps it with small pages: the row checks that hugetlbfs memory backs a slot, not large guest mappings",
            size / 1024
        ));
        drop(mem);
        drop(reservation);
        Ok(())
    }

    /// What the guest reads before and after MADV_DONTNEED (the kernel's values: `DONTNEED`).
    #[derive(Debug, Clone, Copy)]
    pub struct DontneedWant {
        pub before: u8,
        /// A kernel that keeps the guest's mapping of the dropped page reads `before`.
        pub after: u8,
    }

    pub const DONTNEED: DontneedWant = DontneedWant {
        before: 0x5a,
        after: 0,
    };

    /// api.txt 4.34: with KVM_CAP_SYNC_MMU "changes in the backing of the memory region are
    /// automatically reflected into the guest ... madvise(MADV_DROP)": the guest reads a byte
    /// (mapping the page for it), the host drops the page of the anonymous private backing
    /// with MADV_DONTNEED, and the guest's next read of the byte is 0 (a fresh zero page; the
    /// kernel's mmu notifier unmapped the old page from the guest).
    pub fn madv_dontneed(env: &Env, c: &mut Checker, want: DontneedWant) -> Step<()> {
        const OFF: u16 = 0x1080;
        env.backing.write_byte(OFF.into(), 0x5a);
        let p = Program::default()
            .set_ds(SEG)
            .load_al(OFF)
            .out_al(REPORT_PORT as u8)
            .load_al(OFF)
            .out_al(REPORT_PORT as u8)
            .hlt();
        let mut g = guest(env, &p)?;
        expect_report(
            c,
            g.run(),
            want.before,
            "guest read before madvise(MADV_DONTNEED)",
        )?;
        env.backing
            .discard(0x1000, PAGE as usize)
            .map_err(fixture_error)?;
        expect_report(c, g.run(), want.after, "guest read of the same byte after madvise(MADV_DONTNEED) of its page (anonymous private backing)")?;
        let host = env.backing.read_byte(OFF.into());
        c.ensure(host == 0, || {
            format!("the host reads {host:#x} after MADV_DONTNEED, expected 0")
        })
    }

    /// What the host does to the data slot while the guest spins reading it.
    #[derive(Debug, Clone, Copy)]
    pub enum Change {
        Delete,
        /// To guest-physical 0x40000.
        Move,
    }

    /// The kernel's set_memory_region_test, as a row: the guest reports that it runs, then
    /// reads a byte of the data slot in a loop while it is 0x5a; the host deletes or moves the
    /// slot meanwhile. The guest's next read of the old address has no memslot behind it and
    /// exits to userspace as an MMIO read of exactly that address (kvm_arch_flush_shadow_memslot
    /// zaps the guest's mappings of the old slot before the ioctl returns). After a move the
    /// guest (given 0 for that read, so it leaves the loop) reads the byte at the new address
    /// and reports 0x5a: the slot's data moved with it. A kernel that keeps the guest on the
    /// old mapping never exits: the case fails after 5 s.
    /// The byte the guest reads at the new address after a move (the kernel's value: the
    /// slot's data, `MOVED`; a kernel that moved the slot to fresh memory reads 0).
    pub const MOVED: u8 = 0x5a;

    pub fn while_running(env: &Env, c: &mut Checker, change: Change, moved: u8) -> Step<()> {
        use std::sync::mpsc;
        use std::time::Duration;
        const OFF: u16 = 0x30;
        const NEW_GPA: u64 = 0x40000;
        env.backing.write_byte(OFF.into(), 0x5a);
        let mut p = Program::default()
            .set_al(0x01)
            .out_al(REPORT_PORT as u8)
            .set_ds(SEG);
        // again: mov al, [OFF]; cmp al, 0x5a; je again
        p = p.load_al(OFF);
        p.0.extend_from_slice(&[0x3c, 0x5a, 0x74, 0xf9]);
        let p = p
            .set_ds((NEW_GPA >> 4) as u16)
            .load_al(OFF)
            .out_al(REPORT_PORT as u8)
            .hlt();
        let mut g = guest(env, &p)?;
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| -> Step<()> {
            // Created in here, so an early return drops `go` and the waiting vCPU thread ends.
            let (go, resume) = mpsc::channel::<()>();
            s.spawn(move || {
                for i in 0..3 {
                    // After its exit from the loop the vCPU waits until the ioctl has returned:
                    // a guest access during a move can exit before that (the old slot is
                    // invalid while the new one is not yet in), and the read of the new
                    // address is about the state after the move.
                    if i == 2 && resume.recv().is_err() {
                        break;
                    }
                    let exit = g.run();
                    let stop = matches!(exit, Exit::Hlt | Exit::Other(_));
                    if tx.send(exit).is_err() || stop {
                        break;
                    }
                }
            });
            let wait = |what: &str| {
                rx.recv_timeout(Duration::from_secs(5)).map_err(|_| {
                    harness::CaseReport::fail(format!("{what}: the guest did not exit within 5 s"))
                })
            };
            let started = wait("guest start")?;
            c.ensure(started == Exit::IoOut(REPORT_PORT, vec![1]), || {
                format!("guest start: exit {started:?}, expected IoOut(0x10, [1])")
            })?;
            // The vCPU is back in KVM_RUN, spinning on the slot's byte.
            std::thread::sleep(Duration::from_millis(20));
            let (what, r) = match change {
                Change::Delete => (
                    "delete the data slot while the guest reads it",
                    region(1, DATA_GPA, 0).resolve(env),
                ),
                Change::Move => (
                    "move the data slot to 0x40000 while the guest reads it",
                    region(1, NEW_GPA, 4 * PAGE).resolve(env),
                ),
            };
            let result = env.set(&r);
            let _ = go.send(());
            c.call(what, &r, OK, result)?;
            let old = DATA_GPA + u64::from(OFF);
            let exit = wait("after the change, the guest's next read of the old address")?;
            c.ensure(exit == Exit::MmioRead(old, 1), || format!("{what}: the guest's next read exited with {exit:?}, expected MmioRead({old:#x}, 1) (no memslot there any more)"))?;
            if let Change::Move = change {
                let exit = wait("the guest's read at the new address")?;
                c.ensure(exit == Exit::IoOut(REPORT_PORT, vec![moved]), || format!("guest read at the new address {:#x}: exit {exit:?}, expected IoOut(0x10, [{moved:#x}]) (the slot's data)", NEW_GPA + u64::from(OFF)))?;
            }
            Ok(())
        })
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
    #[derive(Debug, Clone, Copy)]
    pub enum Shared {
        File,
        Memfd,
    }
    pub const SHARED: () = ();
    pub const HUGETLB: () = ();
    pub const DONTNEED: () = ();
    pub fn shared_backing(_: &Env, _: &mut Checker, _: Shared, _: ()) -> Step<()> {
        unsupported_now()
    }
    pub fn hugetlb(_: &Env, _: &mut Checker, _: ()) -> Step<()> {
        unsupported_now()
    }
    pub fn madv_dontneed(_: &Env, _: &mut Checker, _: ()) -> Step<()> {
        unsupported_now()
    }
    #[derive(Debug, Clone, Copy)]
    pub enum Change {
        Delete,
        Move,
    }
    pub const MOVED: u8 = 0x5a;
    pub fn while_running(_: &Env, _: &mut Checker, _: Change, _: u8) -> Step<()> {
        unsupported_now()
    }
    fn unsupported_now() -> Step<()> {
        Err(harness::CaseReport::skip(
            "guest programs are implemented for x86_64 only",
        ))
    }
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

/// The backing rows' guest checks are live-only (the simulated kernel runs no guest), so they
/// are proven here: each runs on this host's kernel once with the kernel's expectation (it must
/// pass) and once with the nearest wrong kernel's answer as a deliberately wrong expectation
/// (it must fail, at the step that tells the two apart). Without usable KVM they do nothing.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::guest::*;
    use super::*;

    fn env() -> Option<Env> {
        let k = fixtures::kernel();
        let sys = fixtures::host::open_kvm(k).ok()?;
        let vm = Vm::new().ok()?;
        Some(Env {
            host: Arc::new(Host { k, sys }),
            nr_memslots: vm.cap(KVM_CAP_NR_MEMSLOTS),
            vm,
            backing: GuestMemory::aligned(BACKING as usize, MIB as usize).unwrap(),
            mem_limit: None,
        })
    }

    /// The check on a fresh VM: Ok, or the failure's one line (a skip or error panics).
    fn run(
        check: impl Fn(&Env, &mut Checker) -> Step<()>,
        with_data_slot: bool,
    ) -> Option<Result<(), String>> {
        let env = env()?;
        let mut c = Checker::new();
        if with_data_slot {
            let r = region(1, DATA_GPA, 4 * PAGE).resolve(&env);
            env.set(&r).unwrap();
        }
        Some(match check(&env, &mut c) {
            Ok(()) => Ok(()),
            Err(r) if r.status == harness::Status::Fail => Err(r.summary),
            Err(r) => panic!("not a failure: {r:?}"),
        })
    }

    fn assert_fails_at(r: Option<Result<(), String>>, step: &str) {
        match r {
            None => eprintln!("skipped: no usable KVM"),
            Some(r) => {
                let e = r.expect_err("the wrong expectation must fail");
                assert!(e.contains(step), "failed elsewhere: {e}");
            }
        }
    }

    #[test]
    fn shared_backings_tell_a_shared_mapping_from_a_stale_or_private_copy() {
        for kind in [Shared::File, Shared::Memfd] {
            let r = run(|e, c| shared_backing(e, c, kind, SHARED), false);
            assert!(matches!(r, None | Some(Ok(()))), "{kind:?}: {r:?}");
            // A kernel that keeps the page it mapped for the guest (a private copy taken at the
            // first fault) shows the old byte after the pwrite.
            let stale = SharedWant {
                after_pwrite: SHARED.first,
                ..SHARED
            };
            assert_fails_at(
                run(|e, c| shared_backing(e, c, kind, stale), false),
                "after pwrite changed it",
            );
            // A kernel that breaks copy-on-write for the guest's write leaves the file as it was.
            let private = SharedWant {
                y_in_file: SHARED.y,
                ..SHARED
            };
            assert_fails_at(
                run(|e, c| shared_backing(e, c, kind, private), false),
                "pread of the file",
            );
        }
    }

    #[test]
    fn madv_dontneed_tells_zeros_from_the_old_page() {
        let r = run(|e, c| madv_dontneed(e, c, DONTNEED), true);
        assert!(matches!(r, None | Some(Ok(()))), "{r:?}");
        // A kernel without the mmu-notifier invalidation keeps the guest on the dropped page.
        let kept = DontneedWant {
            after: DONTNEED.before,
            ..DONTNEED
        };
        assert_fails_at(
            run(|e, c| madv_dontneed(e, c, kept), true),
            "after madvise(MADV_DONTNEED)",
        );
    }

    #[test]
    fn a_move_while_the_guest_runs_tells_the_slot_data_from_fresh_memory() {
        for change in [Change::Delete, Change::Move] {
            let r = run(|e, c| while_running(e, c, change, MOVED), true);
            assert!(matches!(r, None | Some(Ok(()))), "{change:?}: {r:?}");
        }
        // A kernel that moved the slot to fresh (zeroed) memory.
        let r = run(|e, c| while_running(e, c, Change::Move, 0), true);
        assert_fails_at(r, "guest read at the new address");
    }

    #[test]
    fn hugetlb_reads_both_pages_of_the_huge_page() {
        // Skips (as the row does) where no huge page can be had; a skip is not a failure here.
        let r = std::panic::catch_unwind(|| run(|e, c| hugetlb(e, c, HUGETLB), false));
        let Ok(r) = r else { return };
        assert!(matches!(r, None | Some(Ok(()))), "{r:?}");
        // A kernel that maps only the first small page of the huge page (or the wrong one).
        let first_only = HugetlbWant {
            high: HUGETLB.low,
            ..HUGETLB
        };
        assert_fails_at(run(|e, c| hugetlb(e, c, first_only), false), "0xd0123");
    }
}
