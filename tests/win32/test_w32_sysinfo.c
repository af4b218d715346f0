/* SPDX-License-Identifier: MIT */
/* §4: GetSystemInfo, GetLargePageMinimum, NUMA nodes and the process heap. */
#include "w32helpers.h"

static SYSTEM_INFO sysinfo(void (*fn)(LPSYSTEM_INFO))
{
	SYSTEM_INFO si;

	memset(&si, 0xa5, sizeof(si));
	SetLastError(LE_CANARY);
	errno = ERRNO_CANARY;
	fn(&si);
	cr_assert_eq(errno, ERRNO_CANARY);
	cr_assert_eq(GetLastError(), LE_CANARY);
	return si;
}

static void assert_system_info(const SYSTEM_INFO *si)
{
	cr_assert_eq(si->dwPageSize, (DWORD)sysconf(_SC_PAGESIZE));
	cr_assert_eq(si->dwPageSize, awe_page_size(), "the AWE unit is the page size");
	cr_assert_eq(si->dwAllocationGranularity, 65536);
	cr_assert_eq(si->lpMinimumApplicationAddress, (void *)0x10000);
	cr_assert_eq(si->lpMaximumApplicationAddress, (void *)USER_MAX);
#if defined(__x86_64__)
	cr_assert_eq(si->wProcessorArchitecture, PROCESSOR_ARCHITECTURE_AMD64);
#elif defined(__aarch64__)
	cr_assert_eq(si->wProcessorArchitecture, PROCESSOR_ARCHITECTURE_ARM64);
#endif
	cr_assert_eq(si->dwNumberOfProcessors, (DWORD)sysconf(_SC_NPROCESSORS_ONLN));
	cr_assert_neq(si->dwActiveProcessorMask, 0);
}

Test(sysinfo, get_system_info)
{
	SYSTEM_INFO si = sysinfo(GetSystemInfo);

	assert_system_info(&si);
	/* The AWE Example's arithmetic: 1 MiB is 256 pages, a 2 KiB PFN array. */
	if (si.dwPageSize == 4096)
		cr_assert_eq((1 << 20) / si.dwPageSize * sizeof(ULONG_PTR), 2048);
}

Test(sysinfo, native_system_info_is_the_same)
{
	SYSTEM_INFO a = sysinfo(GetSystemInfo), b = sysinfo(GetNativeSystemInfo);

	assert_system_info(&b);
	cr_assert_eq(a.dwOemId, b.dwOemId);
	cr_assert_eq(a.dwProcessorType, b.dwProcessorType);
	cr_assert_eq(a.wProcessorLevel, b.wProcessorLevel);
	cr_assert_eq(a.wProcessorRevision, b.wProcessorRevision);
	cr_assert_eq(a.dwActiveProcessorMask, b.dwActiveProcessorMask);
}

/* The PMD huge page size: what large-page AWE counts in, libawe's large
 * frame. */
Test(sysinfo, large_page_minimum)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	unsigned long long pmd = 0;
	SIZE_T lp = W32_OK(GetLargePageMinimum());

	cr_assert_eq(lp, awe_large_page_size());

	if (f) {
		cr_assert_eq(fscanf(f, "%llu", &pmd), 1);
		fclose(f);
		cr_assert_eq(lp, pmd);
	}
#if defined(__x86_64__)
	cr_assert_eq(lp, 2 * MiB);
#endif
	cr_assert_eq(lp & (lp - 1), 0, "%zu is not a power of two", (size_t)lp);
}

/* The highest node of /sys/devices/system/node/online ("0", "0-3", "0,2"). */
static ULONG sys_highest_node(void)
{
	FILE *f = fopen("/sys/devices/system/node/online", "r");
	char buf[256] = "0", *p;
	ULONG hi = 0;

	if (!f)
		return 0; /* a kernel without NUMA: one node */
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	for (p = buf; *p; p++)
		if (*p >= '0' && *p <= '9' && (p == buf || p[-1] < '0' || p[-1] > '9'))
			hi = strtoul(p, NULL, 10);
	return hi;
}

Test(sysinfo, numa_highest_node_number)
{
	ULONG hi = 0xdeadbeef;

	W32_OK(GetNumaHighestNodeNumber(&hi));
	cr_assert_eq(hi, sys_highest_node());
}

Test(sysinfo, process_heap)
{
	HANDLE heap = GetProcessHeap();
	unsigned char *p;

	cr_assert_not_null(heap);
	cr_assert_eq(GetProcessHeap(), heap, "always the same heap");
	p = W32_OK(HeapAlloc(heap, 0, 3000));
	memset(p, 0x5a, 3000);
	p = W32_OK(HeapReAlloc(heap, 0, p, 100000));
	for (size_t i = 0; i < 3000; i++)
		cr_assert_eq(p[i], 0x5a, "HeapReAlloc lost byte %zu", i);
	p = W32_OK(HeapReAlloc(heap, 0, p, 10));
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(p[i], 0x5a);
	W32_OK(HeapFree(heap, 0, p));
	/* A zero-byte block is still a block, as on Windows. */
	p = W32_OK(HeapAlloc(heap, 0, 0));
	W32_OK(HeapFree(heap, 0, p));
}

/* Dirty blocks go back to malloc first, so that zero really was written. */
Test(sysinfo, heap_zero_memory)
{
	HANDLE heap = GetProcessHeap();
	enum { N = 16, SZ = 4000, BIG = 64000 };
	unsigned char *p[N];

	for (int i = 0; i < N; i++) {
		p[i] = W32_OK(HeapAlloc(heap, 0, SZ));
		memset(p[i], 0xee, SZ);
	}
	for (int i = 0; i < N; i++)
		W32_OK(HeapFree(heap, 0, p[i]));
	for (int i = 0; i < N; i++) {
		p[i] = W32_OK(HeapAlloc(heap, HEAP_ZERO_MEMORY, SZ));
		for (int j = 0; j < SZ; j++)
			cr_assert_eq(p[i][j], 0, "HeapAlloc(HEAP_ZERO_MEMORY): byte %d is %#x", j,
				     p[i][j]);
		memset(p[i], 0x11, SZ);
	}
	/* HeapReAlloc zeroes the part it adds, and keeps the rest. */
	p[0] = W32_OK(HeapReAlloc(heap, HEAP_ZERO_MEMORY, p[0], BIG));
	for (int j = 0; j < BIG; j++)
		cr_assert_eq(p[0][j], j < SZ ? 0x11 : 0,
			     "HeapReAlloc(HEAP_ZERO_MEMORY): byte %d is %#x", j, p[0][j]);
	for (int i = 0; i < N; i++)
		W32_OK(HeapFree(heap, 0, p[i]));
}

Test(sysinfo, other_heap_handles_are_invalid)
{
	HANDLE heap = GetProcessHeap();
	HANDLE others[] = {NULL, (HANDLE)(uintptr_t)0x1234, GetCurrentProcess(),
			   (HANDLE)((char *)heap + 8)};
	void *p = W32_OK(HeapAlloc(heap, 0, 64));

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		W32_FAIL(HeapAlloc(others[i], 0, 64), ERROR_INVALID_HANDLE);
		W32_FAIL(HeapReAlloc(others[i], 0, p, 128), ERROR_INVALID_HANDLE);
		W32_FAIL(HeapFree(others[i], 0, p), ERROR_INVALID_HANDLE);
	}
	/* The block is still ours. */
	memset(p, 1, 64);
	W32_OK(HeapFree(heap, 0, p));
}
