/* SPDX-License-Identifier: MIT */
/*
 * libawe — Address Windowing Extensions for Linux.
 *
 * A process allocates "physical pages" (frames): locked, resident,
 * zero-filled pages named by opaque non-zero frame numbers. It reserves
 * virtual *windows* and maps any frame at any page slot of any window, one
 * address per frame at a time. Unmapping keeps the window reserved and the
 * frame's contents; only awe_free() gives a frame back.
 *
 * State is per process, as on Windows: every thread sees the same frames and
 * windows, and a child created by fork() inherits none of them.
 *
 * Error contract: every function that can fail returns a negative errno
 * value on failure and also stores the positive value in errno. On success
 * errno is left untouched. awe_strerror() explains each code in libawe's own
 * terms. A failing call changes nothing, unless its description says
 * otherwise (only awe_free() works entry by entry, as Windows does). The one
 * exception is -ENOTRECOVERABLE, which any call that changes slots may
 * return: the kernel failed part of the way (as for -ENOMEM or -EIO) and then
 * refused to undo part of what was done (a page pinned meanwhile). Some
 * slots then changed: each shows its frame from before or after the call,
 * or is empty with its old frame unmapped; awe_query() and awe_frame_addr()
 * tell which, every frame stays allocated with its contents, and an empty
 * slot faults.
 *
 * Addresses: an address may point anywhere inside a page slot; it names the
 * whole slot (Windows rounds down the same way). Counts are in pages of
 * awe_page_size() bytes.
 *
 * Pointer arguments: NULL where a pointer is needed, and a pointer or array
 * that is not all within user memory (below vm.mmap_min_addr, beyond the
 * top of the user address space, or running off its end), fail with
 * -EFAULT before anything is touched or changed.
 *
 * Access to an unmapped slot, a write to a read-only slot, and any access to
 * a slot protected with AWE_PROT_NONE raise a signal with si_addr at the
 * faulting address, libawe's equivalent of Windows' access violation:
 * SIGBUS with the uffd-move engine, SIGSEGV with the memfd engine and in the
 * windows of AWE sections (awe_stats() names the engine). A system call that
 * reads or writes such a slot fails with EFAULT instead.
 *
 * Signal handlers: a handler of the fault above may call any libawe
 * function, typically to map the faulting page (the interrupted access is
 * the program's, not libawe's). A call made by a handler on a thread that
 * was inside a libawe call when the signal arrived fails with -EDEADLK and
 * changes nothing. libawe functions may allocate memory, so handlers of
 * asynchronous signals should not call them.
 */
#ifndef AWE_H
#define AWE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <awe/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AWE_BUILDING) && defined(__GNUC__)
#define AWE_API __attribute__((visibility("default")))
#else
#define AWE_API
#endif

/* An opaque, non-zero frame number. Numbers are never reused for another
 * frame while the process lives, so a freed number stays invalid. */
typedef uint64_t awe_frame_t;

/* The bit of a frame number that marks a large frame (see
 * awe_alloc_ex()): a frame number says which kind of frame it names. */
#define AWE_FRAME_LARGE ((awe_frame_t)1 << 62)

/* An AWE section's handle: non-zero, never reused. */
typedef uint32_t awe_section_t;

/* Flags for awe_init(). */
enum {
	/* Frames are neither locked nor counted against RLIMIT_MEMLOCK: they are
	 * resident when allocated but the kernel may swap them out later. Meant
	 * for unprivileged programs that accept that; without this flag (or the
	 * environment variable LIBAWE_UNLOCKED=1) frames are always locked. */
	AWE_INIT_UNLOCKED = 1u << 0,
};

/* Flags for awe_window_create(). */
enum {
	/* Place the window exactly at the hint (rounded down to a page), failing
	 * with -EEXIST if anything is mapped there. Never replaces a mapping. */
	AWE_WINDOW_FIXED = 1u << 0,
	/* Slots of awe_large_page_size() bytes, for large frames: the base, a
	 * FIXED hint and the size are in large pages (the hint is rounded down
	 * and the size up to one). Section windows take their slot size from
	 * the section, and refuse this flag for a section of small frames. */
	AWE_WINDOW_LARGE = 1u << 1,
	/* Bits 8-13: the base's alignment, see AWE_WINDOW_ALIGN(). */
	AWE_WINDOW_ALIGN_SHIFT = 8,
	AWE_WINDOW_ALIGN_MASK = 0x3fu << 8,
};

