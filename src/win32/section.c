/* SPDX-License-Identifier: MIT */
/*
 * AWE sections: CreateFileMapping2() with a
 * MemSectionExtendedParameterUserPhysicalFlags parameter, Windows 10's
 * container of physical pages whose frames may be mapped at several
 * addresses at once, in regions tied to it with VirtualAlloc2(). A handle
 * names a native libawe section (awe_section_create()), of large frames with
 * SEC_LARGE_PAGES, and keeps the NUMA node the section's pages prefer.
 *
 * Other sections (file-backed, or ordinary pagefile-backed ones) are not
 * implemented; calls Windows would accept for them fail with
 * ERROR_NOT_SUPPORTED after every check Windows would make has passed, so
 * that a call Windows refuses is refused here with Windows' code.
 */
#include <errno.h>

#include "w32.h"

/* AllocationAttributes bits Windows knows. */
#define SEC_KNOWN                                                                                  \
	(SEC_PARTITION_OWNER_HANDLE | SEC_64K_PAGES | SEC_FILE | SEC_IMAGE | SEC_PROTECTED_IMAGE | \
	 SEC_RESERVE | SEC_COMMIT | SEC_NOCACHE | SEC_WRITECOMBINE | SEC_LARGE_PAGES)

/* Generic rights as the section object type maps them. */
static DWORD section_access(DWORD access)
{
	DWORD out = access & ~(DWORD)(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL |
				      MAXIMUM_ALLOWED);

	if (access & GENERIC_READ)
		out |= STANDARD_RIGHTS_READ | SECTION_QUERY | SECTION_MAP_READ;
	if (access & GENERIC_WRITE)
		out |= STANDARD_RIGHTS_WRITE | SECTION_MAP_WRITE;
	if (access & GENERIC_EXECUTE)
		out |= STANDARD_RIGHTS_EXECUTE | SECTION_MAP_EXECUTE;
	/* Nobody else can hold the section, so the most a caller may have is
	 * everything. */
	if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
		out |= SECTION_ALL_ACCESS;
	return out;
}

/* The protections a section may be created with (CreateFileMapping's list);
 * modifiers belong in the attributes (SEC_NOCACHE...), not here. */
static bool section_protection(ULONG prot)
{
	switch (prot) {
	case PAGE_READONLY:
	case PAGE_READWRITE:
	case PAGE_WRITECOPY:
	case PAGE_EXECUTE_READ:
	case PAGE_EXECUTE_READWRITE:
	case PAGE_EXECUTE_WRITECOPY:
		return true;
	default:
		return false;
	}
}

/* What a section's extended parameters ask for. */
struct section_params {
	bool awe; /* UserPhysicalFlags: an AWE section */
	int node; /* NumaNode, or -1 */
};

/* One extended parameter of a section's. */
static DWORD section_param(const MEM_EXTENDED_PARAMETER *p, void *ctx)
{
	struct section_params *sp = ctx;

	switch ((unsigned int)p->Type) {
	case MemSectionExtendedParameterUserPhysicalFlags:
		/* No flag is defined: the value must be 0. */
		if (p->ULong64)
			return ERROR_INVALID_PARAMETER;
		sp->awe = true;
		return 0;
	case MemSectionExtendedParameterNumaNode:
		/* The node the section's pages prefer, unless an allocation
		 * names another. */
		if (p->ULong64 >= w32__numa_nodes())
			return ERROR_INVALID_PARAMETER;
		sp->node = (int)p->ULong64;
		return 0;
	default:
		/* SigningLevel is for image sections only. */
		return ERROR_INVALID_PARAMETER;
	}
}

/* The extended parameters, captured as AllocateUserPhysicalPages2's are:
 * a pointer and a count together, no reserved bit, a known type at most
 * once. */
static DWORD check_params(const MEM_EXTENDED_PARAMETER *p, ULONG count, struct section_params *sp)
{
	*sp = (struct section_params){false, -1};
	if (p && !count)
		return ERROR_INVALID_PARAMETER;
	return w32__ext_params(p, count, MemSectionExtendedParameterMax, section_param, sp);
}

/* Everything Windows checks before it creates a section, in one order;
 * 0 and *@s (but its id) when an AWE section is to be created. */
