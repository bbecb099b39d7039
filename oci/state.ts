/**
 * state.ts holds the OCI state JSON (runtime-spec runtime.md, "State"): what `tvisor state`
 * prints and what every hook reads on its stdin.
 */

/** STATUSES are the OCI container statuses, in lifecycle order, plus runc's `paused`. */
export const STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;

/** Status is a container's OCI status. */
export type Status = (typeof STATUSES)[number];

/** State is the OCI state of a container, exactly the spec's fields. */
export interface State {
  ociVersion: string;
  id: string;
  status: Status;
  /** pid is the container process as seen by the host; required while created or running. */
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/**
 * StateOutput is what `tvisor state` prints: the OCI state plus the fields runc prints and
 * go-runc parses (`rootfs`, `created`, `owner`). A stopped container shows pid 0, as runc.
 */
export interface StateOutput {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}