/* Align the window's base to 2^@k bytes (@k from 1 to 62; up to the page
 * size it changes nothing): a flag of awe_window_create(). With
 * AWE_WINDOW_FIXED the hint, rounded down to a page, must be so aligned. */
#define AWE_WINDOW_ALIGN(k) ((unsigned int)(k) << AWE_WINDOW_ALIGN_SHIFT)

/* Page protections for awe_protect(); the values are those of mmap(2). */
enum {
	AWE_PROT_NONE = 0,	/* PROT_NONE */
	AWE_PROT_READ = 1,	/* PROT_READ */
	AWE_PROT_READWRITE = 3, /* PROT_READ | PROT_WRITE */
};

/* What awe_query() reports about one page slot. */
struct awe_page_info {
	awe_frame_t frame;  /* frame mapped at the slot, 0 when unmapped */
	int prot;	    /* AWE_PROT_* of the mapped frame; AWE_PROT_NONE when unmapped */
	void *window;	    /* base of the window holding the slot */
	size_t window_size; /* its size in bytes */
};

/* Process-wide counters, from awe_stats(). */
struct awe_stats {
	uint64_t frames_allocated; /* frames owned by the process */
	uint64_t frames_mapped;	   /* of those, mapped in some window */
	uint64_t windows;	   /* windows reserved */
	uint64_t window_bytes;	   /* their total size */
	uint64_t parking_bytes;	   /* address space reserved to hold unmapped frames */
	uint64_t memlock_limit;	   /* bytes this process may lock; UINT64_MAX: unlimited */
	const char *engine;	   /* default engine: "uffd-move" or "memfd" */
	uint32_t locked;	   /* 1 when frames are locked, 0 with AWE_INIT_UNLOCKED */
	uint32_t reserved0;
	const char *engine_reason; /* why that engine, e.g. "fallback: userfaultfd(2) was
				      refused with EPERM: a seccomp filter ..." */
	uint64_t max_map_count;	   /* vm.max_map_count, as last read (the memfd
				      engine reads it again as it counts the
				      process's mappings) */
	uint64_t vmas_worst;	   /* memfd windows (the memfd engine's, and all AWE
				      sections'): the most VMAs they can come to by
				      unmapping; maps that would bring it near
				      max_map_count fail with -ENOMEM */
	uint64_t reserved[3];
};

/*
 * awe_init - choose options and start the engine.
 *
 * Optional: every other function initialises libawe with flags 0 (or with
 * AWE_INIT_UNLOCKED when LIBAWE_UNLOCKED=1 is in the environment) on first
 * use. Calling it again with the same flags succeeds.
 *
 * Errors:
 *   -EINVAL     unknown flag.
 *   -EBUSY      already initialised with different flags.
 *   -ENOSYS     userfaultfd(2) is not available (kernel built without it, or
 *               blocked by a seccomp filter or by policy).
 *   -EOPNOTSUPP the kernel's userfaultfd lacks a feature the engine needs:
 *               UFFDIO_MOVE (Linux 6.8), UFFD_FEATURE_SIGBUS or anonymous
 *               write-protection; awe_strerror() names which.
 *   -EMFILE, -ENFILE  no file descriptor left for the userfaultfd or memfd,
 *               or to read the system's limits.
 *   -ENOMEM     out of memory.
 *   -EDEADLK    called from a signal handler on a thread that was inside a
 *               libawe call (every function fails so then, changing
 *               nothing).
 */
AWE_API int awe_init(unsigned int flags);

/*
 * awe_alloc - allocate up to @count frames and store their numbers in
 * @frames[0..n-1]; entries past n are not touched.
 *
 * Returns the number n of frames allocated, which may be less than @count
 * when memory (what the host and every level of the process's memory
 * cgroups, v1 or v2, allow; see awe(7)), the RLIMIT_MEMLOCK allowance or the
 * frame-number space runs out (as Windows may return fewer pages). Frames are zero-filled, resident
 * and, unless AWE_INIT_UNLOCKED, locked. @count == 0 returns 0.
 *
 * Errors (nothing allocated):
 *   -EFAULT  @frames is NULL while @count > 0.
 *   -EINVAL  @count is larger than the address space could ever hold.
 *   -ENOMEM  not a single frame could be allocated.
 *   -EPERM   frames must be locked but the process may not lock any more
 *            memory: it has neither CAP_IPC_LOCK nor room under
 *            RLIMIT_MEMLOCK. Raise the limit or use AWE_INIT_UNLOCKED.
 *   any error of awe_init().
 */
