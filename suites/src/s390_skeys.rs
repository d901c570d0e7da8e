//! KVM_S390_GET_SKEYS / KVM_S390_SET_SKEYS (api.txt 4.90 / 4.91, seeds/001): every rule of
//! kernel-semantics.md §4 as rows, plus a property that runs random key buffers against the
//! reference model in `fixtures::models::s390_skeys`.
//!
//! Each row: the memslots of the VM (`layout`), the storage-key calls that happen first
//! (`given`), the call under test, the exact expected outcome (or the alternatives of the two
//! s390 code states, each with the change that explains it; the unfixed +5 is a regression),
//! and optionally a check of what follows (keys read back, keys switched on or not).
//!
//! Fixture (kept here for now): a VM with two 1 MiB memslots backed by a 1 MiB-aligned
//! anonymous mapping (1 MiB is the classic gmap's memslot granularity): slot 0 at gpa 0
//! (gfns 0..256) and slot 1 at gpa 2 MiB (gfns 512..768), leaving a gap at gfns 256..512.
//! On classic-gmap kernels "keys in use" is per process: the rows rely on every case running
//! in its own process (the default; not with `--in-process`).
//!
//! Classic-gmap kernels drop the first non-zero key SET into a 1 MiB segment that has no host
//! page table yet (a kernel bug, kernel-semantics.md §4.3). Exactly one row checks that
//! (`set::key_kept_after_fault_in`, a known kernel bug there); every other row that plants keys
//! or reads back a key it set first faults the segment in (`Env::fault_in`: keys on, a host
//! write to the slot's memory, then a check that a key sticks), and a plant that still does not
//! read back ends the case as "setup failed", naming that row.

use crate::rows::{
    alt, by_gmap, cap, classic_gmap, classic_gmap_by_vm_memop, fixture_error, regression, Checker,
    Fixture, GetOrSet, Host, KnownBug, Need, Property, Ptr, Seed, Step,
};
use crate::rows::{bad_argument_cases, capability_absent, Target};
use fixtures::memory::{GuestMemory, Inaccessible};
use fixtures::models::s390_skeys::{self as model, short, Behaviour, SkeysAnswer, SkeysOp};
use fixtures::models::{Generated, SystemUnderTest};
use fixtures::raw::ioctl::{s390_get_skeys, s390_set_skeys, set_user_memory_region};
use fixtures::raw::ioctl::{KVM_S390_GET_SKEYS, KVM_S390_SET_SKEYS};
use fixtures::raw::uapi::*;
use fixtures::raw::{Backend, SysResult};
use fixtures::vm::Vm;
use harness::{CaseContext, CaseReport, Expected, Outcome};
use nix::errno::Errno::{EFAULT, EINVAL, ENOTTY};
use proptest::strategy::Strategy;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

pub const SUITE: &str = "s390_skeys";
pub const SEED: Seed = Seed {
    section: "4.90/4.91",
    ioctl: "KVM_S390_GET_SKEYS/KVM_S390_SET_SKEYS",
    file: "001_9f4b7fc9034e3c53.txt",
};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const PAGES_PER_MIB: u64 = MIB / PAGE_SIZE;
/// Frames of the standard layout: two 1 MiB slots with a 1 MiB gap between them.
const SLOT_A: Range<u64> = 0..PAGES_PER_MIB;
const SLOT_B: Range<u64> = 2 * PAGES_PER_MIB..3 * PAGES_PER_MIB;
const GAP: u64 = PAGES_PER_MIB + 44;
const BEYOND: u64 = 3 * PAGES_PER_MIB + 100;
/// Prefilled into GET buffers: odd, so never a key the kernel returns.
const SENTINEL: u8 = 0x5b;
const MAX: u64 = KVM_S390_SKEYS_MAX;

const GET: &str = "KVM_S390_GET_SKEYS on the VM fd";
const SET: &str = "KVM_S390_SET_SKEYS on the VM fd";

const R1_HINT: &str = model::R1_HINT;
const D1: &str = "D1: api.txt (before the Nov 2021 doc fix) names KVM_S390_GET_KEYS_NONE and KVM_S390_SKEYS_ALLOC_MAX; the uapi constants are KVM_S390_GET_SKEYS_NONE = 1 and KVM_S390_SKEYS_MAX = 1048576";
const D2: &str = "D2: api.txt says count 0 or > KVM_S390_SKEYS_MAX gives EINVAL; GET returns KVM_S390_GET_SKEYS_NONE (1) before it checks count when the guest does not use storage keys";
const D3: &str = "D3: api.txt says \"architecturally invalid\" keys give EINVAL; only bit 0x01 is checked, keys are switched on even when SET fails, classic-gmap kernels apply the keys before the failing index and check the memslot before the key";
const D11: &str = "D11: api.txt says \"negative value on error\"; new-gmap kernels without the fix returned +5 (PGM_ADDRESSING) for an unmapped gfn";

/// The row that checks the classic gmap's key drop after a fault-in.
const DROP_ROW: &str = "set::key_kept_after_fault_in";
const DROP_BUG: &str = "classic gmap: KVM_S390_SET_SKEYS drops a non-zero key for a gfn whose 1 MiB segment has no host page table yet and still returns 0 (kvm_s390_set_skeys moves on after fixup_user_fault without retrying the key)";
/// Frames per 1 MiB segment: the classic gmap's host page-table granularity.
const SEGMENT_FRAMES: u64 = model::FRAMES_PER_SEGMENT;
/// The key a fault-in sets and reads back to prove the segment has a page table.
const FAULT_IN_PROBE_KEY: u8 = 0x10;

/// Which memslots the VM has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// No memslots.
    Empty,
    /// Slot 0 at gfns 0..256, slot 1 at gfns 512..768.
    Standard,
    /// One 4 GiB slot at gpa 0: KVM_S390_SKEYS_MAX frames.
    Max,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub op: GetOrSet,
    pub start_gfn: u64,
    pub count: u64,
    /// SET: the keys, repeated to fill `count` bytes.
    pub keys: Vec<u8>,
    /// The key buffer; mapped: min(count, MAX + 1) bytes, the SET keys or, for GET, SENTINEL.
    pub buf: Ptr,
    pub flags: u32,
    pub reserved: [u32; 9],
}

