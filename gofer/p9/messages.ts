/**
 * The 9P2000.L message set as data: one entry per message, its type number and its
 * fields in wire order. Encoding, decoding, the TypeScript types of decoded messages and
 * the round-trip tests all come from this one table.
 *
 * Every message is framed as size[4] type[1] tag[2] followed by the fields below.
 * Field kinds: u8/u16/u32 integers; u64 a 64-bit number that must fit 2^53; mask a
 * 64-bit bit mask; u64b a full 64-bit bigint; str len[2] UTF-8; strs n[2] str*n;
 * qid type[1] version[4] path[8]; qids n[2] qid*n; data count[4] bytes; u32opt a
 * trailing u32 that older peers omit (read as 0); u32s n[2] u32*n; attrs n[2] followed by
 * n Rgetattr bodies (valid[8] qid[13] ... data_version[8]); dirstats n[2] followed by n
 * (name[s], Rgetattr body); notes n[2] followed by n (wd[4] mask[4] cookie[4] name[s]).
 * A strs, qids, u32s or attrs field holds at most 16 elements, a dirstats field at most
 * MAX_DIRSTATS, a notes field at most MAX_NOTES.
 */
import type { Qid } from './wire';

/** Fields lists one message's fields in wire order: name -> kind. */
type Fields = Readonly<Record<string, FieldKind>>;