AWE_API ssize_t awe_alloc(awe_frame_t *frames, size_t count);

/*
 * awe_alloc_node - like awe_alloc(), preferring memory of NUMA node @node
 * (a preference, not a guarantee). @node == -1 means no preference.
 *
 * Errors: those of awe_alloc(), and -EINVAL when @node is neither -1 nor an
 * online node.
 */
AWE_API ssize_t awe_alloc_node(awe_frame_t *frames, size_t count, int node);

/* Flags for awe_alloc_ex(). */
enum {
	/* Large frames: each is one huge page of awe_large_page_size() bytes
	 * (2 MiB on x86-64 and on arm64 with 4 KiB pages), never a run of small
	 * pages, with AWE_FRAME_LARGE set in its number. They are mapped only
	 * in windows created with AWE_WINDOW_LARGE, one frame per slot. */
	AWE_ALLOC_LARGE = 1u << 0,
};

/*
 * awe_alloc_ex - awe_alloc_node() with @flags (0 or AWE_ALLOC_LARGE).
 *
 * Large frames come from transparent huge pages with the uffd-move engine
 * (in THP mode "always" or "madvise" a fault builds one; in "never"
 * MADV_COLLAPSE does), and with the memfd engine from the hugetlb pool
 * (vm.nr_hugepages) while it has a free page, else from shmem huge pages
 * (shmem_enabled). Each one is checked to be a single huge page once
 * populated: a frame the kernel could only build from small pages is not
 * handed out, so when huge pages run out (fragmentation, an empty hugetlb
 * pool) the call returns fewer frames than asked, as Windows does.
 * awe-info(1) tells how many could be had here and why not. @count is in
 * large frames.
 *
 * Errors: those of awe_alloc_node(), -EINVAL for an unknown flag, and
 * -EOPNOTSUPP when the engine cannot have huge pages at all on this system
 * (a kernel without them; memfd: no free hugetlb page and shmem huge pages
 * off, or shmem huge pages on a kernel that cannot tell huge pages,
 * before Linux 6.7); -ENOMEM when not a single huge page could be had.
 */
AWE_API ssize_t awe_alloc_ex(awe_frame_t *frames, size_t count, int node, unsigned int flags);

/*
 * awe_frame_node - store in *@node the NUMA node the page of @frame (of
 * the process or of a section) lives on, as move_pages(2) reports it.
 *
 * Errors: -EFAULT @node is NULL; -ENOENT @frame is not an allocated frame;
 * -ENOSYS the kernel has no NUMA support (then there is one node, 0, and
 * nothing to ask); -EPERM move_pages(2) is refused (a seccomp filter);
 * -ENOMEM (memfd engine) no room to view the page to ask about it; -EIO
 * the kernel could not find the page.
 */
AWE_API int awe_frame_node(awe_frame_t frame, int *node);

/* awe_large_page_size - the size of a large frame and of a slot of an
 * AWE_WINDOW_LARGE window, in bytes: the kernel's PMD size (2 MiB on
 * x86-64); 0 when the kernel has no transparent huge pages nor hugetlbfs. */
AWE_API size_t awe_large_page_size(void);

/*
 * awe_free - free frames in array order, stopping at the first number that
 * is not a frame of this process (never allocated, already freed, 0, or
 * listed earlier in the same call). A mapped frame is unmapped first; its
 * slot then faults like any unmapped slot.
 *
 * Not all-or-nothing, as on Windows: the frames before a bad entry are
 * freed. When @freed is not NULL it receives the number of frames freed,
 * whether the call succeeds or fails.
 *
 * Errors:
 *   -EINVAL  @count is 0.
 *   -EFAULT  @frames is NULL.
 *   -ENOENT  @frames[*freed] is not a frame of this process.
 *   -ENOMEM  @frames[*freed] is mapped and the kernel refused to take it
 *            off its slot (the memfd engine, when the process has run out
 *            of mappings): it and the frames after it stay allocated and
 *            mapped where they were.
 *   -EIO     the kernel refused to unmap @frames[*freed] (a pinned page),
 *            or to release its memory: it and the frames after it stay
 *            allocated with their contents (in the second case perhaps
 *            unmapped).
 * A frame not freed is still valid; a frame freed is unreachable.
 */
