/*
 * Plays the user-mode kernel's part against lab/uml-xstate.c (preloaded into this program), on this
 * host, without the kernel: two "tasks" take turns on one traced process, each with its own register
 * buffer, saved with a short PTRACE_GETREGSET when the task stops running and restored with a short
 * PTRACE_SETREGSET when it runs again, as user-mode Linux does for a guest's threads (one host process
 * per address space). The buffers are SHORT bytes long: the legacy area and the XSAVE header only, so
 * that every vector register beyond them (AVX's upper halves, AVX-512's zmm16 and k1) is the shim's to
 * keep per task. Debian's kernel passes longer buffers (2,696 bytes, which hold AVX-512), so a guest
 * cannot see what this program sees: a shim that kept one area for every task, or none, fails here.
 *
 * Task A sets its values and stops. Task B starts as a copy of A (its buffer a copy of A's, as the
 * kernel's fork copies a task's registers; the shim's first restore of a buffer takes the rest from the
 * process), checks it has A's values, sets its own and stops. A runs again and must find its own values,
 * then B its own. Exit 0: every check held; 1: a task lost its registers (the line says which); 2: the
 * check could not run (the line says why; without the shim, the host refuses the short restore: EFAULT).
 * x86-64 Linux only: raw system calls and x86 vector registers.
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

#define A_VALUE 0x0a0a0a0a0a0a0a0aull
#define B_VALUE 0x0b0b0b0b0b0b0b0bull
#define A_MASK 0xaaaa
#define B_MASK 0xbbbb

/* What the traced process read: B's registers when it started, A's when it ran again, then B's. */
struct seen {
  uint64_t inherited[8], a[8], b[8];
  uint16_t mask_inherited, mask_a, mask_b;
};

/*
 * kill(getpid(), SIGSTOP) by raw system calls, inside each task's one asm block: between setting a
 * register and reading it back, no code runs but these instructions (a compiler may use any vector
 * register between two asm statements; the kernel keeps them across a system call).
 */
#define STOP "movl $39, %%eax\n\tsyscall\n\tmovl %%eax, %%edi\n\tmovl $19, %%esi\n\tmovl $62, %%eax\n\tsyscall\n\t"

__attribute__((target("avx512f"))) static void tasks_avx512(struct seen *seen) {
  uint64_t a = A_VALUE, b = B_VALUE;
  __asm__ volatile(
      "vpbroadcastq %[a], %%zmm16\n\tmovl %[am], %%eax\n\tkmovw %%eax, %%k1\n\t" /* A */
      STOP
      "vmovdqu64 %%zmm16, %[inherited]\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %[mask_inherited]\n\t" /* B */
      "vpbroadcastq %[b], %%zmm16\n\tmovl %[bm], %%eax\n\tkmovw %%eax, %%k1\n\t"
      STOP
      "vmovdqu64 %%zmm16, %[seen_a]\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %[mask_a]\n\t" /* A */
      STOP
      "vmovdqu64 %%zmm16, %[seen_b]\n\tkmovw %%k1, %%eax\n\tmovw %%ax, %[mask_b]\n\t" /* B */
      : [inherited] "=m"(seen->inherited), [mask_inherited] "=m"(seen->mask_inherited), [seen_a] "=m"(seen->a), [mask_a] "=m"(seen->mask_a),
        [seen_b] "=m"(seen->b), [mask_b] "=m"(seen->mask_b)
      : [a] "r"(a), [b] "r"(b), [am] "i"(A_MASK), [bm] "i"(B_MASK)
      : "rax", "rcx", "rdi", "rsi", "r11", "xmm16", "k1", "memory");
}

