//! KVM_S390_GET_IRQ_STATE / KVM_S390_SET_IRQ_STATE (api.txt 4.94 / 4.95, seeds/002): every
//! rule of kernel-semantics.md §5 as rows, plus properties that run random interrupt sets
//! against the reference model in `fixtures::models::s390_irq_state`.
//!
//! Each row: interrupts made pending first (`given`, through KVM_S390_IRQ or a SET), the call
//! under test, its exact expected outcome, and optionally what GET shows afterwards.
//!
//! Fixture (kept here for now): a VM without memslots and vcpus 0, 1 and 2, all never run
//! (stopped); the calls go to vcpu 0. Ids 3..=254 do not exist.

use crate::rows::{bad_argument_cases, capability_absent, Target};
use crate::rows::{
    cap, fixture_error, Checker, Fixture, GetOrSet, Host, Need, Property, Ptr, Seed, Step,
};
use fixtures::memory::{GuestMemory, Inaccessible};
use fixtures::models::s390_irq_state::{
    self as model, mchk_entry as mchk, pgm, show_entries as show, IrqAnswer, IrqJudge, IrqModel,
    IrqOp, IRQ_SIZE, MCIC_DEGR, MCIC_EXTD, MCIC_PD, MCIC_SD, MCIC_WARN,
};
use fixtures::models::{Generated, SystemUnderTest};
use fixtures::raw::ioctl::{create_device, flic_get_all_irqs, s390_interrupt};
use fixtures::raw::ioctl::{s390_get_irq_state, s390_irq, s390_set_irq_state};
use fixtures::raw::ioctl::{
    KVM_S390_CLEAR_RESET, KVM_S390_GET_IRQ_STATE, KVM_S390_INITIAL_RESET, KVM_S390_NORMAL_RESET,
    KVM_S390_SET_IRQ_STATE,
};
use fixtures::raw::uapi::*;
use fixtures::raw::SysResult;
use fixtures::vm::{KernelFd, Vcpu, Vm};
use harness::{CaseContext, CaseReport, Expected, Outcome};
use nix::errno::Errno::{EBUSY, EFAULT, EINVAL, ENOBUFS};
use proptest::prelude::*;
use std::sync::Arc;

pub const SUITE: &str = "s390_irq_state";
pub const SEED: Seed = Seed {
    section: "4.94/4.95",
    ioctl: "KVM_S390_GET_IRQ_STATE/KVM_S390_SET_IRQ_STATE",
    file: "002_c5643bf65eb55c2e.txt",
};

const VCPUS: [u32; 3] = [0, 1, 2];
const MAX: u32 = VCPU_IRQS_MAX_BUF;
/// Prefilled into GET buffers, to see which bytes the kernel wrote.
const SENTINEL: u8 = 0x5b;
/// GET buffers never get more than this (the kernel writes at most the pending entries).
const GET_BUF_CAP: u32 = 64 * 1024;

const GET: &str = "KVM_S390_GET_IRQ_STATE on the vcpu fd";
const SET: &str = "KVM_S390_SET_IRQ_STATE on the vcpu fd";

const D6: &str = "D6: api.txt bounds len by (max_vcpus + 32) * sizeof(struct kvm_s390_irq); the kernel uses the compile-time KVM_MAX_VCPUS (255): always 20664, whatever KVM_CAP_MAX_VCPUS reports";
const D7: &str = "D7: api.txt prints two layouts (GET: buf, flags, len, reserved[4]; SET: buf, len, pad); there is one 32-byte struct kvm_s390_irq_state for both, and flags/reserved are never read";
const D8: &str = "D8: api.txt (KVM_S390_IRQ) says an external call's code must not exceed the maximum number of vcpus; the kernel requires the id of an existing vcpu";
const D12: &str = "D12: not in api.txt: GET lists entries in the kernel's internal order (not the SET order), and an MCHK without exigent or repressible mcic bits is accepted but never pending";

#[derive(Debug, Clone)]
pub struct Call {
    pub op: GetOrSet,
    pub entries: Vec<KvmS390Irq>,
    /// None: 72 × entries.
    pub len: Option<u32>,
    /// The entry buffer; mapped: for SET the entries, then zeros up to `len`; for GET SENTINEL.
    pub buf: Ptr,
    pub flags: u32,
    pub reserved: [u32; 4],
}

pub fn set(entries: &[KvmS390Irq]) -> Call {
    Call {
        op: GetOrSet::Set,
        entries: entries.to_vec(),
        len: None,
        buf: Ptr::Mapped,
        flags: 0,
        reserved: [0; 4],
    }
}

pub fn get(len: u32) -> Call {
    Call {
        op: GetOrSet::Get,
        entries: vec![],
        len: Some(len),
        buf: Ptr::Mapped,
        flags: 0,
        reserved: [0; 4],
    }
}

impl Call {
    fn len(mut self, len: u32) -> Self {
        self.len = Some(len);
        self
    }
    fn buf(mut self, b: Ptr) -> Self {
        self.buf = b;
        self
    }
    fn garbage(mut self) -> Self {
        self.flags = u32::MAX;
        self.reserved = [0xdead_beef; 4];
        self
    }
    fn byte_len(&self) -> u32 {
        self.len.unwrap_or(self.entries.len() as u32 * IRQ_SIZE)
    }
}