AWE_API int awe_free(const awe_frame_t *frames, size_t count, size_t *freed);

/*
 * awe_window_create - reserve a window of @size bytes (rounded up to whole
 * pages). Its slots start unmapped. @hint, when not NULL, is where to put
 * it (rounded down to a page); without AWE_WINDOW_FIXED it is only a hint.
 * The base is stored in *@base.
 *
 * Windows are not inherited across fork(). In locked mode a window of the
 * uffd-move engine counts against RLIMIT_MEMLOCK for its whole size (the
 * kernel accounts locked ranges, not resident pages), unless the process
 * has CAP_IPC_LOCK; memfd windows lock nothing themselves.
 *
 * Errors:
 *   -EFAULT  @base is NULL.
 *   -EINVAL  @size is 0 or larger than the user address space, an unknown
 *            flag, an alignment of 2^63 or more than the user address
 *            space, AWE_WINDOW_FIXED without a hint or with a hint that
 *            does not have the alignment asked for.
 *   -EEXIST  AWE_WINDOW_FIXED and the range is already in use.
 *   -ENOMEM  no address space or memory left (or vm.max_map_count reached).
 *   -EPERM   the window cannot be locked (see awe_alloc()).
 *   any error of awe_init().
 */
AWE_API int awe_window_create(size_t size, void *hint, unsigned int flags, void **base);

/*
 * awe_window_destroy - unmap every frame mapped in the window starting at
 * @base and release the address range. The frames stay allocated and keep
 * their contents.
 *
 * Errors (the window and its frames stay as they were):
 *   -EINVAL  @base is not the base address of a window.
 *   -ENOMEM, -EIO  the kernel refused to take a frame off the window, as
 *            for awe_map().
 */
AWE_API int awe_window_destroy(void *base);

/*
 * awe_map - map @frames[0..count-1] at the @count consecutive slots starting
 * at the slot holding @addr; with @frames == NULL, unmap those slots
 * instead (slots already empty are fine).
 *
 * A frame mapped at a slot before the call is detached (it stays allocated,
 * with its contents). Newly mapped slots are read-write, whatever
 * protection the slot or the frame had before. All-or-nothing: every
 * argument is checked before anything changes, and a kernel failure part of
 * the way through is rolled back. @count == 0 returns 0.
 *
 * Errors (nothing changed):
 *   -EFAULT  @addr is NULL (while @count > 0).
 *   -EINVAL  the range does not lie inside a single window, or @count
 *            overflows the address space.
 *   -ENOENT  an entry is not a frame of this process (never allocated,
 *            freed, or 0).
 *   -EBUSY   an entry is already mapped (anywhere, including the same slot),
 *            or appears twice in @frames. Unmap first.
 *   -ENOMEM  the kernel ran out of memory for page tables; or (memfd engine
 *            and AWE section windows) the map would bring the process near
 *            vm.max_map_count, or the process has run out of mappings, when
 *            even an unmap that splits a mapping fails this way.
 *   -EIO     the kernel refused to move a page (for example a frame pinned
 *            by in-flight I/O).
 *   any error of awe_init().
 */
AWE_API int awe_map(void *addr, size_t count, const awe_frame_t *frames);

/*
 * awe_map_scatter - map @frames[i] at the slot holding @addrs[i], for each
 * i < @count. The slots may lie in different windows. @frames[i] == 0
 * unmaps @addrs[i]; @frames == NULL unmaps every listed slot. When a slot is
 * listed twice the later entry wins, as if applied in array order. Other
 * rules, and the errors, are those of awe_map(); -EFAULT is returned for a
 * NULL @addrs or a NULL entry of it, -EINVAL for an address outside every
 * window and for a @count above UINT32_MAX (2^32 addresses are 32 GiB of
 * them).
 */
AWE_API int awe_map_scatter(void *const *addrs, size_t count, const awe_frame_t *frames);

/* Flags of awe_unmap() and awe_unmap_scatter(). */
enum {
	/*
	 * The evictor's promise: no other thread reads or writes the listed
	 * pages while the call runs (a buffer pool's or a pager's evictor
	 * holds their latches). libawe may then copy each page out and drop
	 * the whole batch from the page tables at once, one TLB shootdown for
	 * the call instead of one per page when the process has other threads
	 * running. Broken, the promise costs data: a write to a listed page
	 * during the call may be lost. Without it a write that completes
	 * before the unmap is always kept, as on Windows.
	 */
	AWE_UNMAP_EXCLUSIVE = 1u << 0,
};

