/* SPDX-License-Identifier: MIT */
/*
 * The model-checked random call sequence test, written once for both
 * layers: a plain-C reference model of the AWE state (frames, windows,
 * sections, protections and page tags), a random call generator that makes
 * valid and invalid calls, the documented contract of every call (what it
 * returns, its errno or last error, what it changes), and a checker that
 * compares libawe with the model after every call. tests/test_model.c
 * drives it through the native API, tests/win32/test_w32_model.c through
 * the Win32 layer: each fills a small backend table (struct model_backend)
 * with one function per call kind, and the Win32 one adds VirtualQuery()'s
 * view of a slot.
 *
 * The contract is awe.h, the man pages and awe-win32(7), plus issue 12's
 * additions: a non-NULL pointer argument below vm.mmap_min_addr or whose
 * range reaches beyond the top of user space is -EFAULT (Win32: 998) with
 * nothing changed; awe_map_scatter() with a count above UINT32_MAX is
 * -EINVAL before the arrays are looked at; a window larger than the user
 * address space is -EINVAL. Where the documents leave the order of two
 * errors open, either is accepted.
 *
 * Environment (a failure prints the line that replays it):
 *   AWE_MODEL_SEED=N   seed (decimal or 0x...) instead of the test's own
 *   AWE_MODEL_CALLS=N  calls to make instead of the test's default
 *   AWE_MODEL_SWEEP=N  check every slot and frame every N calls (default 16;
 *                      1 pins a change outside a call's footprint on the call)
 *   AWE_MODEL_TRACE=1  print every call before it is made
 *   AWE_MODEL_MIX=1    print how many calls of each kind were made and failed
 *
 * One file, though long: the tables, the contract, the generator, the
 * checker and the hostile phases are one model, each part built on the
 * static functions of those before it, so split they would be headers that
 * work only included whole and in this order. Its rooms are the "----"
 * sections below.
 */
#ifndef AWE_TEST_MODEL_H
#define AWE_TEST_MODEL_H

#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include <awe/win32.h>

#if SANITIZED
#include <sanitizer/asan_interface.h>
#endif

#define MODEL_MAXW 6	  /* live windows */
#define MODEL_WSLOTS 8	  /* window table entries */
#define MODEL_MAXP 64	  /* pages of a window */
#define MODEL_MAXN 64	  /* entries of one call's arrays */
#define MODEL_MAXPROC 160 /* live frames of the process */
#define MODEL_MAXSEC 3	  /* open sections */
#define MODEL_SECSLOTS 12 /* section table entries (open, or closed with windows) */
#define MODEL_MAXSECF 48  /* live frames of one section */
#define MODEL_SWEEP 64	  /* calls between full sweeps, by default */
#define MODEL_DEAD 32	  /* freed numbers remembered */
#define MODEL_STALE 8	  /* closed section handles remembered */
#define MODEL_RING 12	  /* calls remembered for a report */
#define MODEL_SENTINEL ((awe_frame_t)0xAB5E17AB5E17AB5Eull)
#define MODEL_OLD_SENTINEL 0x5e5e5e5e
#define MODEL_W32_USER_END 0x7FFFFFFF0000ull /* end of the Win32 user address space */
#define MODEL_WIN10_MAX 0xFFFFFFFFFFFFFull   /* Win10's largest map count */
#define MODEL_PRIV_MEMLOCK (64ull << 20)     /* RLIMIT_MEMLOCK that holds the privilege */
#define MODEL_W32_PROCESS UINT64_MAX	     /* GetCurrentProcess(): (HANDLE)-1 */
#ifndef LE_CANARY
#define LE_CANARY 0xC0DEu /* as tests/win32/w32helpers.h: a last error no call sets */
#endif

enum mkind {
	K_ALLOC,
	K_FREE,
	K_WCREATE,
	K_WDESTROY,
	K_MAP,
	K_SCATTER,
	K_PROTECT,
	K_QUERY,
	K_FADDR,
	K_STATS,
	K_SCREATE,
	K_SCLOSE,
	K_INIT,
	K_N
};

/* How a pointer argument is passed. */
enum mptr {
	P_OK, /* a real buffer */
	P_NULL,
	P_LOW,	/* below vm.mmap_min_addr */
	P_HIGH, /* in the kernel's half */
	P_TOP,	/* starts just below the top of user space, its range reaches beyond */
	P_MIS,	/* the real buffer + 1 (Win32: misaligned) */
};

/* Hostile conditions the contract allows resource errors under. */
enum {
	H_MEMLOCK = 1u << 0, /* RLIMIT_MEMLOCK lowered */
	H_NOFILE = 1u << 1,  /* no file descriptor left */
	H_CGROUP = 1u << 2,  /* a memory cgroup limit */
	H_FOREIGN = 1u << 3, /* another thread uses libawe meanwhile */
};

/*
 * One call, in terms both layers share. The arrays are the very buffers
 * passed (the contract depends on where they lie). @fi, @w/@s and @aw/@as
 * are what the generator meant (model frames, windows, slots); the
 * prediction uses them only after checking them against the arguments.
 */
struct mcall {
	enum mkind kind;
	uint64_t seq;	    /* call number */
	bool proc;	    /* alloc, free, wcreate: the process rather than a section */
	uint64_t handle;    /* otherwise this section handle (perhaps no open section's) */
	size_t count;	    /* count, NumberOfPages */
	size_t n;	    /* entries filled in frames[] or addrs[] */
	enum mptr arr;	    /* frames / PageArray */
	enum mptr arr2;	    /* scatter: addrs / VirtualAddresses */
	enum mptr out;	    /* out-parameter: freed, base, old, info, stats, section, *pn */
	bool frames_null;   /* map, scatter: no frame array (unmap) */
	void *addr;	    /* map, protect, query, wdestroy: the address; wcreate: hint */
	size_t size;	    /* wcreate: bytes; win32 protect, VirtualFree: bytes */
	unsigned int flags; /* wcreate: native flags, win32 allocation type; init: flags */
	int prot;	    /* protect: AWE_PROT_* or PAGE_*; win32 wcreate: flProtect */
	uint32_t type;	    /* win32 VirtualFree: dwFreeType; screate: variant */
	int node;	    /* alloc: -1, or the NUMA node */
	size_t len;	    /* win32 query: dwLength */
	awe_frame_t frame;  /* faddr */
	int w, s;	    /* window and slot of @addr; -1: in none */
	int fi[MODEL_MAXN]; /* model frame of frames[i]; -1: none */
	int aw[MODEL_MAXN], as[MODEL_MAXN];
	awe_frame_t frames[MODEL_MAXN + 2];
	void *addrs[MODEL_MAXN + 2];
};

/* What a call did. */
struct mres {
	bool failed;
	int err;	  /* native: the errno value returned negated; win32: GetLastError() */
	int eno;	  /* errno after the call */
	long long ret;	  /* native return value */
	size_t got;	  /* alloc: frames; free: freed; win32: *NumberOfPages after */
	void *base;	  /* wcreate */
	uint64_t section; /* screate */
	int old;	  /* protect: *old after the call */
	void *where;	  /* faddr */
	size_t qret;	  /* win32 query: the return value */
	struct awe_page_info info;
	struct awe_stats st;
	union {
		MEMORY_BASIC_INFORMATION mbi;
		unsigned char mbi_room[sizeof(MEMORY_BASIC_INFORMATION) + 64];
	};
};

struct model;
struct model_snap;

typedef void model_exec_fn(struct model *m, struct mcall *c, struct mres *r);

/* What the two test programs provide. */
struct model_backend {
	const char *name; /* "native", "win32" */
	bool w32;
	model_exec_fn *exec[K_N]; /* NULL: the layer has no such call */
	/* Once per run: get ready (Win32: enable SeLockMemoryPrivilege). */
	void (*setup)(struct model *m);
	/* The layer's own view of slot @s of window @w (at @addr), or NULL.
	 * Returns a message when it differs from the model. */
	const char *(*check_slot)(struct model *m, int w, size_t s, void *addr);
	/* In a fork child: the layer's own checks; a message when one fails. */
	const char *(*child_check)(const struct model_snap *snap);
};

/* The model's records. */
struct mf {
	awe_frame_t num;
	int owner;     /* -1: the process; else the section's index */
	uint64_t tag;  /* 0: never written, reads zero */
	int win, slot; /* frames of the process: where mapped, -1 when not */
	int pos;       /* index in the live list */
	uint64_t used; /* the call that last used it (duplicates) */
	bool live;
	bool bulk; /* pressure frames of the cgroup phase: not picked */
};

struct mw {
	bool live;
	uintptr_t base;
	size_t npages;
	int sec;	      /* -1: plain */
	int slot[MODEL_MAXP]; /* model frame, -1: empty */
	uint8_t prot[MODEL_MAXP];
	uint64_t mark[MODEL_MAXP]; /* touched by the current call */
};

struct ms {
	bool alive, open;
	uint64_t handle;
	int nwin;
	int nframes;
};

struct mexp {
	bool ok;
	unsigned int n, ntol;
	int code[8];  /* acceptable failure codes */
	int tol[6];   /* resource errors accepted when nothing changed */
	bool partial; /* alloc: fewer frames than asked */
	bool frees;   /* free: entries [0, stop) are freed, also on failure */
	size_t stop;
	bool alloc_reached; /* win32: the allocation got past the privilege check */
};

struct model {
	const struct model_backend *be;
	bool w32;
	const char *test;
	const char *profile;
	uint64_t seed, rng;
	uint64_t crng; /* the checker's own: a replay with another sweep makes the same calls */
	uint64_t calls, done;
	unsigned int sweep_every;
	bool trace;
	bool in_child; /* report failures on stderr and _exit(1) */
	bool bulk;     /* new frames of the process are pressure: not picked */
	unsigned int hostile;
	/* the machine */
	size_t page;
	unsigned int shift;
	bool memfd; /* the default engine */
	bool locked;
	bool unlocked_env;
	uintptr_t min_addr, top;
	unsigned int nodes;
	bool cap_ipc_lock;
	uint64_t max_map_count;
	bool priv_enabled; /* win32: SeLockMemoryPrivilege enabled at setup */
	bool awe_info;	   /* win32: a MEM_PHYSICAL region or an allocation happened */
	/* state */
	struct mf *f;
	size_t nf, fcap;
	int *freeidx;
	size_t nfree;
	int *live;
	size_t nlive;
	int nproc; /* live frames of the process (not bulk) */
	awe_frame_t dead[MODEL_DEAD];
	unsigned int ndead;
	struct mw w[MODEL_WSLOTS];
	int nwin;
	struct ms sec[MODEL_SECSLOTS];
	uint64_t stale[MODEL_STALE];
	unsigned int nstale;
	uint64_t tags;
	uintptr_t gone[4]; /* bases of windows destroyed lately */
	unsigned int ngone;
	/* every frame number and (native) section handle ever handed out */
	uint64_t *seen;
	size_t seen_cap, seen_n;
	uint64_t *seen_sec;
	size_t seen_sec_cap, seen_sec_n;
	/* the current call and its footprint */
	struct mcall c;
	struct mres r;
	struct mexp x;
	uint64_t epoch;
	int *tw, *ts;
	size_t nt;
	int tf[4 * MODEL_MAXN];
	size_t ntf;
	char *guard; /* never a window: addresses "outside every window" */
	size_t guard_pages;
	struct mcall ring[MODEL_RING];
	/* counters */
	uint64_t tolerated, per_kind[K_N], failed_kind[K_N], failed_calls;
	double t0;
	/* phase (d): taken around every change of the model's tables, or
	 * around every whole call (@mu_whole) */
	pthread_mutex_t *mu;
	bool mu_whole;
};

/* ---- Small things -------------------------------------------------------------------- */

static inline uint64_t model_rnd(struct model *m, uint64_t n)
{
	return n ? rng_next(&m->rng) % n : 0;
}

/* The checker's draws. */
static inline uint64_t model_crnd(struct model *m, uint64_t n)
{
	return n ? rng_next(&m->crng) % n : 0;
}

/* True with probability @p percent. */
static inline bool model_pct(struct model *m, unsigned int p)
{
	return model_rnd(m, 100) < p;
}

static inline double model_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t model_env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static inline const char *model_kind_name(const struct model *m, enum mkind k, bool variant)
{
	static const char *const nat[K_N] = {
		"awe_alloc",	  "awe_free",	     "awe_window_create",  "awe_window_destroy",
		"awe_map",	  "awe_map_scatter", "awe_protect",	   "awe_query",
		"awe_frame_addr", "awe_stats",	     "awe_section_create", "awe_section_close",
		"awe_init"};
	static const char *const w32[K_N] = {"AllocateUserPhysicalPages",
					     "FreeUserPhysicalPages",
					     "VirtualAlloc",
					     "VirtualFree",
					     "MapUserPhysicalPages",
					     "MapUserPhysicalPagesScatter",
					     "VirtualProtect",
					     "VirtualQuery",
					     "-",
					     "-",
					     "CreateFileMapping2",
					     "CloseHandle",
					     "-"};

	if (variant && !m->w32) {
		if (k == K_ALLOC)
			return "awe_section_alloc";
		if (k == K_FREE)
			return "awe_section_free";
		if (k == K_WCREATE)
			return "awe_section_window_create";
	}
	if (variant && m->w32 && k == K_WCREATE)
		return "VirtualAlloc2";
	return m->w32 ? w32[k] : nat[k];
}

/* A code as a name: E... for native, the number and name for Win32. */
static inline const char *model_code_name(const struct model *m, int code, char *buf, size_t len)
{
	static const struct {
		int code;
		const char *name;
	} w32[] = {{0, "ERROR_SUCCESS"},
		   {5, "ERROR_ACCESS_DENIED"},
		   {6, "ERROR_INVALID_HANDLE"},
		   {8, "ERROR_NOT_ENOUGH_MEMORY"},
		   {24, "ERROR_BAD_LENGTH"},
		   {50, "ERROR_NOT_SUPPORTED"},
		   {87, "ERROR_INVALID_PARAMETER"},
		   {487, "ERROR_INVALID_ADDRESS"},
		   {998, "ERROR_NOACCESS"},
		   {1314, "ERROR_PRIVILEGE_NOT_HELD"},
		   {1450, "ERROR_NO_SYSTEM_RESOURCES"},
		   {1455, "ERROR_COMMITMENT_LIMIT"}};

	if (m->w32) {
		for (size_t i = 0; i < sizeof(w32) / sizeof(w32[0]); i++)
			if (w32[i].code == code) {
				snprintf(buf, len, "%d %s", code, w32[i].name);
				return buf;
			}
		snprintf(buf, len, "%d", code);
		return buf;
	}
	if (code == 0)
		return "success";
	{
		const char *n = strerrorname_np(code);

		snprintf(buf, len, "%s", n ? n : "?");
	}
	return buf;
}

/* The expectation in words. */
static inline void model_exp_text(const struct model *m, const struct mexp *x, char *buf,
				  size_t len)
{
	size_t o = 0;
	char nb[64];

	buf[0] = 0;
	if (x->ok)
		o += (size_t)snprintf(buf + o, len - o, "success%s", x->n ? " or " : "");
	for (unsigned int i = 0; i < x->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " or " : "",
				      model_code_name(m, x->code[i], nb, sizeof(nb)));
	for (unsigned int i = 0; i < x->ntol && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : " (tolerated: ",
				      model_code_name(m, x->tol[i], nb, sizeof(nb)));
	if (x->ntol && o < len)
		snprintf(buf + o, len - o, ")");
}

/* ---- Describing calls ---------------------------------------------------------------- */

static inline int model_win_at(const struct model *m, const void *addr);
static inline int model_frame(const struct model *m, awe_frame_t num, int hint);

static inline void model_fmt_addr(const struct model *m, const void *a, char *buf, size_t len)
{
	int w = model_win_at(m, a);

	if (w >= 0) {
		uintptr_t off = (uintptr_t)a - m->w[w].base;

		snprintf(buf, len, "W%d+%zup+%#zx", w, (size_t)(off >> m->shift),
			 (size_t)(off & (m->page - 1)));
	} else {
		snprintf(buf, len, "%p", a);
	}
}

static inline void model_fmt_frame(const struct model *m, awe_frame_t num, int fi, char *buf,
				   size_t len)
{
	if (fi >= 0 && (size_t)fi < m->nf && m->f[fi].num == num)
		snprintf(buf, len, "F%d=%#" PRIx64 "%s", fi, num,
			 m->f[fi].owner >= 0 ? "(sec)" : "");
	else
		snprintf(buf, len, "%#" PRIx64, num);
}

static inline const char *model_ptr_name(enum mptr p)
{
	static const char *const n[] = {"ok", "NULL", "low", "kernel", "top", "misaligned"};

	return n[p];
}

/* One line per call, in the layer's own terms. */
static inline void model_fmt_call(const struct model *m, const struct mcall *c, char *buf,
				  size_t len)
{
	char a[96], f[64];
	size_t o = 0;
	const char *name = model_kind_name(m, c->kind, !c->proc);

#define P(...)                                                                                     \
	do {                                                                                       \
		if (o < len)                                                                       \
			o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__);                      \
	} while (0)
	switch (c->kind) {
	case K_ALLOC:
		P("%s%s(%s%#" PRIx64 ", count %zu, array %s", name,
		  m->w32 && c->node != -1 ? "Numa" : "", c->proc ? "process " : "section ",
		  c->handle, c->count, model_ptr_name(c->arr));
		if (m->w32)
			P(", *pn %s", model_ptr_name(c->out));
		if (!m->w32 || c->node != -1)
			P(", node %d", c->node);
		P(")");
		break;
	case K_FREE:
		P("%s(%s%#" PRIx64 ", count %zu, array %s, %s %s, [", name,
		  c->proc ? "process " : "section ", c->handle, c->count, model_ptr_name(c->arr),
		  m->w32 ? "*pn" : "freed", model_ptr_name(c->out));
		for (size_t i = 0; i < c->n; i++) {
			model_fmt_frame(m, c->frames[i], c->fi[i], f, sizeof(f));
			P("%s%s", i ? ", " : "", f);
		}
		P("])");
		break;
	case K_WCREATE:
		model_fmt_addr(m, c->addr, a, sizeof(a));
		P("%s(%s%#" PRIx64 ", size %#zx, hint/address %s, flags %#x, prot %#x, out %s)",
		  name, c->proc ? "plain " : "section ", c->handle, c->size, a, c->flags,
		  (unsigned int)c->prot, model_ptr_name(c->out));
		break;
	case K_WDESTROY:
		model_fmt_addr(m, c->addr, a, sizeof(a));
		P("%s(%s", name, a);
		if (m->w32)
			P(", size %#zx, type %#x", c->size, c->type);
		P(")");
		break;
	case K_MAP:
	case K_PROTECT:
		model_fmt_addr(m, c->addr, a, sizeof(a));
		P("%s(%s, %s %zu", name, a, m->w32 && c->kind == K_PROTECT ? "bytes" : "count",
		  m->w32 && c->kind == K_PROTECT ? c->size : c->count);
		if (c->kind == K_PROTECT) {
			P(", prot %#x, old %s)", (unsigned int)c->prot, model_ptr_name(c->out));
			break;
		}
		if (c->frames_null) {
			P(", NULL)");
			break;
		}
		P(", array %s [", model_ptr_name(c->arr));
		for (size_t i = 0; i < c->n; i++) {
			model_fmt_frame(m, c->frames[i], c->fi[i], f, sizeof(f));
			P("%s%s", i ? ", " : "", f);
		}
		P("])");
		break;
	case K_SCATTER:
		P("%s(addrs %s, count %zu, frames %s, [", name, model_ptr_name(c->arr2), c->count,
		  c->frames_null ? "NULL" : model_ptr_name(c->arr));
		for (size_t i = 0; i < c->n; i++) {
			model_fmt_addr(m, c->addrs[i], a, sizeof(a));
			if (c->frames_null) {
				P("%s%s", i ? ", " : "", a);
			} else {
				model_fmt_frame(m, c->frames[i], c->fi[i], f, sizeof(f));
				P("%s%s<-%s", i ? ", " : "", a, f);
			}
		}
		P("])");
		break;
	case K_QUERY:
		model_fmt_addr(m, c->addr, a, sizeof(a));
		P("%s(%s, buffer %s", name, a, model_ptr_name(c->out));
		if (m->w32)
			P(", length %zu", c->len);
		P(")");
		break;
	case K_FADDR:
		model_fmt_frame(m, c->frame, c->w, f, sizeof(f));
		P("%s(%s, out %s)", name, f, model_ptr_name(c->out));
		break;
	case K_STATS:
		P("%s(out %s)", name, model_ptr_name(c->out));
		break;
	case K_SCREATE:
		if (m->w32)
			P("%s(variant %u)", name, c->type);
		else
			P("%s(flags %#x, out %s)", name, c->flags, model_ptr_name(c->out));
		break;
	case K_SCLOSE:
		P("%s(%#" PRIx64 ")", name, c->handle);
		break;
	case K_INIT:
		P("%s(%#x)", name, c->flags);
		break;
	default:
		P("?");
	}
