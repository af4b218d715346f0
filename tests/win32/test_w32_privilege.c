/* SPDX-License-Identifier: MIT */
/*
 * §5: SeLockMemoryPrivilege. Who holds it, that it starts disabled, the
 * 1300 -> 1314 sequence of an unprivileged user, AdjustTokenPrivileges()
 * in all its forms, OpenProcessToken() and LookupPrivilegeValueA/W().
 *
 * The test process always holds the privilege: root through CAP_IPC_LOCK,
 * an unprivileged user through the unlocked frames helpers.h turns on. The
 * other cases run in children that drop to nobody with a chosen
 * RLIMIT_MEMLOCK (root only).
 */
#include "w32helpers.h"

#include <linux/capability.h>
#include <sys/syscall.h>

enum { SE_CHANGE_NOTIFY_PRIVILEGE = 23, SE_DEBUG_PRIVILEGE = 20 };

/* A TOKEN_PRIVILEGES with room for several entries, built as Windows programs do. */
struct privs {
	DWORD Count;
	LUID_AND_ATTRIBUTES Privilege[4];
};

#define TP(p) ((PTOKEN_PRIVILEGES) & (p))

static TOKEN_PRIVILEGES one_priv(DWORD low, DWORD attributes)
{
	TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};

	tp.Privileges[0].Luid.LowPart = low;
	tp.Privileges[0].Attributes = attributes;
	return tp;
}

/* Whether AllocateUserPhysicalPages works right now (frees what it got). */
static DWORD try_allocate(void)
{
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};
	BOOL ok;
	DWORD le;

	SetLastError(LE_CANARY);
	ok = AllocateUserPhysicalPages(GetCurrentProcess(), &n, a);
	le = GetLastError();
	if (!ok) {
		/* A failure changes nothing. */
		if (n != 2 || a[0] != PFN_SENTINEL || a[1] != PFN_SENTINEL)
			return 0xBAD;
		return le;
	}
	if (n != 2 || a[2] != PFN_SENTINEL || le != LE_CANARY ||
	    !FreeUserPhysicalPages(GetCurrentProcess(), &n, a))
		return 0xBAD;
	return ERROR_SUCCESS;
}