/// Something pending before the call.
#[derive(Debug, Clone)]
pub enum Given {
    /// KVM_S390_IRQ (needs KVM_CAP_S390_INJECT_IRQ).
    Irq(KvmS390Irq),
    /// A SET_IRQ_STATE that must succeed.
    Set(Vec<KvmS390Irq>),
}

pub struct Env {
    pub host: Arc<Host>,
    pub vm: Vm,
    pub vcpus: Vec<Vcpu>,
    /// The buffer of the call under test.
    pub buf: Option<GuestMemory>,
    _inaccessible: Inaccessible,
    inaccessible: u64,
}

impl Env {
    fn new(host: &Arc<Host>, vcpu_ids: &[u32]) -> Step<Env> {
        let vm = Vm::new().map_err(fixture_error)?;
        let mut vcpus = Vec::new();
        for &id in vcpu_ids {
            vcpus.push(
                vm.vcpu(u64::from(id))
                    .map_err(|e| fixture_error(format!("KVM_CREATE_VCPU {id}: {e}")))?,
            );
        }
        let inaccessible = Inaccessible::new().map_err(fixture_error)?;
        let addr = inaccessible.addr();
        Ok(Env {
            host: Arc::clone(host),
            vm,
            vcpus,
            buf: None,
            _inaccessible: inaccessible,
            inaccessible: addr,
        })
    }

    fn fd(&self) -> i32 {
        self.vcpus[0].fd
    }

    fn issue(&mut self, call: &Call) -> Step<(KvmS390IrqState, SysResult)> {
        let len = call.byte_len();
        let buf = match call.buf {
            Ptr::Mapped => {
                let data = model::to_buffer(&call.entries);
                let size = match call.op {
                    GetOrSet::Set => (len as usize).max(data.len()).max(1),
                    GetOrSet::Get => len.clamp(1, GET_BUF_CAP) as usize,
                };
                let mut mem = GuestMemory::new(size).map_err(fixture_error)?;
                let bytes = mem.as_mut_slice();
                match call.op {
                    GetOrSet::Set => bytes[..data.len()].copy_from_slice(&data),
                    GetOrSet::Get => bytes.fill(SENTINEL),
                }
                let a = mem.addr();
                self.buf = Some(mem);
                a
            }
            Ptr::Inaccessible => self.inaccessible,
            Ptr::Null => 0,
        };
        let st = KvmS390IrqState {
            buf,
            flags: call.flags,
            len,
            reserved: call.reserved,
        };
        let r = match call.op {
            GetOrSet::Set => s390_set_irq_state(self.vm.k, self.fd(), &st),
            GetOrSet::Get => s390_get_irq_state(self.vm.k, self.fd(), &st),
        };
        Ok((st, r))
    }

    fn set(&self, entries: &[KvmS390Irq]) -> (KvmS390IrqState, SysResult) {
        let data = model::to_buffer(entries);
        let st = KvmS390IrqState {
            buf: data.as_ptr() as u64,
            flags: 0,
            len: data.len() as u32,
            reserved: [0; 4],
        };
        (st, s390_set_irq_state(self.vm.k, self.fd(), &st))
    }

    /// GET with a buffer of `len` bytes: the result and the buffer afterwards.
    fn get(&self, len: u32) -> (KvmS390IrqState, SysResult, Vec<u8>) {
        let mut out = vec![SENTINEL; len.clamp(1, GET_BUF_CAP) as usize];
        let st = KvmS390IrqState {
            buf: out.as_mut_ptr() as u64,
            flags: 0,
            len,
            reserved: [0; 4],
        };
        let r = s390_get_irq_state(self.vm.k, self.fd(), &st);
        (st, r, out)
    }
}

impl Fixture for Env {
    type Given = Given;
    type Call = Call;
    type Setup = ();

    fn open(host: &Arc<Host>, _: &CaseContext, _: &Row, _: &Expected) -> Step<Env> {
        Env::new(host, &VCPUS)
    }

    fn given(&mut self, given: &[Given], c: &mut Checker) -> Step<()> {
        for g in given {
            match g {
                Given::Irq(irq) => {
                    c.setup(
                        "KVM_S390_IRQ on the vcpu fd",
                        irq,
                        s390_irq(self.vm.k, self.fd(), irq),
                    )?;
                }
                Given::Set(entries) => {
                    let (st, r) = self.set(entries);
                    c.setup(SET, &st, r)?;
                }
            }
        }
        Ok(())
    }

    fn call(&mut self, call: &Call, expected: Expected, c: &mut Checker) -> Step<()> {
        let (st, r) = self.issue(call)?;
        let what = match call.op {
            GetOrSet::Set => SET,
            GetOrSet::Get => GET,
        };
        c.call(what, &st, expected, r).map(drop)
    }
}

type Row = crate::rows::Row<Env>;

/// A row of the suite: needs KVM_CAP_S390_IRQ_STATE.
#[track_caller]
fn row(id: impl Into<String>, call: Call, expect: impl Into<Expected>) -> Row {
    Row::new(id, call, expect).needs(&[cap(KVM_CAP_S390_IRQ_STATE, "KVM_CAP_S390_IRQ_STATE")])
}

