/*
 * The KVM uapi as the kernel headers define it, one `name value` line per item, in the same
 * names and formats as `cargo run -p fixtures --example abi` (fixtures/examples/abi.rs).
 * .ci/abi/compare.sh builds this for s390x against linux-libc-dev-s390x-cross
 * (/usr/s390x-linux-gnu/include/linux/kvm.h) and diffs the two outputs.
 *
 * Layouts are decimal; ioctl numbers are 0x%08x; flags, interrupt types and masks are 0x%x;
 * capability numbers and counts are decimal. Lines starting with '#' are comments.
 * Items newer than the headers at hand (6.3+: old_addr, CMPXCHG, ...) are printed only when the
 * headers have them; compare.sh checks the project's values for them against expected-newer.txt.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/kvm.h>
#include <linux/version.h>

#define LAYOUT(T, name) \
	printf("sizeof." name " %zu\nalignof." name " %zu\n", sizeof(struct T), _Alignof(struct T))
#define FIELD(T, name, f) \
	printf("offsetof." name "." #f " %zu\nsizeof." name "." #f " %zu\n", \
	       offsetof(struct T, f), sizeof(((struct T *)0)->f))
/* a field of a kvm_s390_irq.u member, as an offset in struct kvm_s390_irq */
#define IRQ_U(path) printf("offsetof.kvm_s390_irq.u." #path " %zu\n", offsetof(struct kvm_s390_irq, u.path))
#define IOCTL(n) printf(#n " 0x%08lx\n", (unsigned long)(n))
#define HEX(n) printf(#n " 0x%llx\n", (unsigned long long)(n))
#define DEC(n) printf(#n " %lld\n", (long long)(n))

