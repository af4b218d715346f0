/* SPDX-License-Identifier: MIT */
/*
 * awe-bench: the contender interface, the workload runner and the shared
 * helpers.
 *
 * A contender is one way to put "frame F at window slot S": libawe, its
 * Win32 layer, a memfd remapper, bare UFFDIO_MOVE ioctls, a copy window.
 * Workloads are written once against struct contender, so every contender
 * runs exactly the same sequence of operations.
 */
#ifndef AWE_BENCH_H
#define AWE_BENCH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_SWEEP_PAGES 512	 /* pages of a window sweep: one 2 MiB page-table span */
#define BENCH_BATCH 64		 /* entries of a batched scatter call */
#define BENCH_ALLOC_CHUNK 16384u /* frames per alloc call: 64 MiB */
#define BENCH_MAX_REPS 64	 /* repetitions of a case over all its rounds */
#define BENCH_MAX_ROUNDS 16
#define BENCH_MAX_THREADS 256
#define BENCH_MAX_COUNTS 8 /* thread counts of the N-thread mode */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Contenders ------------------------------------------------------------ */

enum {
	/* The contender counts its own system calls in bench_syscalls. */
	C_COUNTS_SYSCALLS = 1u << 0,
	/* ENOMEM from a map or unmap is vm.max_map_count: a result, not a bug. */
	C_VMA_LIMITED = 1u << 1,
	/* Changes page tables (a copy window does not): the mapping-count run
	 * and the churn run apply. */
	C_MAPS = 1u << 2,
	/* Runs the churn by default (others only when named with --contender). */
	C_CHURN = 1u << 3,
	/* Same engine as another contender: the mapping-count run would only
	 * repeat it, so it runs there only when named with --contender. */
	C_SAME_ENGINE = 1u << 4,
	/* Can page: a touch of an unmapped slot raises SIGBUS or SIGSEGV, and
	 * map() and unmap() may be called from any thread into one window (a
	 * fault handler's map beside the trimmer's unmap). */
	C_PAGER = 1u << 5,
};

struct setup_args {
	size_t frames;	      /* frames to allocate */
	unsigned int windows; /* windows to reserve, one per thread */
	size_t window_pages;  /* slots per window */
	bool lazy;	      /* frames need not be resident yet (only memfd cares) */
	uint64_t *handles;    /* out: the frames' handles; must outlive the state */
	char **bases;	      /* out: the windows' base addresses */
};

/*
 * Every operation returns 0, or a negative errno value after recording a
 * message with bench_err(). Addresses are page-aligned slot addresses of the
 * contender's own windows; frames are handles it returned. As in libawe,
 * map() over a mapped slot replaces the frame there, and map() of a frame
 * that is mapped elsewhere is not done by any workload. Threads call the
 * operations concurrently, each on its own window and its own frames.
 */
struct contender {
	const char *name;
	const char *what;	/* one line for the report */
	const char *alloc_what; /* what its alloc+free is; NULL: no alloc */
	unsigned int flags;

	/* NULL when the contender can run here, or why it cannot (a skip). */
	const char *(*probe)(void);
	int (*setup)(void **st, const struct setup_args *a);
	void (*teardown)(void *st);
	int (*map)(void *st, void *const *addrs, const uint64_t *frames, size_t n);
	int (*unmap)(void *st, void *const *addrs, size_t n);
	/* Optional: unmap() for an evictor that holds the pages' latches, so
	 * that no other thread touches them during the call (libawe's
	 * AWE_UNMAP_EXCLUSIVE). NULL: the contender has no such contract, and
	 * unmap() is what it offers an evictor too. */
	int (*unmap_excl)(void *st, void *const *addrs, size_t n);
	int (*map_range)(void *st, char *addr, const uint64_t *frames, size_t n);
	int (*unmap_range)(void *st, char *addr, size_t n);
	/* n <= BENCH_ALLOC_CHUNK; a thread frees what it allocated before it
	 * allocates again. */
	int (*alloc)(void *st, uint64_t *frames, size_t n);
	int (*free)(void *st, uint64_t *frames, size_t n);
	/* Optional: a remark on the state, e.g. libawe's parking size. */
	void (*note)(void *st, char *buf, size_t len);
};

