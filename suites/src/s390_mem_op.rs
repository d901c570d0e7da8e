//! KVM_S390_MEM_OP (api.txt 4.89, seeds/000): the rules of kernel-semantics.md §3 as rows, on
//! the vcpu fd (logical and SIDA ops) and, with KVM_CAP_S390_MEM_OP_EXTENSION, on the VM fd
//! (absolute read/write, cmpxchg). Each row: what is set up first (`given`), one MEM_OP call,
//! the exact expected outcome and optionally a check of what followed (data moved or not, an
//! interruption pending, `*old_addr`). Two property cases round-trip random data.
//!
//! The fixture (here for now): a VM with one memslot, slot 0 at guest address 0, 1 MiB, backed
//! by 1 MiB-aligned host memory (older s390 kernels demand that), plus vcpu 0. A fresh vcpu has
//! PSW 0: DAT off, 24-bit mode, prefix 0, so a logical address below 1 MiB is the same
//! absolute address and everything from 1 MiB to 16 MiB is outside guest memory (§3.3).

use crate::rows::{
    alt, by_gmap, fixture_error, regression, Checker, Fixture, Host, Need, Property, Ptr, Seed,
    Step,
};
use crate::rows::{bad_argument_cases, Target};
use fixtures::memory::{GuestMemory, Inaccessible};
use fixtures::models::s390_mem_op::{GuestMemoryModel, MemAnswer, MemOp, Path};
use fixtures::models::{Generated, SystemUnderTest};
use fixtures::raw::ioctl::KVM_S390_MEM_OP;
use fixtures::raw::ioctl::{
    get_one_reg_u64, s390_get_irq_state, s390_initial_reset, s390_mem_op, s390_set_skeys,
    set_user_memory_region,
};
use fixtures::raw::uapi::*;
use fixtures::raw::SysResult;
use fixtures::vm::{Vcpu, Vm};
use harness::{CaseContext, CaseReport, Expected, Outcome};
use nix::errno::Errno::{E2BIG, EFAULT, EINVAL, ENOMEM, ENOTTY};
use proptest::prelude::*;
use std::sync::Arc;

mod dat;

pub const SUITE: &str = "s390_mem_op";
pub const SEED: Seed = Seed {
    section: "4.89",
    ioctl: "KVM_S390_MEM_OP",
    file: "000_80cfef2d5da4551a.txt",
};

const MIB: u64 = 1024 * 1024;
/// The one memslot: guest 0 .. 1 MiB.
const SLOT: u64 = MIB;
/// A plain data address well inside the slot (not in the prefix pages).
const DATA: u64 = 0x2_0000;
/// The page whose storage key the key rows set.
const KEY_GFN: u64 = 0x30;
const KEY_ADDR: u64 = KEY_GFN * PAGE_SIZE;
/// The cmpxchg target, aligned for every size up to 16.
const XCHG: u64 = 0x4_0000;
/// Outside guest memory but below 16 MiB, so 24-bit wrapping does not bring it back inside.
const OUTSIDE: u64 = 0x20_0000;
/// User buffers: at least the largest size any accepted row moves, plus slack to see overruns.
const UBUF_SLACK: usize = 4096;

const READ: u32 = KVM_S390_MEMOP_LOGICAL_READ;
const WRITE: u32 = KVM_S390_MEMOP_LOGICAL_WRITE;
const SIDA_READ: u32 = KVM_S390_MEMOP_SIDA_READ;
const SIDA_WRITE: u32 = KVM_S390_MEMOP_SIDA_WRITE;
const ABS_READ: u32 = KVM_S390_MEMOP_ABSOLUTE_READ;
const ABS_WRITE: u32 = KVM_S390_MEMOP_ABSOLUTE_WRITE;
const CMPXCHG: u32 = KVM_S390_MEMOP_ABSOLUTE_CMPXCHG;
const CHECK: u64 = KVM_S390_MEMOP_F_CHECK_ONLY;
const INJECT: u64 = KVM_S390_MEMOP_F_INJECT_EXCEPTION;
const SKEY: u64 = KVM_S390_MEMOP_F_SKEY_PROTECTION;

const OK: Outcome = Outcome::OK;
const PGM_ADDR: Outcome = Outcome::Value(PGM_ADDRESSING);
const PGM_PROT: Outcome = Outcome::Value(PGM_PROTECTION);
const PGM_PAGE_TRANS: Outcome = Outcome::Value(PGM_PAGE_TRANSLATION);
const PGM_SEGMENT_TRANS: Outcome = Outcome::Value(PGM_SEGMENT_TRANSLATION);
const PGM_ASCE: Outcome = Outcome::Value(PGM_ASCE_TYPE);
const PGM_REGION3_TRANS: Outcome = Outcome::Value(PGM_REGION_THIRD_TRANS);
const PGM_REGION1_TRANS: Outcome = Outcome::Value(PGM_REGION_FIRST_TRANS);
const PGM_REGION2_TRANS: Outcome = Outcome::Value(PGM_REGION_SECOND_TRANS);

// ---- what a row calls ----

/// Which fd the MEM_OP goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Vcpu,
    Vm,
}

/// `size`: a number, or relative to the KVM_CAP_S390_MEM_OP value.
#[derive(Debug, Clone, Copy)]
pub enum Size {
    N(u32),
    Cap(i64),
}

/// What fills the 32-byte union at offset 32 besides the named fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    Zero,
    /// Struct bytes `from`..64 set to `byte` after ar/key/old_addr were set.
    Fill {
        from: usize,
        byte: u8,
    },
    /// The selftest's "ignored_ignored_ignored_ignored" filler, then `ar` set explicitly.
    SelftestFiller,
}

#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub on: On,
    pub op: u32,
    pub gaddr: u64,
    pub size: Size,
    pub flags: u64,
    pub buf: Ptr,
    pub ar: u8,
    pub key: u8,
    pub old: Ptr,
    pub sida_offset: Option<u32>,
    pub tail: Tail,
    /// cmpxchg: `*old_addr` holds a value that differs from guest memory.
    pub stale_old: bool,
}

fn op(on: On, op: u32, gaddr: u64, size: u32) -> Op {
    Op {
        on,
        op,
        gaddr,
        size: Size::N(size),
        flags: 0,
        buf: Ptr::Mapped,
        ar: 0,
        key: 0,
        old: Ptr::Mapped,
        sida_offset: None,
        tail: Tail::Zero,
        stale_old: false,
    }
}

fn vread(gaddr: u64, size: u32) -> Op {
    op(On::Vcpu, READ, gaddr, size)
}
fn vwrite(gaddr: u64, size: u32) -> Op {
    op(On::Vcpu, WRITE, gaddr, size)
}
fn aread(gaddr: u64, size: u32) -> Op {
    op(On::Vm, ABS_READ, gaddr, size)
}
fn awrite(gaddr: u64, size: u32) -> Op {
    op(On::Vm, ABS_WRITE, gaddr, size)
}
fn xchg(gaddr: u64, size: u32) -> Op {
    op(On::Vm, CMPXCHG, gaddr, size)
}
fn sida(opcode: u32, size: u32, offset: u32) -> Op {
    Op {
        sida_offset: Some(offset),
        ..op(On::Vcpu, opcode, 0, size)
    }
}

impl Op {
    fn flags(mut self, f: u64) -> Self {
        self.flags = f;
        self
    }
    fn buf(mut self, p: Ptr) -> Self {
        self.buf = p;
        self
    }
    fn ar(mut self, ar: u8) -> Self {
        self.ar = ar;
        self
    }
    fn key(mut self, key: u8) -> Self {
        self.key = key;
        self
    }
    fn old(mut self, p: Ptr) -> Self {
        self.old = p;
        self
    }
    fn size(mut self, s: Size) -> Self {
        self.size = s;
        self
    }
    fn opcode(mut self, o: u32) -> Self {
        self.op = o;
        self
    }
    fn tail(mut self, t: Tail) -> Self {
        self.tail = t;
        self
    }
    fn stale(mut self) -> Self {
        self.stale_old = true;
        self
    }
}

/// State set up before the call.
#[derive(Debug, Clone, Copy)]
pub enum Given {
    InitialReset,
    /// KVM_S390_NORMAL_RESET / KVM_S390_CLEAR_RESET (KVM_CAP_S390_VCPU_RESETS).
    NormalReset,
    ClearReset,
    /// KVM_SET_SREGS with this CR0 (every other control and access register 0, as on a fresh
    /// vcpu).
    Cr0(u64),
    /// KVM_SET_ONE_REG of KVM_REG_S390_GBEA, read back with KVM_GET_ONE_REG.
    Gbea(u64),
    /// One KVM_RUN of the `diag 0x501` guest (`fixtures::guest_s390`) with this breaking-event
    /// address loaded through the sync regs; the guest takes no branch, so it keeps it.
    RanWithGbea(u64),
    /// KVM_S390_SET_SKEYS of one page.
    StorageKey {
        gfn: u64,
        key: u8,
    },
    /// The guest DAT tables of `dat::` (primary segment table, secondary region-third table,
    /// home segment table, their page tables, the access lists with their ASTEs, authority
    /// table and access-list space) written into guest memory and read back with VM-fd
    /// ABSOLUTE_READ.
    DatTables,
    /// KVM_SET_SREGS: CR1/CR7/CR13 the three ASCEs, CR2 and CR5 the access-list designations,
    /// CR8 the extended authorization index, the access registers these ALETs; read back with
    /// KVM_GET_SREGS.
    DatRegs(dat::Regs),
    /// KVM_S390_SET_INITIAL_PSW with this mask plus the wait bit, then KVM_RUN: the disabled
    /// wait intercepts at once (KVM_EXIT_S390_SIEIC, icptcode 0x1c) and leaves the PSW in the
    /// SIE block, where MEM_OP reads it (no guest instruction runs, so the DAT-on PSW is safe
    /// on an emulator too); the run area's PSW is checked after the run.
    Psw(u64),
}

// ---- the fixture ----

/// What a row's checks work with.
pub struct Env {
    pub vm: Vm,
    pub vcpu: Vcpu,
    /// Host memory behind slot 0, filled with `guest_pattern` before the call.
    pub mem: GuestMemory,
    /// The user buffer (`buf`), filled with `user_pattern` before the call.
    pub ubuf: GuestMemory,
    /// The cmpxchg `old_addr` buffer.
    pub obuf: GuestMemory,
    pub bad: Inaccessible,
    /// KVM_CAP_S390_MEM_OP: the maximum `size`.
    pub max: i64,
    /// `ubuf` and `obuf` (and guest memory, `m0`) as they were just before the call.
    pub u0: Vec<u8>,
    pub m0: Vec<u8>,
    pub o0: Vec<u8>,
    /// The argument struct of the call under test, once it was made.
    pub sent: Option<KvmS390MemOp>,
}

fn guest_pattern(i: usize) -> u8 {
    ((i as u32).wrapping_mul(2_654_435_761) >> 11) as u8 ^ (i >> 12) as u8
}

fn user_pattern(i: usize) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(0xa7)
}

impl Env {
    fn new(host: &Host) -> Step<Env> {
        let vm = Vm::new().map_err(fixture_error)?;
        let mut mem = GuestMemory::aligned(SLOT as usize, MIB as usize).map_err(fixture_error)?;
        let slot = KvmUserspaceMemoryRegion {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: SLOT,
            userspace_addr: mem.addr(),
        };
        set_user_memory_region(vm.k, vm.fd, &slot).map_err(|e| {
            fixture_error(format!(
                "KVM_SET_USER_MEMORY_REGION slot 0 (1 MiB at 0): {e:?}"
            ))
        })?;
        let vcpu = vm
            .vcpu(0)
            .map_err(|e| fixture_error(format!("KVM_CREATE_VCPU 0: {e:?}")))?;
        let max = host.cap(KVM_CAP_S390_MEM_OP);
        let ulen = (max.max(0) as usize).max(MEM_OP_MAX_SIZE as usize) + UBUF_SLACK;
        let mut ubuf = GuestMemory::new(ulen).map_err(fixture_error)?;
        let obuf = GuestMemory::new(4096).map_err(fixture_error)?;
        let bad = Inaccessible::new().map_err(fixture_error)?;
        for (i, b) in mem.as_mut_slice().iter_mut().enumerate() {
            *b = guest_pattern(i);
        }
        for (i, b) in ubuf.as_mut_slice().iter_mut().enumerate() {
            *b = user_pattern(i);
        }
        Ok(Env {
            vm,
            vcpu,
            mem,
            ubuf,
            obuf,
            bad,
            max,
            u0: vec![],
            m0: vec![],
            o0: vec![],
            sent: None,
        })
    }

    /// The argument struct of the call under test (checks run after it).
    fn sent(&self) -> &KvmS390MemOp {
        self.sent
            .as_ref()
            .expect("the checks after the call run after the call")
    }

    /// Remember the user buffers as the call gets them.
    fn snapshot(&mut self) {
        self.u0 = self.ubuf.as_slice().to_vec();
        self.m0 = self.mem.as_slice().to_vec();
        self.o0 = self.obuf.as_slice().to_vec();
    }

    fn fd(&self, on: On) -> i32 {
        match on {
            On::Vcpu => self.vcpu.fd,
            On::Vm => self.vm.fd,
        }
    }

    fn ptr(&self, p: Ptr, user: &GuestMemory) -> u64 {
        match p {
            Ptr::Mapped => user.addr(),
            Ptr::Null => 0,
            Ptr::Inaccessible => self.bad.addr(),
        }
    }

    fn size(&self, s: Size) -> u32 {
        match s {
            Size::N(n) => n,
            Size::Cap(d) => (self.max + d) as u32,
        }
    }