#undef P
}

/* ---- Failure reports ----------------------------------------------------------------- */

static inline void model_report_head(const struct model *m, FILE *out)
{
	fprintf(out,
		"libawe model: DIVERGENCE (%s layer, %s engine, test %s, profile %s)\n"
		"  seed %#" PRIx64 ", call %" PRIu64 "\n",
		m->be->name, m->memfd ? "memfd" : "uffd-move", m->test, m->profile, m->seed,
		m->c.seq);
}

/* The test program (Criterion runs tests in a worker named otherwise). */
static inline const char *model_exe(void)
{
	static char path[512];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	path[n > 0 ? n : 0] = 0;
	return n > 0 ? path : program_invocation_name;
}

static inline void model_report_tail(const struct model *m, FILE *out)
{
	char buf[1600];
	uint64_t first = m->c.seq > MODEL_RING ? m->c.seq - MODEL_RING + 1 : 1;

	if (m->c.kind == K_MAP || m->c.kind == K_SCATTER || m->c.kind == K_FREE) {
		fprintf(out, "  the entries in the model:");
		for (size_t i = 0; i < m->c.n && i < 16; i++) {
			int fi = model_frame(m, m->c.frames[i], m->c.fi[i]);

			if (fi < 0)
				fprintf(out, " [%zu] %#" PRIx64 " none", i, m->c.frames[i]);
			else
				fprintf(out, " [%zu] F%d owner %d at W%d slot %d", i, fi,
					m->f[fi].owner, m->f[fi].win, m->f[fi].slot);
		}
		fprintf(out, "\n");
	}
	{
		FILE *f = fopen("/proc/self/maps", "r");
		unsigned long avail = 0;
		long maps = 0;
		char line[256];
		int ch;

		while (f && (ch = fgetc(f)) != EOF)
			maps += ch == '\n';
		if (f)
			fclose(f);
		f = fopen("/proc/meminfo", "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %lu kB", &avail) == 1)
				break;
		if (f)
			fclose(f);
		fprintf(out,
			"  the process has %ld mappings (vm.max_map_count %" PRIu64
			"); MemAvailable %lu kB\n",
			maps, m->max_map_count, avail);
	}
	fprintf(out, "  the model's windows:");
	for (int w = 0; w < MODEL_WSLOTS; w++)
		if (m->w[w].live)
			fprintf(out, " W%d=%#" PRIxPTR "+%zup(%s%d)", w, m->w[w].base,
				m->w[w].npages, m->w[w].sec >= 0 ? "section S" : "plain",
				m->w[w].sec);
	fprintf(out, "\n  the model's sections:");
	for (int i = 0; i < MODEL_SECSLOTS; i++)
		if (m->sec[i].alive)
			fprintf(out, " S%d=%#" PRIx64 "(%s, %d windows, %d frames)", i,
				m->sec[i].handle, m->sec[i].open ? "open" : "closed",
				m->sec[i].nwin, m->sec[i].nframes);
	fprintf(out, "\n  the last calls:\n");
	for (uint64_t s = first; s <= m->c.seq && s > 0; s++) {
		const struct mcall *c = &m->ring[s % MODEL_RING];

		if (c->seq != s)
			continue;
		model_fmt_call(m, c, buf, sizeof(buf));
		fprintf(out, "    #%" PRIu64 " %s\n", s, buf);
	}
	fprintf(out,
		"  replay: AWE_MODEL_SEED=%#" PRIx64 " AWE_MODEL_CALLS=%" PRIu64
		" AWE_MODEL_SWEEP=1 %s --filter 'model/%s'\n",
		m->seed, m->c.seq, model_exe(), m->test);
	if (getenv("AWE_ENGINE"))
		fprintf(out, "  (with AWE_ENGINE=%s)\n", getenv("AWE_ENGINE"));
}

static inline void model_cleanup(struct model *m);

/* A divergence: report it with everything needed to replay it, and stop. */
__attribute__((format(printf, 2, 3), noreturn)) static inline void model_fail(struct model *m,
									      const char *fmt, ...)
{
	char msg[1024], call[1600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	model_fmt_call(m, &m->c, call, sizeof(call));
	model_report_head(m, stderr);
	fprintf(stderr, "  during or after: %s\n  %s\n", call, msg);
	model_report_tail(m, stderr);
	fflush(stderr);
	if (m->in_child)
		_exit(1);
	{
		uint64_t seed = m->seed, seq = m->c.seq;
		const char *kname = model_kind_name(m, m->c.kind, !m->c.proc);

		model_cleanup(m);
		cr_assert_fail("model divergence at seed %#" PRIx64 " call %" PRIu64
			       " (%s): %s (the call and the replay line are on stderr)",
			       seed, seq, kname, msg);
	}
	abort();
}

/* ---- Fault probes -------------------------------------------------------------------- */

/*
 * One handler for the whole run, installed with SA_NODEFER so that a probe
 * leaves with siglongjmp and no signal mask to restore: a probe costs a
 * sigsetjmp, and a fault one signal delivery. Outside a probe, a fault is
 * a crash: it is reported with the call being made, and the process dies
 * of it.
 */
struct model_fault {
	int sig;
	void *addr;
};

static __thread sigjmp_buf model_probe_env;
static __thread volatile sig_atomic_t model_probe_on;
static __thread struct model_fault model_probe_got;
static struct model *model_crash_to;
static struct sigaction model_old_segv, model_old_bus;

static inline void model_on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (model_probe_on) {
		model_probe_on = 0;
		model_probe_got.sig = sig;
		model_probe_got.addr = si->si_addr;
		siglongjmp(model_probe_env, 1);
	}
	if (model_crash_to) {
		struct model *m = model_crash_to;
		char call[1600];

		model_crash_to = NULL;
		model_fmt_call(m, &m->c, call, sizeof(call));
		model_report_head(m, stderr);
		fprintf(stderr, "  CRASH: %s at %p during or after: %s\n", strsignal(sig),
			si->si_addr, call);
		model_report_tail(m, stderr);
		fflush(stderr);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void model_probes_on(struct model *m)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = model_on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &model_old_segv);
	sigaction(SIGBUS, &sa, &model_old_bus);
	model_crash_to = m;
}

static inline void model_probes_off(void)
{
	model_crash_to = NULL;
	sigaction(SIGSEGV, &model_old_segv, NULL);
	sigaction(SIGBUS, &model_old_bus, NULL);
}

/* Kept out of line so that no local lives across the sigsetjmp. */
static __attribute__((noinline)) struct model_fault model_touch(volatile char *p, bool write)
{
	struct model_fault none = {0, NULL};

	if (sigsetjmp(model_probe_env, 0))
		return model_probe_got;
	model_probe_on = 1;
	if (write) {
		char v = *p;

		*p = v;
	} else {
		(void)*p;
	}
	model_probe_on = 0;
	return none;
}

/* ---- The model's tables -------------------------------------------------------------- */

static inline void model_lock(struct model *m)
{
	if (m->mu && !m->mu_whole)
		pthread_mutex_lock(m->mu);
}

static inline void model_unlock(struct model *m)
{
	if (m->mu && !m->mu_whole)
		pthread_mutex_unlock(m->mu);
}

static inline int model_win_at(const struct model *m, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < MODEL_WSLOTS; i++) {
		const struct mw *w = &m->w[i];

		if (w->live && a >= w->base && a - w->base < (w->npages << m->shift))
			return i;
	}
	return -1;
}

static inline size_t model_slot_of(const struct model *m, int w, const void *addr)
{
	return ((uintptr_t)addr - m->w[w].base) >> m->shift;
}

static inline char *model_slot_addr(const struct model *m, int w, size_t s)
{
	return (char *)(m->w[w].base + (s << m->shift));
}

/* The open section a handle names, or -1. */
static inline int model_sec_by_handle(const struct model *m, uint64_t h)
{
	for (int i = 0; i < MODEL_SECSLOTS; i++)
		if (m->sec[i].alive && m->sec[i].open && m->sec[i].handle == h)
			return i;
	return -1;
}

/* The live model frame with number @num (@hint: where the generator found
 * it), or -1. */
static inline int model_frame(const struct model *m, awe_frame_t num, int hint)
{
	if (num == 0)
		return -1;
	if (hint >= 0 && (size_t)hint < m->nf && m->f[hint].live && m->f[hint].num == num)
		return hint;
	for (size_t i = 0; i < m->nlive; i++)
		if (m->f[m->live[i]].num == num)
			return m->live[i];
	return -1;
}

static inline bool model_set_has(const uint64_t *set, size_t cap, uint64_t v)
{
	if (!cap)
		return false;
	for (size_t i = (size_t)(v * 0x9e3779b97f4a7c15ull) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (set[i] == v)
			return true;
		if (!set[i])
			return false;
	}
}

/* Adds @v (non-zero); false when it was there already. */
static inline bool model_set_add(uint64_t **set, size_t *cap, size_t *n, uint64_t v)
{
	if (model_set_has(*set, *cap, v))
		return false;
	if (2 * (*n + 1) > *cap) {
		size_t oc = *cap, nc = oc ? 2 * oc : 1024;
		uint64_t *ns = calloc(nc, sizeof(*ns)), *old = *set;

		if (!ns)
			abort();
		*set = ns;
		*cap = nc;
		*n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i])
				model_set_add(set, cap, n, old[i]);
		free(old);
	}
	for (size_t i = (size_t)(v * 0x9e3779b97f4a7c15ull) & (*cap - 1);; i = (i + 1) & (*cap - 1))
		if (!(*set)[i]) {
			(*set)[i] = v;
			(*n)++;
			return true;
		}
}

static inline int model_frame_new(struct model *m, awe_frame_t num, int owner)
{
	int i;

	if (m->nfree) {
		i = m->freeidx[--m->nfree];
	} else {
		if (m->nf == m->fcap) {
			size_t nc = m->fcap ? 2 * m->fcap : 512;

			m->f = realloc(m->f, nc * sizeof(*m->f));
			m->live = realloc(m->live, nc * sizeof(*m->live));
			m->freeidx = realloc(m->freeidx, nc * sizeof(*m->freeidx));
			if (!m->f || !m->live || !m->freeidx)
				abort();
			m->fcap = nc;
		}
		i = (int)m->nf++;
	}
	m->f[i] = (struct mf){.num = num,
			      .owner = owner,
			      .win = -1,
			      .slot = -1,
			      .pos = (int)m->nlive,
			      .live = true,
			      .bulk = m->bulk && owner < 0};
	m->live[m->nlive++] = i;
	if (owner >= 0)
		m->sec[owner].nframes++;
	else if (!m->f[i].bulk)
		m->nproc++;
	return i;
}

/* Unmap slot @s of window @w in the model. */
static inline void model_slot_clear(struct model *m, int w, size_t s)
{
	int fi = m->w[w].slot[s];

	if (fi >= 0 && m->f[fi].owner < 0)
		m->f[fi].win = m->f[fi].slot = -1;
	m->w[w].slot[s] = -1;
	m->w[w].prot[s] = AWE_PROT_NONE;
}

static inline void model_slot_set(struct model *m, int w, size_t s, int fi)
{
	model_slot_clear(m, w, s);
	if (m->f[fi].owner < 0) {
		if (m->f[fi].win >= 0)
			model_slot_clear(m, m->f[fi].win, (size_t)m->f[fi].slot);
		m->f[fi].win = w;
		m->f[fi].slot = (int)s;
	}
	m->w[w].slot[s] = fi;
	m->w[w].prot[s] = AWE_PROT_READWRITE;
}

/*
 * After a call the kernel failed part of the way and then would not undo
 * entirely (native -ENOTRECOVERABLE; Win32 says 1450, as when nothing
 * changed): take every slot as libawe reports it. The slot checks then hold
 * the library to its word (data, faults, awe_frame_addr()), and every frame
 * must still be one the model knows.
 */
static inline void model_resync(struct model *m)
{
	/* Empty first: a frame is then set where it is, whatever the order. */
	for (int w = 0; w < MODEL_WSLOTS; w++)
		for (size_t s = 0; m->w[w].live && s < m->w[w].npages; s++)
			model_slot_clear(m, w, s);
	for (int w = 0; w < MODEL_WSLOTS; w++) {
		for (size_t s = 0; m->w[w].live && s < m->w[w].npages; s++) {
			struct awe_page_info pi;
			int fi, rc = awe_query((char *)m->w[w].base + (s << m->shift), &pi);

			if (rc)
				model_fail(m, "awe_query(W%d slot %zu): %s", w, s,
					   awe_strerror(rc));
			fi = model_frame(m, pi.frame, -1);
			if (pi.frame && fi < 0)
				model_fail(m,
					   "W%d slot %zu shows frame %#" PRIx64
					   ", which is none of "
					   "the model's",
					   w, s, pi.frame);
			if (fi < 0)
				continue;
			model_slot_set(m, w, s, fi);
			m->w[w].prot[s] = (uint8_t)pi.prot;
		}
	}
}

static inline void model_frame_kill(struct model *m, int fi)
{
	struct mf *f = &m->f[fi];
	int last;

	if (f->owner < 0) {
		if (f->win >= 0)
			model_slot_clear(m, f->win, (size_t)f->slot);
		if (!f->bulk)
			m->nproc--;
	} else {
		for (int w = 0; w < MODEL_WSLOTS; w++)
			if (m->w[w].live && m->w[w].sec == f->owner)
				for (size_t s = 0; s < m->w[w].npages; s++)
					if (m->w[w].slot[s] == fi)
						model_slot_clear(m, w, s);
		m->sec[f->owner].nframes--;
	}
	f->live = false;
	last = m->live[--m->nlive];
	m->live[f->pos] = last;
	m->f[last].pos = f->pos;
	m->dead[m->ndead++ % MODEL_DEAD] = f->num;
	m->freeidx[m->nfree++] = fi;
}

static inline void model_section_die(struct model *m, int si)
{
	for (size_t i = m->nlive; i-- > 0;)
		if (m->f[m->live[i]].owner == si)
			model_frame_kill(m, m->live[i]);
	m->sec[si].alive = false;
}

static inline void model_stale_add(struct model *m, uint64_t h)
{
	m->stale[m->nstale++ % MODEL_STALE] = h;
}

/* ---- The footprint of a call: what it may change ------------------------------------- */

static inline void model_touch_slot(struct model *m, int w, size_t s)
{
	if (w < 0 || !m->w[w].live || s >= m->w[w].npages || m->w[w].mark[s] == m->epoch)
		return;
	m->w[w].mark[s] = m->epoch;
	m->tw[m->nt] = w;
	m->ts[m->nt++] = (int)s;
}

static inline void model_touch_frame(struct model *m, int fi)
{
	if (fi < 0 || m->ntf >= sizeof(m->tf) / sizeof(m->tf[0]))
		return;
	for (size_t i = 0; i < m->ntf; i++)
		if (m->tf[i] == fi)
			return;
	m->tf[m->ntf++] = fi;
	if (m->f[fi].owner < 0) {
		if (m->f[fi].win >= 0)
			model_touch_slot(m, m->f[fi].win, (size_t)m->f[fi].slot);
	} else {
		for (int w = 0; w < MODEL_WSLOTS; w++)
			if (m->w[w].live && m->w[w].sec == m->f[fi].owner)
				for (size_t s = 0; s < m->w[w].npages; s++)
					if (m->w[w].slot[s] == fi)
						model_touch_slot(m, w, s);
	}
}

/* ---- Pointers -------------------------------------------------------------------------- */

/* The pointer a call passes for @k, @ok being the real buffer. */
static inline void *model_ptr(const struct model *m, enum mptr k, void *ok)
{
	switch (k) {
	case P_OK:
		return ok;
	case P_NULL:
		return NULL;
	case P_LOW:
		return (void *)(uintptr_t)16;
	case P_HIGH:
		return (void *)(uintptr_t)0xffff800000000000ull;
	case P_TOP:
		return (void *)(m->top + m->page - 8);
	case P_MIS:
		return (char *)ok + 1;
	}
	return ok;
}

/* Below vm.mmap_min_addr or beyond the top of user space: -EFAULT, 998. */
static inline bool model_ptr_bad(enum mptr k)
{
	return k == P_LOW || k == P_HIGH || k == P_TOP;
}

/* Does [p, p + count * elem) reach beyond the top of user space? */
static inline bool model_beyond(const struct model *m, const void *p, size_t count, size_t elem)
{
	size_t bytes;
	uintptr_t end;

	if (__builtin_mul_overflow(count, elem, &bytes) ||
	    __builtin_add_overflow((uintptr_t)p, bytes, &end))
		return true;
	return end > m->top;
}

/* An array argument of @count entries of @elem bytes that the contract
 * refuses as a bad pointer (NULL counted apart). */
static inline bool model_arr_bad(const struct model *m, enum mptr k, const void *buf, size_t count,
				 size_t elem)
{
	if (model_ptr_bad(k))
		return true;
	return (k == P_OK || k == P_MIS) && model_beyond(m, buf, count, elem);
}

