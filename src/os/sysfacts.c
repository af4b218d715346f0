/* SPDX-License-Identifier: MIT */
/*
 * System facts (sysfacts.h): what the system allows right now, read with
 * raw system calls through awe__syscall3().
 *
 * Memory: what the host has available less a reserve, and for every memory
 * cgroup level from the process's own up to its hierarchy's mount point
 * (cgroup v1 and v2; hybrid hosts have both) its limit less its usage plus
 * the inactive file pages the kernel can reclaim, less a reserve. The
 * least of these is what may still be allocated: beyond it the kernel
 * reclaims hard and then kills someone, where Windows would answer with
 * fewer pages.
 */
#include "sysfacts.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <linux/capability.h>

#include "linux_abi.h"

#define MiB (1024ull * 1024)

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Whether @tok is one of the comma-separated words of @list. */
static bool has_word(const char *list, const char *tok)
{
	size_t k = strlen(tok);

	for (const char *s = list; s; s = strchr(s, ','), s = s ? s + 1 : NULL)
		if (strncmp(s, tok, k) == 0 && (s[k] == ',' || s[k] == '\0'))
			return true;
	return false;
}

/* --- the host --------------------------------------------------------------- */

struct host {
	uint64_t avail, total, room;
	bool sysinfo;
};

/* MemAvailable less a reserve for everybody else: 1/32 of RAM, at least
 * 128 MiB. Without /proc/meminfo, sysinfo(2), which needs no descriptor:
 * free RAM and buffers, less than what is available (the page cache does
 * not count), so an answer on the safe side. */
static void host(struct host *h)
{
	char buf[AWE__FILE_BUF];
	struct sysinfo si;

	h->sysinfo = awe__read_file("/proc/meminfo", buf, sizeof(buf)) < 0 ||
		     awe__parse_kb(buf, "MemTotal", &h->total) ||
		     awe__parse_kb(buf, "MemAvailable", &h->avail);
	if (h->sysinfo) {
		h->total = h->avail = 0;
		if (awe__syscall3(SYS_sysinfo, (long)(uintptr_t)&si, 0, 0) == 0) {
			h->total = (uint64_t)si.totalram * si.mem_unit;
			h->avail = ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;
		}
	}
	h->room = sub0(h->avail, max_u64(h->total / 32, 128 * MiB));
}

/* --- finding the memory cgroups --------------------------------------------- */

enum { V1, V2, NHIER };

struct hier {
	bool in;		    /* /proc/self/cgroup names a cgroup of this version */
	bool seen;		    /* ... in the reading under way */
	bool mounted;		    /* dir is set: a mount shows that cgroup */
	size_t top;		    /* length of the mount point in dir */
	char cgroup[AWE__PATH_BUF]; /* as /proc/self/cgroup names it */
	char dir[AWE__PATH_BUF];
};

/* Read and written under the library's lock, as every caller holds it. */
static struct {
	bool known;	  /* the mounts were read for the cgroups in h[] */
	bool changed;	  /* /proc/self/cgroup named other cgroups just now */
	const char *root; /* awe__test_sysroot they were found under */
	struct hier h[NHIER];
} cg;

/* A line "ID:controllers:path" of /proc/self/cgroup: v2 is "0::path", v1's
 * memory hierarchy lists "memory" among its controllers. */
static void cgroup_line(char *line)
{
	char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
	struct hier *h;

	if (!path)
		return;
	*ctl++ = '\0';
	*path++ = '\0';
	if (strcmp(line, "0") == 0 && *ctl == '\0')
		h = &cg.h[V2];
	else if (has_word(ctl, "memory"))
		h = &cg.h[V1];
	else
		return;
	if (strlen(path) >= sizeof(h->cgroup))
		return;
	h->seen = true;
	if (!h->in || strcmp(h->cgroup, path) != 0) {
		strcpy(h->cgroup, path);
		h->in = true;
		cg.changed = true;
	}
}