    /// The argument struct exactly as the kernel gets it.
    fn resolve(&self, o: &Op) -> KvmS390MemOp {
        let mut m = KvmS390MemOp {
            gaddr: o.gaddr,
            flags: o.flags,
            size: self.size(o.size),
            op: o.op,
            buf: self.ptr(o.buf, &self.ubuf),
            reserved: [0; 32],
        };
        if o.tail == Tail::SelftestFiller {
            m.reserved
                .copy_from_slice(b"ignored_ignored_ignored_ignored\0");
            m.set_ar(o.ar);
            return m;
        }
        match o.sida_offset {
            Some(off) => m.set_sida_offset(off),
            None => {
                m.set_ar(o.ar);
                m.set_key(o.key);
                if o.op == CMPXCHG {
                    m.set_old_addr(self.ptr(o.old, &self.obuf));
                }
            }
        }
        if let Tail::Fill { from, byte } = o.tail {
            m.reserved[from - 32..].fill(byte);
        }
        m
    }

    fn mem_op(&self, on: On, m: &KvmS390MemOp) -> SysResult {
        s390_mem_op(self.vm.k, self.fd(on), m)
    }

    /// Guest bytes [gaddr, gaddr + len) as the fixture left them before the call.
    fn original(gaddr: u64, len: usize) -> Vec<u8> {
        (gaddr as usize..gaddr as usize + len)
            .map(guest_pattern)
            .collect()
    }
}

// ---- rows ----

impl Fixture for Env {
    type Given = Given;
    type Call = Op;
    type Setup = ();

    fn open(host: &Arc<Host>, _: &CaseContext, _: &Row, _: &Expected) -> Step<Env> {
        Env::new(host)
    }

    fn given(&mut self, given: &[Given], c: &mut Checker) -> Step<()> {
        for &g in given {
            self.set_up(g, c)?;
        }
        Ok(())
    }

    fn call(&mut self, o: &Op, expected: Expected, c: &mut Checker) -> Step<()> {
        let m = self.resolve(o);
        if o.op == CMPXCHG {
            prepare_cmpxchg(self, o, m.size as usize);
        }
        self.snapshot();
        self.sent = Some(m);
        c.call(&what(&m, o.on), &m, expected, self.mem_op(o.on, &m))
            .map(drop)
    }
}

type Row = crate::rows::Row<Env>;

/// The requirements of every s390 row: the architecture and the ioctl itself.
fn s390() -> Vec<Need> {
    vec![
        Need::Arch("s390x"),
        Need::Cap {
            cap: KVM_CAP_S390_MEM_OP,
            name: "KVM_CAP_S390_MEM_OP",
            min: 1,
        },
    ]
}
/// VM-fd absolute ops and key protection (5.18+).
const EXT_BASE: Need = Need::CapBits {
    cap: KVM_CAP_S390_MEM_OP_EXTENSION,
    name: "KVM_CAP_S390_MEM_OP_EXTENSION (bit 0: key protection, VM-fd absolute ops)",
    bits: KVM_S390_MEMOP_EXTENSION_CAP_BASE as i64,
};
/// ABSOLUTE_CMPXCHG (6.3+): both bits, as the op lives on the VM fd.
const EXT_CMPXCHG: Need = Need::CapBits {
    cap: KVM_CAP_S390_MEM_OP_EXTENSION,
    name: "KVM_CAP_S390_MEM_OP_EXTENSION (bit 0 VM-fd ops, bit 1 cmpxchg)",
    bits: (KVM_S390_MEMOP_EXTENSION_CAP_BASE | KVM_S390_MEMOP_EXTENSION_CAP_CMPXCHG) as i64,
};
const SKEYS: Need = Need::Cap {
    cap: KVM_CAP_S390_SKEYS,
    name: "KVM_CAP_S390_SKEYS",
    min: 1,
};
const RESETS: Need = Need::Cap {
    cap: KVM_CAP_S390_VCPU_RESETS,
    name: "KVM_CAP_S390_VCPU_RESETS",
    min: 1,
};
const IRQ_STATE: Need = Need::Cap {
    cap: KVM_CAP_S390_IRQ_STATE,
    name: "KVM_CAP_S390_IRQ_STATE",
    min: 1,
};

/// A row of the suite: needs s390 and KVM_CAP_S390_MEM_OP.
#[track_caller]
fn row(id: impl Into<String>, call: Op, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect).needs(&s390())
}

/// KVM_CHECK_EXTENSION(cap) on /dev/kvm gives `expect`; needs s390 and KVM_CAP_S390_MEM_OP.
#[track_caller]
fn capability(id: &str, cap: u64, expect: impl Into<Expected>) -> Row {
    Row::capability(id, cap, expect).needs(&s390())
}

/// The whole table.
pub fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    rows.extend(op_rows());
    rows.extend(sida_rows());
    rows.extend(size_rows());
    rows.extend(flag_rows());
    rows.extend(check_only_rows());
    rows.extend(inject_rows());
    rows.extend(ar_rows());
    rows.extend(order_rows());
    rows.extend(key_rows());
    rows.extend(buf_rows());
    rows.extend(addr_rows());
    rows.extend(reserved_rows());
    rows.extend(vm_rows());
    rows.extend(cmpxchg_rows());
    rows.extend(absent_rows());
    rows.extend(dat_rows());
    rows.extend(ar_mode_rows());
    rows.extend(access_list_rows());
    rows
}

const DOC_VM_FD: &str =
    "api.txt 4.89 (this revision) documents a vcpu ioctl with ops 0/1 only; the VM fd \
     and ABSOLUTE_READ/WRITE/CMPXCHG came with KVM_CAP_S390_MEM_OP_EXTENSION (5.18, 6.3)";

#[rustfmt::skip]
fn op_rows() -> Vec<Row> {
    let mut rows = vec![
        row("op::logical_read_on_vcpu", vread(DATA, 256), OK).then(read_moved(DATA, 256)),
        row("op::logical_write_on_vcpu", vwrite(DATA, 256), OK).then(write_moved(DATA, 256)),
    ];
    for o in [4u32, 5, 6, 7] {
        rows.push(row(format!("op::rejects_{o}_on_vcpu"), vread(DATA, 8).opcode(o), EINVAL).then(nothing_moved()));
    }
    rows.push(row("op::rejects_0xffffffff_on_vcpu", vread(DATA, 8).opcode(u32::MAX), EINVAL).then(nothing_moved()));
    rows
}

/// SIDA ops on a vcpu that is not protected (§3.4): the size bound is checked before the
/// protection test and follows `gbea` (4096 fresh, 8192 after an initial reset, its low byte
/// + 1 pages after a KVM_SET_ONE_REG or a run).
#[rustfmt::skip]
fn sida_rows() -> Vec<Row> {
    let doc = "api.txt 4.89 (this revision) does not describe SIDA_READ/SIDA_WRITE (ops 2/3, 5.7)";
    let mut rows = Vec::new();
    for (name, o) in [("read", SIDA_READ), ("write", SIDA_WRITE)] {
        rows.extend([
            row(format!("sida::{name}_size_4096_fresh_vcpu"), sida(o, 4096, 0), EINVAL).doc(doc),
            row(format!("sida::{name}_size_8_offset_0x1c0"), sida(o, 8, 0x1c0), EINVAL),
            row(format!("sida::{name}_size_4097_fresh_vcpu"), sida(o, 4097, 0), E2BIG).expect_from_host(sida_e2big),
            row(format!("sida::{name}_size_4096_offset_1_fresh_vcpu"), sida(o, 4096, 1), E2BIG).expect_from_host(sida_e2big),
            row(format!("sida::{name}_size_4097_after_initial_reset"), sida(o, 4097, 0), EINVAL).given(&[Given::InitialReset]),
            row(format!("sida::{name}_size_8192_after_initial_reset"), sida(o, 8192, 0), EINVAL).given(&[Given::InitialReset]),
            row(format!("sida::{name}_size_8193_after_initial_reset"), sida(o, 8193, 0), E2BIG).given(&[Given::InitialReset]).expect_from_host(sida_e2big),
            // The clear reset starts with the initial one (gbea 1: 8192); the normal reset leaves
            // gbea alone (4096 on a fresh vcpu). kvm-s390.c kvm_arch_vcpu_ioctl_*_reset.
            row(format!("sida::{name}_size_8192_after_clear_reset"), sida(o, 8192, 0), EINVAL).given(&[Given::ClearReset]).needs(&[RESETS]),
            row(format!("sida::{name}_size_8193_after_clear_reset"), sida(o, 8193, 0), E2BIG).given(&[Given::ClearReset]).needs(&[RESETS]).expect_from_host(sida_e2big),
            row(format!("sida::{name}_size_4097_after_normal_reset"), sida(o, 4097, 0), E2BIG).given(&[Given::NormalReset]).needs(&[RESETS]).expect_from_host(sida_e2big),
            // A write of the breaking-event address moves the bound to its low byte + 1 pages;
            // the bits above the byte are set to catch a wider mask.
            row(format!("sida::{name}_size_131072_after_gbea_write"), sida(o, 0x2_0000, 0), EINVAL).given(&[Given::Gbea(GBEA_WRITTEN)]),
            row(format!("sida::{name}_size_131073_after_gbea_write"), sida(o, 0x2_0000, 1), E2BIG).given(&[Given::Gbea(GBEA_WRITTEN)]).expect_from_host(sida_e2big),
            // A vcpu that has run: KVM_RUN loads gbea from the sync regs (KVM_SYNC_ARCH0) and
            // stores it back; the bound follows what the vcpu ran with.
            row(format!("sida::{name}_size_32768_after_run"), sida(o, 0x8000, 0), EINVAL).given(&[Given::RanWithGbea(GBEA_RUN)]).needs(&[Need::Live]),
            row(format!("sida::{name}_size_32769_after_run"), sida(o, 0x8000, 1), E2BIG).given(&[Given::RanWithGbea(GBEA_RUN)]).needs(&[Need::Live]).expect_from_host(sida_e2big),
            row(format!("sida::{name}_beyond_1mib"), sida(o, 0x10_0000, 1), E2BIG).expect_from_host(sida_e2big),
            row(format!("sida::{name}_flags_check_only"), sida(o, 8, 0).flags(CHECK), EINVAL),
            row(format!("sida::{name}_size_0"), sida(o, 0, 0), EINVAL),
            row(format!("sida::{name}_offset_wraps"), sida(o, 8, u32::MAX), EINVAL),
            row(format!("sida::{name}_offset_wraps_to_small"), sida(o, 0x10, 0xffff_fff8), EINVAL),
        ]);
    }
    rows
}

/// Breaking-event addresses the SIDA rows load: low byte 0x1f (a bound of 32 pages) under all
/// ones, and 0x07 (8 pages) for the vcpu that runs.
const GBEA_WRITTEN: u64 = 0xffff_ffff_ffff_ff1f;
const GBEA_RUN: u64 = 0x8000_0000_0000_3c07;

/// E2BIG from the SIDA size check; a kernel without the extension capability may predate the
/// SIDA ops (5.7), where ops 2/3 were unknown (EINVAL).
fn sida_e2big(host: &Host) -> Expected {
    if host.cap(KVM_CAP_S390_MEM_OP_EXTENSION) & KVM_S390_MEMOP_EXTENSION_CAP_BASE as i64 != 0 {
        Expected::errno(E2BIG)
    } else {
        Expected::OneOf(vec![
            alt(
                E2BIG,
                "SIDA ops 2/3 (protected virtualization, 5.7): size + offset above the SIDA size",
            ),
            alt(
                EINVAL,
                "before 5.7 ops 2/3 did not exist (unknown op: EINVAL)",
            ),
        ])
    }
}

#[rustfmt::skip]
fn size_rows() -> Vec<Row> {
    vec![
        row("size::zero", vread(DATA, 0), EINVAL),
        row("size::zero_write", vwrite(DATA, 0), EINVAL).then(nothing_moved()),
        row("size::one", vread(DATA, 1), OK).then(read_moved(DATA, 1)),
        row("size::one_write", vwrite(DATA, 1), OK).then(write_moved(DATA, 1)),
        row("size::cap", vread(0, 0).size(Size::Cap(0)), OK).then(read_moved_cap(0)),
        row("size::cap_write", vwrite(0, 0).size(Size::Cap(0)), OK).then(write_moved_cap(0)),
        row("size::cap_plus_one", vread(0, 0).size(Size::Cap(1)), E2BIG),
        row("size::cap_plus_one_write", vwrite(0, 0).size(Size::Cap(1)), E2BIG).then(nothing_moved()),
        row("size::0xffffffff", vread(0, u32::MAX), E2BIG),
        row("size::0xffffffff_check_only", vread(0, u32::MAX).flags(CHECK), E2BIG),
        capability("size::cap_is_65536", KVM_CAP_S390_MEM_OP, Outcome::Value(MEM_OP_MAX_SIZE as i64)).doc("api.txt 4.89 (this revision) does not say that the KVM_CAP_S390_MEM_OP value is the maximum size"),
    ]
}

/// Every flag bit the kernel does not define is EINVAL, one row per bit, on both fds.
#[rustfmt::skip]
fn flag_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for bit in 3..64 {
        rows.push(row(format!("flags::rejects_bit_{bit}"), vread(DATA, 8).flags(1 << bit), EINVAL).then(nothing_moved()));
    }
    rows.push(row("flags::rejects_all_ones", vwrite(DATA, 8).flags(u64::MAX), EINVAL).then(nothing_moved()));
    rows.push(row("flags::rejects_skey_without_extension", vread(DATA, 8).flags(SKEY), EINVAL).needs(&[Need::CapAbsent { cap: KVM_CAP_S390_MEM_OP_EXTENSION, name: "KVM_CAP_S390_MEM_OP_EXTENSION" }]));
    for bit in 3..64 {
        rows.push(row(format!("vm::flags::rejects_bit_{bit}"), aread(DATA, 8).flags(1 << bit), EINVAL).needs(&[EXT_BASE]).then(nothing_moved()));
    }
    rows.push(row("vm::flags::rejects_all_ones", awrite(DATA, 8).flags(u64::MAX), EINVAL).needs(&[EXT_BASE]).then(nothing_moved()));
    rows
}

