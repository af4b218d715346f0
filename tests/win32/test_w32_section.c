/* SPDX-License-Identifier: MIT */
/*
 * §10.3: AWE sections. CreateFileMapping2() with a
 * MemSectionExtendedParameterUserPhysicalFlags parameter, Allocate and Free
 * with the section handle, VirtualAlloc2() regions tied to it, one PFN at
 * several addresses at once, what fails across owners, and CloseHandle()
 * (the section lives while a region is tied to it).
 *
 * A section PFN is a libawe frame number and a region tied to it a libawe
 * window of the section, so the native helpers (assert_slot, snap_slots)
 * check the state behind the Win32 calls.
 */
#include "w32helpers.h"

#include <pthread.h>

#define SELF GetCurrentProcess()
#define PHYS (MEM_RESERVE | MEM_PHYSICAL)
#define RW_ACCESS (SECTION_MAP_READ | SECTION_MAP_WRITE)

static MEM_EXTENDED_PARAMETER awe_param(void)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	p.Type = MemSectionExtendedParameterUserPhysicalFlags;
	p.ULong64 = 0;
	return p;
}

/* The documented call, with @access. */
static HANDLE create_section(ULONG access)
{
	MEM_EXTENDED_PARAMETER p = awe_param();

	return CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, access, PAGE_READWRITE, SEC_RESERVE,
				  0, NULL, &p, 1);
}

/*
 * A new section: a handle of the table (a multiple of 4 from 0x1000), and,
 * as CreateFileMapping() does on Windows, the last error and errno set to 0.
 */
static HANDLE section_new(ULONG access)
{
	struct w32_res x = W32_CALL(create_section(access));
	uintptr_t h = (uintptr_t)x.r;

	cr_assert_neq(h, 0, "CreateFileMapping2 failed: last error %u", x.le);
	cr_assert(h >= 0x1000 && h % 4 == 0, "section handle %#lx", (unsigned long)h);
	cr_assert_eq(x.le, ERROR_SUCCESS, "last error %u after a new section", x.le);
	cr_assert_eq(x.e, 0, "errno %d after a new section", x.e);
	return (HANDLE)h;
}

static HANDLE section_rw(void)
{
	return section_new(RW_ACCESS);
}

/* CreateFileMapping2 with these arguments fails with @code and returns NULL. */
#define CREATE_FAILS(code, file, access, prot, attrs, size, name, params, count)                   \
	W32_FAIL(CreateFileMapping2((file), NULL, (access), (prot), (attrs), (size), (name),       \
				    (params), (count)),                                            \
		 code)

/* A region of @pages pages tied to section @s, through VirtualAlloc2(). */
static void *va2_section(HANDLE s, void *base, size_t size)
{
	MEM_EXTENDED_PARAMETER p;

	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	return VirtualAlloc2(SELF, base, size, PHYS, PAGE_READWRITE, &p, 1);
}

static char *section_region(HANDLE s, size_t pages)
{
	char *r = W32_OK(va2_section(s, NULL, pages * pg()));

	cr_assert_eq((uintptr_t)r % GRANULARITY, 0, "region %p is not 64 KiB aligned", (void *)r);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, pages);
	return r;
}

/* Exactly @n PFNs of section @s (the privilege enabled first); free() it. */
static PULONG_PTR section_pfns(HANDLE s, size_t n)
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
static void assert_section_fault(struct fault f, void *addr, const char *what)
{
	cr_assert_eq(f.sig, SIGSEGV, "%s at %p: got signal %d (%s), expected SIGSEGV", what, addr,
		     f.sig, f.sig ? strsignal(f.sig) : "no fault");
	cr_assert_eq(f.addr, addr, "%s: si_addr %p, expected %p", what, f.addr, addr);
}

/* Page @addr of a section's region is empty: native state and a real fault. */
static void assert_section_unmapped(void *addr)
{
	assert_slot(addr, 0, AWE_PROT_NONE);
	assert_section_fault(probe_read(addr), addr, "read");
}

static uint64_t frames_now(void)
{
	return get_stats().frames_allocated;
}

/* ---- CreateFileMapping2 ---------------------------------------------------------------- */

Test(section, create)
{
	HANDLE a = section_rw(), b = section_rw();
	SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
	MEM_EXTENDED_PARAMETER p = awe_param();
	HANDLE c;

	cr_assert_neq(a, b);
	/* Security attributes have nothing to act on, but are accepted. */
	c = CreateFileMapping2(INVALID_HANDLE_VALUE, &sa, RW_ACCESS, PAGE_READWRITE, SEC_RESERVE, 0,
			       NULL, &p, 1);
	cr_assert_not_null(c);
	/* An empty name is no name. */
	cr_assert_not_null(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
					      SEC_RESERVE, 0, (LPCWSTR)u"", &p, 1));
	/* The teaching projects set only ULong of a zeroed parameter. */
	memset(&p, 0, sizeof(p));
	p.Type = MemSectionExtendedParameterUserPhysicalFlags;
	p.ULong = 0;
	cr_assert_not_null(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS, PAGE_READWRITE,
					      SEC_RESERVE, 0, NULL, &p, 1));
	/* A NUMA node beside it is a preference. */
	{
		MEM_EXTENDED_PARAMETER two[2] = {awe_param(), {.ULong64 = numa_nodes() - 1}};

		two[1].Type = MemSectionExtendedParameterNumaNode;
		cr_assert_not_null(CreateFileMapping2(INVALID_HANDLE_VALUE, NULL, RW_ACCESS,
						      PAGE_READWRITE, SEC_RESERVE, 0, NULL, two,
						      2));
	}
	W32_OK(CloseHandle(a));
	W32_OK(CloseHandle(b));
	W32_OK(CloseHandle(c));
	W32_FAIL(CloseHandle(a), ERROR_INVALID_HANDLE);
}