/* The next space-separated field of *@s, NUL-terminated in place. */
static char *next_field(char **s)
{
	char *f = *s, *end;

	if (!f || !*f)
		return NULL;
	end = strchr(f, ' ');
	*s = end ? end + 1 : NULL;
	if (end)
		*end = '\0';
	return f;
}

/* mountinfo escapes blanks and backslashes in paths as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = '\0';
}

/* @cgroup's path below a mount of the hierarchy's @root, NULL when the
 * mount does not show it: it is elsewhere in the hierarchy, or outside the
 * process's cgroup namespace (shown as "/.."). */
static const char *below(const char *cgroup, const char *root)
{
	size_t n = strcmp(root, "/") == 0 ? 0 : strlen(root);
	const char *rel = cgroup + n, *dots;

	if (strncmp(cgroup, root, n) != 0 || (*rel != '/' && *rel != '\0'))
		return NULL;
	for (dots = strstr(rel, "/.."); dots; dots = strstr(dots + 1, "/.."))
		if (dots[3] == '/' || dots[3] == '\0')
			return NULL;
	return rel;
}

static size_t trim_slashes(const char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		n--;
	return n;
}

/* A line of /proc/self/mountinfo: "ID parent dev root mountpoint options
 * [optional fields] - fstype source superoptions". The first mount that
 * shows the process's cgroup of its version gives the directory. */
static void mount_line(char *line)
{
	char *f[5], *s = line, *t, *fstype, *super;
	const char *rel;
	struct hier *h;
	size_t m, r;

	for (int i = 0; i < 5; i++)
		if (!(f[i] = next_field(&s)))
			return;
	while ((t = next_field(&s)) && strcmp(t, "-") != 0)
		;
	fstype = next_field(&s);
	super = next_field(&s) ? next_field(&s) : NULL; /* past the source */
	if (!super)
		return;
	if (strcmp(fstype, "cgroup2") == 0)
		h = &cg.h[V2];
	else if (strcmp(fstype, "cgroup") == 0 && has_word(super, "memory"))
		h = &cg.h[V1];
	else
		return;
	if (!h->in || h->mounted)
		return;
	unescape(f[3]);
	unescape(f[4]);
	rel = below(h->cgroup, f[3]);
	if (!rel)
		return;
	m = trim_slashes(f[4]);
	r = trim_slashes(rel);
	if (m + r >= sizeof(h->dir))
		return;
	memcpy(h->dir, f[4], m);
	memcpy(h->dir + m, rel, r);
	h->dir[m + r] = '\0';
	h->top = m;
	h->mounted = true;
}

/* Bring cg up to date: /proc/self/cgroup every time, as the process may
 * have been moved; the mounts when that changed, or with @force when a
 * directory vanished. Neither file there means no cgroup to look at. */
static int discover(bool force)
{
	char line[AWE__PATH_BUF];
	int r;

	if (cg.root != awe__test_sysroot) {
		cg.known = false;
		cg.root = awe__test_sysroot;
	}
	cg.changed = !cg.known || force;
	for (int v = 0; v < NHIER; v++)
		cg.h[v].seen = false;
	r = awe__each_line("/proc/self/cgroup", line, sizeof(line), cgroup_line);
	for (int v = 0; v < NHIER; v++) {
		if (cg.h[v].in && !cg.h[v].seen)
			cg.changed = true;
		cg.h[v].in = cg.h[v].seen;
	}
	if (!cg.changed && !awe__facts_lacking(r))
		return 0;
	cg.known = false;
	if (awe__facts_lacking(r))
		return r;
	for (int v = 0; v < NHIER; v++)
		cg.h[v].mounted = false;
	r = awe__each_line("/proc/self/mountinfo", line, sizeof(line), mount_line);
	if (awe__facts_lacking(r))
		return r;
	cg.known = true;
	return 0;
}

int awe__memcg_dir(int version, char *buf, size_t len)
{
	const struct hier *h = &cg.h[version == 1 ? V1 : V2];
	int r = discover(false);

	if (r)
		return r;
	if (!h->in || !h->mounted)
		return -ENOENT;
	if (strlen(h->dir) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, h->dir);
	return 0;
}