/* A pointer kind for an argument: mostly the real thing. */
static inline enum mptr model_pick_ptr(struct model *m, unsigned int pct_null, bool can_top)
{
	unsigned int r = (unsigned int)model_rnd(m, 1000);

	if (r < pct_null * 10)
		return P_NULL;
	r -= pct_null * 10;
	if (r < 15 && m->min_addr >= 4096)
		return P_LOW;
	if (r >= 15 && r < 25)
		return P_HIGH;
	if (r >= 25 && r < 35 && can_top)
		return P_TOP;
	if (m->w32 && r >= 35 && r < 45)
		return P_MIS;
	return P_OK;
}

/* ---- Expectations ---------------------------------------------------------------------- */

static inline void x_add(struct mexp *x, int code)
{
	for (unsigned int i = 0; i < x->n; i++)
		if (x->code[i] == code)
			return;
	if (x->n < sizeof(x->code) / sizeof(x->code[0]))
		x->code[x->n++] = code;
}

static inline void x_tol(struct mexp *x, int code)
{
	for (unsigned int i = 0; i < x->ntol; i++)
		if (x->tol[i] == code)
			return;
	if (x->ntol < sizeof(x->tol) / sizeof(x->tol[0]))
		x->tol[x->ntol++] = code;
}

static inline bool x_has(const int *v, unsigned int n, int code)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i] == code)
			return true;
	return false;
}

/* Native or Win32 code. */
static inline int model_code(const struct model *m, int native, int w32)
{
	return m->w32 ? w32 : native;
}

/* Whether SeLockMemoryPrivilege is held and enabled (awe-win32(7)). */
static inline bool model_priv_held(const struct model *m)
{
	struct rlimit rl;

	if (!m->priv_enabled)
		return false;
	if (m->cap_ipc_lock || m->unlocked_env)
		return true;
	return getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
	       (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= MODEL_PRIV_MEMLOCK);
}

/* ---- The contract ------------------------------------------------------------------------ */

/* The owner a window shows frames of: -1 the process, else a section. */
static inline int model_win_owner(const struct model *m, int w)
{
	return m->w[w].sec;
}

/* Is the model frame @fi one that window @w may show? */
static inline bool model_fits(const struct model *m, int fi, int w)
{
	return fi >= 0 && m->f[fi].owner == model_win_owner(m, w);
}

/*
 * The entries of a map call in array order: the code of the first that is
 * not a frame the slot's window may show (never allocated, freed, 0 unless
 * scatter's unmap, another owner's), or, for frames of the process, one
 * that is mapped before the call or listed earlier in it. 0: all good.
 */
static inline int model_entries_error(struct model *m, const struct mcall *c, bool scatter)
{
	uint64_t epoch = ++m->epoch;

	for (size_t i = 0; i < c->count; i++) {
		int w = model_win_at(m, scatter ? c->addrs[i] : c->addr);
		int fi;

		if (scatter && c->frames[i] == 0)
			continue;
		fi = model_frame(m, c->frames[i], c->fi[i]);
		if (!model_fits(m, fi, w))
			return model_code(m, ENOENT, ERROR_INVALID_ADDRESS);
		if (m->f[fi].owner >= 0)
			continue;
		if (m->f[fi].win >= 0 || m->f[fi].used == epoch)
			return model_code(m, EBUSY, ERROR_INVALID_ADDRESS);
		m->f[fi].used = epoch;
	}
	return 0;
}

/* The memfd engine's windows (every window with it, a section's with either)
 * cost the process a mapping per run of frames; the kernel may refuse one
 * when the process is out of them, or for want of memory: then a window
 * creation, an unmap, a destroy or a free may fail with ENOMEM (Win32:
 * 1450), nothing changed but a free's progress. */
static inline void model_memfd_tolerate(const struct model *m, struct mexp *x, bool memfd)
{
	if (!memfd && !m->memfd)
		return;
	x_tol(x, model_code(m, ENOMEM, ERROR_NO_SYSTEM_RESOURCES));
	/* Refused part of the way and then refused the undo too: done in
	 * part, as awe_query() tells (model_resync()). Win32 says 1450. */
	if (!m->w32)
		x_tol(x, ENOTRECOVERABLE);
}

/* The tolerated resource errors of a map into window @w. */
static inline void model_map_tolerate(const struct model *m, struct mexp *x, int w)
{
	model_memfd_tolerate(m, x, w >= 0 && m->w[w].sec >= 0);
	if (m->hostile & (H_MEMLOCK | H_CGROUP))
		x_tol(x, model_code(m, ENOMEM, ERROR_NO_SYSTEM_RESOURCES));
}

static inline void model_predict_alloc(struct model *m, const struct mcall *c, struct mexp *x)
{
	int owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);
	bool huge = c->count > (SIZE_MAX >> m->shift);

	if (!m->w32) {
		if (c->count == 0) {
			x->ok = true;
			return;
		}
		if (c->arr == P_NULL || model_arr_bad(m, c->arr, c->frames, c->count, 8))
			x_add(x, EFAULT);
		if (huge)
			x_add(x, EINVAL);
		if (c->node != -1 && (c->node < 0 || (unsigned int)c->node >= m->nodes))
			x_add(x, EINVAL);
		if (!c->proc && owner < 0)
			x_add(x, ENOENT);
		if (x->n)
			return;
		x->ok = true;
		if (m->hostile & (H_MEMLOCK | H_CGROUP)) {
			x->partial = true;
			x_tol(x, EPERM);
			x_tol(x, ENOMEM);
		}
		return;
	}
	if (c->node != -1 && (DWORD)c->node >= m->nodes) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	if (c->out != P_OK) {
		x_add(x, ERROR_NOACCESS);
		return;
	}
	if (c->count == 0) {
		x->ok = true;
		return;
	}
	if (c->count > UINTPTR_MAX / sizeof(ULONG_PTR)) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	if (c->arr == P_NULL || c->arr == P_MIS ||
	    model_arr_bad(m, c->arr, c->frames, c->count, 8)) {
		x_add(x, ERROR_NOACCESS);
		return;
	}
	if (!c->proc && owner < 0) {
		x_add(x, ERROR_INVALID_HANDLE);
		return;
	}
	if (!model_priv_held(m)) {
		x_add(x, ERROR_PRIVILEGE_NOT_HELD);
		return;
	}
	x->alloc_reached = true;
	x->ok = true;
	if (m->hostile & (H_MEMLOCK | H_CGROUP)) {
		x->partial = true;
		x_tol(x, ERROR_NO_SYSTEM_RESOURCES);
		x_tol(x, ERROR_COMMITMENT_LIMIT);
	}
}

/* Free: the first entry that stops the call (or count). */
static inline size_t model_free_stop(struct model *m, const struct mcall *c, int owner)
{
	uint64_t epoch = ++m->epoch;
	size_t i;

	for (i = 0; i < c->count; i++) {
		int fi = i < c->n ? model_frame(m, c->frames[i], c->fi[i]) : -1;

		if (fi < 0 || m->f[fi].owner != owner || m->f[fi].used == epoch)
			break;
		m->f[fi].used = epoch;
	}
	return i;
}

static inline void model_predict_free(struct model *m, const struct mcall *c, struct mexp *x)
{
	int owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);
	size_t stop;

	if (!m->w32) {
		if (c->count == 0)
			x_add(x, EINVAL);
		if (c->arr == P_NULL || model_arr_bad(m, c->arr, c->frames, c->count, 8))
			x_add(x, EFAULT);
		if (model_ptr_bad(c->out))
			x_add(x, EFAULT);
		if (!c->proc && owner < 0)
			x_add(x, ENOENT);
		if (x->n)
			return;
		stop = model_free_stop(m, c, c->proc ? -1 : owner);
		x->frees = true;
		x->stop = stop;
		model_memfd_tolerate(m, x, owner >= 0);
		if (stop == c->count)
			x->ok = true;
		else
			x_add(x, ENOENT);
		return;
	}
	if (c->out != P_OK) {
		x_add(x, ERROR_NOACCESS);
		return;
	}
	/* From here on *NumberOfPages is 0 unless entries get freed. */
	x->frees = true;
	x->stop = 0;
	if (c->count == 0) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	if (!c->proc && owner < 0) {
		x_add(x, ERROR_INVALID_HANDLE);
		return;
	}
	if (c->proc && !m->awe_info) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	if (c->arr == P_NULL || c->arr == P_MIS ||
	    model_arr_bad(m, c->arr, c->frames, c->count, 8)) {
		x_add(x, ERROR_NOACCESS);
		return;
	}
	stop = model_free_stop(m, c, c->proc ? -1 : owner);
	x->stop = stop;
	model_memfd_tolerate(m, x, owner >= 0);
	if (stop == c->count)
		x->ok = true;
	else
		x_add(x, ERROR_INVALID_ADDRESS);
}

static inline void model_predict_wcreate(struct model *m, const struct mcall *c, struct mexp *x)
{
	int owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);

	if (!m->w32) {
		if (c->out != P_OK)
			x_add(x, EFAULT);
		if (c->size == 0 || c->size > m->top)
			x_add(x, EINVAL);
		if ((c->flags & ~(unsigned int)AWE_WINDOW_FIXED) ||
		    ((c->flags & AWE_WINDOW_FIXED) && !c->addr))
			x_add(x, EINVAL);
		if (!c->proc && owner < 0)
			x_add(x, ENOENT);
		if (x->n)
			return;
		if ((c->flags & AWE_WINDOW_FIXED) && model_win_at(m, c->addr) >= 0) {
			x_add(x, EEXIST);
			return;
		}
		x->ok = true;
		model_memfd_tolerate(m, x, owner >= 0);
		if (m->hostile & (H_MEMLOCK | H_CGROUP)) {
			x_tol(x, EPERM);
			x_tol(x, ENOMEM);
		}
		return;
	}
	{
		DWORD t = c->flags;
		uintptr_t a = (uintptr_t)c->addr;

		if (t != (MEM_RESERVE | MEM_PHYSICAL) &&
		    t != (MEM_RESERVE | MEM_PHYSICAL | MEM_TOP_DOWN)) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if (c->prot != PAGE_READWRITE) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if (!c->proc && owner < 0) {
			x_add(x, ERROR_INVALID_HANDLE);
			return;
		}
		if (c->size == 0 || c->size > MODEL_W32_USER_END) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if (a && (a >= MODEL_W32_USER_END || c->size > MODEL_W32_USER_END - a)) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if (a && model_win_at(m, c->addr) >= 0) {
			x_add(x, ERROR_INVALID_ADDRESS);
			return;
		}
		x->ok = true;
		model_memfd_tolerate(m, x, owner >= 0);
		if (m->hostile & (H_MEMLOCK | H_CGROUP)) {
			x_tol(x, ERROR_NO_SYSTEM_RESOURCES);
			x_tol(x, ERROR_NOT_ENOUGH_MEMORY);
		}
	}
}

static inline void model_predict_wdestroy(struct model *m, const struct mcall *c, struct mexp *x)
{
	int w = model_win_at(m, c->addr);

	if (w >= 0)
		model_memfd_tolerate(m, x, m->w[w].sec >= 0);
	if (!m->w32) {
		if (w >= 0 && m->w[w].base == (uintptr_t)c->addr)
			x->ok = true;
		else
			x_add(x, EINVAL);
		return;
	}
	if (c->type != MEM_RELEASE && c->type != MEM_DECOMMIT) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	if (w >= 0 && c->type == MEM_RELEASE && m->w[w].base == (uintptr_t)c->addr &&
	    (c->size == 0 || c->size == m->w[w].npages << m->shift))
		x->ok = true;
	else
		x_add(x, ERROR_INVALID_ADDRESS);
	/* Beyond the user address space: awe-win32(7) says only "an address in
	 * no region gives 487"; Windows checks the range first (87). */
	if (w < 0 && (uintptr_t)c->addr >= MODEL_W32_USER_END)
		x_add(x, ERROR_INVALID_PARAMETER);
}

/* awe_map(): the window and first slot of [addr, count pages), or -1. */
static inline int model_range(const struct model *m, const void *addr, size_t count, size_t *s)
{
	int w = model_win_at(m, addr);

	*s = 0;
	if (w < 0)
		return -1;
	*s = model_slot_of(m, w, addr);
	return count <= m->w[w].npages - *s ? w : -1;
}

static inline void model_predict_map(struct model *m, const struct mcall *c, struct mexp *x)
{
	size_t s;
	int w = model_range(m, c->addr, c->count, &s), e;

	if (!m->w32) {
		if (c->count == 0) {
			x->ok = true;
			return;
		}
		if (!c->addr) {
			x_add(x, EFAULT);
			return;
		}
		if (!c->frames_null && model_arr_bad(m, c->arr, c->frames, c->count, 8))
			x_add(x, EFAULT);
		if (w < 0)
			x_add(x, EINVAL);
		if (x->n)
			return;
	} else {
		uintptr_t va = (uintptr_t)c->addr & ~(uintptr_t)(m->page - 1), bytes, end;

		if (c->count - 1 > MODEL_WIN10_MAX - 1 ||
		    __builtin_mul_overflow(c->count, m->page, &bytes) ||
		    __builtin_add_overflow(va, bytes - 1, &end)) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if (!c->frames_null &&
		    (c->arr == P_MIS || model_arr_bad(m, c->arr, c->frames, c->count, 8))) {
			x_add(x, ERROR_NOACCESS);
			return;
		}
		if (!c->addr || w < 0) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
	}
	if (!c->frames_null && (e = model_entries_error(m, c, false))) {
		x_add(x, e);
		return;
	}
	x->ok = true;
	if (!c->frames_null)
		model_map_tolerate(m, x, w);
}

/* Scatter: the code of the first address that is NULL, outside every
 * window, or in a window of another owner than the first's; 0: none. */
static inline int model_addrs_error(const struct model *m, const struct mcall *c)
{
	int owner = -2;

	for (size_t i = 0; i < c->count; i++) {
		int w;

		if (!c->addrs[i])
			return model_code(m, EFAULT, ERROR_INVALID_PARAMETER);
		w = model_win_at(m, c->addrs[i]);
		if (w < 0)
			return model_code(m, EINVAL, ERROR_INVALID_PARAMETER);
		if (owner != -2 && model_win_owner(m, w) != owner)
			return model_code(m, EINVAL, ERROR_INVALID_PARAMETER);
		owner = model_win_owner(m, w);
	}
	return 0;
}

static inline void model_predict_scatter(struct model *m, const struct mcall *c, struct mexp *x)
{
	bool arr_bad = !c->frames_null && model_arr_bad(m, c->arr, c->frames, c->count, 8);
	int e;

	if (!m->w32) {
		if (c->count == 0) {
			x->ok = true;
			return;
		}
		if (c->arr2 == P_NULL || model_arr_bad(m, c->arr2, c->addrs, c->count, 8))
			x_add(x, EFAULT);
		if (c->count > UINT32_MAX)
			x_add(x, EINVAL);
		if (x->n)
			return;
		if (arr_bad)
			x_add(x, EFAULT);
		if ((e = model_addrs_error(m, c)))
			x_add(x, e);
		if (x->n)
			return;
	} else {
		if (c->count > MODEL_WIN10_MAX) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		/* Nothing to read, nothing probed (spec: MapUserPhysicalPagesScatter). */
		if (c->count == 0) {
			x->ok = true;
			return;
		}
		if (c->arr2 == P_NULL || c->arr2 == P_MIS) {
			x_add(x, ERROR_NOACCESS);
			return;
		}
		if (model_arr_bad(m, c->arr2, c->addrs, c->count, 8) ||
		    (!c->frames_null && (c->arr == P_MIS || arr_bad))) {
			x_add(x, ERROR_NOACCESS);
			return;
		}
		if (c->count > UINT32_MAX) {
			x_add(x, ERROR_INVALID_PARAMETER);
			return;
		}
		if ((e = model_addrs_error(m, c))) {
			x_add(x, e);
			return;
		}
	}
	if (!c->frames_null && (e = model_entries_error(m, c, true))) {
		x_add(x, e);
		return;
	}
	x->ok = true;
	if (!c->frames_null)
		model_map_tolerate(m, x, model_win_at(m, c->addrs[0]));
}

/* Win32: the pages [first, end) VirtualProtect() names, in window @w;
 * false when the range is empty or wraps. */
static inline bool model_w32_pages(const struct model *m, const struct mcall *c, uintptr_t *start,
				   uintptr_t *end)
{
	uintptr_t a = (uintptr_t)c->addr, last;

	if (__builtin_add_overflow(a, c->size, &last) ||
	    __builtin_add_overflow(last, m->page - 1, &last))
		return false;
	*start = a & ~(uintptr_t)(m->page - 1);
	*end = last & ~(uintptr_t)(m->page - 1);
	return *end > *start;
}

static inline bool model_w32_prot_valid(uint32_t prot)
{
	uint32_t base = prot & 0xFF, mods = prot & ~(uint32_t)0xFF;

	if (!base || (base & (base - 1)))
		return false;
	if (mods & ~(uint32_t)(PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE))
		return false;
	return !(mods & (mods - 1));
}

static inline int model_awe_prot(uint32_t p)
{
	return p == PAGE_NOACCESS    ? AWE_PROT_NONE
	       : p == PAGE_READONLY  ? AWE_PROT_READ
	       : p == PAGE_READWRITE ? AWE_PROT_READWRITE
				     : -1;
}

static inline uint32_t model_win_prot(int p)
{
	return p == AWE_PROT_READWRITE ? PAGE_READWRITE
	       : p == AWE_PROT_READ    ? PAGE_READONLY
				       : PAGE_NOACCESS;
}

static inline void model_predict_protect(struct model *m, const struct mcall *c, struct mexp *x)
{
	if (!m->w32) {
		size_t s;
		int w = model_range(m, c->addr, c->count, &s);

		if (c->prot != AWE_PROT_NONE && c->prot != AWE_PROT_READ &&
		    c->prot != AWE_PROT_READWRITE) {
			x_add(x, EINVAL);
			return;
		}
		if (c->count == 0) {
			x->ok = true;
			/* @old is not looked at: a bad one may or may not be said. */
			if (model_ptr_bad(c->out))
				x_add(x, EFAULT);
			return;
		}
		if (!c->addr) {
			x_add(x, EFAULT);
			return;
		}
		if (model_ptr_bad(c->out))
			x_add(x, EFAULT);
		if (w < 0)
			x_add(x, EINVAL);
		if (!x->n)
			x->ok = true;
		if (m->hostile & (H_MEMLOCK | H_CGROUP))
			x_tol(x, ENOMEM);
		return;
	}
	if (m->hostile & (H_MEMLOCK | H_CGROUP))
		x_tol(x, ERROR_NO_SYSTEM_RESOURCES);
	{
		uintptr_t start = 0, end = 0;
		int w;

		if (c->out != P_OK) {
			x_add(x, ERROR_NOACCESS);
			return;
		}
		if (!model_w32_prot_valid((uint32_t)c->prot) ||
		    !model_w32_pages(m, c, &start, &end)) {
			x_add(x, ERROR_INVALID_PARAMETER);
			/* No protection at all, in an AWE region: awe-win32(7) says
			 * both "87: a bad flag" and "in an AWE region [anything but
			 * the three] gives 487". */
			if (!model_w32_prot_valid((uint32_t)c->prot) &&
			    model_w32_pages(m, c, &start, &end) &&
			    model_win_at(m, (void *)start) >= 0)
				x_add(x, ERROR_INVALID_ADDRESS);
			return;
		}
		w = model_win_at(m, (void *)start);
		/* Ordinary memory beyond user space: as for VirtualFree(). */
		if (w < 0 && end > MODEL_W32_USER_END)
			x_add(x, ERROR_INVALID_PARAMETER);
		if (w < 0 || model_awe_prot((uint32_t)c->prot) < 0 ||
		    end - m->w[w].base > m->w[w].npages << m->shift) {
			x_add(x, ERROR_INVALID_ADDRESS);
			return;
		}
		x->ok = true;
	}
}