impl Row {
    fn given_set(self, entries: &[KvmS390Irq]) -> Self {
        self.given(&[Given::Set(entries.to_vec())])
    }
    fn given_irq(self, irq: KvmS390Irq) -> Self {
        self.given(&[Given::Irq(irq)])
            .needs(&[cap(KVM_CAP_S390_INJECT_IRQ, "KVM_CAP_S390_INJECT_IRQ")])
    }
    /// Afterwards GET lists exactly these entries, in this order.
    fn pending(self, want: &[KvmS390Irq]) -> Self {
        let want = want.to_vec();
        self.then(move |env, c| pending_exactly(env, c, &want))
    }
    fn nothing_pending(self) -> Self {
        self.pending(&[])
    }
}

const OK: Outcome = Outcome::OK;

// ---- entries ----

fn plain(t: u64) -> KvmS390Irq {
    KvmS390Irq::plain(t)
}
fn restart() -> KvmS390Irq {
    plain(KVM_S390_RESTART)
}
fn cpu_timer() -> KvmS390Irq {
    plain(KVM_S390_INT_CPU_TIMER)
}
fn clock_comp() -> KvmS390Irq {
    plain(KVM_S390_INT_CLOCK_COMP)
}
fn emerg(code: u16) -> KvmS390Irq {
    KvmS390Irq::with_emerg(KVM_S390_INT_EMERGENCY, KvmS390EmergInfo { code })
}
fn extcall(code: u16) -> KvmS390Irq {
    KvmS390Irq::with_extcall(KVM_S390_INT_EXTERNAL_CALL, KvmS390ExtcallInfo { code })
}
fn stop(flags: u32) -> KvmS390Irq {
    KvmS390Irq::with_stop(KVM_S390_SIGP_STOP, KvmS390StopInfo { flags })
}
fn prefix(address: u32) -> KvmS390Irq {
    KvmS390Irq::with_prefix(KVM_S390_SIGP_SET_PREFIX, KvmS390PrefixInfo { address })
}
fn pfault_init(token: u64) -> KvmS390Irq {
    KvmS390Irq::with_ext(
        KVM_S390_INT_PFAULT_INIT,
        KvmS390ExtInfo {
            ext_params2: token,
            ..Default::default()
        },
    )
}

