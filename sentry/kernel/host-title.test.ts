import { showForkedTitle } from './host-title';
import type { Task } from './task';

/** fakeChild is a forked task as showForkedTitle sees it: its address space records the titles set. */
function fakeChild(): { t: Task; titles: string[] } {
  const titles: string[] = [];
  const args = Buffer.from('prog\0arg\0');
  const mm = {
    argStart: 0x1000,
    argEnd: 0x1000 + args.length,
    read: () => args,
    as: { setTitle: (comm: string, a: Buffer) => titles.push(`${comm} ${a.toString('latin1')}`) },
  };
  const t = { name: 'prog', state: 'runnable', mm, tg: { leader: null }, kernel: { log: { warnOnce: () => {} } } };
  (t.tg as { leader: unknown }).leader = t;
  return { t: t as unknown as Task, titles };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('showForkedTitle', () => {
  test('sets the parent\'s title on the child\'s host process at the next turn, not in fork', async () => {
    const { t, titles } = fakeChild();
    showForkedTitle(t);
    expect(titles).toEqual([]);
    await nextTurn();
    expect(titles).toEqual(['prog prog\0arg\0']);
  });

  test('sets none for a child that exited or exec\'d before that turn', async () => {
    const exited = fakeChild(), execd = fakeChild();
    showForkedTitle(exited.t);
    showForkedTitle(execd.t);
    exited.t.state = 'exited';
    (execd.t as { mm: unknown }).mm = { ...execd.t.mm };
    await nextTurn();
    expect(exited.titles).toEqual([]);
    expect(execd.titles).toEqual([]);
  });
});
