/* SPDX-License-Identifier: MIT */
/*
 * Huge pages (huge.h): the THP settings, the hugetlb pool and the free
 * memory already in huge-page-sized blocks, read from /sys and /proc with
 * sysfacts.h's raw reads, and from them how many large frames an engine
 * could have now and why not more.
 *
 * The answer is an upper bound, not a promise: a frame is one huge page,
 * and whether the kernel can build one when asked depends on what else
 * runs. With the defrag setting that lets a fault in a madvised region
 * compact memory (libawe madvises its large frames MADV_HUGEPAGE), every
 * available byte counts, since compaction can gather it; without, only the
 * blocks that are free now. hugetlb pages are set aside already: the free
 * ones count, neither available memory nor RLIMIT_MEMLOCK bound them (the
 * pool is outside MemAvailable, and the kernel counts no hugetlb page in
 * VmLck).
 */
#include "huge.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysfacts.h"

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_DIR "/sys/kernel/mm/hugepages"

/* --- the settings ------------------------------------------------------------ */

static const char *const thp_words[] = {
	[AWE__THP_ABSENT] = "absent",	[AWE__THP_NEVER] = "never",
	[AWE__THP_MADVISE] = "madvise", [AWE__THP_ALWAYS] = "always",
	[AWE__THP_INHERIT] = "inherit", [AWE__THP_UNKNOWN] = "?",
};

static const char *const defrag_words[] = {
	[AWE__DEFRAG_ABSENT] = "absent",   [AWE__DEFRAG_ALWAYS] = "always",
	[AWE__DEFRAG_DEFER] = "defer",	   [AWE__DEFRAG_DEFER_MADVISE] = "defer+madvise",
	[AWE__DEFRAG_MADVISE] = "madvise", [AWE__DEFRAG_NEVER] = "never",
	[AWE__DEFRAG_UNKNOWN] = "?",
};

