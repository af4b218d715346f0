/* SPDX-License-Identifier: MIT */
/*
 * Internals of libawe-win32. Internal functions report failure by returning
 * a Win32 error code (0 for success); only the exported functions turn it
 * into FALSE/NULL/0 plus last error and errno, through w32__fail().
 */
#ifndef AWE_W32_H
#define AWE_W32_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "awe.h"
#include "awe/win32.h"

#define W32__HIDDEN __attribute__((visibility("hidden")))

#define W32__GRANULARITY 0x10000u /* dwAllocationGranularity */
/* lpMaximumApplicationAddress + 1: where the user address space ends. */
#define W32__USER_END ((uintptr_t)0x7FFFFFFF0000)

/* The value of @expr, evaluated with errno kept: for libc or libawe calls
 * whose failure is handled here rather than reported, since an exported
 * function that succeeds leaves errno alone. A libawe call whose failure
 * fails the exported function needs none: it returns -errno, and leaves
 * errno alone when it succeeds. */
#define W32__KEEP_ERRNO(expr)                                                                      \
	__extension__({                                                                            \
		int w32__saved_errno_ = errno;                                                     \
		__typeof__(expr) w32__kept_ = (expr);                                              \
		errno = w32__saved_errno_;                                                         \
		w32__kept_;                                                                        \
	})

/* error.c --------------------------------------------------------------------- */

/* Set the thread's last error and errno to @code. */
W32__HIDDEN void w32__set_error(DWORD code);
/* Shorthands for the exported functions' failure returns. */
W32__HIDDEN BOOL w32__fail(DWORD code);
W32__HIDDEN void *w32__fail_ptr(DWORD code);
/* Whether @p can be @n elements of @size bytes of user memory: what
 * Windows' ProbeForRead/Write checks, short of touching the pages (Linux has
 * no such probe that is cheap); outside it, ERROR_NOACCESS. NULL is not. */
W32__HIDDEN bool w32__user_memory(const void *p, size_t n, size_t size);
/* Whether LIBAWE_WIN32_ERRORS=wrk asks for Server 2003's codes. */
W32__HIDDEN bool w32__wrk(void);
/* The Win32 code for a native libawe error from a map-like call. */
W32__HIDDEN DWORD w32__map_error(int err);
/* Judge one extended parameter that passed the checks every call makes: 0,
 * or why the call refuses it. */
typedef DWORD w32__ext_param_fn(const MEM_EXTENDED_PARAMETER *p, void *ctx);
/* The extended parameters @p[0..@count) as Windows captures them: refused
 * (ERROR_INVALID_PARAMETER) when there is a count but no array, or when one
 * has a reserved bit, type 0 (invalid), a type from @max (its kind's Max)
 * up, or a type seen before; else @fn judges it with @ctx. In array order,
 * the first refusal is the answer. A call that also refuses an array
 * without a count, or probes it, does so first. */
W32__HIDDEN DWORD w32__ext_params(const MEM_EXTENDED_PARAMETER *p, ULONG count, unsigned int max,
				  w32__ext_param_fn *fn, void *ctx);

/* handle.c -------------------------------------------------------------------- */

enum w32__htype {
	W32__H_PROCESS = 1, /* this process, opened with OpenProcess() */
	W32__H_TOKEN = 2,   /* this process's token */
	W32__H_SECTION = 3, /* an AWE section of libawe's */
};

/* 0 when @h is this process (the pseudo-handle, its PID or an OpenProcess()
 * handle) opened with every right in @access; else ERROR_INVALID_HANDLE (not a
 * process handle) or ERROR_ACCESS_DENIED. */
W32__HIDDEN DWORD w32__check_process(HANDLE h, DWORD access);
/* 0 and the rights @h was opened with when it names this process; else 6. */
W32__HIDDEN DWORD w32__process_rights(HANDLE h, DWORD *access);
/* The same for a token handle. */
W32__HIDDEN DWORD w32__check_token(HANDLE h, DWORD access);
/* What a section handle names: the native section, and what
 * CreateFileMapping2() said of it. */
struct w32__section {
	awe_section_t id; /* 0: none (the process, for w32__awe_object()) */
	bool large;	  /* SEC_LARGE_PAGES: large frames, large slots */
	int node;	  /* MemSectionExtendedParameterNumaNode, or -1 */
};

/* A new handle of @type with @access, or NULL when the table is full. */
W32__HIDDEN HANDLE w32__handle_new(enum w32__htype type, DWORD access);
/* The same for a section handle naming section @s. */
W32__HIDDEN HANDLE w32__section_handle_new(const struct w32__section *s, DWORD access);
/* 0 and the section (when @s is not NULL) when @h is a section handle with
 * every right in @access; 5 without them; 6 when @h is no section handle. */