/** FieldKind is the wire encoding of one field. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'mask' | 'u64b' | 'str' | 'strs' | 'qid' | 'qids' | 'data' | 'u32opt' | 'u32s' | 'attrs' | 'dirstats' | 'notes';

/** MESSAGES is the 9P2000.L protocol: name -> [type number, fields]. */
export const MESSAGES = {
  // Rlerror: ecode[4]  (9P2000.L's only error reply: a Linux errno)
  Rlerror: [7, { ecode: 'u32' }],
  // Tstatfs: fid[4]
  Tstatfs: [8, { fid: 'u32' }],
  // Rstatfs: type[4] bsize[4] blocks[8] bfree[8] bavail[8] files[8] ffree[8] fsid[8] namelen[4]
  Rstatfs: [9, { fsType: 'u32', bsize: 'u32', blocks: 'u64', bfree: 'u64', bavail: 'u64', files: 'u64', ffree: 'u64', fsid: 'u64b', namelen: 'u32' }],
  // Tlopen: fid[4] flags[4]
  Tlopen: [12, { fid: 'u32', flags: 'u32' }],
  // Rlopen: qid[13] iounit[4]
  Rlopen: [13, { qid: 'qid', iounit: 'u32' }],
  // Tlcreate: fid[4] name[s] flags[4] mode[4] gid[4]
  Tlcreate: [14, { fid: 'u32', name: 'str', flags: 'u32', mode: 'u32', gid: 'u32' }],
  // Rlcreate: qid[13] iounit[4]
  Rlcreate: [15, { qid: 'qid', iounit: 'u32' }],
  // Tsymlink: fid[4] name[s] symtgt[s] gid[4]
  Tsymlink: [16, { fid: 'u32', name: 'str', target: 'str', gid: 'u32' }],
  // Rsymlink: qid[13]
  Rsymlink: [17, { qid: 'qid' }],
  // Tmknod: dfid[4] name[s] mode[4] major[4] minor[4] gid[4]
  Tmknod: [18, { dfid: 'u32', name: 'str', mode: 'u32', major: 'u32', minor: 'u32', gid: 'u32' }],
  // Rmknod: qid[13]
  Rmknod: [19, { qid: 'qid' }],
  // Trename: fid[4] dfid[4] name[s]
  Trename: [20, { fid: 'u32', dfid: 'u32', name: 'str' }],
  Rrename: [21, {}],
  // Treadlink: fid[4]
  Treadlink: [22, { fid: 'u32' }],
  // Rreadlink: target[s]
  Rreadlink: [23, { target: 'str' }],
  // Tgetattr: fid[4] request_mask[8]
  Tgetattr: [24, { fid: 'u32', requestMask: 'mask' }],
  // Rgetattr: valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8] blksize[8]
  //   blocks[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8] ctime_sec[8]
  //   ctime_nsec[8] btime_sec[8] btime_nsec[8] gen[8] data_version[8]
  Rgetattr: [25, {
    valid: 'mask', qid: 'qid', mode: 'u32', uid: 'u32', gid: 'u32', nlink: 'u64', rdev: 'u64', size: 'u64',
    blksize: 'u64', blocks: 'u64', atimeSec: 'u64', atimeNsec: 'u64', mtimeSec: 'u64', mtimeNsec: 'u64',
    ctimeSec: 'u64', ctimeNsec: 'u64', btimeSec: 'u64', btimeNsec: 'u64', gen: 'u64b', dataVersion: 'u64b',
  }],
  // Tsetattr: fid[4] valid[4] mode[4] uid[4] gid[4] size[8] atime_sec[8] atime_nsec[8]
  //   mtime_sec[8] mtime_nsec[8]
  Tsetattr: [26, {
    fid: 'u32', valid: 'u32', mode: 'u32', uid: 'u32', gid: 'u32', size: 'u64',
    atimeSec: 'u64', atimeNsec: 'u64', mtimeSec: 'u64', mtimeNsec: 'u64',
  }],
  Rsetattr: [27, {}],
  // Txattrwalk: fid[4] newfid[4] name[s]
  Txattrwalk: [30, { fid: 'u32', newfid: 'u32', name: 'str' }],
  // Rxattrwalk: size[8]
  Rxattrwalk: [31, { size: 'u64' }],
  // Txattrcreate: fid[4] name[s] attr_size[8] flags[4]
  Txattrcreate: [32, { fid: 'u32', name: 'str', attrSize: 'u64', flags: 'u32' }],
  Rxattrcreate: [33, {}],
  // Treaddir: fid[4] offset[8] count[4]
  Treaddir: [40, { fid: 'u32', offset: 'u64b', count: 'u32' }],
  // Rreaddir: count[4] data[count]  (entries: qid[13] offset[8] type[1] name[s])
  Rreaddir: [41, { data: 'data' }],
  // Tfsync: fid[4] datasync[4]  (datasync is absent from older clients)
  Tfsync: [50, { fid: 'u32', datasync: 'u32opt' }],
  Rfsync: [51, {}],
  // Tlock: fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]
  Tlock: [52, { fid: 'u32', lockType: 'u8', flags: 'u32', start: 'u64', length: 'u64', procId: 'u32', clientId: 'str' }],
  // Rlock: status[1]
  Rlock: [53, { status: 'u8' }],
  // Tgetlock: fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]
  Tgetlock: [54, { fid: 'u32', lockType: 'u8', start: 'u64', length: 'u64', procId: 'u32', clientId: 'str' }],
  // Rgetlock: type[1] start[8] length[8] proc_id[4] client_id[s]
  Rgetlock: [55, { lockType: 'u8', start: 'u64', length: 'u64', procId: 'u32', clientId: 'str' }],
  // Tlink: dfid[4] fid[4] name[s]
  Tlink: [70, { dfid: 'u32', fid: 'u32', name: 'str' }],
  Rlink: [71, {}],
  // Tmkdir: dfid[4] name[s] mode[4] gid[4]
  Tmkdir: [72, { dfid: 'u32', name: 'str', mode: 'u32', gid: 'u32' }],
  // Rmkdir: qid[13]
  Rmkdir: [73, { qid: 'qid' }],
  // Trenameat: olddirfid[4] oldname[s] newdirfid[4] newname[s]
  Trenameat: [74, { oldDirFid: 'u32', oldName: 'str', newDirFid: 'u32', newName: 'str' }],
  Rrenameat: [75, {}],
  // Tunlinkat: dirfd[4] name[s] flags[4]
  Tunlinkat: [76, { dirFid: 'u32', name: 'str', flags: 'u32' }],
  Runlinkat: [77, {}],
  // Tsetcreds: uid[4] gid[4] caps[8] count[4] groups[count]  (tvisor's 9P2000.L.fd only:
  //   the credentials later requests of the connection act with; groups are u32 each)
  Tsetcreds: [90, { uid: 'u32', gid: 'u32', caps: 'mask', groups: 'data' }],
  Rsetcreds: [91, {}],
  // Twalkstat: fid[4] newfids n[2] newfid[4]*n names n[2] name[s]*n  (tvisor's 9P2000.L.fd
  //   only: walks the names one below the other from fid, as Twalk does, and reads each
  //   one's attributes; newfids[i] gets the file of names[i], or nothing when NOFID)
  Twalkstat: [92, { fid: 'u32', newfids: 'u32s', names: 'strs' }],
  // Rwalkstat: n[2] n*(Rgetattr body)  (one per name walked, in order: fewer than asked
  //   when a later name failed; a failure of the first name is an Rlerror)
  Rwalkstat: [93, { attrs: 'attrs' }],
  // Treaddirstat: fid[4] offset[4] count[4]  (tvisor's 9P2000.L.fd only: lists the
  //   directory fid, an unopened fid of the export, and reads each entry's own attributes,
  //   a symlink's never followed; offset entries are skipped, at most count returned)
  Treaddirstat: [94, { fid: 'u32', offset: 'u32', count: 'u32' }],
  // Rreaddirstat: next[4] n[2] n*(name[s] Rgetattr body)  (without `.` and `..`; next is
  //   the offset to ask for the rest, 0 when the listing is complete)
  Rreaddirstat: [95, { next: 'u32', entries: 'dirstats' }],
  // Tnotify: flags[4] name[s]  (tvisor's 9P2000.L.fd only: the host changes to watched
  //   files. flags NOTIFY_WAIT: a long poll, answered once events are queued (at most one
  //   per connection waits; the server's other requests go on meanwhile); name ''.
  //   flags 0: a barrier, answered at once with no events: what the host queued until
  //   then for `name` in a watched directory, and for watched files themselves, is the
  //   client's own (its writes through passed descriptors) and is dropped; flags
  //   NOTIFY_READS: a barrier that drops only IN_OPEN, IN_ACCESS and IN_CLOSE_NOWRITE
  //   (the client's reads through passed descriptors, its closes of read-only ones))
  Tnotify: [88, { flags: 'u32', name: 'str' }],
  // Rnotify: n[2] n*(wd[4] mask[4] cookie[4] name[s])  (in the order the host reported
  //   them: wd a watch of Rwatch, or 0xffffffff with IN_Q_OVERFLOW; mask IN_* bits as in
  //   inotify(7); cookie pairs IN_MOVED_FROM with IN_MOVED_TO; name '' for an event on the
  //   watched file itself, else one component of the watched directory)
  Rnotify: [89, { events: 'notes' }],
  // Twatch: fid[4]  (tvisor's 9P2000.L.fd only: watch the file of fid, a directory or a
  //   regular file, for host changes; watching a file again returns the same wd and
  //   takes another reference; ENOSPC past MAX_WATCHES per connection)
  Twatch: [96, { fid: 'u32' }],
  // Rwatch: wd[4]
  Rwatch: [97, { wd: 'u32' }],
  // Tunwatch: wd[4]  (drops one reference of a watch; the last ends it, and no event of it
  //   is sent afterwards; EINVAL for an unknown wd)
  Tunwatch: [98, { wd: 'u32' }],
  Runwatch: [99, {}],
  // Tcachewatch: fid[4]  (tvisor's 9P2000.L.fd only: watch the directory of fid for host
  //   changes to its entries and their files, on the connection's cache-watch inotify
  //   instance, which the client reads itself; watching a directory again returns the
  //   same wd and takes another reference; EOPNOTSUPP for a directory of a file system
  //   whose changes the host may not report, ENOSPC past MAX_CACHE_WATCHES)
  Tcachewatch: [84, { fid: 'u32' }],
  // Rcachewatch: wd[4] passed[1]  (passed 1: the instance's descriptor comes with this
  //   reply, the first of the connection; the client reads inotify events from it)
  Rcachewatch: [85, { wd: 'u32', passed: 'u8' }],
  // Tuncachewatch: wd[4]  (drops one reference of a cache watch; the last ends it;
  //   EINVAL for an unknown wd)
  Tuncachewatch: [86, { wd: 'u32' }],
  Runcachewatch: [87, {}],
  // Tversion: msize[4] version[s]
  Tversion: [100, { msize: 'u32', version: 'str' }],
  // Rversion: msize[4] version[s]
  Rversion: [101, { msize: 'u32', version: 'str' }],
  // Tauth: afid[4] uname[s] aname[s] n_uname[4]
  Tauth: [102, { afid: 'u32', uname: 'str', aname: 'str', nUname: 'u32' }],
  // Rauth: aqid[13]
  Rauth: [103, { aqid: 'qid' }],
  // Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4]
  Tattach: [104, { fid: 'u32', afid: 'u32', uname: 'str', aname: 'str', nUname: 'u32' }],
  // Rattach: qid[13]
  Rattach: [105, { qid: 'qid' }],
  // Tflush: oldtag[2]
  Tflush: [108, { oldtag: 'u16' }],
  Rflush: [109, {}],
  // Twalk: fid[4] newfid[4] nwname[2] nwname*(wname[s])
  Twalk: [110, { fid: 'u32', newfid: 'u32', names: 'strs' }],
  // Rwalk: nwqid[2] nwqid*(wqid[13])
  Rwalk: [111, { qids: 'qids' }],
  // Tread: fid[4] offset[8] count[4]
  Tread: [116, { fid: 'u32', offset: 'u64', count: 'u32' }],
  // Rread: count[4] data[count]
  Rread: [117, { data: 'data' }],
  // Twrite: fid[4] offset[8] count[4] data[count]
  Twrite: [118, { fid: 'u32', offset: 'u64', data: 'data' }],
  // Rwrite: count[4]
  Rwrite: [119, { count: 'u32' }],
  // Tclunk: fid[4]
  Tclunk: [120, { fid: 'u32' }],
  Rclunk: [121, {}],
  // Tremove: fid[4]
  Tremove: [122, { fid: 'u32' }],
  Rremove: [123, {}],
} as const satisfies Record<string, readonly [number, Fields]>;

