/**
 * User and group id mappings of a container with a user namespace (config.json's
 * linux.uidMappings and gidMappings, user_namespaces(7)): container id C in a range
 * {containerID, hostID, size} is host id hostID + (C - containerID). The gofer maps
 * every id it writes to the host (the owner of what it creates, chown) and every id it
 * reads back (getattr); a host id outside every range reads as the overflow id 65534,
 * as /proc/sys/kernel/overflowuid makes Linux show it. The sentry refuses a container id
 * outside every range (set*id, setgroups, chown: EINVAL, as make_kuid fails there). Without ranges the mapping is
 * the identity (no user namespace).
 */

/** OVERFLOW_ID is what an unmapped host id reads as inside the container. */
export const OVERFLOW_ID = 65534;

/** IdRange is one line of a uid_map/gid_map. */
export interface IdRange {
  containerID: number;
  hostID: number;
  size: number;
}

const U32 = 0x1_0000_0000;

/** IdMap maps ids one way or the other through a list of ranges. */
export class IdMap {
  private constructor(readonly ranges: readonly IdRange[]) {}

  /** IDENTITY maps every id to itself (no user namespace). */
  static readonly IDENTITY = new IdMap([]);

  /** of builds a map; it throws naming the range when one is not three ids within 32 bits,
   * or when two ranges overlap on either side (the kernel refuses such maps). */
  static of(ranges: readonly IdRange[]): IdMap {
    for (const r of ranges) {
      const ok = [r.containerID, r.hostID, r.size].every((n) => Number.isInteger(n) && n >= 0 && n < U32);
      if (!ok || r.size === 0 || r.containerID + r.size > U32 || r.hostID + r.size > U32) {
        throw new RangeError(`id mapping ${r.containerID}:${r.hostID}:${r.size}: not a valid range`);
      }
    }
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const a = ranges[i], b = ranges[j];
        const overlap = (x: number, y: number) => x < y + b.size && y < x + a.size;
        if (overlap(a.containerID, b.containerID) || overlap(a.hostID, b.hostID)) {
          throw new RangeError(`id mappings ${a.containerID}:${a.hostID}:${a.size} and ${b.containerID}:${b.hostID}:${b.size} overlap`);
        }
      }
    }
    return new IdMap([...ranges]);
  }

  /** parse reads "C:H:N" (the gofer's --uid-map/--gid-map flags). */
  static parse(specs: readonly string[]): IdMap {
    return IdMap.of(specs.map((s) => {
      const m = /^(\d+):(\d+):(\d+)$/.exec(s);
      if (!m) throw new RangeError(`id mapping "${s}": want CONTAINER:HOST:SIZE`);
      return { containerID: Number(m[1]), hostID: Number(m[2]), size: Number(m[3]) };
    }));
  }

  /** identity tells whether the map is the identity (no ranges). */
  get identity(): boolean {
    return this.ranges.length === 0;
  }

  /** toHost maps a container id to its host id, or returns -1 when it is unmapped. */
  toHost(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= U32) return -1;
    if (this.identity) return id;
    for (const r of this.ranges) if (id >= r.containerID && id - r.containerID < r.size) return r.hostID + (id - r.containerID);
    return -1;
  }

  /** toContainer maps a host id to the container's view: OVERFLOW_ID when unmapped. */
  toContainer(id: number): number {
    if (this.identity) return id;
    for (const r of this.ranges) if (id >= r.hostID && id - r.hostID < r.size) return r.containerID + (id - r.hostID);
    return OVERFLOW_ID;
  }

  /** mapsHost tells whether a host id has a container id (privileged_wrt_inode_uidgid). */
  mapsHost(id: number): boolean {
    if (this.identity) return true;
    return this.ranges.some((r) => id >= r.hostID && id - r.hostID < r.size);
  }

  /** flags renders the map as the gofer's command-line values ("C:H:N"). */
  flags(): string[] {
    return this.ranges.map((r) => `${r.containerID}:${r.hostID}:${r.size}`);
  }
}

/** IdMaps are a container's uid and gid maps. */
export interface IdMaps {
  uid: IdMap;
  gid: IdMap;
}

/** IDENTITY_MAPS maps nothing (no user namespace). */
export const IDENTITY_MAPS: IdMaps = { uid: IdMap.IDENTITY, gid: IdMap.IDENTITY };