/// The whole table.
#[rustfmt::skip]
pub fn rows() -> Vec<Row> {
    let full = vec![emerg(0); (MAX / IRQ_SIZE) as usize];
    let over = vec![emerg(0); (MAX / IRQ_SIZE) as usize + 1];
    // Ten kinds of entry as SET gets them, and as GET lists them (IRQ_PEND_* order, then the
    // emergency sources ascending).
    let ten_in_set_order = [emerg(2), mchk(MCIC_SD, 0, 0), pgm(4, 0), clock_comp(), cpu_timer(), pfault_init(7), emerg(0), restart(), prefix(0x4000), emerg(1)];
    let ten_in_kernel_order = [prefix(0x4000), restart(), pfault_init(7), cpu_timer(), clock_comp(), pgm(4, PGM_FLAGS_ILC_VALID), mchk(MCIC_SD, 0, 0), emerg(0), emerg(1), emerg(2)];
    let mut rows = vec![
        // ---- SET: the length rule (0 < len <= 20664, multiple of 72) ----
        row("set_len::zero", set(&[restart()]).len(0), EINVAL).nothing_pending(),
        row("set_len::71", set(&[restart()]).len(71), EINVAL).nothing_pending(),
        row("set_len::73", set(&[restart()]).len(73), EINVAL).nothing_pending(),
        row("set_len::72_accepted", set(&[restart()]), OK).pending(&[restart()]),
        row("set_len::144_accepted", set(&[restart(), cpu_timer()]), OK).pending(&[restart(), cpu_timer()]),
        row("set_len::max_passes_the_length_check", set(&[]).len(MAX).buf(Ptr::Inaccessible), EFAULT).doc(D6),
        row("set_len::max_accepted", set(&full), OK).pending(&[emerg(0)]).doc(D6),
        row("set_len::max_plus_72_bad_buffer", set(&[]).len(MAX + IRQ_SIZE).buf(Ptr::Inaccessible), EINVAL).doc(D6),
        row("set_len::max_plus_72", set(&over), EINVAL).nothing_pending(),
        row("set_len::max_plus_1", set(&[]).len(MAX + 1).buf(Ptr::Inaccessible), EINVAL),
        row("set_len::u32_max", set(&[]).len(u32::MAX).buf(Ptr::Inaccessible), EINVAL),
        // ---- SET: the buffer ----
        row("set_buf::inaccessible", set(&[restart()]).buf(Ptr::Inaccessible), EFAULT).nothing_pending(),
        row("set_buf::null", set(&[restart()]).buf(Ptr::Null), EFAULT).nothing_pending(),
        row("set_fields::flags_and_reserved_ignored", set(&[restart()]).garbage(), OK).pending(&[restart()]).doc(D7),
        // ---- SET: EBUSY when a local interrupt is pending ----
        row("busy::after_kvm_s390_irq", set(&[cpu_timer()]), EBUSY).given_irq(restart()).pending(&[restart()]),
        row("busy::after_a_previous_set", set(&[cpu_timer()]), EBUSY).given_set(&[restart()]).pending(&[restart()]),
        row("busy::pending_emergency_counts", set(&[restart()]), EBUSY).given_set(&[emerg(1)]).pending(&[emerg(1)]),
        row("busy::checked_after_the_buffer_copy", set(&[cpu_timer()]).buf(Ptr::Inaccessible), EFAULT).given_set(&[restart()]),
        row("busy::checked_after_the_length", set(&[cpu_timer()]).len(71), EINVAL).given_set(&[restart()]),
        row("busy::mchk_without_class_bits_is_not_pending", set(&[restart()]), OK).given_set(&[mchk(0, 0, 0)]).pending(&[restart()]).doc(D12),
        row("busy::stop_on_a_stopped_vcpu_is_not_pending", set(&[restart()]), OK).given_set(&[stop(0)]).pending(&[restart()]),
        // ---- SET: accepted types on a stopped vcpu ----
        row("type::program_int_gains_ilc_valid", set(&[pgm(0x0001, 0)]), OK).pending(&[pgm(0x0001, PGM_FLAGS_ILC_VALID)]),
        row("type::program_int_ilc_kept", set(&[pgm(0x0011, PGM_FLAGS_ILC_VALID | model::PGM_FLAGS_ILC_1)]), OK).pending(&[pgm(0x0011, PGM_FLAGS_ILC_VALID | model::PGM_FLAGS_ILC_1)]),
        row("type::restart", set(&[restart()]), OK).pending(&[restart()]),
        row("type::clock_comp", set(&[clock_comp()]), OK).pending(&[clock_comp()]),
        row("type::cpu_timer", set(&[cpu_timer()]), OK).pending(&[cpu_timer()]),
        row("type::pfault_init", set(&[pfault_init(0x1234_5678_9abc)]), OK).pending(&[pfault_init(0x1234_5678_9abc)]),
        row("type::mchk_exigent_system_damage", set(&[mchk(MCIC_SD, 0x10, 0)]), OK).pending(&[mchk(MCIC_SD, 0x10, 0)]),
        row("type::mchk_exigent_instruction_processing_damage", set(&[mchk(MCIC_PD, 0, 0)]), OK).pending(&[mchk(MCIC_PD, 0, 0)]),
        row("type::mchk_repressible_degradation", set(&[mchk(MCIC_DEGR, 0, 0)]), OK).pending(&[mchk(MCIC_DEGR, 0, 0)]),
        row("type::mchk_repressible_external_damage", set(&[mchk(MCIC_EXTD, 0, 7)]), OK).pending(&[mchk(MCIC_EXTD, 0, 7)]),
        row("type::mchk_repressible_warning", set(&[mchk(MCIC_WARN, 0, 0)]), OK).pending(&[mchk(MCIC_WARN, 0, 0)]),
        row("type::mchk_without_class_bits_not_pending", set(&[mchk(0x0000_0000_0001_0000, 1, 1)]), OK).nothing_pending().doc(D12),
        row("type::mchk_merges", set(&[mchk(MCIC_SD, 0x1, 0x10), mchk(MCIC_PD, 0x2, 0x20)]), OK).pending(&[mchk(MCIC_SD | MCIC_PD, 0x3, 0x30)]),
        row("type::mchk_repressible_then_exigent", set(&[mchk(MCIC_DEGR, 0x1, 0), pgm(1, 0), mchk(MCIC_SD, 0x2, 0)]), OK).pending(&[mchk(MCIC_DEGR | MCIC_SD, 0x3, 0), pgm(1, PGM_FLAGS_ILC_VALID), mchk(MCIC_DEGR | MCIC_SD, 0x3, 0)]),
        row("type::sigp_set_prefix_on_a_stopped_vcpu", set(&[prefix(0x2_0000)]), OK).pending(&[prefix(0x2_0000)]),
        row("type::sigp_stop_not_queued_on_a_stopped_vcpu", set(&[stop(0)]), OK).nothing_pending(),
        row("type::sigp_stop_store_status_without_memory", set(&[stop(KVM_S390_STOP_FLAG_STORE_STATUS)]), EFAULT).nothing_pending(),
        row("type::emergency_from_itself", set(&[emerg(0)]), OK).pending(&[emerg(0)]),
        row("type::emergency_from_another_vcpu", set(&[emerg(2)]), OK).pending(&[emerg(2)]),
        row("type::emergency_repeated_from_one_source", set(&[emerg(1), emerg(1)]), OK).pending(&[emerg(1)]),
        // Local bit or SCA: both list one entry with the source and refuse a second call.
        row("type::external_call", set(&[extcall(1)]), OK).pending(&[extcall(1)]),
        row("type::external_call_twice", set(&[extcall(1), extcall(2)]), EBUSY).pending(&[extcall(1)]),
        // ---- SET: rejected entries (EINVAL; earlier entries stay, later ones are not injected) ----
        row("reject::earlier_entries_stay_injected", set(&[restart(), plain(KVM_S390_INT_VIRTIO), cpu_timer()]), EINVAL).pending(&[restart()]),
        row("reject::int_virtio", set(&[plain(KVM_S390_INT_VIRTIO)]), EINVAL).nothing_pending(),
        row("reject::int_service", set(&[plain(KVM_S390_INT_SERVICE)]), EINVAL).nothing_pending(),
        row("reject::int_pfault_done", set(&[plain(KVM_S390_INT_PFAULT_DONE)]), EINVAL).nothing_pending(),
        row("reject::io_interrupt", set(&[plain(kvm_s390_int_io(0, 0, 0, 1))]), EINVAL).nothing_pending(),
        row("reject::io_adapter_interrupt", set(&[plain(kvm_s390_int_io(1, 0xfe, 3, 0xffff))]), EINVAL).nothing_pending(),
        row("reject::type_0", set(&[plain(0)]), EINVAL).nothing_pending(),
        row("reject::unknown_type", set(&[plain(0xfffe_0006)]), EINVAL).nothing_pending(),
        row("reject::unknown_type_all_ones", set(&[plain(0xffff_ffff)]), EINVAL).nothing_pending(),
        row("reject::restart_with_upper_bits", set(&[plain(KVM_S390_RESTART | 1 << 32)]), EINVAL).nothing_pending(),
        row("reject::emergency_with_top_bit", set(&[KvmS390Irq { type_: KVM_S390_INT_EMERGENCY | 1 << 63,..emerg(0) }]), EINVAL).nothing_pending(),
        row("reject::sigp_stop_undefined_flag", set(&[stop(0x2)]), EINVAL).nothing_pending(),
        row("reject::sigp_stop_all_flags", set(&[stop(u32::MAX)]), EINVAL).nothing_pending(),
        row("reject::emergency_from_a_missing_vcpu", set(&[emerg(3)]), EINVAL).nothing_pending(),
        row("reject::emergency_from_id_255", set(&[emerg(255)]), EINVAL).nothing_pending(),
        row("reject::emergency_from_id_0xffff", set(&[emerg(0xffff)]), EINVAL).nothing_pending(),
        row("reject::external_call_from_a_missing_vcpu", set(&[extcall(3)]), EINVAL).nothing_pending().doc(D8),
        row("reject::external_call_from_id_254", set(&[extcall(254)]), EINVAL).nothing_pending().doc(D8),
        // ---- GET ----
        row("get::len_0", get(0), EINVAL).given_set(&[restart()]),
        row("get::len_0_nothing_pending", get(0), EINVAL),
        row("get::nothing_pending_len_72", get(72), OK).then(buffer_untouched),
        row("get::nothing_pending_len_1", get(1), OK).then(buffer_untouched),
        row("get::nothing_pending_len_u32_max", get(u32::MAX), OK).then(buffer_untouched),
        row("get::nothing_pending_inaccessible_buffer", get(72).buf(Ptr::Inaccessible), OK),
        row("get::nothing_pending_null_buffer", get(72).buf(Ptr::Null), OK),
        row("get::returns_bytes_one_entry", get(MAX), Outcome::Value(72)).given_set(&[restart()]).then(buffer_holds(&[restart()])),
        row("get::returns_bytes_three_entries", get(MAX), Outcome::Value(216)).given_set(&[restart(), cpu_timer(), emerg(1)]).then(buffer_holds(&[restart(), cpu_timer(), emerg(1)])),
        row("get::exact_size", get(144), Outcome::Value(144)).given_set(&[restart(), cpu_timer()]),
        row("get::len_not_a_multiple_of_72", get(100), Outcome::Value(72)).given_set(&[restart()]).then(buffer_holds(&[restart()])),
        row("get::too_small_by_one_byte", get(143), ENOBUFS).given_set(&[restart(), cpu_timer()]).then(buffer_holds(&[restart()])),
        row("get::too_small_for_one_entry", get(71), ENOBUFS).given_set(&[restart()]).then(buffer_untouched),
        row("get::too_small_emergency_entries", get(72 * 3), ENOBUFS).given_set(&[restart(), emerg(0), emerg(1), emerg(2)]).then(buffer_holds(&[restart(), emerg(0), emerg(1)])),
        row("get::len_2_31_is_unlimited", get(1 << 31), Outcome::Value(144)).given_set(&[restart(), cpu_timer()]).then(buffer_holds(&[restart(), cpu_timer()])),
        row("get::len_u32_max_is_unlimited", get(u32::MAX), Outcome::Value(144)).given_set(&[restart(), cpu_timer()]),
        row("get::inaccessible_buffer", get(MAX).buf(Ptr::Inaccessible), EFAULT).given_set(&[restart()]),
        row("get::null_buffer", get(MAX).buf(Ptr::Null), EFAULT).given_set(&[restart()]),
        row("get::flags_and_reserved_ignored", get(MAX).garbage(), Outcome::Value(72)).given_set(&[restart()]).doc(D7),
        row("get::does_not_dequeue", get(MAX), Outcome::Value(72)).given_set(&[cpu_timer()]).pending(&[cpu_timer()]),
        row("get::after_kvm_s390_irq", get(MAX), Outcome::Value(72)).given_irq(restart()).then(buffer_holds(&[restart()])),
        row("get::order_is_internal_not_set_order", get(MAX), Outcome::Value(72 * 10)).given_set(&ten_in_set_order).then(buffer_holds(&ten_in_kernel_order)).doc(D12),
    ];
    // ---- a vcpu reset clears every pending local interrupt (resets.c; kvm_s390_clear_local_irqs
    // at the end of the normal reset, which the initial and the clear reset start with) ----
    let irq_state = cap(KVM_CAP_S390_IRQ_STATE, "KVM_CAP_S390_IRQ_STATE");
    let resets = cap(KVM_CAP_S390_VCPU_RESETS, "KVM_CAP_S390_VCPU_RESETS");
    for (name, request, needs) in [
        ("initial", KVM_S390_INITIAL_RESET, vec![irq_state.clone()]),
        ("normal", KVM_S390_NORMAL_RESET, vec![irq_state.clone(), resets.clone()]),
        ("clear", KVM_S390_CLEAR_RESET, vec![irq_state.clone(), resets.clone()]),
    ] {
        let (set_order, kernel_order) = (ten_in_set_order.to_vec(), ten_in_kernel_order.to_vec());
        rows.push(Row::check(format!("reset::{name}_clears_pending"), move |env, c| reset_clears(env, c, request, &kernel_order)).needs(&needs).given(&[Given::Set(set_order)]));
    }
    // ---- migration: what GET_IRQ_STATE saves, SET_IRQ_STATE restores on a new VM's vcpu
    // (QEMU's path: GET on the source, SET on the destination; api.txt 4.94/4.95) ----
    let kernel_order = ten_in_kernel_order.to_vec();
    rows.push(Row::check("migration::saved_state_restores_on_a_new_vm", move |env, c| migrates(env, c, &kernel_order)).needs(std::slice::from_ref(&irq_state)).given(&[Given::Set(ten_in_set_order.to_vec())]));
    // ---- floating interrupts (KVM_S390_INTERRUPT on the VM fd) are in no vcpu's state ----
    let local = [restart(), cpu_timer(), emerg(1)];
    rows.push(Row::check("floating::not_listed_by_get_irq_state", move |env, c| floating_not_listed(env, c, &local)).needs(std::slice::from_ref(&irq_state)).given(&[Given::Set(local.to_vec())]));
    // ---- not s390: the capability reads 0 and the vcpu ioctls are refused (EINVAL, §1.2) ----
    // The refusal answers (ENOTTY on the VM fd, EINVAL on a vcpu fd) are x86's (§1.2).
    let not_s390 = vec![Need::Arch("x86_64")];
    rows.extend([
        Row::check("not_s390::capability_absent", |env, c| capability_absent(c, &env.host, env.vm.fd, KVM_CAP_S390_IRQ_STATE, "KVM_CAP_S390_IRQ_STATE")),
        row("not_s390::get_refused", get(72), EINVAL).then(buffer_untouched),
        row("not_s390::set_refused", set(&[restart()]), EINVAL),
    ]);
    for r in rows.iter_mut().filter(|r| r.id.starts_with("not_s390::")) {
        r.needs = not_s390.clone();
    }
    rows
}