#define assert_allocate(code)                                                                      \
	do {                                                                                       \
		DWORD got_ = try_allocate();                                                       \
		cr_assert_eq(got_, (DWORD)(code), "AllocateUserPhysicalPages: %u, expected %s",    \
			     got_, #code);                                                         \
	} while (0)

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

/* ---- AdjustTokenPrivileges ------------------------------------------------------------- */

Test(privilege, previous_state)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	TOKEN_PRIVILEGES off = one_priv(SE_LOCK_MEMORY_PRIVILEGE, 0);
	struct privs prev;
	DWORD len;

	memset(&prev, 0xa5, sizeof(prev));
	len = 0;
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 1);
	cr_assert_eq(prev.Privilege[0].Luid.LowPart, SE_LOCK_MEMORY_PRIVILEGE);
	cr_assert_eq(prev.Privilege[0].Luid.HighPart, 0);
	cr_assert_eq(prev.Privilege[0].Attributes, 0);
	cr_assert_eq(len, TP_SIZE(1), "ReturnLength %u, expected %u", len, TP_SIZE(1));
	assert_allocate(ERROR_SUCCESS);

	/* Already enabled: nothing changes, nothing is reported. */
	memset(&prev, 0xa5, sizeof(prev));
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 0);
	cr_assert_eq(len, TP_SIZE(0), "ReturnLength %u, expected %u", len, TP_SIZE(0));

	memset(&prev, 0xa5, sizeof(prev));
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &off, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 1);
	cr_assert_eq(prev.Privilege[0].Luid.LowPart, SE_LOCK_MEMORY_PRIVILEGE);
	cr_assert_eq(prev.Privilege[0].Attributes & SE_PRIVILEGE_ENABLED, SE_PRIVILEGE_ENABLED);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);

	/* The Windows idiom: enable, work, hand the previous state back. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	assert_allocate(ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, TP(prev), 0, NULL, NULL), ERROR_SUCCESS);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	W32_OK(CloseHandle(tok));
}

Test(privilege, previous_state_buffer_too_small)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;

	for (DWORD buflen = 0; buflen < TP_SIZE(1); buflen += 4) {
		memset(&prev, 0xa5, sizeof(prev));
		len = 0;
		W32_FAIL(AdjustTokenPrivileges(tok, FALSE, &on, buflen, TP(prev), &len),
			 ERROR_INSUFFICIENT_BUFFER);
		cr_assert_eq(len, TP_SIZE(1),
			     "buflen %u: ReturnLength %u, expected the size needed", buflen, len);
		cr_assert_eq(prev.Count, 0xa5a5a5a5u, "PreviousState written on failure");
		assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	}
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, TP_SIZE(1), TP(prev), &len),
		     ERROR_SUCCESS);
	assert_allocate(ERROR_SUCCESS);
	/* Nothing changes now: the bare count fits. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, TP_SIZE(0), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 0);
	W32_OK(CloseHandle(tok));
}

Test(privilege, argument_checks)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	HANDLE noquery = open_token(TOKEN_ADJUST_PRIVILEGES);
	HANDLE noadjust = open_token(TOKEN_QUERY);
	HANDLE proc = open_self(PROCESS_ALL_ACCESS);
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len = 1234;

	/* Not a token handle. */
	W32_FAIL(AdjustTokenPrivileges(NULL, FALSE, &on, 0, NULL, NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges(proc, FALSE, &on, 0, NULL, NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges(GetCurrentProcess(), FALSE, &on, 0, NULL, NULL),
		 ERROR_INVALID_HANDLE);
	W32_FAIL(AdjustTokenPrivileges((HANDLE)(uintptr_t)0x777, FALSE, &on, 0, NULL, NULL),
		 ERROR_INVALID_HANDLE);
	/* Rights. */
	W32_FAIL(AdjustTokenPrivileges(noadjust, FALSE, &on, 0, NULL, NULL), ERROR_ACCESS_DENIED);
	W32_FAIL(AdjustTokenPrivileges(noquery, FALSE, &on, sizeof(prev), TP(prev), &len),
		 ERROR_ACCESS_DENIED);
	/* Arguments. */
	W32_FAIL(AdjustTokenPrivileges(tok, FALSE, NULL, 0, NULL, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), NULL),
		 ERROR_NOACCESS);
	cr_assert_eq(len, 1234);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	/* Without TOKEN_QUERY is fine when nothing is read back. */
	W32_ADJUSTED(AdjustTokenPrivileges(noquery, FALSE, &on, 0, NULL, NULL), ERROR_SUCCESS);
	assert_allocate(ERROR_SUCCESS);
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(noquery));
	W32_OK(CloseHandle(noadjust));
	W32_OK(CloseHandle(proc));
}

/* Privileges the token does not hold are skipped, with 1300; the others change. */
Test(privilege, unheld_privileges_are_skipped)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	struct privs np = {2,
			   {{{SE_DEBUG_PRIVILEGE, 0}, SE_PRIVILEGE_ENABLED},
			    {lock_luid(), SE_PRIVILEGE_ENABLED}}};
	TOKEN_PRIVILEGES high = {1, {{{SE_LOCK_MEMORY_PRIVILEGE, 1}, 0}}};
	TOKEN_PRIVILEGES unknown = one_priv(99, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;

	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, TP(np), sizeof(prev), TP(prev), &len),
		     ERROR_NOT_ALL_ASSIGNED);
	cr_assert_eq(prev.Count, 1, "only SeLockMemoryPrivilege changed");
	cr_assert_eq(prev.Privilege[0].Luid.LowPart, SE_LOCK_MEMORY_PRIVILEGE);
	cr_assert_eq(len, TP_SIZE(1));
	assert_allocate(ERROR_SUCCESS);
	/* A LUID with a HighPart is no privilege of ours. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &high, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	assert_allocate(ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &unknown, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	/* The token holds no privilege but those two. */
	for (DWORD id = 2; id <= 36; id++) {
		TOKEN_PRIVILEGES tp = one_priv(id, SE_PRIVILEGE_ENABLED);
		BOOL ok = AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
		DWORD le = GetLastError();

		cr_assert_eq(ok, TRUE);
		cr_assert_eq(le,
			     id == SE_LOCK_MEMORY_PRIVILEGE || id == SE_CHANGE_NOTIFY_PRIVILEGE
				     ? ERROR_SUCCESS
				     : ERROR_NOT_ALL_ASSIGNED,
			     "privilege %u: last error %u", id, le);
	}
	/* Disabling or removing one that is not held is skipped the same way. */
	TOKEN_PRIVILEGES debug_off = one_priv(SE_DEBUG_PRIVILEGE, 0);
	TOKEN_PRIVILEGES debug_rm = one_priv(SE_DEBUG_PRIVILEGE, SE_PRIVILEGE_REMOVED);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &debug_off, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &debug_rm, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	W32_OK(CloseHandle(tok));
}

