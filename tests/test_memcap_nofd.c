/* SPDX-License-Identifier: MIT */
/*
 * What memory allows when no descriptor is free (src/os/sysfacts.c): the
 * cgroups of a fake tree (memcap.h) cannot be read, which is an error and
 * never "no limit"; what libawe read last still bounds what it hands out;
 * under a small RLIMIT_MEMLOCK, what is locked already is taken as used up.
 */
#include "memcap.h"

#include <sys/sysinfo.h>

TestSuite(facts, .init = tree_init, .fini = tree_fini);

/* A cgroup with 16 MiB of room (64 - 40 - 8) on a host with plenty. */
static void tree_16mib(void)
{
	cgroups("0::/a\n", MOUNT_V2);
	v2_level("/sys/fs/cgroup/a", 64 * MiB, NONE, 40 * MiB, 0);
}

/* Without a descriptor the cgroups cannot be read: an error, never "no
 * limit", with the host's part (by sysinfo(2)) as an upper bound. */
static int child_no_fd_facts(void *arg)
{
	uint64_t v = 0;
	struct sysinfo si;

	(void)arg;
	CHILD_CHECK(awe__mem_available(&v) == 0 && v == 16 * MiB, "%" PRIu64, v);
	CHILD_CHECK(exhaust_fds() == 0);
	CHILD_CHECK(sysinfo(&si) == 0);
	v = UINT64_MAX;
	CHILD_CHECK(awe__mem_available(&v) == -EMFILE);
	CHILD_CHECK(v <= ((uint64_t)si.freeram + si.bufferram) * si.mem_unit + 256 * MiB,
		    "%" PRIu64 " MiB: more than sysinfo says is free", v / MiB);
	CHILD_CHECK(awe__memlock_used(&v) == -EMFILE);
	CHILD_CHECK(awe__max_map_count(&v) == -EMFILE);
	return 0;
}

Test(facts, no_descriptor_is_an_error)
{
	tree_16mib();
	run_in_child(child_no_fd_facts, NULL, NULL);
}

/* libawe keeps what it read last, less what it allocated since: asking for
 * 64 MiB gets at most the 16 MiB there was room for, then nothing. */
static int child_no_fd_alloc(void *arg)
{
	size_t want = 64 * MiB / pg(), room = 16 * MiB / pg();
	awe_frame_t *f = malloc(want * sizeof(*f));
	ssize_t n;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_OK(awe_init(0));
	CHILD_CHECK(exhaust_fds() == 0);
	n = awe_alloc(f, want);
	CHILD_CHECK(n > 0 && (size_t)n <= room, "awe_alloc(%zu) gave %zd frames, room for %zu",
		    want, n, room);
	CHILD_ERR(awe_alloc(f + n, 1), ENOMEM);
	/* A second later the cache would be read again: it cannot be. */
	sleep(1);
	CHILD_ERR(awe_alloc(f + n, want), ENOMEM);
	CHILD_OK(awe_free(f, (size_t)n, NULL));
	free(f);
	return 0;
}

Test(facts, no_descriptor_alloc_stays_bounded)
{
	tree_16mib();
	run_in_child(child_no_fd_alloc, NULL, NULL);
}

/* Under a small RLIMIT_MEMLOCK, what is locked already (VmLck) cannot be
 * read without a descriptor: libawe then takes the limit as used up rather
 * than as free, and never gets more than the limit allows. */
static int child_no_fd_memlock(void *arg)
{
	size_t want = 16 * MiB / pg();
	awe_frame_t *f = malloc(want * sizeof(*f));
	ssize_t n;

	(void)arg;
	CHILD_CHECK(f);
	CHILD_OK(awe_init(0));
	CHILD_CHECK(exhaust_fds() == 0);
	n = awe_alloc(f, want);
	CHILD_CHECK(n == -EPERM || (n > 0 && (uint64_t)n * pg() <= 4 * MiB),
		    "awe_alloc(16 MiB) under a 4 MiB RLIMIT_MEMLOCK: %zd", n);
	if (n > 0)
		CHILD_OK(awe_free(f, (size_t)n, NULL));
	free(f);
	return 0;
}

Test(nofd, memlock_stays_conservative)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 4 * MiB};

	skip_unless_root("dropping to nobody needs root");
	run_in_child(child_no_fd_memlock, NULL, &o);
}
