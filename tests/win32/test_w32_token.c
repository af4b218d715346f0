/* SPDX-License-Identifier: MIT */
/*
 * §5: the calls around SeLockMemoryPrivilege. AdjustTokenPrivileges() in all
 * its forms (the previous state and its buffer, argument checks, privileges
 * not held, SeChangeNotifyPrivilege, SE_PRIVILEGE_REMOVED,
 * DisableAllPrivileges), OpenProcessToken() and LookupPrivilegeValueA/W().
 *
 * The test process always holds the privilege: root through CAP_IPC_LOCK,
 * an unprivileged user through the unlocked frames helpers.h turns on.
 */
#include "w32privilege.h"

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