__attribute__((target("avx"))) static void tasks_avx(struct seen *seen) {
  uint64_t a[4] = {A_VALUE, A_VALUE, A_VALUE, A_VALUE}, b[4] = {B_VALUE, B_VALUE, B_VALUE, B_VALUE};
  __asm__ volatile(
      "vmovdqu %[a], %%ymm15\n\t" STOP      /* A */
      "vmovdqu %%ymm15, %[inherited]\n\t"   /* B */
      "vmovdqu %[b], %%ymm15\n\t" STOP
      "vmovdqu %%ymm15, %[seen_a]\n\t" STOP /* A */
      "vmovdqu %%ymm15, %[seen_b]\n\t"      /* B */
      : [inherited] "=m"(*(uint64_t(*)[4])seen->inherited), [seen_a] "=m"(*(uint64_t(*)[4])seen->a), [seen_b] "=m"(*(uint64_t(*)[4])seen->b)
      : [a] "m"(a), [b] "m"(b)
      : "rax", "rcx", "rdi", "rsi", "r11", "xmm15", "memory");
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
static pid_t child;
static int reaped;

/* Waits for the traced process's next SIGSTOP; anything else (another signal, an exit) ends the check. */
static int stopped(void) {
  int status;
  if (waitpid(child, &status, 0) != child) {
    printf("waitpid: %s\n", strerror(errno));
    return -1;
  }
  if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP) return 0;
  if (WIFSTOPPED(status)) printf("the traced process stopped with signal %d\n", WSTOPSIG(status));
  else {
    reaped = 1;
    printf("the traced process ended early (status 0x%x)\n", status);
  }
  return -1;
}

static int regset(int request, unsigned char *buffer, const char *what) {
  struct iovec iov = {buffer, SHORT};
  if (ptrace(request, child, (void *)NT_X86_XSTATE, &iov) == 0) return 0;
  printf("%s: %s\n", what, strerror(errno));
  return -1;
}

static int save(unsigned char *buffer) { return regset(PTRACE_GETREGSET, buffer, "save (short PTRACE_GETREGSET)"); }
static int restore(unsigned char *buffer) { return regset(PTRACE_SETREGSET, buffer, "restore (short PTRACE_SETREGSET)"); }
static int go(void) {
  if (ptrace(PTRACE_CONT, child, NULL, NULL) == 0) return 0;
  printf("PTRACE_CONT: %s\n", strerror(errno));
  return -1;
}

/* The kernel's part: at each stop, save the task that ran and restore the one that runs next. */
static int play(void) {
  if (stopped() || go()) return -1; /* the stop after PTRACE_TRACEME: no task has run yet */
  if (stopped() || save(buffer_a)) return -1;
  memcpy(buffer_b, buffer_a, SHORT); /* B is born a copy of A */
  if (restore(buffer_b) || go()) return -1;
  if (stopped() || save(buffer_b) || restore(buffer_a) || go()) return -1;
  if (stopped() || save(buffer_a) || restore(buffer_b) || go()) return -1;
  int status;
  if (waitpid(child, &status, 0) != child) return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    reaped = WIFEXITED(status) || WIFSIGNALED(status);
    printf("the traced process did not end well (status 0x%x)\n", status);
    return -1;
  }
  reaped = 1;
  return 0;
}

static int lanes_hold(const uint64_t *lanes, int count, uint64_t value) {
  for (int i = 0; i < count; i++)
    if (lanes[i] != value) return 0;
  return 1;
}

int main(void) {
  int wide = __builtin_cpu_supports("avx512f");
  if (!__builtin_cpu_supports("avx")) {
    puts("no AVX: no register beyond the short buffer to keep");
    return 0;
  }
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    printf("pipe: %s\n", strerror(errno));
    return 2;
  }
  child = fork();
  if (child < 0) {
    printf("fork: %s\n", strerror(errno));
    return 2;
  }
  if (child == 0) _exit(traced(wide, pipe_fds[1]));
  close(pipe_fds[1]);
  if (play() != 0) {
    if (!reaped) {
      kill(child, SIGKILL); /* not left stopped, holding its parent's output open */
      waitpid(child, NULL, 0);
    }
    return 2;
  }
  struct seen seen;
  if (read(pipe_fds[0], &seen, sizeof seen) != (ssize_t)sizeof seen) {
    puts("the traced process did not say what it saw");
    return 2;
  }
  int lanes = wide ? 8 : 4;
  int inherited = lanes_hold(seen.inherited, lanes, A_VALUE) && (!wide || seen.mask_inherited == A_MASK);
  int kept_a = lanes_hold(seen.a, lanes, A_VALUE) && (!wide || seen.mask_a == A_MASK);
  int kept_b = lanes_hold(seen.b, lanes, B_VALUE) && (!wide || seen.mask_b == B_MASK);
  printf("%s, buffers of %d bytes: task B %s, task A %s, task B %s\n", wide ? "zmm16 and k1" : "ymm15", SHORT,
         inherited ? "started with A's registers" : "did NOT start with A's registers", kept_a ? "kept its registers" : "LOST its registers",
         kept_b ? "kept its registers" : "LOST its registers");
  return inherited && kept_a && kept_b ? 0 : 1;
}
