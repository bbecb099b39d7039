/**
 * arch is the x86-64 specific part of signal delivery: the rt_sigframe a handler runs on
 * (signal-frame.ts), its decoding for rt_sigreturn (sigreturn.ts), siginfo_t (siginfo.ts)
 * and the FP area of the frame (fpframe.ts). All of it works on bytes: the caller copies
 * frames to and from the task's stack.
 */
export * from './layout';
export * from './siginfo';
export * from './fpframe';
export * from './signal-frame';
export * from './sigreturn';
