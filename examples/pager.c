// SPDX-License-Identifier: MIT
/*
 * awe-pager - a small user-mode pager on libawe, the way AWE is used.
 *
 * A window of NPAGES pages is backed by a quarter as many frames. Threads
 * touch random pages; touching an unmapped page raises the access violation
 * (SIGBUS; SIGSEGV with the memfd engine), whose handler maps a frame there:
 * a free one, or one taken back from the oldest page. A trimmer thread keeps
 * frames free, unmapping the 64 oldest pages in one awe_unmap_scatter() call
 * with AWE_UNMAP_EXCLUSIVE: libawe may drop them with one TLB shootdown.
 *
 * That flag promises that no other thread touches those pages during the
 * call. A latch word per page keeps the promise: touchers hold a pin (the
 * low bits) around each access; an evictor takes EXCL by a CAS from 0, so
 * only pages nobody pins, and touchers wait while EXCL is set. A toucher
 * that finds its page unmapped takes MAPPING (or waits for whoever has it)
 * before touching it: its access faults, its own handler maps the page.
 *
 * A page's first word holds its tag (number and generation), checked at
 * every touch and eviction; a frame must come back with the tag it left.
 * Exit status: 0 when every check passed, 1 if not, 77 when libawe cannot
 * run here.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <awe.h>

#define NFRAMES 512	     /* 2 MiB of 4 KiB frames */
#define NPAGES (4 * NFRAMES) /* the window */
#define BATCH 64	     /* pages per eviction call */
#define LOW 128		     /* the trimmer wakes at LOW free frames, */
#define HIGH 256	     /* and evicts until HIGH are free */
#define TOUCHERS 2

#define MAPPING (1u << 30) /* latch bits: a thread is mapping the page, */
#define EXCL (1u << 31)	   /* an evictor holds it */
#define NONE UINT32_MAX
#define NO_TAG UINT64_MAX /* the page is not mapped */

static struct page {
	_Atomic uint32_t latch;
	uint32_t frame, gen;  /* changed under MAPPING or EXCL only */
	_Atomic uint64_t tag; /* what its first word holds, or NO_TAG */
} pages[NPAGES];
static char *window;
static size_t pagesz;
static awe_frame_t frames[NFRAMES];
static uint64_t left_with[NFRAMES]; /* a frame's tag when it was unmapped */

static atomic_flag lock = ATOMIC_FLAG_INIT;			 /* the free list and the queue */
static uint32_t free_list[NFRAMES], queue[NFRAMES], qhead, qlen; /* queue: oldest first */
static _Atomic uint32_t nfree;
static sem_t wake_trimmer;
static atomic_bool stop;
static _Atomic unsigned long touches, faults, evicted, calls, taken_back, bad;
static __thread uint32_t mapping = NONE; /* the page this thread faults in */

/* A spin, yielding the CPU to whoever we wait for after a while. */
static void backoff(unsigned int *n)
{
	if (++*n > 64)
		sched_yield();
}

static void take_lock(void)
{
	for (unsigned int n = 0; atomic_flag_test_and_set(&lock);)
		backoff(&n);
}

/* Waits while any bit of @busy is set in @pg's latch, then adds @add. */
static void latch(struct page *pg, uint32_t busy, uint32_t add)
{
	uint32_t v = atomic_load(&pg->latch);

	for (unsigned int n = 0;
	     (v & busy) || !atomic_compare_exchange_weak(&pg->latch, &v, v + add);
	     v = atomic_load(&pg->latch))
		backoff(&n);
}

static uint64_t *word(uint32_t p)
{
	return (uint64_t *)(window + (size_t)p * pagesz);
}

/* A failed map or unmap would leave a toucher faulting for ever. */
static void check(int rc, const char *call)
{
	if (rc) {
		fprintf(stderr, "awe-pager: %s: %s\n", call, awe_strerror(rc));
		_exit(1);
	}
}

/* Unmaps up to @max of the oldest pages nobody pins, in one call, and gives
 * their frames in @out; returns how many. */
static size_t evict(size_t max, uint32_t *out)
{
	uint32_t p[BATCH], n = 0;
	void *addrs[BATCH];

	take_lock();
	for (uint32_t tries = qlen; n < max && tries; tries--) {
		uint32_t q = queue[qhead], zero = 0;

		qhead = (qhead + 1) % NFRAMES;
		if (atomic_compare_exchange_strong(&pages[q].latch, &zero, EXCL))
			p[n++] = q, qlen--; /* ours alone now */
		else
			queue[(qhead + qlen - 1) % NFRAMES] = q; /* in use: young again */
	}
	atomic_flag_clear(&lock);
	for (uint32_t i = 0; i < n; i++) {
		left_with[pages[p[i]].frame] = *word(p[i]);
		bad += *word(p[i]) != pages[p[i]].tag;
		pages[p[i]].tag = NO_TAG;
		addrs[i] = word(p[i]);
	}
	if (n)
		check(awe_unmap_scatter(addrs, n, AWE_UNMAP_EXCLUSIVE), "awe_unmap_scatter");
	for (uint32_t i = 0; i < n; i++) {
		out[i] = pages[p[i]].frame;
		pages[p[i]].frame = NONE;
		atomic_store(&pages[p[i]].latch, 0);
	}
	return n;
}

/* A frame from the free list, or else one taken back from the oldest pages. */
static uint32_t take_frame(void)
{
	uint32_t f = NONE;

	for (unsigned int n = 0;; backoff(&n)) {
		take_lock();
		if (nfree) {
			f = free_list[--nfree];
			if (nfree == LOW)
				sem_post(&wake_trimmer); /* async-signal-safe */
		}
		atomic_flag_clear(&lock);
		if (f != NONE)
			return f;
		if (evict(1, &f)) {
			taken_back++;
			return f;
		}
	}
}

