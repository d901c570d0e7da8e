//! The DAT-on fixture of the `dat::` and `ar::mode_*` rows: guest DAT tables built in guest
//! memory, the control and access registers that designate them, and a DAT-on PSW loaded into
//! the SIE block (KVM_RUN of a disabled wait), plus the checks those rows make.
//!
//! Translation tables (guest absolute = real: prefix 0 and every table above 8 KiB), each
//! entry big-endian as the guest has it (gaccess.c `guest_translate`, arch/s390/include/asm/
//! dat-bits.h [V 6.12, 7.2]):
//!
//! | space (register) | ASCE | maps |
//! |---|---|---|
//! | primary (CR1) | segment table at 0x80000, length 0 (512 segments, 512 MiB) | segment 0 → page table 0x81000: 0x60000 → 0x72000, 0x61000 → 0x70000, 0x62000 invalid, 0x63000 → 0x71000 DAT-protected, 0x65000 → 0x75000, 0x66000 → 0x76000 DAT-protected, 0x67000 an entry with the zero bit; segment 1 and up invalid |
//! | secondary (CR7) | region-third table at 0x82000, length 0 (512 regions, 1 TiB) | region 0 → segment table 0x83000 → page table 0x84000: 0x60000 → 0x73000; region 1 and up invalid |
//! | home (CR13) | segment table at 0x85000 | segment 0 → page table 0x86000: 0x60000 → 0x74000 |
//!
//! | region-first space (CR13 of the `region_first_*` rows) | region-first table at 0x8a000, length 0 (512 entries) | region-first entry 0 (offset 0, length 0) → region-second table 0x8b000 → region-third table 0x8c000 → segment table 0x8d000 → page table 0x8e000: 0x60000 → 0x78000 (a frame no other space maps); region-first entries 1 and up and region-second entries 1 and up invalid |
//! | access-list space (ASTE 0x87200) | segment table at 0x88000 | segment 0 → page table 0x89000: 0x60000 → 0x77000 (a frame no other space maps) |
//!
//! Access-register translation (gaccess.c `ar_translation` [V 6.12, 7.2]): an ALET is reserved
//! bits 0-6, P bit 7 (CR5's access list, else CR2's), ALESN bits 8-15, ALEN bits 16-31; the ALD
//! word at +16 of the designation (masked 0x7fffffc0) holds ALO bits 1-24 (origin ALO * 128) and
//! ALL bits 25-31 (ALL 0: 8 entries); an ALE (16 bytes at origin + 16 * ALEN) holds I bit 0, FO
//! bit 6, P bit 7, ALESN 8-15, ALEAX 16-31, ASTEO bits 65-89 (ASTE at ASTEO * 64) and ASTESN
//! bits 96-127; an ASTE holds I bit 0, ATO bits 1-29 (authority table at ATO * 4), ATL bits
//! 48-59, the ASCE in bytes 8-15 and ASTESN in bytes 20-23. Every table is read as a real
//! address.
//!
//! | designation | ALO, ALL | list |
//! |---|---|---|
//! | CR2 0x87000 | list A at 0x87100, 8 entries | A0 ALESN 0x81 → ASTE X; A1 invalid (ALESN 0x11); A2 → the invalid ASTE; A3, A4 → ASTE X with its ASTESN ^ 0x8000_0000 / ^ 1; A5 private, ALEAX 0x0102; A6 fetch-only; A7 ALESN 0x07 (A2-A6 ALESN 0) |
//! | CR5 0x87040 | list B at 0x87180 (right after A: A's entry 8), 8 entries | B0 ALESN 0x81 and B2 → ASTE H; B3 → an ASTE at 0x100000 (outside guest memory); the others invalid |
//! | 0x87080 (a row's CR2) | ALO 0xffffff (origin 0x7fffff80), ALL 127 | beyond 2 GiB from ALEN 1 on (addressing); ALEN 0x308's ALE taken modulo 2 GiB would be 0x3000, where a valid ALE (ALESN 0x81 → ASTE X) lies |
//! | 0x870c0 (a row's CR2) | origin 0x100000, ALL 0 | outside guest memory |
//!
//! ASTE X (0x87200): the access-list space's ASCE, ATO the authority table at 0x872c0, ATL 0
//! (EAX 0-15), ASTESN 0x8142_2418. The invalid ASTE (0x87240) is ASTE X with the I bit. ASTE H
//! (0x87280): the home space's ASCE, ASTESN 0x0000_0042. The authority table's secondary bits
//! (0x40 >> 2 * (EAX % 4) of byte EAX / 4) are set for EAX 5 and 15; EAX 6 has only its primary
//! bit (0x80 >> 2 * (EAX % 4)).
//! Every virtual address that is mapped lies inside the 1 MiB slot as a real address too, so
//! a kernel that ignores DAT moves other bytes than the mapping does (or answers 5).

