/* SPDX-License-Identifier: MIT */
/*
 * VirtualQuery() and VirtualQueryEx(): what any address is. An AWE region
 * is described from awe_query(), a region of VirtualAlloc's from region.c's
 * table, and everything else in the address space (memory mapped otherwise,
 * free address space) from /proc/self/maps, where an allocation is the run
 * of mappings that one mmap() call or one file left, as far as the lines
 * tell.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "w32.h"

/* One line of /proc/self/maps. */
struct maps_line {
	uintptr_t start, end;
	char perms[5];
	unsigned int major, minor;
	unsigned long long inode;
	const char *path; /* "" when anonymous */
};

static bool parse_line(char *s, struct maps_line *l)
{
	unsigned long start, end;
	unsigned long long off;
	int n = 0;

	if (sscanf(s, "%lx-%lx %4s %llx %x:%x %llu %n", &start, &end, l->perms, &off, &l->major,
		   &l->minor, &l->inode, &n) < 7 ||
	    !n)
		return false;
	s[strcspn(s, "\n")] = '\0';
	l->start = start;
	l->end = end;
	l->path = s + n;
	return true;
}

static DWORD perms_protect(const char *perms)
{
	int p = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		(perms[2] == 'x' ? PROT_EXEC : 0);

	if (p & PROT_WRITE) /* no write-only pages on Windows */
		p |= PROT_READ;
	return w32__vmem_prot(p);
}

static bool is_image(const char *path)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *so = strstr(path, ".so");

	if (n > 0 && strncmp(path, exe, (size_t)n) == 0 && (!path[n] || path[n] == ' '))
		return true;
	/* libfoo.so, libfoo.so.6, "libfoo.so (deleted)"; not in a directory name */
	for (; so; so = strstr(so + 3, ".so")) {
		if ((!so[3] || so[3] == '.' || so[3] == ' ') && !strchr(so, '/'))
			return true;
	}
	return false;
}

static DWORD mapping_type(const struct maps_line *l)
{
	if (l->path[0] == '/')
		return is_image(l->path) ? MEM_IMAGE : MEM_MAPPED;
	if (strcmp(l->path, "[vdso]") == 0)
		return MEM_IMAGE;
	/* Shared anonymous memory is a pagefile-backed section on Windows. */
	if (l->perms[3] == 's')
		return MEM_MAPPED;
	return MEM_PRIVATE;
}

/* Whether @l continues the allocation @prev belongs to: the next segment of
 * the same file (as an image's sections share its base), or anonymous
 * memory the kernel could not merge with @prev but that looks the same
 * (split by mlock() or madvise(), say). Never into an AWE window. */
static bool same_allocation(const struct maps_line *prev, const struct maps_line *l)
{
	if (l->start != prev->end || l->inode != prev->inode || l->major != prev->major ||
	    l->minor != prev->minor)
		return false;
	if (l->inode)
		return true;
	if (strcmp(l->perms, prev->perms) != 0 || strcmp(l->path, prev->path) != 0)
		return false;
	return !w32__awe_region((const void *)l->start, NULL) &&
	       !w32__awe_region((const void *)(prev->end - 1), NULL);
}

/* Describe page @a from /proc/self/maps, seen only between @lo and @hi (the
 * neighbouring regions of VirtualAlloc's, which the kernel may merge with
 * others). */
