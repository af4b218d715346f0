/* SPDX-License-Identifier: MIT */
/*
 * VirtualAlloc, VirtualFree and VirtualProtect. AWE regions (MEM_PHYSICAL)
 * are libawe windows and are handled here; ordinary memory goes to
 * region.c, and VirtualQuery is query.c's. An address is in an AWE region
 * exactly when awe_query() knows it. A region VirtualAlloc2() ties to an AWE
 * section is a window of that section; everything but its creation works on
 * it as on other AWE regions.
 *
 * MEM_LARGE_PAGES with MEM_PHYSICAL, or a section of SEC_LARGE_PAGES,
 * makes a region of large slots (AWE_WINDOW_LARGE), whose base and size are
 * whole large pages; views.c remembers which regions those are.
 */
#include <errno.h>

#include "w32.h"

#define TYPE_BITS                                                                                  \
	(MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO | MEM_TOP_DOWN | MEM_WRITE_WATCH |  \
	 MEM_PHYSICAL | MEM_LARGE_PAGES)

static uintptr_t page_mask(void)
{
	return awe_page_size() - 1;
}

/* Checks 1-7 of NtAllocateVirtualMemory, in order. Server 2003 refused
 * MEM_LARGE_PAGES with MEM_PHYSICAL (check 3, kept for
 * LIBAWE_WIN32_ERRORS=wrk); Windows 10 makes a large-page AWE region of
 * MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES. */
static DWORD check_type(DWORD type, DWORD prot)
{
	if (type & ~(DWORD)TYPE_BITS)
		return ERROR_INVALID_PARAMETER;
	if (!(type & (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_RESET_UNDO)))
		return ERROR_INVALID_PARAMETER;
	if (!(type & MEM_PHYSICAL))
		return 0;
	if (((type & MEM_LARGE_PAGES) && w32__wrk()) || (type & MEM_WRITE_WATCH) ||
	    !(type & MEM_RESERVE) ||
	    (type & ~(DWORD)(MEM_RESERVE | MEM_TOP_DOWN | MEM_PHYSICAL | MEM_LARGE_PAGES)))
		return ERROR_INVALID_PARAMETER;
	return prot == PAGE_READWRITE ? 0 : ERROR_INVALID_PARAMETER;
}

static DWORD window_error(int rc)
{
	switch (rc) {
	case -ENOENT: /* the section's handle was closed by another thread */
		return ERROR_INVALID_HANDLE;
	case -EEXIST:
		return ERROR_INVALID_ADDRESS;
	case -EPERM:	  /* the window could not be locked: page tables, in Windows' terms */
	case -EOPNOTSUPP: /* large slots of an engine with no huge page to be had here */
		return ERROR_NO_SYSTEM_RESOURCES;
	case -EINVAL:
		return ERROR_INVALID_PARAMETER;
	default:
		return ERROR_NOT_ENOUGH_MEMORY;
	}
}

/* A window of section @sec, or a plain one (@sec 0). */
static int new_window(awe_section_t sec, size_t len, void *hint, unsigned int flags, void **out)
{
	if (sec)
		return awe_section_window_create(sec, len, hint, flags, out);
	return awe_window_create(len, hint, flags, out);
}

/* A window of @len bytes anywhere, at an address aligned to @align (a power
 * of two), with @flags. */
static DWORD aligned_window(awe_section_t sec, size_t len, size_t align, unsigned int flags,
			    void **out)
{
	int rc = new_window(sec, len, NULL, flags | AWE_WINDOW_ALIGN(__builtin_ctzl(align)), out);

	/* -EINVAL: the window or its alignment is larger than user space (2^63
	 * is more than AWE_WINDOW_ALIGN() takes): there is no room for it. */
	if (rc == -EINVAL)
		return ERROR_NOT_ENOUGH_MEMORY;
	return rc ? window_error(rc) : 0;
}

/* Large slots: the privilege MEM_LARGE_PAGES needs (WRK: after the handle
 * and the range, before the large-page rules), a section of the right kind,
 * then a base and size of whole large pages. */
static DWORD check_large(void *addr, SIZE_T size, DWORD type, const struct w32__section *sec)
{
	size_t lp = awe_large_page_size();

	if ((type & MEM_LARGE_PAGES) && !w32__lock_privilege_enabled())
		return ERROR_PRIVILEGE_NOT_HELD;
	if (sec->id && !sec->large)
		return ERROR_INVALID_PARAMETER;
	if (!lp) /* a kernel with neither THP nor hugetlbfs */
		return ERROR_NOT_SUPPORTED;
	return size % lp || (uintptr_t)addr % lp ? ERROR_INVALID_PARAMETER : 0;
}

