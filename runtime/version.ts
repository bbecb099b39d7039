/**
 * version.ts names tvisor's version (package.json) and the runtime-spec version it
 * implements, printed by `tvisor --version` in runc's layout.
 */
import pkg from '../package.json';
import { OCI_VERSION } from '../oci/config';

/** VERSION is tvisor's release version. */
export const VERSION: string = pkg.version;

/** versionText returns what `tvisor --version` prints. */
export function versionText(): string {
  return `tvisor version ${VERSION}\nspec: ${OCI_VERSION}\nnode: ${process.version}\n`;
}