/* The access violation: maps a frame at the page this thread faults in. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;
	uint32_t p = (uint32_t)((size_t)(a - window) / pagesz), f;
	int saved = errno;

	(void)uc;
	if (a < window || a >= window + NPAGES * pagesz || p != mapping) {
		signal(sig, SIG_DFL); /* a real crash: the retried access gets it */
		return;
	}
	f = take_frame();
	check(awe_map(word(p), 1, &frames[f]), "awe_map");
	bad += *word(p) != left_with[f]; /* the frame kept its contents */
	*word(p) = (uint64_t)(p + 1) << 32 | ++pages[p].gen;
	pages[p].frame = f;
	atomic_store(&pages[p].tag, *word(p)); /* touchers may read it now */
	take_lock();
	queue[(qhead + qlen++) % NFRAMES] = p;
	atomic_flag_clear(&lock);
	faults++;
	errno = saved;
}

static void touch(uint32_t p)
{
	struct page *pg = &pages[p];

	latch(pg, EXCL, 1); /* pin */
	if (atomic_load(&pg->tag) == NO_TAG) {
		latch(pg, MAPPING, MAPPING);
		if (atomic_load(&pg->tag) == NO_TAG)
			mapping = p; /* the access below faults it in */
		else
			atomic_fetch_and(&pg->latch, ~MAPPING); /* mapped meanwhile */
	}
	bad += *(volatile uint64_t *)word(p) != atomic_load(&pg->tag);
	if (mapping == p) {
		mapping = NONE;
		atomic_fetch_and(&pg->latch, ~MAPPING);
	}
	atomic_fetch_sub(&pg->latch, 1); /* unpin */
	touches++;
}

static void *toucher(void *arg)
{
	for (uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull; !atomic_load(&stop);) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		touch((uint32_t)(x % NPAGES));
	}
	return NULL;
}

static void *trimmer(void *arg)
{
	uint32_t f[BATCH], n;

	(void)arg;
	while (sem_wait(&wake_trimmer) == 0 && !atomic_load(&stop))
		while (nfree < HIGH && (n = (uint32_t)evict(BATCH, f))) {
			take_lock();
			for (uint32_t i = 0; i < n; i++)
				free_list[nfree++] = f[i];
			atomic_flag_clear(&lock);
			evicted += n;
			calls++;
		}
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
	unsigned char seen[NFRAMES] = {0};
	pthread_t tid[TOUCHERS + 1];
	struct awe_probe pr;
	struct awe_stats st;
	void *win = NULL;
	int rc;

	/* Locked frames, their parking and (default engine) the window count
	 * against RLIMIT_MEMLOCK: where they do not fit, page unlocked frames. */
	pagesz = awe_page_size();
	if (awe_probe(&pr) == 0 && pr.locked &&
	    pr.memlock_room < (3 * NFRAMES + NPAGES) * (uint64_t)pagesz)
		awe_init(AWE_INIT_UNLOCKED);
	rc = awe_stats(&st);
	if (!rc && awe_alloc(frames, NFRAMES) != NFRAMES)
		rc = -ENOMEM;
	if (!rc)
		rc = awe_window_create(NPAGES * pagesz, NULL, 0, &win);
	if (rc) {
		fprintf(stderr, "awe-pager: libawe cannot run here: %s\n", awe_strerror(rc));
		return 77;
	}
	window = win;
	for (uint32_t i = 0; i < NPAGES; i++) {
		pages[i].frame = NONE;
		pages[i].tag = NO_TAG;
	}
	for (uint32_t f = 0; f < NFRAMES; f++)
		free_list[nfree++] = f;
	sem_init(&wake_trimmer, 0, 0);
	sigaction(SIGBUS, &sa, NULL);  /* the default engine's access violation */
	sigaction(SIGSEGV, &sa, NULL); /* the memfd engine's */
	for (uintptr_t i = 0; i <= TOUCHERS; i++)
		if (pthread_create(&tid[i], NULL, i ? toucher : trimmer, (void *)i))
			check(-EAGAIN, "pthread_create");
	sleep(1);
	stop = true;
	sem_post(&wake_trimmer);
	for (int i = 0; i <= TOUCHERS; i++)
		pthread_join(tid[i], NULL);

	/* Every mapped page holds its tag, every frame is mapped once or free. */
	for (uint32_t p = 0; p < NPAGES; p++) {
		if (pages[p].frame == NONE)
			continue;
		seen[pages[p].frame]++;
		bad += *word(p) != pages[p].tag;
	}
	for (uint32_t i = 0; i < nfree; i++)
		seen[free_list[i]]++;
	for (uint32_t f = 0; f < NFRAMES; f++)
		bad += seen[f] != 1;
	printf("awe-pager: engine %s, frames %slocked; %d frames page a window of %d pages.\n"
	       "%d threads touched %lu pages in 1 s, %lu of them faulted in. The trimmer\n"
	       "unmapped %lu in %lu calls (AWE_UNMAP_EXCLUSIVE); handlers took back %lu.\n",
	       st.engine, st.locked ? "" : "not ", NFRAMES, NPAGES, TOUCHERS,
	       (unsigned long)touches, (unsigned long)faults, (unsigned long)evicted,
	       (unsigned long)calls, (unsigned long)taken_back);
	awe_window_destroy(win);
	awe_free(frames, NFRAMES, NULL);
	printf(bad || !touches ? "awe-pager: FAILED: %lu checks failed\n"
			       : "awe-pager: passed: every page held its tag (%lu failed)\n",
	       (unsigned long)bad);
	return bad || !touches;
}