extern const struct contender contender_awe, contender_win32, contender_memfd, contender_raw,
	contender_rawcopy, contender_copy;

/* System calls and ioctls issued by the calling thread, for contenders with
 * C_COUNTS_SYSCALLS. */
extern __thread uint64_t bench_syscalls;

/* The evictor's unmap: unmap_excl() where the contender has it. */
static inline int contender_evict(const struct contender *c, void *st, void *const *addrs, size_t n)
{
	return (c->unmap_excl ? c->unmap_excl : c->unmap)(st, addrs, n);
}

/* Record why the calling thread's last operation failed; returns @err. */
int bench_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *bench_errmsg(void);

/* ---- Options and results ---------------------------------------------------- */

struct bench_opts {
	bool quick;
	unsigned int reps;   /* per case and round */
	unsigned int rounds; /* the contenders take turns, one round each */
	double rep_ns;	     /* target duration of one timed repetition */
	double warm_ns;	     /* warm-up before the repetitions */
	/* Thread counts of the N-thread mode, ascending, none of them 1;
	 * none at all: no such mode. */
	unsigned int thread_counts[BENCH_MAX_COUNTS];
	unsigned int nthread_counts;
	bool memfd_populate;
	uint64_t churn_ops;
	size_t maxmap_count;
	size_t page;
	long max_map_count;
};

extern struct bench_opts opts;

enum mode { MODE_ONE, MODE_BUSY, MODE_THREADS };

enum status { ST_OK, ST_SKIP, ST_LIMIT, ST_ERROR };

struct result {
	const struct contender *c;
	const struct workload *w;
	enum mode mode;
	unsigned int nthreads;
	size_t size; /* bytes of frames */
	enum status status;
	char msg[256];

	double ns_page;	 /* median over repetitions, per thread */
	double pages_s;	 /* all threads together */
	uint64_t calls;	 /* contender operations in the timed repetitions */
	uint64_t sys;	 /* system calls in them, when counted */
	uint64_t pages;	 /* pages handled in them */
	uint64_t faults; /* minor + major page faults in them */
	long pte_kb;	 /* VmPTE growth over the case */
	unsigned int nreps;
	double rep[BENCH_MAX_REPS];
	/* CPU time of the worker threads per page: median and per repetition,
	 * in step with rep[]. */
	double cpu_page;
	double rep_cpu[BENCH_MAX_REPS];
	/* The median of each round's own repetitions, wall clock and CPU, in
	 * the order the rounds ran; 0 for a round without one. A ratio of two
	 * results pairs these round by round when both are interleaved: their
	 * rounds ran in turns, seconds apart, so a slow spell of the machine
	 * falls on both sides of each pair. */
	double round_ns[BENCH_MAX_ROUNDS], round_cpu[BENCH_MAX_ROUNDS];
	unsigned int nrounds;
	bool interleaved;
	/* The large-frame runs (sides.c), whose time "per page" is per unit
	 * of the side's work instead (one operation, one touch): the share of
	 * the frames' memory that page tables mapped with huge pages, in
	 * percent, as the side found it set up; -1 unknown. */
	double huge_pct;
};

/* ---- Workloads -------------------------------------------------------------- */

struct wl_thread;

struct workload {
	const char *name;
	const char *what;
	const char *seed; /* the workload whose random sequence it runs; NULL: its own */
	bool needs_alloc;
	/* Untimed, per thread: may leave slots mapped for the op. */
	int (*prepare)(struct wl_thread *t);
	/* One timed unit of work; adds to t->pages and t->calls. */
	int (*op)(struct wl_thread *t);
	/* Untimed: leaves every slot of the thread's window empty again. */
	int (*finish)(struct wl_thread *t);
};

