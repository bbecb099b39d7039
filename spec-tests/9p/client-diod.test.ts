/**
 * tvisor's 9P client against Debian's diod over TCP loopback: the operation suite,
 * every result checked against the host file system.
 */
import { diodMissing, startDiod } from './peers';
import { operationSuite } from './suite';

operationSuite('9p client against diod', diodMissing(), startDiod);