/// The case definitions for the harness.
pub fn cases() -> Vec<harness::Case> {
    let mut cases = crate::rows::cases(SUITE, SEED, rows());
    let needs = [cap(KVM_CAP_S390_IRQ_STATE, "KVM_CAP_S390_IRQ_STATE")];
    cases.push(ROUND_TRIP.case(SEED, &needs, round_trip));
    cases.push(TOO_SMALL.case(SEED, &needs, enobufs));
    cases.push(INVALID_ENTRY.case(SEED, &needs, invalid_entry));
    #[rustfmt::skip]
    let bad_arguments = bad_argument_cases(SUITE, SEED, &needs, &[("get_", KVM_S390_GET_IRQ_STATE, Target::Vcpu), ("set_", KVM_S390_SET_IRQ_STATE, Target::Vcpu)]);
    cases.extend(bad_arguments);
    cases
}

// ---- checks after the call ----

/// Ten kinds of local interrupt pending (every emergency source among them): GET lists them,
/// twice (GET does not dequeue), the reset returns 0, then GET lists nothing and a new SET is
/// not refused as busy (no local interrupt is left pending) and lists only its own entry.
fn reset_clears(env: &Env, c: &mut Checker, request: u64, before: &[KvmS390Irq]) -> Step<()> {
    pending_exactly(env, c, before)?;
    pending_exactly(env, c, before)?;
    let name = fixtures::raw::ioctl::request_name(request);
    c.call(
        &format!("{name} on the vcpu fd, with ten local interrupts pending"),
        &"no argument",
        OK,
        env.vm.k.ioctl(env.fd(), request, 0),
    )?;
    pending_exactly(env, c, &[])?;
    let (st, r) = env.set(&[cpu_timer()]);
    c.call(
        &format!("{SET} after the reset (EBUSY if anything stayed pending)"),
        &st,
        OK,
        r,
    )?;
    pending_exactly(env, c, &[cpu_timer()])
}