/* --- room under the memory cgroups ------------------------------------------ */

/* The files of one level. */
static const struct {
	const char *limit[2]; /* the lower counts */
	const char *usage;
	const char *reclaimable; /* its key in memory.stat (v1: the hierarchy's) */
} files[NHIER] = {
	[V1] = {{"memory.limit_in_bytes", NULL}, "memory.usage_in_bytes", "total_inactive_file"},
	[V2] = {{"memory.max", "memory.high"}, "memory.current", "inactive_file"},
};

struct level {
	uint64_t limit, usage, reclaimable, room;
};

/* The tightest limited level: hierarchy @v (NHIER: none), its directory
 * cg.h[v].dir[0..len). */
struct tightest {
	int v;
	size_t len;
	struct level l;
};

/* @dir[0..len) + "/" + @name, in @dir past @len. */
static const char *file_at(char *dir, size_t len, const char *name)
{
	dir[len] = '/';
	strcpy(dir + len + 1, name);
	return dir;
}

/* The numbers of the level whose directory is @dir[0..len) into *@l, whose
 * limit is UINT64_MAX when it has none. Unknown usage counts as all of the
 * limit, unknown reclaimable pages as none. -ESTALE: @check_gone and the
 * directory is gone. */
static int read_level(int v, char *dir, size_t len, bool check_gone, struct level *l)
{
	uint64_t x = 0;
	int r;

	l->limit = UINT64_MAX;
	for (int i = 0; i < 2 && files[v].limit[i]; i++) {
		r = awe__read_limit(file_at(dir, len, files[v].limit[i]), &x);
		if (awe__facts_lacking(r))
			return r;
		if (r == -ENOENT && i == 0 && check_gone) {
			dir[len] = '\0';
			if (awe__path_missing(dir))
				return -ESTALE;
		}
		if (!r && x < l->limit)
			l->limit = x;
	}
	if (l->limit == UINT64_MAX)
		return 0;
	r = awe__read_u64(file_at(dir, len, files[v].usage), &l->usage);
	if (awe__facts_lacking(r))
		return r;
	if (r)
		l->usage = l->limit;
	r = awe__read_key(file_at(dir, len, "memory.stat"), files[v].reclaimable, &l->reclaimable);
	if (awe__facts_lacking(r))
		return r;
	if (r)
		l->reclaimable = 0;
	/* Leave the cgroup 1/32 of its limit, at least 8 MiB, for everything
	 * else in it: page tables, the program's own allocations. */
	l->room = sub0(add_sat(l->limit, l->reclaimable),
		       add_sat(l->usage, max_u64(l->limit / 32, 8 * MiB)));
	return 0;
}

/* Walk every level from the process's cgroups up to their mount points. */
static int cgroups_room(bool check_gone, struct tightest *t)
{
	char dir[AWE__PATH_BUF + 64];

	t->v = NHIER;
	for (int v = 0; v < NHIER; v++) {
		const struct hier *h = &cg.h[v];
		size_t len = strlen(h->dir);

		if (!h->in || !h->mounted)
			continue;
		memcpy(dir, h->dir, len);
		for (bool leaf = true;; leaf = false) {
			struct level l;
			int r = read_level(v, dir, len, check_gone && leaf, &l);

			if (r)
				return r;
			if (l.limit != UINT64_MAX && (t->v == NHIER || l.room < t->l.room))
				*t = (struct tightest){v, len, l};
			if (len <= h->top)
				break;
			while (--len > h->top && dir[len] != '/')
				;
		}
	}
	return 0;
}

static int measure(struct host *hs, struct tightest *t)
{
	int r = discover(false);

	if (!r)
		r = cgroups_room(true, t);
	/* The process's directory vanished: moved mounts. Once more. */
	if (r == -ESTALE) {
		r = discover(true);
		if (!r)
			r = cgroups_room(false, t);
	}
	host(hs);
	return r;
}

static uint64_t least(const struct host *hs, const struct tightest *t)
{
	return t->v != NHIER && t->l.room < hs->room ? t->l.room : hs->room;
}

