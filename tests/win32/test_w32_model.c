/* SPDX-License-Identifier: MIT */
/*
 * Model check of the Win32 layer: the random call sequences of
 * tests/model.h made through AllocateUserPhysicalPages(Numa),
 * FreeUserPhysicalPages, VirtualAlloc(2), VirtualFree, MapUserPhysicalPages
 * (Scatter), VirtualProtect, VirtualQuery, CreateFileMapping2 and
 * CloseHandle, compared after every call with the model (BOOL or handle
 * result, GetLastError() and errno, VirtualQuery() of the slots beside the
 * native awe_query(), page contents and faults), with fixed seeds; then the
 * hostile phases. AWE_MODEL_SEED and AWE_MODEL_CALLS scale a run (./dev
 * campaign); see model.h.
 */
#include "w32helpers.h"

#include "../model.h"

/* Each call exactly as struct mcall describes it; no asserts (threads and
 * children call these too). */

#define W32_PREP()                                                                                 \
	do {                                                                                       \
		SetLastError(LE_CANARY);                                                           \
		errno = ERRNO_CANARY;                                                              \
	} while (0)

static void w32_result(struct mres *r, bool ok)
{
	r->eno = errno;
	r->err = (int)GetLastError();
	r->failed = !ok;
	r->ret = ok;
}

static HANDLE handle_of(const struct mcall *c)
{
	return (HANDLE)(uintptr_t)c->handle;
}

static void w_alloc(struct model *m, struct mcall *c, struct mres *r)
{
	ULONG_PTR n = c->count;
	PULONG_PTR pn = model_ptr(m, c->out, &n), a = model_ptr(m, c->arr, c->frames);
	BOOL ok;

	W32_PREP();
	if (c->node != -1)
		ok = AllocateUserPhysicalPagesNuma(handle_of(c), pn, a, (DWORD)c->node);
	else
		ok = AllocateUserPhysicalPages(handle_of(c), pn, a);
	w32_result(r, ok);
	r->got = n;
}

static void w_free(struct model *m, struct mcall *c, struct mres *r)
{
	ULONG_PTR n = c->count;
	PULONG_PTR pn = model_ptr(m, c->out, &n);
	BOOL ok;

	W32_PREP();
	ok = FreeUserPhysicalPages(handle_of(c), pn, model_ptr(m, c->arr, c->frames));
	w32_result(r, ok);
	r->got = n;
}

static void w_wcreate(struct model *m, struct mcall *c, struct mres *r)
{
	MEM_EXTENDED_PARAMETER p;
	void *base;

	(void)m;
	memset(&p, 0, sizeof(p));
	p.Type = MemExtendedParameterUserPhysicalHandle;
	p.Handle = handle_of(c);
	W32_PREP();
	if (c->proc)
		base = VirtualAlloc(c->addr, c->size, c->flags, (DWORD)c->prot);
	else
		base = VirtualAlloc2(NULL, c->addr, c->size, c->flags, (ULONG)c->prot, &p, 1);
	w32_result(r, base != NULL);
	r->base = base;
}

static void w_wdestroy(struct model *m, struct mcall *c, struct mres *r)
{
	BOOL ok;

	(void)m;
	W32_PREP();
	ok = VirtualFree(c->addr, c->size, c->type);
	w32_result(r, ok);
}

static void w_map(struct model *m, struct mcall *c, struct mres *r)
{
	PULONG_PTR a = c->frames_null ? NULL : model_ptr(m, c->arr, c->frames);
	BOOL ok;

	W32_PREP();
	ok = MapUserPhysicalPages(c->addr, c->count, a);
	w32_result(r, ok);
}

static void w_scatter(struct model *m, struct mcall *c, struct mres *r)
{
	PULONG_PTR a = c->frames_null ? NULL : model_ptr(m, c->arr, c->frames);
	BOOL ok;

	W32_PREP();
	ok = MapUserPhysicalPagesScatter(model_ptr(m, c->arr2, c->addrs), c->count, a);
	w32_result(r, ok);
}

static void w_protect(struct model *m, struct mcall *c, struct mres *r)
{
	DWORD old = MODEL_OLD_SENTINEL;
	BOOL ok;

	W32_PREP();
	ok = VirtualProtect(c->addr, c->size, (DWORD)c->prot, model_ptr(m, c->out, &old));
	w32_result(r, ok);
	r->old = (int)old;
}

static void w_query(struct model *m, struct mcall *c, struct mres *r)
{
	SIZE_T q;

	W32_PREP();
	q = VirtualQuery(c->addr, model_ptr(m, c->out, &r->mbi), c->len);
	w32_result(r, q != 0);
	r->qret = q;
}

/* CreateFileMapping2(): the documented AWE section (variant 0), or one of
 * four calls Windows refuses. */