#[rustfmt::skip]
fn check_only_rows() -> Vec<Row> {
    vec![
        row("check_only::read_returns_0_and_moves_no_data", vread(DATA, 512).flags(CHECK), OK).then(nothing_moved()),
        row("check_only::write_returns_0_and_moves_no_data", vwrite(DATA, 512).flags(CHECK), OK).then(nothing_moved()),
        row("check_only::write_cap_size_moves_no_data", vwrite(0, 0).size(Size::Cap(0)).flags(CHECK), OK).then(nothing_moved()),
        row("check_only::read_null_buf", vread(DATA, 64).flags(CHECK).buf(Ptr::Null), OK).then(nothing_moved()),
        row("check_only::write_null_buf", vwrite(DATA, 64).flags(CHECK).buf(Ptr::Null), OK).then(nothing_moved()),
        row("check_only::write_inaccessible_buf", vwrite(DATA, 64).flags(CHECK).buf(Ptr::Inaccessible), OK).then(nothing_moved()),
    ]
}

/// F_INJECT_EXCEPTION: a failing access returns the code and leaves a PROGRAM_INT with that
/// code pending (seen through GET_IRQ_STATE, §3.3-9, §5.3); nothing else injects.
#[rustfmt::skip]
fn inject_rows() -> Vec<Row> {
    let n = [IRQ_STATE];
    vec![
        row("inject::addressing_read", vread(OUTSIDE, 8).flags(INJECT), PGM_ADDR).needs(&n).then(pending_pgm(5)),
        row("inject::addressing_write", vwrite(OUTSIDE, 8).flags(INJECT), PGM_ADDR).needs(&n).then(pending_pgm(5)),
        row("inject::addressing_check_only_read", vread(OUTSIDE, 8).flags(INJECT | CHECK), PGM_ADDR).needs(&n).then(pending_pgm(5)),
        row("inject::addressing_check_only_write", vwrite(OUTSIDE, 8).flags(INJECT | CHECK), PGM_ADDR).needs(&n).then(pending_pgm(5)),
        row("inject::past_slot_end", vwrite(SLOT - 4096, 8192).flags(INJECT), PGM_ADDR).needs(&n).then(pending_pgm(5)),
        row("inject::not_without_the_flag", vread(OUTSIDE, 8), PGM_ADDR).needs(&n).then(nothing_pending),
        row("inject::not_on_success", vread(DATA, 8).flags(INJECT), OK).needs(&n).then(nothing_pending),
        row("inject::not_on_efault_write_null_buf", vwrite(DATA, 8).flags(INJECT).buf(Ptr::Null), EFAULT).needs(&n).then(nothing_pending),
        row("inject::not_on_efault_read_null_buf", vread(DATA, 8).flags(INJECT).buf(Ptr::Null), EFAULT).needs(&n).then(nothing_pending),
        // The user buffer is copied in before any guest access (§3.3-8): EFAULT, not 5.
        row("inject::not_on_efault_write_outside", vwrite(OUTSIDE, 8).flags(INJECT).buf(Ptr::Inaccessible), EFAULT).needs(&n).then(nothing_pending),
    ]
}

/// `ar` is range-checked on every vcpu logical op, whether or not the PSW is in AR mode.
#[rustfmt::skip]
fn ar_rows() -> Vec<Row> {
    vec![
        row("ar::15", vread(DATA, 8).ar(15), OK).then(read_moved(DATA, 8)),
        row("ar::15_write", vwrite(DATA, 8).ar(15), OK).then(write_moved(DATA, 8)),
        row("ar::16", vread(DATA, 8).ar(16), EINVAL),
        row("ar::16_write", vwrite(DATA, 8).ar(16), EINVAL).then(nothing_moved()),
        row("ar::16_check_only", vread(DATA, 8).ar(16).flags(CHECK), EINVAL),
        row("ar::255", vread(DATA, 8).ar(255), EINVAL),
        row("ar::17_with_size_cap_plus_one", vread(DATA, 0).ar(17).size(Size::Cap(1)), E2BIG).expect_from_host(ar_after_size),
    ]
}

/// The check order of §3.3-§3.6: each row breaks two rules at once, and the one checked first
/// decides the outcome.
#[rustfmt::skip]
fn order_rows() -> Vec<Row> {
    let e = [EXT_BASE];
    let x = [EXT_CMPXCHG];
    let huge = Size::N(u32::MAX);
    vec![
        row("order::op_before_size_on_vcpu", vread(DATA, 0).opcode(ABS_READ).size(huge), EINVAL),
        row("order::op_before_size_on_vm", aread(DATA, 0).opcode(READ).size(huge), EINVAL).needs(&e).expect_from_host(vm_op_before_size),
        row("order::op_before_address_on_vm", aread(OUTSIDE, 8).opcode(7), EINVAL).needs(&e).expect_from_host(vm_op_before_address).then(nothing_moved()),
        row("order::flags_before_size_on_vcpu", vread(DATA, 0).flags(1 << 3).size(huge), EINVAL),
        row("order::flags_before_size_on_vm", aread(DATA, 0).flags(1 << 3).size(huge), EINVAL).needs(&e),
        row("order::size_before_key", vread(DATA, 0).flags(SKEY).key(16).size(Size::Cap(1)), E2BIG).needs(&e),
        row("order::sida_flags_before_size", sida(SIDA_READ, 8192, 0).flags(CHECK), EINVAL),
        row("order::cmpxchg_size_before_buffer", xchg(XCHG, 17).buf(Ptr::Inaccessible), EINVAL).needs(&x),
        row("order::cmpxchg_buffer_before_address", xchg(OUTSIDE, 8).buf(Ptr::Inaccessible), EFAULT).needs(&x),
        // §1.2: before 5.18 the VM fd had no KVM_S390_MEM_OP (and no extension capability).
        row("vm::absent_before_5_18", aread(DATA, 8), ENOTTY).needs(&[Need::CapAbsent { cap: KVM_CAP_S390_MEM_OP_EXTENSION, name: "KVM_CAP_S390_MEM_OP_EXTENSION" }]).then(nothing_moved()),
    ]
}

/// Which MEM_OP check order this kernel has (kernel-semantics.md §3.8, docs/kernel-6.1.md).
/// The current order (vcpu fd: `ar` after the common size/key validation; VM fd: the op
/// dispatched first) came with the ABSOLUTE_CMPXCHG series (~6.3), which also made
/// KVM_CAP_S390_MEM_OP_EXTENSION a bit set with bit 1 (CMPXCHG): 6.12 and 7.2 report 3 and
/// use the current order; 6.1 reports 1 and uses the older one. The op on the VM fd needs the
/// dispatch, so the bit is the host fact that tells the two apart (no version numbers).
fn memop_current_check_order(host: &Host) -> bool {
    host.cap(KVM_CAP_S390_MEM_OP_EXTENSION) & KVM_S390_MEMOP_EXTENSION_CAP_CMPXCHG as i64 != 0
}

/// VM fd, an undefined op (7) at an address outside every memslot.
fn vm_op_before_address(host: &Host) -> Expected {
    if memop_current_check_order(host) {
        Expected::errno(EINVAL)
    } else {
        // 6.1 tests the first byte against the memslots (PGM_ADDRESSING) before the op switch.
        Expected::Is(PGM_ADDR)
    }
}

/// vcpu fd, `ar` 17 and size cap + 1: which of the two broken rules decides.
fn ar_after_size(host: &Host) -> Expected {
    if memop_current_check_order(host) {
        // kvm_s390_vcpu_mem_op (6.12, 7.2): mem_op_validate_common (E2BIG) before `ar`.
        Expected::errno(E2BIG)
    } else {
        // 6.1 (and the shape since 4.1 [I]): flags, `ar` and size 0 are one EINVAL test
        // ahead of the size limit.
        Expected::errno(EINVAL)
    }
}

/// VM fd, op 0 (a vcpu op) and size 0xffffffff.
fn vm_op_before_size(host: &Host) -> Expected {
    if memop_current_check_order(host) {
        // kvm_s390_vm_mem_op (6.12, 7.2) dispatches on the op before any validation.
        Expected::errno(EINVAL)
    } else {
        // 6.1's kvm_s390_vm_mem_op validates flags and size first and looks at the op last.
        Expected::errno(E2BIG)
    }
}

/// Where the classic gmap (<= 6.12) and the gmap rewrite (e38c884df921, ~7.0) differ without a
/// capability of their own, `rows::by_gmap` decides from a host fact: KVM_CAP_S390_KEYOP (247,
/// came with the rewrite) where present, else the storage-key scope (per process on the classic
/// gmap, per VM on the new one), probed in a forked process. Exactly one answer is right.
fn check_only_past_slot_end_key_0(host: &Host) -> Step<(Expected, String)> {
    by_gmap(
        host,
        OK,
        "classic gmap (<= 6.12): only the first byte is tested against the memslots and check_gpa_range returns at once for key 0",
        PGM_ADDR,
        "s390 gmap rewrite (e38c884df921, ~7.0): CHECK_ONLY walks every page",
    )
}

fn null_write_outside(host: &Host) -> Step<(Expected, String)> {
    by_gmap(
        host,
        PGM_ADDR,
        "classic gmap (<= 6.12): the first-byte memslot test comes before the user copy",
        EFAULT,
        "s390 gmap rewrite (e38c884df921, ~7.0): the user buffer is copied before any address check",
    )
}

fn misaligned_outside(host: &Host) -> Step<(Expected, String)> {
    by_gmap(
        host,
        PGM_ADDR,
        "classic gmap (<= 6.12): the memslot test comes before the alignment check",
        EINVAL,
        "s390 gmap rewrite (e38c884df921, ~7.0): length and alignment are checked first",
    )
}

