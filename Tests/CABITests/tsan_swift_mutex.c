/*
 * Makes Swift's Synchronization.Mutex visible to ThreadSanitizer on Linux. Linked only into the
 * ThreadSanitizer build of the C ABI tests (make test-c-threads), never into the library.
 *
 * Why: on Linux, Mutex is a priority-inheritance futex. Its fast paths (one compare-and-swap to
 * lock, one to unlock) are inlined into the caller, so a library built with -sanitize=thread has
 * them instrumented and TSan sees their acquire and release. Its slow paths, taken whenever the
 * lock is contended, are _MutexHandle._lockSlow/_unlockSlow in libswiftSynchronization.so, which
 * is not instrumented: they spin with plain instructions and then hand the lock over inside the
 * kernel (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI). TSan then sees no ordering between the previous
 * holder's critical section and the next one's, and reports every contended Mutex as a data race
 * on the state it protects (seen here on SessionRegistry's SQLite connection when two resumes ran
 * at once, and reproduced with four threads incrementing a counter under one Mutex).
 *
 * How: the executable exports the slow paths' symbols, so the library's calls (through its PLT)
 * land here first. Each forwards to the real function and tells TSan about the hand-over, on the
 * same address the inlined fast paths use: an acquire after a slow lock, a release before a slow
 * unlock. This adds exactly the ordering the lock provides, so races on state the Mutex does not
 * protect are still reported (checked: the same counter incremented without the lock is
 * reported with this file linked in).
 *
 * The calling convention is Swift's: the handle (self, passed by address because the type is
 * non-copyable) travels in the swiftself register, which clang spells swift_context; the thread id
 * argument is an ordinary first argument. The symbol names are the stable mangled names that
 * Synchronization's module interface declares @usableFromInline.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void __tsan_acquire(void *address);
void __tsan_release(void *address);

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

typedef __attribute__((swiftcall)) void (*lock_slow_function)(uint32_t, __attribute__((swift_context)) void *);
typedef __attribute__((swiftcall)) _Bool (*try_lock_slow_function)(__attribute__((swift_context)) void *);
typedef __attribute__((swiftcall)) void (*unlock_slow_function)(__attribute__((swift_context)) void *);

/* The real function behind `name`, looked up once; `cache` is read and written atomically because
 * the first calls may come from several threads at once. */
static void *real_function(void **cache, const char *name) {
    void *function = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (function == NULL) {
        function = dlsym(RTLD_NEXT, name);
        if (function == NULL) {
            fprintf(stderr, "tsan_swift_mutex: %s not found: %s\n", name, dlerror());
            abort();
        }
        __atomic_store_n(cache, function, __ATOMIC_RELEASE);
    }
    return function;
}

__attribute__((swiftcall)) void lock_slow(uint32_t self_id, __attribute__((swift_context)) void *handle) __asm__(LOCK_SLOW);
__attribute__((swiftcall)) _Bool try_lock_slow(__attribute__((swift_context)) void *handle) __asm__(TRY_LOCK_SLOW);
__attribute__((swiftcall)) void unlock_slow(__attribute__((swift_context)) void *handle) __asm__(UNLOCK_SLOW);

__attribute__((swiftcall)) void lock_slow(uint32_t self_id, __attribute__((swift_context)) void *handle) {
    static void *cache;
    ((lock_slow_function)real_function(&cache, LOCK_SLOW))(self_id, handle);
    __tsan_acquire(handle);
}

__attribute__((swiftcall)) _Bool try_lock_slow(__attribute__((swift_context)) void *handle) {
    static void *cache;
    _Bool locked = ((try_lock_slow_function)real_function(&cache, TRY_LOCK_SLOW))(handle);
    if (locked) __tsan_acquire(handle);
    return locked;
}

__attribute__((swiftcall)) void unlock_slow(__attribute__((swift_context)) void *handle) {
    static void *cache;
    __tsan_release(handle);
    ((unlock_slow_function)real_function(&cache, UNLOCK_SLOW))(handle);
}