use super::*;
use fixtures::raw::s390_cpu::*;

pub const PRIMARY_ST: u64 = 0x8_0000;
const PRIMARY_PT: u64 = 0x8_1000;
const SECONDARY_R3T: u64 = 0x8_2000;
const SECONDARY_ST: u64 = 0x8_3000;
const SECONDARY_PT: u64 = 0x8_4000;
const HOME_ST: u64 = 0x8_5000;
const HOME_PT: u64 = 0x8_6000;
pub const ACCESS_LIST_DESIGNATION: u64 = 0x8_7000;
/// CR5: the access-list designation of ALETs with P = 1.
pub const ACCESS_LIST_DESIGNATION_P: u64 = 0x8_7040;
/// Designations a row puts into CR2: an access list that ends beyond 2 GiB, and one outside
/// guest memory.
pub const ALD_NEAR_2G: u64 = 0x8_7080;
pub const ALD_OUTSIDE_MEMORY: u64 = 0x8_70c0;
const LIST_A: u64 = 0x8_7100;
const LIST_B: u64 = 0x8_7180;
const ASTE_X: u64 = 0x8_7200;
const ASTE_INVALID: u64 = 0x8_7240;
const ASTE_H: u64 = 0x8_7280;
const AUTHORITY_TABLE: u64 = 0x8_72c0;
const ACCESS_LIST_END: u64 = 0x8_7300;
const AL_ST: u64 = 0x8_8000;
const AL_PT: u64 = 0x8_9000;
const REGION1_R1T: u64 = 0x8_a000;
const REGION1_R2T: u64 = 0x8_b000;
const REGION1_R3T: u64 = 0x8_c000;
const REGION1_ST: u64 = 0x8_d000;
const REGION1_PT: u64 = 0x8_e000;
const TABLES_END: u64 = 0x8_f000;
/// Outside guest memory (the slot is 1 MiB).
pub const OUTSIDE_MEMORY: u64 = 0x10_0000;
/// Where list `0x87080`'s ALE of ALEN 0x308 lies if its address wraps at 2 GiB.
const WRAPPED_ALE: u64 = 0x3000;
const ASTESN_X: u64 = 0x8142_2418;
const ASTESN_H: u64 = 0x0000_0042;
/// The private ALE's authorization index.
pub const ALEAX: u16 = 0x0102;

/// Virtual pages of the primary space.
pub const V_A: u64 = 0x6_0000;
pub const V_B: u64 = 0x6_1000;
pub const V_INVALID: u64 = 0x6_2000;
pub const V_PROTECTED: u64 = 0x6_3000;
pub const V_C: u64 = 0x6_5000;
pub const V_C_PROTECTED: u64 = 0x6_6000;
/// A page-table entry with the zero bit (52) set: translation specification.
pub const V_Z_BIT: u64 = 0x6_7000;
/// Their real frames.
pub const R_A: u64 = 0x7_2000;
pub const R_B: u64 = 0x7_0000;
pub const R_PROTECTED: u64 = 0x7_1000;
pub const R_C: u64 = 0x7_5000;
pub const R_SECONDARY_A: u64 = 0x7_3000;
pub const R_HOME_A: u64 = 0x7_4000;
/// V_A in the access-list space (ASTE X).
pub const R_AL_A: u64 = 0x7_7000;
/// V_A in the region-first space.
pub const R_REGION1_A: u64 = 0x7_8000;
/// Segment 1: an invalid segment-table entry.
pub const V_SEGMENT_INVALID: u64 = 0x10_0000;
/// Segment index 512: beyond the segment table's length (0: 512 entries).
pub const V_BEYOND_SEGMENT_TABLE: u64 = 0x2000_0000;
/// Region-third index 1: not translatable with a segment-table ASCE (ASCE type); in the
/// secondary space an invalid region-third entry.
pub const V_REGION_1: u64 = 0x8000_0000;
/// Region-third index 512: beyond the region-third table's length (secondary space).
pub const V_BEYOND_REGION_THIRD_TABLE: u64 = 1 << 40;
/// Region-first index 1: an invalid region-first entry (region-first space).
pub const V_REGION_FIRST_1: u64 = 1 << 53;
/// Region-first index 512: beyond the region-first table's length (ASCE TL 0).
pub const V_BEYOND_REGION_FIRST_TABLE: u64 = 1 << 62;
/// Region-second index 1: an invalid region-second entry (region-first space).
pub const V_REGION_SECOND_1: u64 = 1 << 42;
/// Region-second index 512: beyond the region-second table's length (region-first entry 0's
/// TL 0).
pub const V_BEYOND_REGION_SECOND_TABLE: u64 = 1 << 51;

