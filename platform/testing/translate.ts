/**
 * translate gives the platform tests a way into application memory. The platform contract
 * has no translate (the sentry's memory manager translates from its own VMAs and chunks:
 * sentry/mm), so the tests translate through what the backend says it mapped.
 */
import { MappingTable, type Mapping } from '../memfile/mappings';
import type { Translator } from '../memfile/copy';

/** Listing is an address space that lists its mappings: every backend's (ptrace, systrap, kvm) does. */
export interface Listing {
  mappings(): Mapping[];
}

/**
 * translatorOf returns a Translator over what `as` maps at the time of each call (a table
 * made from its mappings(): the tests' copies are few), for copyIn and copyOut.
 */
export function translatorOf(as: Listing): Translator {
  return {
    translate(addr, length, want) {
      const table = new MappingTable();
      for (const m of as.mappings()) table.map(m.start, { offset: m.offset, length: m.end - m.start }, m.prot);
      return table.translateOrFault(addr, length, want);
    },
  };
}
