/* SPDX-License-Identifier: MIT */
/*
 * The four AWE services: argument checks in Windows' order, then one call
 * into libawe. A PFN is an awe_frame_t; the checks the kernel makes with
 * ProbeForRead/Write become NULL and alignment checks, all Linux allows.
 * Allocate and Free take the process or an AWE section (section.c); the map
 * calls need no handle, libawe knows which frames a region may show.
 *
 * Large pages: a large frame's PFN is its awe_frame_t, AWE_FRAME_LARGE set,
 * one per 2 MiB page, and counts are in large pages wherever large frames
 * or a region of large slots (views.c) are concerned, as libawe counts.
 * libawe's failure is always the service's, told by its return value, and
 * its success leaves errno alone, as the services' must: nothing here has
 * to keep errno.
 */
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#include "w32.h"

_Static_assert(sizeof(ULONG_PTR) == sizeof(awe_frame_t), "a PFN must hold a frame number");

#define WIN10_MAX_PAGES 0xFFFFFFFFFFFFFull /* Win10's limit on a map count */

/* Windows creates the process's AWE info on the first MEM_PHYSICAL reserve
 * or allocation, and its owned-frame bitmap on the first allocation that
 * gets past the privilege check. Some error codes depend on them. */
static atomic_bool awe_info, frame_bitmap;

void w32__awe_info_created(void)
{
	atomic_store(&awe_info, true);
}

/* A PFN or address array of @n entries, as ProbeForRead/Write checks it:
 * aligned, and all of it user memory. */
static DWORD check_array(const void *a, size_t n)
{
	return (uintptr_t)a % sizeof(ULONG_PTR) || !w32__user_memory(a, n, sizeof(ULONG_PTR))
		       ? ERROR_NOACCESS
		       : 0;
}

static size_t page(void)
{
	return awe_page_size();
}

/* The rights a section handle needs to put pages in or take them out: the
 * ones of a read-write view, which is what the pages are for. */
#define SECTION_PAGES_ACCESS (SECTION_MAP_READ | SECTION_MAP_WRITE)

/* Steps 1-10 of AllocateUserPhysicalPages, after any extended parameters:
 * @node -1 for none, @large for NONPAGED_LARGE. */
static BOOL allocate(HANDLE h, PULONG_PTR n, PULONG_PTR pfns, int node, bool large)
{
	struct w32__section sec;
	DWORD r;
	ssize_t got;

	if (!w32__user_memory(n, 1, sizeof(*n)))
		return w32__fail(ERROR_NOACCESS);
	if (*n == 0)
		return TRUE;
	if (*n > UINTPTR_MAX / sizeof(ULONG_PTR))
		return w32__fail(ERROR_INVALID_PARAMETER);
	r = check_array(pfns, *n);
	if (!r)
		r = w32__awe_object(h, SECTION_PAGES_ACCESS, &sec);
	/* A section's unit is its own: a small section has no large page to
	 * give (libawe's choice; Windows documents only the other way). */
	if (!r && sec.id && large && !sec.large)
		r = ERROR_INVALID_PARAMETER;
	/* Sections too: their pages are locked like the process's. */
	if (!r && !w32__lock_privilege_enabled())
		r = ERROR_PRIVILEGE_NOT_HELD;
	if (r)
		return w32__fail(r);
	atomic_store(&awe_info, true);
	atomic_store(&frame_bitmap, true);
	if (sec.id) {
		/* The node asked for, else the section's own (a preference, as
		 * on Windows). -ENOENT: another thread closed the handle since
		 * it was checked. */
		large = sec.large;
		got = awe_section_alloc_node(sec.id, (awe_frame_t *)pfns, *n,
					     node >= 0 ? node : sec.node);
		if (got == -ENOENT)
			return w32__fail(ERROR_INVALID_HANDLE);
	} else {
		got = awe_alloc_ex((awe_frame_t *)pfns, *n, node, large ? AWE_ALLOC_LARGE : 0);
	}
	/* No huge page to be had on this system at all is, to a Windows
	 * program, large pages running out: 1450, as when none is free now. */
	if (got == -EOPNOTSUPP && large)
		return w32__fail(ERROR_NO_SYSTEM_RESOURCES);
	if (got < 0)
		return w32__fail(w32__map_error((int)got));
	*n = (ULONG_PTR)got;
	return TRUE;
}

