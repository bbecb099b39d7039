/** exitCode turns a wait status into a process exit code (128+n for a death by signal n). */
export function exitCode(status: number): number {
  return (status & 0x7f) === 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
}