/** MsgName is the name of a 9P2000.L message, e.g. 'Twalk'. */
export type MsgName = keyof typeof MESSAGES;
/** RequestName is the name of a T-message. */
export type RequestName = Extract<MsgName, `T${string}`>;

type KindType<K> = K extends 'u8' | 'u16' | 'u32' | 'u64' | 'mask' | 'u32opt' ? number
  : K extends 'u64b' ? bigint
  : K extends 'str' ? string
  : K extends 'strs' ? string[]
  : K extends 'qid' ? Qid
  : K extends 'qids' ? Qid[]
  : K extends 'data' ? Buffer
  : K extends 'u32s' ? number[]
  : K extends 'attrs' ? Array<Body<'Rgetattr'>>
  : K extends 'dirstats' ? DirStat[]
  : K extends 'notes' ? Note[]
  : never;

/** Body is the decoded fields of message N (without type and tag). */
export type Body<N extends MsgName> = { -readonly [F in keyof (typeof MESSAGES)[N][1]]: KindType<(typeof MESSAGES)[N][1][F]> };

/** Message is one decoded message: its kind (the message name), its tag and its fields. */
export type Message<N extends MsgName = MsgName> = N extends MsgName ? { kind: N; tag: number } & Body<N> : never;

/** Reply is the R-message that answers request N (or Rlerror). */
export type ReplyName<N extends RequestName> = N extends `T${infer R}` ? `R${R}` & MsgName : never;

