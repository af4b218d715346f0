/* SPDX-License-Identifier: MIT */
/*
 * §5: SeLockMemoryPrivilege, who holds it. That it starts disabled, root
 * through CAP_IPC_LOCK (and not without it or with no RLIMIT_MEMLOCK), the
 * 1300 -> 1314 sequence of an unprivileged user, and
 * LIBAWE_WIN32_LOCK_PRIVILEGE. test_w32_token has the calls that read and
 * change it.
 *
 * The test process always holds the privilege: root through CAP_IPC_LOCK,
 * an unprivileged user through the unlocked frames helpers.h turns on. The
 * other cases run in children that drop to nobody with a chosen
 * RLIMIT_MEMLOCK (root only).
 */
#include "w32privilege.h"

#include <linux/capability.h>
#include <sys/syscall.h>

/* ---- Held and disabled ---------------------------------------------------- */

Test(privilege, held_but_disabled_until_enabled)
{
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	enable_lock_privilege();
	assert_allocate(ERROR_SUCCESS);
	disable_lock_privilege();
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	enable_lock_privilege();
	assert_allocate(ERROR_SUCCESS);
}

Test(privilege, root_holds_it_through_cap_ipc_lock)
{
	TOKEN_PRIVILEGES tp = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len = 0;
	HANDLE tok;

	skip_unless_root("CAP_IPC_LOCK");
	tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 1);
	cr_assert_eq(prev.Privilege[0].Attributes, 0, "it starts disabled");
	assert_allocate(ERROR_SUCCESS);
	W32_OK(CloseHandle(tok));
}

/* Root with RLIMIT_MEMLOCK 0 still holds it: CAP_IPC_LOCK is enough. */
static int child_root_zero_memlock(void *arg)
{
	DWORD le;

	(void)arg;
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == 0, "le %u", le);
	CHILD_CHECK(try_allocate() == ERROR_SUCCESS);
	return 0;
}

Test(privilege, root_with_zero_memlock)
{
	struct child_opts o = {.set_memlock = true, .memlock = 0};

	skip_unless_root("CAP_IPC_LOCK");
	run_in_child(child_root_zero_memlock, NULL, &o);
}

/* Root without CAP_IPC_LOCK in its effective set (and 8 MiB) does not hold it. */
static int child_root_without_cap(void *arg)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_CHECK(syscall(SYS_capget, &hdr, data) == 0);
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	CHILD_CHECK(syscall(SYS_capset, &hdr, data) == 0, "capset: %s", strerror(errno));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	return 0;
}

Test(privilege, root_without_cap_ipc_lock)
{
	struct child_opts o = {.set_memlock = true, .memlock = 8 * MiB};

	skip_unless_root("dropping a capability");
	run_in_child(child_root_without_cap, NULL, &o);
}

/* ---- The unprivileged user: 1300, then 1314 ------------------------------------ */

static int child_not_held(void *arg)
{
	ULONG_PTR zero = 0, n = 4, a[5];
	TOKEN_PRIVILEGES tp = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	MEM_EXTENDED_PARAMETER ext = {.Type = MemExtendedParameterNumaNode};
	struct privs prev;
	DWORD le, len = 0;
	HANDLE tok = NULL;
	char *r;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	for (size_t i = 0; i < 5; i++)
		a[i] = PFN_SENTINEL;

	/* Before the privilege check: n == 0, handle and pointer errors. */
	CHILD_W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &zero, NULL));
	CHILD_CHECK(zero == 0);
	CHILD_W32_FAIL(AllocateUserPhysicalPages(NULL, &n, a), ERROR_INVALID_HANDLE);
	CHILD_W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, NULL), ERROR_NOACCESS);
	CHILD_W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a),
		       ERROR_PRIVILEGE_NOT_HELD);

	/* The AWE Example's step: TRUE, but ERROR_NOT_ALL_ASSIGNED. */
	CHILD_W32_OK(
		OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok));
	prev.Count = 77;
	CHILD_W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(prev), TP(prev), &len),
			   ERROR_NOT_ALL_ASSIGNED);
	CHILD_CHECK(prev.Count == 0 && len == TP_SIZE(0), "prev.Count %u len %u", prev.Count, len);
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE &&
			    le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);

	/* ... and the allocation then fails with 1314, changing nothing. */
	CHILD_W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a),
		       ERROR_PRIVILEGE_NOT_HELD);
	CHILD_W32_FAIL(AllocateUserPhysicalPagesNuma(GetCurrentProcess(), &n, a, 0),
		       ERROR_PRIVILEGE_NOT_HELD);
	CHILD_W32_FAIL(AllocateUserPhysicalPages2(GetCurrentProcess(), &n, a, &ext, 1),
		       ERROR_PRIVILEGE_NOT_HELD);
	CHILD_CHECK(n == 4, "*NumberOfPages changed to %lu", (unsigned long)n);
	CHILD_CHECK(pfns_untouched(a, 0, 5), "PageArray written on failure");

	/* Free needs no privilege, but a process that never got that far
	 * nor reserved a region has nothing to free. */
	n = 1;
	a[0] = BOGUS_PFN;
	CHILD_W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), &n, a), ERROR_INVALID_PARAMETER);
	CHILD_CHECK(n == 0);

	/* Regions need no privilege; unmapping works, mapping has no frames. */
	r = CHILD_W32_OK(VirtualAlloc(NULL, 16 * pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	CHILD_W32_OK(MapUserPhysicalPages(r, 16, NULL));
	CHILD_W32_FAIL(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS);
	CHILD_W32_OK(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, NULL));
	n = 1;
	CHILD_W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), &n, a), ERROR_INVALID_ADDRESS);
	CHILD_CHECK(n == 0);
	CHILD_W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	CHILD_W32_OK(CloseHandle(tok));
	return 0;
}