/// Then: the pending interrupts, saved with GET_IRQ_STATE, are restored with SET_IRQ_STATE on
/// the vcpu of a new VM (with the same vcpu ids, for the emergency signals' sources), which then
/// lists exactly the same, in the same order. The nearest wrong kernel: one whose GET output
/// SET does not take back whole (a lost payload, a refused entry).
fn migrates(env: &Env, c: &mut Checker, pending: &[KvmS390Irq]) -> Step<()> {
    pending_exactly(env, c, pending)?;
    let (_, r, out) = env.get(MAX);
    let saved = model::from_buffer(&out, listed(r, pending.len()));
    let destination = Env::new(&env.host, &VCPUS)?;
    let (st, r) = destination.set(&saved);
    c.call(
        &format!("{SET} on vcpu 0 of a new VM with what GET_IRQ_STATE saved"),
        &st,
        OK,
        r,
    )?;
    pending_exactly(&destination, c, pending)
}

/// A service-signal parameter: an SCCB address (8-byte aligned), no event-pending bits.
const SERVICE_PARM: u32 = 0x0001_2340;
/// A virtio interrupt's parameters (the subchannel-ish parm and the 64-bit cookie).
const VIRTIO_PARM: u32 = 0x0000_abcd;
const VIRTIO_PARM64: u64 = 0x1122_3344_5566_7788;

