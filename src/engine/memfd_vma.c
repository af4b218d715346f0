/* SPDX-License-Identifier: MIT */
/*
 * The memfd engine's VMA budget. Each mapped run is a VMA, and the kernel
 * refuses VMAs beyond vm.max_map_count: even an unmap, which splits a VMA,
 * then fails with ENOMEM. So maps are refused while they could later make
 * an unmap fail. In a window, empty neighbours always merge into one
 * reservation VMA, so by unmapping alone a window can come to at most
 * npages - E VMAs, E being its adjacent slot pairs that are both empty.
 * vma_worst sums that over all windows of all memfd instances; a map that
 * takes empty pairs away is allowed only while vma_worst, the VMAs of the
 * rest of the process and a margin for the program's own mappings fit
 * under max_map_count.
 *
 * All of it is process-wide, like the limit, and runs under the library's
 * lock. The process's /proc/self/maps stays open while a memfd instance
 * lives, so that counting needs no free descriptor (a process that has run
 * out of them must not be counted stale).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#include "memfd.h"
#include "sysfacts.h"
#include "table.h"

#define RECOUNT_MS 100	/* a count of the process's VMAs is trusted this long... */
#define RECOUNT_COST 20 /* ...or this many times what counting took */
#define MAPS_BUF 8192

/* The VMAs of the rest of the process at the last count, and when
 * (CLOCK_MONOTONIC_COARSE, ms). */
static uint64_t other_vmas;
static int64_t other_stamp, other_cost;
static int maps_fd = -1;
static unsigned int live; /* memfd instances */
static uint64_t vma_worst, max_map_count;

/* The memfd windows of the process, sorted by base. */
struct span {
	uintptr_t base, end;
};
static struct span *wins;
static size_t nwins, wins_cap;

static uintptr_t span_key(const void *s)
{
	return ((const struct span *)s)->base;
}

int awe__mfd_window_add(uintptr_t base, size_t len)
{
	struct span s = {base, base + len};
	size_t at;

	if (awe__table_room((void **)&wins, &wins_cap, nwins + 1, sizeof(*wins), 16))
		return -ENOMEM;
	at = awe__table_find(wins, nwins, sizeof(*wins), base, span_key, true);
	awe__table_insert(wins, nwins++, sizeof(*wins), at, &s);
	vma_worst++; /* an empty window is one VMA */
	return 0;
}