static void w_screate(struct model *m, struct mcall *c, struct mres *r)
{
	MEM_EXTENDED_PARAMETER p;
	HANDLE file = c->type == 1 ? NULL : INVALID_HANDLE_VALUE, h;
	ULONG prot = c->type == 3 ? PAGE_READONLY : PAGE_READWRITE;
	ULONG attrs = c->type == 4 ? SEC_COMMIT : SEC_RESERVE;
	ULONG64 size = c->type == 2 ? 4096 : 0;

	(void)m;
	memset(&p, 0, sizeof(p));
	p.Type = MemSectionExtendedParameterUserPhysicalFlags;
	W32_PREP();
	h = CreateFileMapping2(file, NULL, SECTION_MAP_READ | SECTION_MAP_WRITE, prot, attrs, size,
			       NULL, &p, 1);
	w32_result(r, h != NULL);
	r->section = (uint64_t)(uintptr_t)h;
}

static void w_sclose(struct model *m, struct mcall *c, struct mres *r)
{
	BOOL ok;

	(void)m;
	W32_PREP();
	ok = CloseHandle(handle_of(c));
	w32_result(r, ok);
}

/* SeLockMemoryPrivilege, as a Windows program enables it. */
static void w_setup(struct model *m)
{
	DWORD le = 0;

	m->priv_enabled = set_lock_privilege(SE_PRIVILEGE_ENABLED, &le) && le == ERROR_SUCCESS;
	if (!m->priv_enabled)
		fprintf(stderr,
			"libawe model: SeLockMemoryPrivilege is not held (last error %u): "
			"every allocation must fail with 1314\n",
			le);
}

/* VirtualQuery()'s view of the slot beside awe_query()'s. */
static const char *w_check_slot(struct model *m, int w, size_t s, void *addr)
{
	MEMORY_BASIC_INFORMATION mbi;

	(void)s;
	memset(&mbi, 0xa5, sizeof(mbi));
	if (VirtualQuery(addr, &mbi, sizeof(mbi)) != sizeof(mbi))
		return "VirtualQuery failed";
	return model_w32_mbi_check(m, w, addr, &mbi);
}

/* In a fork child: the parent's regions are no regions, its sections'
 * handles are invalid, its PFNs nobody's. */
static const char *w_child_check(const struct model_snap *snap)
{
	for (int i = 0; i < snap->nw; i++) {
		if (MapUserPhysicalPages((void *)snap->base[i], 1, NULL) ||
		    GetLastError() != ERROR_INVALID_PARAMETER)
			return "MapUserPhysicalPages() of the parent's region is not 87";
		if (VirtualFree((void *)snap->base[i], 0, MEM_RELEASE) ||
		    GetLastError() != ERROR_INVALID_ADDRESS)
			return "VirtualFree() of the parent's region is not 487";
	}
	for (int i = 0; i < snap->ns; i++) {
		ULONG_PTR n = 1, pfn;

		if (AllocateUserPhysicalPages((HANDLE)(uintptr_t)snap->sec[i], &n, &pfn) ||
		    GetLastError() != ERROR_INVALID_HANDLE)
			return "AllocateUserPhysicalPages() with the parent's section is not 6";
	}
	for (int i = 0; i < snap->nf; i++) {
		ULONG_PTR n = 1, pfn = snap->f[i];

		/* 87 if the child counts as a process that never allocated. */
		if (FreeUserPhysicalPages(GetCurrentProcess(), &n, &pfn) ||
		    (GetLastError() != ERROR_INVALID_ADDRESS &&
		     GetLastError() != ERROR_INVALID_PARAMETER) ||
		    n != 0)
			return "FreeUserPhysicalPages() of the parent's PFN is not 487";
	}
	return NULL;
}

static const struct model_backend win32 = {
	.name = "win32",
	.w32 = true,
	.exec =
		{
			[K_ALLOC] = w_alloc,
			[K_FREE] = w_free,
			[K_WCREATE] = w_wcreate,
			[K_WDESTROY] = w_wdestroy,
			[K_MAP] = w_map,
			[K_SCATTER] = w_scatter,
			[K_PROTECT] = w_protect,
			[K_QUERY] = w_query,
			[K_SCREATE] = w_screate,
			[K_SCLOSE] = w_sclose,
		},
	.setup = w_setup,
	.check_slot = w_check_slot,
	.child_check = w_child_check,
};

/* Fixed seeds: ./dev test replays exactly these sequences. */
Test(model, random)
{
	model_random_run(&win32, "random", "mixed", 0x5eed1001, 300000);
}

Test(model, random_sections)
{
	model_random_run(&win32, "random_sections", "sections", 0x5eed1002, 200000);
}

/* The model under hostile conditions (model.h). */
Test(model, memlock)
{
	model_phase_memlock(&win32);
}

Test(model, nofile)
{
	model_phase_nofile(&win32);
}

Test(model, cgroup)
{
	model_phase_cgroup(&win32);
}

Test(model, fork)
{
	model_phase_fork(&win32);
}

Test(model, cancel)
{
	model_phase_cancel(&win32);
}