BOOL AllocateUserPhysicalPages(HANDLE hProcess, PULONG_PTR NumberOfPages, PULONG_PTR PageArray)
{
	return allocate(hProcess, NumberOfPages, PageArray, -1, false);
}

BOOL AllocateUserPhysicalPagesNuma(HANDLE hProcess, PULONG_PTR NumberOfPages, PULONG_PTR PageArray,
				   DWORD nndPreferred)
{
	if (nndPreferred >= w32__numa_nodes())
		return w32__fail(ERROR_INVALID_PARAMETER);
	return allocate(hProcess, NumberOfPages, PageArray, (int)nndPreferred, false);
}

/* What AllocateUserPhysicalPages2's extended parameters ask for. */
struct alloc_params {
	int node;
	bool large;
};

/* One of them, as Windows 10 checks it: only NumaNode and AttributeFlags. */
static DWORD alloc_param(const MEM_EXTENDED_PARAMETER *p, void *ctx)
{
	struct alloc_params *a = ctx;
	unsigned int type = (unsigned int)p->Type;
	DWORD64 v = p->ULong64;

	if (type == MemExtendedParameterNumaNode) {
		/* MANDATORY is accepted and the node stays a preference: Linux
		 * would rather fail a strict binding than fall back, and
		 * Windows' own fallback is not documented either. */
		v &= ~MEM_EXTENDED_PARAMETER_NUMA_NODE_MANDATORY;
		if (v >= 0xFFFFFFFFull || v >= w32__numa_nodes())
			return ERROR_INVALID_PARAMETER;
		a->node = (int)v;
	} else if (type == MemExtendedParameterAttributeFlags) {
		/* The generic capture allows 0x3f|0x200; AWE then only
		 * NONPAGED or NONPAGED_LARGE, not both. */
		DWORD64 awe = MEM_EXTENDED_PARAMETER_NONPAGED |
			      MEM_EXTENDED_PARAMETER_NONPAGED_LARGE;

		if ((v & ~awe) || (v & awe) == awe)
			return ERROR_INVALID_PARAMETER;
		a->large = v & MEM_EXTENDED_PARAMETER_NONPAGED_LARGE;
	} else {
		return ERROR_INVALID_PARAMETER;
	}
	return 0;
}

/* The extended parameters of AllocateUserPhysicalPages2: an array and a
 * count go together, and the array must be user memory. */
static DWORD check_alloc_params(const MEM_EXTENDED_PARAMETER *p, ULONG count,
				struct alloc_params *a)
{
	if (p && !count)
		return ERROR_INVALID_PARAMETER;
	if (p && !w32__user_memory(p, count, sizeof(*p)))
		return ERROR_NOACCESS;
	return w32__ext_params(p, count, MemExtendedParameterMax, alloc_param, a);
}

BOOL AllocateUserPhysicalPages2(HANDLE ObjectHandle, PULONG_PTR NumberOfPages, PULONG_PTR PageArray,
				PMEM_EXTENDED_PARAMETER ExtendedParameters,
				ULONG ExtendedParameterCount)
{
	struct alloc_params a = {-1, false};
	DWORD r = check_alloc_params(ExtendedParameters, ExtendedParameterCount, &a);

	if (r)
		return w32__fail(r);
	return allocate(ObjectHandle, NumberOfPages, PageArray, a.node, a.large);
}

/* libawe frees frames of one size per call, the first entry's (-EINVAL at
 * the first of the other); Windows' process owns both kinds, and frees
 * any mix in one call. So: each run of one size in turn, stopping where
 * libawe stops, with *@freed counting through the runs. */
static int free_runs(awe_section_t sec, const awe_frame_t *f, size_t n, size_t *freed)
{
	size_t done = 0;
	int rc = 0;

	while (done < n && !rc) {
		size_t run = 1, k = 0;

		while (done + run < n && !((f[done + run] ^ f[done]) & AWE_FRAME_LARGE))
			run++;
		rc = sec ? awe_section_free(sec, f + done, run, &k) : awe_free(f + done, run, &k);
		done += k;
	}
	*freed = done;
	return rc;
}