int main(void)
{
	printf("# linux uapi headers LINUX_VERSION_CODE=0x%x; arch=%s; endian=%s; sizeof(long)=%zu\n",
	       LINUX_VERSION_CODE,
#if defined(__s390x__)
	       "s390x",
#elif defined(__x86_64__)
	       "x86_64",
#else
	       "other",
#endif
	       __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? "big" : "little", sizeof(long));

	/* ---- structs ---- */
	LAYOUT(kvm_userspace_memory_region, "kvm_userspace_memory_region");
	FIELD(kvm_userspace_memory_region, "kvm_userspace_memory_region", slot);
	FIELD(kvm_userspace_memory_region, "kvm_userspace_memory_region", flags);
	FIELD(kvm_userspace_memory_region, "kvm_userspace_memory_region", guest_phys_addr);
	FIELD(kvm_userspace_memory_region, "kvm_userspace_memory_region", memory_size);
	FIELD(kvm_userspace_memory_region, "kvm_userspace_memory_region", userspace_addr);

	LAYOUT(kvm_dirty_log, "kvm_dirty_log");
	FIELD(kvm_dirty_log, "kvm_dirty_log", slot);
	FIELD(kvm_dirty_log, "kvm_dirty_log", padding1);
	FIELD(kvm_dirty_log, "kvm_dirty_log", dirty_bitmap);

	LAYOUT(kvm_ioeventfd, "kvm_ioeventfd");
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", datamatch);
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", addr);
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", len);
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", fd);
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", flags);
	FIELD(kvm_ioeventfd, "kvm_ioeventfd", pad);

	LAYOUT(kvm_sregs, "kvm_sregs");
	FIELD(kvm_sregs, "kvm_sregs", acrs);
	FIELD(kvm_sregs, "kvm_sregs", crs);
	LAYOUT(kvm_one_reg, "kvm_one_reg");
	FIELD(kvm_one_reg, "kvm_one_reg", id);
	FIELD(kvm_one_reg, "kvm_one_reg", addr);
	printf("offsetof.kvm_run.exit_reason %zu\n", offsetof(struct kvm_run, exit_reason));
	printf("offsetof.kvm_run.psw_mask %zu\n", offsetof(struct kvm_run, psw_mask));
	printf("offsetof.kvm_run.psw_addr %zu\n", offsetof(struct kvm_run, psw_addr));
	printf("offsetof.kvm_run.s390_sieic.icptcode %zu\n", offsetof(struct kvm_run, s390_sieic.icptcode));
	printf("offsetof.kvm_run.s390_sieic.ipa %zu\n", offsetof(struct kvm_run, s390_sieic.ipa));
	printf("offsetof.kvm_run.s390_sieic.ipb %zu\n", offsetof(struct kvm_run, s390_sieic.ipb));
	printf("offsetof.kvm_run.kvm_dirty_regs %zu\n", offsetof(struct kvm_run, kvm_dirty_regs));
	printf("offsetof.kvm_run.s.regs.gbea %zu\n", offsetof(struct kvm_run, s.regs.gbea));

	LAYOUT(kvm_s390_mem_op, "kvm_s390_mem_op");
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", gaddr);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", flags);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", size);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", op);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", buf);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", reserved);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", ar);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", key);
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", sida_offset);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	FIELD(kvm_s390_mem_op, "kvm_s390_mem_op", old_addr);
#endif

	LAYOUT(kvm_s390_skeys, "kvm_s390_skeys");
	FIELD(kvm_s390_skeys, "kvm_s390_skeys", start_gfn);
	FIELD(kvm_s390_skeys, "kvm_s390_skeys", count);
	FIELD(kvm_s390_skeys, "kvm_s390_skeys", skeydata_addr);
	FIELD(kvm_s390_skeys, "kvm_s390_skeys", flags);
	FIELD(kvm_s390_skeys, "kvm_s390_skeys", reserved);

	LAYOUT(kvm_s390_irq_state, "kvm_s390_irq_state");
	FIELD(kvm_s390_irq_state, "kvm_s390_irq_state", buf);
	FIELD(kvm_s390_irq_state, "kvm_s390_irq_state", flags);
	FIELD(kvm_s390_irq_state, "kvm_s390_irq_state", len);
	FIELD(kvm_s390_irq_state, "kvm_s390_irq_state", reserved);

	LAYOUT(kvm_s390_irq, "kvm_s390_irq");
	FIELD(kvm_s390_irq, "kvm_s390_irq", type);
	FIELD(kvm_s390_irq, "kvm_s390_irq", u);

	LAYOUT(kvm_s390_io_info, "kvm_s390_io_info");
	FIELD(kvm_s390_io_info, "kvm_s390_io_info", subchannel_id);
	FIELD(kvm_s390_io_info, "kvm_s390_io_info", subchannel_nr);
	FIELD(kvm_s390_io_info, "kvm_s390_io_info", io_int_parm);
	FIELD(kvm_s390_io_info, "kvm_s390_io_info", io_int_word);

	LAYOUT(kvm_s390_ext_info, "kvm_s390_ext_info");
	FIELD(kvm_s390_ext_info, "kvm_s390_ext_info", ext_params);
	FIELD(kvm_s390_ext_info, "kvm_s390_ext_info", pad);
	FIELD(kvm_s390_ext_info, "kvm_s390_ext_info", ext_params2);

	LAYOUT(kvm_s390_pgm_info, "kvm_s390_pgm_info");
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", trans_exc_code);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", mon_code);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", per_address);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", data_exc_code);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", code);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", mon_class_nr);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", per_code);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", per_atmid);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", exc_access_id);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", per_access_id);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", op_access_id);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", flags);
	FIELD(kvm_s390_pgm_info, "kvm_s390_pgm_info", pad);

	LAYOUT(kvm_s390_emerg_info, "kvm_s390_emerg_info");
	FIELD(kvm_s390_emerg_info, "kvm_s390_emerg_info", code);
	LAYOUT(kvm_s390_extcall_info, "kvm_s390_extcall_info");
	FIELD(kvm_s390_extcall_info, "kvm_s390_extcall_info", code);
	LAYOUT(kvm_s390_prefix_info, "kvm_s390_prefix_info");
	FIELD(kvm_s390_prefix_info, "kvm_s390_prefix_info", address);
	LAYOUT(kvm_s390_stop_info, "kvm_s390_stop_info");
	FIELD(kvm_s390_stop_info, "kvm_s390_stop_info", flags);

	LAYOUT(kvm_s390_mchk_info, "kvm_s390_mchk_info");
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", cr14);
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", mcic);
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", failing_storage_address);
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", ext_damage_code);
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", pad);
	FIELD(kvm_s390_mchk_info, "kvm_s390_mchk_info", fixed_logout);

	/* kvm_s390_irq.u members, in struct kvm_s390_irq */
	IRQ_U(io.subchannel_id);
	IRQ_U(io.subchannel_nr);
	IRQ_U(io.io_int_parm);
	IRQ_U(io.io_int_word);
	IRQ_U(ext.ext_params);
	IRQ_U(ext.pad);
	IRQ_U(ext.ext_params2);
	IRQ_U(pgm.trans_exc_code);
	IRQ_U(pgm.mon_code);
	IRQ_U(pgm.per_address);
	IRQ_U(pgm.data_exc_code);
	IRQ_U(pgm.code);
	IRQ_U(pgm.mon_class_nr);
	IRQ_U(pgm.per_code);
	IRQ_U(pgm.per_atmid);
	IRQ_U(pgm.exc_access_id);
	IRQ_U(pgm.per_access_id);
	IRQ_U(pgm.op_access_id);
	IRQ_U(pgm.flags);
	IRQ_U(emerg.code);
	IRQ_U(extcall.code);
	IRQ_U(prefix.address);
	IRQ_U(stop.flags);
	IRQ_U(mchk.cr14);
	IRQ_U(mchk.mcic);
	IRQ_U(mchk.failing_storage_address);
	IRQ_U(mchk.ext_damage_code);
	IRQ_U(mchk.pad);
	/* the raw bytes KVM_S390_IRQ / SET_IRQ_STATE copy */
	printf("bytes.kvm_s390_irq.type %zu\n", offsetof(struct kvm_s390_irq, type));
	printf("bytes.kvm_s390_irq.u.prefix.address %zu\n", offsetof(struct kvm_s390_irq, u.prefix.address));

	/* floating interrupts and the FLIC */
	LAYOUT(kvm_s390_interrupt, "kvm_s390_interrupt");
	FIELD(kvm_s390_interrupt, "kvm_s390_interrupt", type);
	FIELD(kvm_s390_interrupt, "kvm_s390_interrupt", parm);
	FIELD(kvm_s390_interrupt, "kvm_s390_interrupt", parm64);
	LAYOUT(kvm_create_device, "kvm_create_device");
	FIELD(kvm_create_device, "kvm_create_device", type);
	FIELD(kvm_create_device, "kvm_create_device", fd);
	FIELD(kvm_create_device, "kvm_create_device", flags);
	LAYOUT(kvm_device_attr, "kvm_device_attr");
	FIELD(kvm_device_attr, "kvm_device_attr", flags);
	FIELD(kvm_device_attr, "kvm_device_attr", group);
	FIELD(kvm_device_attr, "kvm_device_attr", attr);
	FIELD(kvm_device_attr, "kvm_device_attr", addr);

	/* ---- ioctl numbers ---- */
	HEX(KVMIO);
	IOCTL(KVM_GET_API_VERSION);
	IOCTL(KVM_CREATE_VM);
	IOCTL(KVM_CHECK_EXTENSION);
	IOCTL(KVM_GET_VCPU_MMAP_SIZE);
	IOCTL(KVM_CREATE_VCPU);
	IOCTL(KVM_GET_DIRTY_LOG);
	IOCTL(KVM_SET_USER_MEMORY_REGION);
	IOCTL(KVM_RUN);
	IOCTL(KVM_IOEVENTFD);
	IOCTL(KVM_SET_SREGS);
	IOCTL(KVM_GET_ONE_REG);
	IOCTL(KVM_SET_ONE_REG);
	IOCTL(KVM_S390_INITIAL_RESET);
	IOCTL(KVM_S390_MEM_OP);
	IOCTL(KVM_S390_GET_SKEYS);
	IOCTL(KVM_S390_SET_SKEYS);
	IOCTL(KVM_S390_IRQ);
	IOCTL(KVM_S390_SET_IRQ_STATE);
	IOCTL(KVM_S390_GET_IRQ_STATE);
	IOCTL(KVM_S390_INTERRUPT);
	IOCTL(KVM_CREATE_DEVICE);
	IOCTL(KVM_GET_DEVICE_ATTR);
	IOCTL(KVM_SET_DEVICE_ATTR);

	/* ---- constants ---- */
	DEC(KVM_API_VERSION);
	DEC(KVM_CAP_USER_MEMORY);
	DEC(KVM_CAP_NR_MEMSLOTS);
	DEC(KVM_CAP_SYNC_MMU);
	DEC(KVM_CAP_IOEVENTFD);
	DEC(KVM_CAP_S390_UCONTROL);
	DEC(KVM_CAP_READONLY_MEM);
	DEC(KVM_CAP_IOEVENTFD_NO_LENGTH);
	DEC(KVM_CAP_CHECK_EXTENSION_VM);
	DEC(KVM_CAP_S390_MEM_OP);
	DEC(KVM_CAP_S390_SKEYS);
	DEC(KVM_CAP_S390_INJECT_IRQ);
	DEC(KVM_CAP_S390_IRQ_STATE);
	DEC(KVM_CAP_MULTI_ADDRESS_SPACE);
	DEC(KVM_CAP_IOEVENTFD_ANY_LENGTH);
	DEC(KVM_CAP_S390_PROTECTED);
	DEC(KVM_CAP_S390_MEM_OP_EXTENSION);
