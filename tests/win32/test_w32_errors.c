/* SPDX-License-Identifier: MIT */
/*
 * The error contract: a failure sets the thread's last error and errno to
 * the Win32 code; a success leaves both alone (AdjustTokenPrivileges
 * excepted); bad pointers give ERROR_NOACCESS.
 */
#include "w32helpers.h"

#include <pthread.h>

Test(errors, set_and_get_last_error)
{
	static const DWORD codes[] = {0, 5, 87, 487, 1314, 0xFFFFFFFFu, 0x80000002u};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		SetLastError(codes[i]);
		errno = ERRNO_CANARY;
		cr_assert_eq(GetLastError(), codes[i]);
		cr_assert_eq(errno, ERRNO_CANARY, "GetLastError() changed errno to %d", errno);
		/* Reading it does not reset it. */
		cr_assert_eq(GetLastError(), codes[i]);
	}
}

/* errno must not leak into the last error: only the library's own failures set it. */
Test(errors, errno_alone_is_not_the_last_error)
{
	SetLastError(LE_CANARY);
	errno = EINVAL;
	cr_assert_eq(GetLastError(), LE_CANARY);
}

static void *thread_last_error(void *arg)
{
	DWORD *seen = arg;
	HANDLE bogus = bogus_handle(0x4321);

	seen[0] = GetLastError(); /* a new thread starts with 0 */
	errno = ERRNO_CANARY;
	seen[1] = CloseHandle(bogus);
	seen[2] = errno;
	seen[3] = GetLastError();
	return NULL;
}

Test(errors, last_error_is_per_thread)
{
	DWORD seen[4] = {99, 99, 99, 99};
	pthread_t t;

	SetLastError(LE_CANARY);
	cr_assert_eq(pthread_create(&t, NULL, thread_last_error, seen), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(seen[0], 0, "a new thread's last error is %u", seen[0]);
	cr_assert_eq(seen[1], FALSE);
	cr_assert_eq(seen[2], ERROR_INVALID_HANDLE);
	cr_assert_eq(seen[3], ERROR_INVALID_HANDLE);
	cr_assert_eq(GetLastError(), LE_CANARY, "another thread's failure changed this thread's");
}

/* One failure of each kind: the code lands in both the last error and errno. */
Test(errors, failures_set_last_error_and_errno)
{
	ULONG_PTR n = 1, a[1];
	MEMORY_BASIC_INFORMATION m;
	LUID luid;

	W32_FAIL(CloseHandle(NULL), ERROR_INVALID_HANDLE);
	W32_FAIL(OpenProcess(PROCESS_ALL_ACCESS, FALSE, 0), ERROR_INVALID_PARAMETER);
	W32_FAIL(LookupPrivilegeValueA(NULL, "SeNoSuchPrivilege", &luid), ERROR_NO_SUCH_PRIVILEGE);
	W32_FAIL(LookupPrivilegeValueA("host", SE_LOCK_MEMORY_NAME_A, &luid), ERROR_NOT_SUPPORTED);
	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(VirtualAlloc(NULL, 0, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualQuery(&m, &m, sizeof(m) - 1), ERROR_BAD_LENGTH);
	W32_FAIL(VirtualFree(free_range(1), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_WRITE_WATCH, PAGE_READWRITE),
		 ERROR_NOT_SUPPORTED);
}

/*
 * After a failure, successful calls of every family leave its code in both
 * places: a program reads GetLastError() only after a failure, and .NET's
 * SetLastError=true marshalling reads errno after every call.
 */
Test(errors, success_leaves_both_untouched)
{
	ULONG_PTR zero = 0, one = 1, pfn[1];
	MEMORY_BASIC_INFORMATION m;
	SYSTEM_INFO si;
	DWORD old;
	HANDLE h, tok;
	LUID luid;
	char *r, *v;
	void *p;

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &zero, NULL));
	W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &one, pfn));
	r = W32_OK(VirtualAlloc(NULL, 4 * pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));
	W32_OK(MapUserPhysicalPages(r, 1, pfn));
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){r}, 1, NULL));
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){r + pg()}, 1, pfn));
	W32_OK(VirtualProtect(r, pg(), PAGE_READONLY, &old));
	W32_OK(VirtualQuery(r, &m, sizeof(m)));
	W32_OK(MapUserPhysicalPages(r, 4, NULL));
	W32_OK(FreeUserPhysicalPages(GetCurrentProcess(), &one, pfn));
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	v = W32_OK(VirtualAlloc(NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
	W32_OK(VirtualProtect(v, pg(), PAGE_READONLY, &old));
	W32_OK(VirtualQuery(v, &m, sizeof(m)));
	W32_OK(VirtualFree(v, 0, MEM_RELEASE));
	/* A free address is described, not an error, even if the library's
	 * own probing fails internally. */
	W32_OK(VirtualQuery(free_range(4), &m, sizeof(m)));
	h = W32_OK(OpenProcess(PROCESS_ALL_ACCESS, FALSE, GetCurrentProcessId()));
	W32_OK(OpenProcessToken(h, TOKEN_QUERY, &tok));
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(h));
	W32_OK(CloseHandle(GetCurrentProcess()));
	W32_OK(LookupPrivilegeValueA(NULL, SE_LOCK_MEMORY_NAME_A, &luid));
	p = W32_OK(HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 100));
	p = W32_OK(HeapReAlloc(GetProcessHeap(), 0, p, 200));
	W32_OK(HeapFree(GetProcessHeap(), 0, p));
	W32_OK(GetNumaHighestNodeNumber(&(ULONG){0}));
	W32_OK(GetLargePageMinimum());
	W32_OK(GetCurrentProcessId());

	/* The void ones. */
	SetLastError(LE_CANARY);
	errno = ERRNO_CANARY;
	GetSystemInfo(&si);
	GetNativeSystemInfo(&si);
	(void)GetCurrentProcess();
	(void)GetProcessHeap();
	cr_assert_eq(errno, ERRNO_CANARY);
	cr_assert_eq(GetLastError(), LE_CANARY);
}

