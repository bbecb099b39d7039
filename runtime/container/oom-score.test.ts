import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nullLogger } from '../log';
import { defaultSpec } from '../../oci/default-spec';
import { createContainer } from './container-create';
import { withOomScoreAdj } from './oom-score';
import { StateStore } from './store';
import { FakeSandbox } from './testing/fake-sandbox';

const own = () => fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
const isRoot = process.getuid?.() === 0;

test('the sandbox process inherits process.oomScoreAdj and the creating process gets its own score back', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-oom-'));
  const sandbox = new FakeSandbox();
  try {
    const bundle = path.join(tmp, 'bundle');
    fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.oomScoreAdj = 321;
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    const before = own();
    const c = await createContainer({ store: new StateStore(path.join(tmp, 'root')), sandbox, log: nullLogger }, { id: 'o1', bundle });
    expect(fs.readFileSync(`/proc/${c.record.pid}/oom_score_adj`, 'utf8').trim()).toBe('321');
    // Lowering a score back needs CAP_SYS_RESOURCE.
    if (isRoot) expect(own()).toBe(before);
  } finally {
    sandbox.killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('no oomScoreAdj leaves the score alone', async () => {
  const before = own();
  expect(await withOomScoreAdj(undefined, async () => own())).toBe(before);
});
