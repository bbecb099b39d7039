/**
 * ns-holds.ts lets an open nsfs file (/proc/<pid>/ns/*, fsimpl/proc/nodes.ts) hold the
 * namespace it names without /proc importing the namespace code, which imports much of
 * the kernel (and, through the mount namespaces, /proc itself: an import cycle).
 * namespaces.ts installs the hold when it loads; before that no namespace of a counted
 * kind exists, so the default holds nothing.
 */

/** NamespaceHold keeps the namespace with nsfs inode number `ino` alive until the returned release runs. */
export type NamespaceHold = (ino: number) => () => void;

let hold: NamespaceHold = () => () => {};

/** setNamespaceHold installs the hold (namespaces.ts, at load). */
export function setNamespaceHold(h: NamespaceHold): void {
  hold = h;
}

/** holdNamespace holds the namespace an open nsfs file names (see NamespaceHold). */
export function holdNamespace(ino: number): () => void {
  return hold(ino);
}
