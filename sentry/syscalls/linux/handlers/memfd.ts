/**
 * memfd_create: an anonymous tmpfs file, the way Linux makes one on its internal shm
 * mount. The file is created in a tmpfs of its own (mounted nowhere, bounded like any
 * tmpfs by the sandbox's defaults) and unlinked at once, so its pages go with its last
 * descriptor and mapping; its name is `memfd:<name>`, which /proc/<pid>/fd/N and
 * /proc/<pid>/maps show with ` (deleted)`, as for any unlinked file. MFD_ALLOW_SEALING makes it sealable
 * (fcntl F_ADD_SEALS/F_GET_SEALS, enforced by tmpfs and mmap).
 */
import { Errno, fail, LinuxError } from '../../../kernel/errors';
import { O_RDWR } from '../../../vfs/file';
import { Dentry, Mount } from '../../../vfs/mount';
import { F_SEAL_SEAL, Tmpfs, TmpfsInode } from '../../../fsimpl/tmpfs/tmpfs';
import { define } from '../registry';

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
/** NAME_MAX is the longest memfd name (Linux: 249 bytes, 255 less the "memfd:" prefix). */
const NAME_MAX = 249;

let memfdMount: Mount | null = null;
let serial = 0;

/** mount returns the unmounted tmpfs memfds live in (made on first use, after boot sized tmpfs). */
function mount(): Mount {
  return (memfdMount ??= new Mount(new Tmpfs(0o1777), null, null, 0, 'tmpfs'));
}

define(319, (t, r) => {
  const flags = r.argInt(1) >>> 0;
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING)) fail(Errno.EINVAL);
  let name: string;
  try {
    name = t.mm.readString(r.arg(0), NAME_MAX);
  } catch (e) {
    if (e instanceof LinuxError && e.errno === Errno.ENAMETOOLONG) fail(Errno.EINVAL);
    throw e;
  }
  const m = mount();
  const dir = m.root.inode as TmpfsInode;
  const key = `memfd.${serial++}`;
  const ino = dir.create(key, 0o777, t.creds) as TmpfsInode;
  const f = ino.open({ mount: m, dentry: new Dentry(`memfd:${name}`, m.root, ino) }, O_RDWR);
  dir.unlink(key); // after open: the open description keeps the data
  ino.seals = flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  try {
    return t.fds.add(f, (flags & MFD_CLOEXEC) !== 0);
  } catch (e) {
    f.unref();
    throw e;
  }
}, 'partial', 'MFD_HUGETLB, MFD_NOEXEC_SEAL and MFD_EXEC are refused (EINVAL)');