/* Every other File: NULL, a bogus value, handles that are no file's. */
Test(section, create_file_must_be_invalid_handle_value)
{
	MEM_EXTENDED_PARAMETER p = awe_param();
	HANDLE proc = open_self(PROCESS_ALL_ACCESS), tok = open_token(TOKEN_QUERY);
	HANDLE sec = section_rw();
	HANDLE files[] = {NULL, (HANDLE)(uintptr_t)0x1234, (HANDLE)(uintptr_t)3, proc, tok, sec};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		CREATE_FAILS(ERROR_INVALID_HANDLE, files[i], RW_ACCESS, PAGE_READWRITE, SEC_RESERVE,
			     0, NULL, &p, 1);
	/* Windows' pagefile section with a size: valid, not implemented. */
	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_COMMIT, 1 * MiB, NULL, NULL, 0);
	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READONLY,
		     SEC_RESERVE, 1 * MiB, NULL, NULL, 0);
	/* ... and without a size, invalid. */
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_COMMIT, 0, NULL, NULL, 0);
	/* A bad file handle is refused before the size is looked at. */
	CREATE_FAILS(ERROR_INVALID_HANDLE, NULL, RW_ACCESS, PAGE_READWRITE, SEC_COMMIT, 0, NULL,
		     NULL, 0);
	W32_OK(CloseHandle(proc));
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(sec));
}

Test(section, create_protection)
{
	static const ULONG bad[] = {0,
				    PAGE_NOACCESS,
				    PAGE_EXECUTE,
				    PAGE_READWRITE | PAGE_NOCACHE,
				    PAGE_READWRITE | PAGE_GUARD,
				    PAGE_READWRITE | PAGE_WRITECOMBINE,
				    PAGE_READONLY | PAGE_READWRITE,
				    0x800,
				    0xFFFFFFFF};
	/* Protections a section may have, but not an AWE section. */
	static const ULONG not_awe[] = {PAGE_READONLY, PAGE_WRITECOPY, PAGE_EXECUTE_READ,
					PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY};
	MEM_EXTENDED_PARAMETER p = awe_param();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, bad[i],
			     SEC_RESERVE, 0, NULL, &p, 1);
		/* Before the file handle. */
		CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL, RW_ACCESS, bad[i], SEC_RESERVE, 0, NULL,
			     &p, 1);
	}
	for (size_t i = 0; i < sizeof(not_awe) / sizeof(not_awe[0]); i++) {
		CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, not_awe[i],
			     SEC_RESERVE, 0, NULL, &p, 1);
		/* After the file handle. */
		CREATE_FAILS(ERROR_INVALID_HANDLE, NULL, RW_ACCESS, not_awe[i], SEC_RESERVE, 0,
			     NULL, &p, 1);
	}
}

Test(section, create_attributes)
{
	static const ULONG bad[] = {0, /* SEC_COMMIT by default */
				    SEC_COMMIT,
				    SEC_COMMIT | SEC_RESERVE,
				    SEC_RESERVE | SEC_NOCACHE,
				    SEC_RESERVE | SEC_WRITECOMBINE,
				    SEC_RESERVE | SEC_IMAGE,
				    SEC_RESERVE | SEC_FILE,
				    SEC_RESERVE | SEC_64K_PAGES,
				    SEC_IMAGE,
				    SEC_LARGE_PAGES,
				    SEC_COMMIT | SEC_LARGE_PAGES,
				    SEC_RESERVE | PAGE_READWRITE, /* CreateFileMapping's habit */
				    SEC_RESERVE | 0x1,
				    SEC_RESERVE | 0x20000000};
	MEM_EXTENDED_PARAMETER p = awe_param();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS,
			     PAGE_READWRITE, bad[i], 0, NULL, &p, 1);
	/* ZGC's large-page AWE section: valid, not implemented. */
	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE | SEC_LARGE_PAGES, 0, NULL, &p, 1);
	/* Unknown bits and commit-and-reserve come before the file handle. */
	CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL, RW_ACCESS, PAGE_READWRITE,
		     SEC_COMMIT | SEC_RESERVE, 0, NULL, &p, 1);
	CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL, RW_ACCESS, PAGE_READWRITE, SEC_RESERVE | 0x1, 0,
		     NULL, &p, 1);
}

/* An AWE section holds pages only through AllocateUserPhysicalPages: no size. */
Test(section, create_size_must_be_zero)
{
	static const ULONG64 sizes[] = {1, 4096, 1 * MiB, (ULONG64)1 << 40, UINT64_MAX};
	MEM_EXTENDED_PARAMETER p = awe_param();

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS,
			     PAGE_READWRITE, SEC_RESERVE, sizes[i], NULL, &p, 1);
}

