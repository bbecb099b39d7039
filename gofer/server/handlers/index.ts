/**
 * HANDLERS is the gofer's dispatch table: every 9P2000.L request name -> its handler.
 * A request without an entry answers ENOSYS.
 */
import { ioHandlers } from './io';
import { mutateHandlers } from './mutate';
import { notifyHandlers } from './notify';
import { sessionHandlers } from './session';
import type { HandlerTable } from './types';
import { walkHandlers } from './walk';
import { xattrHandlers } from './xattr';

export const HANDLERS: HandlerTable = { ...sessionHandlers, ...walkHandlers, ...ioHandlers, ...mutateHandlers, ...xattrHandlers, ...notifyHandlers };
export type { Handler, HandlerTable, Reply } from './types';