/** DirStat is one entry of Rreaddirstat: a name of the directory and its attributes. */
export interface DirStat {
  name: string;
  attr: Body<'Rgetattr'>;
}

/**
 * EncodedDirStats is Rreaddirstat's entries already in their wire form: `count` entries,
 * each name[s] and an Rgetattr body, back to back in `bytes`. The gofer's listing writes
 * them so (gofer/hostfs/dirstat.ts) and the encoder copies them as they are, in place of
 * a DirStat[]; decoding always gives a DirStat[].
 */
export class EncodedDirStats {
  constructor(readonly count: number, readonly bytes: Buffer) {}
}

/** Note is one event of Rnotify: a host change to a watched file (inotify(7)'s fields). */
export interface Note {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
}

/** MAX_NOTES bounds the events of one Rnotify. */
export const MAX_NOTES = 256;
/** NOTIFY_WAIT is Tnotify's flag for a long poll (without it, a barrier). */
export const NOTIFY_WAIT = 1;
/** NOTIFY_READS is Tnotify's flag for a barrier that covers the client's reads only. */
export const NOTIFY_READS = 2;

/** MAX_DIRSTATS bounds the entries of one Rreaddirstat (a reply also fits in msize). */
export const MAX_DIRSTATS = 4096;

/** NOTAG is the tag of Tversion. */
export const NOTAG = 0xffff;
/** NOFID means "no fid" (the afid of an unauthenticated attach). */
export const NOFID = 0xffffffff;
/** HEADER_SIZE is size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
/** IOHDRSZ is the overhead of Rread/Twrite around their data: header + fid + offset + count. */
export const IOHDRSZ = 24;
/** VERSION_9P2000L is the protocol version string. */
export const VERSION_9P2000L = '9P2000.L';
/**
 * VERSION_FD is tvisor's extension, proposed in Tversion: on a Unix socket, the server
 * attaches the opened host file descriptor (SCM_RIGHTS) to every Rlopen and Rlcreate of
 * a regular file (see carriesFd), so that the client reads and writes it without a round
 * trip; and it accepts Tsetcreds,
 * which names the user (container ids), groups and filesystem capabilities that the
 * connection's later lookups, opens and changes of files are made with. A server that
 * does not know it answers 9P2000.L (or "unknown") and the client speaks plain 9P2000.L.
 */