BOOL FreeUserPhysicalPages(HANDLE hProcess, PULONG_PTR NumberOfPages, PULONG_PTR PageArray)
{
	struct w32__section sec;
	size_t freed = 0;
	ULONG_PTR n;
	DWORD r;
	int rc;

	if (!w32__user_memory(NumberOfPages, 1, sizeof(*NumberOfPages)))
		return w32__fail(ERROR_NOACCESS);
	n = *NumberOfPages;
	*NumberOfPages = 0;
	if (n == 0)
		return w32__fail(ERROR_INVALID_PARAMETER);
	r = w32__awe_object(hProcess, SECTION_PAGES_ACCESS, &sec);
	/* A section has its AWE state from the start. */
	if (!r && !sec.id && !atomic_load(w32__wrk() ? &frame_bitmap : &awe_info))
		r = ERROR_INVALID_PARAMETER;
	if (!r)
		r = check_array(PageArray, n);
	if (r)
		return w32__fail(r);
	/* A PFN of another owner (the process's with a section handle, a
	 * section's with the process handle) is not one of the owner's: 487
	 * like any other. */
	rc = free_runs(sec.id, (const awe_frame_t *)PageArray, n, &freed);
	*NumberOfPages = freed;
	/* -ENOENT with nothing freed is also what a section closed by another
	 * thread since the check answers. */
	if (rc == -ENOENT && sec.id && !freed && !w32__section_open(hProcess, sec.id))
		return w32__fail(ERROR_INVALID_HANDLE);
	if (rc)
		return w32__fail(rc == -ENOENT ? ERROR_INVALID_ADDRESS : w32__map_error(rc));
	return TRUE;
}

/* [WRK] refuses map calls of a process that never allocated. */
static bool wrk_no_bitmap(void)
{
	return w32__wrk() && !atomic_load(&frame_bitmap);
}

/* Whether one of @f[0..@n) is a frame of the other size than the slots of
 * a region (@large or not); 0, the scatter call's unmap, is of neither. */
static bool wrong_kind(const ULONG_PTR *f, size_t n, bool large)
{
	for (size_t i = 0; i < n; i++)
		if (f[i] && !(f[i] & AWE_FRAME_LARGE) == large)
			return true;
	return false;
}

/* What the layer knows of the region holding @va (views.c), in *@pi and
 * *@v; false when it is in none or in one of the native API's. */
static bool view_at(const void *va, struct awe_page_info *pi, struct w32__view *v)
{
	return w32__awe_region(va, pi) && w32__view_of(pi, v);
}

/*
 * libawe refuses a frame of the wrong size for a region with -EINVAL, as it
 * refuses a range that leaves the region, while Windows tells the two
 * apart: a PFN the region cannot show is 487, like a PFN of another owner.
 * After such a refusal: whether the range of @n slots at @va was fine and
 * it was the frames @f.
 */
static bool map_refused_kind(uintptr_t va, size_t n, const ULONG_PTR *f)
{
	struct awe_page_info pi;
	struct w32__view v;
	size_t unit, first;

	if (!view_at((void *)va, &pi, &v))
		return false;
	unit = v.large ? awe_large_page_size() : page();
	first = (va - (uintptr_t)pi.window) / unit;
	return n <= pi.window_size / unit - first && wrong_kind(f, n, v.large);
}

/* The same for the scatter call: a count libawe takes, every address in a
 * region of one owner and one slot size (else 87, before any frame is
 * looked at), and a frame of the other size. */
static bool scatter_refused_kind(void *const *vas, size_t n, const ULONG_PTR *f)
{
	struct awe_page_info pi;
	struct w32__view first, v;

	if (n > UINT32_MAX || !view_at(vas[0], &pi, &first))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!view_at(vas[i], &pi, &v) || v.section != first.section ||
		    v.large != first.large)
			return false;
	return wrong_kind(f, n, first.large);
}

