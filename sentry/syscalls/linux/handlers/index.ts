/** Loads every handler module (each registers its syscalls in the registry). */
import './rw';
import './open';
import './stat';
import './dir';
import './attr';
import './fd';
import './poll';
import './mm';
import './time';
import './misc';
import './process';
import './creds';
import './signal';
import './exec';
import './socket';
import './epoll';
import './xattr';