static DWORD check_create(HANDLE file, ULONG prot, ULONG attrs, ULONG64 size, LPCWSTR name,
			  const MEM_EXTENDED_PARAMETER *p, ULONG count, struct w32__section *s)
{
	struct section_params sp;
	DWORD r;

	if (!section_protection(prot))
		return ERROR_INVALID_PARAMETER;
	/* Unknown bits, and commit and reserve together, mean nothing. */
	if ((attrs & ~(ULONG)SEC_KNOWN) ||
	    (attrs & (SEC_COMMIT | SEC_RESERVE)) == (SEC_COMMIT | SEC_RESERVE))
		return ERROR_INVALID_PARAMETER;
	r = check_params(p, count, &sp);
	if (r)
		return r;
	/* No function here returns a file handle, so every value but
	 * INVALID_HANDLE_VALUE (the pagefile) names no file: Windows' answer
	 * to a handle that is not a file's is 6. */
	if (file != INVALID_HANDLE_VALUE)
		return ERROR_INVALID_HANDLE;
	if (!sp.awe) {
		/* An ordinary pagefile-backed section: it needs a size; then
		 * it is a feature libawe-win32 does not have. */
		return size ? ERROR_NOT_SUPPORTED : ERROR_INVALID_PARAMETER;
	}
	/* An AWE section holds no pages of its own (they come with
	 * AllocateUserPhysicalPages), so it has no size, reserves, and is
	 * read-write like the AWE regions it serves. */
	if (prot != PAGE_READWRITE || size || !(attrs & SEC_RESERVE) ||
	    (attrs & ~(ULONG)(SEC_RESERVE | SEC_LARGE_PAGES)))
		return ERROR_INVALID_PARAMETER;
	/* Large pages are locked pages: Windows wants the privilege of any
	 * SEC_LARGE_PAGES section, before it looks at the name. */
	if ((attrs & SEC_LARGE_PAGES) && !w32__lock_privilege_enabled())
		return ERROR_PRIVILEGE_NOT_HELD;
	/* Valid on Windows, not implemented here: names (a name lets another
	 * process open the section). An empty name is no name, as for every
	 * named object. */
	if (name && name[0])
		return ERROR_NOT_SUPPORTED;
	*s = (struct w32__section){0, (attrs & SEC_LARGE_PAGES) != 0, sp.node};
	return 0;
}

HANDLE CreateFileMapping2(HANDLE File, SECURITY_ATTRIBUTES *SecurityAttributes, ULONG DesiredAccess,
			  ULONG PageProtection, ULONG AllocationAttributes, ULONG64 MaximumSize,
			  LPCWSTR Name, MEM_EXTENDED_PARAMETER *ExtendedParameters,
			  ULONG ParameterCount)
{
	struct w32__section s;
	HANDLE h;
	DWORD r;
	int rc;

	/* No other process can open the section or inherit the handle, so the
	 * security descriptor and bInheritHandle have nothing to act on. */
	(void)SecurityAttributes;
	r = check_create(File, PageProtection, AllocationAttributes, MaximumSize, Name,
			 ExtendedParameters, ParameterCount, &s);
	if (r)
		return w32__fail_ptr(r);
	rc = awe_section_create(s.large ? AWE_SECTION_LARGE : 0, &s.id);
	/* A system with no huge page for sections to be had: what Windows
	 * says when large pages run out. */
	if (rc == -EOPNOTSUPP && s.large)
		return w32__fail_ptr(ERROR_NO_SYSTEM_RESOURCES);
	if (rc)
		return w32__fail_ptr(w32__map_error(rc));
	h = w32__section_handle_new(&s, section_access(DesiredAccess));
	if (!h) {
		awe_section_close(s.id);
		return w32__fail_ptr(ERROR_NO_SYSTEM_RESOURCES);
	}
	/* CreateFileMapping() reports ERROR_ALREADY_EXISTS on success when a
	 * named section existed, so a new section sets the last error to 0
	 * (Wine's conformance tests see that on Windows); the same here. */
	w32__set_error(ERROR_SUCCESS);
	return h;
}

DWORD w32__awe_object(HANDLE h, DWORD section_access, struct w32__section *s)
{
	DWORD r = w32__check_section(h, section_access, s);

	if (r != ERROR_INVALID_HANDLE)
		return r;
	*s = (struct w32__section){0, false, -1};
	return w32__check_process(h, PROCESS_VM_OPERATION);
}