/// ASCEs: origin | designation type (bits 60-61) | table length (62-63).
pub const PRIMARY_ASCE: u64 = PRIMARY_ST;
pub const SECONDARY_ASCE: u64 = SECONDARY_R3T | 1 << 2;
pub const HOME_ASCE: u64 = HOME_ST;
pub const AL_ASCE: u64 = AL_ST;
/// Designation type 3 (region-first table), length 0.
pub const REGION1_ASCE: u64 = REGION1_R1T | 3 << 2;

const INVALID_REGION3: u64 = 1 << 5 | 1 << 2;
const INVALID_SEGMENT: u64 = 1 << 5;
const INVALID_REGION1: u64 = 1 << 5 | 3 << 2;
const INVALID_REGION2: u64 = 1 << 5 | 2 << 2;
const INVALID_PAGE: u64 = 1 << 10;
const PAGE_PROTECTED: u64 = 1 << 9;
const PAGE_Z: u64 = 1 << 11;

/// PSWs (without the wait bit the fixture adds): DAT on, 64-bit addressing, and the
/// address-space control.
pub const PSW_PRIMARY: u64 = PSW_MASK_DAT | PSW_MASK_EA | PSW_MASK_BA;
pub const PSW_AR: u64 = PSW_PRIMARY | PSW_ASC_ACCREG << PSW_MASK_ASC_SHIFT;
pub const PSW_SECONDARY: u64 = PSW_PRIMARY | PSW_ASC_SECONDARY << PSW_MASK_ASC_SHIFT;
pub const PSW_HOME: u64 = PSW_PRIMARY | PSW_ASC_HOME << PSW_MASK_ASC_SHIFT;

/// The TEID's ASCE identifier (bits 62-63): the PSW's address-space control.
pub const AS_PRIMARY: u64 = 0;
pub const AS_AR: u64 = 1;
pub const AS_SECONDARY: u64 = 2;
pub const AS_HOME: u64 = 3;
/// TEID bit 61: DAT protection.
pub const TEID_B61: u64 = 1 << 2;
/// TEID bits 60 and 61: access-list-controlled protection.
pub const TEID_ALC: u64 = 3 << 2;

/// An ALE: (I, FO, P, ALESN, ALEAX, ASTEO * 64, ASTESN) as the two big-endian words at +0, +8.
fn ale(
    invalid: bool,
    fo: bool,
    p: bool,
    alesn: u64,
    aleax: u16,
    aste: u64,
    astesn: u64,
) -> [u64; 2] {
    let w0 = u64::from(invalid) << 63
        | u64::from(fo) << 57
        | u64::from(p) << 56
        | alesn << 48
        | u64::from(aleax) << 32;
    [w0, (aste / 64) << 38 | astesn]
}

/// An ASTE's first three words: (I, ATO * 4, ATL), the ASCE, ASTESN (bytes 20-23).
fn aste(invalid: bool, at: u64, atl: u64, asce: u64, astesn: u64) -> [u64; 3] {
    [
        u64::from(invalid) << 63 | (at / 4) << 34 | atl << 4,
        asce,
        astesn,
    ]
}

/// The ALD word (at +16 of a designation) as the first 4 bytes of an 8-byte entry.
fn ald(origin: u64, all: u64) -> u64 {
    ((origin / 128) << 7 | all) << 32
}