Test(section, create_named_not_supported)
{
	MEM_EXTENDED_PARAMETER p = awe_param();

	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, (LPCWSTR)u"Local\\awe", &p, 1);
	/* Invalid arguments are reported first. */
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 4096, (LPCWSTR)u"Local\\awe", &p, 1);
	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE | SEC_LARGE_PAGES, 0, (LPCWSTR)u"Local\\awe", &p, 1);
}

Test(section, create_extended_parameters)
{
	static const DWORD64 types[] = {MemSectionExtendedParameterInvalidType,
					MemSectionExtendedParameterSigningLevel,
					MemSectionExtendedParameterMax, 5, 0xFF};
	MEM_EXTENDED_PARAMETER p = awe_param(), two[2];

	/* Pointer and count go together. */
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, NULL, 1);
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, &p, 0);
	/* UserPhysicalFlags has no flag yet. */
	p.ULong64 = 1;
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, &p, 1);
	p.ULong64 = (DWORD64)1 << 63;
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, &p, 1);
	/* Reserved bits. */
	p = awe_param();
	p.Reserved = 1;
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, &p, 1);
	p.Reserved = (DWORD64)1 << 55;
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, &p, 1);
	/* Unknown types, and SigningLevel (image sections only). */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.Type = types[i];
		CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS,
			     PAGE_READWRITE, SEC_RESERVE, 0, NULL, &p, 1);
	}
	/* A type twice. */
	two[0] = two[1] = awe_param();
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, two, 2);
	/* A node that does not exist. */
	memset(&two[1], 0, sizeof(two[1]));
	two[1].Type = MemSectionExtendedParameterNumaNode;
	two[1].ULong64 = numa_nodes();
	CREATE_FAILS(ERROR_INVALID_PARAMETER, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE, 0, NULL, two, 2);
	/* A NUMA node alone makes an ordinary section. */
	two[1].ULong64 = 0;
	CREATE_FAILS(ERROR_NOT_SUPPORTED, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_COMMIT, 1 * MiB, NULL, &two[1], 1);
	/* Parameters are checked before the file handle. */
	p = awe_param();
	p.ULong64 = 1;
	CREATE_FAILS(ERROR_INVALID_PARAMETER, NULL, RW_ACCESS, PAGE_READWRITE, SEC_RESERVE, 0, NULL,
		     &p, 1);
}

/* Generic and FILE_MAP_* rights carry the rights the section's users need. */
Test(section, create_access_rights)
{
	static const ULONG good[] = {RW_ACCESS,		 FILE_MAP_ALL_ACCESS,
				     SECTION_ALL_ACCESS, GENERIC_READ | GENERIC_WRITE,
				     GENERIC_ALL,	 MAXIMUM_ALLOWED};
	static const ULONG poor[] = {
		0, SECTION_QUERY, SECTION_MAP_READ, SECTION_MAP_WRITE, GENERIC_READ, GENERIC_WRITE};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		HANDLE s = section_new(good[i]);
		PULONG_PTR a = section_pfns(s, 1);
		ULONG_PTR n = 1;
		char *r = section_region(s, 1);

		map_ok(r, 1, a);
		W32_OK(FreeUserPhysicalPages(s, &n, a));
		W32_OK(VirtualFree(r, 0, MEM_RELEASE));
		W32_OK(CloseHandle(s));
		free(a);
	}
	enable_lock_privilege();
	for (size_t i = 0; i < sizeof(poor) / sizeof(poor[0]); i++) {
		HANDLE s = section_new(poor[i]);
		ULONG_PTR n = 1, a[1] = {PFN_SENTINEL};

		W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_ACCESS_DENIED);
		cr_assert_eq(n, 1);
		cr_assert(pfns_untouched(a, 0, 1));
		n = 1;
		W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_ACCESS_DENIED);
		cr_assert_eq(n, 0);
		W32_FAIL(va2_section(s, NULL, pg()), ERROR_ACCESS_DENIED);
		W32_OK(CloseHandle(s));
	}
}

/* ---- AllocateUserPhysicalPages and FreeUserPhysicalPages with a section ------------------ */

Test(section, allocate_and_free)
{
	enum { N = 64 };
	HANDLE s = section_rw();
	uint64_t before = frames_now();
	PULONG_PTR a = section_pfns(s, N);
	char *r = section_region(s, N);
	ULONG_PTR n = N;

	assert_distinct_nonzero(a, N);
	cr_assert_eq(frames_now(), before + N);
	/* Zero-filled, as every AWE page. */
	map_ok(r, N, a);
	for (size_t i = 0; i < N; i++) {
		assert_mapped(slot(r, i), a[i]);
		assert_page_zero(slot(r, i));
	}
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, N);
	cr_assert_eq(frames_now(), before);
	for (size_t i = 0; i < N; i++)
		assert_section_unmapped(slot(r, i));
	/* Freed PFNs are nobody's. */
	MAP_FAILS(MapUserPhysicalPages(r, 1, a), ERROR_INVALID_ADDRESS, r, 4);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	free(a);
}

