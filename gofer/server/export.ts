/**
 * Exports: the host directories a gofer serves (the container's rootfs and each bind
 * mount), each selected by its attach name, each with its own root descriptor; and the
 * container's id mappings, which apply to all of them.
 */
import * as sys from '../hostfs/sys';
import { IDENTITY_MAPS, type IdMaps } from './idmap';
import { Errno, errnoName } from '../../native/libc';

/** Export is one served directory tree. */
export interface Export {
  /** name is the attach name that selects it ('/' for the root export). */
  name: string;
  /** hostPath is the host directory, for messages only: the gofer never uses it after opening. */
  hostPath: string;
  /** rootFd is an O_PATH descriptor of the export's root directory. */
  rootFd: number;
  readonly: boolean;
  /** devMajor/devMinor/ino identify the root, to keep `..` at the root. */
  devMajor: number;
  devMinor: number;
  ino: bigint;
}

/** ExportError is an export that cannot be served. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/**
 * openExport opens the root of a tree to serve: a directory, or a single file (a bind
 * mount of a file, such as Docker's /etc/resolv.conf). It throws ExportError naming the path.
 * The runtime opens a pod member's exports with it too, and hands them to the pod's
 * gofer (server/members.ts), which checks them again with exportOfFd.
 */
export function openExport(name: string, hostPath: string, readonly: boolean): Export {
  const fd = sys.openat(sys.AT_FDCWD, hostPath, sys.O_PATH);
  if (fd < 0) throw new ExportError(`export ${hostPath}: cannot open: ${errnoName(-fd)}`);
  return exportOfFd(name, hostPath, fd, readonly);
}

/**
 * exportOfFd makes an export of an O_PATH descriptor already open (openExport's, or one
 * passed to the gofer): it must be a directory or a regular file. The export owns `fd`;
 * on error it is closed and ExportError names `hostPath`.
 */
export function exportOfFd(name: string, hostPath: string, fd: number, readonly: boolean): Export {
  const st = sys.fstat(fd);
  if (typeof st === 'number') {
    sys.close(fd);
    throw new ExportError(`export ${hostPath}: cannot stat: ${errnoName(-st)}`);
  }
  const fmt = st.mode & sys.S_IFMT;
  if (fmt !== sys.S_IFDIR && fmt !== sys.S_IFREG) {
    sys.close(fd);
    throw new ExportError(`export ${hostPath}: not a directory or a regular file`);
  }
  return { name: normalizeName(name), hostPath, rootFd: fd, readonly, devMajor: st.devMajor, devMinor: st.devMinor, ino: st.ino };
}

/** normalizeName maps '' and '/' to '/' and strips trailing slashes of other attach names. */
export function normalizeName(name: string): string {
  const n = name.replace(/\/+$/, '');
  return n === '' ? '/' : n;
}

/** Exports resolves attach names. */
export class Exports {
  private byName = new Map<string, Export>();

  /** ids are the container's uid and gid mappings (the identity without a user namespace). */
  constructor(readonly ids: IdMaps = IDENTITY_MAPS) {}

  /** add registers an export; a name given twice throws ExportError. */
  add(e: Export): void {
    if (this.byName.has(e.name)) throw new ExportError(`export ${e.name} given twice`);
    this.byName.set(e.name, e);
  }

  /** find returns the export for an attach name, or -ENOENT. */
  find(aname: string): Export | number {
    return this.byName.get(normalizeName(aname)) ?? -Errno.ENOENT;
  }

  /** list returns the exports in the order they were added. */
  list(): Export[] {
    return [...this.byName.values()];
  }

  /** close closes every export's root descriptor and forgets them (a pod member's, at its end). */
  close(): void {
    for (const e of this.byName.values()) sys.close(e.rootFd);
    this.byName.clear();
  }
}