/// Key protection (F_SKEY_PROTECTION, `key`): KVM_CAP_S390_MEM_OP_EXTENSION bit 0.
#[rustfmt::skip]
fn key_rows() -> Vec<Row> {
    let e = [EXT_BASE];
    let ek = [EXT_BASE, SKEYS];
    let acc9 = [Given::StorageKey { gfn: KEY_GFN, key: 0x90 }];
    let acc9_fetch = [Given::StorageKey { gfn: KEY_GFN, key: 0x98 }];
    let acc0 = [Given::StorageKey { gfn: KEY_GFN, key: 0x00 }];
    let spo = Given::Cr0(CR0_STORAGE_PROTECTION_OVERRIDE);
    let fpo = Given::Cr0(CR0_FETCH_PROTECTION_OVERRIDE);
    let gfn0_fetch = Given::StorageKey { gfn: 0, key: 0x98 };
    vec![
        row("key::16_with_flag", vread(KEY_ADDR, 8).flags(SKEY).key(16), EINVAL).needs(&e),
        row("key::255_with_flag", vwrite(KEY_ADDR, 8).flags(SKEY).key(255), EINVAL).needs(&e).then(nothing_moved()),
        // Without the flag byte 33 is ignored (before 5.18 it was reserved), so no gate.
        row("key::16_without_flag", vread(KEY_ADDR, 8).key(16), OK).then(read_moved(KEY_ADDR, 8)),
        row("key::255_without_flag_write", vwrite(KEY_ADDR, 8).key(255), OK).then(write_moved(KEY_ADDR, 8)),
        row("key::match_write", vwrite(KEY_ADDR, 64).flags(SKEY).key(9), OK).needs(&ek).given(&acc9).then(write_moved(KEY_ADDR, 64)),
        row("key::match_read_fetch_protected", vread(KEY_ADDR, 64).flags(SKEY).key(9), OK).needs(&ek).given(&acc9_fetch).then(read_moved(KEY_ADDR, 64)),
        row("key::0_matches_any", vwrite(KEY_ADDR, 64).flags(SKEY).key(0), OK).needs(&ek).given(&acc9_fetch).then(write_moved(KEY_ADDR, 64)),
        row("key::mismatch_write", vwrite(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&acc9).then(nothing_moved()),
        row("key::mismatch_write_check_only", vwrite(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), PGM_PROT).needs(&ek).given(&acc9).then(nothing_moved()),
        row("key::mismatch_read_fetch_protected", vread(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&acc9_fetch).then(nothing_moved()),
        row("key::mismatch_read_fetch_protected_check_only", vread(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), PGM_PROT).needs(&ek).given(&acc9_fetch),
        row("key::mismatch_read_not_fetch_protected", vread(KEY_ADDR, 64).flags(SKEY).key(2), OK).needs(&ek).given(&acc9).then(read_moved(KEY_ADDR, 64)),
        row("key::15_read_storage_key_0", vread(KEY_ADDR, 64).flags(SKEY).key(15), OK).needs(&ek).given(&acc0).then(read_moved(KEY_ADDR, 64)),
        row("key::15_write_storage_key_0", vwrite(KEY_ADDR, 64).flags(SKEY).key(15), PGM_PROT).needs(&ek).given(&acc0),
        row("key::mismatch_without_flag_ignored", vread(KEY_ADDR, 64).key(2), OK).needs(&[SKEYS]).given(&acc9_fetch).then(read_moved(KEY_ADDR, 64)),
        row("key::mismatch_inject", vwrite(KEY_ADDR, 8).flags(SKEY | INJECT).key(2), PGM_PROT).needs(&[EXT_BASE, SKEYS, IRQ_STATE]).given(&acc9).then(pending_pgm(4)),
        // The TEID of the injected exception (gaccess.c trans_exc_ending; memop.c test_termination):
        // page address, fetch/store indication (bits 52-53), bit 60 for key-controlled protection,
        // except the "termination" form (56/60/61 zero) of a store that already wrote a page.
        row("inject::teid_key_protection_store", vwrite(KEY_ADDR + 0x10, 8).flags(SKEY | INJECT).key(2), PGM_PROT).needs(&[EXT_BASE, SKEYS, IRQ_STATE]).given(&acc9).then(pending_teid(KEY_ADDR | TEID_STORE | TEID_B60)),
        row("inject::teid_key_protection_fetch", vread(KEY_ADDR + 0x10, 8).flags(SKEY | INJECT).key(2), PGM_PROT).needs(&[EXT_BASE, SKEYS, IRQ_STATE]).given(&acc9_fetch).then(pending_teid(KEY_ADDR | TEID_FETCH | TEID_B60)),
        row("inject::teid_key_protection_check_only_store", vwrite(KEY_ADDR - 4, 8).flags(SKEY | INJECT | CHECK).key(2), PGM_PROT).needs(&[EXT_BASE, SKEYS, IRQ_STATE]).given(&[Given::StorageKey { gfn: KEY_GFN - 1, key: 0x20 }, acc9[0]]).then(pending_teid(KEY_ADDR | TEID_STORE | TEID_B60)),
        row("inject::teid_termination_after_a_written_page", vwrite(KEY_ADDR - 4, 8).flags(SKEY | INJECT).key(2), PGM_PROT).needs(&[EXT_BASE, SKEYS, IRQ_STATE]).given(&[Given::StorageKey { gfn: KEY_GFN - 1, key: 0x20 }, acc9[0]]).then(termination_teid),
        row("inject::teid_addressing_is_0", vread(OUTSIDE + 0x10, 8).flags(INJECT), PGM_ADDR).needs(&[IRQ_STATE]).then(pending_teid_code(5, 0)),
        // VM fd, absolute (§3.5-7): same rules, never the CR0 overrides.
        row("vm::key::16_with_flag", aread(KEY_ADDR, 8).flags(SKEY).key(16), EINVAL).needs(&e),
        row("vm::key::16_without_flag", aread(KEY_ADDR, 8).key(16), OK).needs(&e).then(read_moved(KEY_ADDR, 8)),
        row("vm::key::match_write", awrite(KEY_ADDR, 64).flags(SKEY).key(9), OK).needs(&ek).given(&acc9).then(write_moved(KEY_ADDR, 64)),
        row("vm::key::mismatch_write", awrite(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&acc9).then(nothing_moved()),
        row("vm::key::mismatch_write_check_only", awrite(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), PGM_PROT).needs(&ek).given(&acc9).then(nothing_moved()),
        row("vm::key::mismatch_read_fetch_protected", aread(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&acc9_fetch).then(nothing_moved()),
        row("vm::key::mismatch_read_not_fetch_protected", aread(KEY_ADDR, 64).flags(SKEY).key(2), OK).needs(&ek).given(&acc9).then(read_moved(KEY_ADDR, 64)),
        row("vm::key::match_read_fetch_protected", aread(KEY_ADDR, 64).flags(SKEY).key(9), OK).needs(&ek).given(&acc9_fetch).then(read_moved(KEY_ADDR, 64)),
        // CR0 overrides through KVM_SET_SREGS (memop.c test_copy_key_storage_prot_override,
        // test_copy_key_fetch_prot_override, test_errors_key_*_override*; gaccess.c
        // vcpu_check_access_key): vcpu path only.
        row("key::storage_prot_override_write", vwrite(KEY_ADDR, 64).flags(SKEY).key(2), OK).needs(&ek).given(&[spo, acc9_fetch[0]]).then(write_moved(KEY_ADDR, 64)),
        row("key::storage_prot_override_read", vread(KEY_ADDR, 64).flags(SKEY).key(2), OK).needs(&ek).given(&[spo, acc9_fetch[0]]).then(read_moved(KEY_ADDR, 64)),
        row("key::storage_prot_override_check_only", vwrite(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), OK).needs(&ek).given(&[spo, acc9_fetch[0]]).then(nothing_moved()),
        row("key::storage_prot_override_needs_acc_9", vwrite(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[spo, Given::StorageKey { gfn: KEY_GFN, key: 0x88 }]).then(nothing_moved()),
        row("vm::key::storage_prot_override_not_applied", awrite(KEY_ADDR, 64).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[spo, acc9_fetch[0]]).then(nothing_moved()),
        row("key::fetch_prot_override_read_2048_at_0", vread(0, 2048).flags(SKEY).key(2), OK).needs(&ek).given(&[fpo, gfn0_fetch]).then(read_moved(0, 2048)),
        row("key::fetch_prot_override_check_only_2048_at_0", vread(0, 2048).flags(SKEY | CHECK).key(2), OK).needs(&ek).given(&[fpo, gfn0_fetch]),
        row("key::fetch_prot_override_read_2049_at_0", vread(0, 2049).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[fpo, gfn0_fetch]).then(nothing_moved()),
        row("key::fetch_prot_override_not_for_stores", vwrite(0, 8).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[fpo, gfn0_fetch]).then(nothing_moved()),
        row("key::fetch_protected_read_at_0_without_override", vread(0, 8).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[gfn0_fetch]),
        row("vm::key::fetch_prot_override_not_applied", aread(0, 8).flags(SKEY).key(2), PGM_PROT).needs(&ek).given(&[fpo, gfn0_fetch]).then(nothing_moved()),
        // memop.c test_errors_key: a key-mismatch CHECK_ONLY read on the VM fd.
        row("vm::key::mismatch_read_fetch_protected_check_only", aread(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), PGM_PROT).needs(&ek).given(&acc9_fetch).then(nothing_moved()),
        row("vm::key::mismatch_read_not_fetch_protected_check_only", aread(KEY_ADDR, 64).flags(SKEY | CHECK).key(2), OK).needs(&ek).given(&acc9).then(nothing_moved()),
    ]
}

#[rustfmt::skip]
fn buf_rows() -> Vec<Row> {
    vec![
        row("buf::null_read", vread(DATA, 8).buf(Ptr::Null), EFAULT),
        row("buf::null_write", vwrite(DATA, 8).buf(Ptr::Null), EFAULT).then(nothing_moved()),
        row("buf::inaccessible_read", vread(DATA, 8).buf(Ptr::Inaccessible), EFAULT),
        row("buf::inaccessible_write", vwrite(DATA, 8).buf(Ptr::Inaccessible), EFAULT).then(nothing_moved()),
        // A read checks the guest first and copies out only after success.
        row("buf::null_read_outside_memory", vread(OUTSIDE, 8).buf(Ptr::Null), PGM_ADDR),
        // A write copies the user buffer in before touching the guest (§3.3-8).
        row("buf::null_write_outside_memory", vwrite(OUTSIDE, 8).buf(Ptr::Null), EFAULT),
    ]
}

/// Addresses outside guest memory give the positive program-interruption code 5, not an errno.
#[rustfmt::skip]
fn addr_rows() -> Vec<Row> {
    vec![
        row("addr::outside_read", vread(OUTSIDE, 8), PGM_ADDR).then(nothing_moved()),
        row("addr::outside_write", vwrite(OUTSIDE, 8), PGM_ADDR).then(nothing_moved()),
        row("addr::outside_check_only_read", vread(OUTSIDE, 8).flags(CHECK), PGM_ADDR),
        row("addr::outside_check_only_write", vwrite(OUTSIDE, 8).flags(CHECK), PGM_ADDR).then(nothing_moved()),
        row("addr::first_byte_after_slot", vread(SLOT, 1), PGM_ADDR),
        row("addr::selftest_not_0xfff", vread(!0xfff, 8), PGM_ADDR),
        row("addr::selftest_not_0xfff_check_only", vwrite(!0xfff, 8).flags(CHECK), PGM_ADDR),
        row("addr::past_slot_end_read", vread(SLOT - 4096, 8192), PGM_ADDR),
        row("addr::past_slot_end_write", vwrite(SLOT - 4096, 8192), PGM_ADDR),
        row("addr::past_slot_end_check_only", vwrite(SLOT - 4096, 8192).flags(CHECK), PGM_ADDR).then(nothing_moved()),
        row("addr::last_byte_of_slot", vread(SLOT - 1, 1), OK).then(read_moved(SLOT - 1, 1)),
        row("addr::across_pages_inside", vwrite(SLOT - 8192, 8192), OK).then(write_moved(SLOT - 8192, 8192)),
        // 24-bit mode on a fresh vcpu: the effective address wraps at 16 MiB (§3.3).
        row("addr::wraps_at_16mib_in_24_bit_mode", vread(0x100_0000 + DATA, 16), OK).then(read_moved(DATA, 16)),
    ]
}

const DOC_RESERVED: &str = "api.txt 4.89 (<= 5.17) says `reserved` \"should be set to 0\" and \"is not used by KVM\"; \
     the kernel never checks it, except that its first byte is `ar` (range-checked on vcpu logical ops)";

#[rustfmt::skip]
fn reserved_rows() -> Vec<Row> {
    vec![
        row("reserved::garbage_in_bytes_34_to_63", vwrite(DATA, 64).tail(Tail::Fill { from: 34, byte: 0xa5 }), OK).doc(DOC_RESERVED).then(write_moved(DATA, 64)),
        row("reserved::garbage_in_bytes_33_to_63", vread(DATA, 64).tail(Tail::Fill { from: 33, byte: 0xff }), OK).then(read_moved(DATA, 64)),
        row("reserved::selftest_filler_with_ar_0", vwrite(DATA, 64).tail(Tail::SelftestFiller), OK).then(write_moved(DATA, 64)),
        row("reserved::0xff_from_byte_32_is_ar_255", vwrite(DATA, 64).tail(Tail::Fill { from: 32, byte: 0xff }), EINVAL)
            .doc(
                "api.txt 4.89 (<= 5.17) calls bytes 32..63 `reserved` (\"should be set to 0\", \"not used\"), but \
                 byte 32 is `ar`: a reserved area filled with 0xff is ar 255, EINVAL",
            )
            .then(nothing_moved()),
        row("vm::reserved::0xff_from_byte_32_ignored", awrite(DATA, 64).tail(Tail::Fill { from: 32, byte: 0xff }), OK).needs(&[EXT_BASE]).then(write_moved(DATA, 64)),
    ]
}

#[rustfmt::skip]
fn vm_rows() -> Vec<Row> {
    let e = [EXT_BASE];
    let mut rows = vec![
        row("vm::absolute_read", aread(DATA, 256), OK).needs(&e).doc(DOC_VM_FD).then(read_moved(DATA, 256)),
        row("vm::absolute_write", awrite(DATA, 256), OK).needs(&e).then(write_moved(DATA, 256)),
        row("vm::absolute_write_then_read", awrite(DATA, 4096 + 100), OK).needs(&e).then(absolute_read_back(DATA, 4196)),
        row("vm::absolute_across_pages", awrite(SLOT - 8192, 8192), OK).needs(&e).then(write_moved(SLOT - 8192, 8192)),
    ];
    for o in [READ, WRITE, SIDA_READ, SIDA_WRITE, 7, u32::MAX] {
        let name = if o == u32::MAX {
            "0xffffffff".to_string()
        } else {
            o.to_string()
        };
        rows.push(row(format!("vm::op::rejects_{name}_on_vm"), aread(DATA, 8).opcode(o), EINVAL).needs(&e).then(nothing_moved()));
    }
    rows.extend([
        row("vm::inject::read_rejected", aread(DATA, 8).flags(INJECT), EINVAL).needs(&e).then(nothing_moved()),
        row("vm::inject::write_rejected", awrite(DATA, 8).flags(INJECT), EINVAL).needs(&e).then(nothing_moved()),
        row("vm::inject::outside_rejected", aread(OUTSIDE, 8).flags(INJECT), EINVAL).needs(&e),
        row("vm::size::zero", aread(DATA, 0), einval_or_size0_bug()).needs(&e),
        row("vm::size::one", aread(DATA, 1), OK).needs(&e).then(read_moved(DATA, 1)),
        row("vm::size::cap", awrite(0, 0).size(Size::Cap(0)), OK).needs(&e).then(write_moved_cap(0)),
        row("vm::size::cap_plus_one", aread(0, 0).size(Size::Cap(1)), E2BIG).needs(&e),
        row("vm::size::0xffffffff", awrite(0, u32::MAX), E2BIG).needs(&e).then(nothing_moved()),
        row("vm::ar::200_ignored", aread(DATA, 8).ar(200), OK).needs(&e).then(read_moved(DATA, 8)),
        row("vm::ar::16_ignored_write", awrite(DATA, 8).ar(16), OK).needs(&e).then(write_moved(DATA, 8)),
        row("vm::addr::outside_read", aread(OUTSIDE, 8), PGM_ADDR).needs(&e).then(nothing_moved()),
        row("vm::addr::outside_write", awrite(OUTSIDE, 8), PGM_ADDR).needs(&e).then(nothing_moved()),
        row("vm::addr::outside_check_only_read", aread(OUTSIDE, 8).flags(CHECK), PGM_ADDR).needs(&e),
        row("vm::addr::outside_check_only_write", awrite(OUTSIDE, 8).flags(CHECK), PGM_ADDR).needs(&e),
        row("vm::addr::selftest_not_0xfff", aread(!0xfff, 8), PGM_ADDR).needs(&e),
        row("vm::addr::no_24_bit_wrap", aread(0x100_0000 + DATA, 8), PGM_ADDR).needs(&e),
        row("vm::addr::past_slot_end_read", aread(SLOT - 4096, 8192), PGM_ADDR).needs(&e),
        row("vm::addr::past_slot_end_write", awrite(SLOT - 4096, 8192), PGM_ADDR).needs(&e),
        row("vm::addr::past_slot_end_check_only_key_0", aread(SLOT - 4096, 8192).flags(CHECK), OK).expect_from_fact(check_only_past_slot_end_key_0).needs(&e),
        // The page inside the slot gets key 0 first, so only the page outside can fail.
        row("vm::addr::past_slot_end_check_only_key_9", aread(SLOT - 4096, 8192).flags(CHECK | SKEY).key(9), PGM_ADDR).needs(&e).needs(&[SKEYS]).given(&[Given::StorageKey { gfn: (SLOT / 4096 - 1), key: 0 }]),
        row("vm::check_only::read_moves_no_data", aread(DATA, 512).flags(CHECK), OK).needs(&e).then(nothing_moved()),
        row("vm::check_only::write_moves_no_data", awrite(DATA, 512).flags(CHECK), OK).needs(&e).then(nothing_moved()),
        row("vm::check_only::null_buf", awrite(DATA, 512).flags(CHECK).buf(Ptr::Null), OK).needs(&e).then(nothing_moved()),
        row("vm::buf::null_read", aread(DATA, 8).buf(Ptr::Null), EFAULT).needs(&e),
        row("vm::buf::null_write", awrite(DATA, 8).buf(Ptr::Null), EFAULT).needs(&e).then(nothing_moved()),
        row("vm::buf::inaccessible_read", aread(DATA, 8).buf(Ptr::Inaccessible), EFAULT).needs(&e),
        row("vm::buf::inaccessible_write", awrite(DATA, 8).buf(Ptr::Inaccessible), EFAULT).needs(&e).then(nothing_moved()),
        row("vm::buf::null_read_outside", aread(OUTSIDE, 8).buf(Ptr::Null), PGM_ADDR).needs(&e),
        row("vm::buf::null_write_outside", awrite(OUTSIDE, 8).buf(Ptr::Null), EFAULT).expect_from_fact(null_write_outside).needs(&e),
    ]);
    rows
}

/// VM-fd size 0: EINVAL; a 2022 development state let it reach vmalloc(0) (WARN, ENOMEM).
fn einval_or_size0_bug() -> Expected {
    Expected::OneOf(vec![
        alt(EINVAL, "size 0 is rejected by the common validation"),
        regression(
            ENOMEM,
            "a 2022 development state of the VM memop let size 0 reach vmalloc(0) (WARN + ENOMEM); \
             fixed before the 5.18 release that introduced the VM memop",
        ),
    ])
}

/// ABSOLUTE_CMPXCHG (§3.6): sizes 1/2/4/8/16 at an aligned mapped address.
#[rustfmt::skip]
fn cmpxchg_rows() -> Vec<Row> {
    let x = [EXT_CMPXCHG];
    let mut rows = Vec::new();
    for size in [1u32, 2, 4, 8, 16] {
        rows.push(row(format!("cmpxchg::size_{size}_exchanges"), xchg(XCHG, size), OK).needs(&x).then(exchanged(size as usize)));
        rows.push(row(format!("cmpxchg::size_{size}_mismatch_returns_actual_value"), xchg(XCHG, size).stale(), OK).needs(&x).then(not_exchanged_value_returned(size as usize)));
        rows.push(row(format!("cmpxchg::size_{size}_outside_memory"), xchg(OUTSIDE, size), PGM_ADDR).needs(&x));
    }
    for size in [0u32, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 17, 32] {
        rows.push(row(format!("cmpxchg::rejects_size_{size}"), xchg(XCHG, size), EINVAL).needs(&x).then(nothing_moved()));
    }
    // memop.c test_errors_cmpxchg_key: a mismatching key at every size gives 4, nothing moves
    // (size 8 is `cmpxchg::key_mismatch`). 1 and 2 bytes are exchanged on the containing word.
    for size in [1u32, 2, 4, 16] {
        rows.push(row(format!("cmpxchg::key_mismatch_size_{size}"), xchg(KEY_ADDR + u64::from(size), size).flags(SKEY).key(2), PGM_PROT).needs(&[EXT_CMPXCHG, SKEYS]).given(&[Given::StorageKey { gfn: KEY_GFN, key: 0x90 }]).then(nothing_moved()));
    }
    for size in [2u32, 4, 8, 16] {
        rows.push(row(format!("cmpxchg::rejects_misaligned_size_{size}"), xchg(XCHG + 1, size), EINVAL).needs(&x).then(nothing_moved()));
    }
    rows.extend([
        row("cmpxchg::size_cap_plus_one", xchg(XCHG, 0).size(Size::Cap(1)), E2BIG).needs(&x),
        row("cmpxchg::rejects_check_only", xchg(XCHG, 8).flags(CHECK), EINVAL).needs(&x).then(nothing_moved()),
        row("cmpxchg::rejects_inject", xchg(XCHG, 8).flags(INJECT), EINVAL).needs(&x).then(nothing_moved()),
        row("cmpxchg::rejects_undefined_flag", xchg(XCHG, 8).flags(1 << 3), EINVAL).needs(&x).then(nothing_moved()),
        row("cmpxchg::rejects_key_16", xchg(XCHG, 8).flags(SKEY).key(16), EINVAL).needs(&x).then(nothing_moved()),
        row("cmpxchg::inaccessible_old_addr", xchg(XCHG, 8).old(Ptr::Inaccessible), EFAULT).needs(&x).then(nothing_moved()),
        row("cmpxchg::null_old_addr", xchg(XCHG, 8).old(Ptr::Null), EFAULT).needs(&x).then(nothing_moved()),
        row("cmpxchg::inaccessible_buf", xchg(XCHG, 8).buf(Ptr::Inaccessible), EFAULT).needs(&x).then(nothing_moved()),
        row("cmpxchg::misaligned_outside_memory", xchg(OUTSIDE + 1, 2), EINVAL).expect_from_fact(misaligned_outside).needs(&x),
        row("cmpxchg::ar_ignored", xchg(XCHG, 8).ar(200), OK).needs(&x).then(exchanged(8)),
        row("cmpxchg::key_match", xchg(KEY_ADDR, 8).flags(SKEY).key(9), OK).needs(&[EXT_CMPXCHG, SKEYS]).given(&[Given::StorageKey { gfn: KEY_GFN, key: 0x90 }]).then(exchanged_at(KEY_ADDR, 8)),
        row("cmpxchg::key_mismatch", xchg(KEY_ADDR, 8).flags(SKEY).key(2), PGM_PROT).needs(&[EXT_CMPXCHG, SKEYS]).given(&[Given::StorageKey { gfn: KEY_GFN, key: 0x90 }]).then(nothing_moved()),
    ]);
    rows
}

/// The DAT-on state of a row: tables, registers (ALETs 0), then the PSW.
fn dat_in(psw: u64) -> [Given; 3] {
    [
        Given::DatTables,
        Given::DatRegs(dat::Regs::acr01(0, 0)),
        Given::Psw(psw),
    ]
}

/// What every DAT row needs: the VM-fd ABSOLUTE_READ its fixture and checks read back with.
fn dat_needs() -> [Need; 1] {
    [EXT_BASE]
}

/// Logical access with DAT on (gaccess.c `get_vcpu_asce`, `guest_translate`,
/// `guest_range_to_gpas`, `trans_exc_ending`, the same in 6.12 and 7.2): the tables are in
/// `dat`'s table. Every page of an access is translated before any byte moves, so an access
/// that runs into an invalid or DAT-protected page moves nothing; DAT protection stops a store
/// even with key 0; the injected exception's TEID is the failing page's address, the
/// fetch/store indication, bit 61 for DAT protection and the PSW's address-space control.
#[rustfmt::skip]
fn dat_rows() -> Vec<Row> {
    use dat::*;
    let n = dat_needs();
    let ni = [EXT_BASE, IRQ_STATE];
    let p = dat_in(PSW_PRIMARY);
    let sec = dat_in(PSW_SECONDARY);
    let home = dat_in(PSW_HOME);
    // The home space behind a region-first ASCE (CR13; R1T → R2T → R3T → ST → PT).
    let r1 = [Given::DatTables, Given::DatRegs(Regs::acr01(0, 0).home(REGION1_ASCE)), Given::Psw(PSW_HOME)];
    const F: u64 = TEID_FETCH;
    const S: u64 = TEID_STORE;
    vec![
        row("dat::read_through_mapping", vread(V_A + 0x100, 256), OK).needs(&n).given(&p).then(read_moved(&[(R_A + 0x100, 256)])),
        row("dat::write_through_mapping", vwrite(V_A + 0x100, 256), OK).needs(&n).given(&p).then(write_moved(&[(R_A + 0x100, 256)])),
        row("dat::read_across_two_mapped_pages", vread(V_A + 0xf80, 0x100), OK).needs(&n).given(&p).then(read_moved(&[(R_A + 0xf80, 0x80), (R_B, 0x80)])),
        row("dat::write_across_two_mapped_pages", vwrite(V_A + 0xf80, 0x100), OK).needs(&n).given(&p).then(write_moved(&[(R_A + 0xf80, 0x80), (R_B, 0x80)])),
        row("dat::check_only_write_mapped", vwrite(V_A, 0x2000).flags(CHECK), OK).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::check_only_read_mapped", vread(V_A, 0x2000).flags(CHECK), OK).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::page_invalid_read", vread(V_INVALID + 0x10, 8), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::page_invalid_write", vwrite(V_INVALID + 0x10, 8), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::page_invalid_check_only_read", vread(V_INVALID, 8).flags(CHECK), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::page_invalid_check_only_write", vwrite(V_INVALID, 8).flags(CHECK), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::into_invalid_page_read_moves_nothing", vread(V_B + 0xf80, 0x100), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::into_invalid_page_write_moves_nothing", vwrite(V_B + 0xf80, 0x100), PGM_PAGE_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_page_translation_read", vread(V_INVALID + 0x10, 8).flags(INJECT), PGM_PAGE_TRANS).needs(&ni).given(&p).then(pending(0x11, V_INVALID | F | AS_PRIMARY, 0)),
        row("dat::inject_page_translation_write", vwrite(V_INVALID + 0x10, 8).flags(INJECT), PGM_PAGE_TRANS).needs(&ni).given(&p).then(pending(0x11, V_INVALID | S | AS_PRIMARY, 0)),
        row("dat::inject_page_translation_second_page", vwrite(V_B + 0xf80, 0x100).flags(INJECT), PGM_PAGE_TRANS).needs(&ni).given(&p).then(pending(0x11, V_INVALID | S, 0)),
        row("dat::inject_page_translation_check_only", vwrite(V_INVALID, 8).flags(INJECT | CHECK), PGM_PAGE_TRANS).needs(&ni).given(&p).then(pending(0x11, V_INVALID | S, 0)),
        row("dat::protection_write_key_0", vwrite(V_PROTECTED + 0x10, 8), PGM_PROT).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::protection_read_allowed", vread(V_PROTECTED + 0x10, 8), OK).needs(&n).given(&p).then(read_moved(&[(R_PROTECTED + 0x10, 8)])),
        row("dat::protection_check_only_write", vwrite(V_PROTECTED, 8).flags(CHECK), PGM_PROT).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::protection_check_only_read_allowed", vread(V_PROTECTED, 8).flags(CHECK), OK).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_protection_write", vwrite(V_PROTECTED + 0x10, 8).flags(INJECT), PGM_PROT).needs(&ni).given(&p).then(pending(4, V_PROTECTED | S | TEID_B61, 0)),
        // Translation (with its DAT protection) comes before any byte moves: no termination form.
        row("dat::inject_protection_after_a_valid_page", vwrite(V_C + 0xf80, 0x100).flags(INJECT), PGM_PROT).needs(&ni).given(&p).then(pending(4, V_C_PROTECTED | S | TEID_B61, 0)),
        row("dat::inject_protection_check_only", vwrite(V_PROTECTED, 8).flags(INJECT | CHECK), PGM_PROT).needs(&ni).given(&p).then(pending(4, V_PROTECTED | S | TEID_B61, 0)),
        // pte.z: translation specification, which trans_exc_ending gives no TEID (not in its list).
        row("dat::page_entry_zero_bit", vread(V_Z_BIT, 8), Outcome::Value(PGM_TRANSLATION_SPEC)).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_page_entry_zero_bit", vwrite(V_Z_BIT, 8).flags(INJECT), Outcome::Value(PGM_TRANSLATION_SPEC)).needs(&ni).given(&p).then(pending(0x12, 0, 0)),
        row("dat::segment_invalid", vread(V_SEGMENT_INVALID, 8), PGM_SEGMENT_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_segment_invalid", vread(V_SEGMENT_INVALID + 0x2345, 8).flags(INJECT), PGM_SEGMENT_TRANS).needs(&ni).given(&p).then(pending(0x10, (V_SEGMENT_INVALID + 0x2000) | F, 0)),
        row("dat::segment_beyond_table_length", vwrite(V_BEYOND_SEGMENT_TABLE, 8), PGM_SEGMENT_TRANS).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_segment_beyond_table_length", vwrite(V_BEYOND_SEGMENT_TABLE, 8).flags(INJECT), PGM_SEGMENT_TRANS).needs(&ni).given(&p).then(pending(0x10, V_BEYOND_SEGMENT_TABLE | S, 0)),
        row("dat::asce_type", vread(V_REGION_1, 8), PGM_ASCE).needs(&n).given(&p).then(dat::nothing_moved),
        row("dat::inject_asce_type", vread(V_REGION_1, 8).flags(INJECT), PGM_ASCE).needs(&ni).given(&p).then(pending(0x38, V_REGION_1 | F, 0)),
        row("dat::inject_asce_type_check_only", vwrite(V_REGION_1, 8).flags(INJECT | CHECK), PGM_ASCE).needs(&ni).given(&p).then(pending(0x38, V_REGION_1 | S, 0)),
        // The address-space control picks the ASCE: secondary CR7, home CR13.
        row("dat::secondary_space_read", vread(V_A, 64), OK).needs(&n).given(&sec).then(read_moved(&[(R_SECONDARY_A, 64)])),
        row("dat::secondary_space_write", vwrite(V_A + 8, 64), OK).needs(&n).given(&sec).then(write_moved(&[(R_SECONDARY_A + 8, 64)])),
        row("dat::home_space_read", vread(V_A, 64), OK).needs(&n).given(&home).then(read_moved(&[(R_HOME_A, 64)])),
        row("dat::home_space_write", vwrite(V_A + 8, 64), OK).needs(&n).given(&home).then(write_moved(&[(R_HOME_A + 8, 64)])),
        row("dat::inject_home_space_page_translation", vread(V_B, 8).flags(INJECT), PGM_PAGE_TRANS).needs(&ni).given(&home).then(pending(0x11, V_B | F | AS_HOME, 0)),
        row("dat::inject_secondary_region_third_invalid", vwrite(V_REGION_1, 8).flags(INJECT), PGM_REGION3_TRANS).needs(&ni).given(&sec).then(pending(0x3b, V_REGION_1 | S | AS_SECONDARY, 0)),
        row("dat::inject_secondary_beyond_region_third_table", vread(V_BEYOND_REGION_THIRD_TABLE, 8).flags(INJECT), PGM_REGION3_TRANS).needs(&ni).given(&sec).then(pending(0x3b, V_BEYOND_REGION_THIRD_TABLE | F | AS_SECONDARY, 0)),
        row("dat::secondary_region_third_check_only", vread(V_REGION_1, 8).flags(CHECK), PGM_REGION3_TRANS).needs(&n).given(&sec).then(dat::nothing_moved),
        // A region-first ASCE walks all five levels; an invalid region-first entry or an index
        // beyond the ASCE's length is region-first translation (0x39), an invalid region-second
        // entry or an index outside the region-first entry's offset/length region-second (0x3a).
        row("dat::region_first_read", vread(V_A, 64), OK).needs(&n).given(&r1).then(read_moved(&[(R_REGION1_A, 64)])),
        row("dat::region_first_write", vwrite(V_A + 8, 64), OK).needs(&n).given(&r1).then(write_moved(&[(R_REGION1_A + 8, 64)])),
        row("dat::region_first_invalid", vread(V_REGION_FIRST_1, 8), PGM_REGION1_TRANS).needs(&n).given(&r1).then(dat::nothing_moved),
        row("dat::region_first_inject_invalid", vwrite(V_REGION_FIRST_1, 8).flags(INJECT), PGM_REGION1_TRANS).needs(&ni).given(&r1).then(pending(0x39, V_REGION_FIRST_1 | S | AS_HOME, 0)),
        row("dat::region_first_inject_beyond_table_length", vread(V_BEYOND_REGION_FIRST_TABLE, 8).flags(INJECT), PGM_REGION1_TRANS).needs(&ni).given(&r1).then(pending(0x39, V_BEYOND_REGION_FIRST_TABLE | F | AS_HOME, 0)),
        row("dat::region_first_invalid_check_only", vwrite(V_REGION_FIRST_1, 8).flags(CHECK), PGM_REGION1_TRANS).needs(&n).given(&r1).then(dat::nothing_moved),
        row("dat::region_second_invalid", vread(V_REGION_SECOND_1, 8), PGM_REGION2_TRANS).needs(&n).given(&r1).then(dat::nothing_moved),
        row("dat::region_second_inject_invalid", vwrite(V_REGION_SECOND_1, 8).flags(INJECT), PGM_REGION2_TRANS).needs(&ni).given(&r1).then(pending(0x3a, V_REGION_SECOND_1 | S | AS_HOME, 0)),
        row("dat::region_second_inject_beyond_table_length", vread(V_BEYOND_REGION_SECOND_TABLE, 8).flags(INJECT), PGM_REGION2_TRANS).needs(&ni).given(&r1).then(pending(0x3a, V_BEYOND_REGION_SECOND_TABLE | F | AS_HOME, 0)),
    ]
}

// An access register other than 0 is read from the vcpu's own (KVM_SET_SREGS) only where
// ar_translation saves the CPU's registers just while the guest's are loaded
// (`acrs_loaded`, 6.12.107 and 7.2.13); 6.1.176 saves them always, so in an ioctl it reads
// the calling thread's access registers (its thread pointer) as the ALET: a kernel bug,
// seen on the emulated 6.1 (0x28/0x29 for every ALET), no fact but the release tells.
const GUEST_ACRS: Need = Need::KernelAtLeast {
    release: (6, 12, 0),
    why: "6.1.176 translates an access register in MEM_OP from the calling thread's own access registers, not the vcpu's (no acrs_loaded check in ar_translation)",
};

/// Access-register mode set up for real (PSW ASC 01; gaccess.c `ar_translation`): `ar` 0 is
/// the primary space whatever access register 0 holds; ALET 0 the primary, ALET 1 the
/// secondary space; an ALET with reserved bits is an ALET-specification exception (0x28, no
/// TEID, exc_access_id 0: `trans_exc_ending` sets neither for it); an ALEN beyond the access
/// list (CR2's list A, ALL 0: entries 0-7) an ALEN-translation exception (0x29: exc_access_id = ar,
/// no TEID). A translation exception in AR mode carries ASCE identifier 01 and the `ar`.
#[rustfmt::skip]
fn ar_mode_rows() -> Vec<Row> {
    use dat::*;
    let n = dat_needs();
    let n1 = [EXT_BASE, GUEST_ACRS];
    let ni1 = [EXT_BASE, IRQ_STATE, GUEST_ACRS];
    let with = |acr0: u32, acr1: u32| [Given::DatTables, Given::DatRegs(Regs::acr01(acr0, acr1)), Given::Psw(PSW_AR)];
    vec![
        row("ar::mode_ar_0_is_primary", vread(V_A, 64).ar(0), OK).needs(&n).given(&with(1, 1)).then(read_moved(&[(R_A, 64)])),
        row("ar::mode_alet_0_is_primary", vwrite(V_A, 64).ar(1), OK).needs(&n1).given(&with(0, 0)).then(write_moved(&[(R_A, 64)])),
        row("ar::mode_alet_1_is_secondary", vread(V_A, 64).ar(1), OK).needs(&n1).given(&with(0, 1)).then(read_moved(&[(R_SECONDARY_A, 64)])),
        row("ar::mode_alet_1_is_secondary_write", vwrite(V_A, 64).ar(1), OK).needs(&n1).given(&with(0, 1)).then(write_moved(&[(R_SECONDARY_A, 64)])),
        row("ar::mode_alet_1_check_only_region_third", vread(V_REGION_1, 8).ar(1).flags(CHECK), PGM_REGION3_TRANS).needs(&n1).given(&with(0, 1)).then(dat::nothing_moved),
        row("ar::mode_inject_page_translation", vread(V_INVALID, 8).ar(1).flags(INJECT), PGM_PAGE_TRANS).needs(&ni1).given(&with(0, 0)).then(pending(0x11, V_INVALID | TEID_FETCH | AS_AR, 1)),
        row("ar::mode_alet_reserved_bits", vread(V_A, 8).ar(1), Outcome::Value(PGM_ALET_SPECIFICATION)).needs(&n1).given(&with(0, 0x8000_0000)).then(dat::nothing_moved),
        row("ar::mode_inject_alet_reserved_bits", vread(V_A, 8).ar(1).flags(INJECT), Outcome::Value(PGM_ALET_SPECIFICATION)).needs(&ni1).given(&with(0, 0x8000_0000)).then(pending(0x28, 0, 0)),
        row("ar::mode_alen_beyond_access_list", vwrite(V_A, 8).ar(1), Outcome::Value(PGM_ALEN_TRANSLATION)).needs(&n1).given(&with(0, 8)).then(dat::nothing_moved),
        row("ar::mode_inject_alen_beyond_access_list", vwrite(V_A, 8).ar(1).flags(INJECT), Outcome::Value(PGM_ALEN_TRANSLATION)).needs(&ni1).given(&with(0, 8)).then(pending(0x29, 0, 1)),
    ]
}

/// Access-register mode through a real access list (gaccess.c `ar_translation`,
/// `trans_exc_ending` [V 6.12, 7.2]; the tables in `dat`'s table): an ALET's ALEN picks an
/// entry of CR2's access list (CR5's with P = 1), ALEN / 8 > ALL is ALEN translation (0x29),
/// an ALE address beyond 2 GiB addressing (5), an invalid ALE 0x29, an ALESN mismatch ALE
/// sequence (0x2a), an invalid ASTE ASTE validity (0x2b), an ASTESN mismatch ASTE sequence
/// (0x2c); a private ALE whose ALEAX is not CR8's EAX needs EAX / 16 <= ATL and the EAX's
/// secondary-authority bit in the authority table, else extended authority (0x2d); a store
/// through a fetch-only ALE is protection (4, TEID bits 60 and 61: access-list controlled).
/// A table read outside guest memory is addressing (5: `access_guest_page` tests the memslot
/// first), not an errno. 0x29-0x2d carry no TEID and exc_access_id = `ar`; 5 neither.
#[rustfmt::skip]
fn access_list_rows() -> Vec<Row> {
    use dat::*;
    let n1 = [EXT_BASE, GUEST_ACRS];
    let ni1 = [EXT_BASE, IRQ_STATE, GUEST_ACRS];
    let with = |r: Regs| [Given::DatTables, Given::DatRegs(r), Given::Psw(PSW_AR)];
    let al = |alet: u32| with(Regs::alet(1, alet));
    let private = |eax: u16| with(Regs::alet(1, 5).eax(eax));
    const ALEN_TRANS: Outcome = Outcome::Value(PGM_ALEN_TRANSLATION);
    const ALE_SEQ: Outcome = Outcome::Value(PGM_ALE_SEQUENCE);
    const ASTE_VAL: Outcome = Outcome::Value(PGM_ASTE_VALIDITY);
    const ASTE_SEQ: Outcome = Outcome::Value(PGM_ASTE_SEQUENCE);
    const EXT_AUTH: Outcome = Outcome::Value(PGM_EXTENDED_AUTHORITY);
    const AL: &[(u64, usize)] = &[(R_AL_A, 64)];
    const AL_8: &[(u64, usize)] = &[(R_AL_A + 8, 64)];
    const HOME: &[(u64, usize)] = &[(R_HOME_A, 64)];
    const ALC_STORE: u64 = V_A | TEID_STORE | TEID_ALC | AS_AR;
    vec![
        // The list's first entry (ALEN 0; ALESN 0x81, as ALET 0 is the primary space) and its last (ALEN 7).
        row("ar::mode_access_list_first_entry_read", vread(V_A, 64).ar(1), OK).needs(&n1).given(&al(0x0081_0000)).then(read_moved(AL)),
        row("ar::mode_access_list_first_entry_write", vwrite(V_A + 8, 64).ar(1), OK).needs(&n1).given(&al(0x0081_0000)).then(write_moved(AL_8)),
        row("ar::mode_access_list_last_entry_read", vread(V_A, 64).ar(1), OK).needs(&n1).given(&al(0x0007_0007)).then(read_moved(AL)),
        row("ar::mode_access_list_last_entry_write", vwrite(V_A + 8, 64).ar(1), OK).needs(&n1).given(&al(0x0007_0007)).then(write_moved(AL_8)),
        // CR2's bits outside 0x7fffffc0 (bit 32, the low six) are not part of the address.
        row("ar::mode_access_list_designation_masked", vread(V_A, 64).ar(1), OK).needs(&n1).given(&with(Regs::alet(1, 0x0081_0000).cr2(ACCESS_LIST_DESIGNATION | 0x8000_003f))).then(read_moved(AL)),
        // A public ALE: CR8's EAX does not matter (16 would be beyond the authority table).
        row("ar::mode_access_list_public_ale_ignores_eax", vread(V_A, 64).ar(1), OK).needs(&n1).given(&with(Regs::alet(1, 0x0081_0000).eax(16))).then(read_moved(AL)),
        // ALEN 8: past the list, where CR5's list (a valid ALE with ALESN 0x81) follows.
        row("ar::mode_access_list_alen_8_beyond", vread(V_A, 8).ar(1), ALEN_TRANS).needs(&n1).given(&al(0x0081_0008)).then(dat::nothing_moved),
        row("ar::mode_access_list_ale_invalid", vread(V_A, 8).ar(1), ALEN_TRANS).needs(&n1).given(&al(0x0011_0001)).then(dat::nothing_moved),
        row("ar::mode_access_list_alesn_high_bit", vread(V_A, 8).ar(1), ALE_SEQ).needs(&n1).given(&al(0x0001_0000)).then(dat::nothing_moved),
        row("ar::mode_access_list_alesn_low_bit", vwrite(V_A, 8).ar(1), ALE_SEQ).needs(&n1).given(&al(0x0080_0000)).then(dat::nothing_moved),
        row("ar::mode_access_list_aste_invalid", vread(V_A, 8).ar(1), ASTE_VAL).needs(&n1).given(&al(2)).then(dat::nothing_moved),
        row("ar::mode_access_list_astesn_highest_byte", vread(V_A, 8).ar(1), ASTE_SEQ).needs(&n1).given(&al(3)).then(dat::nothing_moved),
        row("ar::mode_access_list_astesn_lowest_byte", vwrite(V_A, 8).ar(1), ASTE_SEQ).needs(&n1).given(&al(4)).then(dat::nothing_moved),
        // The private ALE (ALEAX 0x0102) and CR8's EAX; the authority table has ATL 0 (EAX 0-15).
        row("ar::mode_access_list_private_eax_is_aleax", vread(V_A, 64).ar(1), OK).needs(&n1).given(&private(ALEAX)).then(read_moved(AL)),
        row("ar::mode_access_list_private_eax_high_byte_differs", vread(V_A, 8).ar(1), EXT_AUTH).needs(&n1).given(&private(0x0302)).then(dat::nothing_moved),
        row("ar::mode_access_list_private_eax_low_byte_differs", vread(V_A, 8).ar(1), EXT_AUTH).needs(&n1).given(&private(0x0103)).then(dat::nothing_moved),
        row("ar::mode_access_list_private_secondary_authority", vwrite(V_A + 8, 64).ar(1), OK).needs(&n1).given(&private(5)).then(write_moved(AL_8)),
        row("ar::mode_access_list_private_primary_authority_only", vread(V_A, 8).ar(1), EXT_AUTH).needs(&n1).given(&private(6)).then(dat::nothing_moved),
        row("ar::mode_access_list_private_authority_last_entry", vread(V_A, 64).ar(1), OK).needs(&n1).given(&private(15)).then(read_moved(AL)),
        row("ar::mode_access_list_private_authority_beyond_table", vread(V_A, 8).ar(1), EXT_AUTH).needs(&n1).given(&private(16)).then(dat::nothing_moved),
        // The fetch-only ALE.
        row("ar::mode_access_list_fetch_only_read", vread(V_A, 64).ar(1), OK).needs(&n1).given(&al(6)).then(read_moved(AL)),
        row("ar::mode_access_list_fetch_only_write", vwrite(V_A, 8).ar(1), PGM_PROT).needs(&n1).given(&al(6)).then(dat::nothing_moved),
        row("ar::mode_access_list_fetch_only_check_only_write", vwrite(V_A, 8).ar(1).flags(CHECK), PGM_PROT).needs(&n1).given(&al(6)).then(dat::nothing_moved),
        row("ar::mode_access_list_inject_fetch_only_write", vwrite(V_A + 0x10, 8).ar(3).flags(INJECT), PGM_PROT).needs(&ni1).given(&with(Regs::alet(3, 6))).then(pending(4, ALC_STORE, 3)),
        // P = 1: CR5's list, whose entries 0 and 2 designate the home space (CR2's: the access-list space, the invalid ASTE).
        row("ar::mode_access_list_p_uses_cr5", vread(V_A, 64).ar(1), OK).needs(&n1).given(&al(0x0181_0000)).then(read_moved(HOME)),
        row("ar::mode_access_list_p_uses_cr5_write", vwrite(V_A, 64).ar(1), OK).needs(&n1).given(&al(0x0100_0002)).then(write_moved(HOME)),
        // Addressing: the ALE beyond 2 GiB (ALEN 0x308 of a list at 0x7fffff80, ALL 127), tables outside guest memory.
        row("ar::mode_access_list_ale_beyond_2g", vread(V_A, 8).ar(1), PGM_ADDR).needs(&n1).given(&with(Regs::alet(1, 0x0081_0308).cr2(ALD_NEAR_2G))).then(dat::nothing_moved),
        row("ar::mode_access_list_ald_outside_memory", vread(V_A, 8).ar(1), PGM_ADDR).needs(&n1).given(&with(Regs::alet(1, 0x0081_0000).cr2(OUTSIDE_MEMORY))).then(dat::nothing_moved),
        row("ar::mode_access_list_ale_outside_memory", vwrite(V_A, 8).ar(1), PGM_ADDR).needs(&n1).given(&with(Regs::alet(1, 0x0081_0000).cr2(ALD_OUTSIDE_MEMORY))).then(dat::nothing_moved),
        row("ar::mode_access_list_aste_outside_memory", vread(V_A, 8).ar(1), PGM_ADDR).needs(&n1).given(&al(0x0100_0003)).then(dat::nothing_moved),
        // The injected exceptions: no TEID; exc_access_id the `ar` for 0x2a-0x2d, 0 for 5.
        row("ar::mode_access_list_inject_ale_beyond_2g", vread(V_A, 8).ar(2).flags(INJECT), PGM_ADDR).needs(&ni1).given(&with(Regs::alet(2, 0x0081_0308).cr2(ALD_NEAR_2G))).then(pending(5, 0, 0)),
        row("ar::mode_access_list_inject_aste_outside_memory", vwrite(V_A, 8).ar(2).flags(INJECT), PGM_ADDR).needs(&ni1).given(&with(Regs::alet(2, 0x0100_0003))).then(pending(5, 0, 0)),
        row("ar::mode_access_list_inject_ale_sequence", vread(V_A, 8).ar(15).flags(INJECT), ALE_SEQ).needs(&ni1).given(&with(Regs::alet(15, 0x0001_0000))).then(pending(0x2a, 0, 15)),
        row("ar::mode_access_list_inject_aste_validity", vwrite(V_A, 8).ar(7).flags(INJECT), ASTE_VAL).needs(&ni1).given(&with(Regs::alet(7, 2))).then(pending(0x2b, 0, 7)),
        row("ar::mode_access_list_inject_aste_sequence", vread(V_A, 8).ar(9).flags(INJECT | CHECK), ASTE_SEQ).needs(&ni1).given(&with(Regs::alet(9, 3))).then(pending(0x2c, 0, 9)),
        row("ar::mode_access_list_inject_extended_authority", vwrite(V_A, 8).ar(4).flags(INJECT), EXT_AUTH).needs(&ni1).given(&with(Regs::alet(4, 5).eax(16))).then(pending(0x2d, 0, 4)),
    ]
}

/// Where the ioctl does not exist (x86_64 runs these live): the capabilities read 0 and the
/// request is refused, not accepted (§1.2).
#[rustfmt::skip]
fn absent_rows() -> Vec<Row> {
    let not_s390 = [Need::NotArch("s390x")];
    vec![
        capability("absent::cap_s390_mem_op_is_0", KVM_CAP_S390_MEM_OP, OK).only(&not_s390),
        capability("absent::cap_s390_mem_op_extension_is_0", KVM_CAP_S390_MEM_OP_EXTENSION, OK).only(&not_s390),
        row("absent::refused_on_vcpu_fd", vread(DATA, 8), EINVAL).only(&not_s390).expect_from_host(absent_vcpu).then(nothing_moved()),
        row("absent::refused_on_vm_fd", aread(DATA, 8), ENOTTY).only(&not_s390).expect_from_host(absent_vm).then(nothing_moved()),
    ]
}

/// x86's kvm_arch_vm_ioctl answers an unknown request with ENOTTY (§1.2); other architectures'
/// defaults were not checked, so either refusal is accepted there.
fn absent_vm(host: &Host) -> Expected {
    if host.arch() == "x86_64" {
        Expected::errno(ENOTTY)
    } else {
        Expected::OneOf(vec![
            alt(
                ENOTTY,
                "the architecture's default VM ioctl answer is ENOTTY (as on x86)",
            ),
            alt(
                EINVAL,
                "the architecture's default VM ioctl answer is EINVAL",
            ),
        ])
    }
}

/// x86's kvm_arch_vcpu_ioctl answers an unknown request with EINVAL; other architectures'
/// defaults were not checked, so either refusal is accepted there.
fn absent_vcpu(host: &Host) -> Expected {
    if host.arch() == "x86_64" {
        Expected::errno(EINVAL)
    } else {
        Expected::OneOf(vec![
            alt(
                EINVAL,
                "the architecture's default vcpu ioctl answer is EINVAL (as on x86)",
            ),
            alt(
                ENOTTY,
                "the architecture's default vcpu ioctl answer is ENOTTY",
            ),
        ])
    }
}

// ---- checks after the call ----

/// Guest memory and the user buffer are exactly as they were before the call. (`*old_addr` is
/// not looked at: after a cmpxchg error its content is not defined, §3.6.)
fn nothing_moved() -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    |env, c| {
        guest_unchanged_except(env, c, None)?;
        user_unchanged_from(env, c, 0)
    }
}

fn guest_unchanged_except(env: &Env, c: &mut Checker, written: Option<(u64, &[u8])>) -> Step<()> {
    let mem = env.mem.as_slice();
    let first_diff = mem.iter().enumerate().position(|(i, &b)| {
        let want = match written {
            Some((at, data)) if (at as usize..at as usize + data.len()).contains(&i) => {
                data[i - at as usize]
            }
            _ => guest_pattern(i),
        };
        b != want
    });
    c.ensure(first_diff.is_none(), || {
        let i = first_diff.unwrap_or(0);
        match written {
            Some((at, data)) => format!(
                "guest memory at {i:#x} is {:#04x}: expected only [{at:#x}, {:#x}) to change, to the user buffer's bytes",
                mem[i],
                at + data.len() as u64
            ),
            None => format!("guest memory at {i:#x} is {:#04x}, expected {:#04x} (unchanged: no data may move)", mem[i], guest_pattern(i)),
        }
    })
}

fn user_unchanged_from(env: &Env, c: &mut Checker, from: usize) -> Step<()> {
    let u = env.ubuf.as_slice();
    let first_diff = (from..u.len()).find(|&i| u[i] != env.u0[i]);
    c.ensure(first_diff.is_none(), || {
        let i = first_diff.unwrap_or(0);
        format!("user buffer byte at offset {i:#x} is {:#04x}, expected {:#04x} (unchanged: nothing may be written there)", u[i], env.u0[i])
    })
}

/// A read moved [gaddr, gaddr + len) into the user buffer and nothing else changed.
fn read_moved(gaddr: u64, len: usize) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let want = Env::original(gaddr, len);
        let got = &env.ubuf.as_slice()[..len];
        c.ensure(got == want.as_slice(), || {
            let i = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
            format!(
                "user buffer byte {i} is {:#04x}, guest memory at {:#x} holds {:#04x}",
                got[i],
                gaddr + i as u64,
                want[i]
            )
        })?;
        user_unchanged_from(env, c, len)?;
        guest_unchanged_except(env, c, None)
    }
}

/// A write moved the first `len` user bytes to [gaddr, gaddr + len) and nothing else changed.
fn write_moved(gaddr: u64, len: usize) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let data = env.u0[..len].to_vec();
        guest_unchanged_except(env, c, Some((gaddr, &data)))?;
        user_unchanged_from(env, c, 0)
    }
}