/* The ...Numa and ...2 forms take a section handle too. */
Test(section, allocate_numa_and_2)
{
	HANDLE s = section_rw();
	MEM_EXTENDED_PARAMETER p = {.Type = MemExtendedParameterNumaNode};
	ULONG_PTR n = 2, a[3] = {PFN_SENTINEL, PFN_SENTINEL, PFN_SENTINEL};
	char *r = section_region(s, 4);

	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPagesNuma(s, &n, a, numa_nodes() - 1));
	cr_assert_eq(n, 2);
	W32_FAIL(AllocateUserPhysicalPagesNuma(s, &n, &a[2], numa_nodes()),
		 ERROR_INVALID_PARAMETER);
	n = 1;
	W32_OK(AllocateUserPhysicalPages2(s, &n, &a[2], &p, 1));
	cr_assert_eq(n, 1);
	map_ok(r, 3, a);
	p.Type = MemExtendedParameterAttributeFlags;
	p.ULong64 = MEM_EXTENDED_PARAMETER_NONPAGED_LARGE;
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, &p, 1), ERROR_NOT_SUPPORTED);
	p.ULong64 = MEM_EXTENDED_PARAMETER_NONPAGED;
	W32_OK(AllocateUserPhysicalPages2(s, &n, a, &p, 1));
	map_ok(slot(r, 3), 1, a);
}

/* The checks come in the order of the process form (§7.1). */
Test(section, allocate_check_order)
{
	HANDLE s = section_rw(), closed = section_rw(), noright = section_new(SECTION_QUERY);
	ULONG_PTR n = 1, zero = 0, big = UINTPTR_MAX / sizeof(ULONG_PTR) + 1, a[1] = {PFN_SENTINEL};

	W32_OK(CloseHandle(closed));
	/* Before the privilege is enabled. */
	W32_FAIL(AllocateUserPhysicalPages(s, NULL, a), ERROR_NOACCESS);
	W32_OK(AllocateUserPhysicalPages(closed, &zero, NULL));
	W32_FAIL(AllocateUserPhysicalPages(closed, &big, NULL), ERROR_INVALID_PARAMETER);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, NULL), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, misaligned(a)), ERROR_NOACCESS);
	W32_FAIL(AllocateUserPhysicalPages(closed, &n, a), ERROR_INVALID_HANDLE);
	W32_FAIL(AllocateUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED);
	/* Sections need SeLockMemoryPrivilege too. */
	W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(AllocateUserPhysicalPagesNuma(s, &n, a, 0), ERROR_PRIVILEGE_NOT_HELD);
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, NULL, 0), ERROR_PRIVILEGE_NOT_HELD);
	cr_assert_eq(n, 1);
	cr_assert(pfns_untouched(a, 0, 1));
	enable_lock_privilege();
	W32_OK(AllocateUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, 1);
	disable_lock_privilege();
	W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	W32_OK(CloseHandle(s));
	W32_OK(CloseHandle(noright));
}

/* An unprivileged user can create the section and its regions, not its pages. */
static int child_section_not_held(void *arg)
{
	ULONG_PTR n = 2, a[2] = {PFN_SENTINEL, PFN_SENTINEL};
	MEM_EXTENDED_PARAMETER p;
	DWORD le;
	HANDLE s;
	void *r;

	(void)arg;
	unsetenv("LIBAWE_UNLOCKED");
	s = create_section(RW_ACCESS);
	CHILD_CHECK(s != NULL, "CreateFileMapping2: %u", GetLastError());
	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	r = CHILD_W32_OK(VirtualAlloc2(SELF, NULL, 16 * pg(), PHYS, PAGE_READWRITE, &p, 1));
	CHILD_CHECK(set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) == TRUE &&
			    le == ERROR_NOT_ALL_ASSIGNED,
		    "le %u", le);
	CHILD_W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_PRIVILEGE_NOT_HELD);
	CHILD_W32_FAIL(AllocateUserPhysicalPages2(s, &n, a, NULL, 0), ERROR_PRIVILEGE_NOT_HELD);
	CHILD_CHECK(n == 2 && pfns_untouched(a, 0, 2));
	/* Nothing to map, unmapping works; Free needs no privilege. */
	CHILD_W32_OK(MapUserPhysicalPages(r, 16, NULL));
	n = 1;
	a[0] = BOGUS_PFN;
	CHILD_W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_ADDRESS);
	CHILD_W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	CHILD_W32_OK(CloseHandle(s));
	return 0;
}

Test(section, privilege_not_held)
{
	run_as_nobody(child_section_not_held, NULL, 8 * MiB);
}

Test(section, free_checks)
{
	HANDLE s = section_rw(), closed = section_rw(), noright = section_new(SECTION_QUERY);
	PULONG_PTR a = section_pfns(s, 4);
	ULONG_PTR n;

	W32_OK(CloseHandle(closed));
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, NULL, a), ERROR_NOACCESS);
	n = 0;
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_PARAMETER);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(closed, &n, a), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 0);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(noright, &n, a), ERROR_ACCESS_DENIED);
	cr_assert_eq(n, 0);
	/* The handle comes before the array. */
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(closed, &n, NULL), ERROR_INVALID_HANDLE);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, &n, NULL), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	n = 4;
	W32_FAIL(FreeUserPhysicalPages(s, &n, misaligned(a)), ERROR_NOACCESS);
	cr_assert_eq(n, 0);
	/* Entry by entry: a PFN listed twice stops the call at the second. */
	{
		ULONG_PTR twice[3] = {a[0], a[1], a[0]};

		n = 3;
		W32_FAIL(FreeUserPhysicalPages(s, &n, twice), ERROR_INVALID_ADDRESS);
		cr_assert_eq(n, 2);
	}
	n = 2;
	W32_OK(FreeUserPhysicalPages(s, &n, &a[2]));
	cr_assert_eq(n, 2);
	W32_OK(CloseHandle(s));
	W32_OK(CloseHandle(noright));
	free(a);
}