static DWORD query_maps(uintptr_t a, uintptr_t lo, uintptr_t hi, MEMORY_BASIC_INFORMATION *mbi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char *buf = NULL, path[2][PATH_MAX + 32] = {""};
	size_t cap = 0;
	struct maps_line l, prev = {.path = path[0]}, cur = {0};
	uintptr_t alloc = 0, end = hi;
	DWORD alloc_prot = 0;
	bool found = false;

	if (!f)
		return ERROR_NOT_SUPPORTED; /* no /proc: nothing to describe it with */
	while (getline(&buf, &cap, f) > 0) {
		bool joins;

		if (!parse_line(buf, &l))
			continue;
		joins = same_allocation(&prev, &l);
		if (found) {
			/* The run: the same allocation and protection. */
			if (!joins || strcmp(l.perms, cur.perms) != 0)
				break;
			end = l.end;
		} else if (l.start > a) {
			end = l.start;
			break;
		} else {
			if (!joins) {
				alloc = l.start;
				alloc_prot = perms_protect(l.perms);
			}
			if (l.end > a) {
				found = true;
				cur = l;
				cur.path = path[1];
				snprintf(path[1], sizeof(path[1]), "%s", l.path);
				end = l.end;
			}
		}
		prev = l;
		prev.path = path[0];
		snprintf(path[0], sizeof(path[0]), "%s", l.path);
	}
	free(buf);
	fclose(f);
	if (end > hi)
		end = hi;
	if (end > W32__USER_END)
		end = W32__USER_END;
	*mbi = (MEMORY_BASIC_INFORMATION){.BaseAddress = (void *)a};
	mbi->RegionSize = end - a;
	if (!found) {
		mbi->State = MEM_FREE;
		mbi->Protect = PAGE_NOACCESS;
		return 0;
	}
	mbi->AllocationBase = (void *)(alloc > lo ? alloc : lo);
	mbi->State = MEM_COMMIT;
	mbi->Protect = perms_protect(cur.perms);
	mbi->Type = mapping_type(&cur);
	/* What Windows reports for every image section. */
	mbi->AllocationProtect = mbi->Type == MEM_IMAGE ? PAGE_EXECUTE_WRITECOPY : alloc_prot;
	return 0;
}

/* Page @a, in no AWE region: a region of VirtualAlloc's, or what the kernel
 * shows. */
static DWORD query_other(uintptr_t a, MEMORY_BASIC_INFORMATION *mbi)
{
	uintptr_t lo, hi;

	if (w32__vmem_region(a, mbi, &lo, &hi))
		return 0;
	/* fopen(), getline() and readlink() may set errno on the way. */
	return W32__KEEP_ERRNO(query_maps(a, lo, hi, mbi));
}

/* One page of an AWE region, as VirtualQuery reports it. */
static void awe_page_state(const struct awe_page_info *pi, DWORD *state, DWORD *prot)
{
	*state = pi->frame ? MEM_COMMIT : MEM_RESERVE;
	*prot = pi->frame ? w32__win_prot(pi->prot) : 0;
}

static DWORD query_any(const void *addr, PMEMORY_BASIC_INFORMATION mbi, SIZE_T len)
{
	uintptr_t p = (uintptr_t)addr & ~(uintptr_t)(awe_page_size() - 1), end, unit;
	struct awe_page_info pi, next;
	DWORD state, prot, s2, p2;

	if (len < sizeof(*mbi))
		return ERROR_BAD_LENGTH;
	if (!w32__user_memory(mbi, 1, sizeof(*mbi)))
		return ERROR_NOACCESS;
	if ((uintptr_t)addr >= W32__USER_END)
		return ERROR_INVALID_PARAMETER;
	if (!w32__awe_region((void *)p, &pi))
		return query_other(p, mbi);
	awe_page_state(&pi, &state, &prot);
	/* The run of pages with the same state, within the region, slot by
	 * slot: a large slot's pages share its state. */
	unit = w32__slot_size(&pi);
	end = (uintptr_t)pi.window + pi.window_size;
	for (uintptr_t q = (p & ~(unit - 1)) + unit; q < end; q += unit) {
		w32__awe_region((void *)q, &next);
		awe_page_state(&next, &s2, &p2);
		if (s2 != state || p2 != prot) {
			end = q;
			break;
		}
	}
	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)p,
		.AllocationBase = pi.window,
		.AllocationProtect = PAGE_READWRITE,
		.RegionSize = end - p,
		.State = state,
		.Protect = prot,
		.Type = MEM_PRIVATE,
	};
	return 0;
}

/* Both end alike: the size of what they wrote, or 0 with the error. */
static SIZE_T query_result(DWORD r, SIZE_T size)
{
	if (r) {
		w32__fail(r);
		return 0;
	}
	return size;
}

SIZE_T VirtualQuery(LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer, SIZE_T dwLength)
{
	return query_result(query_any(lpAddress, lpBuffer, dwLength), sizeof(*lpBuffer));
}

SIZE_T VirtualQueryEx(HANDLE hProcess, LPCVOID lpAddress, PMEMORY_BASIC_INFORMATION lpBuffer,
		      SIZE_T dwLength)
{
	DWORD r = w32__check_process(hProcess, PROCESS_QUERY_INFORMATION);

	r = r ? r : query_any(lpAddress, lpBuffer, dwLength);
	return query_result(r, sizeof(*lpBuffer));
}
