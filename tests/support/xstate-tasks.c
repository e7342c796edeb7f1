/*
 * Plays the user-mode kernel's part against lab/uml-xstate.c (preloaded into this program), on this
 * host, without the kernel: two "tasks" take turns on one traced process, each with its own register
 * buffer, saved with a short PTRACE_GETREGSET when the task stops running and restored with a short
 * PTRACE_SETREGSET when it runs again, as user-mode Linux does for a guest's threads (one host process
 * per address space). The buffers are SHORT bytes long: the legacy area and the XSAVE header only, so
 * that every vector register beyond them (AVX's upper halves, AVX-512's zmm16 and k1) is the shim's to
 * keep per task. The kernel's own buffer may be longer (it covers AVX-512 on some builds), so its guest
 * cannot see what this program sees: a shim that kept one area for every task, or none, fails here.
 *
 * The traced process sets task A's values, stops; task B inherits them (a new task starts from the
 * process's state, as the shim's first SET of a buffer does), sets its own, stops; A runs again and must
 * find its own values, then B its own. Exit 0: both tasks kept their registers; 1: one lost them (the
 * line says which); 2: ptrace refused (without the shim, the host's SET refuses a short buffer: EFAULT).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#define SHORT 576 /* 512 bytes of legacy (x87, SSE) state and the 64-byte XSAVE header */

/* A stop the tracer sees, by raw system calls: no library code runs between the register reads and writes. */
static void stop_here(void) {
  long pid;
  __asm__ volatile("syscall" : "=a"(pid) : "a"(39L) : "rcx", "r11", "memory"); /* getpid */
  __asm__ volatile("syscall" ::"a"(62L), "D"(pid), "S"((long)SIGSTOP) : "rcx", "r11", "memory"); /* kill */
}

struct seen {
  uint64_t a[8], b[8];
  uint16_t mask_a, mask_b;
};

#define A_VALUE 0x0a0a0a0a0a0a0a0aull
#define B_VALUE 0x0b0b0b0b0b0b0b0bull

__attribute__((target("avx512f"))) static void tasks_avx512(struct seen *seen) {
  uint64_t a = A_VALUE, b = B_VALUE;
  __asm__ volatile("vpbroadcastq %0, %%zmm16\n\tkmovw %1, %%k1" ::"r"(a), "r"(0xaaaau) : "xmm16", "k1");
  stop_here(); /* A stops; B runs */
  __asm__ volatile("vpbroadcastq %0, %%zmm16\n\tkmovw %1, %%k1" ::"r"(b), "r"(0xbbbbu) : "xmm16", "k1");
  stop_here(); /* B stops; A runs */
  __asm__ volatile("vmovdqu64 %%zmm16, %0\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %1" : "=m"(seen->a), "=m"(seen->mask_a)::"eax");
  stop_here(); /* A stops; B runs */
  __asm__ volatile("vmovdqu64 %%zmm16, %0\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %1" : "=m"(seen->b), "=m"(seen->mask_b)::"eax");
}

__attribute__((target("avx"))) static void tasks_avx(struct seen *seen) {
  uint64_t a[4] = {A_VALUE, A_VALUE, A_VALUE, A_VALUE}, b[4] = {B_VALUE, B_VALUE, B_VALUE, B_VALUE};
  __asm__ volatile("vmovdqu %0, %%ymm15" ::"m"(a) : "xmm15");
  stop_here();
  __asm__ volatile("vmovdqu %0, %%ymm15" ::"m"(b) : "xmm15");
  stop_here();
  __asm__ volatile("vmovdqu %%ymm15, %0" : "=m"(*(uint64_t(*)[4])seen->a));
  stop_here();
  __asm__ volatile("vmovdqu %%ymm15, %0" : "=m"(*(uint64_t(*)[4])seen->b));
}

/* The traced process: runs both tasks' steps, writes what it saw into the pipe, exits. */
static int traced(int wide, int out) {
  struct seen seen = {0};
  if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) return 3;
  raise(SIGSTOP);
  if (wide) tasks_avx512(&seen);
  else tasks_avx(&seen);
  return write(out, &seen, sizeof seen) == (ssize_t)sizeof seen ? 0 : 3;
}

static unsigned char buffer_a[SHORT], buffer_b[SHORT]; /* each task's, as the kernel keeps one per task */

static int regset(int request, pid_t pid, unsigned char *buffer, const char *what) {
  struct iovec iov = {buffer, SHORT};
  if (ptrace(request, pid, (void *)NT_X86_XSTATE, &iov) == 0) return 0;
  printf("%s: %s\n", what, strerror(errno));
  return -1;
}

/* Waits for the next stop, saves the task that ran, restores the one that runs next, lets it go. */
static int switch_tasks(pid_t pid, unsigned char *from, unsigned char *to) {
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) return -1;
  if (regset(PTRACE_GETREGSET, pid, from, "save (short PTRACE_GETREGSET)") || regset(PTRACE_SETREGSET, pid, to, "restore (short PTRACE_SETREGSET)")) return -1;
  return ptrace(PTRACE_CONT, pid, NULL, NULL);
}

int main(void) {
  int wide = __builtin_cpu_supports("avx512f");
  if (!__builtin_cpu_supports("avx")) {
    puts("no AVX: no register beyond the short buffer to keep");
    return 0;
  }
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 2;
  pid_t pid = fork();
  if (pid == 0) _exit(traced(wide, pipe_fds[1]));
  close(pipe_fds[1]);
  int status;
  /* The first stop (after PTRACE_TRACEME): no task has run yet. Then A runs and stops: save A, start B
     (a buffer never saved: B starts from the process's state); B stops: save B, restore A; and so on. */
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || ptrace(PTRACE_CONT, pid, NULL, NULL) != 0 || switch_tasks(pid, buffer_a, buffer_b) ||
      switch_tasks(pid, buffer_b, buffer_a) || switch_tasks(pid, buffer_a, buffer_b)) {
    kill(pid, SIGKILL); /* not left stopped, holding its parent's output open */
    waitpid(pid, &status, 0);
    return 2;
  }
  struct seen seen;
  ssize_t got = read(pipe_fds[0], &seen, sizeof seen);
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof seen) {
    puts("the traced process failed");
    return 2;
  }
  int lanes = wide ? 8 : 4, lost = 0;
  for (int i = 0; i < lanes; i++) lost |= (seen.a[i] != A_VALUE) | ((seen.b[i] != B_VALUE) << 1);
  if (wide) lost |= (seen.mask_a != 0xaaaa) | ((seen.mask_b != 0xbbbb) << 1);
  printf("%s, buffers of %d bytes: task A %s, task B %s\n", wide ? "zmm16 and k1" : "ymm15", SHORT, lost & 1 ? "LOST its registers" : "kept its registers",
         lost & 2 ? "LOST its registers" : "kept its registers");
  return lost ? 1 : 0;
}