/* ---- Owners do not mix ------------------------------------------------------------------ */

/* Free with the wrong owner: 487, nothing freed, the PFN still works. */
Test(section, free_with_the_wrong_owner)
{
	HANDLE s = section_rw(), t = section_rw();
	PULONG_PTR sp = section_pfns(s, 2), tp = section_pfns(t, 1), pp = pfns_new(1);
	char *sr = section_region(s, 4), *pr = region_new(4);
	ULONG_PTR n, mixed[3] = {sp[0], sp[1], pp[0]};

	n = 1;
	W32_FAIL(FreeUserPhysicalPages(SELF, &n, sp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, pp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	n = 1;
	W32_FAIL(FreeUserPhysicalPages(s, &n, tp), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 0);
	map_ok(sr, 2, sp);
	map_ok(pr, 1, pp);
	assert_mapped(sr, sp[0]);
	assert_mapped(slot(sr, 1), sp[1]);
	assert_mapped(pr, pp[0]);
	/* Entry by entry: the section's two go, the process's stays. */
	n = 3;
	W32_FAIL(FreeUserPhysicalPages(s, &n, mixed), ERROR_INVALID_ADDRESS);
	cr_assert_eq(n, 2);
	assert_section_unmapped(sr);
	assert_section_unmapped(slot(sr, 1));
	assert_mapped(pr, pp[0]);
	free(sp);
	free(tp);
	free(pp);
}

/* Section PFNs only in the section's regions, and nothing else there (§10.3). */
Test(section, map_across_owners)
{
	HANDLE s = section_rw(), t = section_rw();
	PULONG_PTR sp = section_pfns(s, 2), tp = section_pfns(t, 1), pp = pfns_new(2);
	char *sr = section_region(s, 8), *tr = section_region(t, 8), *pr = region_new(8);

	map_ok(sr, 1, &sp[1]);
	map_ok(pr, 1, &pp[1]);
	*(uint64_t *)sr = 0x5EC;
	*(uint64_t *)pr = 0x9A9;
	/* A section's PFN in a plain region: not one of the region's owner. */
	MAP_FAILS(MapUserPhysicalPages(slot(pr, 2), 1, sp), ERROR_INVALID_ADDRESS, pr, 8);
	MAP_FAILS(MapUserPhysicalPages(slot(pr, 2), 2, (ULONG_PTR[]){pp[0], sp[0]}),
		  ERROR_INVALID_ADDRESS, pr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(pr, 3)}, 1, sp), ERROR_INVALID_ADDRESS,
		  pr, 8);
	/* A plain PFN, or another section's, in a section's region. */
	MAP_FAILS(MapUserPhysicalPages(slot(sr, 2), 1, pp), ERROR_INVALID_ADDRESS, sr, 8);
	MAP_FAILS(MapUserPhysicalPages(slot(sr, 2), 1, tp), ERROR_INVALID_ADDRESS, sr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(sr, 3), slot(sr, 4)}, 2,
					      (ULONG_PTR[]){sp[0], pp[0]}),
		  ERROR_INVALID_ADDRESS, sr, 8);
	/* One scatter call cannot span regions of different owners, even to unmap. */
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){slot(sr, 3), slot(pr, 3)}, 2,
					      (ULONG_PTR[]){sp[0], pp[0]}),
		  ERROR_INVALID_PARAMETER, sr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){pr, sr}, 2, NULL), ERROR_INVALID_PARAMETER,
		  pr, 8);
	MAP_FAILS(MapUserPhysicalPagesScatter((PVOID[]){sr, tr}, 2, NULL), ERROR_INVALID_PARAMETER,
		  sr, 8);
	cr_assert_eq(*(uint64_t *)sr, 0x5EC);
	cr_assert_eq(*(uint64_t *)pr, 0x9A9);
	assert_section_unmapped(tr);
	/* Each owner's own: fine. */
	map_ok(slot(tr, 1), 1, tp);
	assert_mapped(slot(tr, 1), tp[0]);
	free(sp);
	free(tp);
	free(pp);
}

/* ---- One PFN, several addresses ------------------------------------------------------ */

