/**
 * loader turns an executable into a process image: ELF parsing and loading (elf.ts,
 * load.ts), `#!` scripts (shebang.ts) and the initial stack with argv, envp and auxv
 * (stack.ts). It depends only on the two interfaces in types.ts.
 */
export * from './types';
export * from './elf';
export * from './load';
export * from './shebang';
export * from './stack';
export * from './vdso';
export * from './aslr';