void awe__mfd_window_remove(uintptr_t base)
{
	size_t at = awe__table_find(wins, nwins, sizeof(*wins), base, span_key, false);

	if (at < nwins && wins[at].base == base) {
		awe__table_remove(wins, nwins--, sizeof(*wins), at);
		vma_worst--;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether [lo, hi) lies in memfd windows (adjacent ones may share a
 * reservation VMA). @wi walks the sorted windows along with the sorted
 * lines. A VMA that reaches out of them is the rest of the process's:
 * counting it there too only errs on the safe side. Windows of the
 * UFFDIO_MOVE engine are not in vma_worst, so their VMAs count here. */
static bool in_windows(size_t *wi, uintptr_t lo, uintptr_t hi)
{
	uintptr_t at = lo;

	while (*wi < nwins && wins[*wi].end <= lo)
		(*wi)++;
	for (size_t k = *wi; k < nwins; k++) {
		if (wins[k].base > at)
			return false;
		at = wins[k].end;
		if (at >= hi)
			return true;
	}
	return false;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Read up to @len bytes at @off of the maps file: raw system calls, neither
 * a cancellation point nor touching errno. */
static ssize_t maps_read(char *buf, size_t len, uint64_t off)
{
	if (maps_fd < 0) {
		int fd = (int)awe__syscall4(SYS_openat, AT_FDCWD, (long)"/proc/self/maps",
					    O_RDONLY | O_CLOEXEC, 0);

		if (fd < 0)
			return fd;
		maps_fd = fd;
	}
	return awe__syscall4(SYS_pread64, maps_fd, (long)buf, (long)len, (long)off);
}

/* Call @fn on each line of /proc/self/maps until it returns true; a line is
 * cut after its first 160 bytes (what follows is the path, which nothing
 * here reads). 0, or -errno when the maps cannot be read. */
static int maps_each(bool (*fn)(const char *line, void *arg), void *arg)
{
	char buf[MAPS_BUF], line[160];
	size_t len = 0;
	uint64_t off = 0;
	ssize_t got;

	while ((got = maps_read(buf, sizeof(buf), off)) != 0) {
		if (got == -EINTR)
			continue;
		if (got < 0)
			return (int)got;
		off += (uint64_t)got;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			len = 0;
			if (fn(line, arg))
				return 0;
		}
	}
	return 0;
}

/* The "lo-hi" a maps line starts with. */
static const char *maps_range(const char *s, uintptr_t *lo, uintptr_t *hi)
{
	for (*lo = 0; *s && *s != '-'; s++)
		*lo = (*lo << 4) | (uintptr_t)(hexval(*s) & 15);
	for (*hi = 0, s += *s == '-'; *s && *s != ' '; s++)
		*hi = (*hi << 4) | (uintptr_t)(hexval(*s) & 15);
	return s;
}

struct other_count {
	size_t wi;
	uint64_t n;
};

static bool count_line(const char *line, void *arg)
{
	struct other_count *oc = arg;
	uintptr_t lo, hi;

	maps_range(line, &lo, &hi);
	oc->n += !in_windows(&oc->wi, lo, hi);
	return false;
}

/* Count the lines of /proc/self/maps outside memfd windows into other_vmas,
 * and read vm.max_map_count again: it may have been lowered. Returns false
 * when the maps could not be read; the last count then stays. */
static bool count_other(void)
{
	struct other_count oc = {0, 0};
	int64_t start = now_ms();

	if (maps_each(count_line, &oc))
		return false;
	other_vmas = oc.n;
	other_stamp = now_ms();
	other_cost = other_stamp - start;
	awe__max_map_count(&max_map_count); /* unreadable: the last value stays */
	return true;
}

void awe__mfd_recount(void)
{
	count_other();
}

/* VMAs left to the program for mappings of its own: 1/16 of the limit. */
static uint64_t margin(void)
{
	uint64_t m = max_map_count / 16;

	return m > 256 ? m : 256;
}

/* May the worst case grow by @more VMAs? The rest of the process is
 * counted again, and the limit read again (it may have been lowered),
 * before refusing, so that a refusal is exact; when the last count is old;
 * and, when the answer is close (within another margin: the program may
 * have used up the first since the last count), as often as the cost
 * allows, so that a grant is not made on stale numbers. Reading
 * /proc/self/maps costs ~0.3 us per VMA: at most 1/RECOUNT_COST of the time
 * goes to it however many there are. When the count cannot be taken, a
 * close answer is no. */
bool awe__mfd_room_for(uint64_t more)
{
	int64_t age = now_ms() - other_stamp;
	bool close = vma_worst + more + 2 * margin() + other_vmas > max_map_count;
	bool refuse = vma_worst + more + margin() + other_vmas > max_map_count;

	if ((refuse || (close && age > other_cost * RECOUNT_COST) || age >= RECOUNT_MS) &&
	    !count_other() && close)
		return false;
	return vma_worst + more + margin() + other_vmas <= max_map_count;
}

void awe__mfd_budget_add(int64_t d, int64_t other)
{
	vma_worst = (uint64_t)((int64_t)vma_worst + d);
	other_vmas = other < 0 && other_vmas < (uint64_t)-other
			     ? 0
			     : (uint64_t)((int64_t)other_vmas + other);
}

struct slot_shown {
	const struct mfd *m;
	uintptr_t va;
	uint32_t k;
	int prot;
	bool found;
};

static bool shown_line(const char *line, void *arg)
{
	struct slot_shown *ss = arg;
	unsigned long pgoff, ino;
	unsigned int maj, min;
	uintptr_t lo, hi;
	char perms[5];

	line = maps_range(line, &lo, &hi);
	if (ss->va < lo || ss->va >= hi ||
	    sscanf(line, " %4s %lx %x:%x %lu", perms, &pgoff, &maj, &min, &ino) != 5)
		return false;
	ss->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0);
	ss->k = perms[3] == 's' && ino == ss->m->ino
			? (uint32_t)((pgoff + (ss->va - lo)) >> ss->m->sh) + 1
			: 0;
	ss->found = true;
	return true;
}

/* The one way to tell what a slot shows after the kernel refused both a
 * call and its undo (a failed mmap or mprotect may have changed part of its
 * range). */
int awe__mfd_shown(const struct mfd *m, uintptr_t va, uint32_t *k, int *prot)
{
	struct slot_shown ss = {.m = m, .va = va};
	int r = maps_each(shown_line, &ss);

	if (r)
		return r;
	if (!ss.found)
		return -ENOENT;
	*k = ss.k;
	*prot = ss.prot;
	return 0;
}

/* The first instance opens the count; the limit is read then. With no
 * descriptor left, no guess: the kernel's default only where /proc/sys is
 * missing. */
int awe__mfd_budget_start(void)
{
	if (live == 0) {
		int r = awe__max_map_count(&max_map_count);

		if (r && awe__facts_lacking(r))
			return r;
		if (r)
			max_map_count = 65530;
	}
	live++;
	count_other();
	return 0;
}

void awe__mfd_budget_end(void)
{
	if (--live == 0 && maps_fd >= 0) {
		awe__sys_close(maps_fd);
		maps_fd = -1;
	}
}

/* A fork() child inherits the parent's maps file. */
void awe__mfd_budget_fork_child(void)
{
	if (maps_fd >= 0) {
		awe__sys_close(maps_fd);
		maps_fd = -1;
	}
}

void awe__mfd_budget_stats(struct awe_stats *st)
{
	st->max_map_count = max_map_count;
	st->vmas_worst = vma_worst;
}