static inline void model_predict_query(struct model *m, const struct mcall *c, struct mexp *x)
{
	int w = model_win_at(m, c->addr);

	if (!m->w32) {
		if (c->out != P_OK)
			x_add(x, EFAULT);
		if (w < 0)
			x_add(x, EINVAL);
		if (!x->n)
			x->ok = true;
		return;
	}
	if (c->len < sizeof(MEMORY_BASIC_INFORMATION)) {
		x_add(x, ERROR_BAD_LENGTH);
		return;
	}
	if (c->out != P_OK) {
		x_add(x, ERROR_NOACCESS);
		return;
	}
	if ((uintptr_t)c->addr >= MODEL_W32_USER_END) {
		x_add(x, ERROR_INVALID_PARAMETER);
		return;
	}
	x->ok = true;
}

static inline void model_predict(struct model *m, const struct mcall *c, struct mexp *x)
{
	memset(x, 0, sizeof(*x));
	switch (c->kind) {
	case K_ALLOC:
		model_predict_alloc(m, c, x);
		break;
	case K_FREE:
		model_predict_free(m, c, x);
		break;
	case K_WCREATE:
		model_predict_wcreate(m, c, x);
		break;
	case K_WDESTROY:
		model_predict_wdestroy(m, c, x);
		break;
	case K_MAP:
		model_predict_map(m, c, x);
		break;
	case K_SCATTER:
		model_predict_scatter(m, c, x);
		break;
	case K_PROTECT:
		model_predict_protect(m, c, x);
		break;
	case K_QUERY:
		model_predict_query(m, c, x);
		break;
	case K_FADDR: {
		int fi = model_frame(m, c->frame, c->w);

		if (c->out != P_OK)
			x_add(x, EFAULT);
		if (fi < 0)
			x_add(x, ENOENT);
		else if (m->f[fi].owner >= 0)
			x_add(x, EINVAL);
		if (!x->n)
			x->ok = true;
		break;
	}
	case K_STATS:
		if (c->out != P_OK)
			x_add(x, EFAULT);
		else
			x->ok = true;
		break;
	case K_SCREATE:
		if (m->w32) {
			static const int codes[] = {0, ERROR_INVALID_HANDLE,
						    ERROR_INVALID_PARAMETER,
						    ERROR_INVALID_PARAMETER,
						    ERROR_INVALID_PARAMETER};

			if (c->type)
				x_add(x, codes[c->type]);
			else
				x->ok = true;
		} else {
			if (c->out != P_OK)
				x_add(x, EFAULT);
			if (c->flags)
				x_add(x, EINVAL);
			if (!x->n)
				x->ok = true;
		}
		if (x->ok && (m->hostile & H_NOFILE)) {
			x_tol(x, model_code(m, EMFILE, ERROR_NO_SYSTEM_RESOURCES));
			x_tol(x, model_code(m, ENFILE, ERROR_NO_SYSTEM_RESOURCES));
		}
		break;
	case K_SCLOSE:
		if (model_sec_by_handle(m, c->handle) >= 0)
			x->ok = true;
		else
			x_add(x, model_code(m, ENOENT, ERROR_INVALID_HANDLE));
		break;
	case K_INIT:
		if (c->flags & ~(unsigned int)AWE_INIT_UNLOCKED)
			x_add(x, EINVAL);
		else if (((c->flags & AWE_INIT_UNLOCKED) || m->unlocked_env) == !m->locked)
			x->ok = true;
		else
			x_add(x, EBUSY);
		break;
	default:
		break;
	}
}

/* ---- The generator ----------------------------------------------------------------------- */

/* A random live window, of @owner when @owner != -2 (-1: plain), or -1. */
static inline int model_pick_win(struct model *m, int owner)
{
	int cand[MODEL_WSLOTS], n = 0;

	for (int i = 0; i < MODEL_WSLOTS; i++)
		if (m->w[i].live && (owner == -2 || m->w[i].sec == owner))
			cand[n++] = i;
	return n ? cand[model_rnd(m, (uint64_t)n)] : -1;
}

/* A random live frame of @owner (-2: any) that is mapped (1), unmapped
 * (0) or either (-1), and not yet used by this call; -1 if none. */
static inline int model_pick_frame(struct model *m, int owner, int mapped)
{
	int pick = -1;
	uint64_t seen = 0;

	for (size_t i = 0; i < m->nlive; i++) {
		const struct mf *f = &m->f[m->live[i]];
		bool is_mapped;

		if (f->bulk || (owner != -2 && f->owner != owner) || f->used == m->epoch)
			continue;
		is_mapped = f->owner < 0 && f->win >= 0;
		if (mapped >= 0 && f->owner < 0 && is_mapped != (mapped == 1))
			continue;
		if (model_rnd(m, ++seen) == 0)
			pick = m->live[i];
	}
	return pick;
}

/* An open section, or -1. */
static inline int model_pick_sec(struct model *m)
{
	int cand[MODEL_SECSLOTS], n = 0;

	for (int i = 0; i < MODEL_SECSLOTS; i++)
		if (m->sec[i].alive && m->sec[i].open)
			cand[n++] = i;
	return n ? cand[model_rnd(m, (uint64_t)n)] : -1;
}

static inline int model_open_sections(const struct model *m)
{
	int n = 0;

	for (int i = 0; i < MODEL_SECSLOTS; i++)
		n += m->sec[i].alive && m->sec[i].open;
	return n;
}

/* A handle value naming no open section: a closed one's, or nobody's. */
static inline uint64_t model_bad_handle(struct model *m)
{
	uint64_t stale =
		m->nstale
			? m->stale[model_rnd(m, m->nstale < MODEL_STALE ? m->nstale : MODEL_STALE)]
			: 0;

	/* Win32 hands a closed handle's value out again: to another thread's
	 * section too, while one makes sections. */
	if (m->nstale && model_pct(m, 60) && !(m->w32 && (m->hostile & H_FOREIGN)))
		return stale;
	if (m->w32)
		return model_pct(m, 30) ? 0 : 0x7ff0000cull;
	return model_pct(m, 30) ? 0 : 0xdead0000u + model_rnd(m, 1000);
}

/* The owner of an alloc, free or window: the process mostly, else an open
 * section, a closed one's handle, or nobody's. */
static inline void model_pick_owner(struct model *m, struct mcall *c, unsigned int pct_sec)
{
	int s;

	c->proc = true;
	c->handle = m->w32 ? MODEL_W32_PROCESS : 0;
	if (!model_pct(m, pct_sec))
		return;
	s = model_pick_sec(m);
	c->proc = false;
	if (s >= 0 && model_pct(m, 85))
		c->handle = m->sec[s].handle;
	else
		c->handle = model_bad_handle(m);
}

/* A number that is no frame of the process: freed, never handed out, 0. */
static inline awe_frame_t model_bogus_frame(struct model *m)
{
	unsigned int r = (unsigned int)model_rnd(m, 10);

	if (r < 5 && m->ndead)
		return m->dead[model_rnd(m, m->ndead < MODEL_DEAD ? m->ndead : MODEL_DEAD)];
	if (r < 7)
		return 0;
	if (r < 9 && m->nlive) {
		/* A live frame's slot with another generation. */
		awe_frame_t n = m->f[m->live[model_rnd(m, m->nlive)]].num;

		return n ^ ((awe_frame_t)(1 + model_rnd(m, 7)) << 40);
	}
	return rng_next(&m->rng) | 1;
}

/* An address in no window: in the guard range, far up, or (when no other
 * thread makes windows meanwhile) just past a window. */
static inline void *model_outside(struct model *m, bool w32_query)
{
	/* The same draws whatever the layout, so that a seed makes the same
	 * calls in every run. */
	unsigned int r = (unsigned int)model_rnd(m, 10);
	uint64_t far = model_rnd(m, 1u << 20), gone = model_rnd(m, 4), slot = model_rnd(m, 4);
	uint64_t off = model_rnd(m, m->page), guard = model_rnd(m, m->guard_pages << m->shift);
	int w = model_pick_win(m, -2);

	if (w32_query || r == 0)
		return (void *)(uintptr_t)(MODEL_W32_USER_END + far);
	if (r == 3 && m->ngone && !(m->hostile & H_FOREIGN)) {
		/* Where a window was (parking now, perhaps), unless a window is
		 * there again: which depends on where the kernel put things, and
		 * the calls a seed makes must not. */
		char *a =
			(char *)m->gone[gone % (m->ngone < 4 ? m->ngone : 4)] + (slot << m->shift);

		if (model_win_at(m, a) < 0)
			return a;
	}
	if (r < 3 && w >= 0 && !(m->hostile & H_FOREIGN)) {
		char *a = model_slot_addr(m, w, m->w[w].npages) + off;

		if (model_win_at(m, a) < 0)
			return a;
	}
	return m->guard + guard;
}

/* The address of a slot, sometimes not at the start of the page. */
static inline void *model_addr_in(struct model *m, int w, size_t s)
{
	return model_slot_addr(m, w, s) + (model_pct(m, 20) ? model_rnd(m, m->page) : 0);
}

/* Entry @i of a map call's frames for a slot of window @w: a frame the
 * window may show, unmapped and unused for frames of the process. */
static inline void model_pick_entry(struct model *m, struct mcall *c, size_t i, int w)
{
	int owner = w >= 0 ? model_win_owner(m, w) : -1;
	int fi = model_pick_frame(m, owner, owner < 0 ? 0 : -1);

	c->fi[i] = fi;
	c->frames[i] = fi >= 0 ? m->f[fi].num : 0;
	if (fi >= 0)
		m->f[fi].used = m->epoch;
}

/* A live frame whose owner is not @owner (-1: the process), or -1. */
static inline int model_pick_foreign(struct model *m, int owner)
{
	int pick = -1;
	uint64_t seen = 0;

	for (size_t i = 0; i < m->nlive; i++) {
		const struct mf *f = &m->f[m->live[i]];

		if (!f->bulk && f->owner != owner && model_rnd(m, ++seen) == 0)
			pick = m->live[i];
	}
	return pick;
}

/* Make one entry of @n bad for a call on behalf of @owner (-1: the
 * process, -2: unknown): a number of nobody's, a frame of the process that
 * is mapped or listed before, or another owner's frame (the process's, or
 * another section's). */
static inline void model_spoil_entry(struct model *m, struct mcall *c, size_t n, int owner)
{
	size_t i = model_rnd(m, n);
	unsigned int r = (unsigned int)model_rnd(m, 4);
	int fi = -1;

	if (r == 1)
		fi = model_pick_frame(m, -1, 1); /* mapped */
	else if (r == 2 && i > 0)
		fi = c->fi[model_rnd(m, i)]; /* listed before */
	else if (r == 3 && owner != -2)
		fi = model_pick_foreign(m, owner);
	if (fi >= 0) {
		c->fi[i] = fi;
		c->frames[i] = m->f[fi].num;
	} else {
		c->fi[i] = -1;
		c->frames[i] = model_bogus_frame(m);
	}
}

static inline void model_gen_alloc(struct model *m, struct mcall *c)
{
	int owner, room;

	model_pick_owner(m, c, 20);
	owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);
	room = owner < 0 ? MODEL_MAXPROC - m->nproc : MODEL_MAXSECF - m->sec[owner].nframes;
	if (room < 0)
		room = 0;
	c->node = -1;
	/* awe_section_alloc() has no node; AllocateUserPhysicalPagesNuma() takes either. */
	if ((c->proc || m->w32) && model_pct(m, 8)) {
		static const int nodes[] = {0, 0, -5, 4096};

		c->node = nodes[model_rnd(m, 4)];
	}
	c->out = model_pick_ptr(m, 1, false);
	if (c->out == P_MIS)
		c->out = P_OK;
	if (model_pct(m, 3)) {
		c->count = 0;
	} else if (model_pct(m, 3)) {
		static const size_t huge[] = {SIZE_MAX, (size_t)1 << 62, (size_t)1 << 61,
					      (size_t)1 << 60, ((size_t)1 << 53) + 1};

		/* The last two: the array's range reaches beyond user space. */
		c->count = huge[model_rnd(m, 5)];
	} else if (room == 0) {
		c->count = model_pct(m, 50) ? 0 : 1;
		if (c->proc)
			c->handle = model_bad_handle(m), c->proc = false;
	} else if (model_pct(m, 15)) {
		c->count = 8 + model_rnd(m, (uint64_t)(room < 56 ? room : 56));
	} else {
		c->count = 1 + model_rnd(m, (uint64_t)(room < 8 ? room : 8));
	}
	if (c->count > MODEL_MAXN && c->count < ((size_t)1 << 53))
		c->count = MODEL_MAXN;
	c->arr = model_pick_ptr(m, 2, c->count >= 2);
}

static inline void model_gen_free(struct model *m, struct mcall *c)
{
	int owner;
	size_t want;
	bool bad = false;

	model_pick_owner(m, c, 20);
	owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);
	want = model_pct(m, 10) ? 9 + model_rnd(m, 24) : 1 + model_rnd(m, 8);
	for (c->n = 0; c->n < want; c->n++) {
		int fi = model_pick_frame(m, c->proc ? -1 : owner >= 0 ? owner : -2, -1);

		if (fi < 0)
			break;
		m->f[fi].used = m->epoch;
		c->fi[c->n] = fi;
		c->frames[c->n] = m->f[fi].num;
	}
	if (c->n == 0 || model_pct(m, 20)) {
		if (c->n == 0)
			c->n = 1;
		model_spoil_entry(m, c, c->n, c->proc ? -1 : owner >= 0 ? owner : -2);
		bad = true;
	}
	c->count = c->n;
	if (model_pct(m, 3)) {
		c->count = 0;
	} else if (model_pct(m, 2)) {
		c->count = SIZE_MAX; /* the array's range reaches beyond user space */
	} else if (model_pct(m, 2)) {
		/* More than the array holds: an entry in it must stop the call. */
		c->count = (size_t)1 << 32;
		if (!bad) {
			c->fi[c->n] = -1;
			c->frames[c->n++] = 0;
		}
	}
	c->arr = model_pick_ptr(m, 2, c->count >= 2);
	c->out = model_pick_ptr(m, m->w32 ? 1 : 25, false);
	if (c->out == P_MIS)
		c->out = P_OK;
}

static inline void model_gen_wcreate(struct model *m, struct mcall *c)
{
	size_t pages = model_pct(m, 60) ? 1 + model_rnd(m, 16) : 17 + model_rnd(m, MODEL_MAXP - 16);
	int w;

	model_pick_owner(m, c, 25);
	c->size = pages << m->shift;
	if (model_pct(m, 10))
		c->size -= 1 + model_rnd(m, m->page - 1);
	c->out = P_OK;
	if (m->nwin >= MODEL_MAXW || model_pct(m, 8)) {
		/* Something that must fail. */
		static const size_t big[] = {0, (size_t)1 << 60, SIZE_MAX, SIZE_MAX - 10, 0};

		c->size = big[model_rnd(m, 4)];
		if (c->size == 0 && model_pct(m, 50) && (w = model_pick_win(m, -2)) >= 0) {
			/* A place that is taken. */
			c->size = m->page;
			c->addr = model_addr_in(m, w, model_rnd(m, m->w[w].npages));
			c->flags = m->w32 ? MEM_RESERVE | MEM_PHYSICAL : AWE_WINDOW_FIXED;
			c->prot = PAGE_READWRITE;
			return;
		}
	}
	if (!m->w32) {
		c->flags = 0;
		if (model_pct(m, 3))
			c->flags = 4; /* no such flag (2 is AWE_WINDOW_LARGE) */
		else if (model_pct(m, 3))
			c->flags = AWE_WINDOW_FIXED;
		else if (model_pct(m, 5) && (w = model_pick_win(m, -2)) >= 0)
			c->addr = (void *)m->w[w].base; /* only a hint: placed elsewhere */
		c->out = model_pick_ptr(m, 2, false);
		if (c->out == P_MIS)
			c->out = P_OK;
		return;
	}
	c->flags = MEM_RESERVE | MEM_PHYSICAL;
	c->prot = PAGE_READWRITE;
	if (model_pct(m, 10))
		c->flags |= MEM_TOP_DOWN;
	if (model_pct(m, 4)) {
		/* (MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES is a region of
		 * large slots: test_w32_large.c.) */
		static const unsigned int bad[] = {MEM_PHYSICAL,
						   MEM_COMMIT | MEM_RESERVE | MEM_PHYSICAL,
						   MEM_COMMIT | MEM_PHYSICAL | MEM_LARGE_PAGES,
						   MEM_RESERVE | MEM_PHYSICAL | MEM_WRITE_WATCH};

		c->flags = bad[model_rnd(m, 4)];
	} else if (model_pct(m, 3)) {
		static const int bad[] = {PAGE_READONLY, PAGE_NOACCESS, PAGE_EXECUTE_READWRITE};

		c->prot = bad[model_rnd(m, 3)];
	} else if (model_pct(m, 2)) {
		c->addr = (void *)(uintptr_t)0x800000000000ull;
	}
}

static inline void model_gen_wdestroy(struct model *m, struct mcall *c)
{
	int w = model_pick_win(m, -2);

	c->type = MEM_RELEASE;
	c->size = 0;
	if (w >= 0 && model_pct(m, 70)) {
		c->addr = (void *)m->w[w].base;
		if (m->w32 && model_pct(m, 10))
			c->size = m->w[w].npages << m->shift;
		else if (m->w32 && model_pct(m, 5))
			c->size = m->page;
		else if (m->w32 && model_pct(m, 5))
			c->type = MEM_DECOMMIT;
		else if (m->w32 && model_pct(m, 3))
			c->type = 0x1234;
		return;
	}
	/* Inside the window but not its base (past its end may be another
	 * window's base, depending on the layout). */
	if (w >= 0 && model_pct(m, 60) && m->w[w].npages > 1)
		c->addr = model_slot_addr(m, w, 1 + model_rnd(m, m->w[w].npages - 1));
	else if (model_pct(m, 20))
		c->addr = NULL;
	else
		c->addr = model_outside(m, false);
	if (model_win_at(m, c->addr) < 0)
		c->size = 0, c->type = MEM_RELEASE; /* the only predictable way outside */
}

