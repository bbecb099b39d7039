import type { Spec } from '../../oci/config';
import { podByNamespacePath, podSandboxId, validateMemberNamespaces } from './pod';
import type { ContainerRecord, StateStore } from './store';

const spec = (annotations: Record<string, string>, namespaces: { type: string; path?: string }[] = []): Spec =>
  ({ ociVersion: '1.0.2', annotations, linux: { namespaces } } as unknown as Spec);

describe('podSandboxId', () => {
  test('CRI\'s and CRI-O\'s annotations name the pod sandbox a container joins', () => {
    expect(podSandboxId(spec({ 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.sandbox-id': 'p1' }))).toBe('p1');
    expect(podSandboxId(spec({ 'io.kubernetes.cri-o.ContainerType': 'container', 'io.kubernetes.cri-o.SandboxID': 'p2' }))).toBe('p2');
  });

  test('a sandbox container, or one without annotations, has a sandbox of its own', () => {
    expect(podSandboxId(spec({ 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': 'p1' }))).toBeUndefined();
    expect(podSandboxId(spec({ 'io.kubernetes.cri-o.ContainerType': 'sandbox' }))).toBeUndefined();
    expect(podSandboxId(spec({}))).toBeUndefined();
  });

  test('a container without a sandbox id is refused in one line', () => {
    expect(() => podSandboxId(spec({ 'io.kubernetes.cri.container-type': 'container' })))
      .toThrow('config.json: annotation io.kubernetes.cri.container-type is "container" but no io.kubernetes.cri.sandbox-id names its sandbox');
  });
});

describe('validateMemberNamespaces', () => {
  const pod = { id: 'p1', pid: 4242, stateDir: '/run/tvisor/p1' };

  test('the pod sandbox\'s namespaces, and any network namespace, are accepted', () => {
    expect(() => validateMemberNamespaces(spec({}, [
      { type: 'network', path: '/var/run/netns/cni-1' }, { type: 'ipc', path: '/proc/4242/ns/ipc' }, { type: 'pid', path: '/proc/4242/ns/pid' }, { type: 'mount' },
    ]), pod)).not.toThrow();
  });

  test('another process\'s namespace is refused, naming it', () => {
    expect(() => validateMemberNamespaces(spec({}, [{ type: 'uts', path: '/proc/1/ns/uts' }]), pod))
      .toThrow('config.json: linux.namespaces[0]: cannot join the uts namespace at /proc/1/ns/uts: a container of pod "p1" joins only its sandbox\'s (/proc/4242/ns/...)');
  });
});

describe('podByNamespacePath', () => {
  const records: Record<string, Partial<ContainerRecord>> = {
    x: { id: 'x', pid: 100 },
    member: { id: 'member', pid: 200, sandbox: { pod: 'x' } },
  };
  const store = { list: () => Object.keys(records), read: (id: string) => records[id] } as unknown as StateStore;

  test('a namespace path of a tvisor container\'s sandbox process names that container (Docker\'s container:X)', () => {
    expect(podByNamespacePath(store, spec({}, [{ type: 'network', path: '/proc/100/ns/net' }]))).toBe('x');
    expect(podByNamespacePath(store, spec({}, [{ type: 'pid', path: '/proc/100/ns/pid' }]))).toBe('x');
  });

  test('a pod\'s container\'s pid (its waiter) names its pod\'s sandbox container', () => {
    expect(podByNamespacePath(store, spec({}, [{ type: 'network', path: '/proc/200/ns/net' }]))).toBe('x');
  });

  test('another process, or no path, names none', () => {
    expect(podByNamespacePath(store, spec({}, [{ type: 'network', path: '/proc/300/ns/net' }]))).toBeUndefined();
    expect(podByNamespacePath(store, spec({}, [{ type: 'network', path: '/run/netns/n1' }, { type: 'pid' }]))).toBeUndefined();
  });
});