/// What the FLIC lists for the two floating interrupts the row injects: the virtio one from
/// its list, then the service signal (`get_all_floating_irqs`: the lists first, then
/// `srv_signal`).
fn floating_entries() -> Vec<KvmS390Irq> {
    let virtio = KvmS390ExtInfo {
        ext_params: VIRTIO_PARM,
        pad: 0,
        ext_params2: VIRTIO_PARM64,
    };
    let service = KvmS390ExtInfo {
        ext_params: SERVICE_PARM,
        ..Default::default()
    };
    vec![
        KvmS390Irq::with_ext(KVM_S390_INT_VIRTIO, virtio),
        KvmS390Irq::with_ext(KVM_S390_INT_SERVICE, service),
    ]
}

/// Then: a virtio interrupt and a service signal injected with KVM_S390_INTERRUPT on the VM fd
/// are floating (kernel-semantics.md §5.3: GET copies only the vcpu's `local_int`), pending for
/// the VM: the fixture reads them back through the VM's FLIC (KVM_CREATE_DEVICE of
/// KVM_DEV_TYPE_FLIC, KVM_DEV_FLIC_GET_ALL_IRQS). GET_IRQ_STATE on vcpu 0 still lists exactly
/// its own local interrupts, and on vcpu 1 nothing. The nearest wrong kernel: one whose GET
/// reads the vcpu's `pending_irqs()` (local | floating, what delivery looks at), so a migration
/// would restore the floating interrupts as a vcpu's (SET refuses them: EINVAL).
fn floating_not_listed(env: &Env, c: &mut Checker, local: &[KvmS390Irq]) -> Step<()> {
    pending_exactly(env, c, local)?;
    let injected = [
        KvmS390Interrupt {
            type_: KVM_S390_INT_VIRTIO as u32,
            parm: VIRTIO_PARM,
            parm64: VIRTIO_PARM64,
        },
        KvmS390Interrupt {
            type_: KVM_S390_INT_SERVICE as u32,
            parm: SERVICE_PARM,
            parm64: 0,
        },
    ];
    for irq in &injected {
        c.setup(
            "KVM_S390_INTERRUPT on the VM fd",
            &format!("{irq:x?}"),
            s390_interrupt(env.vm.k, env.vm.fd, irq),
        )?;
    }
    // The fixture's own check: both are pending on the VM.
    let want = floating_entries();
    let created = create_device(env.vm.k, env.vm.fd, KVM_DEV_TYPE_FLIC);
    c.setup(
        "KVM_CREATE_DEVICE KVM_DEV_TYPE_FLIC on the VM fd",
        &"type 6 (KVM_DEV_TYPE_FLIC); 0 stands for the new fd",
        created.map(|_| 0),
    )?;
    let flic = KernelFd::new(env.vm.k, created.expect("checked above"));
    let mut buf = vec![0u8; 8 * IRQ_SIZE as usize];
    let r = flic_get_all_irqs(env.vm.k, flic.fd, buf.as_mut_ptr() as u64, buf.len() as u64);
    let n = c.call(
        "setup: KVM_GET_DEVICE_ATTR KVM_DEV_FLIC_GET_ALL_IRQS on the FLIC (returns the number of entries)",
        &format!("attr (buffer length) {}", buf.len()),
        Outcome::Value(want.len() as i64),
        r,
    )?;
    let n = match n {
        Outcome::Value(n) => n as usize,
        Outcome::Errno(_) => 0,
    };
    let flic_listed = model::from_buffer(&buf, n.min(8));
    if flic_listed != want {
        return Err(c.setup_failed(
            format!(
                "the FLIC lists {} as the VM's floating interrupts, expected {}",
                show(&flic_listed),
                show(&want)
            ),
            vec!["the rule under test was not reached: KVM_S390_INTERRUPT on the VM fd returned 0, but the interrupts are not pending as injected".into()],
        ));
    }
    pending_exactly(env, c, local)?;
    let mut out = vec![SENTINEL; 4 * IRQ_SIZE as usize];
    let st = KvmS390IrqState {
        buf: out.as_mut_ptr() as u64,
        flags: 0,
        len: out.len() as u32,
        reserved: [0; 4],
    };
    let r = s390_get_irq_state(env.vm.k, env.vcpus[1].fd, &st);
    if r != Ok(0) {
        let got = model::from_buffer(&out, listed(r, 0));
        c.note(format!("GET_IRQ_STATE on vcpu 1 listed {}", show(&got)));
    }
    c.call(
        "GET_IRQ_STATE on vcpu 1 (nothing local pending there)",
        &st,
        OK,
        r,
    )
    .map(drop)
}

/// How many entries a GET result says it wrote (`expected` when it failed).
fn listed(r: SysResult, expected: usize) -> usize {
    match r {
        Ok(n) if n >= 0 => {
            (n as usize / IRQ_SIZE as usize).min(GET_BUF_CAP as usize / IRQ_SIZE as usize)
        }
        _ => expected,
    }
}

