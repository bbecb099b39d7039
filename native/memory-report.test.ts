import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { MEMORY_REPORT_ENV, memoryReport, memoryReportEnv } from './memory-report';

describe('memory report (make profile-memory\'s debug switch)', () => {
  test('memoryReport gives the heap totals and every V8 heap space, in kB', () => {
    const r = memoryReport();
    expect(r.node.used).toBeGreaterThan(0);
    expect(r.node.committed).toBeGreaterThanOrEqual(r.node.used);
    expect(Object.keys(r.spaces)).toEqual(expect.arrayContaining(['new_space', 'old_space', 'code_space', 'large_object_space']));
    expect(r.code).toBeGreaterThan(0);
  });

  test('the switch is handed on only when it is set', () => {
    const saved = process.env[MEMORY_REPORT_ENV];
    try {
      delete process.env[MEMORY_REPORT_ENV];
      expect(memoryReportEnv()).toEqual({});
      process.env[MEMORY_REPORT_ENV] = '1';
      expect(memoryReportEnv()).toEqual({ [MEMORY_REPORT_ENV]: '1' });
    } finally {
      if (saved === undefined) delete process.env[MEMORY_REPORT_ENV];
      else process.env[MEMORY_REPORT_ENV] = saved;
    }
  });

  // A process with the switch on writes `memory:{json}` through its profile mark; without it, nothing.
  test('startMemoryReport marks the profile only with the switch on', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-report-'));
    try {
      fs.writeFileSync(path.join(dir, 'probe.ts'), [
        `import { startMemoryReport } from ${JSON.stringify(path.join(__dirname, 'memory-report'))};`,
        `const marks: string[] = [];`,
        `(globalThis as any)[Symbol.for('tvisor.profile')] = (s: string) => marks.push(s);`,
        `startMemoryReport();`,
        `process.stdout.write(JSON.stringify(marks));`,
      ].join('\n'));
      buildSync({ entryPoints: [path.join(dir, 'probe.ts')], outfile: path.join(dir, 'probe.js'), bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
      const run = (env: NodeJS.ProcessEnv) => JSON.parse(spawnSync(process.execPath, [path.join(dir, 'probe.js')], { env, encoding: 'utf8' }).stdout) as string[];
      const on = run({ PATH: process.env.PATH, [MEMORY_REPORT_ENV]: '1' });
      expect(on).toHaveLength(1);
      expect(on[0]).toMatch(/^memory:\{/);
      expect(JSON.parse(on[0].slice('memory:'.length)).spaces.old_space).toBeGreaterThan(0);
      expect(run({ PATH: process.env.PATH })).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