pub fn get(start_gfn: u64, count: u64) -> Call {
    Call {
        op: GetOrSet::Get,
        start_gfn,
        count,
        keys: vec![],
        buf: Ptr::Mapped,
        flags: 0,
        reserved: [0; 9],
    }
}

pub fn set(start_gfn: u64, keys: &[u8]) -> Call {
    Call {
        op: GetOrSet::Set,
        start_gfn,
        count: keys.len() as u64,
        keys: keys.to_vec(),
        buf: Ptr::Mapped,
        flags: 0,
        reserved: [0; 9],
    }
}

impl Call {
    fn count(mut self, n: u64) -> Self {
        self.count = n;
        self
    }
    fn flags(mut self, f: u32) -> Self {
        self.flags = f;
        self
    }
    fn buf(mut self, b: Ptr) -> Self {
        self.buf = b;
        self
    }
    fn reserved(mut self, r: [u32; 9]) -> Self {
        self.reserved = r;
        self
    }
    fn what(&self) -> &'static str {
        match self.op {
            GetOrSet::Get => GET,
            GetOrSet::Set => SET,
        }
    }
}

/// What a row's checks work with.
pub struct Env {
    pub host: Arc<Host>,
    pub vm: Vm,
    pub _backing: Option<GuestMemory>,
    /// The buffer of the call under test (GET: what the kernel wrote into it).
    pub buf: Option<GuestMemory>,
    _inaccessible: Inaccessible,
    inaccessible: u64,
    /// The slots as (first gfn, frames, offset into the backing).
    slots: Vec<(u64, u64, usize)>,
    /// Segments (gfn / 256) this fixture faulted in.
    faulted: RefCell<BTreeSet<u64>>,
}

impl Env {
    fn new(host: &Arc<Host>, layout: Layout) -> Step<Env> {
        let vm = Vm::new().map_err(fixture_error)?;
        let inaccessible = Inaccessible::new().map_err(fixture_error)?;
        let addr = inaccessible.addr();
        let mut env = Env {
            host: Arc::clone(host),
            vm,
            _backing: None,
            buf: None,
            _inaccessible: inaccessible,
            inaccessible: addr,
            slots: vec![],
            faulted: RefCell::default(),
        };
        let slots: Vec<(u64, u64)> = match layout {
            Layout::Empty => vec![],
            Layout::Standard => vec![(0, MIB), (2 * MIB, MIB)],
            Layout::Max => vec![(0, MAX * PAGE_SIZE)],
        };
        if !slots.is_empty() {
            let len: u64 = slots.iter().map(|s| s.1).sum();
            let backing =
                GuestMemory::aligned(len as usize, MIB as usize).map_err(fixture_error)?;
            let mut off = 0;
            let mut c = Checker::new();
            for (i, (gpa, size)) in slots.into_iter().enumerate() {
                let r = KvmUserspaceMemoryRegion {
                    slot: i as u32,
                    flags: 0,
                    guest_phys_addr: gpa,
                    memory_size: size,
                    userspace_addr: backing.addr() + off,
                };
                c.setup(
                    "KVM_SET_USER_MEMORY_REGION",
                    &r,
                    set_user_memory_region(env.vm.k, env.vm.fd, &r),
                )?;
                env.slots
                    .push((gpa / PAGE_SIZE, size / PAGE_SIZE, off as usize));
                off += size;
            }
            env._backing = Some(backing);
        }
        Ok(env)
    }

    fn skeys(&self, call: &Call, addr: u64) -> KvmS390Skeys {
        KvmS390Skeys {
            start_gfn: call.start_gfn,
            count: call.count,
            skeydata_addr: addr,
            flags: call.flags,
            reserved: call.reserved,
        }
    }

    /// Issue a call; a mapped buffer is kept in `self.buf` for the checks after it.
    fn issue(&mut self, call: &Call) -> Step<(KvmS390Skeys, SysResult)> {
        let addr = match call.buf {
            Ptr::Mapped => {
                // Never more than MAX + 1 bytes: larger counts are refused before the buffer.
                let len = call.count.clamp(1, MAX + 1) as usize;
                let mut mem = GuestMemory::new(len).map_err(fixture_error)?;
                let bytes = mem.as_mut_slice();
                match call.op {
                    GetOrSet::Get => bytes.fill(SENTINEL),
                    GetOrSet::Set if !call.keys.is_empty() => {
                        for (b, k) in bytes.iter_mut().zip(call.keys.iter().cycle()) {
                            *b = *k;
                        }
                    }
                    GetOrSet::Set => {}
                }
                let a = mem.addr();
                self.buf = Some(mem);
                a
            }
            Ptr::Inaccessible => self.inaccessible,
            Ptr::Null => 0,
        };
        let s = self.skeys(call, addr);
        let r = match call.op {
            GetOrSet::Get => s390_get_skeys(self.vm.k, self.vm.fd, &s),
            GetOrSet::Set => s390_set_skeys(self.vm.k, self.vm.fd, &s),
        };
        Ok((s, r))
    }

    /// GET `count` keys from `start`: the result and the buffer afterwards.
    fn read(&self, start: u64, count: u64) -> (KvmS390Skeys, SysResult, Vec<u8>) {
        let mut out = vec![SENTINEL; count as usize];
        let s = KvmS390Skeys {
            start_gfn: start,
            count,
            skeydata_addr: out.as_mut_ptr() as u64,
            ..Default::default()
        };
        let r = s390_get_skeys(self.vm.k, self.vm.fd, &s);
        (s, r, out)
    }

    /// Offset of a gfn's page in the backing, when a slot holds it.
    fn backing_offset(&self, gfn: u64) -> Option<usize> {
        self.slots
            .iter()
            .find(|(first, n, _)| (*first..first + n).contains(&gfn))
            .map(|(first, _, off)| off + ((gfn - first) * PAGE_SIZE) as usize)
    }