/// As `read_moved`, with the size the call used (a capability-relative size).
fn read_moved_cap(gaddr: u64) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| read_moved(gaddr, env.sent().size as usize)(env, c)
}

fn write_moved_cap(gaddr: u64) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| write_moved(gaddr, env.sent().size as usize)(env, c)
}

/// After an ABSOLUTE_WRITE: ABSOLUTE_READ of the same range returns what was written.
fn absolute_read_back(
    gaddr: u64,
    len: usize,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        write_moved(gaddr, len)(env, c)?;
        let m = env.sent();
        let back = GuestMemory::new(len).map_err(fixture_error)?;
        let r = KvmS390MemOp {
            op: ABS_READ,
            buf: back.addr(),
            ..*m
        };
        c.call(
            "KVM_S390_MEM_OP ABSOLUTE_READ of the range just written",
            &r,
            OK,
            env.mem_op(On::Vm, &r),
        )?;
        c.ensure(back.as_slice() == &env.u0[..len], || {
            "ABSOLUTE_READ returned other bytes than ABSOLUTE_WRITE wrote".into()
        })
    }
}

/// cmpxchg success: memory holds the new value, `*old_addr` is untouched.
fn exchanged(size: usize) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    exchanged_at(XCHG, size)
}

fn exchanged_at(at: u64, size: usize) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let new = cmpxchg_new_value(at, size);
        guest_unchanged_except(env, c, Some((at, &new)))?;
        let old = env.obuf.as_slice();
        c.ensure(old == env.o0.as_slice(), || {
            format!(
                "*old_addr changed to {:02x?} after a successful exchange; it must stay untouched",
                &old[..size]
            )
        })
    }
}