/// Every table entry the fixture writes: (guest absolute address, big-endian entry).
fn entries() -> Vec<(u64, u64)> {
    let mut e = Vec::new();
    let table = |e: &mut Vec<(u64, u64)>, at: u64, n: u64, fill: u64| {
        e.extend((0..n).map(|i| (at + 8 * i, fill)));
    };
    table(&mut e, PRIMARY_ST, 512, INVALID_SEGMENT);
    table(&mut e, PRIMARY_PT, 256, INVALID_PAGE);
    table(&mut e, SECONDARY_R3T, 512, INVALID_REGION3);
    table(&mut e, SECONDARY_ST, 512, INVALID_SEGMENT);
    table(&mut e, SECONDARY_PT, 256, INVALID_PAGE);
    table(&mut e, HOME_ST, 512, INVALID_SEGMENT);
    table(&mut e, HOME_PT, 256, INVALID_PAGE);
    table(&mut e, AL_ST, 512, INVALID_SEGMENT);
    table(&mut e, AL_PT, 256, INVALID_PAGE);
    table(&mut e, REGION1_R1T, 512, INVALID_REGION1);
    table(&mut e, REGION1_R2T, 512, INVALID_REGION2);
    table(&mut e, REGION1_R3T, 512, INVALID_REGION3);
    table(&mut e, REGION1_ST, 512, INVALID_SEGMENT);
    table(&mut e, REGION1_PT, 256, INVALID_PAGE);
    // The designations, access lists, ASTEs and authority table: zero but what follows.
    table(
        &mut e,
        ACCESS_LIST_DESIGNATION,
        (ACCESS_LIST_END - ACCESS_LIST_DESIGNATION) / 8,
        0,
    );
    let mut put = |at: u64, words: &[u64]| {
        e.extend(
            words
                .iter()
                .enumerate()
                .map(|(i, &w)| (at + 8 * i as u64, w)),
        )
    };
    put(ACCESS_LIST_DESIGNATION + 16, &[ald(LIST_A, 0)]);
    put(ACCESS_LIST_DESIGNATION_P + 16, &[ald(LIST_B, 0)]);
    put(ALD_NEAR_2G + 16, &[0xff_ffff << 39 | 127 << 32]);
    put(ALD_OUTSIDE_MEMORY + 16, &[ald(OUTSIDE_MEMORY, 0)]);
    let x = |alesn| ale(false, false, false, alesn, 0, ASTE_X, ASTESN_X);
    let list_a = [
        x(0x81),
        ale(true, false, false, 0x11, 0, ASTE_X, ASTESN_X),
        ale(false, false, false, 0, 0, ASTE_INVALID, ASTESN_X),
        ale(false, false, false, 0, 0, ASTE_X, ASTESN_X ^ 0x8000_0000),
        ale(false, false, false, 0, 0, ASTE_X, ASTESN_X ^ 1),
        ale(false, false, true, 0, ALEAX, ASTE_X, ASTESN_X),
        ale(false, true, false, 0, 0, ASTE_X, ASTESN_X),
        x(0x07),
    ];
    let invalid = ale(true, false, false, 0, 0, ASTE_H, ASTESN_H);
    let list_b = [
        ale(false, false, false, 0x81, 0, ASTE_H, ASTESN_H),
        invalid,
        ale(false, false, false, 0, 0, ASTE_H, ASTESN_H),
        ale(false, false, false, 0, 0, OUTSIDE_MEMORY, ASTESN_H),
        invalid,
        invalid,
        invalid,
        invalid,
    ];
    for (i, a) in list_a.iter().enumerate() {
        put(LIST_A + 16 * i as u64, a);
    }
    for (i, b) in list_b.iter().enumerate() {
        put(LIST_B + 16 * i as u64, b);
    }
    put(ASTE_X, &aste(false, AUTHORITY_TABLE, 0, AL_ASCE, ASTESN_X));
    put(
        ASTE_INVALID,
        &aste(true, AUTHORITY_TABLE, 0, AL_ASCE, ASTESN_X),
    );
    put(ASTE_H, &aste(false, 0, 0, HOME_ASCE, ASTESN_H));
    // EAX 5: byte 1, secondary bit 0x10; EAX 6: byte 1, primary bit 0x08 only; EAX 15: byte 3,
    // secondary bit 0x01.
    put(AUTHORITY_TABLE, &[0x0018_0001 << 32]);
    put(WRAPPED_ALE, &x(0x81));
    let page = |pt: u64, va: u64| pt + ((va >> 12) & 0xff) * 8;
    e.extend([
        (PRIMARY_ST, PRIMARY_PT),
        (page(PRIMARY_PT, V_A), R_A),
        (page(PRIMARY_PT, V_B), R_B),
        (page(PRIMARY_PT, V_PROTECTED), R_PROTECTED | PAGE_PROTECTED),
        (page(PRIMARY_PT, V_C), R_C),
        (
            page(PRIMARY_PT, V_C_PROTECTED),
            (R_C + 0x1000) | PAGE_PROTECTED,
        ),
        (page(PRIMARY_PT, V_Z_BIT), R_C | PAGE_Z),
        // Region-third entry 0: segment-table origin | table type 1 (bits 60-61), offset and
        // length 0.
        (SECONDARY_R3T, SECONDARY_ST | 1 << 2),
        (SECONDARY_ST, SECONDARY_PT),
        (page(SECONDARY_PT, V_A), R_SECONDARY_A),
        (HOME_ST, HOME_PT),
        (page(HOME_PT, V_A), R_HOME_A),
        (AL_ST, AL_PT),
        (page(AL_PT, V_A), R_AL_A),
        // Region-first entry 0: region-second-table origin | type 3, offset and length 0;
        // region-second entry 0: region-third-table origin | type 2.
        (REGION1_R1T, REGION1_R2T | 3 << 2),
        (REGION1_R2T, REGION1_R3T | 2 << 2),
        (REGION1_R3T, REGION1_ST | 1 << 2),
        (REGION1_ST, REGION1_PT),
        (page(REGION1_PT, V_A), R_REGION1_A),
    ]);
    e
}