/*
 * awe_unmap - unmap the @count consecutive slots starting at the slot
 * holding @addr: awe_map(@addr, @count, NULL) with @flags (0 or
 * AWE_UNMAP_EXCLUSIVE). Errors are those of awe_map(), and -EINVAL for an
 * unknown flag (checked first, also when @count is 0).
 *
 * awe_unmap_scatter - unmap the slots holding @addrs[0..count-1]:
 * awe_map_scatter(@addrs, @count, NULL) with @flags.
 */
AWE_API int awe_unmap(void *addr, size_t count, unsigned int flags);
AWE_API int awe_unmap_scatter(void *const *addrs, size_t count, unsigned int flags);

/*
 * awe_protect - set the protection of the mapped frames in the @count slots
 * starting at the slot holding @addr, to AWE_PROT_NONE, AWE_PROT_READ or
 * AWE_PROT_READWRITE. Unmapped slots are left unmapped, and awe_map()
 * makes a slot read-write again. A frame protected with AWE_PROT_NONE stays
 * mapped (awe_query() reports it, and it cannot be mapped elsewhere) but
 * every access to it faults. All-or-nothing like awe_map().
 *
 * If @old is not NULL it receives the protection the first slot had
 * (AWE_PROT_NONE when unmapped), as VirtualProtect() reports it. @count == 0
 * returns 0 (after @prot is checked) and leaves *@old alone.
 *
 * Errors:
 *   -EFAULT  @addr is NULL (while @count > 0).
 *   -EINVAL  @prot is not one of the three values, or the range does not lie
 *            inside a single window.
 *   -ENOMEM, -EIO  as for awe_map().
 */
AWE_API int awe_protect(void *addr, size_t count, int prot, int *old);

/*
 * awe_query - describe the slot holding @addr.
 *
 * Errors:
 *   -EFAULT  @info is NULL.
 *   -EINVAL  @addr is not inside a window.
 */
AWE_API int awe_query(const void *addr, struct awe_page_info *info);

/*
 * awe_frame_addr - store in *@addr the slot where @frame is mapped, or NULL
 * when it is not mapped.
 *
 * Errors:
 *   -EFAULT  @addr is NULL.
 *   -ENOENT  @frame is not a frame of this process.
 */
AWE_API int awe_frame_addr(awe_frame_t frame, void **addr);

/*
 * AWE sections (Windows 10's AWE section object): frames that may be shown
 * at several addresses at once, in windows tied to the section. Writes
 * through one address are seen through the others at once (the pages are
 * shared, so sections always use the memfd engine, whatever awe_stats()
 * says of the default engine). A section's frames can be mapped only into
 * its windows, and its windows show only its frames (-ENOENT otherwise).
 * awe_map(), awe_map_scatter(), awe_protect() and awe_query() work on section
 * windows as on others, except that a frame may be at several slots, even
 * within one call; the protection is per slot. One call cannot change
 * section windows and plain windows (or two sections' windows) together
 * (-EINVAL). awe_frame_addr() of a section frame is -EINVAL: use awe_query().
 */

/* Flags for awe_section_create(). */
enum {
	/* The section's frames are large (AWE_ALLOC_LARGE), and so are its
	 * windows' slots: Windows' SEC_LARGE_PAGES. */
	AWE_SECTION_LARGE = 1u << 0,
};

/*
 * awe_section_create - create an empty section; its handle goes to
 * *@section. @flags: 0 or AWE_SECTION_LARGE.
 *
 * Errors: -EFAULT @section is NULL; -EINVAL an unknown flag; -ENOMEM;
 * -ENOSYS no memfd_create(2); -EOPNOTSUPP AWE_SECTION_LARGE and the system
 * has neither hugetlbfs pages reserved nor shmem huge pages enabled; any
 * error of awe_init().
 */
AWE_API int awe_section_create(unsigned int flags, awe_section_t *section);

/*
 * awe_section_close - give up the handle. Allocating, freeing and tying new
 * windows then fail with -ENOENT. The section and its frames live on while a
 * window is tied to it (its frames can still be mapped there); destroying
 * the last such window, or closing a section that has none, frees them.
 *
 * Errors: -ENOENT @section is not an open section.
 */