/// cmpxchg with a stale expected value: returns 0, memory unchanged, the actual value is
/// written back to `*old_addr`.
fn not_exchanged_value_returned(
    size: usize,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        guest_unchanged_except(env, c, None)?;
        let actual = Env::original(XCHG, size);
        let old = &env.obuf.as_slice()[..size];
        c.ensure(old == actual.as_slice(), || {
            format!("*old_addr is {old:02x?} after a value mismatch; expected the actual guest value {actual:02x?}")
        })?;
        c.ensure(env.obuf.as_slice()[size..] == env.o0[size..], || {
            format!("the kernel wrote past the {size} bytes of *old_addr")
        })
    }
}

/// The value a cmpxchg row writes: the guest's bytes with bits flipped (always different).
fn cmpxchg_new_value(at: u64, size: usize) -> Vec<u8> {
    Env::original(at, size).iter().map(|b| b ^ 0x3c).collect()
}

const IRQ_ENTRIES: usize = 8;

fn get_irq_state(env: &Env, c: &mut Checker) -> Step<(i64, GuestMemory)> {
    let buf = GuestMemory::new(72 * IRQ_ENTRIES).map_err(fixture_error)?;
    let st = KvmS390IrqState {
        buf: buf.addr(),
        flags: 0,
        len: (72 * IRQ_ENTRIES) as u32,
        reserved: [0; 4],
    };
    let r = s390_get_irq_state(env.vm.k, env.vcpu.fd, &st);
    c.ensure(matches!(r, Ok(n) if n >= 0), || {
        format!("KVM_S390_GET_IRQ_STATE after the call: {r:?}")
    })?;
    Ok((r.unwrap_or(0), buf))
}