extern const struct workload *const workloads[];
extern const size_t nworkloads;

/* What a case runs on: a contender set up with one window per thread. */
struct bench_target {
	const struct contender *c;
	void *st;
	uint64_t *handles;
	size_t nframes;
	char **bases;
	unsigned int nwindows;
	size_t window_pages;
};

/* Fold another round of the same case into @into: the median is then taken
 * over the repetitions of every round, and the round's own medians follow
 * the earlier rounds'. */
void result_merge(struct result *into, const struct result *from);

void run_case(const struct bench_target *tg, const struct workload *w, enum mode mode,
	      unsigned int nthreads, struct result *r);

/* ---- Helpers ---------------------------------------------------------------- */

/* End of the run of consecutive frames starting at @i: contenders move or
 * copy a run in one go. */
static inline size_t frame_run_end(const uint64_t *frames, size_t i, size_t n)
{
	size_t j = i + 1;

	while (j < n && frames[j] == frames[j - 1] + 1)
		j++;
	return j;
}

/* The same over a slot table holding frame + 1 (0: empty, never in a run). */
static inline size_t slot_run_end(const uint32_t *slot, size_t i, size_t n)
{
	size_t j = i + 1;

	while (j < n && slot[j] && slot[j] == slot[j - 1] + 1)
		j++;
	return j;
}

struct proc_mem {
	long rss_anon_kb, rss_shmem_kb, pte_kb, lck_kb;
};

uint64_t now_ns(void);
/* CPU time of the calling thread: unlike now_ns(), it does not advance while
 * the thread waits or the host runs something else. */
uint64_t thread_cpu_ns(void);
int read_proc_mem(struct proc_mem *m);
long count_maps(void);
void cpu_model(char *buf, size_t len);

/* The CPUs this process may run on; pin_thread() pins to the i-th (mod). */
unsigned int ncpus_allowed(void);
void pin_thread(unsigned int i);
/* Lets the calling thread run on any of them again (a thread starts with
 * its creator's CPUs). */
void pin_any(void);

/* Of the first @n of @v (n <= BENCH_MAX_REPS); 0 when n is 0. */
double median(const double *v, unsigned int n);

uint64_t rng_next(uint64_t *s);
void shuffle(uint32_t *a, size_t n, uint64_t *rng);
uint32_t *perm_new(size_t n, uint64_t seed);

/* For contenders whose frames are numbered 0..n-1 and whose windows lie
 * back to back in one @region. */
void index_layout(const struct setup_args *a, char *region);

void fmt_size(char *buf, size_t len, size_t bytes);
void *xcalloc(size_t n, size_t size);
/* Array @p of *@cap elements of @size bytes grown to hold @need (to @first
 * at least, doubling); exits when memory runs out. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size, size_t first);
/* A Markdown table cell: '|' would end it. */
const char *md_escape(const char *s, char *buf, size_t len);

/* ---- Extras and reports ------------------------------------------------------ */

struct maxmap_result {
	const struct contender *c;
	const char *pattern;
	size_t target, mapped;
	enum status status;
	char msg[160];
	long vmas;	      /* mappings the contender added, at the end */
	double ns_mapping;    /* per mapping made */
	char unmap_after[96]; /* after a failure: what unmapping one page did */
};

struct memory_result {
	const struct contender *c;
	size_t frames;
	enum status status;
	char msg[160];
	double bytes_frame; /* resident bytes per frame beyond the frame's page */
	double pte_frame;   /* page-table bytes per frame */
	long vmas;
	char note[128];
};

struct churn_result {
	const struct contender *c;
	size_t frames;
	uint64_t ops;
	enum status status;
	char msg[160];
	long pte_before_kb, pte_after_kb;
	double ns_op;
	char note[128];
};

