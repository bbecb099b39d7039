/**
 * store.ts keeps container records under --root. Layout, one directory per container:
 *
 *   <root>/                  mode 0700, created on first create
 *   <root>/<id>/             mode 0700
 *   <root>/<id>/lock         flock target (lock.ts); every mutating command holds it
 *   <root>/<id>/state.json   ContainerRecord, replaced atomically (temp file + rename)
 *   <root>/<id>/config.json  the validated config as it was at create time
 *
 * The sandbox binds Unix sockets in a directory it is given, and a socket path holds at
 * most 107 bytes; Docker's --root plus a 64-character id is longer than that. When
 * `<root>/<id>` is too long, the sandbox is given a short alias instead, a symlink
 * `<root>/.s-<hash of id>` -> `<id>`, made with the directory and removed with it.
 *
 * A container directory is born complete: create builds it under a hidden temporary name
 * (`.<id>.<random>`), with the lock already held and a `creating` record written, then
 * renames it into place. rename(2) refuses a non-empty target, which is what makes
 * duplicate ids fail, and no other command ever sees a half-made directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import type { Status } from '../../oci/state';
import { ContainerError, ExistsError, NotExistError } from './errors';
import { FileLock } from './lock';
import { removeFile, removeTree } from './remove';
import { sha256Hex } from './sha256';

/** ContainerRecord is what tvisor persists about a container in state.json. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** status is the last status tvisor recorded; the live status also looks at the pid. */
  status: Status;
  pid?: number;
  /** pidStartTime is field 22 of /proc/PID/stat when the pid was recorded (see proc.ts). */
  pidStartTime?: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** sandbox is data the Sandbox implementation keeps for later commands. */
  sandbox?: Record<string, unknown>;
}

/** SUN_PATH_MAX is the longest Unix socket path, in bytes (sun_path without its NUL). */
export const SUN_PATH_MAX = 107;
/** SOCKET_NAME_ROOM is what the sandbox may append to its directory for a socket name. */
export const SOCKET_NAME_ROOM = 32;

/** StateStore reads and writes container records under one --root directory. */
export class StateStore {
  constructor(readonly root: string) {}

  /** dir returns the container directory of `id` (the id must already be validated). */
  dir(id: string): string {
    return path.join(this.root, id);
  }

  /**
   * sandboxDir returns the directory the sandbox works in: the container directory, or
   * its short alias when sockets inside the container directory would be too long.
   */
  sandboxDir(id: string): string {
    const dir = this.dir(id);
    if (Buffer.byteLength(dir) + SOCKET_NAME_ROOM <= SUN_PATH_MAX) return dir;
    const alias = this.aliasPath(id);
    if (Buffer.byteLength(alias) + SOCKET_NAME_ROOM > SUN_PATH_MAX) {
      throw new ContainerError(`--root ${this.root}: too long for the sandbox's Unix sockets (at most ${SUN_PATH_MAX - SOCKET_NAME_ROOM - 20} bytes)`);
    }
    return alias;
  }

  private aliasPath(id: string): string {
    return path.join(this.root, `.s-${sha256Hex(id).slice(0, 16)}`);
  }

  /** ensureRoot creates --root (mode 0700) if needed; it returns true when it created it. */
  ensureRoot(): boolean {
    try {
      fs.mkdirSync(this.root, { mode: 0o700 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        fs.mkdirSync(path.dirname(this.root), { recursive: true, mode: 0o711 });
        return this.ensureRoot();
      }
      throw err;
    }
  }

  /**
   * reserve creates the directory of a new container with its lock held, its config copy
   * and a `creating` record, and only then makes it visible under its id. It throws
   * ExistsError when the id is taken.
   */
  async reserve(record: ContainerRecord, spec: Spec): Promise<FileLock> {
    if (fs.existsSync(path.join(this.dir(record.id), 'state.json'))) throw new ExistsError(record.id);
    const alias = this.sandboxDir(record.id) !== this.dir(record.id);
    const tmp = path.join(this.root, `.${record.id}.${tempSuffix()}`);
    fs.mkdirSync(tmp, { mode: 0o700 });
    let lock: FileLock | undefined;
    let madeAlias = false;
    try {
      lock = await FileLock.acquire(path.join(tmp, 'lock'), { create: true });
      writeAtomic(path.join(tmp, 'config.json'), JSON.stringify(spec));
      writeAtomic(path.join(tmp, 'state.json'), JSON.stringify(record));
      // The alias is the same for every container of this id: one left by another is fine.
      if (alias && !fs.existsSync(this.aliasPath(record.id))) {
        fs.symlinkSync(record.id, this.aliasPath(record.id));
        madeAlias = true;
      }
      try {
        fs.renameSync(tmp, this.dir(record.id));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') throw new ExistsError(record.id);
        throw err;
      }

      return lock!;
    } catch (err) {
      lock?.release();
      removeTree(tmp);
      if (madeAlias && !(err instanceof ExistsError)) removeFile(this.aliasPath(record.id));
      throw err;
    }
  }

  /** lock takes the lock of an existing container; NotExistError when there is none. */
  async lock(id: string, timeoutMs?: number): Promise<FileLock> {
    const lock = await FileLock.acquire(path.join(this.dir(id), 'lock'), { timeoutMs });
    if (!lock) throw new NotExistError(id);
    if (!fs.existsSync(path.join(this.dir(id), 'state.json'))) {
      lock.release();
      throw new NotExistError(id);
    }
    return lock;
  }

  /** read returns the record of `id`; NotExistError when there is none. */
  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), 'state.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new NotExistError(id);
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  /** readConfig returns the config saved at create time. */
  readConfig(id: string): Spec {
    return JSON.parse(fs.readFileSync(path.join(this.dir(id), 'config.json'), 'utf8')) as Spec;
  }

  /** writeConfig replaces the saved config of `id` (update records new limits); the caller holds the lock. */
  writeConfig(id: string, spec: Spec): void {
    writeAtomic(path.join(this.dir(id), 'config.json'), JSON.stringify(spec));
  }

  /** write replaces the record of `id` atomically; the caller holds the container's lock. */
  write(record: ContainerRecord): void {
    writeAtomic(path.join(this.dir(record.id), 'state.json'), JSON.stringify(record));
  }

  /** remove deletes the container directory; the caller holds the container's lock. */
  remove(id: string): void {
    removeFile(this.aliasPath(id));
    removeTree(this.dir(id));
  }

  /** list returns the ids of the containers under --root, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => !n.startsWith('.') && fs.existsSync(path.join(this.root, n, 'state.json'))).sort();
  }
}

let tempSeq = 0;

/**
 * tempSuffix names a temporary file or directory uniquely on this host: this process's pid
 * (unique among live processes), the time in ms (a dead process's leftover under a reused
 * pid is from another millisecond) and a counter. No random bytes: node:crypto costs
 * 2-3 ms to load, and state, kill and delete need it for nothing else (the alias's hash
 * is sha256.ts's).
 */
function tempSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}-${++tempSeq}`;
}

/**
 * writeAtomic writes `data` to a temporary file beside `file` and renames it over `file`:
 * a reader sees the old content or the new, never a part. Not synced, as runc does not
 * sync its state either: the state lives under /run (tmpfs) and means nothing after a
 * reboot, and an fsync costs milliseconds per write on a disk-backed --root.
 */
export function writeAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${tempSuffix()}`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    removeFile(tmp);
    throw err;
  }
}