Test(section, one_pfn_two_addresses_of_one_region)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r = section_region(s, 8);

	map_ok(r, 1, a);
	map_ok(slot(r, 5), 1, a);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 5), a[0]);
	fill_page(r, 1);
	assert_page(slot(r, 5), 1);
	*(uint64_t *)slot(r, 5) = 0xFEED;
	cr_assert_eq(*(uint64_t *)r, 0xFEED);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(slot(r, 1), r, MEM_RESERVE, 0, 4);
	assert_awe_mbi(slot(r, 5), r, MEM_COMMIT, PAGE_READWRITE, 1);
	/* Mapping it again where it already is: fine for a section. */
	map_ok(slot(r, 5), 1, a);
	cr_assert_eq(*(uint64_t *)slot(r, 5), 0xFEED);
	/* Unmapping one address leaves the other. */
	W32_OK(MapUserPhysicalPages(r, 1, NULL));
	assert_section_unmapped(r);
	assert_mapped(slot(r, 5), a[0]);
	cr_assert_eq(*(uint64_t *)slot(r, 5), 0xFEED);
	/* Replacing it at one address too. */
	map_ok(r, 1, a);
	map_ok(slot(r, 5), 1, &a[1]);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 5), a[1]);
	cr_assert_eq(*(uint64_t *)r, 0xFEED);
	assert_page_zero(slot(r, 5));
	free(a);
}

/* Even several times in one call. */
Test(section, one_pfn_several_times_in_one_call)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r = section_region(s, 8);
	ULONG_PTR same[4] = {a[0], a[1], a[0], a[0]};

	map_ok(r, 4, same);
	assert_mapped(r, a[0]);
	assert_mapped(slot(r, 1), a[1]);
	assert_mapped(slot(r, 2), a[0]);
	assert_mapped(slot(r, 3), a[0]);
	*(uint64_t *)slot(r, 3) = 42;
	cr_assert_eq(*(uint64_t *)r, 42);
	cr_assert_eq(*(uint64_t *)slot(r, 2), 42);
	cr_assert_eq(*(uint64_t *)slot(r, 1), 0);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READWRITE, 4);
	free(a);
}

Test(section, one_pfn_in_two_regions)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 16);

	cr_assert_neq(r1, r2);
	map_ok(slot(r1, 3), 1, a);
	map_ok(slot(r2, 9), 1, a);
	fill_page(slot(r2, 9), 7);
	assert_page(slot(r1, 3), 7);
	fill_page(slot(r1, 3), 8);
	assert_page(slot(r2, 9), 8);
	assert_awe_mbi(slot(r1, 3), r1, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_awe_mbi(slot(r2, 9), r2, MEM_COMMIT, PAGE_READWRITE, 1);
	/* Releasing one region leaves the page in the other. */
	W32_OK(VirtualFree(r1, 0, MEM_RELEASE));
	assert_mapped(slot(r2, 9), a[0]);
	assert_page(slot(r2, 9), 8);
	free(a);
}

Test(section, scatter_same_pfn_twice)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 4);
	PVOID vas[3] = {slot(r1, 1), slot(r2, 2), slot(r1, 3)};
	ULONG_PTR pfns[3] = {a[0], a[0], a[1]};

	W32_OK(MapUserPhysicalPagesScatter(vas, 3, pfns));
	assert_mapped(vas[0], a[0]);
	assert_mapped(vas[1], a[0]);
	assert_mapped(vas[2], a[1]);
	*(uint64_t *)vas[1] = 0xABC;
	cr_assert_eq(*(uint64_t *)vas[0], 0xABC);
	/* 0 unmaps one address only. */
	pfns[0] = 0;
	W32_OK(MapUserPhysicalPagesScatter(vas, 1, pfns));
	assert_section_unmapped(vas[0]);
	assert_mapped(vas[1], a[0]);
	free(a);
}

/* The protection is the address's, not the page's. */
Test(section, protection_per_address)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r = section_region(s, 4);
	DWORD old = 0;

	map_ok(r, 1, a);
	map_ok(slot(r, 2), 1, a);
	W32_OK(VirtualProtect(r, pg(), PAGE_READONLY, &old));
	cr_assert_eq(old, PAGE_READWRITE);
	assert_awe_mbi(r, r, MEM_COMMIT, PAGE_READONLY, 1);
	assert_awe_mbi(slot(r, 2), r, MEM_COMMIT, PAGE_READWRITE, 1);
	assert_section_fault(probe_write(r, 1), r, "write");
	*(uint64_t *)slot(r, 2) = 99;
	cr_assert_eq(*(uint64_t *)r, 99);
	free(a);
}

/* Free takes the PFN off every address that shows it. */
Test(section, free_unmaps_every_address)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *r1 = section_region(s, 4), *r2 = section_region(s, 4);
	ULONG_PTR n = 1;

	map_ok(r1, 1, a);
	map_ok(slot(r1, 2), 1, a);
	map_ok(slot(r2, 1), 1, a);
	map_ok(slot(r2, 3), 1, &a[1]);
	*(uint64_t *)slot(r2, 3) = 0x77;
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	cr_assert_eq(n, 1);
	assert_section_unmapped(r1);
	assert_section_unmapped(slot(r1, 2));
	assert_section_unmapped(slot(r2, 1));
	assert_awe_mbi(r1, r1, MEM_RESERVE, 0, 4);
	assert_awe_mbi(r2, r2, MEM_RESERVE, 0, 3);
	assert_mapped(slot(r2, 3), a[1]);
	cr_assert_eq(*(uint64_t *)slot(r2, 3), 0x77);
	free(a);
}

/* ---- CloseHandle: the handle goes, the section stays while a region is tied to it ------- */