    /// Make sure the 1 MiB segment of `gfn` has a host page table, so that keys SET there are
    /// kept on classic-gmap kernels too (they drop the first key of a segment without one;
    /// `set::key_kept_after_fault_in` checks that). The order matters there: keys go on first
    /// (SET of key 0 at the segment's first frame P, which never faults), because pages that are
    /// present when keys go on read R|C (0x06) afterwards (`ptep_zap_key`); then one host write
    /// to P's page makes the page table (and sets R|C in P's real key), so P then gets key
    /// FAULT_IN_PROBE_KEY, which must read back (the proof), and key 0 again. Switches storage
    /// keys on. Once per segment.
    fn fault_in(&self, c: &mut Checker, gfn: u64) -> Step<()> {
        let segment = gfn / SEGMENT_FRAMES;
        if !self.faulted.borrow_mut().insert(segment) {
            return Ok(());
        }
        let p = segment * SEGMENT_FRAMES;
        let backing = self._backing.as_ref();
        let Some((off, backing)) = self.backing_offset(p).zip(backing) else {
            return Err(fixture_error(format!("fault-in: gfn {p:#x} is in no slot")));
        };
        let (s, r) = self.write(p, &[0]);
        c.setup("SET_SKEYS of key 0 (fault-in: keys on first)", &s, r)?;
        backing.write_byte(off, backing.read_byte(off));
        for key in [FAULT_IN_PROBE_KEY, 0] {
            let (s, r) = self.write(p, &[key]);
            c.setup("SET_SKEYS (fault-in check)", &s, r)?;
            let (s, r, out) = self.read(p, 1);
            c.setup("GET_SKEYS (fault-in check)", &s, r)?;
            if out != [key] {
                return Err(c.setup_failed(
                    format!(
                        "the fixture's fault-in did not hold: after a host write to the page of gfn {p:#x}, SET_SKEYS of {key:#04x} there read back {:#04x}",
                        out[0]
                    ),
                    vec![format!(
                        "the rule under test was not reached; a dropped key is the classic-gmap bug that s390_skeys::{DROP_ROW} checks, which a host page table for the segment should prevent"
                    )],
                ));
            }
        }
        Ok(())
    }

    /// Plant keys before the call under test: fault in the segments of the non-zero keys, SET
    /// them, and check that they read back.
    fn plant(&self, c: &mut Checker, start: u64, keys: &[u8]) -> Step<()> {
        for (i, _) in keys.iter().enumerate().filter(|(_, k)| **k != 0) {
            self.fault_in(c, start + i as u64)?;
        }
        let (s, r) = self.write(start, keys);
        c.setup(SET, &s, r)?;
        let (s, r, out) = self.read(start, keys.len() as u64);
        c.setup("GET_SKEYS of the planted keys", &s, r)?;
        if out != keys {
            return Err(c.setup_failed(
                format!(
                    "planted keys did not read back: SET_SKEYS of {} at gfn {start:#x} read back {}, expected the keys SET ({})",
                    short(keys),
                    short(&out),
                    first_difference(start, &out, keys)
                ),
                vec![format!(
                    "the rule under test was not reached; a key that reads back 0x00 after a SET that returned 0 is the classic-gmap drop after a fault-in, which s390_skeys::{DROP_ROW} checks, but this fixture faulted the segment in first"
                )],
            ));
        }
        Ok(())
    }

    fn write(&self, start: u64, keys: &[u8]) -> (KvmS390Skeys, SysResult) {
        let s = KvmS390Skeys {
            start_gfn: start,
            count: keys.len() as u64,
            skeydata_addr: keys.as_ptr() as u64,
            ..Default::default()
        };
        (s, s390_set_skeys(self.vm.k, self.vm.fd, &s))
    }
}

/// What a row plants before its call.
#[derive(Debug, Clone)]
pub enum Given {
    /// Fault in the 1 MiB segment of this gfn (`Env::fault_in`; switches keys on), for a call
    /// that SETs keys there and reads them back.
    FaultIn(u64),
    /// SET these keys from this gfn; they must succeed and read back.
    Keys(u64, Vec<u8>),
}

/// The VM a row runs in.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub layout: Layout,
    /// Host memory the call may make the kernel allocate on a live host (bytes).
    pub host_memory: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            layout: Layout::Empty,
            host_memory: 0,
        }
    }
}

impl Fixture for Env {
    type Given = Given;
    type Call = Call;
    type Setup = Setup;

    fn open(host: &Arc<Host>, ctx: &CaseContext, row: &Row, _: &Expected) -> Step<Env> {
        isolated(host, ctx)?;
        if let Some(reason) = memory_short(host, row.setup.host_memory) {
            return Err(CaseReport::skip(reason));
        }
        if let Some(reason) = limit_too_low(row.setup.layout) {
            return Err(CaseReport::skip(reason));
        }
        Env::new(host, row.setup.layout)
    }

    /// The segments first, then the plants (whatever order the row lists them in).
    fn given(&mut self, given: &[Given], c: &mut Checker) -> Step<()> {
        for g in given {
            if let Given::FaultIn(gfn) = g {
                self.fault_in(c, *gfn)?;
            }
        }
        for g in given {
            if let Given::Keys(start, keys) = g {
                self.plant(c, *start, keys)?;
            }
        }
        Ok(())
    }

    fn call(&mut self, call: &Call, expected: Expected, c: &mut Checker) -> Step<()> {
        let (s, r) = self.issue(call)?;
        c.call(call.what(), &s, expected, r).map(drop)
    }

    fn expected_here(host: &Host, expected: Expected) -> Expected {
        for_this_kernel(host, &expected)
    }
}

type Row = crate::rows::Row<Env>;