/* SeChangeNotifyPrivilege: held and enabled, as in every Windows token. */
Test(privilege, change_notify_is_held_and_enabled)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	TOKEN_PRIVILEGES off = one_priv(SE_CHANGE_NOTIFY_PRIVILEGE, 0);
	TOKEN_PRIVILEGES on = one_priv(SE_CHANGE_NOTIFY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;

	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 0, "already enabled");
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &off, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 1);
	cr_assert_eq(prev.Privilege[0].Luid.LowPart, SE_CHANGE_NOTIFY_PRIVILEGE);
	cr_assert_eq(prev.Privilege[0].Attributes & SE_PRIVILEGE_ENABLED, SE_PRIVILEGE_ENABLED);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, 0, NULL, NULL), ERROR_SUCCESS);
	W32_OK(CloseHandle(tok));
}

Test(privilege, removed_for_good)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	TOKEN_PRIVILEGES rm = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_REMOVED);
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;

	enable_lock_privilege();
	assert_allocate(ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &rm, 0, NULL, NULL), ERROR_SUCCESS);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_NOT_ALL_ASSIGNED);
	cr_assert_eq(prev.Count, 0);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	/* Removing it again: no longer held. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &rm, 0, NULL, NULL), ERROR_NOT_ALL_ASSIGNED);
	/* A new token handle sees the same token. */
	HANDLE tok2 = open_token(TOKEN_ADJUST_PRIVILEGES);
	W32_ADJUSTED(AdjustTokenPrivileges(tok2, FALSE, &on, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(tok2));
}

Test(privilege, disable_all_privileges)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY);
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	TOKEN_PRIVILEGES notify_on = one_priv(SE_CHANGE_NOTIFY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len = 0, seen = 0;

	enable_lock_privilege();
	/* Too small for the two entries that change: nothing changes. */
	W32_FAIL(AdjustTokenPrivileges(tok, TRUE, NULL, TP_SIZE(1), TP(prev), &len),
		 ERROR_INSUFFICIENT_BUFFER);
	cr_assert_eq(len, TP_SIZE(2));
	assert_allocate(ERROR_SUCCESS);

	memset(&prev, 0xa5, sizeof(prev));
	W32_ADJUSTED(AdjustTokenPrivileges(tok, TRUE, NULL, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 2, "SeLockMemoryPrivilege and SeChangeNotifyPrivilege");
	cr_assert_eq(len, TP_SIZE(2));
	for (DWORD i = 0; i < 2; i++) {
		cr_assert_eq(prev.Privilege[i].Luid.HighPart, 0);
		cr_assert(prev.Privilege[i].Attributes & SE_PRIVILEGE_ENABLED);
		seen |= 1u << prev.Privilege[i].Luid.LowPart;
	}
	cr_assert_eq(seen, (1u << SE_LOCK_MEMORY_PRIVILEGE) | (1u << SE_CHANGE_NOTIFY_PRIVILEGE));
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);

	/* NewState is ignored when disabling all. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, TRUE, &on, 0, NULL, NULL), ERROR_SUCCESS);
	assert_allocate(ERROR_PRIVILEGE_NOT_HELD);
	/* Still held: both can be enabled again. */
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &notify_on, 0, NULL, NULL), ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &on, 0, NULL, NULL), ERROR_SUCCESS);
	assert_allocate(ERROR_SUCCESS);
	W32_OK(CloseHandle(tok));
}

/* ---- OpenProcessToken ------------------------------------------------------------------ */