Test(section, closed_handle_is_invalid)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	ULONG_PTR n = 1, b[1] = {PFN_SENTINEL};

	W32_OK(CloseHandle(s));
	W32_FAIL(AllocateUserPhysicalPages(s, &n, b), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 1);
	cr_assert(pfns_untouched(b, 0, 1));
	W32_FAIL(AllocateUserPhysicalPages2(s, &n, b, NULL, 0), ERROR_INVALID_HANDLE);
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_HANDLE);
	cr_assert_eq(n, 0);
	W32_FAIL(va2_section(s, NULL, pg()), ERROR_INVALID_HANDLE);
	W32_FAIL(CloseHandle(s), ERROR_INVALID_HANDLE);
	free(a);
}

/* Closing a section no region is tied to frees its pages at once. */
Test(section, close_without_regions_frees)
{
	uint64_t before = frames_now();
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 8);

	cr_assert_eq(frames_now(), before + 8);
	W32_OK(CloseHandle(s));
	cr_assert_eq(frames_now(), before);
	free(a);
}

Test(section, regions_keep_a_closed_section)
{
	uint64_t before = frames_now();
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 4);
	char *r1 = section_region(s, 8), *r2 = section_region(s, 8);
	ULONG_PTR n = 4;

	map_ok(r1, 4, a);
	for (size_t i = 0; i < 4; i++)
		fill_page(slot(r1, i), i);
	W32_OK(CloseHandle(s));
	cr_assert_eq(frames_now(), before + 4);
	/* Its pages are still there and can still be mapped: the map calls
	 * need no handle. */
	for (size_t i = 0; i < 4; i++)
		assert_page(slot(r1, i), i);
	map_ok(slot(r2, 4), 4, a);
	W32_OK(MapUserPhysicalPagesScatter((PVOID[]){slot(r1, 7), slot(r2, 0)}, 2,
					   (ULONG_PTR[]){a[3], a[2]}));
	assert_page(slot(r1, 7), 3);
	assert_page(slot(r2, 0), 2);
	W32_OK(MapUserPhysicalPages(r1, 4, NULL));
	for (size_t i = 0; i < 4; i++)
		assert_page(slot(r2, 4 + i), i);
	/* But nothing that needs the handle. */
	W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_HANDLE);
	/* Releasing one region keeps the section; the last one frees its pages. */
	W32_OK(VirtualFree(r1, 0, MEM_RELEASE));
	cr_assert_eq(frames_now(), before + 4);
	assert_page(slot(r2, 4), 0);
	W32_OK(VirtualFree(r2, 0, MEM_RELEASE));
	cr_assert_eq(frames_now(), before);
	free(a);
}

/* A thread using the handle while another closes it sees success, then 6. */
static void *use_until_closed(void *arg)
{
	HANDLE s = arg;
	DWORD le = 0;

	for (;;) {
		ULONG_PTR n = 1, a[1];

		if (!AllocateUserPhysicalPages(s, &n, a)) {
			le = GetLastError();
			break;
		}
		if (!FreeUserPhysicalPages(s, &n, a)) {
			le = GetLastError();
			break;
		}
	}
	return (void *)(uintptr_t)le;
}

Test(section, close_while_in_use)
{
	HANDLE s = section_rw();
	void *le = NULL;
	pthread_t t;

	enable_lock_privilege();
	cr_assert_eq(pthread_create(&t, NULL, use_until_closed, s), 0);
	usleep(20 * 1000);
	W32_OK(CloseHandle(s));
	cr_assert_eq(pthread_join(t, &le), 0);
	cr_assert_eq((DWORD)(uintptr_t)le, ERROR_INVALID_HANDLE,
		     "a call racing CloseHandle failed with %u", (DWORD)(uintptr_t)le);
}

/* A fork() child has none of libawe's sections: inherited handles are invalid. */
static int child_after_fork(void *arg)
{
	HANDLE s = arg, t;
	ULONG_PTR n = 1, a[1];

	CHILD_W32_FAIL(AllocateUserPhysicalPages(s, &n, a), ERROR_INVALID_HANDLE);
	CHILD_W32_FAIL(FreeUserPhysicalPages(s, &n, a), ERROR_INVALID_HANDLE);
	CHILD_W32_FAIL(CloseHandle(s), ERROR_INVALID_HANDLE);
	/* Its own sections work. */
	t = create_section(RW_ACCESS);
	CHILD_CHECK(t != NULL, "CreateFileMapping2: %u", GetLastError());
	n = 1;
	CHILD_W32_OK(AllocateUserPhysicalPages(t, &n, a));
	CHILD_CHECK(n == 1);
	CHILD_W32_OK(FreeUserPhysicalPages(t, &n, a));
	CHILD_W32_OK(CloseHandle(t));
	return 0;
}

Test(section, not_inherited_across_fork)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r = section_region(s, 1);
	ULONG_PTR n = 1;

	map_ok(r, 1, a);
	run_in_child(child_after_fork, s, NULL);
	/* The parent's section is untouched. */
	assert_mapped(r, a[0]);
	W32_OK(FreeUserPhysicalPages(s, &n, a));
	W32_OK(CloseHandle(s));
	free(a);
}

/* ---- VirtualAlloc2 with MemExtendedParameterUserPhysicalHandle ------------------------------ */