/* The one exception: AdjustTokenPrivileges() always reports 0 or 1300. */
Test(errors, adjust_token_privileges_sets_last_error_on_success)
{
	HANDLE tok = open_token(TOKEN_ADJUST_PRIVILEGES);
	TOKEN_PRIVILEGES tp = {1, {{lock_luid(), SE_PRIVILEGE_ENABLED}}};
	TOKEN_PRIVILEGES debug = {1, {{{20, 0}, SE_PRIVILEGE_ENABLED}}};

	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL), ERROR_SUCCESS);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &debug, 0, NULL, NULL),
		     ERROR_NOT_ALL_ASSIGNED);
	W32_ADJUSTED(AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL), ERROR_SUCCESS);
}

/*
 * Bad pointers cannot be probed on Linux: NULL where the spec probes a
 * pointer, and a misaligned PULONG_PTR array, give ERROR_NOACCESS.
 */
Test(errors, bad_pointers_are_noaccess)
{
	ULONG_PTR n = 1, buf[3] = {0};
	PULONG_PTR pfn = pfns_new(1);
	char *r = region_new(2);
	MEMORY_BASIC_INFORMATION m;

	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), NULL, buf), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, NULL), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, misaligned(buf)),
		 ERROR_NOACCESS);
	cr_assert_eq(n, 1);
	W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), NULL, pfn), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPages(r, 1, misaligned(buf)), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPagesScatter(NULL, 1, pfn), ERROR_NOACCESS);
	W32_FAIL(VirtualProtect(r, pg(), PAGE_READONLY, NULL), ERROR_NOACCESS);
	W32_FAIL(VirtualQuery(r, NULL, sizeof(m)), ERROR_NOACCESS);
	W32_FAIL(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, NULL), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueA(NULL, NULL, &(LUID){0}), ERROR_NOACCESS);
	W32_FAIL(LookupPrivilegeValueA(NULL, SE_LOCK_MEMORY_NAME_A, NULL), ERROR_NOACCESS);
	/* Nothing moved. */
	assert_unmapped(r);
	assert_parked(pfn[0]);
	free(pfn);
}

/*
 * Pointers that cannot be user memory (page 0, the kernel's half, an array
 * running off the end of the address space): ERROR_NOACCESS, as Windows'
 * probes answer, instead of a crash, and nothing changes.
 */
static void unreadable(void *bad, PULONG_PTR pfn, char *r)
{
	ULONG_PTR n = 1, cnt;
	PVOID va = r;
	MEMORY_BASIC_INFORMATION m;
	MEM_EXTENDED_PARAMETER *ep = bad;

	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), bad, pfn), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(GetCurrentProcess(), &n, bad), ERROR_NOACCESS);
	cr_assert_eq(n, 1);
	W32_FAIL(AllocateUserPhysicalPages2(GetCurrentProcess(), &n, pfn, ep, 1), ERROR_NOACCESS);
	W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), bad, pfn), ERROR_NOACCESS);
	cnt = 1;
	W32_FAIL(FreeUserPhysicalPages(GetCurrentProcess(), &cnt, bad), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPages(r, 1, bad), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPagesScatter(bad, 1, pfn), ERROR_NOACCESS);
	W32_FAIL(MapUserPhysicalPagesScatter(&va, 1, bad), ERROR_NOACCESS);
	W32_FAIL(VirtualProtect(r, pg(), PAGE_READONLY, bad), ERROR_NOACCESS);
	W32_FAIL(VirtualQuery(r, bad, sizeof(m)), ERROR_NOACCESS);
}

Test(errors, unreadable_pointers_are_noaccess)
{
	PULONG_PTR pfn = pfns_new(1);
	char *r = region_new(2);

	unreadable((void *)(uintptr_t)16, pfn, r);
	unreadable((void *)(uintptr_t)0xffff800000001000ull, pfn, r);
	/* An array whose end wraps around. */
	W32_FAIL(MapUserPhysicalPagesScatter((PVOID *)(uintptr_t)(UINTPTR_MAX - 4095), 1000, pfn),
		 ERROR_NOACCESS);
	assert_unmapped(r);
	assert_parked(pfn[0]);
	free(pfn);
}

/* The native error mapping of map-like calls: 87, 487, and 487 for a frame in use. */
Test(errors, native_errors_map_to_win32_codes)
{
	PULONG_PTR pfn = pfns_new(2);
	char *r = region_new(2);

	W32_FAIL(MapUserPhysicalPages(r + pg(), 2, pfn), ERROR_INVALID_PARAMETER); /* range */
	W32_FAIL(MapUserPhysicalPages(r, 1, &(ULONG_PTR){BOGUS_PFN}), ERROR_INVALID_ADDRESS);
	map_ok(r, 1, pfn);
	W32_FAIL(MapUserPhysicalPages(r + pg(), 1, pfn), ERROR_INVALID_ADDRESS); /* in use */
	W32_FAIL(MapUserPhysicalPages(r, 2, (ULONG_PTR[]){pfn[1], pfn[1]}), ERROR_INVALID_ADDRESS);
	assert_mapped(r, pfn[0]);
	assert_unmapped(r + pg());
	free(pfn);
}
