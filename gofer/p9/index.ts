/** The 9P2000.L protocol library: message table, codec, framing, directory entries. */
export * from './messages';
export * from './wire';
export * from './codec';
export * from './frame';
export * from './dirent';