/// The one pending interrupt, which must be a PROGRAM_INT with this code (GET_IRQ_STATE: 72
/// bytes, its type, its code); its program-interruption fields for further checks.
pub fn the_pending_pgm(env: &Env, c: &mut Checker, code: i64) -> Step<KvmS390PgmInfo> {
    let (n, buf) = get_irq_state(env, c)?;
    c.ensure(n == 72, || {
        format!("KVM_S390_GET_IRQ_STATE returned {n} bytes; expected 72 (one pending PROGRAM_INT with code {code:#x})")
    })?;
    let irq = KvmS390Irq::from_bytes(&buf.as_slice()[..72]);
    c.ensure(irq.type_ == KVM_S390_PROGRAM_INT, || {
        format!(
            "pending interrupt type {:#x}; expected KVM_S390_PROGRAM_INT {KVM_S390_PROGRAM_INT:#x}",
            irq.type_
        )
    })?;
    let pgm = irq.pgm();
    c.ensure(i64::from(pgm.code) == code, || {
        format!(
            "pending PROGRAM_INT has code {:#x}; expected {code:#x} (the code the ioctl returned)",
            pgm.code
        )
    })?;
    Ok(pgm)
}

/// Exactly one interrupt is pending: a PROGRAM_INT with this code.
fn pending_pgm(code: u16) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| the_pending_pgm(env, c, i64::from(code)).map(drop)
}