static inline void model_gen_map(struct model *m, struct mcall *c)
{
	int w = model_pick_win(m, -2);
	size_t s, room, k;

	if (w < 0 || model_pct(m, 4)) {
		c->addr = model_pct(m, 40) ? NULL : model_outside(m, false);
		c->w = -1;
		c->count = 1 + model_rnd(m, 4);
	} else {
		s = model_rnd(m, m->w[w].npages);
		room = m->w[w].npages - s;
		c->w = w;
		c->s = (int)s;
		c->addr = model_addr_in(m, w, s);
		if (model_pct(m, 15))
			k = room < 16 ? room : 16 + model_rnd(m, room - 15);
		else
			k = 1 + model_rnd(m, room < 8 ? room : 8);
		c->count = k;
		if (model_pct(m, 4))
			c->count = room + 1 + model_rnd(m, 3);
	}
	if (model_pct(m, 2))
		c->count = 0;
	else if (model_pct(m, 2))
		c->count = model_pct(m, 50) ? SIZE_MAX : MODEL_WIN10_MAX + 1;
	c->frames_null = model_pct(m, 25);
	c->arr = model_pick_ptr(m, 0, c->count >= 2);
	if (c->frames_null)
		return;
	c->n = c->count <= MODEL_MAXN ? c->count : 4;
	if (c->w >= 0 && m->w[c->w].sec < 0 && model_pct(m, 30)) {
		/* Consecutive frames in number order, as one allocation gives. */
		for (size_t i = 0; i < c->n; i++)
			model_pick_entry(m, c, i, c->w);
		for (size_t i = 1; i < c->n; i++)
			for (size_t j = i; j > 0 && c->frames[j] && c->frames[j] < c->frames[j - 1];
			     j--) {
				awe_frame_t t = c->frames[j];
				int ti = c->fi[j];

				c->frames[j] = c->frames[j - 1];
				c->fi[j] = c->fi[j - 1];
				c->frames[j - 1] = t;
				c->fi[j - 1] = ti;
			}
	} else {
		for (size_t i = 0; i < c->n; i++)
			model_pick_entry(m, c, i, c->w >= 0 ? c->w : model_pick_win(m, -1));
	}
	if (c->n && model_pct(m, 12))
		model_spoil_entry(m, c, c->n, c->w >= 0 ? model_win_owner(m, c->w) : -2);
}

static inline void model_gen_scatter(struct model *m, struct mcall *c)
{
	int w0 = model_pick_win(m, -2), owner;

	c->n = model_pct(m, 80) ? 1 + model_rnd(m, 8) : 9 + model_rnd(m, MODEL_MAXN - 8);
	if (w0 < 0) {
		c->n = 1;
		c->addrs[0] = model_outside(m, false);
		c->aw[0] = -1;
	}
	owner = w0 >= 0 ? model_win_owner(m, w0) : -1;
	for (size_t i = 0; w0 >= 0 && i < c->n; i++) {
		int w = model_pick_win(m, model_pct(m, 4) ? -2 : owner);

		if (i > 0 && model_pct(m, 10)) {
			size_t j = model_rnd(m, i);

			c->aw[i] = c->aw[j];
			c->as[i] = c->as[j];
			c->addrs[i] = c->aw[j] >= 0 ? model_addr_in(m, c->aw[j], (size_t)c->as[j])
						    : c->addrs[j];
		} else if (model_pct(m, 2)) {
			c->aw[i] = -1;
			c->addrs[i] = model_pct(m, 50) ? NULL : model_outside(m, false);
		} else {
			c->aw[i] = w;
			c->as[i] = (int)model_rnd(m, m->w[w].npages);
			c->addrs[i] = model_addr_in(m, w, (size_t)c->as[i]);
		}
	}
	c->count = c->n;
	if (model_pct(m, 2))
		c->count = 0;
	else if (model_pct(m, 2))
		c->count = (size_t)UINT32_MAX + 1 + model_rnd(m, 2);
	else if (model_pct(m, 1))
		c->count = m->w32 && model_pct(m, 50) ? MODEL_WIN10_MAX + 1 : SIZE_MAX;
	c->arr2 = model_pick_ptr(m, 2, c->count >= 2);
	c->frames_null = model_pct(m, 10);
	c->arr = model_pick_ptr(m, 0, c->count >= 2);
	if (c->frames_null)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->aw[i] < 0 || model_pct(m, 15)) {
			c->fi[i] = -1;
			c->frames[i] = 0;
		} else {
			model_pick_entry(m, c, i, c->aw[i]);
		}
	}
	if (model_pct(m, 10))
		model_spoil_entry(m, c, c->n, w0 >= 0 ? model_win_owner(m, w0) : -2);
}

static inline void model_gen_protect(struct model *m, struct mcall *c)
{
	int w = model_pick_win(m, -2);
	size_t s = 0, k = 1, off = 0;

	if (w < 0 || model_pct(m, 3)) {
		c->addr = model_pct(m, 30) ? NULL : model_outside(m, false);
		c->count = 1;
	} else {
		s = model_rnd(m, m->w[w].npages);
		k = 1 + model_rnd(m, m->w[w].npages - s < 12 ? m->w[w].npages - s : 12);
		off = model_pct(m, 20) ? model_rnd(m, m->page) : 0;
		if (model_pct(m, 4))
			k = m->w[w].npages - s + 1;
		c->addr = model_slot_addr(m, w, s) + off;
		c->count = k;
	}
	if (model_pct(m, 3))
		c->count = 0;
	if (!m->w32) {
		static const int bad[] = {2, 4, 7, -1, 0x10};

		c->prot = model_pct(m, 92) ? (int)model_rnd(m, 4) : bad[model_rnd(m, 5)];
		if (c->prot == 2)
			c->prot = AWE_PROT_READWRITE;
		c->out = model_pick_ptr(m, 20, false);
		if (c->out == P_MIS)
			c->out = P_OK;
		return;
	}
	{
		static const int awe[] = {PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE};
		static const int not_awe[] = {PAGE_EXECUTE_READ, PAGE_READWRITE | PAGE_GUARD,
					      PAGE_READWRITE | PAGE_NOCACHE, PAGE_WRITECOPY,
					      PAGE_EXECUTE};
		static const int invalid[] = {0, PAGE_READONLY | PAGE_READWRITE, 0x800,
					      PAGE_NOCACHE};
		unsigned int r = (unsigned int)model_rnd(m, 100);
		bool inside = c->addr && model_win_at(m, c->addr) >= 0;
		int a = awe[model_rnd(m, 3)], na = not_awe[model_rnd(m, 5)];
		int inv = invalid[model_rnd(m, 4)];

		/* Protections ordinary memory would take otherwise only inside. */
		c->prot = inside && r < 6 ? na : r >= 6 && r < 11 ? inv : a;
		/* Bytes: to the end of the last page, or a little short of it. */
		c->size = c->count << m->shift;
		if (c->size && off && model_pct(m, 50))
			c->size -= off;
		c->out = model_pick_ptr(m, 2, false);
		if (c->out == P_MIS)
			c->out = P_OK;
	}
}

static inline void model_gen_query(struct model *m, struct mcall *c)
{
	int w = model_pick_win(m, -2);

	if (w >= 0 && model_pct(m, 88))
		c->addr = model_addr_in(m, w, model_rnd(m, m->w[w].npages));
	else
		c->addr = model_pct(m, 20) && !m->w32 ? NULL : model_outside(m, m->w32);
	c->out = model_pick_ptr(m, 2, false);
	if (c->out == P_MIS)
		c->out = P_OK;
	c->len = sizeof(MEMORY_BASIC_INFORMATION);
	if (m->w32 && model_pct(m, 5)) {
		static const size_t lens[] = {0, 8, sizeof(MEMORY_BASIC_INFORMATION) - 1,
					      sizeof(MEMORY_BASIC_INFORMATION) + 16};

		c->len = lens[model_rnd(m, 4)];
	}
}

static inline void model_gen_faddr(struct model *m, struct mcall *c)
{
	int fi = model_pct(m, 70) ? model_pick_frame(m, -2, -1) : -1;

	c->w = fi;
	c->frame = fi >= 0 ? m->f[fi].num : model_bogus_frame(m);
	c->out = model_pick_ptr(m, 2, false);
	if (c->out == P_MIS)
		c->out = P_OK;
}

static inline void model_gen_screate(struct model *m, struct mcall *c)
{
	bool full = model_open_sections(m) >= MODEL_MAXSEC;

	if (m->w32) {
		c->type = full || model_pct(m, 8) ? 1 + (uint32_t)model_rnd(m, 4) : 0;
		return;
	}
	/* 2: a flag that does not exist (1 is AWE_SECTION_LARGE, which the
	 * model does not cover: test_large.c does). */
	c->flags = full || model_pct(m, 5) ? 2 : 0;
	c->out = model_pick_ptr(m, 3, false);
	if (c->out == P_MIS)
		c->out = P_OK;
}

static inline void model_gen_sclose(struct model *m, struct mcall *c)
{
	int s = model_pick_sec(m);

	c->handle = s >= 0 && model_pct(m, 80) ? m->sec[s].handle : model_bad_handle(m);
}

/* Call weights of the profiles. */
static inline enum mkind model_pick_kind(struct model *m)
{
	static const unsigned int mixed[K_N] = {
		[K_ALLOC] = 80, [K_FREE] = 60,	   [K_WCREATE] = 25,  [K_WDESTROY] = 14,
		[K_MAP] = 230,	[K_SCATTER] = 180, [K_PROTECT] = 110, [K_QUERY] = 50,
		[K_FADDR] = 40, [K_STATS] = 15,	   [K_SCREATE] = 12,  [K_SCLOSE] = 8,
		[K_INIT] = 4};
	static const unsigned int sections[K_N] = {
		[K_ALLOC] = 90, [K_FREE] = 60,	   [K_WCREATE] = 45,  [K_WDESTROY] = 30,
		[K_MAP] = 200,	[K_SCATTER] = 180, [K_PROTECT] = 110, [K_QUERY] = 40,
		[K_FADDR] = 30, [K_STATS] = 10,	   [K_SCREATE] = 35,  [K_SCLOSE] = 25,
		[K_INIT] = 2};
	const unsigned int *wt = strcmp(m->profile, "sections") ? mixed : sections;
	unsigned int total = 0, r;

	/* Something to work with first. */
	if (m->nwin == 0 && model_pct(m, 80))
		return K_WCREATE;
	if (m->nproc < 8 && model_pct(m, 50))
		return K_ALLOC;
	for (int k = 0; k < K_N; k++)
		total += m->be->exec[k] ? wt[k] : 0;
	r = (unsigned int)model_rnd(m, total);
	for (int k = 0; k < K_N; k++) {
		unsigned int v = m->be->exec[k] ? wt[k] : 0;

		if (r < v)
			return (enum mkind)k;
		r -= v;
	}
	return K_MAP;
}

static inline void model_generate(struct model *m, struct mcall *c, enum mkind k)
{
	uint64_t seq = c->seq;

	memset(c, 0, offsetof(struct mcall, fi));
	c->seq = seq;
	c->kind = k;
	c->proc = true;
	c->w = c->s = -1;
	c->node = -1;
	c->handle = m->w32 ? MODEL_W32_PROCESS : 0;
	++m->epoch;
	switch (k) {
	case K_ALLOC:
		model_gen_alloc(m, c);
		break;
	case K_FREE:
		model_gen_free(m, c);
		break;
	case K_WCREATE:
		model_gen_wcreate(m, c);
		break;
	case K_WDESTROY:
		model_gen_wdestroy(m, c);
		break;
	case K_MAP:
		model_gen_map(m, c);
		break;
	case K_SCATTER:
		model_gen_scatter(m, c);
		break;
	case K_PROTECT:
		model_gen_protect(m, c);
		break;
	case K_QUERY:
		model_gen_query(m, c);
		break;
	case K_FADDR:
		model_gen_faddr(m, c);
		break;
	case K_STATS:
		c->out = model_pick_ptr(m, 3, false);
		if (c->out == P_MIS)
			c->out = P_OK;
		break;
	case K_SCREATE:
		model_gen_screate(m, c);
		break;
	case K_SCLOSE:
		model_gen_sclose(m, c);
		break;
	case K_INIT: {
		static const unsigned int fl[] = {0, 0, AWE_INIT_UNLOCKED, 4};

		c->flags = fl[model_rnd(m, 4)];
		break;
	}
	default:
		break;
	}
	/* Entries past n are never read; keep them recognisable. */
	for (size_t i = c->n; i < MODEL_MAXN + 2; i++) {
		c->frames[i] = MODEL_SENTINEL;
		c->addrs[i] = (void *)(uintptr_t)MODEL_SENTINEL;
	}
	for (size_t i = c->n; i < MODEL_MAXN; i++)
		c->fi[i] = c->aw[i] = c->as[i] = -1;
}

/* ---- The checker --------------------------------------------------------------------------- */

static inline uint64_t model_tag_word(uint64_t tag, unsigned int k)
{
	return (tag + 1) * 0x9e3779b97f4a7c15ull + k * 0x632be59bd9b4e019ull + 0x5bd1e995ull;
}

static inline size_t model_tag_mid(const struct model *m, uint64_t tag)
{
	return 1 + (size_t)(tag % ((m->page / 8) - 2));
}

/* The page at @p shows frame @fi's data. */
static inline void model_check_data(struct model *m, const uint64_t *p, int fi, const char *where)
{
	uint64_t tag = m->f[fi].tag;
	size_t words = m->page / 8;

	if (tag == 0) {
		for (size_t i = 0; i < words; i++)
			if (p[i])
				model_fail(m,
					   "%s: frame F%d (%#" PRIx64
					   ") was never written but word %zu "
					   "is %#" PRIx64 " (a fresh frame reads zero)",
					   where, fi, m->f[fi].num, i, p[i]);
		return;
	}
	if (p[0] != model_tag_word(tag, 0) || p[model_tag_mid(m, tag)] != model_tag_word(tag, 1) ||
	    p[words - 1] != model_tag_word(tag, 2))
		model_fail(m,
			   "%s: frame F%d (%#" PRIx64 ") shows the wrong data: words %#" PRIx64
			   " %#" PRIx64 " %#" PRIx64 ", expected tag %" PRIu64,
			   where, fi, m->f[fi].num, p[0], p[model_tag_mid(m, tag)], p[words - 1],
			   tag);
}

static inline void model_stamp(struct model *m, uint64_t *p, int fi)
{
	uint64_t tag = ++m->tags;
	size_t words = m->page / 8;

	p[0] = model_tag_word(tag, 0);
	p[model_tag_mid(m, tag)] = model_tag_word(tag, 1);
	p[words - 1] = model_tag_word(tag, 2);
	m->f[fi].tag = tag;
}

/* The signal libawe's access violation is in window @w. */
static inline int model_fault_sig(const struct model *m, int w)
{
	return m->w[w].sec >= 0 || m->memfd ? SIGSEGV : SIGBUS;
}

/* The line of /proc/self/maps that holds @a, for a report. */
static inline void model_maps_line(const void *a, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi;

	snprintf(buf, len, "in no mapping");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)a >= lo &&
		    (uintptr_t)a < hi) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line);
			break;
		}
	if (f)
		fclose(f);
}

static inline void model_expect_fault(struct model *m, int w, size_t s, void *a, bool write)
{
	struct model_fault f = model_touch(a, write);
	int want = model_fault_sig(m, w);
	char maps[600];

	if (f.sig == want && f.addr == a)
		return;
	model_maps_line(a, maps, sizeof(maps));
	model_fail(m,
		   "W%d slot %zu (%s, prot %d): a %s at %p raised %s (si_addr %p), expected %s "
		   "at that address; the mapping there: %s",
		   w, s, m->w[w].slot[s] < 0 ? "empty" : "mapped", m->w[w].prot[s],
		   write ? "write" : "read", a, f.sig ? strsignal(f.sig) : "no fault", f.addr,
		   strsignal(want), maps);
}

static inline void model_expect_access(struct model *m, int w, size_t s, void *a, bool write)
{
	struct model_fault f = model_touch(a, write);

	if (f.sig)
		model_fail(m, "W%d slot %zu (prot %d): a %s at %p raised %s (si_addr %p)", w, s,
			   m->w[w].prot[s], write ? "write" : "read", a, strsignal(f.sig), f.addr);
}

/* Slot @s of window @w as libawe and the memory show it. */
static inline void model_check_slot(struct model *m, int w, size_t s)
{
	struct mw *win = &m->w[w];
	char *page = model_slot_addr(m, w, s);
	char *a = page + (model_crnd(m, 4) == 0 ? model_crnd(m, m->page) : 0);
	int fi = win->slot[s], prot = fi >= 0 ? win->prot[s] : AWE_PROT_NONE;
	struct awe_page_info pi;
	char where[64];
	const char *msg;
	int rc;

	memset(&pi, 0xa5, sizeof(pi));
	rc = awe_query(a, &pi);
	if (rc)
		model_fail(m, "awe_query(W%d slot %zu) failed: %s", w, s, awe_strerror(rc));
	if (pi.frame != (fi >= 0 ? m->f[fi].num : 0) || pi.prot != prot ||
	    (uintptr_t)pi.window != win->base || pi.window_size != win->npages << m->shift)
		model_fail(m,
			   "awe_query(W%d slot %zu): frame %#" PRIx64 " prot %d window %p+%#zx; "
			   "the model has frame %#" PRIx64 " (F%d) prot %d window %#" PRIxPTR
			   "+%#zx",
			   w, s, pi.frame, pi.prot, pi.window, pi.window_size,
			   fi >= 0 ? m->f[fi].num : 0, fi, prot, win->base,
			   win->npages << m->shift);
	if (m->be->check_slot && (msg = m->be->check_slot(m, w, s, a)))
		model_fail(m, "W%d slot %zu: %s", w, s, msg);
	snprintf(where, sizeof(where), "W%d slot %zu", w, s);
	if (fi < 0 || prot == AWE_PROT_NONE) {
		model_expect_fault(m, w, s, a, false);
		return;
	}
	model_expect_access(m, w, s, page, false);
	model_check_data(m, (const uint64_t *)page, fi, where);
	if (prot == AWE_PROT_READ) {
		model_expect_fault(m, w, s, a, true);
		return;
	}
	if (m->f[fi].tag == 0 || model_crnd(m, 10) < 3) {
		model_expect_access(m, w, s, page, true);
		model_stamp(m, (uint64_t *)page, fi);
	}
}

/* What awe_frame_addr() says of model frame @fi (live or not). */
static inline void model_check_frame(struct model *m, int fi)
{
	const struct mf *f = &m->f[fi];
	void *where = (void *)1;
	int rc = awe_frame_addr(f->num, &where);

	if (!f->live) {
		if (rc != -ENOENT)
			model_fail(m,
				   "awe_frame_addr(freed F%d %#" PRIx64 ") = %d, expected -ENOENT",
				   fi, f->num, rc);
		return;
	}
	if (f->owner >= 0) {
		if (rc != -EINVAL)
			model_fail(m,
				   "awe_frame_addr(section frame F%d %#" PRIx64
				   ") = %d, expected -EINVAL",
				   fi, f->num, rc);
		return;
	}
	if (rc)
		model_fail(m, "awe_frame_addr(F%d %#" PRIx64 ") failed: %s", fi, f->num,
			   awe_strerror(rc));
	if (where != (f->win >= 0 ? (void *)model_slot_addr(m, f->win, (size_t)f->slot) : NULL))
		model_fail(m, "awe_frame_addr(F%d %#" PRIx64 ") = %p, the model has %s slot %d", fi,
			   f->num, where, f->win >= 0 ? "window" : "no", f->slot);
}