static const char *const shmem_words[] = {
	[AWE__SHMEM_ABSENT] = "absent", [AWE__SHMEM_NEVER] = "never",
	[AWE__SHMEM_ALWAYS] = "always", [AWE__SHMEM_WITHIN_SIZE] = "within_size",
	[AWE__SHMEM_ADVISE] = "advise", [AWE__SHMEM_DENY] = "deny",
	[AWE__SHMEM_FORCE] = "force",	[AWE__SHMEM_INHERIT] = "inherit",
	[AWE__SHMEM_UNKNOWN] = "?",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *awe__thp_name(enum awe__thp m)
{
	return (size_t)m < COUNT(thp_words) ? thp_words[m] : "?";
}

const char *awe__defrag_name(enum awe__defrag m)
{
	return (size_t)m < COUNT(defrag_words) ? defrag_words[m] : "?";
}

const char *awe__shmem_name(enum awe__shmem m)
{
	return (size_t)m < COUNT(shmem_words) ? shmem_words[m] : "?";
}

/*
 * The selected word of a sysfs choice file ("always [madvise] never") as
 * its index in @words (of @n), skipping 0, the "absent" entry; @absent when
 * the file cannot be read, @unknown for a word not listed.
 */
static int read_choice(const char *path, const char *const *words, size_t n, int absent,
		       int unknown)
{
	char buf[256];
	const char *open, *close;

	if (awe__read_file(path, buf, sizeof(buf)) < 0)
		return absent;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return unknown;
	for (size_t i = 1; i < n; i++)
		if (strlen(words[i]) == (size_t)(close - open - 1) &&
		    strncmp(open + 1, words[i], (size_t)(close - open - 1)) == 0)
			return (int)i;
	return unknown;
}

uint64_t awe__large_size_read(void)
{
	uint64_t v;

	if (awe__read_u64(THP_DIR "/hpage_pmd_size", &v) == 0 && v)
		return v;
	if (awe__read_kb("/proc/meminfo", "Hugepagesize", &v) == 0)
		return v;
	return 0;
}

uint64_t awe__large_size(void)
{
	/* Not read yet: UINT64_MAX. Racing first readers store the same. */
	static uint64_t size = UINT64_MAX;
	uint64_t v = __atomic_load_n(&size, __ATOMIC_RELAXED);

	if (v == UINT64_MAX) {
		v = awe__large_size_read();
		__atomic_store_n(&size, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* --- free huge blocks ---------------------------------------------------------- */

/* awe__each_line() passes no context: the order looked for and the sum.
 * Per thread, as awe-info may read this without libawe's lock. */
static __thread struct {
	unsigned int order;
	uint64_t blocks;
} buddy;

/* The unsigned number at *@s (after blanks), moving past it; false when
 * there is none. */
static bool next_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + (uint64_t)(*p - '0');
	*s = p;
	*v = n;
	return true;
}

/* "Node 0, zone   Normal   1719   4004 ...": the free blocks of each order,
 * from 0 up. Blocks of buddy.order and above count, each as the number of
 * huge pages it holds. DMA is left out: the kernel keeps it for devices
 * (and it is 16 MiB). */
static void buddy_line(char *line)
{
	static const char *const zones[] = {"DMA32", "Normal", "Movable"};
	const char *s = strstr(line, "zone"), *name;
	size_t len;
	bool counted = false;
	uint64_t n;

	if (!s)
		return;
	for (s += 4; *s == ' ' || *s == '\t'; s++)
		;
	name = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	len = (size_t)(s - name);
	for (size_t i = 0; i < COUNT(zones); i++)
		counted |= strlen(zones[i]) == len && strncmp(name, zones[i], len) == 0;
	if (!counted)
		return;
	for (unsigned int order = 0; next_u64(&s, &n); order++) {
		unsigned int shift = order - buddy.order;

		if (order < buddy.order || n == 0)
			continue;
		n = shift >= 32 || n > UINT64_MAX >> shift ? UINT64_MAX : n << shift;
		buddy.blocks = buddy.blocks > UINT64_MAX - n ? UINT64_MAX : buddy.blocks + n;
	}
}

static bool read_buddy(uint64_t size, uint64_t page, uint64_t *blocks)
{
	char line[512];

	if (!size || !page || size < page)
		return false;
	buddy.order = (unsigned int)(__builtin_ctzll(size) - __builtin_ctzll(page));
	buddy.blocks = 0;
	if (awe__each_line("/proc/buddyinfo", line, sizeof(line), buddy_line) < 0)
		return false;
	*blocks = buddy.blocks;
	return true;
}

/* --- the facts ------------------------------------------------------------------- */

void awe__huge_read(struct awe__huge *h, uint64_t size)
{
	char path[128];
	unsigned long long kb;

	memset(h, 0, sizeof(*h));
	h->size = size;
	h->page = (uint64_t)sysconf(_SC_PAGESIZE);
	kb = (unsigned long long)(h->size / 1024);
	h->thp = (enum awe__thp)read_choice(THP_DIR "/enabled", thp_words, COUNT(thp_words),
					    AWE__THP_ABSENT, AWE__THP_UNKNOWN);
	h->defrag = (enum awe__defrag)read_choice(THP_DIR "/defrag", defrag_words,
						  COUNT(defrag_words), AWE__DEFRAG_ABSENT,
						  AWE__DEFRAG_UNKNOWN);
	h->shmem = (enum awe__shmem)read_choice(THP_DIR "/shmem_enabled", shmem_words,
						COUNT(shmem_words), AWE__SHMEM_ABSENT,
						AWE__SHMEM_UNKNOWN);
	if (!h->size)
		return;
	snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/enabled", kb);
	h->thp_size = (enum awe__thp)read_choice(path, thp_words, COUNT(thp_words), AWE__THP_ABSENT,
						 AWE__THP_UNKNOWN);
	snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/shmem_enabled", kb);
	h->shmem_size = (enum awe__shmem)read_choice(path, shmem_words, COUNT(shmem_words),
						     AWE__SHMEM_ABSENT, AWE__SHMEM_UNKNOWN);
	snprintf(path, sizeof(path), HUGETLB_DIR "/hugepages-%llukB/nr_hugepages", kb);
	h->hugetlb = awe__read_u64(path, &h->nr_hugepages) == 0;
	if (h->hugetlb) {
		snprintf(path, sizeof(path), HUGETLB_DIR "/hugepages-%llukB/free_hugepages", kb);
		awe__read_u64(path, &h->free_hugepages);
		snprintf(path, sizeof(path), HUGETLB_DIR "/hugepages-%llukB/resv_hugepages", kb);
		awe__read_u64(path, &h->resv_hugepages);
	}
	h->buddy_known = read_buddy(h->size, h->page, &h->free_blocks);
}

enum awe__thp awe__huge_thp(const struct awe__huge *h)
{
	if (h->thp == AWE__THP_ABSENT || !h->size)
		return AWE__THP_ABSENT;
	return h->thp_size == AWE__THP_ABSENT || h->thp_size == AWE__THP_INHERIT ? h->thp
										 : h->thp_size;
}

bool awe__huge_shmem_on(enum awe__shmem m)
{
	return m == AWE__SHMEM_ALWAYS || m == AWE__SHMEM_WITHIN_SIZE || m == AWE__SHMEM_ADVISE ||
	       m == AWE__SHMEM_FORCE;
}

enum awe__shmem awe__huge_shmem(const struct awe__huge *h)
{
	if (!h->size)
		return AWE__SHMEM_ABSENT;
	/* deny and force hold for every size, and only the top level has them. */
	if (h->shmem == AWE__SHMEM_ABSENT || h->shmem == AWE__SHMEM_DENY ||
	    h->shmem == AWE__SHMEM_FORCE)
		return h->shmem;
	return h->shmem_size == AWE__SHMEM_ABSENT || h->shmem_size == AWE__SHMEM_INHERIT
		       ? h->shmem
		       : h->shmem_size;
}

uint64_t awe__huge_hugetlb_free(const struct awe__huge *h)
{
	return h->hugetlb && h->free_hugepages > h->resv_hugepages
		       ? h->free_hugepages - h->resv_hugepages
		       : 0;
}

bool awe__huge_compacts(const struct awe__huge *h)
{
	return h->defrag == AWE__DEFRAG_ALWAYS || h->defrag == AWE__DEFRAG_MADVISE ||
	       h->defrag == AWE__DEFRAG_DEFER_MADVISE;
}

/* --- the estimate ------------------------------------------------------------------ */

/* "2 MiB", "1 GiB", "64 KiB". */
static void size_name(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(v >> 10));
}

/* The sysfs file @file that holds for pages of @kb, the per-size one when
 * @per_size, and its @value: "transparent_hugepage/<file> = <value>". */
static void setting(char *buf, size_t len, const char *file, unsigned long long kb, bool per_size,
		    const char *value)
{
	if (per_size)
		snprintf(buf, len, "transparent_hugepage/hugepages-%llukB/%s = %s", kb, file,
			 value);
	else
		snprintf(buf, len, "transparent_hugepage/%s = %s", file, value);
}

/*
 * Huge pages the kernel builds on demand (THP, shmem huge pages), @what
 * naming the setting: bounded by available memory, by the lock room when
 * frames are locked, and, when a fault does not compact, by the blocks
 * that are free now.
 */
static uint64_t on_demand(const struct awe__huge *h, const struct awe__huge_room *room,
			  const char *what, char *why, size_t len)
{
	/* MADV_COLLAPSE (THP off) compacts whatever defrag says. */
	const char *defrag = h->collapse ? "ignored" : awe__defrag_name(h->defrag);
	bool by_lock = room->locked && room->memlock_room < room->mem_available;
	uint64_t n = (by_lock ? room->memlock_room : room->mem_available) / h->size;
	unsigned long long blocks = (unsigned long long)h->free_blocks;
	char sz[32], bound[96];

	size_name(h->size, sz, sizeof(sz));
	if (n == 0) {
		snprintf(why, len, "%s, but %s %s", what,
			 by_lock ? "RLIMIT_MEMLOCK leaves no room to lock a frame of"
				 : "less memory is available than a frame of",
			 sz);
		return 0;
	}
	snprintf(bound, sizeof(bound), "%s for %llu frames",
		 by_lock ? "RLIMIT_MEMLOCK room" : "memory available", (unsigned long long)n);
	if (awe__huge_compacts(h) && h->buddy_known) {
		snprintf(why, len,
			 "%s, defrag %s: the kernel compacts memory for each frame; %llu free %s "
			 "blocks now, %s",
			 what, defrag, blocks, sz, bound);
	} else if (awe__huge_compacts(h)) {
		snprintf(why, len,
			 "%s, defrag %s: the kernel compacts memory for each frame; %s (no "
			 "/proc/buddyinfo to count free %s blocks)",
			 what, defrag, bound, sz);
	} else if (!h->buddy_known) {
		snprintf(why, len,
			 "%s, defrag %s: the kernel does not compact memory for a frame, and "
			 "without /proc/buddyinfo the free %s blocks are unknown; %s",
			 what, defrag, sz, bound);
	} else {
		snprintf(why, len,
			 "%s, defrag %s: the kernel does not compact memory for a frame, so only "
			 "the %llu %s blocks free now count%s%s",
			 what, defrag, blocks, sz, h->free_blocks > n ? "; " : "",
			 h->free_blocks > n ? bound : "");
		return n < h->free_blocks ? n : h->free_blocks;
	}
	return n;
}

static uint64_t uffd_frames(const struct awe__huge *h, const struct awe__huge_room *room, char *why,
			    size_t len)
{
	enum awe__thp mode = awe__huge_thp(h);
	bool per_size = h->thp_size != AWE__THP_ABSENT && h->thp_size != AWE__THP_INHERIT;
	unsigned long long kb = (unsigned long long)(h->size / 1024);
	char set[128], what[192], sz[32];

	if (mode == AWE__THP_ABSENT) {
		snprintf(why, len,
			 "the kernel has no transparent huge pages "
			 "(no /sys/kernel/mm/transparent_hugepage/%s)",
			 h->thp == AWE__THP_ABSENT ? "enabled" : "hpage_pmd_size");
		return 0;
	}
	setting(set, sizeof(set), "enabled", kb, per_size, awe__thp_name(mode));
	/* The engine builds what a fault would not with MADV_COLLAPSE, which
	 * ignores the mode and compacts as it needs (uffd_large.c). */
	if (mode == AWE__THP_NEVER) {
		struct awe__huge collapse = *h;

		collapse.defrag = AWE__DEFRAG_ALWAYS;
		collapse.collapse = true;
		snprintf(what, sizeof(what), "THP off (%s): frames built with MADV_COLLAPSE", set);
		return on_demand(&collapse, room, what, why, len);
	}
	if (mode != AWE__THP_MADVISE && mode != AWE__THP_ALWAYS) {
		snprintf(why, len, "THP mode unknown (%s)", set);
		return 0;
	}
	size_name(h->size, sz, sizeof(sz));
	snprintf(what, sizeof(what), "THP %s mode%s%s%s", awe__thp_name(mode),
		 per_size ? " for " : "", per_size ? sz : "", per_size ? " pages" : "");
	return on_demand(h, room, what, why, len);
}

static uint64_t memfd_frames(const struct awe__huge *h, const struct awe__huge_room *room,
			     char *why, size_t len)
{
	enum awe__shmem mode = awe__huge_shmem(h);
	bool per_size = mode == h->shmem_size && mode != AWE__SHMEM_ABSENT;
	unsigned long long kb = (unsigned long long)(h->size / 1024);
	uint64_t free = awe__huge_hugetlb_free(h);
	char set[128], what[192], pool[128], sz[32];

	size_name(h->size, sz, sizeof(sz));
	if (free) {
		snprintf(why, len,
			 "hugetlb pool: %llu of %llu %s pages free for MFD_HUGETLB "
			 "(hugepages-%llukB/free_hugepages = %llu, resv_hugepages = %llu)",
			 (unsigned long long)free, (unsigned long long)h->nr_hugepages, sz, kb,
			 (unsigned long long)h->free_hugepages,
			 (unsigned long long)h->resv_hugepages);
		return free;
	}
	setting(set, sizeof(set), "shmem_enabled", kb, per_size, awe__shmem_name(mode));
	if (awe__huge_shmem_on(mode)) {
		snprintf(what, sizeof(what), "no hugetlb page free, shmem huge pages (%s)", set);
		return on_demand(h, room, what, why, len);
	}
	if (!h->size)
		snprintf(pool, sizeof(pool), "the kernel has neither hugetlb pages nor THP");
	else if (!h->hugetlb)
		snprintf(pool, sizeof(pool), "the kernel has no hugetlb pages of %s", sz);
	else if (h->nr_hugepages == 0)
		snprintf(pool, sizeof(pool), "vm.nr_hugepages = 0 (hugepages-%llukB)", kb);
	else
		snprintf(pool, sizeof(pool), "none of the %llu hugetlb pages of %s is free",
			 (unsigned long long)h->nr_hugepages, sz);
	if (mode == AWE__SHMEM_ABSENT)
		snprintf(why, len, "no huge pages for the memfd engine: %s and no shmem huge pages",
			 pool);
	else
		snprintf(why, len, "no huge pages for the memfd engine: %s and %s", pool, set);
	return 0;
}

uint64_t awe__large_frames(const struct awe__huge *h, const char *engine,
			   const struct awe__huge_room *room, char *why, size_t len)
{
	if (!engine) {
		snprintf(why, len, "no engine can start, so no large frames either");
		return 0;
	}
	if (strcmp(engine, "uffd-move") == 0)
		return uffd_frames(h, room, why, len);
	if (strcmp(engine, "memfd") == 0)
		return memfd_frames(h, room, why, len);
	snprintf(why, len, "engine %s has no large frames", engine);
	return 0;
}
