/**
 * oci-image.ts writes the CRI tests' images as OCI image-layout tarballs (image-spec
 * image-layout.md: `oci-layout`, `index.json`, `blobs/sha256/<digest>`) that
 * `ctr images import` loads: no registry is reachable, so every image is made here from
 * local files. Each image has one uncompressed layer, a config naming its entrypoint,
 * and a manifest; index.json names it with containerd's `io.containerd.image.name`
 * annotation (the full reference the CRI sees) and the OCI `ref.name` (its tag).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tar from 'tar-stream';

/** LayerFile is one entry of an image's layer: a directory, a file or a symlink. */
export type LayerFile =
  | { type: 'directory'; name: string; mode?: number }
  | { type: 'file'; name: string; data: Buffer | string; mode?: number }
  | { type: 'symlink'; name: string; target: string };

/** ImageSpec is an image to write: its full reference, layer and process defaults. */
export interface ImageSpec {
  /** ref is the full, normalized reference (`docker.io/library/name:tag`). */
  ref: string;
  /** layer is the image's files (root-owned). */
  layer: LayerFile[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
}

/** packTar packs entries into an in-memory tar. */
function packTar(entries: { header: Parameters<tar.Pack['entry']>[0]; data?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const e of entries) {
    if (e.data) pack.entry(e.header, e.data);
    else pack.entry(e.header);
  }
  pack.finalize();
  return done;
}

/** sha256 returns `sha256:<hex>` of `data`. */
function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** layerTar packs an image's files as an uncompressed layer. */
function layerTar(files: LayerFile[]): Promise<Buffer> {
  return packTar(files.map((f) => {
    const base = { name: f.name, uid: 0, gid: 0, mtime: new Date(0) };
    switch (f.type) {
      case 'directory': return { header: { ...base, type: 'directory', mode: f.mode ?? 0o755 } };
      case 'symlink': return { header: { ...base, type: 'symlink', linkname: f.target, mode: 0o777 } };
      case 'file': return { header: { ...base, type: 'file', mode: f.mode ?? 0o644 }, data: Buffer.from(f.data) };
    }
  }));
}

/**
 * writeOciImage writes `image` as an OCI image-layout tarball at `file` (for
 * `ctr -n k8s.io images import`).
 */
export async function writeOciImage(file: string, image: ImageSpec): Promise<void> {
  const layer = await layerTar(image.layer);
  const layerDigest = sha256(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: image.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: image.entrypoint ?? null,
      Cmd: image.cmd ?? null,
      WorkingDir: '/',
    },
    // An uncompressed layer's diff id is its own digest.
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  }));
  const tag = image.ref.slice(image.ref.lastIndexOf(':') + 1);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length,
      annotations: { 'io.containerd.image.name': image.ref, 'org.opencontainers.image.ref.name': tag },
    }],
  }));
  const blob = (data: Buffer) => ({ header: { name: `blobs/sha256/${sha256(data).slice(7)}`, mode: 0o644, mtime: new Date(0) }, data });
  const dir = (name: string) => ({ header: { name, type: 'directory' as const, mode: 0o755, mtime: new Date(0) } });
  const out = await packTar([
    { header: { name: 'oci-layout', mode: 0o644, mtime: new Date(0) }, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    dir('blobs'), dir('blobs/sha256'),
    blob(layer), blob(config), blob(manifest),
    { header: { name: 'index.json', mode: 0o644, mtime: new Date(0) }, data: index },
  ]);
  fs.writeFileSync(file, out);
}

/** BASE_DIRS are the directories every test image has (mount points and a sticky /tmp). */
const BASE_DIRS: LayerFile[] = ['bin', 'dev', 'etc', 'proc', 'sys', 'root', 'var'].map((name) => ({ type: 'directory' as const, name }));

/**
 * busyboxLayer is a layer of Debian's static busybox with a symlink per applet, the base
 * directories, a sticky /tmp, and /etc/passwd and /etc/group naming root.
 */
export function busyboxLayer(busybox: string, applets: string[]): LayerFile[] {
  return [
    ...BASE_DIRS,
    { type: 'directory', name: 'tmp', mode: 0o1777 },
    { type: 'file', name: 'bin/busybox', data: fs.readFileSync(busybox), mode: 0o755 },
    ...applets.filter((a) => a !== 'busybox').map((a): LayerFile => ({ type: 'symlink', name: `bin/${a}`, target: 'busybox' })),
    { type: 'file', name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
    { type: 'file', name: 'etc/group', data: 'root:x:0:\n' },
  ];
}

/** pauseLayer is a layer holding only the pause program (as /pause) and the base directories. */
export function pauseLayer(pause: string): LayerFile[] {
  return [...BASE_DIRS, { type: 'file', name: 'pause', data: fs.readFileSync(pause), mode: 0o755 }];
}