static inline void model_expected_stats(const struct model *m, struct awe_stats *want)
{
	memset(want, 0, sizeof(*want));
	want->frames_allocated = m->nlive;
	for (int w = 0; w < MODEL_WSLOTS; w++) {
		if (!m->w[w].live)
			continue;
		want->windows++;
		want->window_bytes += m->w[w].npages << m->shift;
		for (size_t s = 0; s < m->w[w].npages; s++)
			want->frames_mapped += m->w[w].slot[s] >= 0;
	}
}

static inline void model_check_stats(struct model *m, const struct awe_stats *got)
{
	struct awe_stats st, want;

	if (!got) {
		int rc = awe_stats(&st);

		if (rc)
			model_fail(m, "awe_stats() failed: %s", awe_strerror(rc));
		got = &st;
	}
	model_expected_stats(m, &want);
	/* vmas_worst: the most mappings (VMAs) unmapping could bring the memfd
	 * windows to (the memfd engine's and every section's): at least one
	 * per window, at most one per slot. */
	{
		uint64_t lo = 0, hi = 0;

		for (int w = 0; w < MODEL_WSLOTS; w++)
			if (m->w[w].live && (m->memfd || m->w[w].sec >= 0)) {
				lo++;
				hi += m->w[w].npages;
			}
		if (got->vmas_worst < lo || got->vmas_worst > hi)
			model_fail(m,
				   "awe_stats: vmas_worst %" PRIu64
				   ", but the memfd windows have %" PRIu64 " windows and %" PRIu64
				   " slots (the memfd engine's VMA budget is "
				   "off)",
				   got->vmas_worst, lo, hi);
	}
	if (got->frames_allocated != want.frames_allocated ||
	    got->frames_mapped != want.frames_mapped || got->windows != want.windows ||
	    got->window_bytes != want.window_bytes)
		model_fail(m,
			   "awe_stats: %" PRIu64 " frames, %" PRIu64 " mapped, %" PRIu64
			   " windows of %" PRIu64 " bytes; the model has %" PRIu64 ", %" PRIu64
			   ", %" PRIu64 ", %" PRIu64,
			   got->frames_allocated, got->frames_mapped, got->windows,
			   got->window_bytes, want.frames_allocated, want.frames_mapped,
			   want.windows, want.window_bytes);
}

/*
 * Everything: every slot of every window (each empty or no-access slot must
 * fault), every live frame and the last freed numbers. After each call only
 * its footprint is checked (the slots and frames it names or displaces:
 * where a correct library can have changed anything), because a sweep costs
 * a query per slot and a signal delivery per faulting one: on the project's
 * machine, sweeping after every call runs 14,000 calls/s, every 16 calls
 * 75,000, every 64 calls 100,000. A change outside the footprint (a
 * coalesced run moving a neighbour, a parking slot handed out twice) is
 * caught by the next sweep, at most 16 calls late; AWE_MODEL_SWEEP=1 pins
 * it on its call when replayed (the calls made do not depend on it).
 */
static inline void model_sweep(struct model *m)
{
	for (int w = 0; w < MODEL_WSLOTS; w++)
		if (m->w[w].live)
			for (size_t s = 0; s < m->w[w].npages; s++)
				model_check_slot(m, w, s);
	for (size_t i = 0; i < m->nlive; i++)
		model_check_frame(m, m->live[i]);
	for (unsigned int i = 0; i < MODEL_DEAD && i < m->ndead; i++) {
		void *where = (void *)1;
		int rc = awe_frame_addr(m->dead[i], &where);

		if (rc != -ENOENT)
			model_fail(m,
				   "awe_frame_addr(freed number %#" PRIx64
				   ") = %d, expected -ENOENT (numbers are never reused)",
				   m->dead[i], rc);
	}
	if (!(m->hostile & H_FOREIGN))
		model_check_stats(m, NULL);
}

/* ---- Carrying out a call ------------------------------------------------------------------- */

/* The footprint of the call about to be made. */
static inline void model_footprint(struct model *m, const struct mcall *c)
{
	m->nt = m->ntf = 0;
	++m->epoch;
	switch (c->kind) {
	case K_FREE:
	case K_MAP:
		for (size_t i = 0; i < c->n && i < c->count; i++)
			model_touch_frame(m, model_frame(m, c->frames[i], c->fi[i]));
		if (c->kind == K_MAP) {
			int w = model_win_at(m, c->addr);
			size_t s = w >= 0 ? model_slot_of(m, w, c->addr) : 0;

			for (size_t i = 0; w >= 0 && i < c->count && s + i < m->w[w].npages; i++) {
				model_touch_slot(m, w, s + i);
				model_touch_frame(m, m->w[w].slot[s + i]);
			}
		}
		break;
	case K_SCATTER:
		for (size_t i = 0; i < c->n; i++) {
			int w = model_win_at(m, c->addrs[i]);

			if (w >= 0) {
				size_t s = model_slot_of(m, w, c->addrs[i]);

				model_touch_slot(m, w, s);
				model_touch_frame(m, m->w[w].slot[s]);
			}
			if (!c->frames_null)
				model_touch_frame(m, model_frame(m, c->frames[i], c->fi[i]));
		}
		break;
	case K_PROTECT: {
		int w = model_win_at(m, c->addr);
		size_t s = w >= 0 ? model_slot_of(m, w, c->addr) : 0;
		size_t k = m->w32 ? (c->size >> m->shift) + 2 : c->count;

		for (size_t i = 0; w >= 0 && i < k && s + i < m->w[w].npages; i++)
			model_touch_slot(m, w, s + i);
		break;
	}
	case K_WDESTROY: {
		int w = model_win_at(m, c->addr);

		for (size_t s = 0; w >= 0 && s < m->w[w].npages; s++)
			model_touch_frame(m, m->w[w].slot[s]);
		/* The section's frames, should this be its last window. */
		if (w >= 0 && m->w[w].sec >= 0)
			for (size_t i = 0; i < m->nlive && m->ntf < MODEL_MAXN; i++)
				if (m->f[m->live[i]].owner == m->w[w].sec)
					model_touch_frame(m, m->live[i]);
		break;
	}
	case K_SCLOSE: {
		int s = model_sec_by_handle(m, c->handle);

		for (size_t i = 0; s >= 0 && i < m->nlive && m->ntf < MODEL_MAXN; i++)
			if (m->f[m->live[i]].owner == s)
				model_touch_frame(m, m->live[i]);
		break;
	}
	default:
		break;
	}
}

static inline void model_apply_alloc(struct model *m, const struct mcall *c, size_t got)
{
	int owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);

	for (size_t i = 0; i < got; i++) {
		awe_frame_t num = c->frames[i];
		int fi;

		if (num == 0 || num == MODEL_SENTINEL)
			model_fail(m, "allocation %zu of %zu is %#" PRIx64, i, got, num);
		if (!model_set_add(&m->seen, &m->seen_cap, &m->seen_n, num))
			model_fail(m, "frame number %#" PRIx64 " handed out again", num);
		fi = model_frame_new(m, num, owner);
		model_touch_frame(m, fi);
	}
	for (size_t i = got; i < MODEL_MAXN + 2 && i < c->count; i++)
		if (c->frames[i] != MODEL_SENTINEL)
			model_fail(m, "entry %zu past the %zu allocated was written (%#" PRIx64 ")",
				   i, got, c->frames[i]);
}

static inline void model_apply_map(struct model *m, const struct mcall *c)
{
	size_t s = 0;
	int w = model_range(m, c->addr, c->count, &s);

	for (size_t i = 0; i < c->count; i++) {
		if (c->frames_null)
			model_slot_clear(m, w, s + i);
		else
			model_slot_set(m, w, s + i, model_frame(m, c->frames[i], c->fi[i]));
	}
}

static inline void model_apply_scatter(struct model *m, const struct mcall *c)
{
	for (size_t i = 0; i < c->count; i++) {
		int w = model_win_at(m, c->addrs[i]);
		size_t s = model_slot_of(m, w, c->addrs[i]);

		if (c->frames_null || c->frames[i] == 0)
			model_slot_clear(m, w, s);
		else
			model_slot_set(m, w, s, model_frame(m, c->frames[i], c->fi[i]));
	}
}

static inline void model_apply_protect(struct model *m, const struct mcall *c, const struct mres *r)
{
	size_t s = 0, k;
	int w, prot, first;

	if (m->w32) {
		uintptr_t start = 0, end = 0;

		model_w32_pages(m, c, &start, &end);
		w = model_win_at(m, (void *)start);
		s = model_slot_of(m, w, (void *)start);
		k = (end - start) >> m->shift;
		prot = model_awe_prot((uint32_t)c->prot);
	} else {
		if (c->count == 0) {
			if (c->out == P_OK && r->old != MODEL_OLD_SENTINEL)
				model_fail(m, "awe_protect(count 0) wrote *old (%d)", r->old);
			return;
		}
		w = model_range(m, c->addr, c->count, &s);
		k = c->count;
		prot = c->prot;
	}
	first = m->w[w].slot[s] >= 0 ? m->w[w].prot[s] : AWE_PROT_NONE;
	if (c->out == P_OK) {
		int want = m->w32 ? (int)model_win_prot(first) : first;

		if (r->old != want)
			model_fail(m, "*old is %#x, expected %#x (the first slot's protection)",
				   (unsigned int)r->old, (unsigned int)want);
	}
	for (size_t i = 0; i < k; i++)
		if (m->w[w].slot[s + i] >= 0)
			m->w[w].prot[s + i] = (uint8_t)prot;
}

static inline void model_apply_wcreate(struct model *m, const struct mcall *c, void *base)
{
	size_t npages = (c->size + m->page - 1) >> m->shift;
	int owner = c->proc ? -1 : model_sec_by_handle(m, c->handle);
	int w;

	if (!base || (uintptr_t)base % (m->w32 ? 0x10000 : m->page))
		model_fail(m, "new window at %p: not %s-aligned", base, m->w32 ? "64 KiB" : "page");
	if ((c->flags & AWE_WINDOW_FIXED) && !m->w32 &&
	    base != (void *)((uintptr_t)c->addr & ~(uintptr_t)(m->page - 1)))
		model_fail(m, "fixed window at %p, asked for %p", base, c->addr);
	for (w = 0; w < MODEL_WSLOTS; w++) {
		const struct mw *o = &m->w[w];

		if (o->live && (uintptr_t)base < o->base + (o->npages << m->shift) &&
		    o->base < (uintptr_t)base + (npages << m->shift))
			model_fail(m, "new window %p+%zu pages overlaps W%d", base, npages, w);
	}
	for (w = 0; w < MODEL_WSLOTS && m->w[w].live; w++)
		;
	if (w == MODEL_WSLOTS)
		model_fail(m, "model: no room for a window");
	m->w[w].live = true;
	m->w[w].base = (uintptr_t)base;
	m->w[w].npages = npages;
	m->w[w].sec = owner;
	for (size_t s = 0; s < MODEL_MAXP; s++) {
		m->w[w].slot[s] = -1;
		m->w[w].prot[s] = AWE_PROT_NONE;
		m->w[w].mark[s] = 0;
	}
	if (owner >= 0)
		m->sec[owner].nwin++;
	m->nwin++;
	m->awe_info = true;
	/* The new window's ends and a slot between: the sweep does the rest. */
	model_touch_slot(m, w, 0);
	model_touch_slot(m, w, npages - 1);
	model_touch_slot(m, w, model_crnd(m, npages));
}

static inline void model_apply_wdestroy(struct model *m, int w)
{
	int sec = m->w[w].sec;

	m->gone[m->ngone++ % 4] = m->w[w].base;
	for (size_t s = 0; s < m->w[w].npages; s++)
		model_slot_clear(m, w, s);
	m->w[w].live = false;
	m->nwin--;
	if (sec >= 0 && --m->sec[sec].nwin == 0 && !m->sec[sec].open)
		model_section_die(m, sec);
}

/* After a successful call (or a free that freed part): the model follows. */
static inline void model_apply(struct model *m, const struct mcall *c, const struct mres *r)
{
	switch (c->kind) {
	case K_ALLOC:
		model_apply_alloc(m, c, c->count ? r->got : 0);
		break;
	case K_FREE:
		for (size_t i = 0; i < m->x.stop; i++)
			model_frame_kill(m, model_frame(m, c->frames[i], c->fi[i]));
		break;
	case K_WCREATE:
		model_apply_wcreate(m, c, r->base);
		break;
	case K_WDESTROY:
		model_apply_wdestroy(m, model_win_at(m, c->addr));
		break;
	case K_MAP:
		if (c->count)
			model_apply_map(m, c);
		break;
	case K_SCATTER:
		model_apply_scatter(m, c);
		break;
	case K_PROTECT:
		model_apply_protect(m, c, r);
		break;
	case K_SCREATE: {
		int s;

		for (s = 0; s < MODEL_SECSLOTS && m->sec[s].alive; s++)
			;
		if (s == MODEL_SECSLOTS)
			model_fail(m, "model: no room for a section");
		if (!m->w32 && (r->section == 0 || !model_set_add(&m->seen_sec, &m->seen_sec_cap,
								  &m->seen_sec_n, r->section)))
			model_fail(m, "section handle %#" PRIx64 " is 0 or was handed out before",
				   r->section);
		for (int o = 0; o < MODEL_SECSLOTS; o++)
			if (m->sec[o].alive && m->sec[o].open && m->sec[o].handle == r->section)
				model_fail(m, "section handle %#" PRIx64 " is another open one's",
					   r->section);
		m->sec[s] = (struct ms){.alive = true, .open = true, .handle = r->section};
		break;
	}
	case K_SCLOSE: {
		int s = model_sec_by_handle(m, c->handle);

		m->sec[s].open = false;
		model_stale_add(m, c->handle);
		if (m->sec[s].nwin == 0)
			model_section_die(m, s);
		break;
	}
	default:
		break;
	}
}

/* VirtualQuery()'s description of the page holding @addr, in window @w:
 * a message when it differs from the model. */
static inline const char *model_w32_mbi_check(const struct model *m, int w, const void *addr,
					      const MEMORY_BASIC_INFORMATION *mbi)
{
	static __thread char msg[320];
	size_t s = model_slot_of(m, w, addr), e = s + 1;
	int fi = m->w[w].slot[s];
	DWORD state = fi >= 0 ? MEM_COMMIT : MEM_RESERVE;
	DWORD prot = fi >= 0 ? model_win_prot(m->w[w].prot[s]) : 0;

	/* RegionSize: the following pages of the region in the same state. */
	while (e < m->w[w].npages && (m->w[w].slot[e] >= 0) == (fi >= 0) &&
	       (fi < 0 || m->w[w].prot[e] == m->w[w].prot[s]))
		e++;
	if (mbi->BaseAddress == (void *)model_slot_addr(m, w, s) &&
	    mbi->AllocationBase == (void *)m->w[w].base &&
	    mbi->AllocationProtect == PAGE_READWRITE && mbi->Type == MEM_PRIVATE &&
	    mbi->State == state && mbi->Protect == prot && mbi->RegionSize == (e - s) << m->shift)
		return NULL;
	snprintf(msg, sizeof(msg),
		 "VirtualQuery: base %p allocation base %p/%#x type %#x state %#x protect %#x "
		 "region %#zx; the model has %p %p/0x4 0x20000 %#x %#x %#zx",
		 mbi->BaseAddress, mbi->AllocationBase, mbi->AllocationProtect, mbi->Type,
		 mbi->State, mbi->Protect, (size_t)mbi->RegionSize,
		 (void *)model_slot_addr(m, w, s), (void *)m->w[w].base, state, prot,
		 (e - s) << m->shift);
	return msg;
}

/* The outputs of a successful call that change nothing. */
static inline void model_check_outputs(struct model *m, const struct mcall *c, const struct mres *r)
{
	switch (c->kind) {
	case K_QUERY: {
		int w = model_win_at(m, c->addr);
		size_t s = model_slot_of(m, w, c->addr);
		int fi = m->w[w].slot[s];
		int prot = fi >= 0 ? m->w[w].prot[s] : AWE_PROT_NONE;

		if (!m->w32) {
			if (r->info.frame != (fi >= 0 ? m->f[fi].num : 0) || r->info.prot != prot ||
			    (uintptr_t)r->info.window != m->w[w].base ||
			    r->info.window_size != m->w[w].npages << m->shift)
				model_fail(m,
					   "awe_query: frame %#" PRIx64
					   " prot %d window %p size %#zx",
					   r->info.frame, r->info.prot, r->info.window,
					   r->info.window_size);
		} else {
			const char *msg = model_w32_mbi_check(m, w, c->addr, &r->mbi);

			if (r->qret != sizeof(MEMORY_BASIC_INFORMATION))
				model_fail(m, "VirtualQuery returned %zu", r->qret);
			if (msg)
				model_fail(m, "%s", msg);
		}
		break;
	}
	case K_FADDR: {
		int fi = model_frame(m, c->frame, c->w);
		void *want = m->f[fi].win >= 0 ? (void *)model_slot_addr(m, m->f[fi].win,
									 (size_t)m->f[fi].slot)
					       : NULL;

		if (r->where != want)
			model_fail(m, "awe_frame_addr: %p, the model has %p", r->where, want);
		break;
	}
	case K_STATS:
		if (!(m->hostile & H_FOREIGN))
			model_check_stats(m, &r->st);
		break;
	default:
		break;
	}
}

/* Compare what the call did with the prediction. */
static inline void model_verify(struct model *m, const struct mcall *c, const struct mres *r)
{
	const struct mexp *x = &m->x;
	char want[256], got[64];

	model_exp_text(m, x, want, sizeof(want));
	if (!r->failed) {
		if (!x->ok)
			model_fail(m, "succeeded (returned %lld), expected %s", r->ret, want);
		if (m->w32 && c->kind == K_SCREATE) {
			if (r->err != 0 || r->eno != 0)
				model_fail(m,
					   "a new section leaves last error %d and errno %d, not 0",
					   r->err, r->eno);
		} else if (m->w32 && r->err != (int)LE_CANARY) {
			model_fail(m, "succeeded but set the last error to %d", r->err);
		} else if (r->eno != ERRNO_CANARY) {
			model_fail(m, "succeeded but set errno to %d (%s)", r->eno,
				   strerror(r->eno));
		}
		return;
	}
	if (!x_has(x->code, x->n, r->err)) {
		if (!x_has(x->tol, x->ntol, r->err))
			model_fail(m, "failed with %s, expected %s",
				   model_code_name(m, r->err, got, sizeof(got)), want);
		m->tolerated++;
	}
	if (m->w32 ? r->eno != r->err : (r->ret != -(long long)r->err || r->eno != r->err))
		model_fail(m, "failed with %d but returned %lld and left errno %d", r->err, r->ret,
			   r->eno);
}

