// 1000 pthreads created and joined: 18 batches of 50 (the first 2 on glibc's default 8 MiB
// stacks, the rest on 64 KiB ones: on this project's hosts, where Phoenix's ring 0 is
// emulated, each big stack costs ~0.15 s to map, use and unmap, and 900 of them took 145 s
// of a 160 s run), then one batch of 100 alive together that meet at a barrier built from a
// mutex and pthread_cond_broadcast on arrival (so none can have exited before the last one
// started) and three more times while counting. Every thread increments counters behind 4
// contended mutexes, keeps a __thread value and a pthread_key value whose destructor runs
// at its exit, and returns its index to pthread_join. Exact totals are checked after each
// batch. Prints "pthread stress ok" and exits 0, or "FAILED ..." and exits 1.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTAL_THREADS 1000
#define SMALL_BATCH 50
#define BIG_BATCH 100
#define DEFAULT_STACK_BATCHES 2
#define LOCKS 4
#define INCREMENTS 100
#define BARRIER_ROUNDS 4  // each followed by INCREMENTS / BARRIER_ROUNDS increments

#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond)) {                    \
            printf("FAILED %s: ", #cond); \
            printf(__VA_ARGS__);          \
            printf("\n");                 \
            exit(1);                      \
        }                                 \
    } while (0)

static pthread_mutex_t g_locks[LOCKS] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                         PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static uint64_t g_counters[LOCKS];  // g_counters[i] guarded by g_locks[i]

static pthread_key_t g_key;
static pthread_mutex_t g_destructor_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_destructor_calls;
static uint64_t g_destructor_sum;

static __thread uintptr_t t_self;

// A reusable barrier: the generation number tells a woken thread its round is over, so a
// spurious wakeup or a fast thread entering the next round cannot confuse it.
static struct {
    pthread_mutex_t lock;
    pthread_cond_t all_here;
    int waiting, parties;
    unsigned generation;
} g_barrier = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void barrier_wait(void) {
    pthread_mutex_lock(&g_barrier.lock);
    unsigned generation = g_barrier.generation;
    if (++g_barrier.waiting == g_barrier.parties) {
        g_barrier.waiting = 0;
        g_barrier.generation++;
        pthread_cond_broadcast(&g_barrier.all_here);
    } else {
        while (generation == g_barrier.generation)
            pthread_cond_wait(&g_barrier.all_here, &g_barrier.lock);
    }
    pthread_mutex_unlock(&g_barrier.lock);
}

static void destructor(void* value) {
    pthread_mutex_lock(&g_destructor_lock);
    g_destructor_calls++;
    g_destructor_sum += (uintptr_t)value;
    pthread_mutex_unlock(&g_destructor_lock);
}

struct Job {
    uintptr_t index;
    int meet_at_barrier;
};

// Increments number `from` to `to` (exclusive) of thread `index`: each lock gets a quarter.
static void increment(uintptr_t index, int from, int to) {
    for (int i = from; i < to; ++i) {
        int which = (int)((index + (uintptr_t)i) % LOCKS);
        pthread_mutex_lock(&g_locks[which]);
        g_counters[which]++;
        pthread_mutex_unlock(&g_locks[which]);
    }
}

static void* worker(void* arg) {
    struct Job* job = arg;
    t_self = job->index;
    CHECK(pthread_setspecific(g_key, (void*)(job->index + 1)) == 0, "thread %lu", job->index);
    if (job->meet_at_barrier) {
        int per_round = INCREMENTS / BARRIER_ROUNDS;
        for (int round = 0; round < BARRIER_ROUNDS; ++round) {
            barrier_wait();
            increment(job->index, round * per_round, (round + 1) * per_round);
        }
    } else {
        increment(job->index, 0, INCREMENTS);
    }
    CHECK(t_self == job->index, "__thread value of thread %lu is %lu", job->index, t_self);
    CHECK(pthread_getspecific(g_key) == (void*)(job->index + 1), "key value of thread %lu",
          job->index);
    return (void*)job->index;
}

static uint64_t counted(void) {
    uint64_t total = 0;
    for (int i = 0; i < LOCKS; ++i) {
        pthread_mutex_lock(&g_locks[i]);
        total += g_counters[i];
        pthread_mutex_unlock(&g_locks[i]);
    }
    return total;
}

static void run_batch(uintptr_t first, int count, const pthread_attr_t* attr, int meet) {
    pthread_t threads[BIG_BATCH];
    struct Job jobs[BIG_BATCH];
    g_barrier.parties = count;
    for (int i = 0; i < count; ++i) {
        jobs[i] = (struct Job){first + (uintptr_t)i, meet};
        int error = pthread_create(&threads[i], attr, worker, &jobs[i]);
        CHECK(error == 0, "pthread_create of thread %lu: %s", first + i, strerror(error));
    }
    for (int i = 0; i < count; ++i) {
        void* result = NULL;
        CHECK(pthread_join(threads[i], &result) == 0, "join of thread %lu", first + i);
        CHECK(result == (void*)(first + i), "thread %lu returned %p", first + i, result);
    }
}

int main(void) {
    CHECK(pthread_key_create(&g_key, destructor) == 0, "pthread_key_create");
    pthread_attr_t small_stacks;
    pthread_attr_init(&small_stacks);
    CHECK(pthread_attr_setstacksize(&small_stacks, 64 * 1024) == 0, "64 KiB stacks");
    uintptr_t started = 0;
    for (int batch = 0; started < TOTAL_THREADS - BIG_BATCH; ++batch) {
        run_batch(started, SMALL_BATCH, batch < DEFAULT_STACK_BATCHES ? NULL : &small_stacks, 0);
        started += SMALL_BATCH;
        CHECK(counted() == started * INCREMENTS, "after %lu threads: %lu increments", started,
              counted());
    }
    run_batch(started, BIG_BATCH, &small_stacks, 1);
    started += BIG_BATCH;
    pthread_attr_destroy(&small_stacks);
    CHECK(g_barrier.generation == BARRIER_ROUNDS, "barrier rounds: %u", g_barrier.generation);

    CHECK(counted() == TOTAL_THREADS * INCREMENTS, "%lu increments", counted());
    for (int i = 0; i < LOCKS; ++i)
        CHECK(g_counters[i] == TOTAL_THREADS * INCREMENTS / LOCKS, "counter %d: %lu", i,
              g_counters[i]);
    CHECK(g_destructor_calls == TOTAL_THREADS, "%d key destructor calls", g_destructor_calls);
    // Values 1..1000, one per thread.
    CHECK(g_destructor_sum == TOTAL_THREADS * (TOTAL_THREADS + 1) / 2, "destructor values sum %lu",
          g_destructor_sum);
    printf("pthread stress ok\n");
    return 0;
}
