/*
 * Threads of one process, each holding its own value in vector registers across thousands of
 * sched_yield(2)s (each a switch to another thread), then checking that the value is still there.
 * Threads share one address space, which a user-mode Linux kernel runs in one host process, saving and
 * restoring each thread's registers itself through ptrace (lab/uml-xstate.c): a register it failed to
 * save or restore could come back with another thread's value, or zero. Uses zmm16 and k1 where the
 * CPU has AVX-512, else ymm15. Exit 0: every thread kept its registers; 1: one lost them. (Debian's
 * kernel saves these itself, in its 2,696 bytes per task; what only the shim keeps, the registers beyond
 * the kernel's buffer, tests/support/xstate-tasks.c checks.)
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define SWITCHES 5000

static int lost;

__attribute__((target("avx512f"))) static void *hold_avx512(void *arg) {
  uint64_t mine = 0x0101010101010101ull * ((uintptr_t)arg + 1), lanes[8];
  uint16_t mask, want = (uint16_t)(0x1111u * ((uintptr_t)arg + 1));
  __asm__ volatile("vpbroadcastq %0, %%zmm16\n\tkmovw %1, %%k1" ::"r"(mine), "r"((uint32_t)want) : "xmm16", "k1");
  for (int i = 0; i < SWITCHES; i++) {
    sched_yield();
    __asm__ volatile("vmovdqu64 %%zmm16, %0\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %1" : "=m"(lanes), "=m"(mask)::"eax");
    for (int lane = 0; lane < 8; lane++) if (lanes[lane] != mine) lost = 1;
    if (mask != want) lost = 1;
  }
  return NULL;
}

__attribute__((target("avx"))) static void *hold_avx(void *arg) {
  uint64_t mine = 0x0101010101010101ull * ((uintptr_t)arg + 1), lanes[4];
  uint64_t fill[4] = {mine, mine, mine, mine};
  __asm__ volatile("vmovdqu %0, %%ymm15" ::"m"(fill) : "xmm15");
  for (int i = 0; i < SWITCHES; i++) {
    sched_yield();
    __asm__ volatile("vmovdqu %%ymm15, %0" : "=m"(lanes));
    for (int lane = 0; lane < 4; lane++) if (lanes[lane] != mine) lost = 1;
  }
  return NULL;
}

int main(void) {
  int wide = __builtin_cpu_supports("avx512f");
  if (!wide && !__builtin_cpu_supports("avx")) {
    puts("no AVX: nothing to check");
    return 0;
  }
  pthread_t threads[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, wide ? hold_avx512 : hold_avx, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  printf("%s: %d threads, %d switches each: %s\n", wide ? "zmm16 and k1" : "ymm15", THREADS, SWITCHES, lost ? "LOST" : "kept");
  return lost;
}
