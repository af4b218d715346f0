/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the AWE section programs (test_w32_section_*.c, §10.3): a
 * section made with CreateFileMapping2() and a
 * MemSectionExtendedParameterUserPhysicalFlags parameter, its PFNs, and
 * VirtualAlloc2() regions tied to it.
 *
 * A section PFN is a libawe frame number and a region tied to it a libawe
 * window of the section, so the native helpers (assert_slot, snap_slots)
 * check the state behind the Win32 calls.
 */
#ifndef AWE_W32_SECTION_HELPERS_H
#define AWE_W32_SECTION_HELPERS_H

#include "w32helpers.h"

#define SELF GetCurrentProcess()
#define PHYS (MEM_RESERVE | MEM_PHYSICAL)
#define RW_ACCESS (SECTION_MAP_READ | SECTION_MAP_WRITE)

static inline MEM_EXTENDED_PARAMETER awe_param(void)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	p.Type = MemSectionExtendedParameterUserPhysicalFlags;
	p.ULong64 = 0;
	return p;
}

/* The documented call, with @access. */
static inline HANDLE create_section(ULONG access)
{
	MEM_EXTENDED_PARAMETER p = awe_param();

	return CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, access, PAGE_READWRITE, SEC_RESERVE,
				  0, NULL, &p, 1);
}

/*
 * A new section: a handle of the table (a multiple of 4 from 0x400000, above
 * every PID), and, as CreateFileMapping() does on Windows, the last error and
 * errno set to 0.
 */
static inline HANDLE section_new(ULONG access)
{
	struct w32_res x = W32_CALL(create_section(access));
	uintptr_t h = (uintptr_t)x.r;

	cr_assert_neq(h, 0, "CreateFileMapping2 failed: last error %u", x.le);
	cr_assert(h >= 0x400000 && h % 4 == 0, "section handle %#lx", (unsigned long)h);
	cr_assert_eq(x.le, ERROR_SUCCESS, "last error %u after a new section", x.le);
	cr_assert_eq(x.e, 0, "errno %d after a new section", x.e);
	return (HANDLE)h;
}

static inline HANDLE section_rw(void)
{
	return section_new(RW_ACCESS);
}

/* A region of @pages pages tied to section @s, through VirtualAlloc2(). */
static inline void *va2_section(HANDLE s, void *base, size_t size)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	return VirtualAlloc2(SELF, base, size, PHYS, PAGE_READWRITE, &p, 1);
}

static inline char *section_region(HANDLE s, size_t pages)
{
	char *r = W32_OK(va2_section(s, NULL, pages * pg()));

	cr_assert_eq((uintptr_t)r % GRANULARITY, 0, "region %p is not 64 KiB aligned", (void *)r);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, pages);
	return r;
}

/* Exactly @n PFNs of section @s (the privilege enabled first); free() it. */
static inline PULONG_PTR section_pfns(HANDLE s, size_t n)
{
	PULONG_PTR a = pfn_array(n + 1);
	ULONG_PTR got = n;

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(s, &got, a));
	cr_assert_eq(got, n, "allocated %lu of %zu section pages", (unsigned long)got, n);
	cr_assert(pfns_untouched(a, n, n + 1), "wrote past the pages allocated");
	return a;
}

/*
 * Sections always use the memfd engine (awe.h), whatever the default one:
 * a refused access to a section's region is its SIGSEGV (see helpers.h's
 * fault_signal()).
 */
static inline void assert_section_fault(struct fault f, void *addr, const char *what)
{
	cr_assert_eq(f.sig, SIGSEGV, "%s at %p: got signal %d (%s), expected SIGSEGV", what, addr,
		     f.sig, f.sig ? strsignal(f.sig) : "no fault");
	cr_assert_eq(f.addr, addr, "%s: si_addr %p, expected %p", what, f.addr, addr);
}

/* Page @addr of a section's region is empty: native state and a real fault. */
static inline void assert_section_unmapped(void *addr)
{
	assert_slot(addr, 0, AWE_PROT_NONE);
	assert_section_fault(probe_read(addr), addr, "read");
}

static inline uint64_t frames_now(void)
{
	return get_stats().frames_allocated;
}

#endif /* AWE_W32_SECTION_HELPERS_H */
