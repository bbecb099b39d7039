/**
 * The gofer's id mappings: IdMap and its helpers live in oci/idmap.ts, a leaf module the
 * sentry also reads (set*id and chown refuse ids the mappings do not cover).
 */
export { IdMap, IDENTITY_MAPS, OVERFLOW_ID, type IdMaps, type IdRange } from '../../oci/idmap';
