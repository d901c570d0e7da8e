//! Build script of the `kvm-conformance` binary.
//!
//! On s390x, a process that creates KVM virtual machines needs page tables with PGSTEs (page
//! status table entries, the extension SIE uses for guest storage keys and paging state). The
//! kernel gives a process such page tables only if its ELF has the `PT_S390_PGSTE` program
//! header, which the linker writes for `-Wl,--s390-pgste` (what QEMU and the kernel's KVM
//! selftests do), or if the host has `sysctl vm.allocate_pgste=1`. Without either,
//! KVM_CREATE_VM fails with EINVAL on a real s390x host, and every live case would fail for a
//! reason that has nothing to do with the ioctl under test.
//!
//! The target is read from `CARGO_CFG_TARGET_ARCH` (not `cfg!`, which describes the machine the
//! build script itself runs on), so a cross build from x86_64 gets the flag, and a native
//! x86_64 / aarch64 build gets nothing. `rustc-link-arg` covers every executable of the
//! package: the binary and its test executables. (fixtures/build.rs does the same for the
//! fixtures tests and examples that open VMs.)

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("s390x") {
        println!("cargo:rustc-link-arg=-Wl,--s390-pgste");
    }
}