/* MEM_RESERVE | MEM_PHYSICAL: an AWE region, tied to section @sec if not 0. */
static DWORD physical_region(void *addr, SIZE_T size, DWORD type, SIZE_T align,
			     const struct w32__section *sec, void **out)
{
	bool large = (type & MEM_LARGE_PAGES) || sec->large;
	/* A section's windows take their slot size from it. */
	unsigned int flags = large && !sec->id ? AWE_WINDOW_LARGE : 0;
	uintptr_t a = (uintptr_t)addr, base, end;
	size_t len;
	DWORD r;
	int rc;

	/* The region covers every page [addr, addr + size) touches, from the
	 * allocation granule holding addr (a large region's are whole large
	 * pages, or check_large() refuses them). */
	base = a & ~(uintptr_t)(W32__GRANULARITY - 1);
	end = (a + size + page_mask()) & ~page_mask();
	len = addr ? end - base : (size + page_mask()) & ~page_mask();
	if (size == 0 || size > W32__USER_END ||
	    (addr && (a >= W32__USER_END || end > W32__USER_END || end < a)))
		return ERROR_INVALID_PARAMETER;
	r = large ? check_large(addr, size, type, sec) : 0;
	if (r)
		return r;
	if (!addr) {
		if (large && align < awe_large_page_size())
			align = awe_large_page_size();
		r = aligned_window(sec->id, len, align, flags, out);
	} else {
		rc = new_window(sec->id, len, (void *)base, flags | AWE_WINDOW_FIXED, out);
		r = rc ? window_error(rc) : 0;
	}
	if (!r) {
		struct w32__view v = {large, sec->id};

		r = w32__view_note(*out, len, &v);
		if (r)
			(void)W32__KEEP_ERRNO(awe_window_destroy(*out));
	}
	if (!r)
		w32__awe_info_created();
	return r;
}

static DWORD alloc_any(void *addr, SIZE_T size, DWORD type, DWORD prot, SIZE_T align,
		       const struct w32__section *sec, void **out)
{
	static const struct w32__section none = {0, false, -1};

	if (type & MEM_PHYSICAL)
		return physical_region(addr, size, type, align, sec ? sec : &none, out);
	/* Committing (or anything else) inside an AWE region conflicts. */
	if (addr && w32__awe_region(addr, NULL))
		return ERROR_INVALID_ADDRESS;
	return w32__vmem_alloc(addr, size, type, prot, align, out);
}

/* The exported functions end alike: the result, or NULL with the error. */
static void *alloc_result(DWORD r, void *out)
{
	return r ? w32__fail_ptr(r) : out;
}

LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType, DWORD flProtect)
{
	void *out = NULL;
	DWORD r = check_type(flAllocationType, flProtect);

	if (!r)
		r = alloc_any(lpAddress, dwSize, flAllocationType, flProtect, W32__GRANULARITY,
			      NULL, &out);
	return alloc_result(r, out);
}

LPVOID VirtualAllocExNuma(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
			  DWORD flProtect, DWORD nndPreferred)
{
	void *out = NULL;
	DWORD r = check_type(flAllocationType, flProtect);

	/* (DWORD)-1 is NUMA_NO_PREFERRED_NODE, which VirtualAllocEx passes. */
	if (!r && nndPreferred != (DWORD)-1 && nndPreferred >= w32__numa_nodes())
		r = ERROR_INVALID_PARAMETER;
	if (!r)
		r = w32__check_process(hProcess, PROCESS_VM_OPERATION);
	if (!r)
		r = alloc_any(lpAddress, dwSize, flAllocationType, flProtect, W32__GRANULARITY,
			      NULL, &out);
	return alloc_result(r, out);
}

LPVOID VirtualAllocEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
		      DWORD flProtect)
{
	return VirtualAllocExNuma(hProcess, lpAddress, dwSize, flAllocationType, flProtect,
				  (DWORD)-1);
}

/* What VirtualAlloc2's extended parameters ask for: address requirements,
 * a NUMA node and the AWE section to tie the region to (@section, checked
 * later, like every handle, after the flags). */
struct va2_params {
	void *base; /* BaseAddress, which an alignment may not come with */
	SIZE_T align;
	bool has_section;
	HANDLE section;
};

static DWORD va2_param(const MEM_EXTENDED_PARAMETER *p, void *ctx)
{
	struct va2_params *v = ctx;
	const MEM_ADDRESS_REQUIREMENTS *req = p->Pointer;

	switch ((unsigned int)p->Type) {
	case MemExtendedParameterAddressRequirements:
		if (!req || (req->Alignment && v->base) ||
		    (req->Alignment && (req->Alignment < W32__GRANULARITY ||
					(req->Alignment & (req->Alignment - 1)))))
			return ERROR_INVALID_PARAMETER;
		if (req->LowestStartingAddress || req->HighestEndingAddress)
			return ERROR_NOT_SUPPORTED;
		if (req->Alignment)
			v->align = req->Alignment;
		return 0;
	case MemExtendedParameterNumaNode:
		return p->ULong >= w32__numa_nodes() ? ERROR_INVALID_PARAMETER : 0;
	case MemExtendedParameterUserPhysicalHandle:
		v->has_section = true;
		v->section = p->Handle;
		return 0;
	default:
		return ERROR_INVALID_PARAMETER;
	}
}