Test(section, virtual_alloc2_handles)
{
	HANDLE s = section_rw(), proc = open_self(PROCESS_ALL_ACCESS),
	       tok = open_token(TOKEN_QUERY);
	HANDLE bad[] = {NULL,
			(HANDLE)(uintptr_t)0x1234,
			(HANDLE)(uintptr_t)0x40,
			INVALID_HANDLE_VALUE, /* the process, not a section */
			proc,
			tok};
	MEM_EXTENDED_PARAMETER p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		W32_FAIL(va2_section(bad[i], NULL, pg()), ERROR_INVALID_HANDLE);
	/* Only an AWE region can be tied to a section; flags come before the handle. */
	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = s;
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS, PAGE_READONLY, &p, 1),
		 ERROR_INVALID_PARAMETER);
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS | MEM_COMMIT, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	p.Handle = NULL;
	W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), MEM_RESERVE, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	/* The process handle is checked before the section's. */
	p.Handle = s;
	W32_FAIL(VirtualAlloc2(tok, NULL, pg(), PHYS, PAGE_READWRITE, &p, 1), ERROR_INVALID_HANDLE);
	/* Size 0, as for any AWE region. */
	W32_FAIL(VirtualAlloc2(SELF, NULL, 0, PHYS, PAGE_READWRITE, &p, 1),
		 ERROR_INVALID_PARAMETER);
	/* Twice the same parameter type. */
	{
		MEM_EXTENDED_PARAMETER two[2] = {p, p};

		W32_FAIL(VirtualAlloc2(SELF, NULL, pg(), PHYS, PAGE_READWRITE, two, 2),
			 ERROR_INVALID_PARAMETER);
	}
	/* NULL as the process means this one. */
	W32_OK(VirtualFree(W32_OK(VirtualAlloc2(NULL, NULL, pg(), PHYS, PAGE_READWRITE, &p, 1)), 0,
			   MEM_RELEASE));
	W32_OK(CloseHandle(proc));
	W32_OK(CloseHandle(tok));
	W32_OK(CloseHandle(s));
}

/* The same placement rules as every AWE region, and the same teardown. */
Test(section, virtual_alloc2_regions)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 2);
	char *want = free_aligned(4 * GRANULARITY);
	MEM_ADDRESS_REQUIREMENTS req = {.Alignment = 16 * GRANULARITY};
	MEM_EXTENDED_PARAMETER two[2];
	char *r, *q;

	/* A given base is rounded down to 64 KiB and covers every page touched. */
	r = W32_OK(va2_section(s, want + GRANULARITY + 100, pg()));
	cr_assert_eq(r, want + GRANULARITY);
	assert_awe_mbi(r, r, MEM_RESERVE, 0, 2);
	/* A conflict. */
	W32_FAIL(va2_section(s, r, pg()), ERROR_INVALID_ADDRESS);
	/* An alignment requirement. */
	memset(two, 0, sizeof(two));
	two[0].Type = MemExtendedParameterUserPhysicalHandle;
	two[0].Handle = s;
	two[1].Type = MemExtendedParameterAddressRequirements;
	two[1].Pointer = &req;
	q = W32_OK(VirtualAlloc2(SELF, NULL, 3 * pg(), PHYS, PAGE_READWRITE, two, 2));
	cr_assert_eq((uintptr_t)q % req.Alignment, 0);
	assert_awe_mbi(q, q, MEM_RESERVE, 0, 3);
	map_ok(slot(q, 2), 1, a);
	assert_awe_mbi(slot(q, 2), q, MEM_COMMIT, PAGE_READWRITE, 1);
	/* AWE regions are released whole, never decommitted or split. */
	W32_FAIL(VirtualFree(q, 0, MEM_DECOMMIT), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(slot(q, 1), 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	W32_FAIL(VirtualFree(q, pg(), MEM_RELEASE), ERROR_INVALID_ADDRESS);
	/* No commit inside. */
	W32_FAIL(VirtualAlloc(q, pg(), MEM_COMMIT, PAGE_READWRITE), ERROR_INVALID_ADDRESS);
	W32_OK(VirtualFree(q, 0, MEM_RELEASE));
	W32_OK(VirtualFree(r, 0, MEM_RELEASE));
	/* The pages outlive their regions while the handle is open. */
	r = section_region(s, 1);
	map_ok(r, 1, a);
	assert_mapped(r, a[0]);
	free(a);
}

/* With the native API: the PFNs are frame numbers, the regions windows. */
Test(section, native_view)
{
	HANDLE s = section_rw();
	PULONG_PTR a = section_pfns(s, 1);
	char *r = section_region(s, 4);
	struct awe_page_info pi;
	void *where = NULL;

	map_ok(slot(r, 1), 1, a);
	map_ok(slot(r, 3), 1, a);
	pi = query(slot(r, 3));
	cr_assert_eq(pi.frame, a[0]);
	cr_assert_eq(pi.window, r);
	cr_assert_eq(pi.window_size, 4 * pg());
	/* A section frame has no single address. */
	AWE_ERR(awe_frame_addr(a[0], &where), EINVAL);
	/* awe_window_destroy releases a region like VirtualFree. */
	AWE_OK(awe_window_destroy(r));
	W32_FAIL(VirtualFree(r, 0, MEM_RELEASE), ERROR_INVALID_ADDRESS);
	free(a);
}