/// A row of the suite: needs KVM_CAP_S390_SKEYS, runs in the standard layout.
#[track_caller]
fn row(id: impl Into<String>, call: Call, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect)
        .needs(&[cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")])
        .layout(Layout::Standard)
}

/// A row whose whole body is its check, in a VM without memslots unless it says otherwise.
#[track_caller]
fn custom(
    id: impl Into<String>,
    needs: &[Need],
    check: impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync + 'static,
) -> Row {
    Row::check(id, check).needs(needs)
}

impl Row {
    /// Keys are in use before the call (a SET of key 0 at gfn 0).
    fn keys_on(self) -> Self {
        self.planted(0, &[0])
    }
    fn planted(self, start: u64, keys: &[u8]) -> Self {
        self.given(&[Given::Keys(start, keys.to_vec())])
    }
    /// The call under test SETs keys at `gfn` and the row reads them back: fault the segment in
    /// first, so the classic gmap's drop (checked by its own row) stays out of this one.
    fn faulted_in(self, gfn: u64) -> Self {
        self.given(&[Given::FaultIn(gfn)])
    }
    fn layout(mut self, l: Layout) -> Self {
        self.setup.layout = l;
        self
    }
    fn host_memory(mut self, bytes: u64) -> Self {
        self.setup.host_memory = bytes;
        self
    }
}

const NONE: Outcome = Outcome::Value(KVM_S390_GET_SKEYS_NONE);
const OK: Outcome = Outcome::OK;

/// A gfn outside every memslot: EFAULT; the unfixed new gmap's +5 is regression R1.
fn unmapped() -> Expected {
    Expected::OneOf(vec![
        alt(EFAULT, "gfn outside every memslot (classic gmap, and new gmap with \"KVM: s390: Return -EFAULT instead of PGM_ADDRESSING\")"),
        regression(Outcome::Value(PGM_ADDRESSING), R1_HINT),
    ])
}

/// The whole table.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    let mut rows = vec![
        // ---- keys never used: KVM_S390_GET_SKEYS_NONE, before the count check (D2) ----
        row("none::get_returns_none", get(0, 1), NONE).then(buffer_untouched).doc(D1),
        row("none::get_count_0", get(0, 0), NONE).doc(D2),
        row("none::get_count_2_40", get(0, 1 << 40), NONE).doc(D2),
        row("none::get_count_max_plus_one", get(0, MAX + 1), NONE).doc(D2),
        row("none::get_outside_memslots", get(BEYOND, 4), NONE),
        row("none::get_without_memslots", get(0, 1), NONE).layout(Layout::Empty),
        row("none::get_inaccessible_buffer", get(0, 1).buf(Ptr::Inaccessible), NONE),
        row("none::get_null_buffer", get(0, 1).buf(Ptr::Null), NONE),
        row("none::get_flags_checked_first", get(0, 1).flags(1), EINVAL),
        // ---- SET switches keys on, even when it fails after the copy ----
        row("enable::set_switches_keys_on", set(0, &[0x10]), OK).then(keys_on),
        row("enable::failed_set_invalid_key_switches_keys_on", set(0, &[0x11]), EINVAL).then(keys_on).doc(D3),
        row("enable::failed_set_outside_memslots_switches_keys_on", set(BEYOND, &[0x10]), unmapped()).then(keys_on).doc(D11),
        row("enable::failed_set_count_0_leaves_keys_off", set(0, &[0x10]).count(0), EINVAL).then(keys_off),
        row("enable::failed_set_flags_leaves_keys_off", set(0, &[0x10]).flags(1), EINVAL).then(keys_off),
        row("enable::failed_set_bad_buffer_leaves_keys_off", set(0, &[0x10]).buf(Ptr::Inaccessible), EFAULT).then(keys_off),
        row("enable::set_on_vm_without_memslots_switches_keys_on", set(0, &[0x10]), unmapped()).layout(Layout::Empty).then(keys_on_without_memslots),
        // ---- count ----
        row("count::set_0", set(0, &[0]).count(0), EINVAL),
        row("count::set_max_plus_one", set(0, &[0]).count(MAX + 1), EINVAL).then(keys_off),
        row("count::set_2_40", set(0, &[0]).count(1 << 40), EINVAL),
        row("count::set_u64_max", set(0, &[0]).count(u64::MAX), EINVAL),
        row("count::get_0_with_keys_on", get(0, 0), EINVAL).keys_on().doc(D2),
        row("count::get_max_plus_one_with_keys_on", get(0, MAX + 1), EINVAL).keys_on(),
        row("count::get_2_40_with_keys_on", get(0, 1 << 40), EINVAL).keys_on(),
        row("count::set_1", set(7, &[0x20]), OK).faulted_in(7).then(reads_back(7, &[0x20])),
        row("count::get_1", get(7, 1), OK).planted(7, &[0x30]).then(buffer_is(&[0x30])),
        row("count::get_max", get(0, MAX), OK)
            .long()
            .layout(Layout::Max)
            .planted(MAX - 1, &[0x40])
            .then(|env, c| {
                let b = env.buf.as_ref().expect("mapped").as_slice();
                let last = b[MAX as usize - 1];
                c.ensure(last == 0x40, || {
                    format!("key of the last frame read {last:#x}, expected 0x40")
                })?;
                let other = b[..MAX as usize - 1].iter().position(|&k| k != 0);
                c.ensure(other.is_none(), || {
                    format!("frame {other:?} read a non-zero key; never-set frames read 0")
                })
            }),
        row("count::set_max", set(0, &[0x50, 0x60]).count(MAX), OK)
            .long()
            .layout(Layout::Max)
            .host_memory(4 * GIB)
            .then(|env, c| {
                let (s, r, out) = env.read(MAX - 4, 4);
                c.call("GET_SKEYS of the last four frames", &s, OK, r)?;
                c.ensure(out == [0x50, 0x60, 0x50, 0x60], || {
                    format!("read back {out:02x?}, expected [50, 60, 50, 60]")
                })
            }),
        // ---- flags and reserved ----
        row("flags::set_bit_0", set(0, &[0]).flags(1), EINVAL),
        row("flags::set_bit_31", set(0, &[0]).flags(1 << 31), EINVAL),
        row("flags::set_all", set(0, &[0]).flags(u32::MAX), EINVAL),
        row("flags::get_bit_0", get(0, 1).flags(1), EINVAL).keys_on(),
        row("flags::get_bit_31", get(0, 1).flags(1 << 31), EINVAL).keys_on(),
        row("flags::get_all", get(0, 1).flags(u32::MAX), EINVAL).keys_on(),
        row("reserved::set_garbage_accepted", set(3, &[0x38]).reserved([u32::MAX; 9]), OK).faulted_in(3).then(reads_back(3, &[0x38])),
        row("reserved::get_garbage_accepted", get(3, 1).reserved([0xdead_beef; 9]), OK).planted(3, &[0x48]).then(buffer_is(&[0x48])),
        row("reserved::get_garbage_none", get(0, 1).reserved([u32::MAX; 9]), NONE),
        // ---- the key buffer ----
        row("buffer::set_inaccessible", set(0, &[0]).buf(Ptr::Inaccessible), EFAULT),
        row("buffer::set_null", set(0, &[0]).buf(Ptr::Null), EFAULT),
        row("buffer::get_inaccessible", get(0, 1).buf(Ptr::Inaccessible), EFAULT).keys_on(),
        row("buffer::get_null", get(0, 1).buf(Ptr::Null), EFAULT).keys_on(),
        // ---- gfns outside every memslot (R1, D11) ----
        row("unmapped::get_beyond_last_slot", get(BEYOND, 1), unmapped()).keys_on().then(buffer_untouched).doc(D11),
        row("unmapped::get_in_gap", get(GAP, 1), unmapped()).keys_on().then(buffer_untouched),
        row("unmapped::get_far_away", get(1 << 40, 1), unmapped()).keys_on(),
        row("unmapped::get_crossing_slot_end", get(SLOT_A.end - 2, 4), unmapped()).keys_on().planted(SLOT_A.end - 2, &[0x10, 0x20]).then(buffer_untouched),
        row("unmapped::get_crossing_into_next_slot", get(SLOT_B.start - 1, 2), unmapped()).keys_on().then(buffer_untouched),
        row("unmapped::get_crossing_last_slot_end", get(SLOT_B.end - 1, 2), unmapped()).keys_on(),
        row("unmapped::set_beyond_last_slot", set(BEYOND, &[0x10]), unmapped()).doc(D11),
        row("unmapped::set_in_gap", set(GAP, &[0x10]), unmapped()),
        row("unmapped::set_far_away", set(1 << 40, &[0x10]), unmapped()),
        row("unmapped::set_crossing_slot_end", set(SLOT_A.end - 2, &[0x10, 0x20, 0x30, 0x40]), unmapped())
        // Both code states set the keys before the first unmapped gfn.
        .faulted_in(SLOT_A.end - 2)
        .then(reads_back(SLOT_A.end - 2, &[0x10, 0x20])),
        row("unmapped::set_crossing_into_next_slot", set(SLOT_B.start - 1, &[0x10, 0x20]), unmapped()).then(reads_back(SLOT_B.start, &[0])),
        row("unmapped::set_start_gfn_wraps", set(u64::MAX, &[0x10, 0x20]), unmapped()).then(reads_back(0, &[0])),
        // ---- key values ----
        row("key::accepts_every_even_value", set(0, &even_keys()), OK).faulted_in(0).then(reads_back(0, &even_keys())),
        row("key::accepts_access_control_bits", set(9, &[0xf0]), OK).faulted_in(9).then(reads_back(9, &[0xf0])),
        row("key::accepts_fetch_protection_bit", set(9, &[0x08]), OK).faulted_in(9).then(reads_back(9, &[0x08])),
        row("key::accepts_reference_bit", set(9, &[0x04]), OK).faulted_in(9).then(reads_back(9, &[0x04])),
        row("key::accepts_change_bit", set(9, &[0x02]), OK).faulted_in(9).then(reads_back(9, &[0x02])),
        row("key::accepts_all_defined_bits", set(9, &[0xfe]), OK).faulted_in(9).then(reads_back(9, &[0xfe])),
        row("key::untouched_frames_read_0", get(SLOT_B.start, 256), OK).keys_on().then(buffer_is(&[0; 256])),
        row("key::rejects_reserved_bit_alone", set(5, &[0x01]), EINVAL).planted(5, &[0x30]).then(reads_back(5, &[0x30])).doc(D3),
        row("key::rejects_all_bits", set(5, &[0xff]), EINVAL).planted(5, &[0x30]).then(reads_back(5, &[0x30])),
        row("key::rejects_access_control_with_reserved", set(5, &[0xf1]), EINVAL).planted(5, &[0x30]).then(reads_back(5, &[0x30])),
        row("key::rejects_fetch_protection_with_reserved", set(5, &[0x09]), EINVAL).planted(5, &[0x30]).then(reads_back(5, &[0x30])),
        row("key::rejects_reference_change_with_reserved", set(5, &[0x07]), EINVAL).planted(5, &[0x30]).then(reads_back(5, &[0x30])),
        row("key::rejects_every_odd_value", set(5, &[0x03]), EINVAL).planted(5, &[0x30]).then(every_odd_key_rejected),
        row("key::invalid_key_mid_buffer", set(0, &[0x10, 0x20, 0x31, 0x40]), EINVAL).keys_on().faulted_in(0).then(partial_application).doc(D3),
        // No R1 here: the rewrite validates every key before it looks at an address.
        row("key::invalid_key_outside_memslots", set(GAP, &[0x01]), EINVAL).expect_from_fact(invalid_key_unmapped).then(keys_on).doc(D3),
        // No R1 here: the rewrite validates every key before it looks at an address.
        row("key::invalid_key_after_unmapped_gfn", set(SLOT_A.end - 1, &[0x10, 0x20, 0x21]), EINVAL).expect_from_fact(invalid_key_unmapped).faulted_in(SLOT_A.end - 1).then(first_key_set_before_unmapped_gfn),
    ];
    // ---- KVM_S390_KEYOP does not switch keys on (§4.2-3, §4.7; keyop.c asserts it) ----
    rows.push(custom("enable::keyop_does_not_switch_keys_on", &[cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS"), cap(KVM_CAP_S390_KEYOP, "KVM_CAP_S390_KEYOP")], keyop_leaves_keys_off).layout(Layout::Standard));
    // ---- the classic gmap's key drop after a fault-in (kernel-semantics.md §4.3) ----
    rows.push(custom(DROP_ROW, &[cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")], key_kept_after_fault_in).layout(Layout::Standard));
    // ---- which VM the keys are on ----
    rows.push(custom("scope::second_vm_in_the_same_process", &[cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")], second_vm));
    // ---- migration: what GET_SKEYS saves on one VM, SET_SKEYS restores on another ----
    rows.push(custom("migration::saved_keys_restore_on_a_second_vm", &[cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")], keys_migrate).layout(Layout::Standard));
    // ---- not s390: the capability reads 0 and the ioctls are refused ----
    // The refusal answers (ENOTTY on the VM fd, EINVAL on a vcpu fd) are x86's (§1.2).
    let not_s390 = [Need::Arch("x86_64")];
    rows.extend([
        custom("not_s390::capability_absent", &not_s390, |env, c| capability_absent(c, &env.host, env.vm.fd, KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")),
        row("not_s390::get_refused", get(0, 1), ENOTTY).layout(Layout::Empty).then(buffer_untouched),
        row("not_s390::set_refused", set(0, &[0x10]), ENOTTY).layout(Layout::Empty),
    ]);
    for r in rows.iter_mut().filter(|r| r.id.starts_with("not_s390::")) {
        r.needs = not_s390.to_vec();
    }
    rows
}

fn even_keys() -> Vec<u8> {
    (0..=255u8).filter(|k| model::key_valid(*k)).collect()
}

/// The case definitions for the harness.
pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::cases(SUITE, SEED, rows());
    let needs = [cap(KVM_CAP_S390_SKEYS, "KVM_CAP_S390_SKEYS")];
    cases.push(PROPERTY.case(SEED, &needs, property));
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &needs, &[("get_", KVM_S390_GET_SKEYS, Target::Vm), ("set_", KVM_S390_SET_SKEYS, Target::Vm)]);
    cases.extend(bad_arguments);
    cases
}

/// Classic gmap keeps "keys in use" per process: without a process per case, an earlier
/// case's SET_SKEYS would show up here.
fn isolated(host: &Host, ctx: &CaseContext) -> Step<()> {
    if !ctx.isolated && !new_gmap(host) {
        return Err(CaseReport::skip(
            "storage-key state is per process on this kernel (no KVM_CAP_S390_KEYOP): needs a process per case, run without --in-process",
        ));
    }
    Ok(())
}

/// The 4 GiB slot of `Layout::Max` must end below the VM's memory limit (§6.3), which some
/// hosts set lower (it follows the machine's highest addressable storage).
fn limit_too_low(layout: Layout) -> Option<String> {
    if layout != Layout::Max {
        return None;
    }
    let vm = Vm::new().ok()?;
    let limit = fixtures::raw::ioctl::s390_mem_limit(vm.k, vm.fd).ok()?;
    (limit < MAX * PAGE_SIZE).then(|| {
        format!("needs a VM memory limit of at least 4 GiB for KVM_S390_SKEYS_MAX frames; this host's is {} MiB", limit / MIB)
    })
}

/// A live host without enough available memory for what the call may make the kernel allocate.
fn memory_short(host: &Host, need: u64) -> Option<String> {
    if need == 0 || host.k.backend() != Backend::Live {
        return None;
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemAvailable:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    (kib * 1024 < need + GIB).then(|| {
        format!("needs {} GiB of available memory (setting every key of a 4 GiB slot may fault in its pages); MemAvailable is {} MiB", need / GIB + 1, kib / 1024)
    })
}

// ---- checks after the call ----

/// An invalid key for a gfn outside every memslot: the classic gmap checks the memslot first
/// (EFAULT), the new gmap validates every key before it looks at an address (EINVAL); decided
/// by the gmap fact (`rows::by_gmap`).
fn invalid_key_unmapped(host: &Host) -> Step<(Expected, String)> {
    by_gmap(
        host,
        EFAULT,
        Behaviour::Old.because(),
        EINVAL,
        Behaviour::New.because(),
    )
}

/// No memslot to read from: keys on shows as the memslot error instead of NONE.
fn keys_on_without_memslots(env: &Env, c: &mut Checker) -> Step<()> {
    let (s, r, _) = env.read(0, 1);
    c.call(
        "GET_SKEYS afterwards (keys on: the gfn check is reached)",
        &s,
        unmapped(),
        r,
    )
    .map(drop)
}

/// Classic gmap set the first key before it hit the unmapped gfn; new gmap set none.
fn first_key_set_before_unmapped_gfn(env: &Env, c: &mut Checker) -> Step<()> {
    alternatives(
        env,
        c,
        SLOT_A.end - 1,
        &[(&[0x10], Behaviour::Old), (&[0x00], Behaviour::New)],
    )
}

/// KVM_S390_KEYOP SSKE sets a key without switching storage keys on (GET still answers NONE).
fn keyop_leaves_keys_off(env: &Env, c: &mut Checker) -> Step<()> {
    let mut op = KvmS390Keyop {
        guest_addr: 0x1000,
        key: 0x10,
        operation: KVM_S390_KEYOP_SSKE,
        pad: [0; 6],
    };
    let r = fixtures::raw::ioctl::s390_keyop(env.vm.k, env.vm.fd, &mut op);
    c.call(
        "KVM_S390_KEYOP SSKE key 0x10 at gfn 1",
        &format!("{op:?}"),
        OK,
        r,
    )?;
    let (s, r, _) = env.read(0, 1);
    c.call("GET_SKEYS after the KEYOP", &s, NONE, r).map(drop)
}

fn keys_on(env: &Env, c: &mut Checker) -> Step<()> {
    let (s, r, _) = env.read(0, 1);
    c.call(
        "GET_SKEYS afterwards (keys are in use: not KVM_S390_GET_SKEYS_NONE)",
        &s,
        OK,
        r,
    )
    .map(drop)
}

fn keys_off(env: &Env, c: &mut Checker) -> Step<()> {
    let (s, r, _) = env.read(0, 1);
    c.call(
        "GET_SKEYS afterwards (keys still unused: the call failed before switching them on)",
        &s,
        NONE,
        r,
    )
    .map(drop)
}

/// The call's GET buffer was not written.
fn buffer_untouched(env: &Env, c: &mut Checker) -> Step<()> {
    let Some(b) = &env.buf else { return Ok(()) };
    let written = b.as_slice().iter().position(|&x| x != SENTINEL);
    c.ensure(written.is_none(), || {
        format!("the key buffer was written at byte {written:?}; expected it untouched")
    })
}

fn buffer_is(want: &'static [u8]) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let b = &env.buf.as_ref().expect("a mapped buffer").as_slice()[..want.len()];
        c.ensure(b == want, || {
            format!("GET_SKEYS wrote {b:02x?}, expected {want:02x?}")
        })
    }
}

fn reads_back(start: u64, want: &[u8]) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    let want = want.to_vec();
    move |env, c| {
        let (s, r, out) = env.read(start, want.len() as u64);
        c.call("GET_SKEYS read-back", &s, OK, r)?;
        c.ensure(out == want, || {
            format!("keys read back from gfn {start:#x}: {out:02x?}, expected {want:02x?}")
        })
    }
}

/// The classic and the rewritten gmap differ in these rows without a capability of their own,
/// but KVM_CAP_S390_KEYOP (247) came with the rewrite (e38c884df921): a kernel that has it must
/// show the new behaviour. Without it, either is accepted.
fn new_gmap(host: &Host) -> bool {
    host.cap(KVM_CAP_S390_KEYOP) > 0
}

/// `expected` narrowed to what this kernel must show: on a new-gmap kernel only the alternatives
/// that are not the classic gmap's (the new one and any known regression) remain.
fn for_this_kernel(host: &Host, expected: &Expected) -> Expected {
    match expected {
        Expected::OneOf(alts) if new_gmap(host) => {
            let old = Behaviour::Old.because();
            Expected::OneOf(
                alts.iter()
                    .filter(|a| a.because != old && !a.because.starts_with("classic gmap"))
                    .cloned()
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// The keys at `start` equal the pattern of the code state this kernel runs, decided by the gmap
/// fact (`rows::classic_gmap`); the other state's pattern fails, and the note names the fact.
fn alternatives(env: &Env, c: &mut Checker, start: u64, alts: &[(&[u8], Behaviour)]) -> Step<()> {
    let (classic, fact) = classic_gmap(&env.host)?;
    let here = if classic {
        Behaviour::Old
    } else {
        Behaviour::New
    };
    let (want, _) = alts
        .iter()
        .copied()
        .find(|(_, b)| *b == here)
        .expect("a pattern per code state");
    let other = alts.iter().find(|(_, b)| *b != here).map(|(w, _)| *w);
    c.note(format!(
        "keys expected after the failed SET_SKEYS decided by a host fact: {fact}; so {want:02x?}: {}",
        here.because()
    ));
    let (s, r, out) = env.read(start, want.len() as u64);
    c.call("GET_SKEYS read-back", &s, OK, r)?;
    c.ensure(out == want, || {
        let hint = if Some(out.as_slice()) == other {
            " (the other gmap's answer; the host fact says this kernel is not that one)"
        } else {
            ""
        };
        format!("keys after the failed SET_SKEYS read back {out:02x?}, expected {want:02x?}{hint}")
    })
}

/// After [0x10, 0x20, 0x31, 0x40] at gfn 0 failed: classic gmap kept the first two keys.
fn partial_application(env: &Env, c: &mut Checker) -> Step<()> {
    alternatives(
        env,
        c,
        0,
        &[
            (&[0x10, 0x20, 0, 0], Behaviour::Old),
            (&[0, 0, 0, 0], Behaviour::New),
        ],
    )
}

/// Every odd key value, one SET each: all EINVAL, and the frame keeps its key.
fn every_odd_key_rejected(env: &Env, c: &mut Checker) -> Step<()> {
    for k in (0..=255u8).filter(|k| !model::key_valid(*k)) {
        let (s, r) = env.write(5, &[k]);
        c.call(&format!("SET_SKEYS of key {k:#04x}"), &s, EINVAL, r)?;
    }
    reads_back(5, &[0x30])(env, c)
}

/// The classic gmap's drop (§4.3): a fresh VM whose slot's host memory nothing has touched,
/// SET a non-zero key, GET it back. Classic gmap: reading back 0x00 is a known kernel bug;
/// anywhere else it is a failure. Then the same SET again must keep the key (only a segment
/// without a host page table drops it).
fn key_kept_after_fault_in(env: &Env, c: &mut Checker) -> Step<()> {
    const GFN: u64 = 0x10;
    const KEY: u8 = 0x30;
    let (classic, fact) = classic_gmap(&env.host)?;
    let bug = KnownBug {
        bug: DROP_BUG,
        here: classic,
        fact,
    };
    let (s, r) = env.write(GFN, &[KEY]);
    c.call(
        &format!("{SET}: key {KEY:#04x} at gfn {GFN:#x}, the first key of a 1 MiB segment whose host memory was never touched"),
        &s,
        OK,
        r,
    )?;
    let (s, r, out) = env.read(GFN, 1);
    c.call("GET_SKEYS read-back", &s, OK, r)?;
    let got = out[0];
    c.ensure(got == KEY || got == 0, || {
        format!("key of gfn {GFN:#x} read back {got:#04x}, expected {KEY:#04x}")
    })?;
    c.known_bug(&bug, got == 0, || {
        format!("SET_SKEYS of key {KEY:#04x} at gfn {GFN:#x} returned 0, but the key read back 0x00, expected {KEY:#04x}: dropped when its segment was faulted in")
    })?;
    let (s, r) = env.write(GFN, &[KEY]);
    c.call(
        "the same SET_SKEYS again (the segment has a page table now)",
        &s,
        OK,
        r,
    )?;
    reads_back(GFN, &[KEY])(env, c)
}

/// Keys on in one VM; a second VM of the same process: classic gmap reports keys in use
/// (per process), new gmap reports NONE (per VM). The scope is the rule `classic_gmap` probes,
/// so this row is decided by a different one (`classic_gmap_by_vm_memop`: KEYOP, else the VM
/// MEM_OP CHECK_ONLY range walk); without the VM-fd MEM_OP (before 5.18) no fact tells, and
/// both answers are accepted.
fn second_vm(env: &Env, c: &mut Checker) -> Step<()> {
    const OLD: &str = "classic gmap: storage keys are a property of the process (mm_uses_skeys)";
    const NEW: &str = "new gmap (e38c884df921, ~7.0): storage keys are per VM";
    let expected = match classic_gmap_by_vm_memop(&env.host)? {
        Some((classic, fact)) => {
            let (o, why) = if classic { (OK, OLD) } else { (NONE, NEW) };
            c.note(format!(
                "expected outcome decided by a host fact: {fact}; so {o}: {why}"
            ));
            Expected::Is(o)
        }
        None => {
            c.note("no host fact tells the gmap apart without KVM_CAP_S390_KEYOP and the VM-fd MEM_OP (KVM_CAP_S390_MEM_OP_EXTENSION): both answers accepted");
            Expected::OneOf(vec![alt(OK, OLD), alt(NONE, NEW)])
        }
    };
    let first = Env::new(&env.host, Layout::Standard)?;
    let (s, r) = first.write(0, &[0x10]);
    c.setup("SET_SKEYS on the first VM", &s, r)?;
    let second = Env::new(&env.host, Layout::Standard)?;
    let (s, r, _) = second.read(0, 1);
    c.call(
        "GET_SKEYS on a second VM that never used keys",
        &s,
        expected,
        r,
    )
    .map(drop)
}

/// The source's keys for a slot of `frames` frames from `first`: every valid key value (ACC
/// nibble, fetch protection, reference and change bits in every combination), in a different
/// order per slot, so a frame shift, a lost bit or the other slot's keys all show.
fn migration_keys(first: u64, frames: u64) -> Vec<u8> {
    let even = even_keys();
    (0..frames)
        .map(|i| even[((i + first / 3) * 37 % even.len() as u64) as usize])
        .collect()
}

/// The first frame where two key buffers differ, for a failure message.
fn first_difference(start: u64, got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(g, w)| g != w) {
        Some(i) => format!(
            "first difference at gfn {:#x}: read back {:#04x}, expected {:#04x}",
            start + i as u64,
            got[i],
            want[i]
        ),
        None => format!("{} keys read back, expected {}", got.len(), want.len()),
    }
}

/// QEMU's storage-key migration (api.txt 4.90/4.91): GET_SKEYS of every slot on the source VM,
/// SET_SKEYS of those buffers on a destination VM of the same layout, GET_SKEYS there reads the
/// same keys back. The source's keys use every defined bit (a kernel that drops the
/// fetch-protection bit, part of the ACC nibble or the guest's reference/change bits on SET or
/// GET fails); after the save the source's keys change (the guest runs on), and afterwards the
/// source still holds its own: keys of two VMs of one process are separate (a kernel that keeps
/// them per guest frame for the whole process, or reads another VM's, fails). Both VMs' segments
/// are faulted in first (`Env::fault_in`), so the classic gmap's drop stays in its own row.
fn keys_migrate(env: &Env, c: &mut Checker) -> Step<()> {
    let slots = [SLOT_A, SLOT_B];
    // The source: plant, then save what GET_SKEYS reports.
    let mut saved = Vec::new();
    for s in &slots {
        env.plant(c, s.start, &migration_keys(s.start, s.end - s.start))?;
        let (a, r, out) = env.read(s.start, s.end - s.start);
        c.setup("GET_SKEYS on the source VM (the save)", &a, r)?;
        saved.push(out);
    }
    // The source's guest runs on: its keys change after the save.
    let later: Vec<Vec<u8>> = saved
        .iter()
        .map(|keys| keys.iter().map(|k| k ^ 0x50).collect())
        .collect();
    for (s, keys) in slots.iter().zip(&later) {
        let (a, r) = env.write(s.start, keys);
        c.setup("SET_SKEYS on the source VM after the save", &a, r)?;
    }
    // The destination: same layout, segments faulted in, the saved buffers restored.
    let dest = Env::new(&env.host, Layout::Standard)?;
    for s in &slots {
        dest.fault_in(c, s.start)?;
    }
    for (s, keys) in slots.iter().zip(&saved) {
        let (a, r) = dest.write(s.start, keys);
        c.call(
            "KVM_S390_SET_SKEYS of the saved buffer on the destination VM",
            &a,
            OK,
            r,
        )?;
    }
    for (s, keys) in slots.iter().zip(&saved) {
        let (a, r, out) = dest.read(s.start, s.end - s.start);
        c.call("KVM_S390_GET_SKEYS on the destination VM", &a, OK, r)?;
        c.ensure(&out == keys, || {
            format!(
                "the destination's keys of gfns {:#x}..{:#x} differ from the source's saved ones: {}",
                s.start,
                s.end,
                first_difference(s.start, &out, keys)
            )
        })?;
    }
    for (s, keys) in slots.iter().zip(&later) {
        let (a, r, out) = env.read(s.start, s.end - s.start);
        c.call(
            "KVM_S390_GET_SKEYS on the source VM after the restore",
            &a,
            OK,
            r,
        )?;
        c.ensure(&out == keys, || {
            format!(
                "the source's keys of gfns {:#x}..{:#x} changed when the destination's were set: {}",
                s.start,
                s.end,
                first_difference(s.start, &out, keys)
            )
        })?;
    }
    Ok(())
}

// ---- property: random key buffers against the model ----

#[rustfmt::skip]
const PROPERTY: Property = Property::new(SUITE, "set_get_round_trip", "property::set_get_round_trip", 48);

/// Each input on a fresh VM of the standard layout, judged by `model::Worlds` (one model per
/// code state, with and without the classic gmap's drop). Faulting the memory in first, as the
/// rows do, would have needed keys switched on before the first operation.
fn property(host: &Arc<Host>, ctx: &CaseContext, p: &Property) -> Step<CaseReport> {
    isolated(host, ctx)?;
    let layout = [SLOT_A, SLOT_B];
    let (classic, fact) = classic_gmap(host)?;
    let behaviour = if classic {
        Behaviour::Old
    } else {
        Behaviour::New
    };
    let process_keys = Rc::new(Cell::new(false));
    let strategy = model::ops(&layout, 300, 1..7).prop_map(Generated::new);
    let start = || {
        let env = Env::new(host, Layout::Standard).map_err(|r| r.summary)?;
        let worlds = model::Worlds::new(&layout, Rc::clone(&process_keys)).only(behaviour);
        Ok((env, worlds))
    };
    let result = fixtures::models::check(&p.config(ctx), &strategy, start);
    let facts = format!("each input on a fresh VM (slot 0 at gfns 0..256, slot 1 at 512..768), then a GET of both slots; judged by the model of the code state a host fact decided ({fact}: {behaviour:?}), as documented and dropping keys after a fault-in");
    p.report(ctx, vec![facts], result)
}

/// The kernel answers the property's operations.
impl SystemUnderTest for Env {
    type Op = SkeysOp;
    type Answer = SkeysAnswer;
    fn apply(&mut self, op: &SkeysOp) -> SkeysAnswer {
        match op {
            SkeysOp::Set { start_gfn, keys } => SkeysAnswer {
                result: self.write(*start_gfn, keys).1,
                keys: None,
            },
            SkeysOp::Get { start_gfn, count } => {
                let (_, result, out) = self.read(*start_gfn, *count);
                let untouched = out.iter().all(|&b| b == SENTINEL);
                SkeysAnswer {
                    result,
                    keys: (!untouched).then_some(out),
                }
            }
        }
    }
}