/* Could the failed call have left slots changed (model_resync())? */
static inline bool model_may_be_partial(const struct model *m, const struct mcall *c,
					const struct mres *r)
{
	if (c->kind != K_MAP && c->kind != K_SCATTER && c->kind != K_PROTECT &&
	    c->kind != K_WDESTROY && c->kind != K_FREE)
		return false;
	return m->w32 ? r->err == ERROR_NO_SYSTEM_RESOURCES : r->err == ENOTRECOVERABLE;
}

/* Make the current call: predict, call, compare, follow, check. */
static inline void model_step_call(struct model *m, struct mcall *c)
{
	struct mres *r = &m->r;
	bool free_part;

	c->seq = ++m->done;
	m->ring[c->seq % MODEL_RING] = *c;
	m->per_kind[c->kind]++;
	if (m->trace) {
		char buf[1600];

		model_fmt_call(m, c, buf, sizeof(buf));
		fprintf(stderr, "#%" PRIu64 " %s\n", c->seq, buf);
	}
	model_predict(m, c, &m->x);
	model_footprint(m, c);
	memset(r, 0, offsetof(struct mres, info));
	r->old = MODEL_OLD_SENTINEL;
	memset(&r->info, 0xa5, sizeof(r->info));
	memset(&r->mbi_room, 0xa5, sizeof(r->mbi_room));
	if (c->kind == K_WDESTROY || c->kind == K_FREE)
		model_lock(m); /* a fork snapshot must not see a window or frame go */
	m->be->exec[c->kind](m, c, r);
	model_verify(m, c, r);
	if (c->kind != K_WDESTROY && c->kind != K_FREE)
		model_lock(m);
	if (m->x.alloc_reached)
		m->awe_info = true;
	if (r->failed) {
		m->failed_calls++;
		m->failed_kind[c->kind]++;
		/* Nothing changed, except the entries a free took before its stop:
		 * a tolerated resource error stops it where it happened; and
		 * a change the kernel did not let libawe undo entirely. */
		if (model_may_be_partial(m, c, r))
			model_resync(m);
		if (c->kind == K_FREE && m->x.frees && x_has(m->x.tol, m->x.ntol, r->err) &&
		    r->got <= m->x.stop)
			m->x.stop = r->got;
		free_part = c->kind == K_FREE && m->x.frees;
		if (free_part)
			model_apply(m, c, r);
		if (c->kind == K_FREE && m->x.frees && (m->w32 || c->out == P_OK) &&
		    r->got != m->x.stop)
			model_fail(m, "%s %zu, expected %zu",
				   m->w32 ? "*NumberOfPages is" : "freed", r->got, m->x.stop);
		if (c->kind == K_FREE && !m->x.frees && !m->w32 && c->out == P_OK && r->got != 0)
			model_fail(m, "*freed is %zu after an argument error, expected 0", r->got);
		if (c->kind == K_ALLOC && c->arr == P_OK)
			for (size_t i = 0; i < MODEL_MAXN + 2 && i < c->count; i++)
				if (c->frames[i] != MODEL_SENTINEL)
					model_fail(m, "a failed allocation wrote entry %zu", i);
		if (c->kind == K_ALLOC && m->w32 && c->out == P_OK && r->got != c->count)
			model_fail(m, "a failed allocation changed *NumberOfPages to %zu", r->got);
		if (c->kind == K_PROTECT && c->out == P_OK && r->old != MODEL_OLD_SENTINEL)
			model_fail(m, "a failed protect wrote *old");
		if (c->kind == K_WCREATE && r->base != NULL)
			model_fail(m, "a failed window creation wrote *base (%p)", r->base);
		if (c->kind == K_FADDR && !m->w32 && r->where != (void *)1)
			model_fail(m, "a failed awe_frame_addr() wrote *addr (%p)", r->where);
		if (c->kind == K_SCREATE && !m->w32 && r->section != 0)
			model_fail(m, "a failed awe_section_create() wrote *section (%#" PRIx64 ")",
				   r->section);
		if (c->kind == K_QUERY && c->out == P_OK) {
			for (size_t i = 0; i < sizeof(r->mbi_room); i++)
				if (r->mbi_room[i] != 0xa5)
					model_fail(m, "a failed query wrote its buffer");
			for (size_t i = 0; !m->w32 && i < sizeof(r->info); i++)
				if (((const unsigned char *)&r->info)[i] != 0xa5)
					model_fail(m, "a failed awe_query() wrote *info");
		}
	} else {
		if (c->kind == K_ALLOC && c->count) {
			if (r->got == 0 || r->got > c->count ||
			    (r->got < c->count && !m->x.partial))
				model_fail(m, "allocated %zu of %zu frames", r->got, c->count);
		}
		if (c->kind == K_FREE && (m->w32 || c->out == P_OK) && r->got != c->count)
			model_fail(m, "freed all but reports %zu of %zu", r->got, c->count);
		model_check_outputs(m, c, r);
		model_apply(m, c, r);
	}
	model_unlock(m);
	for (size_t i = 0; i < m->nt; i++)
		if (m->w[m->tw[i]].live)
			model_check_slot(m, m->tw[i], (size_t)m->ts[i]);
	for (size_t i = 0; i < m->ntf; i++)
		model_check_frame(m, m->tf[i]);
	if (!(m->hostile & H_FOREIGN))
		model_check_stats(m, NULL);
}

/* @n more calls. */
static inline void model_steps(struct model *m, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		if (m->mu_whole)
			pthread_mutex_lock(m->mu);
		model_generate(m, &m->c, model_pick_kind(m));
		model_step_call(m, &m->c);
		if (m->mu_whole)
			pthread_mutex_unlock(m->mu);
		if (m->done % m->sweep_every == 0)
			model_sweep(m);
	}
}

/* ---- Start and end ------------------------------------------------------------------------- */

struct model_opts {
	const char *test;    /* the Criterion test, for the replay line */
	const char *profile; /* "mixed" or "sections" */
	uint64_t seed;	     /* AWE_MODEL_SEED overrides */
	uint64_t calls;	     /* AWE_MODEL_CALLS overrides */
	bool in_child;
};

/* 4-level or 5-level page tables: the top of user space. */
static inline uintptr_t model_user_top(size_t page)
{
	void *p = mmap((void *)(uintptr_t)(1ull << 50), page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t top = (1ull << 47) - page;

	if (p != MAP_FAILED) {
		if ((uintptr_t)p >= (1ull << 47))
			top = (1ull << 56) - page;
		munmap(p, page);
	}
	return top;
}

static inline bool model_has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return data[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

/* A model of a process that has not touched libawe yet (a fresh Criterion
 * test, or a child). Failures to set up are reported like divergences. */
static inline struct model *model_new(const struct model_backend *be, const struct model_opts *o)
{
	struct model *m = calloc(1, sizeof(*m));
	struct awe_stats st;
	FILE *f;
	int rc;

	if (!m)
		abort();
	m->be = be;
	m->w32 = be->w32;
	m->test = o->test;
	m->profile = o->profile ? o->profile : "mixed";
	m->seed = model_env_u64("AWE_MODEL_SEED", o->seed);
	m->rng = m->seed;
	m->crng = ~m->seed;
	m->calls = model_env_u64("AWE_MODEL_CALLS", o->calls);
	m->sweep_every = (unsigned int)model_env_u64("AWE_MODEL_SWEEP", MODEL_SWEEP);
	if (!m->sweep_every)
		m->sweep_every = MODEL_SWEEP;
	m->trace = getenv("AWE_MODEL_TRACE") != NULL;
	m->in_child = o->in_child;
	m->page = awe_page_size();
	m->shift = (unsigned int)__builtin_ctzl(m->page);
	m->top = model_user_top(m->page);
	m->min_addr = 65536;
	f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	if (f) {
		unsigned long v;

		if (fscanf(f, "%lu", &v) == 1)
			m->min_addr = v;
		fclose(f);
	}
	m->nodes = 1;
	for (unsigned int n = 1; n < 1024; n++) {
		char path[64];
		struct stat sb;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u", n);
		if (stat(path, &sb) != 0)
			break;
		m->nodes = n + 1;
	}
	m->cap_ipc_lock = model_has_cap_ipc_lock();
	m->unlocked_env = getenv("LIBAWE_UNLOCKED") && !strcmp(getenv("LIBAWE_UNLOCKED"), "1");
	m->tw = malloc(MODEL_WSLOTS * MODEL_MAXP * sizeof(*m->tw));
	m->ts = malloc(MODEL_WSLOTS * MODEL_MAXP * sizeof(*m->ts));
	m->guard_pages = 16;
	m->guard = mmap(NULL, m->guard_pages << m->shift, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!m->tw || !m->ts || m->guard == MAP_FAILED)
		abort();
	m->t0 = model_now();
	if (be->setup)
		be->setup(m);
	memset(&st, 0, sizeof(st));
	rc = awe_stats(&st);
	if (rc)
		model_fail(m, "awe_stats() fails at the start: %s", awe_strerror(rc));
	m->memfd = st.engine && !strcmp(st.engine, "memfd");
	m->max_map_count = st.max_map_count;
	m->locked = st.locked;
	if (st.frames_allocated || st.windows)
		model_fail(m, "libawe is not fresh: %" PRIu64 " frames, %" PRIu64 " windows",
			   st.frames_allocated, st.windows);
	model_probes_on(m);
	return m;
}

static inline void model_cleanup(struct model *m)
{
	model_probes_off();
	munmap(m->guard, m->guard_pages << m->shift);
	free(m->f);
	free(m->live);
	free(m->freeidx);
	free(m->seen);
	free(m->seen_sec);
	free(m->tw);
	free(m->ts);
	free(m);
}

/* One line for logs and for ./dev campaign, then everything goes. */
static inline void model_finish(struct model *m)
{
	double t = model_now() - m->t0;

	model_sweep(m);
	fprintf(stderr,
		"libawe model: %s layer, %s engine, test %s, seed %#" PRIx64 ": %" PRIu64
		" calls (%" PRIu64 " failed as predicted, %" PRIu64
		" tolerated resource errors) in %.1f s, %.0f calls/s, 0 divergences\n",
		m->be->name, m->memfd ? "memfd" : "uffd-move", m->test, m->seed, m->done,
		m->failed_calls - m->tolerated, m->tolerated, t, t > 0 ? (double)m->done / t : 0.0);
	if (getenv("AWE_MODEL_MIX"))
		for (int k = 0; k < K_N; k++)
			if (m->per_kind[k])
				fprintf(stderr, "  %-28s %8" PRIu64 " calls, %8" PRIu64 " failed\n",
					model_kind_name(m, (enum mkind)k, false), m->per_kind[k],
					m->failed_kind[k]);
	model_cleanup(m);
}

/* The random call sequence of a test: its own seed and length, unless the
 * environment says otherwise. */
static inline void model_random_run(const struct model_backend *be, const char *test,
				    const char *profile, uint64_t seed, uint64_t calls)
{
	struct model_opts o = {.test = test, .profile = profile, .seed = seed, .calls = calls};
	struct model *m = model_new(be, &o);

	model_steps(m, m->calls);
	model_finish(m);
}

/* ---- Hostile phases ------------------------------------------------------------------------ */

/*
 * Each runs the model under a condition the contract must survive, and
 * accepts a documented resource error only where the condition can cause
 * it and only when nothing changed (allocations may also come back short).
 * Those that change the process (limits, uid, cgroup) run in a child.
 */

#define MODEL_PHASE_CALLS 10000 /* calls per part of a phase */

static inline struct model *model_child_model(const struct model_backend *be, const char *test,
					      uint64_t seed)
{
	struct model_opts o = {
		.test = test, .seed = seed, .calls = MODEL_PHASE_CALLS, .in_child = true};

	return model_new(be, &o);
}

/* (a) RLIMIT_MEMLOCK lowered mid-run, as user nobody (root keeps
 * CAP_IPC_LOCK whatever the limit). The limit binds from the start: the
 * model cannot tell when the allowance runs out, so allocations may come
 * back short or fail with EPERM, windows fail with EPERM (Win32: 1455,
 * 1450), and only when nothing changed. */
static inline int model_memlock_child(void *arg)
{
	const struct model_backend *be = arg;
	struct model *m = model_child_model(be, "memlock", 0x5eed00a1);
	uint64_t n = m->calls;
	struct rlimit rl;
	size_t ballast = 0;
	void *b = NULL;
	long lck;

	m->hostile |= H_MEMLOCK;
	model_steps(m, n);
	/* Where the limit allows it, lock until VmLck is past 64 MiB, so that
	 * the limit about to be set (VmLck and a few frames) still holds
	 * SeLockMemoryPrivilege; otherwise Win32 allocations fail with 1314. */
	getrlimit(RLIMIT_MEMLOCK, &rl);
	lck = vmlck_kb();
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > MODEL_PRIV_MEMLOCK + (4u << 20) &&
	    lck >= 0 && (uint64_t)lck * 1024 < MODEL_PRIV_MEMLOCK) {
		ballast = MODEL_PRIV_MEMLOCK - (uint64_t)lck * 1024 + (1u << 20);
		b = mmap(NULL, ballast, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED || mlock(b, ballast) != 0)
			model_fail(m, "locking %zu bytes of ballast: %s", ballast, strerror(errno));
		lck = vmlck_kb();
	}
	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (rl.rlim_max == RLIM_INFINITY || (rlim_t)lck * 1024 + 48 * m->page < rl.rlim_max)
		rl.rlim_max = (rlim_t)lck * 1024 + 48 * m->page;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		model_fail(m, "lowering RLIMIT_MEMLOCK: %s", strerror(errno));
	fprintf(stderr,
		"libawe model: memlock: RLIMIT_MEMLOCK lowered to VmLck + 48 pages or the hard "
		"limit (%llu bytes)\n",
		(unsigned long long)rl.rlim_cur);
	model_steps(m, n);
	/* Below what is locked already (and, for Win32, below what holds the
	 * privilege: allocations then fail with 1314). */
	rl.rlim_cur = rl.rlim_max = (rlim_t)lck * 1024 / 2;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		model_fail(m, "lowering RLIMIT_MEMLOCK again: %s", strerror(errno));
	fprintf(stderr, "libawe model: memlock: RLIMIT_MEMLOCK lowered to half of VmLck (%llu)\n",
		(unsigned long long)rl.rlim_cur);
	model_steps(m, n);
	model_finish(m);
	if (b)
		munmap(b, ballast);
	return 0;
}

static inline void model_phase_memlock(const struct model_backend *be)
{
	struct child_opts o = {.as_nobody = true, .set_memlock = true, .memlock = 256u << 20};
	struct rlimit rl;

	if (geteuid() != 0)
		cr_skip_test("needs root: lowering RLIMIT_MEMLOCK binds only a process without "
			     "CAP_IPC_LOCK, and dropping to nobody takes root");
	if (!memlock_settable(o.memlock)) {
		/* Start from the hard limit instead. */
		cr_assert_eq(getrlimit(RLIMIT_MEMLOCK, &rl), 0);
		o.memlock = rl.rlim_max;
		fprintf(stderr,
			"libawe model: memlock: RLIMIT_MEMLOCK cannot be raised here (no "
			"CAP_SYS_RESOURCE): starting from the hard limit, %llu bytes%s\n",
			(unsigned long long)rl.rlim_max,
			be->w32 ? ", below what holds SeLockMemoryPrivilege" : "");
	}
	unsetenv("LIBAWE_UNLOCKED");
	run_in_child(model_memlock_child, (void *)be, &o);
}

/* (b) No file descriptor left: everything works but what needs a new one
 * (a section), which fails with EMFILE or ENFILE (Win32: 1450). */
static inline int model_nofile_child(void *arg)
{
	const struct model_backend *be = arg;
	struct model *m = model_child_model(be, "nofile", 0x5eed00b1);
	uint64_t n = m->calls;
	struct rlimit rl, saved;
	int *fds, nfds = 0, fd, status = -1;
	pid_t pid;

	model_steps(m, n);
	/* Fill the table, under a soft limit low enough to make that quick. */
	getrlimit(RLIMIT_NOFILE, &saved);
	rl = saved;
	rl.rlim_cur = 256;
	if (saved.rlim_cur < rl.rlim_cur)
		rl.rlim_cur = saved.rlim_cur;
	setrlimit(RLIMIT_NOFILE, &rl);
	fds = malloc(rl.rlim_cur * sizeof(*fds));
	if (!fds)
		abort();
	while ((fd = dup(2)) >= 0)
		fds[nfds++] = fd;
	if (errno != EMFILE)
		model_fail(m, "filling the descriptor table: %s", strerror(errno));
	m->hostile |= H_NOFILE;
	model_steps(m, n);
	/* A fork child starts libawe afresh, with no descriptor to spare
	 * unless it frees the parent's: it works, or says EMFILE/ENFILE. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct awe_stats st;
		int rc = awe_stats(&st);

		if (rc == 0 && (st.frames_allocated || st.windows))
			_exit(2);
		_exit(rc == 0 || rc == -EMFILE || rc == -ENFILE ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		model_fail(m,
			   "a fork child without descriptors: status %#x (2: it saw the parent's "
			   "state, 3: awe_stats() failed with another error)",
			   status);
	/* Lowered instead of filled: the soft limit at the lowest free one. */
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	fd = dup(2);
	close(fd);
	rl.rlim_cur = (rlim_t)fd;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		model_fail(m, "lowering RLIMIT_NOFILE: %s", strerror(errno));
	model_steps(m, n);
	setrlimit(RLIMIT_NOFILE, &saved);
	m->hostile &= ~(unsigned int)H_NOFILE;
	model_steps(m, n / 4);
	free(fds);
	model_finish(m);
	return 0;
}

static inline void model_phase_nofile(const struct model_backend *be)
{
	run_in_child(model_nofile_child, (void *)be, NULL);
}

/* (c) A memory cgroup limit: allocations come back short or fail, the
 * process is never killed. The child moves itself into the cgroup. */
struct model_cgroup {
	const struct model_backend *be;
	char dir[512];
	uint64_t limit;
};

static inline bool model_write_file(const char *dir, const char *name, const char *val)
{
	char path[640];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val);
}

/* The cgroup to make (v1: a child of this process's memory cgroup; v2: a
 * sibling of its cgroup, with memory enabled in the parent), or false. */