/// A GET with a large buffer lists exactly `want`, in order.
fn pending_exactly(env: &Env, c: &mut Checker, want: &[KvmS390Irq]) -> Step<()> {
    let (st, r, out) = env.get(MAX);
    let n = want.len();
    let got = model::from_buffer(&out, listed(r, n));
    if r != Ok(72 * n as i64) {
        c.note(format!("GET_IRQ_STATE afterwards listed {}", show(&got)));
    }
    c.call(
        "GET_IRQ_STATE afterwards",
        &st,
        Outcome::Value(72 * n as i64),
        r,
    )?;
    c.ensure(got == want, || {
        format!(
            "GET_IRQ_STATE listed {}, expected {}",
            show(&got),
            show(want)
        )
    })
}

/// The call's GET buffer starts with these entries and is untouched after them.
fn buffer_holds(want: &[KvmS390Irq]) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    let want = want.to_vec();
    move |env, c| {
        let b = env.buf.as_ref().expect("a mapped buffer").as_slice();
        let n = want.len() * IRQ_SIZE as usize;
        let got = model::from_buffer(b, want.len());
        c.ensure(got == want, || {
            format!(
                "the GET buffer holds {}, expected {}",
                show(&got),
                show(&want)
            )
        })?;
        let after = b[n..].iter().position(|&x| x != SENTINEL);
        c.ensure(after.is_none(), || {
            format!(
                "the GET buffer was written beyond the {} entries (byte {:?})",
                want.len(),
                after.map(|a| a + n)
            )
        })
    }
}

fn buffer_untouched(env: &Env, c: &mut Checker) -> Step<()> {
    buffer_holds(&[])(env, c)
}

// ---- properties: random interrupt sets against the model ----

// 128 inputs each, every one on a fresh VM; the streams are the ids they were drawn under.
#[rustfmt::skip]
const ROUND_TRIP: Property = Property::new(SUITE, "set_then_get_round_trips", "property::set_then_get_round_trips", 128);
#[rustfmt::skip]
const TOO_SMALL: Property = Property::new(SUITE, "enobufs_exactly_when_too_small", "property::enobufs_exactly_when_too_small", 128);
#[rustfmt::skip]
const INVALID_ENTRY: Property = Property::new(SUITE, "invalid_entry_rejected", "property::invalid_entry_rejected", 128);

/// Run `p` with these inputs on fresh VMs (vcpus 0, 1, 2; the calls go to vcpu 0).
fn run(
    host: &Arc<Host>,
    ctx: &CaseContext,
    p: &Property,
    strategy: impl Strategy<Value = Generated<IrqOp>>,
) -> Step<CaseReport> {
    let start = || {
        let env = Env::new(host, &VCPUS).map_err(|r| r.summary)?;
        Ok((
            env,
            IrqJudge {
                model: IrqModel::new(VCPUS),
            },
        ))
    };
    let result = fixtures::models::check(&p.config(ctx), &strategy, start);
    let facts = "each input on a fresh VM with vcpus 0, 1, 2 (never run), the calls on vcpu 0; where an external call is pending, GET's order is compared as a multiset".to_string();
    p.report(ctx, vec![facts], result)
}

fn round_trip(host: &Arc<Host>, ctx: &CaseContext, p: &Property) -> Step<CaseReport> {
    let inputs = model::valid_set(VCPUS.to_vec(), true, 3).prop_map(|entries| {
        Generated::new(vec![
            IrqOp::Set {
                entries,
                invalid_at: None,
            },
            IrqOp::Get { len: MAX },
        ])
    });
    run(host, ctx, p, inputs)
}

fn enobufs(host: &Arc<Host>, ctx: &CaseContext, p: &Property) -> Step<CaseReport> {
    let inputs =
        (model::valid_set(VCPUS.to_vec(), true, 2), 1u32..72 * 14).prop_map(|(entries, len)| {
            Generated::new(vec![
                IrqOp::Set {
                    entries,
                    invalid_at: None,
                },
                IrqOp::Get { len },
            ])
        });
    run(host, ctx, p, inputs)
}

fn invalid_entry(host: &Arc<Host>, ctx: &CaseContext, p: &Property) -> Step<CaseReport> {
    let inputs = (
        model::valid_set(VCPUS.to_vec(), true, 2),
        model::invalid_entry(VCPUS.to_vec()),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(valid, bad, at)| {
            let at = at.index(valid.len() + 1);
            let mut entries = valid;
            entries.insert(at, bad);
            Generated::new(vec![
                IrqOp::Set {
                    entries,
                    invalid_at: Some(at),
                },
                IrqOp::Get { len: MAX },
            ])
        });
    run(host, ctx, p, inputs)
}

/// The kernel answers the properties' calls.
impl SystemUnderTest for Env {
    type Op = IrqOp;
    type Answer = IrqAnswer;
    fn apply(&mut self, op: &IrqOp) -> IrqAnswer {
        match op {
            IrqOp::Set { entries, .. } => IrqAnswer {
                result: self.set(entries).1,
                buffer: vec![],
                written_to: 0,
            },
            IrqOp::Get { len } => {
                let (_, result, buffer) = self.get(*len);
                let written_to = buffer
                    .iter()
                    .rposition(|&b| b != SENTINEL)
                    .map_or(0, |i| i + 1);
                IrqAnswer {
                    result,
                    buffer,
                    written_to,
                }
            }
        }
    }
}
