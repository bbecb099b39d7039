/**
 * The handler contract: `(session, request) => reply | -errno`. A handler never throws
 * for anything a client sends; a negative number becomes Rlerror with that errno.
 */
import type { Body, Message, MsgName, RequestName } from '../../p9';
import type { Session } from '../session';

/** Reply is an R-message without its tag (the connection adds it). */
export type Reply = { kind: MsgName } & Record<string, unknown>;

/** Handler implements one T-message. */
export type Handler<N extends RequestName> = (s: Session, m: Message<N>) => Reply | number;

/** HandlerTable maps each request name to its handler. */
export type HandlerTable = { [N in RequestName]?: Handler<N> };

/** reply builds a typed reply body. */
export function reply<N extends MsgName>(kind: N, body: Body<N>): Reply {
  return { kind, ...body } as Reply;
}

/** isErr narrows a `value | -errno` result to its errno case. */
export function isErr(v: unknown): v is number {
  return typeof v === 'number' && v < 0;
}