Test(privilege, nobody_gets_1300_then_1314)
{
	run_as_nobody(child_not_held, NULL, 8 * MiB);
}

/* Just below the 64 MiB threshold the privilege is still not held. */
Test(privilege, nobody_just_below_64_mib)
{
	run_as_nobody(child_not_held, NULL, 64 * MiB - 4096);
}

/* Held: it starts disabled, enabling reports 0 and allocation works. */
static int held_checks(void)
{
	ULONG_PTR n = 64, a[64];
	DWORD le;

	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD, "starts disabled");
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE && le == 0, "le %u", le);
	CHILD_W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a));
	CHILD_CHECK(n == 64, "allocated %lu", (unsigned long)n);
	CHILD_W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &n, a));
	return 0;
}

/* @arg: the value of LIBAWE_UNLOCKED, or NULL for none. */
static int child_held(void *arg)
{
	if (arg)
		setenv("LIBAWE_UNLOCKED", arg, 1);
	else
		unsetenv("LIBAWE_UNLOCKED");
	return held_checks();
}

Test(privilege, nobody_with_unlimited_memlock)
{
	run_as_nobody(child_held, NULL, RLIM_INFINITY);
}

Test(privilege, nobody_with_64_mib_memlock)
{
	run_as_nobody(child_held, NULL, 64 * MiB);
}

Test(privilege, nobody_with_unlocked_frames)
{
	run_as_nobody(child_held, "1", 8 * MiB);
}

/* Only the environment variable counts: asking libawe whether it runs
 * unlocked would start it, fixing its flags before a program that mixes
 * both APIs gets to call awe_init(). */
static int child_awe_init_unlocked(void *arg)
{
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	CHILD_OK(awe_init(AWE_INIT_UNLOCKED));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	return 0;
}

Test(privilege, nobody_after_awe_init_unlocked_not_held)
{
	run_as_nobody(child_awe_init_unlocked, NULL, 8 * MiB);
}

/* ---- LIBAWE_WIN32_LOCK_PRIVILEGE ---------------------------------------------------- */

static int child_pre_enabled(void *arg)
{
	TOKEN_PRIVILEGES tp = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;
	HANDLE tok;

	(void)arg;
	setenv("LIBAWE_WIN32_LOCK_PRIVILEGE", "1", 1);
	CHILD_CHECK(try_allocate() == ERROR_SUCCESS, "not enabled from the start");
	/* Enabling it again changes nothing. */
	CHILD_W32_OK(
		OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok));
	CHILD_W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(prev), TP(prev), &len),
			   ERROR_SUCCESS);
	CHILD_CHECK(prev.Count == 0 && len == TP_SIZE(0));
	/* It can still be disabled. */
	tp.Privileges[0].Attributes = 0;
	CHILD_W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL), ERROR_SUCCESS);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	return 0;
}

Test(privilege, lock_privilege_env_pre_enables)
{
	run_in_child(child_pre_enabled, NULL, NULL);
}

static int child_env_zero(void *arg)
{
	(void)arg;
	setenv("LIBAWE_WIN32_LOCK_PRIVILEGE", "0", 1);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	return 0;
}

Test(privilege, lock_privilege_env_zero_does_not)
{
	run_in_child(child_env_zero, NULL, NULL);
}

/* Only a held privilege starts enabled. */
static int child_pre_enabled_not_held(void *arg)
{
	DWORD le;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	setenv("LIBAWE_WIN32_LOCK_PRIVILEGE", "1", 1);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_NOT_ALL_ASSIGNED);
	CHILD_CHECK(try_allocate() == ERROR_PRIVILEGE_NOT_HELD);
	return 0;
}

Test(privilege, lock_privilege_env_needs_the_privilege)
{
	run_as_nobody(child_pre_enabled_not_held, NULL, 8 * MiB);
}
