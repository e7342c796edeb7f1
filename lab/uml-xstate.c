/*
 * Preloaded into linux.uml (LD_PRELOAD) by lab/uml-kernel.ts, so that Debian's user-mode Linux 6.1 runs
 * on hosts whose XSAVE area is larger than the one it was built for.
 *
 * The user-mode kernel keeps each guest task's FPU state in a buffer of its own and moves it in and out
 * of its host processes with PTRACE_GETREGSET and PTRACE_SETREGSET, NT_X86_XSTATE
 * (arch/x86/um/os-Linux/registers.c). The host kernel accepts a short buffer for GET, but SET wants the
 * whole XSAVE area or fails with EFAULT (arch/x86/kernel/fpu/regset.c, xstateregs_set: "A whole
 * standard-format XSAVE buffer is needed"). Where the CPU has more state than the buffer holds, the guest
 * then panics at its first process: "userspace - ptrace set fp regs failed, errno = 14". Debian's 6.1
 * build passes 2,696 bytes (x87 to AVX-512 and protection keys); with AMX the whole area is 11,008.
 * tests/support/xstate-tasks.c checks this shim with shorter buffers, where AVX and AVX-512 registers
 * lie beyond them.
 *
 * This shim keeps, beside each of the kernel's buffers (a task's, keyed by its address), the whole
 * XSAVE area: a short GET reads the whole area into it and hands the kernel its first bytes; a short SET
 * writes those bytes over it and sets the whole area. So every register a task had, AVX-512's too, comes
 * back when the task runs again. Where the host's area is no larger than the buffer, it passes every
 * call through unchanged. The user-mode kernel runs on one host thread, so nothing here is locked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202 /* elf(5): the x86 extended state note */
#endif

/* Larger than any XSAVE area so far (AMX: 11,008 bytes); the kernel says the real size on GET. */
#define PROBE_BYTES (64 * 1024)

/* glibc's ptrace is variadic (sys/ptrace.h): called through a pointer of the same type. */
typedef long (*ptrace_fn)(enum __ptrace_request, ...);
static ptrace_fn real_ptrace;
static size_t host_bytes; /* the host's XSAVE area, once learnt */

struct entry {
  const void *key;
  unsigned char *area;
  int valid; /* area holds a whole state read from the host (a failed read leaves it invalid) */
};
static struct entry *table;
static size_t capacity, used;

/* Task buffers sit at regular distances (one per kernel stack): the hash mixes the high bits in. */
static size_t slot_of(const void *key, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull;
  return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

static struct entry *find(const void *key) {
  if (!capacity) return NULL;
  size_t s = slot_of(key, capacity);
  while (table[s].key && table[s].key != key) s = (s + 1) & (capacity - 1);
  return table[s].key ? &table[s] : NULL;
}

/* The entry kept for `key`, made (with no valid area yet) when missing; NULL when out of memory. */
static struct entry *entry_for(const void *key) {
  struct entry *found = find(key);
  if (found) return found;
  if (2 * (used + 1) > capacity) {
    size_t grown = capacity ? 2 * capacity : 256;
    struct entry *next = calloc(grown, sizeof *next);
    if (!next) return NULL;
    for (size_t i = 0; i < capacity; i++) {
      if (!table[i].key) continue;
      size_t s = slot_of(table[i].key, grown);
      while (next[s].key) s = (s + 1) & (grown - 1);
      next[s] = table[i];
    }
    free(table);
    table = next;
    capacity = grown;
  }
  unsigned char *area = malloc(host_bytes);
  if (!area) return NULL;
  size_t s = slot_of(key, capacity);
  while (table[s].key) s = (s + 1) & (capacity - 1);
  table[s] = (struct entry){key, area, 0};
  used++;
  return &table[s];
}

static long read_whole(pid_t pid, unsigned char *area) {
  struct iovec whole = {area, host_bytes};
  return real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
}

long ptrace(enum __ptrace_request request, ...) {
  va_list args;
  va_start(args, request);
  pid_t pid = va_arg(args, pid_t);
  void *addr = va_arg(args, void *);
  void *data = va_arg(args, void *);
  va_end(args);
  if (!real_ptrace) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) || (uintptr_t)addr != NT_X86_XSTATE || !data)
    return real_ptrace(request, pid, addr, data);

  struct iovec *given = data;
  if (!host_bytes) {
    unsigned char *probe = malloc(PROBE_BYTES);
    struct iovec whole = {probe, PROBE_BYTES};
    long got = probe ? real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole) : -1;
    free(probe);
    if (got < 0) return real_ptrace(request, pid, addr, data);
    host_bytes = whole.iov_len;
  }
  if (given->iov_len >= host_bytes) return real_ptrace(request, pid, addr, data);

  struct entry *kept = entry_for(given->iov_base);
  if (!kept) {
    errno = ENOMEM;
    return -1;
  }
  if (request == PTRACE_GETREGSET || !kept->valid) {
    /* A SET for a buffer never read (a new task) keeps the host process's state beyond the buffer. */
    kept->valid = read_whole(pid, kept->area) == 0;
    if (!kept->valid) return -1;
  }
  if (request == PTRACE_GETREGSET) {
    memcpy(given->iov_base, kept->area, given->iov_len);
    return 0;
  }
  memcpy(kept->area, given->iov_base, given->iov_len);
  struct iovec whole = {kept->area, host_bytes};
  return real_ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
}