PVOID VirtualAlloc2(HANDLE Process, PVOID BaseAddress, SIZE_T Size, ULONG AllocationType,
		    ULONG PageProtection, MEM_EXTENDED_PARAMETER *ExtendedParameters,
		    ULONG ParameterCount)
{
	struct va2_params v = {BaseAddress, W32__GRANULARITY, false, NULL};
	void *out = NULL;
	struct w32__section sec = {0, false, -1};
	DWORD r = w32__ext_params(ExtendedParameters, ParameterCount, MemExtendedParameterMax,
				  va2_param, &v);

	if (!r)
		r = check_type(AllocationType, PageProtection);
	/* Only an AWE region can be tied to an AWE section. */
	if (!r && v.has_section && !(AllocationType & MEM_PHYSICAL))
		r = ERROR_INVALID_PARAMETER;
	if (!r && Process)
		r = w32__check_process(Process, PROCESS_VM_OPERATION);
	/* The region is a read-write view of the section's pages. */
	if (!r && v.has_section)
		r = w32__check_section(v.section, SECTION_MAP_READ | SECTION_MAP_WRITE, &sec);
	if (!r)
		r = alloc_any(BaseAddress, Size, AllocationType, PageProtection, v.align, &sec,
			      &out);
	return alloc_result(r, out);
}

/* The exported BOOL functions end alike too. */
static BOOL bool_result(DWORD r)
{
	return r ? w32__fail(r) : TRUE;
}

static DWORD free_any(void *addr, SIZE_T size, DWORD type)
{
	struct awe_page_info pi;
	int rc;

	if (type != MEM_RELEASE && type != MEM_DECOMMIT)
		return ERROR_INVALID_PARAMETER;
	if (!w32__awe_region(addr, &pi))
		return w32__vmem_free(addr, size, type);
	/* AWE regions cannot be decommitted or split, only released whole;
	 * their frames are unmapped, never freed. */
	if (type != MEM_RELEASE || addr != pi.window || (size && size != pi.window_size))
		return ERROR_INVALID_ADDRESS;
	rc = awe_window_destroy(pi.window);
	if (rc)
		return w32__map_error(rc);
	w32__view_forget(pi.window);
	return 0;
}

BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
	return bool_result(free_any(lpAddress, dwSize, dwFreeType));
}

BOOL VirtualFreeEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
	DWORD r = w32__check_process(hProcess, PROCESS_VM_OPERATION);

	return bool_result(r ? r : free_any(lpAddress, dwSize, dwFreeType));
}

/* Is @prot a protection at all: exactly one base protection, at most one of
 * the modifiers (MiMakeProtectionMask's rule)? */
static bool prot_valid(DWORD prot)
{
	DWORD base = prot & 0xFF, mods = prot & ~(DWORD)0xFF;

	if (!base || (base & (base - 1)))
		return false;
	if (mods & ~(DWORD)(PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE))
		return false;
	return !(mods & (mods - 1));
}

static int awe_prot(DWORD prot)
{
	switch (prot) {
	case PAGE_NOACCESS:
		return AWE_PROT_NONE;
	case PAGE_READONLY:
		return AWE_PROT_READ;
	case PAGE_READWRITE:
		return AWE_PROT_READWRITE;
	default:
		return -1;
	}
}

DWORD w32__win_prot(int prot)
{
	return prot == AWE_PROT_READWRITE ? PAGE_READWRITE
	       : prot == AWE_PROT_READ	  ? PAGE_READONLY
					  : PAGE_NOACCESS;
}

static DWORD protect_any(void *addr, SIZE_T size, DWORD prot, PDWORD old)
{
	uintptr_t start = (uintptr_t)addr & ~page_mask();
	uintptr_t end = ((uintptr_t)addr + size + page_mask()) & ~page_mask();
	struct awe_page_info pi;
	uintptr_t unit;
	int oldp = 0, rc;

	if (!w32__user_memory(old, 1, sizeof(*old)))
		return ERROR_NOACCESS;
	if (!prot_valid(prot) || end <= start || end < (uintptr_t)addr)
		return ERROR_INVALID_PARAMETER;
	if (!w32__awe_region((void *)start, &pi))
		return w32__vmem_protect(addr, size, prot, old);
	/* A large slot is protected whole: the range covers every slot it
	 * touches, as it covers every page it touches. */
	unit = w32__slot_size(&pi);
	start &= ~(unit - 1);
	end = (end + unit - 1) & ~(unit - 1);
	/* AWE pages take only no-access, read-only and read-write, and the
	 * range may not leave its region. */
	if (awe_prot(prot) < 0 || end - (uintptr_t)pi.window > pi.window_size)
		return ERROR_INVALID_ADDRESS;
	rc = awe_protect((void *)start, (end - start) / unit, awe_prot(prot), &oldp);
	if (rc)
		return w32__map_error(rc);
	*old = w32__win_prot(oldp);
	return 0;
}

BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect, PDWORD lpflOldProtect)
{
	return bool_result(protect_any(lpAddress, dwSize, flNewProtect, lpflOldProtect));
}

BOOL VirtualProtectEx(HANDLE hProcess, LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
		      PDWORD lpflOldProtect)
{
	DWORD r = w32__check_process(hProcess, PROCESS_VM_OPERATION);

	return bool_result(r ? r : protect_any(lpAddress, dwSize, flNewProtect, lpflOldProtect));
}
