/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libawe-win32 conformance suite, on top of the native
 * suite's helpers.h (probes, slot checks, children, patterns). A PFN of the
 * Win32 layer is a libawe frame number and an AWE region a libawe window,
 * so the native helpers (assert_slot, snap_slots, frame_where...) check the
 * state behind the Win32 calls.
 */
#ifndef AWE_W32_TEST_HELPERS_H
#define AWE_W32_TEST_HELPERS_H

#include "../helpers.h"

#include <stddef.h>

#include <awe/win32.h>

/*
 * The suite checks the defaults; the tests of the switches set them
 * themselves (in a suite's .init or in a child), after this has run.
 */
__attribute__((constructor)) static void w32_default_environment(void)
{
	unsetenv("LIBAWE_WIN32_ERRORS");
	unsetenv("LIBAWE_WIN32_LOCK_PRIVILEGE");
}

/* A last-error value no call of the library ever sets: proves "untouched". */
#define LE_CANARY 0xC0DEu

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GRANULARITY ((uintptr_t)0x10000)

/* The user address space Windows reports, and what lies beyond it. */
#define USER_MAX ((uintptr_t)0x7FFFFFFEFFFF)
#define BEYOND_USER ((void *)(uintptr_t)0x800000000000)

/* A value far from any PFN the library hands out. */
#define BOGUS_PFN ((ULONG_PTR)0x7ead0000beefull)

/* Bytes of a TOKEN_PRIVILEGES holding @n entries. */
#define TP_SIZE(n)                                                                                 \
	((DWORD)(offsetof(TOKEN_PRIVILEGES, Privileges) + (n) * sizeof(LUID_AND_ATTRIBUTES)))

/* What a call left behind: its result, the last error and errno. */
struct w32_res {
	unsigned long long r;
	DWORD le;
	int e;
};

/*
 * Calls @call with both the last error and errno set to canaries, and
 * records what it returned and left in them (errno read first, so that a
 * GetLastError() that touched errno would show).
 */
#define W32_CALL(call)                                                                             \
	({                                                                                         \
		struct w32_res x_;                                                                 \
		SetLastError(LE_CANARY);                                                           \
		errno = ERRNO_CANARY;                                                              \
		__typeof__(call) r_ = (call);                                                      \
		x_.e = errno;                                                                      \
		x_.le = GetLastError();                                                            \
		x_.r = (unsigned long long)(uintptr_t)r_;                                          \
		x_;                                                                                \
	})

#define W32_IS_BOOL(call) __builtin_types_compatible_p(__typeof__(call), BOOL)

/*
 * @call must succeed (TRUE for a BOOL, else non-NULL / non-zero) and leave
 * the last error and errno alone; yields its result.
 */