W32__HIDDEN DWORD w32__check_section(HANDLE h, DWORD access, struct w32__section *s);
/* Whether @h is still a handle of native section @section (a concurrent
 * CloseHandle() may have closed it since it was checked). */
W32__HIDDEN bool w32__section_open(HANDLE h, awe_section_t section);

/* section.c ------------------------------------------------------------------- */

/* What an AWE object handle names (AllocateUserPhysicalPages2's
 * ObjectHandle): this process with PROCESS_VM_OPERATION (@s->id 0), or a
 * section with @section_access. Else 6 or 5. */
W32__HIDDEN DWORD w32__awe_object(HANDLE h, DWORD section_access, struct w32__section *s);

/* token.c --------------------------------------------------------------------- */

/* Whether SeLockMemoryPrivilege is held and enabled right now. */
W32__HIDDEN bool w32__lock_privilege_enabled(void);

/* physical.c ------------------------------------------------------------------ */

/* Note that the process reserved an AWE region (Windows creates its AWE
 * info block then). */
W32__HIDDEN void w32__awe_info_created(void);

/* virtual.c ------------------------------------------------------------------- */

/* The Win32 protection of an AWE page's protection @prot (AWE_PROT_*). */
W32__HIDDEN DWORD w32__win_prot(int prot);

/* views.c: the AWE regions reserved here ----------------------------------- */

/* Whether @addr is in an AWE region, and then its page's state in *@pi
 * (when @pi is not NULL); errno is kept. */
W32__HIDDEN bool w32__awe_region(const void *addr, struct awe_page_info *pi);

/* What the layer knows of an AWE region it reserved. */
struct w32__view {
	bool large;	       /* large slots */
	awe_section_t section; /* the section it is tied to, or 0 */
};

/* Note the AWE region at @base of @size bytes (0), or fail for want of
 * memory (ERROR_NOT_ENOUGH_MEMORY). */
W32__HIDDEN DWORD w32__view_note(void *base, size_t size, const struct w32__view *v);
/* Forget the region at @base (released). */
W32__HIDDEN void w32__view_forget(void *base);
/* Whether any region has large slots: when not, every slot is a page. */
W32__HIDDEN bool w32__large_views(void);
/* Whether the AWE region awe_query() described in *@pi is one noted above,
 * and then what it is in *@v. */
W32__HIDDEN bool w32__view_of(const struct awe_page_info *pi, struct w32__view *v);
/* Its slot size: awe_large_page_size() for a large one, else the page
 * size. */
W32__HIDDEN size_t w32__slot_size(const struct awe_page_info *pi);

/* region.c: ordinary (non-AWE) memory, the regions of VirtualAlloc's --------- */

/* VirtualAlloc() of ordinary memory; flags and protection already checked
 * as far as the common part goes. @align: a power of two >= the allocation
 * granularity for new regions. */
W32__HIDDEN DWORD w32__vmem_alloc(void *addr, SIZE_T size, DWORD type, DWORD prot, SIZE_T align,
				  void **out);
W32__HIDDEN DWORD w32__vmem_free(void *addr, SIZE_T size, DWORD type);
W32__HIDDEN DWORD w32__vmem_protect(void *addr, SIZE_T size, DWORD prot, DWORD *old);
/* The Win32 protection of mmap() protection @prot (PAGE_NOACCESS for one
 * Windows has not). */
W32__HIDDEN DWORD w32__vmem_prot(int prot);
/* true and *@mbi when @a is in a region of VirtualAlloc's; else false, and
 * what lies around @a is seen between *@lo and *@hi, the ends of the
 * neighbouring regions (the kernel may merge their mappings with others'). */
W32__HIDDEN bool w32__vmem_region(uintptr_t a, MEMORY_BASIC_INFORMATION *mbi, uintptr_t *lo,
				  uintptr_t *hi);

/* sysinfo.c ------------------------------------------------------------------- */

/* Number of NUMA nodes (at least 1). */
W32__HIDDEN DWORD w32__numa_nodes(void);

/* fork.c: the layer's one fork handler, installed when the library loads.
 * Its tables' locks are taken before fork() and let go after it in both
 * processes, and the child forgets its section handles (handle.c) and its
 * AWE regions (views.c), as it inherits none of libawe's. */
enum w32__fork_phase { W32__FORK_PREPARE, W32__FORK_PARENT, W32__FORK_CHILD };
W32__HIDDEN void w32__handles_fork(enum w32__fork_phase phase);
W32__HIDDEN void w32__regions_fork(enum w32__fork_phase phase);
W32__HIDDEN void w32__views_fork(enum w32__fork_phase phase);

#endif