AWE_API int awe_section_close(awe_section_t section);

/*
 * awe_section_alloc, awe_section_free - awe_alloc() and awe_free() for the
 * frames of section @section (-ENOENT when it is not open). Freeing unmaps a
 * frame from every slot showing it. The frames of a section are not frames
 * of the process: awe_free() refuses them, and awe_section_free() refuses
 * the process's and other sections' frames (-ENOENT).
 */
AWE_API ssize_t awe_section_alloc(awe_section_t section, awe_frame_t *frames, size_t count);
/* awe_section_alloc_node - awe_section_alloc() preferring NUMA node @node,
 * as awe_alloc_node() does. */
AWE_API ssize_t awe_section_alloc_node(awe_section_t section, awe_frame_t *frames, size_t count,
				       int node);
AWE_API int awe_section_free(awe_section_t section, const awe_frame_t *frames, size_t count,
			     size_t *freed);

/*
 * awe_section_window_create - awe_window_create() for a window tied to
 * section @section (-ENOENT when it is not open). awe_window_destroy()
 * releases it.
 */
AWE_API int awe_section_window_create(awe_section_t section, size_t size, void *hint,
				      unsigned int flags, void **base);

/*
 * awe_stats - fill *@st with process-wide counters (see struct awe_stats).
 *
 * Errors: -EFAULT when @st is NULL; any error of awe_init().
 */
AWE_API int awe_stats(struct awe_stats *st);

/* What awe_probe() finds: whether and how libawe would work here. */
struct awe_probe {
	const char *engine;	   /* default engine it would use: "uffd-move" or
				      "memfd"; NULL when none can start */
	const char *engine_reason; /* why that engine, or why none (as
				      awe_strerror() words it) */
	int engine_error;	   /* 0, or -errno why no engine can start */
	uint32_t started;	   /* 1: libawe has started; the rest is its state */
	uint32_t locked;	   /* 1: frames would be locked (no AWE_INIT_UNLOCKED
				      and no LIBAWE_UNLOCKED=1) */
	uint32_t cap_ipc_lock;	   /* 1: CAP_IPC_LOCK: any amount may be locked */
	uint64_t memlock_limit;	   /* bytes this process may lock; UINT64_MAX:
				      unlimited */
	uint64_t memlock_room;	   /* of those, bytes not locked yet; UINT64_MAX:
				      unlimited */
	uint64_t mem_available;	   /* bytes of frames the system can give now
				      (host and memory cgroups) */
	uint64_t max_map_count;	   /* vm.max_map_count */
	uint64_t page_size;	   /* awe_page_size() */
	uint64_t large_page_size;  /* awe_large_page_size() */
	uint64_t large_frames;	   /* large frames (AWE_ALLOC_LARGE) the default
				      engine could have now, at most: 0 when none */
	const char *large_reason;  /* what limits them: the THP mode, defrag,
				      vm.nr_hugepages, shmem_enabled, free
				      memory in blocks of a huge page */
	uint64_t reserved[5];
};

/*
 * awe_probe - find out, without starting libawe, whether it works here:
 * the engine awe_init() would choose and why (it is started and stopped
 * again to find out; when libawe has started, its own), whether frames are
 * locked, and how much may be locked and allocated. awe_init() may still
 * be called with any flags afterwards. The strings stay valid until the
 * thread's next awe_probe() call.
 *
 * Errors:
 *   -EFAULT  @p is NULL.
 *   -EDEADLK called from a signal handler that interrupted a libawe call.
 * (That no engine can start is a finding, in @engine_error, not an error.)
 */
AWE_API int awe_probe(struct awe_probe *p);

/* awe_page_size - the size of a frame and of a slot, in bytes. */
AWE_API size_t awe_page_size(void);

/*
 * awe_strerror - a sentence explaining error @err (negative or positive
 * errno value) as libawe uses it, e.g. naming the kernel feature that is
 * missing. Never NULL.
 */
AWE_API const char *awe_strerror(int err);

/*
 * awe_version - the version of the libawe library loaded, "MAJOR.MINOR.PATCH"
 * (AWE_VERSION is that of the headers a program was built with). Never NULL.
 */
AWE_API const char *awe_version(void);

#ifdef __cplusplus
}
#endif

#endif /* AWE_H */