/// Writes the tables into guest memory (the host mapping behind slot 0), then reads the table
/// area and the wrapped ALE back through the VM fd (ABSOLUTE_READ) and compares.
pub fn write_tables(env: &mut Env, c: &mut Checker) -> Step<()> {
    let mem = env.mem.as_mut_slice();
    for (at, v) in entries() {
        mem[at as usize..at as usize + 8].copy_from_slice(&v.to_be_bytes());
    }
    for (from, to) in [(PRIMARY_ST, TABLES_END), (WRAPPED_ALE, WRAPPED_ALE + 16)] {
        read_back(env, c, from, to)?;
    }
    Ok(())
}

fn read_back(env: &Env, c: &mut Checker, from: u64, to: u64) -> Step<()> {
    let len = (to - from) as usize;
    let back = GuestMemory::new(len).map_err(fixture_error)?;
    let r = KvmS390MemOp {
        gaddr: from,
        flags: 0,
        size: len as u32,
        op: ABS_READ,
        buf: back.addr(),
        reserved: [0; 32],
    };
    c.setup(
        "KVM_S390_MEM_OP ABSOLUTE_READ of the DAT tables just written",
        &r,
        env.mem_op(On::Vm, &r),
    )?;
    let want = &env.mem.as_slice()[from as usize..to as usize];
    if back.as_slice() != want {
        let i = back
            .as_slice()
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(fixture_error(format!(
            "the DAT tables do not read back through the VM fd: absolute {:#x} is {:#04x}, written {:#04x}",
            from + i as u64,
            back.as_slice()[i],
            want[i]
        )));
    }
    Ok(())
}

/// The registers of a DAT row: access registers 0 and 1 (or one access register `ar` with
/// `alet`), CR2 (the access-list designation of ALETs with P = 0) and CR8's extended
/// authorization index (bits 32-47).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regs {
    pub acrs: [u32; 16],
    pub cr2: u64,
    pub eax: u16,
    /// CR13: the home space's ASCE.
    pub home: u64,
}

impl Regs {
    /// Access registers 0 and 1, CR2 the access list A, EAX 0.
    pub const fn acr01(acr0: u32, acr1: u32) -> Regs {
        let mut r = Regs::alet(1, acr1);
        r.acrs[0] = acr0;
        r
    }