Test(privilege, open_process_token)
{
	HANDLE a = NULL, b = NULL;

	W32_OK(OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &a));
	W32_OK(OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &b));
	cr_assert_not_null(a);
	cr_assert_neq(a, b);
	cr_assert_neq(a, GetCurrentProcess());
	/* Both handles name the one token of the process. */
	TOKEN_PRIVILEGES on = one_priv(SE_LOCK_MEMORY_PRIVILEGE, SE_PRIVILEGE_ENABLED);
	struct privs prev;
	DWORD len;
	W32_ADJUSTED(AdjustTokenPrivileges(a, FALSE, &on, 0, NULL, NULL), ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(b, FALSE, &on, sizeof(prev), TP(prev), &len),
		     ERROR_SUCCESS);
	cr_assert_eq(prev.Count, 0, "enabled through the other handle");
	W32_FAIL(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, NULL), ERROR_NOACCESS);
	W32_OK(CloseHandle(a));
	W32_OK(CloseHandle(b));
}

/* ---- LookupPrivilegeValueA/W -------------------------------------------------------- */

static const struct {
	const char *name;
	DWORD luid;
} privilege_table[] = {
	{"SeCreateTokenPrivilege", 2},
	{"SeAssignPrimaryTokenPrivilege", 3},
	{"SeLockMemoryPrivilege", 4},
	{"SeIncreaseQuotaPrivilege", 5},
	{"SeMachineAccountPrivilege", 6},
	{"SeTcbPrivilege", 7},
	{"SeSecurityPrivilege", 8},
	{"SeTakeOwnershipPrivilege", 9},
	{"SeLoadDriverPrivilege", 10},
	{"SeSystemProfilePrivilege", 11},
	{"SeSystemtimePrivilege", 12},
	{"SeProfileSingleProcessPrivilege", 13},
	{"SeIncreaseBasePriorityPrivilege", 14},
	{"SeCreatePagefilePrivilege", 15},
	{"SeCreatePermanentPrivilege", 16},
	{"SeBackupPrivilege", 17},
	{"SeRestorePrivilege", 18},
	{"SeShutdownPrivilege", 19},
	{"SeDebugPrivilege", 20},
	{"SeAuditPrivilege", 21},
	{"SeSystemEnvironmentPrivilege", 22},
	{"SeChangeNotifyPrivilege", 23},
	{"SeRemoteShutdownPrivilege", 24},
	{"SeUndockPrivilege", 25},
	{"SeSyncAgentPrivilege", 26},
	{"SeEnableDelegationPrivilege", 27},
	{"SeManageVolumePrivilege", 28},
	{"SeImpersonatePrivilege", 29},
	{"SeCreateGlobalPrivilege", 30},
	{"SeTrustedCredManAccessPrivilege", 31},
	{"SeRelabelPrivilege", 32},
	{"SeIncreaseWorkingSetPrivilege", 33},
	{"SeTimeZonePrivilege", 34},
	{"SeCreateSymbolicLinkPrivilege", 35},
	{"SeDelegateSessionUserImpersonatePrivilege", 36},
};

enum { NPRIV = sizeof(privilege_table) / sizeof(privilege_table[0]) };

/* UTF-16 by hand, the way a Windows program's L"" arrives. */
static void to_utf16(WCHAR *w, const char *s)
{
	while ((*w++ = (unsigned char)*s++))
		;
}

static void assert_luid(LUID l, DWORD low, const char *name)
{
	cr_assert_eq(l.LowPart, low, "%s: LUID %u, expected %u", name, l.LowPart, low);
	cr_assert_eq(l.HighPart, 0, "%s: HighPart %d", name, l.HighPart);
}

Test(privilege, lookup_table)
{
	WCHAR w[64];
	LUID l;

	for (size_t i = 0; i < NPRIV; i++) {
		const char *name = privilege_table[i].name;

		memset(&l, 0xa5, sizeof(l));
		W32_OK(LookupPrivilegeValueA(NULL, name, &l));
		assert_luid(l, privilege_table[i].luid, name);
		memset(&l, 0xa5, sizeof(l));
		W32_OK(LookupPrivilegeValueA("", name, &l));
		assert_luid(l, privilege_table[i].luid, name);
		to_utf16(w, name);
		memset(&l, 0xa5, sizeof(l));
		W32_OK(LookupPrivilegeValueW(NULL, w, &l));
		assert_luid(l, privilege_table[i].luid, name);
	}
	cr_assert_str_eq(SE_LOCK_MEMORY_NAME_A, "SeLockMemoryPrivilege");
}

