/**
 * /proc/vmstat: the virtual-memory counters by name, one per line, which procps' vmstat(8)
 * needs to start at all ("Unable to create vmstat structure" without it). The page counts
 * are /proc/meminfo's figures in pages (free, and the sandbox's used memory as active
 * anonymous pages, as meminfo's Active); the sandbox has no swap, no page writeback and no
 * block devices, so their counters are 0, as is every event counter the sentry does not
 * count (faults, reclaim, compaction).
 */
import type { Kernel } from '../../kernel/kernel';
import { memoryKb } from './system-files';

/** ZERO_COUNTERS are the counters Linux prints that are 0 in the sandbox, in Linux's order
 * after the page counts. */
const ZERO_COUNTERS = ['nr_zone_inactive_file', 'nr_zone_active_file', 'nr_zone_unevictable', 'nr_zone_write_pending',
  'nr_mlock', 'nr_bounce', 'nr_free_cma', 'nr_inactive_file', 'nr_active_file', 'nr_unevictable', 'nr_slab_reclaimable',
  'nr_slab_unreclaimable', 'nr_isolated_anon', 'nr_isolated_file', 'nr_file_pages', 'nr_dirty', 'nr_writeback',
  'nr_writeback_temp', 'nr_shmem', 'nr_shmem_hugepages', 'nr_shmem_pmdmapped', 'nr_file_hugepages', 'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages', 'nr_vmscan_write', 'nr_vmscan_immediate_reclaim', 'nr_dirtied', 'nr_written',
  'nr_kernel_stack', 'nr_page_table_pages', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout', 'pgalloc_dma', 'pgalloc_dma32',
  'pgalloc_normal', 'pgalloc_movable', 'pgfree', 'pgactivate', 'pgdeactivate', 'pgfault', 'pgmajfault', 'pgrefill',
  'pgsteal_kswapd', 'pgsteal_direct', 'pgscan_kswapd', 'pgscan_direct', 'oom_kill', 'pgrotated', 'compact_stall',
  'compact_fail', 'compact_success', 'unevictable_pgs_culled', 'unevictable_pgs_mlocked'];

/** vmstatText is /proc/vmstat's text (see the module comment). */
export function vmstatText(k: Kernel): string {
  const { used, free } = memoryKb(k);
  const pages = (kb: number) => Math.floor(kb / 4);
  const lines: Array<[string, number]> = [
    ['nr_free_pages', pages(free)], ['nr_zone_inactive_anon', 0], ['nr_zone_active_anon', pages(used)],
    ...ZERO_COUNTERS.slice(0, 7).map((n): [string, number] => [n, 0]),
    ['nr_inactive_anon', 0], ['nr_active_anon', pages(used)],
    ...ZERO_COUNTERS.slice(7, 12).map((n): [string, number] => [n, 0]),
    ['nr_anon_pages', pages(used)], ['nr_mapped', 0],
    ...ZERO_COUNTERS.slice(12).map((n): [string, number] => [n, 0]),
  ];
  return lines.map(([n, v]) => `${n} ${v}\n`).join('');
}
