/**
 * errors.ts holds the typed errors of container operations. Their messages are part of
 * tvisor's interface: containerd matches `does not exist` and `container not running` in
 * them (its runc shim maps those to "not found"), so keep those words.
 */

/** ContainerError is a failed container operation; `cause` chains the underlying error. */
export class ContainerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainerError';
  }
}

/** NotExistError is an operation on an id that has no container under --root. */
export class NotExistError extends ContainerError {
  constructor(readonly id: string) {
    super(`container "${id}" does not exist`);
    this.name = 'NotExistError';
  }
}

/** ExistsError is a create with an id already in use under --root. */
export class ExistsError extends ContainerError {
  constructor(readonly id: string) {
    super(`container "${id}" already exists`);
    this.name = 'ExistsError';
  }
}

/** InvalidIDError is a container id that runc would refuse. */
export class InvalidIDError extends ContainerError {
  constructor(readonly id: string, reason: string) {
    super(`invalid container id "${id}": ${reason}`);
    this.name = 'InvalidIDError';
  }
}

/** StatusError is an operation that the container's current status does not allow. */
export class StatusError extends ContainerError {
  constructor(message: string, readonly status: string) {
    super(message);
    this.name = 'StatusError';
  }
}
