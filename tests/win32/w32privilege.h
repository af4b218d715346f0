/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the SeLockMemoryPrivilege programs (test_w32_privilege.c,
 * test_w32_token.c, §5): TOKEN_PRIVILEGES built as Windows programs build
 * them, and whether AllocateUserPhysicalPages works right now.
 */
#ifndef AWE_W32_PRIVILEGE_HELPERS_H
#define AWE_W32_PRIVILEGE_HELPERS_H

#include "w32helpers.h"

enum { SE_CHANGE_NOTIFY_PRIVILEGE = 23, SE_DEBUG_PRIVILEGE = 20 };

/* A TOKEN_PRIVILEGES with room for several entries, built as Windows programs do. */
struct privs {
	DWORD Count;
	LUID_AND_ATTRIBUTES Privilege[4];
};

#define TP(p) ((PTOKEN_PRIVILEGES) & (p))

static inline TOKEN_PRIVILEGES one_priv(DWORD low, DWORD attributes)
{
	TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};

	tp.Privileges[0].Luid.LowPart = low;
	tp.Privileges[0].Attributes = attributes;
	return tp;
}

/* Whether AllocateUserPhysicalPages works right now (frees what it got). */
static inline DWORD try_allocate(void)
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

#endif /* AWE_W32_PRIVILEGE_HELPERS_H */