#define W32_OK(call)                                                                               \
	({                                                                                         \
		struct w32_res x_ = W32_CALL(call);                                                \
		cr_assert(W32_IS_BOOL(call) ? x_.r == TRUE : x_.r != 0,                            \
			  "%s failed: returned %#llx, last error %u, errno %d", #call, x_.r,       \
			  x_.le, x_.e);                                                            \
		cr_assert_eq(x_.le, LE_CANARY, "%s succeeded but set the last error to %u", #call, \
			     x_.le);                                                               \
		cr_assert_eq(x_.e, ERRNO_CANARY, "%s succeeded but set errno to %d", #call, x_.e); \
		(__typeof__(call))(uintptr_t)x_.r;                                                 \
	})

/* @call must fail (FALSE / NULL / 0) with last error and errno == @code. */
#define W32_FAIL(call, code)                                                                       \
	do {                                                                                       \
		struct w32_res x_ = W32_CALL(call);                                                \
		cr_assert_eq(x_.r, 0, "%s returned %#llx, expected failure with %s", #call, x_.r,  \
			     #code);                                                               \
		cr_assert_eq(x_.le, (DWORD)(code), "%s: last error %u, expected %s (%u)", #call,   \
			     x_.le, #code, (DWORD)(code));                                         \
		cr_assert_eq(x_.e, (int)(code), "%s: errno %d, expected %s (%u)", #call, x_.e,     \
			     #code, (DWORD)(code));                                                \
	} while (0)

/* The AdjustTokenPrivileges() exception: TRUE, and last error = errno = @code. */
#define W32_ADJUSTED(call, code)                                                                   \
	do {                                                                                       \
		struct w32_res x_ = W32_CALL(call);                                                \
		cr_assert_eq(x_.r, TRUE, "%s returned %#llx (last error %u), expected TRUE",       \
			     #call, x_.r, x_.le);                                                  \
		cr_assert_eq(x_.le, (DWORD)(code), "%s: last error %u, expected %s", #call, x_.le, \
			     #code);                                                               \
		cr_assert_eq(x_.e, (int)(code), "%s: errno %d, expected %s", #call, x_.e, #code);  \
	} while (0)

/* The same checks for forked children, which report through their exit status. */
#define CHILD_W32_OK(call)                                                                         \
	({                                                                                         \
		struct w32_res x_ = W32_CALL(call);                                                \
		CHILD_CHECK((W32_IS_BOOL(call) ? x_.r == TRUE : x_.r != 0) &&                      \
				    x_.le == LE_CANARY && x_.e == ERRNO_CANARY,                    \
			    "%s returned %#llx, last error %u, errno %d; expected success", #call, \
			    x_.r, x_.le, x_.e);                                                    \
		(__typeof__(call))(uintptr_t)x_.r;                                                 \
	})

#define CHILD_W32_FAIL(call, code)                                                                 \
	do {                                                                                       \
		struct w32_res x_ = W32_CALL(call);                                                \
		CHILD_CHECK(                                                                       \
			x_.r == 0 && x_.le == (DWORD)(code) && x_.e == (int)(code),                \
			"%s returned %#llx, last error %u, errno %d; expected failure with %s",    \
			#call, x_.r, x_.le, x_.e, #code);                                          \
	} while (0)

#define CHILD_W32_ADJUSTED(call, code)                                                             \
	do {                                                                                       \
		struct w32_res x_ = W32_CALL(call);                                                \
		CHILD_CHECK(x_.r == TRUE && x_.le == (DWORD)(code) && x_.e == (int)(code),         \
			    "%s returned %#llx, last error %u, errno %d; expected TRUE and %s",    \
			    #call, x_.r, x_.le, x_.e, #code);                                      \
	} while (0)

static inline LUID lock_luid(void)
{
	return (LUID){.LowPart = SE_LOCK_MEMORY_PRIVILEGE, .HighPart = 0};
}

/*
 * Sets the attributes of SeLockMemoryPrivilege in this process's token the
 * way Windows programs do; returns what AdjustTokenPrivileges() returned
 * and stores the last error it left in *@le. No asserts: children use it.
 */
static inline BOOL set_lock_privilege(DWORD attributes, DWORD *le)
{
	TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};
	HANDLE tok = NULL;
	BOOL ok;

	*le = ERROR_INVALID_FUNCTION;
	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
		return FALSE;
	tp.Privileges[0].Luid = lock_luid();
	tp.Privileges[0].Attributes = attributes;
	ok = AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
	*le = GetLastError();
	CloseHandle(tok);
	return ok;
}

/* Enables SeLockMemoryPrivilege, which the test process must hold. */
static inline void enable_lock_privilege(void)
{
	DWORD le;

	cr_assert_eq(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le), TRUE,
		     "enabling SeLockMemoryPrivilege failed: %u", le);
	cr_assert_eq(le, ERROR_SUCCESS,
		     "SeLockMemoryPrivilege is not held (last error %u): the suite relies on root, "
		     "a large RLIMIT_MEMLOCK or unlocked frames",
		     le);
}

static inline void disable_lock_privilege(void)
{
	DWORD le;

	cr_assert_eq(set_lock_privilege(0, &le), TRUE);
	cr_assert_eq(le, ERROR_SUCCESS);
}

/* An array of @n PFNs filled with a sentinel, to prove it stays untouched. */
#define PFN_SENTINEL ((ULONG_PTR)0xAB5E17AB5E17AB5Eull)

static inline PULONG_PTR pfn_array(size_t n)
{
	PULONG_PTR a = malloc((n ? n : 1) * sizeof(*a));

	cr_assert_not_null(a);
	for (size_t i = 0; i < n; i++)
		a[i] = PFN_SENTINEL;
	return a;
}

static inline bool pfns_untouched(const ULONG_PTR *a, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (a[i] != PFN_SENTINEL)
			return false;
	return true;
}

/* Exactly @n fresh frames (enabling the privilege first); free() the array. */
static inline PULONG_PTR pfns_new(size_t n)
{
	PULONG_PTR a = pfn_array(n);
	ULONG_PTR got = n;

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(GetCurrentProcess(), &got, a));
	cr_assert_eq(got, n, "AllocateUserPhysicalPages(%zu) allocated only %lu", n,
		     (unsigned long)got);
	return a;
}

/* An AWE region of @pages pages reserved with VirtualAlloc(MEM_PHYSICAL). */
static inline char *region_new(size_t pages)
{
	char *r = W32_OK(
		VirtualAlloc(NULL, pages * pg(), MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE));

	cr_assert_eq((uintptr_t)r % GRANULARITY, 0, "AWE region %p is not 64 KiB aligned",
		     (void *)r);
	return r;
}

static inline void map_ok(void *va, size_t n, PULONG_PTR pfns)
{
	W32_OK(MapUserPhysicalPages(va, n, pfns));
}

/* A free, 64 KiB-aligned address range of @bytes (plus a granule of slack). */
static inline char *free_aligned(size_t bytes)
{
	size_t len = bytes + GRANULARITY;
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(munmap(p, len), 0);
	return (char *)(((uintptr_t)p + GRANULARITY - 1) & ~(GRANULARITY - 1));
}

static inline MEMORY_BASIC_INFORMATION mbi_of(const void *addr)
{
	MEMORY_BASIC_INFORMATION m;

	memset(&m, 0xa5, sizeof(m));
	cr_assert_eq(W32_OK(VirtualQuery(addr, &m, sizeof(m))), sizeof(m));
	return m;
}

/* VirtualQuery(@addr) of an AWE region based at @region. */
static inline void assert_awe_mbi(const void *addr, const void *region, DWORD state, DWORD prot,
				  size_t run_pages)
{
	MEMORY_BASIC_INFORMATION m = mbi_of(addr);
	uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(pg() - 1);

	cr_assert_eq(m.BaseAddress, (void *)page, "%p: BaseAddress %p", addr, m.BaseAddress);
	cr_assert_eq(m.AllocationBase, region, "%p: AllocationBase %p, expected %p", addr,
		     m.AllocationBase, region);
	cr_assert_eq(m.AllocationProtect, PAGE_READWRITE, "%p: AllocationProtect %#x", addr,
		     m.AllocationProtect);
	cr_assert_eq(m.Type, MEM_PRIVATE, "%p: Type %#x", addr, m.Type);
	cr_assert_eq(m.State, state, "%p: State %#x, expected %#x", addr, m.State, state);
	cr_assert_eq(m.Protect, prot, "%p: Protect %#x, expected %#x", addr, m.Protect, prot);
	cr_assert_eq(m.RegionSize, run_pages * pg(), "%p: RegionSize %#zx, expected %zu pages",
		     addr, (size_t)m.RegionSize, run_pages);
}

/* Page @addr of an AWE region holds @pfn, readable and writable. */
static inline void assert_mapped(void *addr, ULONG_PTR pfn)
{
	assert_slot(addr, pfn, AWE_PROT_READWRITE);
	assert_no_fault(probe_read(addr), addr, "read");
}

/* Page @addr of an AWE region is empty: native state and a real fault. */
static inline void assert_unmapped(void *addr)
{
	assert_slot(addr, 0, AWE_PROT_NONE);
	assert_read_faults(addr);
}

/*
 * An unknown handle value @v: not a handle of the library's table, and not
 * this process's PID, which names this process (a PID is what .NET Core
 * 2.x's Process.Handle holds on Linux). The suite runs under any PID, so a
 * value that happens to be ours moves on to the next multiple of 4.
 */
static inline HANDLE bogus_handle(uintptr_t v)
{
	return (HANDLE)(v == (uintptr_t)getpid() ? v + 4 : v);
}

static inline HANDLE open_self(DWORD access)
{
	return W32_OK(OpenProcess(access, FALSE, GetCurrentProcessId()));
}

static inline HANDLE open_token(DWORD access)
{
	HANDLE t = NULL;

	W32_OK(OpenProcessToken(GetCurrentProcess(), access, &t));
	cr_assert_not_null(t);
	return t;
}

/*
 * Children that need an RLIMIT_MEMLOCK above the hard limit can only get it
 * with CAP_SYS_RESOURCE, which containers often drop: find out in a
 * throwaway child and skip rather than fail.
 */
static inline void skip_unless_memlock_settable(rlim_t want)
{
	if (!memlock_settable(want))
		cr_skip_test("cannot raise RLIMIT_MEMLOCK to %llu bytes here (no CAP_SYS_RESOURCE)",
			     (unsigned long long)want);
}

/*
 * Runs @fn(@arg) in a child that drops to nobody with RLIMIT_MEMLOCK set to
 * @memlock. Needs root; skipped where the limit cannot be raised that far.
 */
static inline void run_as_nobody(int (*fn)(void *), void *arg, rlim_t memlock)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = memlock};

	skip_unless_root("dropping to nobody needs root");
	skip_unless_memlock_settable(memlock);
	run_in_child(fn, arg, &o);
}

/*
 * A map call fails with @code and the first @pages pages of @region are
 * exactly as they were (frames, protections, contents).
 */
#define MAP_FAILS(call, code, region, pages)                                                       \
	do {                                                                                       \
		struct slot_snap s_[pages];                                                        \
		snap_slots((region), (pages), s_);                                                 \
		W32_FAIL(call, code);                                                              \
		assert_snap_unchanged((region), (pages), s_);                                      \
	} while (0)

/* Number of NUMA nodes the library reports (GetNumaHighestNodeNumber + 1). */
static inline ULONG numa_nodes(void)
{
	ULONG hi = 0xdeadbeef;

	W32_OK(GetNumaHighestNodeNumber(&hi));
	return hi + 1;
}

/* A pointer one byte past @p: misaligned for any PULONG_PTR. */
static inline void *misaligned(void *p)
{
	return (char *)p + 1;
}

/* The call, one reserving an AWE region, fails with @code and no region
 * appears. */
#define REGION_FAILS(call, code)                                                                   \
	do {                                                                                       \
		uint64_t w_ = get_stats().windows;                                                 \
		W32_FAIL(call, code);                                                              \
		cr_assert_eq(get_stats().windows, w_, "%s created a region", #call);               \
	} while (0)

/* An extended parameter of @type carrying @value (ULong64). */
static inline MEM_EXTENDED_PARAMETER ext(DWORD64 type, DWORD64 value)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	p.Type = type;
	p.ULong64 = value;
	return p;
}

#endif /* AWE_W32_TEST_HELPERS_H */