/* The pager run (pager.c): a virtual space of PAGER_SPACE times the frames,
 * in PAGER_WINDOWS windows; 1, 2 and 4 faulting threads. */
#define PAGER_SPACE 4
#define PAGER_WINDOWS 1
#define PAGER_MAX_THREADS 8
#define PAGER_FRAMES 16384u /* 64 MiB of 4 KiB pages, at most */

/* One round of the pager, in the measured time. */
struct pager_run {
	enum status status;
	char msg[160];
	double secs;
	uint64_t touches;	   /* pages touched */
	uint64_t faults;	   /* of them, pages mapped by the fault handler */
	uint64_t direct;	   /* frames a handler took back itself: the free list was empty */
	uint64_t waits;		   /* touches that waited for an evictor to let go */
	uint64_t evicted, batches; /* by the trimmer */
};

struct pager_result {
	const struct contender *c;
	unsigned int threads; /* faulting threads */
	size_t frames;
	enum status status;
	char msg[160];
	unsigned int nrounds;
	double touch_s[BENCH_MAX_ROUNDS], fault_s[BENCH_MAX_ROUNDS]; /* per round */
	struct pager_run total;					     /* of all rounds */
};

struct report {
	struct result *cases;
	size_t ncases;
	struct maxmap_result *maxmap;
	size_t nmaxmap;
	struct memory_result *memory;
	size_t nmemory;
	struct churn_result *churn;
	size_t nchurn;
	struct pager_result *pager;
	size_t npager;
	/* The large-frame runs (sides.c): one result per side and size, its
	 * contender a side (large.h), its workload wl_large or wl_touch. */
	struct result *large;
	size_t nlarge;
	const struct contender *const *contenders; /* those that ran */
	size_t ncontenders;
	const char *skipped[8]; /* "name: why" of those that could not */
	size_t nskipped;
	char notes[24][240]; /* one per size at most, and a few more */
	size_t nnotes;
	size_t summary_size;
	bool locked;
	char machine[256];
	char cpu[128];
	char kernel[160];
	unsigned int cpus;
};

void run_maxmap(const struct contender *c, size_t count, struct maxmap_result out[2]);
void run_memory(const struct contender *c, size_t frames, struct memory_result *out);
void run_churn(const struct contender *c, size_t frames, uint64_t ops, struct churn_result *out);
/* One round of the pager (pager.c), for @ns nanoseconds after a warm-up. */
void run_pager(const struct contender *c, size_t frames, unsigned int threads, double ns,
	       struct pager_run *out);

const char *mode_name(enum mode m, unsigned int nthreads, char *buf, size_t len);
/* A mode as the reports show it: the N-thread mode once per thread count. */
struct mode_key {
	enum mode mode;
	unsigned int nthreads; /* 1 but in MODE_THREADS */
};
/* The modes the cases ran in, in order: 1 thread, 1 + busy, then the
 * N-thread mode by thread count. */
size_t modes_run(const struct report *rp, struct mode_key *out, size_t cap);
const char *status_name(enum status s);
/* A time per page with the digits worth reading; "-" for none. */
const char *fmt_ns(char *buf, size_t len, double ns);
void report_text(const struct report *rp, FILE *f);
void report_markdown(const struct report *rp, FILE *f);
void report_json(const struct report *rp, FILE *f);
/* The case, when it ran to the end (NULL otherwise). */
const struct result *find_result(const struct report *rp, const char *contender,
				 const struct workload *w, struct mode_key m, size_t size);

/* --plot: whether @file can be drawn (its name, gnuplot), with a message
 * when not. */
int plot_check(const char *file);
/* Draws the chart into @chart (NULL: none) and writes its gnuplot script
 * to @script_f (NULL: none; closed here), named @script_path; 0 or -1,
 * with a message. */
int plot_write(const struct report *rp, const char *chart, FILE *script_f, const char *script_path);

#endif
