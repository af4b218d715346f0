/* SPDX-License-Identifier: MIT */
/*
 * Faults on empty or protected slots: the engine's fault signal for accesses
 * (SIGBUS with UFFDIO_MOVE, SIGSEGV with memfd: see fault_signal()), EFAULT
 * for system calls.
 */
#include "helpers.h"

/*
 * Without a handler of the program's own, the process dies of the fault
 * signal. The children below set up their window themselves (libawe state
 * is not inherited across fork()) and exit non-zero if that fails.
 */
static char *child_window(size_t pages)
{
	void *base = NULL;
	int r = awe_window_create(pages * pg(), NULL, 0, &base);

	if (r) {
		fprintf(stderr, "awe_window_create: %s\n", awe_strerror(r));
		_exit(100);
	}
	return base;
}

static void unmapped_read(void)
{
	char *w = child_window(1);

	(void)*(volatile char *)w;
}

static void unmapped_write(void)
{
	char *w = child_window(2);

	*(volatile char *)slot(w, 1) = 1;
}

static void read_only_write(void)
{
	char *w = child_window(1);
	awe_frame_t f;

	if (awe_alloc(&f, 1) != 1 || awe_map(w, 1, &f) != 0 ||
	    awe_protect(w, 1, AWE_PROT_READ, NULL) != 0) {
		fprintf(stderr, "setting up a read-only slot failed\n");
		_exit(100);
	}
	*(volatile char *)w = 1;
}

static void none_read(void)
{
	char *w = child_window(1);
	awe_frame_t f;

	if (awe_alloc(&f, 1) != 1 || awe_map(w, 1, &f) != 0 ||
	    awe_protect(w, 1, AWE_PROT_NONE, NULL) != 0) {
		fprintf(stderr, "setting up a no-access slot failed\n");
		_exit(100);
	}
	(void)*(volatile char *)w;
}

Test(sigbus, unmapped_read_kills)
{
	assert_child_dies_of_fault(unmapped_read);
}

Test(sigbus, unmapped_write_kills)
{
	assert_child_dies_of_fault(unmapped_write);
}

Test(sigbus, read_only_write_kills)
{
	assert_child_dies_of_fault(read_only_write);
}

Test(sigbus, no_access_read_kills)
{
	assert_child_dies_of_fault(none_read);
}

/* si_addr is the exact address touched, not the slot base. */
Test(sigbus, si_addr_is_fault_address)
{
	char *w = window_new(8);
	struct fault f;

	assert_read_faults(w);
	assert_read_faults(slot(w, 3) + 123);
	assert_write_faults(slot(w, 7) + pg() - 1);
	f = probe_read(slot(w, 5) + 8);
	cr_assert_eq(f.sig, fault_signal());
	cr_assert_eq(f.code, fault_code(), "si_code %d, expected %s", f.code,
		     engine_is_memfd() ? "SEGV_ACCERR" : "BUS_ADRERR");
}

/* Slots that were mapped and then emptied fault the same way. */
Test(sigbus, after_unmap_and_free)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_OK(awe_map(w, 2, f));
	assert_no_fault(probe_write(w, 1), w, "write");
	unmap_range(w, 1);
	assert_read_faults(w + 64);
	AWE_OK(awe_free(&f[1], 1, NULL));
	assert_write_faults(slot(w, 1) + 64);
	/* Recovery: mapping again makes the slot usable. */
	map1(w, f[0]);
	assert_no_fault(probe_read(w + 64), w + 64, "read");
	cr_assert_eq(*(volatile char *)w, 1);
}

Test(sigbus, protected_slots)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_OK(awe_map(w, 2, f));
	AWE_OK(awe_protect(w, 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, NULL));
	assert_no_fault(probe_read(w + 5), w + 5, "read");
	assert_write_faults(w + 5);
	assert_read_faults(slot(w, 1) + 9);
	assert_write_faults(slot(w, 1) + 10);
}

/* A faulting access must not map anything behind the caller's back. */
Test(sigbus, fault_leaves_slot_empty)
{
	char *w = window_new(1);

	for (int i = 0; i < 100; i++)
		assert_read_faults(w + i);
	assert_slot(w, 0, AWE_PROT_NONE);
	cr_assert_eq(get_stats().frames_mapped, 0);
	cr_assert_eq(get_stats().frames_allocated, 0);
}

static void pipe_with_data(int fds[2])
{
	char buf[256];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
}

/* A system call writing into a slot it may not write fails with EFAULT. */
static void assert_read_syscall_efault(void *addr)
{
	char buf[256];
	int fds[2];
	ssize_t r;

	pipe_with_data(fds);
	errno = 0;
	r = read(fds[0], addr, 100);
	cr_assert_eq(r, -1, "read(2) into %p returned %zd", addr, r);
	cr_assert_eq(errno, EFAULT, "read(2): errno %d (%s)", errno, strerror(errno));
	/* The data is still in the pipe. */
	cr_assert_eq(read(fds[0], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fds[0]);
	close(fds[1]);
}

Test(sigbus, read_syscall_into_unmapped_slot)
{
	char *w = window_new(2);

	assert_read_syscall_efault(slot(w, 1) + 10);
	assert_slot(slot(w, 1), 0, AWE_PROT_NONE);
	assert_read_faults(slot(w, 1) + 10);
	cr_assert_eq(get_stats().frames_mapped, 0);
}

Test(sigbus, read_syscall_into_protected_slots)
{
	awe_frame_t f[2];
	char *w = window_new(2);

	alloc_exact(f, 2);
	AWE_OK(awe_map(w, 2, f));
	fill_page(w, 1);
	fill_page(slot(w, 1), 2);
	AWE_OK(awe_protect(w, 1, AWE_PROT_READ, NULL));
	AWE_OK(awe_protect(slot(w, 1), 1, AWE_PROT_NONE, NULL));
	assert_read_syscall_efault(w);
	assert_read_syscall_efault(slot(w, 1));
	assert_slot(w, f[0], AWE_PROT_READ);
	assert_slot(slot(w, 1), f[1], AWE_PROT_NONE);
	AWE_OK(awe_protect(w, 2, AWE_PROT_READWRITE, NULL));
	assert_page(w, 1);
	assert_page(slot(w, 1), 2);
}

/* A system call reading from an empty slot fails with EFAULT too. */
Test(sigbus, write_syscall_from_unmapped_slot)
{
	char *w = window_new(1);
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	errno = 0;
	cr_assert_eq(write(fds[1], w, 64), -1);
	cr_assert_eq(errno, EFAULT);
	assert_slot(w, 0, AWE_PROT_NONE);
	close(fds[0]);
	close(fds[1]);
}

/* A system call succeeds on a mapped slot, read-only included for reading. */
Test(sigbus, syscalls_on_mapped_slots)
{
	awe_frame_t f;
	char *w = window_new(1);
	int fds[2];

	alloc_exact(&f, 1);
	map1(w, f);
	pipe_with_data(fds);
	cr_assert_eq(read(fds[0], w, 256), 256);
	cr_assert_eq(w[255], 'x');
	AWE_OK(awe_protect(w, 1, AWE_PROT_READ, NULL));
	cr_assert_eq(write(fds[1], w, 256), 256);
	close(fds[0]);
	close(fds[1]);
}