    /// Access register `ar` (1-15) holds `alet`, the others 0; CR2 the access list A.
    pub const fn alet(ar: u8, alet: u32) -> Regs {
        let mut acrs = [0; 16];
        acrs[ar as usize] = alet;
        Regs {
            acrs,
            cr2: ACCESS_LIST_DESIGNATION,
            eax: 0,
            home: HOME_ASCE,
        }
    }

    pub const fn eax(self, eax: u16) -> Regs {
        Regs { eax, ..self }
    }

    pub const fn cr2(self, cr2: u64) -> Regs {
        Regs { cr2, ..self }
    }

    /// CR13 `home` instead of the home space's segment-table ASCE.
    pub const fn home(self, home: u64) -> Regs {
        Regs { home, ..self }
    }
}

/// KVM_SET_SREGS with the ASCEs, access-list designations, EAX and ALETs, verified with
/// KVM_GET_SREGS.
pub fn set_regs(env: &mut Env, c: &mut Checker, r: Regs) -> Step<()> {
    let mut s = KvmSregs::default();
    s.crs[1] = PRIMARY_ASCE;
    s.crs[2] = r.cr2;
    s.crs[5] = ACCESS_LIST_DESIGNATION_P;
    s.crs[7] = SECONDARY_ASCE;
    s.crs[8] = u64::from(r.eax) << 16;
    s.crs[13] = r.home;
    s.acrs = r.acrs;
    let what = format!(
        "struct kvm_sregs {{ acrs: {:x?}, crs: CR1 {PRIMARY_ASCE:#x}, CR2 {:#x}, CR5 {ACCESS_LIST_DESIGNATION_P:#x}, CR7 {SECONDARY_ASCE:#x}, CR8 {:#x}, CR13 {:#x}, others 0 }}",
        r.acrs, s.crs[2], s.crs[8], s.crs[13]
    );
    c.setup(
        "KVM_SET_SREGS on the vcpu (ASCEs, ALETs)",
        &what,
        fixtures::raw::ioctl::set_sregs(env.vm.k, env.vcpu.fd, &s),
    )?;
    let mut back = KvmSregs::default();
    c.setup(
        "KVM_GET_SREGS on the vcpu",
        &"vcpu 0",
        get_sregs(env.vm.k, env.vcpu.fd, &mut back),
    )?;
    if back != s {
        return Err(fixture_error(format!(
            "KVM_GET_SREGS reads back {back:x?}, not what KVM_SET_SREGS wrote ({s:x?})"
        )));
    }
    Ok(())
}

/// KVM_S390_SET_INITIAL_PSW (mask | wait) and KVM_RUN: the vcpu must come back with the
/// disabled-wait interception and the PSW as set.
pub fn load_psw(env: &mut Env, c: &mut Checker, mask: u64) -> Step<()> {
    let psw = KvmS390Psw {
        mask: mask | PSW_MASK_WAIT,
        addr: 0,
    };
    c.setup(
        &format!("KVM_S390_SET_INITIAL_PSW mask {:#018x}", psw.mask),
        &format!("struct kvm_s390_psw {{ mask: {:#x}, addr: 0 }}", psw.mask),
        s390_set_initial_psw(env.vm.k, env.vcpu.fd, &psw),
    )?;
    let area = RunArea::of_vcpu(env.vm.k, env.vm.sys_fd(), env.vcpu.fd).map_err(fixture_error)?;
    c.setup(
        "KVM_RUN of the disabled-wait PSW",
        &format!("PSW {:#x}", psw.mask),
        run(env.vm.k, env.vcpu.fd),
    )?;
    let (exit, icpt, got) = (
        area.u32_at(RUN_EXIT_REASON),
        area.u8_at(RUN_SIEIC_ICPTCODE),
        area.u64_at(RUN_PSW_MASK),
    );
    if exit != KVM_EXIT_S390_SIEIC || icpt != ICPT_WAIT || got != psw.mask {
        return Err(fixture_error(format!(
            "KVM_RUN of a disabled-wait PSW came back with exit_reason {exit}, icptcode {icpt:#x}, \
             PSW mask {got:#x}; expected exit_reason {KVM_EXIT_S390_SIEIC} (S390_SIEIC), icptcode \
             {ICPT_WAIT:#x} (wait state), mask {:#x}",
            psw.mask
        )));
    }
    Ok(())
}