Test(privilege, lookup_is_case_insensitive)
{
	static const char *const spellings[] = {"selockmemoryprivilege", "SELOCKMEMORYPRIVILEGE",
						"sElOcKmEmOrYpRiViLeGe"};
	WCHAR w[64];
	LUID l;

	for (size_t i = 0; i < 3; i++) {
		W32_OK(LookupPrivilegeValueA(NULL, spellings[i], &l));
		assert_luid(l, SE_LOCK_MEMORY_PRIVILEGE, spellings[i]);
		to_utf16(w, spellings[i]);
		W32_OK(LookupPrivilegeValueW(NULL, w, &l));
		assert_luid(l, SE_LOCK_MEMORY_PRIVILEGE, spellings[i]);
	}
}

Test(privilege, lookup_unknown_names)
{
	static const char *const names[] = {"",
					    "SeLockMemory",
					    "SeLockMemoryPrivilege ",
					    " SeLockMemoryPrivilege",
					    "SeLockMemoryPrivilegeX",
					    "SeUnsolicitedInputPrivilege",
					    "Lock pages in memory"};
	/* Non-ASCII letters must not fold onto ASCII ones. */
	static const WCHAR accented[] = {'S', 'e', 'L', 'o', 'c', 'k', 'M', 0xE9, 'm', 'o', 'r',
					 'y', 'P', 'r', 'i', 'v', 'i', 'l', 'e',  'g', 'e', 0};
	/* A UTF-16 code unit whose low byte spells 'S' must not pass for 'S'. */
	static const WCHAR wide_s[] = {0x0153, 'e', 'L', 'o', 'c', 'k', 'M', 'e', 'm', 'o', 'r',
				       'y',    'P', 'r', 'i', 'v', 'i', 'l', 'e', 'g', 'e', 0};
	WCHAR w[64];
	LUID l = {0x1111, 0x2222};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		W32_FAIL(LookupPrivilegeValueA(NULL, names[i], &l), ERROR_NO_SUCH_PRIVILEGE);
		to_utf16(w, names[i]);
		W32_FAIL(LookupPrivilegeValueW(NULL, w, &l), ERROR_NO_SUCH_PRIVILEGE);
	}
	W32_FAIL(LookupPrivilegeValueW(NULL, accented, &l), ERROR_NO_SUCH_PRIVILEGE);
	W32_FAIL(LookupPrivilegeValueW(NULL, wide_s, &l), ERROR_NO_SUCH_PRIVILEGE);
	cr_assert_eq(l.LowPart, 0x1111, "LUID written on failure");
	cr_assert_eq(l.HighPart, 0x2222);
}

Test(privilege, lookup_argument_checks)
{
	WCHAR name[64], host[8], empty[1] = {0};
	LUID l = {0x1111, 0x2222};

	to_utf16(name, "SeLockMemoryPrivilege");
	to_utf16(host, "server");
	/* Remote lookups are not supported. */
	W32_FAIL(LookupPrivilegeValueA("server", "SeLockMemoryPrivilege", &l), ERROR_NOT_SUPPORTED);
	W32_FAIL(LookupPrivilegeValueA("\\\\server", "SeLockMemoryPrivilege", &l),
		 ERROR_NOT_SUPPORTED);
	W32_FAIL(LookupPrivilegeValueW(host, name, &l), ERROR_NOT_SUPPORTED);
	W32_OK(LookupPrivilegeValueW(empty, name, &l));
	assert_luid(l, SE_LOCK_MEMORY_PRIVILEGE, "empty system name");
	/* NULL name or LUID. */
	W32_FAIL(LookupPrivilegeValueA(NULL, NULL, &l), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueW(NULL, NULL, &l), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueA(NULL, "SeLockMemoryPrivilege", NULL), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueW(NULL, name, NULL), ERROR_NOACCESS);
	/* In the contract's order: system, name, LUID, then the lookup. */
	W32_FAIL(LookupPrivilegeValueA("server", NULL, NULL), ERROR_NOT_SUPPORTED);
	W32_FAIL(LookupPrivilegeValueA(NULL, NULL, NULL), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueA(NULL, "SeNoSuchPrivilege", NULL), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueA("server", "SeNoSuchPrivilege", &l), ERROR_NOT_SUPPORTED);
}