#ifdef KVM_CAP_S390_KEYOP
	DEC(KVM_CAP_S390_KEYOP);
#endif

	DEC(KVM_DEV_TYPE_FLIC);
	DEC(KVM_DEV_FLIC_GET_ALL_IRQS);
	HEX(KVM_S390_FLIC_MAX_BUFFER);

	HEX(KVM_REG_S390_GBEA);
	HEX(KVM_SYNC_ARCH0);
	DEC(KVM_EXIT_S390_SIEIC);

	HEX(KVM_MEM_LOG_DIRTY_PAGES);
	HEX(KVM_MEM_READONLY);
#ifdef KVM_MEM_GUEST_MEMFD
	HEX(KVM_MEM_GUEST_MEMFD);
#endif

	HEX(KVM_IOEVENTFD_FLAG_DATAMATCH);
	HEX(KVM_IOEVENTFD_FLAG_PIO);
	HEX(KVM_IOEVENTFD_FLAG_DEASSIGN);
	HEX(KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY);
	printf("KVM_IOEVENTFD_FLAG_BIT4_FAST_MMIO 0x%x\n", 1 << kvm_ioeventfd_flag_nr_fast_mmio);
	HEX(KVM_IOEVENTFD_VALID_FLAG_MASK);

	DEC(KVM_S390_MEMOP_LOGICAL_READ);
	DEC(KVM_S390_MEMOP_LOGICAL_WRITE);
	DEC(KVM_S390_MEMOP_SIDA_READ);
	DEC(KVM_S390_MEMOP_SIDA_WRITE);
	DEC(KVM_S390_MEMOP_ABSOLUTE_READ);
	DEC(KVM_S390_MEMOP_ABSOLUTE_WRITE);
