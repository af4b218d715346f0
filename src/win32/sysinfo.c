/* SPDX-License-Identifier: MIT */
/*
 * System information and the process heap.
 */
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfacts.h"
#include "w32.h"

/* Not a handle of handle.c's table, nor NULL or INVALID_HANDLE_VALUE. */
#define PROCESS_HEAP ((HANDLE)(uintptr_t)0x50000)

/* Parse a sysfs list such as "0-3,8,10-11" into a mask of its first 64
 * members; the highest member, or -1 when unreadable. */
static long read_list(const char *path, uint64_t *mask)
{
	char buf[4096], *s = buf;
	long hi = -1;

	if (awe__read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	*mask = 0;
	while (*s >= '0' && *s <= '9') {
		long a = strtol(s, &s, 10), b = a;

		if (*s == '-')
			b = strtol(s + 1, &s, 10);
		for (long i = a; i <= b && i < 64; i++)
			*mask |= UINT64_C(1) << i;
		if (b > hi)
			hi = b;
		if (*s == ',')
			s++;
	}
	return hi;
}

/* The number after "@key<blanks>:" on the first such line of @path
 * (/proc/meminfo, /proc/cpuinfo, whose first processor's fields come before
 * its long flags line); false when there is none. Raw reads (sysfacts.h):
 * no cancellation point, errno alone. */
static bool read_field(const char *path, const char *key, unsigned long *val)
{
	char buf[8192];
	size_t klen = strlen(key);

	if (awe__read_file(path, buf, sizeof(buf)) < 0)
		return false;
	for (char *line = buf; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char *s = line + klen;

		if (strncmp(line, key, klen) != 0)
			continue;
		s += strspn(s, " \t");
		if (*s == ':' && sscanf(s + 1, "%lu", val) == 1)
			return true;
	}
	return false;
}

static WORD cpu_level, cpu_revision;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void read_cpu_ident(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned long family, model, stepping;

	if (read_field("/proc/cpuinfo", "cpu family", &family) &&
	    read_field("/proc/cpuinfo", "model", &model) &&
	    read_field("/proc/cpuinfo", "stepping", &stepping)) {
		cpu_level = (WORD)family;
		cpu_revision = (WORD)((model & 0xFF) << 8 | (stepping & 0xFF));
	}
#endif
}

static SYSTEM_INFO system_info(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t mask = 0;

	pthread_once(&cpu_once, read_cpu_ident);
	if (n < 1)
		n = 1;
	if (read_list("/sys/devices/system/cpu/online", &mask) < 0 || !mask)
		mask = n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
	/* dwPageSize is the page of MapUserPhysicalPages' counts, libawe's.
	 * Not awe_probe()'s page_size, the same number: the probe may fail
	 * (-EDEADLK) and starts an engine, and this never fails. */
	return (SYSTEM_INFO)
	{
#if defined(__x86_64__)
		.wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64,
		.dwProcessorType = PROCESSOR_AMD_X8664,
#elif defined(__aarch64__)
		.wProcessorArchitecture = PROCESSOR_ARCHITECTURE_ARM64,
#else
		.wProcessorArchitecture = PROCESSOR_ARCHITECTURE_UNKNOWN,
#endif
		.dwPageSize = (DWORD)awe_page_size(),
		.lpMinimumApplicationAddress = (LPVOID)(uintptr_t)0x10000,
		.lpMaximumApplicationAddress = (LPVOID)(uintptr_t)0x7FFFFFFEFFFF,
		.dwActiveProcessorMask = (DWORD_PTR)mask, .dwNumberOfProcessors = (DWORD)n,
		.dwAllocationGranularity = W32__GRANULARITY, .wProcessorLevel = cpu_level,
		.wProcessorRevision = cpu_revision,
	};
}

void GetSystemInfo(LPSYSTEM_INFO lpSystemInfo)
{
	/* sysconf() and sscanf() may set errno, and this never fails. */
	if (lpSystemInfo)
		*lpSystemInfo = W32__KEEP_ERRNO(system_info());
}

void GetNativeSystemInfo(LPSYSTEM_INFO lpSystemInfo)
{
	GetSystemInfo(lpSystemInfo);
}

/* The unit of large-page AWE: libawe's large frame, 0 when the kernel has
 * no huge pages at all (as Windows returns 0 without large-page support). */
SIZE_T GetLargePageMinimum(void)
{
	return W32__KEEP_ERRNO(awe_large_page_size());
}

/* Highest online node, 0 when the kernel has no NUMA support. */
static DWORD highest_node(void)
{
	uint64_t mask;
	long hi = read_list("/sys/devices/system/node/online", &mask);

	return hi > 0 ? (DWORD)hi : 0;
}

BOOL GetNumaHighestNodeNumber(PULONG HighestNodeNumber)
{
	if (!HighestNodeNumber)
		return w32__fail(ERROR_NOACCESS);
	*HighestNodeNumber = highest_node();
	return TRUE;
}

/* Node numbers are dense on Windows; a hole in Linux's set still counts, so
 * that every online node is a valid number. */
DWORD w32__numa_nodes(void)
{
	return highest_node() + 1;
}

/* ---- The process heap: malloc, with the size in front of each block
 * for HeapReAlloc's HEAP_ZERO_MEMORY. ------------------------------------------ */

struct block {
	_Alignas(16) size_t size; /* keeps malloc's 16-byte alignment */
};

static struct block *block_of(void *p)
{
	return (struct block *)p - 1;
}

HANDLE GetProcessHeap(void)
{
	return PROCESS_HEAP;
}

LPVOID HeapAlloc(HANDLE hHeap, DWORD dwFlags, SIZE_T dwBytes)
{
	struct block *b;

	if (hHeap != PROCESS_HEAP)
		return w32__fail_ptr(ERROR_INVALID_HANDLE);
	if (dwBytes > SIZE_MAX - sizeof(*b))
		return w32__fail_ptr(ERROR_NOT_ENOUGH_MEMORY);
	/* malloc() may set errno even when it succeeds. */
	b = W32__KEEP_ERRNO(dwFlags & HEAP_ZERO_MEMORY ? calloc(1, sizeof(*b) + dwBytes)
						       : malloc(sizeof(*b) + dwBytes));
	if (!b)
		return w32__fail_ptr(ERROR_NOT_ENOUGH_MEMORY);
	b->size = dwBytes;
	return b + 1;
}

LPVOID HeapReAlloc(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem, SIZE_T dwBytes)
{
	struct block *b;
	size_t old;

	if (hHeap != PROCESS_HEAP)
		return w32__fail_ptr(ERROR_INVALID_HANDLE);
	if (!lpMem)
		return w32__fail_ptr(ERROR_INVALID_PARAMETER);
	b = block_of(lpMem);
	old = b->size;
	if (dwBytes > SIZE_MAX - sizeof(*b))
		return w32__fail_ptr(ERROR_NOT_ENOUGH_MEMORY);
	if (dwFlags & HEAP_REALLOC_IN_PLACE_ONLY) {
		if (sizeof(*b) + dwBytes > malloc_usable_size(b))
			return w32__fail_ptr(ERROR_NOT_ENOUGH_MEMORY);
	} else {
		b = W32__KEEP_ERRNO(realloc(b, sizeof(*b) + dwBytes));
		if (!b)
			return w32__fail_ptr(ERROR_NOT_ENOUGH_MEMORY);
	}
	if (dwFlags & HEAP_ZERO_MEMORY && dwBytes > old)
		memset((char *)(b + 1) + old, 0, dwBytes - old);
	b->size = dwBytes;
	return b + 1;
}

BOOL HeapFree(HANDLE hHeap, DWORD dwFlags, LPVOID lpMem)
{
	(void)dwFlags;
	/* Windows returns before it looks at the heap. */
	if (!lpMem)
		return TRUE;
	if (hHeap != PROCESS_HEAP)
		return w32__fail(ERROR_INVALID_HANDLE);
	free(block_of(lpMem));
	return TRUE;
}