static inline bool model_cgroup_dir(char *dir, size_t len, bool *v2, char *why, size_t wlen)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512], v1path[400] = "", v2path[400] = "";
	struct stat sb;

	if (!f) {
		snprintf(why, wlen, "no /proc/self/cgroup");
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *q = p ? strchr(p + 1, ':') : NULL;

		if (!q)
			continue;
		q[strcspn(q, "\n")] = 0;
		if (!strncmp(p + 1, "memory:", 7) || strstr(p + 1, ",memory:"))
			snprintf(v1path, sizeof(v1path), "%s", q + 1);
		else if (p[1] == ':')
			snprintf(v2path, sizeof(v2path), "%s", q + 1);
	}
	fclose(f);
	if (v1path[0] && stat("/sys/fs/cgroup/memory", &sb) == 0) {
		*v2 = false;
		snprintf(dir, len, "/sys/fs/cgroup/memory%s/awe-model-%d",
			 strcmp(v1path, "/") ? v1path : "", (int)getpid());
		return true;
	}
	if (v2path[0] && stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0) {
		char parent[400];

		snprintf(parent, sizeof(parent), "%s", v2path);
		*strrchr(parent, '/') = 0;
		*v2 = true;
		snprintf(dir, len, "/sys/fs/cgroup%s/awe-model-%d", parent, (int)getpid());
		return true;
	}
	snprintf(why, wlen, "neither a cgroup v1 memory controller nor cgroup v2 found");
	return false;
}

static inline int model_cgroup_child(void *arg)
{
	struct model_cgroup *g = arg;
	struct model *m;
	char pid[32];
	uint64_t n, got = 0;
	bool bit = false;

	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (!model_write_file(g->dir, "cgroup.procs", pid)) {
		fprintf(stderr, "cannot move into %s: %s\n", g->dir, strerror(errno));
		return 1;
	}
	m = model_child_model(g->be, "cgroup", 0x5eed00c1);
	n = m->calls;
	model_steps(m, n);
	m->hostile |= H_CGROUP;
	/* Pressure: frames by the call of 64 until the limit bites (twice
	 * the limit at most). */
	m->bulk = true;
	while (!bit && got < 2 * g->limit / m->page) {
		struct mcall *c = &m->c;

		model_generate(m, c, K_ALLOC);
		c->proc = true;
		c->handle = m->w32 ? MODEL_W32_PROCESS : 0;
		c->count = MODEL_MAXN;
		c->arr = c->out = P_OK;
		c->node = -1;
		model_step_call(m, c);
		got += m->r.failed ? 0 : m->r.got;
		bit = m->r.failed || m->r.got < MODEL_MAXN;
	}
	m->bulk = false;
	fprintf(stderr,
		"libawe model: cgroup: %s after %" PRIu64 " MiB of frames (limit %" PRIu64
		" MiB)\n",
		bit ? "allocation came back short" : "the limit never bit", (got * m->page) >> 20,
		g->limit >> 20);
	model_steps(m, n);
	/* The pressure goes, 64 frames a call. */
	for (;;) {
		struct mcall *c = &m->c;
		size_t k = 0;

		model_generate(m, c, K_FREE);
		c->proc = true;
		c->handle = m->w32 ? MODEL_W32_PROCESS : 0;
		for (size_t i = 0; i < m->nlive && k < MODEL_MAXN; i++)
			if (m->f[m->live[i]].bulk) {
				c->fi[k] = m->live[i];
				c->frames[k++] = m->f[m->live[i]].num;
			}
		if (!k)
			break;
		c->n = c->count = k;
		c->arr = c->out = P_OK;
		model_step_call(m, c);
	}
	model_steps(m, n);
	model_finish(m);
	return 0;
}

static inline void model_phase_cgroup(const struct model_backend *be)
{
	struct model_cgroup g = {.be = be, .limit = 64u << 20};
	char why[128], val[32];
	bool v2 = false;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root: making a memory cgroup");
	if (!model_cgroup_dir(g.dir, sizeof(g.dir), &v2, why, sizeof(why)))
		cr_skip_test("no memory cgroup to use: %s", why);
	if (mkdir(g.dir, 0755) != 0)
		cr_skip_test("cannot make the cgroup %s: %s", g.dir, strerror(errno));
	snprintf(val, sizeof(val), "%" PRIu64 "\n", g.limit);
	if (!model_write_file(g.dir, v2 ? "memory.max" : "memory.limit_in_bytes", val)) {
		int e = errno;

		rmdir(g.dir);
		cr_skip_test("cannot set the limit of %s: %s", g.dir, strerror(e));
	}
	if (v2)
		model_write_file(g.dir, "memory.swap.max", "0\n");
	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(model_cgroup_child(&g));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	rmdir(g.dir);
	cr_assert(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
		  "the child was killed (SIGKILL: the cgroup's OOM killer?) instead of getting "
		  "fewer frames or ENOMEM; see its stderr");
	cr_assert(!WIFSIGNALED(status), "the child died of %s", strsignal(WTERMSIG(status)));
	cr_assert_eq(WEXITSTATUS(status), 0, "the child failed (see its stderr)");
}

/* (d) fork() from another thread while the model runs: the child has none
 * of the parent's frames, windows or descriptors, and the parent goes on. */
struct model_snap {
	bool w32;
	int nw, nf, ns;
	uintptr_t base[MODEL_WSLOTS];
	size_t npages[MODEL_WSLOTS];
	awe_frame_t f[8];
	uint64_t sec[MODEL_SECSLOTS];
};

struct model_forker {
	struct model *m;
	pthread_mutex_t mu;
	atomic_bool stop;
	unsigned int forks, failed;
	int last_status;
};

/* In the child, before any libawe call: no descriptor of the parent's. */
static inline const char *model_child_fds(void)
{
	int n = libawe_fds();

	return n < 0   ? "no /proc/self/fd"
	       : n > 0 ? "descriptors of the parent's libawe are open in the child (see above)"
		       : NULL;
}

/* Every check, each failure on stderr; 0 when all pass. */
static inline int model_fork_child(struct model *m, const struct model_snap *snap)
{
	struct awe_stats st;
	const char *msg;
	void *where;
	int bad = 0;

#define CHILD_FAIL(...)                                                                            \
	do {                                                                                       \
		fprintf(stderr, "libawe model: fork child of call %" PRIu64 ": ", m->c.seq);       \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		bad++;                                                                             \
	} while (0)
	alarm(20);
	/* Before any libawe call, which would clean up. */
	if ((msg = model_child_fds()))
		CHILD_FAIL("%s", msg);
	for (int i = 0; i < snap->nw; i++) {
		char *a = (char *)snap->base[i] + (snap->npages[i] / 2) * m->page;

		if (!model_touch((char *)snap->base[i], false).sig || !model_touch(a, false).sig)
			CHILD_FAIL("the parent's window %#" PRIxPTR " is readable", snap->base[i]);
	}
	if (awe_stats(&st) || st.frames_allocated || st.frames_mapped || st.windows ||
	    st.window_bytes)
		CHILD_FAIL("awe_stats(): %" PRIu64 " frames, %" PRIu64 " mapped, %" PRIu64
			   " windows",
			   st.frames_allocated, st.frames_mapped, st.windows);
	for (int i = 0; i < snap->nw; i++) {
		struct awe_page_info pi;

		if (awe_query((void *)snap->base[i], &pi) != -EINVAL)
			CHILD_FAIL("awe_query() of the parent's window is not -EINVAL");
	}
	for (int i = 0; i < snap->nf; i++)
		if (awe_frame_addr(snap->f[i], &where) != -ENOENT ||
		    awe_free(&snap->f[i], 1, NULL) != -ENOENT)
			CHILD_FAIL("the parent's frame %#" PRIx64 " is not -ENOENT", snap->f[i]);
	for (int i = 0; !snap->w32 && i < snap->ns; i++) {
		awe_frame_t f;

		if (awe_section_alloc((awe_section_t)snap->sec[i], &f, 1) != -ENOENT)
			CHILD_FAIL("the parent's section %#" PRIx64 " is open", snap->sec[i]);
	}
	if (m->be->child_check && (msg = m->be->child_check(snap)))
		CHILD_FAIL("%s", msg);
#undef CHILD_FAIL
	return bad ? 1 : 0;
}

static inline void *model_forker_main(void *arg)
{
	struct model_forker *k = arg;
	struct model *m = k->m;
	uint64_t rng = m->seed ^ 0xf0f0f0f0f0f0f0f0ull;

	while (!atomic_load(&k->stop)) {
		struct model_snap snap = {.w32 = m->w32};
		struct timespec ts = {0, (long)(200000 + rng_next(&rng) % 2000000)};
		int status;
		pid_t pid;

		nanosleep(&ts, NULL);
		pthread_mutex_lock(&k->mu);
		for (int w = 0; w < MODEL_WSLOTS; w++)
			if (m->w[w].live) {
				snap.base[snap.nw] = m->w[w].base;
				snap.npages[snap.nw++] = m->w[w].npages;
			}
		for (size_t i = 0; i < m->nlive && snap.nf < 8; i++)
			snap.f[snap.nf++] = m->f[m->live[i]].num;
		for (int s = 0; s < MODEL_SECSLOTS; s++)
			if (m->sec[s].alive && m->sec[s].open)
				snap.sec[snap.ns++] = m->sec[s].handle;
		pid = fork();
		if (pid == 0)
			_exit(model_fork_child(m, &snap));
		pthread_mutex_unlock(&k->mu);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
		k->forks++;
		if (status) {
			k->failed++;
			k->last_status = status;
		}
	}
	return NULL;
}

static inline void model_phase_fork(const struct model_backend *be)
{
	struct model_opts o = {.test = "fork", .seed = 0x5eed00d1, .calls = 4 * MODEL_PHASE_CALLS};
	struct model_forker k = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct model *m = model_new(be, &o);
	unsigned int forks, failed;
	int status;
	pthread_t t;

	k.m = m;
	m->mu = &k.mu;
	/* GCC 12's AddressSanitizer does not keep its allocator's lock across
	 * fork(): a child forked while this thread is in malloc() hangs at its
	 * own first malloc(). Sanitized builds fork between calls only; the
	 * others fork in the middle of them too. */
	m->mu_whole = SANITIZED;
	cr_assert_eq(pthread_create(&t, NULL, model_forker_main, &k), 0);
	model_steps(m, m->calls);
	atomic_store(&k.stop, true);
	pthread_join(t, NULL);
	forks = k.forks;
	failed = k.failed;
	status = k.last_status;
	m->mu = NULL;
	model_finish(m);
	pthread_mutex_destroy(&k.mu);
	cr_assert_gt(forks, 0, "no fork happened");
	cr_assert_eq(failed, 0,
		     "%u of %u fork children failed (last status %#x: 1 = a check failed, see "
		     "stderr; SIGALRM = it hung)",
		     failed, forks, status);
}

/* (e) Another thread calls libawe with a cancellation request pending:
 * every call completes, the thread is cancelled at pthread_testcancel()
 * after them, and the model's thread never waits for a lock a cancelled
 * thread left held. A deadlock becomes a failure by alarm(). */
enum { MODEL_CANCEL_CALLS = 16 };

struct model_canceller {
	struct model *m;
	atomic_bool stop;
	unsigned int threads;
	/* the thread of the moment */
	atomic_int done; /* calls completed */
	enum mkind kinds[MODEL_CANCEL_CALLS + 1];
	int bad, bad_err;
	bool survived;
	void *stack_lo; /* the thread's stack */
	size_t stack_size;
};

static struct model_canceller *model_cancel_now;

static inline void model_cancel_alarm(int sig)
{
	struct model_canceller *k = model_cancel_now;
	char buf[256];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf),
		     "libawe model: cancel: deadlock: the model's call %" PRIu64
		     " or thread %u (%d calls completed) did not finish\n",
		     k ? k->m->c.seq : 0, k ? k->threads : 0, k ? atomic_load(&k->done) : -1);
	if (write(2, buf, (size_t)n) < 0)
		_exit(2);
	_exit(2);
}

/* One of the canceller's calls, through the backend. */
static inline bool model_cancel_call(struct model_canceller *k, struct mcall *c, struct mres *r,
				     int step)
{
	memset(r, 0, offsetof(struct mres, info));
	if (step <= MODEL_CANCEL_CALLS)
		k->kinds[step - 1] = c->kind;
	k->m->be->exec[c->kind](k->m, c, r);
	if (r->failed && !k->bad) {
		k->bad = step;
		k->bad_err = r->err;
	}
	atomic_fetch_add(&k->done, 1);
	return !r->failed;
}

static inline void model_cancel_prep(const struct model *m, struct mcall *c, enum mkind kind)
{
	memset(c, 0, offsetof(struct mcall, fi));
	c->kind = kind;
	c->proc = true;
	c->handle = m->w32 ? MODEL_W32_PROCESS : 0;
	c->node = -1;
	c->type = MEM_RELEASE;
	c->flags = m->w32 ? MEM_RESERVE | MEM_PHYSICAL : 0;
	c->prot = m->w32 ? PAGE_READWRITE : 0;
	c->len = sizeof(MEMORY_BASIC_INFORMATION);
}

static inline void model_cancel_body(struct model_canceller *k)
{
	const struct model *m = k->m;
	struct mcall *c = calloc(1, sizeof(*c));
	struct mres *r = calloc(1, sizeof(*r));
	awe_frame_t f[4], sf[2];
	char *w = NULL, *sw = NULL;
	uint64_t sec = 0;
	int step = 0;

	if (!c || !r)
		abort();
	model_cancel_prep(m, c, K_ALLOC);
	c->count = 4;
	if (model_cancel_call(k, c, r, ++step))
		memcpy(f, c->frames, sizeof(f));
	model_cancel_prep(m, c, K_WCREATE);
	c->size = 4 * m->page;
	if (model_cancel_call(k, c, r, ++step))
		w = r->base;
	model_cancel_prep(m, c, K_MAP);
	c->addr = w;
	c->count = 4;
	memcpy(c->frames, f, sizeof(f));
	model_cancel_call(k, c, r, ++step);
	if (w)
		*(volatile uint64_t *)w = 42;
	model_cancel_prep(m, c, K_PROTECT);
	c->addr = w + m->page;
	c->count = 1;
	c->size = m->page;
	c->prot = m->w32 ? PAGE_READONLY : AWE_PROT_READ;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_QUERY);
	c->addr = w;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_SCATTER);
	c->addrs[0] = w + 2 * m->page;
	c->addrs[1] = w + 3 * m->page;
	c->count = 2;
	c->frames_null = true;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_MAP);
	c->addr = w;
	c->count = 4;
	c->frames_null = true;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_WDESTROY);
	c->addr = w;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_FREE);
	c->count = 4;
	memcpy(c->frames, f, sizeof(f));
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_SCREATE);
	if (model_cancel_call(k, c, r, ++step))
		sec = r->section;
	model_cancel_prep(m, c, K_ALLOC);
	c->proc = false;
	c->handle = sec;
	c->count = 2;
	if (model_cancel_call(k, c, r, ++step))
		memcpy(sf, c->frames, sizeof(sf));
	model_cancel_prep(m, c, K_WCREATE);
	c->proc = false;
	c->handle = sec;
	c->size = 2 * m->page;
	if (model_cancel_call(k, c, r, ++step))
		sw = r->base;
	model_cancel_prep(m, c, K_MAP);
	c->addr = sw;
	c->count = 2;
	c->frames[0] = c->frames[1] = sf[0];
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_SCLOSE);
	c->handle = sec;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, K_WDESTROY);
	c->addr = sw;
	model_cancel_call(k, c, r, ++step);
	model_cancel_prep(m, c, m->be->exec[K_STATS] ? K_STATS : K_QUERY);
	c->addr = w;
	r->failed = false;
	if (c->kind == K_STATS)
		model_cancel_call(k, c, r, ++step);
	else
		atomic_fetch_add(&k->done, 1), ++step;
	free(c);
	free(r);
}

/*
 * Cancellation unwinds the thread's stack as longjmp() would, but nothing
 * tells AddressSanitizer (its longjmp interceptor does, for longjmp): the
 * red zones of the frames left stay poisoned and its own end of the thread
 * reports them. So the cleanup handler, run during the unwind, unpoisons
 * the whole stack; the thread ends right after.
 */
static inline void model_cancel_cleanup(void *arg)
{
#if SANITIZED
	struct model_canceller *k = arg;

	if (k->stack_lo)
		__asan_unpoison_memory_region(k->stack_lo, k->stack_size);
#else
	(void)arg;
#endif
}

static inline void *model_cancel_thread(void *arg)
{
	struct model_canceller *k = arg;
	pthread_attr_t attr;

	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &k->stack_lo, &k->stack_size);
		pthread_attr_destroy(&attr);
	}
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
	pthread_cancel(pthread_self());
	pthread_cleanup_push(model_cancel_cleanup, k);
	model_cancel_body(k);
	/* Every call returned: now, and only now, the request is acted on. */
	pthread_testcancel();
	k->survived = true;
	pthread_cleanup_pop(0);
	return NULL;
}

static inline void *model_canceller_main(void *arg)
{
	struct model_canceller *k = arg;

	while (!atomic_load(&k->stop)) {
		struct timespec to;
		pthread_t t;
		void *ret = NULL;
		int e;

		atomic_store(&k->done, 0);
		k->bad = 0;
		k->survived = false;
		k->threads++;
		if (pthread_create(&t, NULL, model_cancel_thread, k))
			_exit(4);
		clock_gettime(CLOCK_REALTIME, &to);
		to.tv_sec += 30;
		e = pthread_timedjoin_np(t, &ret, &to);
		if (e || ret != PTHREAD_CANCELED || k->survived ||
		    atomic_load(&k->done) != MODEL_CANCEL_CALLS || k->bad) {
			/* The model's thread may be stuck behind a lock the
			 * cancelled thread left held: report from here. */
			int d = atomic_load(&k->done);

			fprintf(stderr,
				"libawe model: cancel: thread %u: %s; %d of %d calls completed "
				"(call %d failed with %d)%s%s\n",
				k->threads,
				e			  ? "did not end (deadlock?)"
				: k->survived		  ? "not cancelled at pthread_testcancel()"
				: ret != PTHREAD_CANCELED ? "did not end by cancellation"
				: k->bad		  ? "a call failed"
							  : "cancelled inside a libawe call",
				d, MODEL_CANCEL_CALLS, k->bad, k->bad_err,
				d < MODEL_CANCEL_CALLS ? "; the call it did not return from: " : "",
				d < MODEL_CANCEL_CALLS ? model_kind_name(k->m, k->kinds[d], false)
						       : "");
			_exit(1);
		}
	}
	return NULL;
}

static inline int model_cancel_child(void *arg)
{
	const struct model_backend *be = arg;
	struct model *m = model_child_model(be, "cancel", 0x5eed00e1);
	struct model_canceller k = {.m = m};
	pthread_t t;

	model_cancel_now = &k;
	signal(SIGALRM, model_cancel_alarm);
	alarm(120);
	m->hostile |= H_FOREIGN;
	if (pthread_create(&t, NULL, model_canceller_main, &k))
		model_fail(m, "pthread_create failed");
	model_steps(m, 2 * m->calls);
	atomic_store(&k.stop, true);
	pthread_join(t, NULL);
	alarm(0);
	m->hostile &= ~(unsigned int)H_FOREIGN;
	fprintf(stderr, "libawe model: cancel: %u threads cancelled after %d calls each\n",
		k.threads, MODEL_CANCEL_CALLS);
	model_finish(m);
	return 0;
}

static inline void model_phase_cancel(const struct model_backend *be)
{
	run_in_child(model_cancel_child, (void *)be, NULL);
}

#endif /* AWE_TEST_MODEL_H */
