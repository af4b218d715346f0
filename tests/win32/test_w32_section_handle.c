/* SPDX-License-Identifier: MIT */
/*
 * §10.3: an AWE section's handle. CreateFileMapping2() with a
 * MemSectionExtendedParameterUserPhysicalFlags parameter (what it accepts,
 * what it refuses and in which order, the access rights the handle carries),
 * and CloseHandle(): the handle goes, the section lives while a region is
 * tied to it; a fork() child inherits none.
 */
#include "w32section.h"

#include <pthread.h>

/* CreateFileMapping2 with these arguments fails with @code and returns NULL. */
#define CREATE_FAILS(code, file, access, prot, attrs, size, name, params, count)                   \
	W32_FAIL(CreateFileMapping2((file), NULL, (access), (prot), (attrs), (size), (name),       \
				    (params), (count)),                                            \
		 code)

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
	/* ZGC's large-page AWE section: valid, once the privilege is enabled
	 * (test_w32_large.c). */
	CREATE_FAILS(ERROR_PRIVILEGE_NOT_HELD, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
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
	/* So is the privilege SEC_LARGE_PAGES needs. */
	CREATE_FAILS(ERROR_PRIVILEGE_NOT_HELD, INVALID_HANDLE_VALUE, RW_ACCESS, PAGE_READWRITE,
		     SEC_RESERVE | SEC_LARGE_PAGES, 0, (LPCWSTR)u"Local\\awe", &p, 1);
	enable_lock_privilege();
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