#ifdef KVM_S390_MEMOP_ABSOLUTE_CMPXCHG
	DEC(KVM_S390_MEMOP_ABSOLUTE_CMPXCHG);
#endif
	HEX(KVM_S390_MEMOP_F_CHECK_ONLY);
	HEX(KVM_S390_MEMOP_F_INJECT_EXCEPTION);
	HEX(KVM_S390_MEMOP_F_SKEY_PROTECTION);
#ifdef KVM_S390_MEMOP_EXTENSION_CAP_BASE
	HEX(KVM_S390_MEMOP_EXTENSION_CAP_BASE);
	HEX(KVM_S390_MEMOP_EXTENSION_CAP_CMPXCHG);
#endif

	DEC(KVM_S390_SKEYS_MAX);
	DEC(KVM_S390_GET_SKEYS_NONE);

	HEX(KVM_S390_SIGP_STOP);
	HEX(KVM_S390_PROGRAM_INT);
	HEX(KVM_S390_SIGP_SET_PREFIX);
	HEX(KVM_S390_RESTART);
	HEX(KVM_S390_INT_PFAULT_INIT);
	HEX(KVM_S390_INT_PFAULT_DONE);
	HEX(KVM_S390_MCHK);
	HEX(KVM_S390_INT_CLOCK_COMP);
	HEX(KVM_S390_INT_CPU_TIMER);
	HEX(KVM_S390_INT_VIRTIO);
	HEX(KVM_S390_INT_SERVICE);
	HEX(KVM_S390_INT_EMERGENCY);
	HEX(KVM_S390_INT_EXTERNAL_CALL);
	HEX(KVM_S390_STOP_FLAG_STORE_STATUS);
	HEX(KVM_S390_PGM_FLAGS_ILC_VALID);
	{
		static const unsigned long long io[][4] = {
			{ 0, 0, 0, 0 }, { 0, 0, 0, 1 }, { 0, 0, 1, 0 },
			{ 0, 1, 0, 0 }, { 1, 0, 0, 0 }, { 1, 0xfe, 3, 0x1234 },
		};
		for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++)
			printf("KVM_S390_INT_IO(%llu,%llu,%llu,%llu) 0x%llx\n", io[i][0], io[i][1], io[i][2],
			       io[i][3],
			       (unsigned long long)KVM_S390_INT_IO(io[i][0], io[i][1], io[i][2], io[i][3]));
	}
	return 0;
}