int awe__mem_available(uint64_t *bytes)
{
	struct host hs;
	struct tightest t;
	int r = measure(&hs, &t);

	*bytes = r ? hs.room : least(&hs, &t);
	return r;
}

int awe__mem_explain(struct awe__mem_why *w)
{
	struct host hs;
	struct tightest t;
	int r = measure(&hs, &t);

	if (r)
		return r;
	memset(w, 0, sizeof(*w));
	w->avail = least(&hs, &t);
	w->host_avail = hs.avail;
	w->host_total = hs.total;
	w->host_room = hs.room;
	w->host_sysinfo = hs.sysinfo;
	if (t.v != NHIER) {
		w->cg_version = t.v == V1 ? 1 : 2;
		w->cg_limit = t.l.limit;
		w->cg_usage = t.l.usage;
		w->cg_reclaimable = t.l.reclaimable;
		w->cg_room = t.l.room;
		memcpy(w->cg_dir, cg.h[t.v].dir, t.len);
		w->cg_dir[t.len] = '\0';
	}
	return 0;
}

/* --- the process ------------------------------------------------------------ */

int awe__memlock_used(uint64_t *bytes)
{
	return awe__read_kb("/proc/self/status", "VmLck", bytes);
}

int awe__thread_count(uint64_t *n)
{
	char buf[AWE__FILE_BUF], *s;
	ssize_t len = awe__read_file("/proc/self/stat", buf, sizeof(buf));
	int field = 2; /* "pid (comm)" are 1 and 2; a blank starts the next */

	if (len < 0)
		return (int)len;
	/* The command name may hold anything, ')' and blanks included. */
	s = strrchr(buf, ')');
	if (!s)
		return -EIO;
	for (s++; *s && field < 20; s++)
		field += *s == ' ';
	if (field != 20)
		return -EIO;
	*n = strtoull(s, NULL, 10);
	return *n ? 0 : -EIO;
}

int awe__max_map_count(uint64_t *v)
{
	return awe__read_u64("/proc/sys/vm/max_map_count", v);
}

bool awe__cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (awe__syscall3(SYS_capget, (long)&hdr, (long)data, 0) != 0)
		return false;
	return data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

uint64_t awe__memlock_limit(void)
{
	struct rlimit rl;

	if (awe__cap_ipc_lock())
		return UINT64_MAX;
	if (awe__syscall3(SYS_getrlimit, RLIMIT_MEMLOCK, (long)&rl, 0) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur;
}

uint64_t awe__memlock_room(uint64_t limit)
{
	uint64_t used;

	if (limit == UINT64_MAX)
		return UINT64_MAX;
	/* Unreadable (no descriptor left): take the limit as used up. */
	if (awe__memlock_used(&used))
		used = limit;
	return limit > used ? limit - used : 0;
}

/* Without sysfs (or NUMA support) there is exactly one node. */
bool awe__node_online(int node)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	r = (int)awe__path_call(SYS_faccessat, path, F_OK);
	if (r != 0 && node == 0)
		return awe__path_call(SYS_faccessat, "/sys/devices/system/node", F_OK) == -ENOENT;
	return r == 0;
}

/* More than one node: /sys/devices/system/node/online lists a range or
 * several ("0-1", "0,2"); one node, or no NUMA support, is a lone "0". */
bool awe__numa_multi(void)
{
	char buf[256];

	if (awe__read_file("/sys/devices/system/node/online", buf, sizeof(buf)) <= 0)
		return false;
	return strchr(buf, '-') || strchr(buf, ',');
}

/* The environment's word on locking: LIBAWE_UNLOCKED=1 asks for unlocked
 * frames (awe_init()'s AWE_INIT_UNLOCKED), for programs that cannot be
 * changed; the Win32 layer then grants the lock privilege too. */
bool awe__env_unlocked(void)
{
	const char *v = getenv("LIBAWE_UNLOCKED");

	return v && strcmp(v, "1") == 0;
}