/// TEID bits (gaccess.c `union teid`, bit 0 the most significant): fetch/store indication in
/// bits 52-53, key-controlled protection bit 60.
const TEID_STORE: u64 = 1 << 10;
const TEID_FETCH: u64 = 2 << 10;
const TEID_B60: u64 = 1 << 3;

/// Exactly one PROGRAM_INT pending with this code and this translation-exception
/// identification; exc_access_id is the `ar` of the call (0).
fn pending_teid_code(
    code: u16,
    teid: u64,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        pending_pgm(code)(env, c)?;
        let (_, buf) = get_irq_state(env, c)?;
        let pgm = KvmS390Irq::from_bytes(&buf.as_slice()[..72]).pgm();
        let got = pgm.trans_exc_code;
        c.ensure(got == teid, || {
            format!("the pending PROGRAM_INT's trans_exc_code (TEID) is {got:#x}; expected {teid:#x} (page address | fetch/store bits 52-53 | bit 60 key-controlled protection)")
        })?;
        c.ensure(pgm.exc_access_id == 0, || {
            format!(
                "the pending PROGRAM_INT's exc_access_id is {}; expected 0 (the call's ar)",
                pgm.exc_access_id
            )
        })
    }
}

fn pending_teid(teid: u64) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    pending_teid_code(4, teid)
}

/// A keyed store of [KEY_ADDR - 4, KEY_ADDR + 4): the first page (key 0x20) is written, the
/// second (key 0x90) is not, and the exception is in the termination form (no bit 60).
fn termination_teid(env: &Env, c: &mut Checker) -> Step<()> {
    pending_teid(KEY_ADDR | TEID_STORE)(env, c)?;
    let u = env.ubuf.as_slice();
    guest_unchanged_except(env, c, Some((KEY_ADDR - 4, &u[..4])))
}

fn nothing_pending(env: &Env, c: &mut Checker) -> Step<()> {
    let (n, _) = get_irq_state(env, c)?;
    c.ensure(n == 0, || {
        format!("KVM_S390_GET_IRQ_STATE returned {n} bytes; expected 0 (nothing may be injected)")
    })
}

// ---- running a row ----

/// The case definitions for the harness.
pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::cases(SUITE, SEED, rows());
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &s390(), &[("vcpu_", KVM_S390_MEM_OP, Target::Vcpu)]);
    cases.extend(bad_arguments);
    let mut vm_needs = s390();
    vm_needs.push(EXT_BASE);
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &vm_needs, &[("vm_", KVM_S390_MEM_OP, Target::Vm)]);
    cases.extend(bad_arguments);
    cases.extend(property_cases());
    cases
}

impl Env {
    /// One `given`: a reset, a storage key, registers or DAT tables set before the call.
    fn set_up(&mut self, g: Given, c: &mut Checker) -> Step<()> {
        match g {
            Given::InitialReset => {
                c.setup(
                    "KVM_S390_INITIAL_RESET on the vcpu",
                    &"vcpu 0",
                    s390_initial_reset(self.vm.k, self.vcpu.fd),
                )?;
            }
            Given::Cr0(cr0) => {
                let mut s = KvmSregs::default();
                s.crs[0] = cr0;
                c.setup(
                    &format!("KVM_SET_SREGS on the vcpu, CR0 {cr0:#x}"),
                    &format!("struct kvm_sregs {{ acrs: all 0, crs: [{cr0:#x}, 0, ...] }}"),
                    fixtures::raw::ioctl::set_sregs(self.vm.k, self.vcpu.fd, &s),
                )?;
            }
            Given::Gbea(gbea) => {
                let set = format!("KVM_SET_ONE_REG KVM_REG_S390_GBEA {gbea:#x} on the vcpu");
                let reg = fixtures::raw::ioctl::set_one_reg_u64(
                    self.vm.k,
                    self.vcpu.fd,
                    KVM_REG_S390_GBEA,
                    &gbea,
                );
                c.setup(&set, &"vcpu 0", reg)?;
                let back = get_one_reg_u64(self.vm.k, self.vcpu.fd, KVM_REG_S390_GBEA);
                c.setup(
                    "KVM_GET_ONE_REG KVM_REG_S390_GBEA on the vcpu",
                    &"vcpu 0",
                    back.map(|_| 0),
                )?;
                if back != Ok(gbea) {
                    return Err(c.setup_failed(
                        format!("KVM_GET_ONE_REG KVM_REG_S390_GBEA after setting it: expected {gbea:#x}, got {back:#x?}"),
                        vec!["the breaking-event address did not read back as set".into()],
                    ));
                }
            }
            Given::RanWithGbea(gbea) => {
                let stop =
                    fixtures::guest_s390::run_diag_501(&self.vm, &self.vcpu, &self.mem, gbea)
                        .map_err(|e| c.setup_failed("the diag 0x501 guest did not run", vec![e]))?;
                if !stop.is_the_diag() {
                    return Err(c.setup_failed(
                        format!("KVM_RUN of the diag 0x501 guest: expected its diagnose intercepted (exit 13, icptcode 4, ipa 0x8300, ipb 0x05010000, PSW 0x1004), got {stop}"),
                        vec!["the guest did not run as set up".into()],
                    ));
                }
                c.note(format!(
                    "the vcpu ran (diag 0x501 at {:#x}) with gbea {gbea:#x}; KVM_RUN stored gbea {:#x}",
                    fixtures::guest_s390::CODE_ADDR,
                    stop.gbea
                ));
            }
            Given::NormalReset => {
                c.setup(
                    "KVM_S390_NORMAL_RESET on the vcpu",
                    &"vcpu 0",
                    fixtures::raw::ioctl::s390_normal_reset(self.vm.k, self.vcpu.fd),
                )?;
            }
            Given::ClearReset => {
                c.setup(
                    "KVM_S390_CLEAR_RESET on the vcpu",
                    &"vcpu 0",
                    fixtures::raw::ioctl::s390_clear_reset(self.vm.k, self.vcpu.fd),
                )?;
            }
            Given::StorageKey { gfn, key } => {
                let keys = [key];
                let s = KvmS390Skeys {
                    start_gfn: gfn,
                    count: 1,
                    skeydata_addr: keys.as_ptr() as u64,
                    flags: 0,
                    reserved: [0; 9],
                };
                c.setup(
                    &format!("KVM_S390_SET_SKEYS gfn {gfn:#x} key {key:#04x}"),
                    &s,
                    s390_set_skeys(self.vm.k, self.vm.fd, &s),
                )?;
            }
            Given::DatTables => dat::write_tables(self, c)?,
            Given::DatRegs(regs) => dat::set_regs(self, c, regs)?,
            Given::Psw(mask) => dat::load_psw(self, c, mask)?,
        }
        Ok(())
    }
}

fn what(m: &KvmS390MemOp, on: On) -> String {
    let name = match m.op {
        READ => "LOGICAL_READ",
        WRITE => "LOGICAL_WRITE",
        SIDA_READ => "SIDA_READ",
        SIDA_WRITE => "SIDA_WRITE",
        ABS_READ => "ABSOLUTE_READ",
        ABS_WRITE => "ABSOLUTE_WRITE",
        CMPXCHG => "ABSOLUTE_CMPXCHG",
        _ => "undefined op",
    };
    let fd = if on == On::Vcpu { "vcpu" } else { "VM" };
    format!("KVM_S390_MEM_OP {name} on the {fd} fd")
}

/// cmpxchg rows: `buf` holds the new value, `*old_addr` the expected one (the guest's current
/// bytes, or their complement for a stale row).
fn prepare_cmpxchg(env: &mut Env, o: &Op, size: usize) {
    let n = size.min(32);
    let inside = o.gaddr + n as u64 <= SLOT;
    let current = if inside {
        Env::original(o.gaddr, n)
    } else {
        vec![0x11; n]
    };
    let new: Vec<u8> = if inside {
        cmpxchg_new_value(o.gaddr, n)
    } else {
        vec![0x22; n]
    };
    env.ubuf.as_mut_slice()[..n].copy_from_slice(&new);
    let old: Vec<u8> = current
        .iter()
        .map(|b| if o.stale_old { !b } else { *b })
        .collect();
    env.obuf.as_mut_slice()[..n].copy_from_slice(&old);
}

// ---- properties: random round trips ----

// The round trips: 128 inputs each, all on one fixture while they agree (a fresh fixture costs
// far more than a round trip); the streams are the ids they were drawn under.
#[rustfmt::skip]
const LOGICAL: Property = Property::new(SUITE, "vcpu_logical_random_data", "roundtrip::vcpu_logical_random_data", 128).reusing();
#[rustfmt::skip]
const ABSOLUTE: Property = Property::new(SUITE, "vm_absolute_random_data", "roundtrip::vm_absolute_random_data", 128).reusing();

fn property_cases() -> Vec<harness::Case> {
    let mut abs_needs = s390();
    abs_needs.push(EXT_BASE);
    vec![
        LOGICAL.case(SEED, &s390(), |host, ctx, p| {
            round_trips(host, ctx, p, Path::Logical)
        }),
        ABSOLUTE.case(SEED, &abs_needs, |host, ctx, p| {
            round_trips(host, ctx, p, Path::Absolute)
        }),
    ]
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` random bytes from `seed` (the data is a function of the shrinkable seed value).
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&splitmix(&mut s).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The generated start address, moved down so [gaddr, gaddr + size) stays inside the slot.
fn clamp(gaddr: u64, size: u32) -> u64 {
    gaddr.min(SLOT - u64::from(size))
}

/// Property: for random (gaddr, size, data) inside guest memory, a write through `path`
/// followed by a read returns the data, the host mapping holds exactly it, and no other guest
/// byte changed; the other path reads the same bytes where the VM fd has MEM_OP.
fn round_trips(host: &Arc<Host>, ctx: &CaseContext, p: &Property, path: Path) -> Step<CaseReport> {
    let max = (host.cap(KVM_CAP_S390_MEM_OP).max(1) as u64).min(SLOT) as u32;
    let vm_fd_ops =
        host.cap(KVM_CAP_S390_MEM_OP_EXTENSION) & KVM_S390_MEMOP_EXTENSION_CAP_BASE as i64 != 0;
    let cross = path == Path::Absolute || vm_fd_ops;
    let other = match path {
        Path::Logical => Path::Absolute,
        Path::Absolute => Path::Logical,
    };
    // Independent components shrink well; a range running past the slot end is moved down.
    let inputs = (0..SLOT, 1..=max, any::<u64>()).prop_map(move |(gaddr, size, data_seed)| {
        let gaddr = clamp(gaddr, size);
        let data = random_bytes(data_seed, size as usize);
        let mut ops = vec![
            MemOp::Write { path, gaddr, data },
            MemOp::Read {
                path,
                gaddr,
                len: size,
            },
        ];
        if cross {
            ops.push(MemOp::Read {
                path: other,
                gaddr,
                len: size,
            });
        }
        Generated::new(ops)
    });
    let start = || {
        let env = Env::new(host).map_err(|r| r.summary)?;
        let memory = GuestMemoryModel::new(env.mem.as_slice().to_vec());
        Ok((env, memory))
    };
    let result = fixtures::models::check(&p.config(ctx), &inputs, start);
    let facts = format!(
        "random write/read round trips inside slot 0 (sizes 1..={max}){}",
        if cross {
            ", each read back through both fds"
        } else {
            ""
        }
    );
    p.report(ctx, vec![facts], result)
}

/// The kernel answers the properties' MEM_OPs: a write reports the whole host mapping of guest
/// memory, a read the bytes it read.
impl SystemUnderTest for Env {
    type Op = MemOp;
    type Answer = MemAnswer;
    fn apply(&mut self, op: &MemOp) -> MemAnswer {
        let (on, code, gaddr, size, buf) = match op {
            MemOp::Write { path, gaddr, data } => {
                let (on, code) = match path {
                    Path::Logical => (On::Vcpu, WRITE),
                    Path::Absolute => (On::Vm, ABS_WRITE),
                };
                (on, code, *gaddr, data.len() as u32, data.as_ptr() as u64)
            }
            MemOp::Read { path, gaddr, len } => {
                let (on, code) = match path {
                    Path::Logical => (On::Vcpu, READ),
                    Path::Absolute => (On::Vm, ABS_READ),
                };
                (on, code, *gaddr, *len, self.ubuf.addr())
            }
        };
        let m = KvmS390MemOp {
            gaddr,
            flags: 0,
            size,
            op: code,
            buf,
            reserved: [0; 32],
        };
        let result = self.mem_op(on, &m);
        let bytes = match op {
            MemOp::Write { .. } => self.mem.as_slice().to_vec(),
            MemOp::Read { .. } => self.ubuf.as_slice()[..size as usize].to_vec(),
        };
        MemAnswer { result, bytes }
    }
}