/// Guest memory and the user buffer are as they were just before the call.
pub fn nothing_moved(env: &Env, c: &mut Checker) -> Step<()> {
    guest_as_before_except(env, c, &[])?;
    user_unchanged_from(env, c, 0)
}

/// Only `written` (absolute address, bytes) differ from guest memory before the call.
fn guest_as_before_except(env: &Env, c: &mut Checker, written: &[(u64, Vec<u8>)]) -> Step<()> {
    let mut want = env.m0.clone();
    for (at, data) in written {
        want[*at as usize..*at as usize + data.len()].copy_from_slice(data);
    }
    let mem = env.mem.as_slice();
    let first = mem.iter().zip(&want).position(|(a, b)| a != b);
    c.ensure(first.is_none(), || {
        let i = first.unwrap_or(0);
        format!(
            "guest absolute {i:#x} is {:#04x}, expected {:#04x} ({})",
            mem[i],
            want[i],
            if written.is_empty() {
                "no data may move".to_string()
            } else {
                format!(
                    "only the mapped real frames may change: {}",
                    written
                        .iter()
                        .map(|(a, d)| format!("[{a:#x}, {:#x})", a + d.len() as u64))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )
    })
}

/// A read through DAT: the user buffer holds the bytes of the real `pieces` (absolute address,
/// length) in order, nothing else changed.
pub fn read_moved(
    pieces: &'static [(u64, usize)],
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let want: Vec<u8> = pieces
            .iter()
            .flat_map(|&(at, n)| env.m0[at as usize..at as usize + n].to_vec())
            .collect();
        let got = &env.ubuf.as_slice()[..want.len()];
        c.ensure(got == want.as_slice(), || {
            let i = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
            format!(
                "user buffer byte {i} is {:#04x}, expected {:#04x}: what the mapped real frames {pieces:x?} hold there (a kernel that ignores DAT reads the virtual address as real)",
                got[i], want[i]
            )
        })?;
        user_unchanged_from(env, c, want.len())?;
        guest_as_before_except(env, c, &[])
    }
}

/// A write through DAT: the real `pieces` hold the user bytes in order (also as the VM fd's
/// ABSOLUTE_READ reads them), nothing else changed.
pub fn write_moved(
    pieces: &'static [(u64, usize)],
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let mut off = 0;
        let mut written = Vec::new();
        for &(at, n) in pieces {
            written.push((at, env.u0[off..off + n].to_vec()));
            off += n;
        }
        guest_as_before_except(env, c, &written)?;
        for (at, data) in &written {
            let back = GuestMemory::new(data.len()).map_err(fixture_error)?;
            let r = KvmS390MemOp {
                gaddr: *at,
                flags: 0,
                size: data.len() as u32,
                op: ABS_READ,
                buf: back.addr(),
                reserved: [0; 32],
            };
            c.call(
                "KVM_S390_MEM_OP ABSOLUTE_READ of the mapped real frame",
                &r,
                OK,
                env.mem_op(On::Vm, &r),
            )?;
            c.ensure(back.as_slice() == data.as_slice(), || {
                format!("ABSOLUTE_READ of [{at:#x}, {:#x}) returned {:02x?}, expected the bytes the logical write sent", at + data.len() as u64, &back.as_slice()[..data.len().min(16)])
            })?;
        }
        user_unchanged_from(env, c, 0)
    }
}

/// Exactly one PROGRAM_INT pending, with this code, TEID and exc_access_id.
pub fn pending(
    code: i64,
    teid: u64,
    access_id: u8,
) -> impl Fn(&Env, &mut Checker) -> Step<()> + Send + Sync {
    move |env, c| {
        let pgm = the_pending_pgm(env, c, code)?;
        c.ensure(pgm.trans_exc_code == teid, || {
            format!(
                "the pending PROGRAM_INT's TEID is {:#x}; expected {teid:#x} (page address bits 0-51, fetch/store bits 52-53, \
                 protection bits 56/60/61, ASCE identifier bits 62-63 = the PSW's address-space control)",
                pgm.trans_exc_code
            )
        })?;
        c.ensure(pgm.exc_access_id == access_id, || {
            format!(
                "the pending PROGRAM_INT's exc_access_id is {}; expected {access_id}",
                pgm.exc_access_id
            )
        })?;
        nothing_moved(env, c)
    }
}