/* The slot size of the region holding @va, or 0 when none does. */
static size_t slot_at(const void *va)
{
	struct awe_page_info pi;

	return w32__awe_region(va, &pi) ? w32__slot_size(&pi) : 0;
}

/* A large view's addresses are aligned to its slots, and one scatter call
 * stays within views of one slot size (Windows 10: of one view page size):
 * 87 otherwise. Addresses in no region are libawe's to refuse. */
static DWORD check_large_addrs(void *const *vas, size_t n)
{
	size_t first = 0;

	for (size_t i = 0; w32__large_views() && i < n; i++) {
		size_t unit = slot_at(vas[i]);

		if (!unit)
			continue;
		if ((unit > page() && (uintptr_t)vas[i] % unit) || (first && unit != first))
			return ERROR_INVALID_PARAMETER;
		first = unit;
	}
	return 0;
}

BOOL MapUserPhysicalPages(PVOID VirtualAddress, ULONG_PTR NumberOfPages, PULONG_PTR PageArray)
{
	uintptr_t va = (uintptr_t)VirtualAddress & ~(uintptr_t)(page() - 1);
	size_t unit;
	int rc;

	if (w32__wrk()) {
		if (NumberOfPages > UINTPTR_MAX / page())
			return w32__fail(ERROR_INVALID_PARAMETER);
		/* Server 2003 let a zero count through at address 0 when a
		 * PFN array was given: an empty capture, then success. */
		if (NumberOfPages == 0 && va == 0 && PageArray)
			return TRUE;
	} else if (NumberOfPages - 1 > WIN10_MAX_PAGES - 1) {
		return w32__fail(ERROR_INVALID_PARAMETER); /* includes 0 */
	}
	if (NumberOfPages == 0 || va + NumberOfPages * page() - 1 < va)
		return w32__fail(ERROR_INVALID_PARAMETER);
	if (PageArray && check_array(PageArray, NumberOfPages))
		return w32__fail(ERROR_NOACCESS);
	if (wrk_no_bitmap())
		return w32__fail(ERROR_INVALID_PARAMETER);
	/* In a large view: an aligned address, and a count of large pages. */
	unit = w32__large_views() ? slot_at((void *)va) : 0;
	if (unit > page() &&
	    ((uintptr_t)VirtualAddress % unit || NumberOfPages > (UINTPTR_MAX - va) / unit))
		return w32__fail(ERROR_INVALID_PARAMETER);
	rc = awe_map((void *)va, NumberOfPages, (const awe_frame_t *)PageArray);
	if (rc == -EINVAL && PageArray && map_refused_kind(va, NumberOfPages, PageArray))
		return w32__fail(ERROR_INVALID_ADDRESS);
	if (rc)
		return w32__fail(w32__map_error(rc));
	return TRUE;
}

BOOL MapUserPhysicalPagesScatter(PVOID *VirtualAddresses, ULONG_PTR NumberOfPages,
				 PULONG_PTR PageArray)
{
	ULONG_PTR max = w32__wrk() ? UINTPTR_MAX / page() : WIN10_MAX_PAGES;
	DWORD r;
	int rc;

	if (NumberOfPages > max)
		return w32__fail(ERROR_INVALID_PARAMETER);
	if (NumberOfPages == 0)
		return TRUE;
	if (check_array(VirtualAddresses, NumberOfPages) ||
	    (PageArray && check_array(PageArray, NumberOfPages)))
		return w32__fail(ERROR_NOACCESS);
	if (wrk_no_bitmap())
		return w32__fail(ERROR_INVALID_PARAMETER);
	r = check_large_addrs(VirtualAddresses, NumberOfPages);
	if (r)
		return w32__fail(r);
	rc = awe_map_scatter((void *const *)VirtualAddresses, NumberOfPages,
			     (const awe_frame_t *)PageArray);
	if (rc == -EINVAL && PageArray &&
	    scatter_refused_kind(VirtualAddresses, NumberOfPages, PageArray))
		return w32__fail(ERROR_INVALID_ADDRESS);
	if (rc)
		return w32__fail(w32__map_error(rc));
	return TRUE;
}