export const VERSION_FD = '9P2000.L.fd';

/**
 * carriesFd tells whether, in 9P2000.L.fd, an Rlopen or Rlcreate with this qid brings a
 * host descriptor: only a plain file's does (QTFILE, a regular file: the server opens
 * nothing else but directories). A directory's never does, since a directory descriptor
 * would let its holder name host paths relative to it (`..` in newfstatat, statx): the
 * client lists it with Treaddir and syncs it with Tfsync. Server and client both follow
 * this rule, which pairs each received descriptor with its reply.
 */
export function carriesFd(qid: Qid): boolean {
  return qid.type === QidType.FILE;
}

/** Qid type bits. */
export const QidType = { DIR: 0x80, APPEND: 0x40, EXCL: 0x20, MOUNT: 0x10, AUTH: 0x08, TMP: 0x04, SYMLINK: 0x02, LINK: 0x01, FILE: 0x00 } as const;

/** GetattrMask holds the request_mask/valid bits of Tgetattr/Rgetattr. */
export const GetattrMask = {
  MODE: 0x1, NLINK: 0x2, UID: 0x4, GID: 0x8, RDEV: 0x10, ATIME: 0x20, MTIME: 0x40, CTIME: 0x80,
  INO: 0x100, SIZE: 0x200, BLOCKS: 0x400, BTIME: 0x800, GEN: 0x1000, DATA_VERSION: 0x2000,
  BASIC: 0x7ff, ALL: 0x3fff,
  /** UNMAPPED (tvisor's 9P2000.L.fd, in Rgetattr's valid only): the file's owner or group
   * is outside the container's user-namespace mappings (it reads as 65534), so no
   * capability of the container applies to it (privileged_wrt_inode_uidgid). */
  UNMAPPED: 0x40000000,
} as const;

/** LOPEN_EXEC (tvisor's 9P2000.L.fd, in Tlopen's flags with O_RDONLY): open a regular file
 * for execve, which needs execute permission rather than read (Linux's __FMODE_EXEC, the
 * same bit). The server checks execute access as the caller, then opens for reading. */
export const LOPEN_EXEC = 0x20;

/** SetattrMask holds the valid bits of Tsetattr. */
export const SetattrMask = {
  MODE: 0x1, UID: 0x2, GID: 0x4, SIZE: 0x8, ATIME: 0x10, MTIME: 0x20, CTIME: 0x40, ATIME_SET: 0x80, MTIME_SET: 0x100,
} as const;

/** LockType and LockStatus are the values of Tlock/Rlock/Tgetlock. */
export const LockType = { RDLCK: 0, WRLCK: 1, UNLCK: 2 } as const;
export const LockStatus = { SUCCESS: 0, BLOCKED: 1, ERROR: 2, GRACE: 3 } as const;
