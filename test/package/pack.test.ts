/**
 * The package as a user gets it: `npm pack`, the tarball installed into an
 * empty directory, `ksmctl` run from there, the API imported by TypeScript
 * files (docs/api.md's examples) that must type-check against the shipped
 * declarations and then run, and every shipped source map resolving to a
 * shipped source.
 *
 * The install is offline: the dependencies come from the npm cache, which
 * `npm ci` (CI's first step, and a clone's) has filled with the very
 * tarballs of package-lock.json. So the empty directory gets a lockfile made
 * of the repository's own entries for the runtime dependencies plus the
 * packed tarball, and `npm ci --offline` installs exactly that.
 */
import test from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROOT } from '../helpers/golden.js';

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
};

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false', NO_COLOR: '1' } });
}

const said = (r: SpawnSyncReturns<string>) => `exit ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}\n${r.stderr}`.slice(-3000);

/** The ```ts blocks of docs/api.md. */
function apiExamples(): string[] {
  const md = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  return [...md.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** Every .js.map under dir whose sources do not exist. */
function unresolvedMaps(dir: string): string[] {
  const bad: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js.map')) {
        const map = JSON.parse(readFileSync(p, 'utf8')) as { sources: string[]; sourceRoot?: string };
        for (const s of map.sources) if (!existsSync(resolve(dirname(p), map.sourceRoot ?? '', s))) bad.push(`${p}: ${s}`);
      }
    }
  };
  walk(dir);
  return bad;
}

test('the packed tarball installs offline, runs ksmctl, and its API type-checks and runs', (t) => {
  t.timeout(300_000);
  const tmp = mkdtempSync(join(tmpdir(), 'ksm-pack-'));
  try {
    // npm pack: what `npm publish` would upload.
    const packed = run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT);
    t.is(packed.status, 0, said(packed));
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const tgz = join(tmp, info[0].filename);
    const shipped = new Set(info[0].files.map((f) => f.path));
    for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/ksmctl.js', 'src/index.ts', 'docs/workload-format.md', 'schema/workload.schema.json', 'README.md'])
      t.true(shipped.has(f), `${f} is not in the package`);
    t.false([...shipped].some((f) => f.startsWith('test/') || f.startsWith('docs/api/')), 'tests or the generated reference are in the package');

    // An empty directory: the tarball and the runtime dependencies, from the npm cache only.
    const app = join(tmp, 'app');
    mkdirSync(app);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const runtime = Object.fromEntries(Object.entries(lock.packages).filter(([k, v]) => k !== '' && !v.dev && !v.devOptional));
    const deps = { [pkg.name]: `file:${tgz}` };
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: deps }));
    writeFileSync(
      join(app, 'package-lock.json'),
      JSON.stringify({
        name: 'app',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'app', dependencies: deps },
          [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: `file:${tgz}`, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
          ...runtime,
        },
      }),
    );
    const installed = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
    t.is(installed.status, 0, `${said(installed)}\n(ENOTCACHED: the npm cache lacks a dependency; \`npm ci\` in the repository fills it)`);
    if (installed.status !== 0) return;

    // The command, as a user of the package runs it.
    const version = run('npx', ['ksmctl', '--version'], app);
    t.is(version.status, 0, said(version));
    t.is(version.stdout.trim(), pkg.version);
    // The bin npm linked (what `npx ksmctl` found above, without npm's start-up).
    const workload = run(join(app, 'node_modules', '.bin', 'ksmctl'), ['workload', 'run', 'builtin:guests', '--era', 'v3:6.18'], app);
    t.is(workload.status, 0, said(workload));
    t.regex(workload.stdout, /^guests under v3:6\.18/);

    // The API: docs/api.md's examples type-check against the shipped declarations, then run.
    const examples = apiExamples();
    t.true(examples.length >= 2, 'docs/api.md has no ts examples');
    examples.forEach((code, i) => writeFileSync(join(app, `api-${i}.mts`), code));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'out',
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          types: ['node'],
          skipLibCheck: false,
        },
        include: ['*.mts'],
      }),
    );
    const tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);
    t.is(tsc.status, 0, said(tsc));
    // Run from the package's directory, where the examples' relative paths (examples/workloads/...) are.
    const home = join(app, 'node_modules', pkg.name);
    for (let i = 0; i < examples.length; i++) {
      const r = run(process.execPath, [join(app, 'out', `api-${i}.mjs`)], home);
      t.is(r.status, 0, `docs/api.md example ${i + 1}: ${said(r)}`);
    }

    // The schema, where editors and tools find it (a path, or the package's export).
    const schema = run(process.execPath, ['--input-type=module', '-e', "import s from 'ksm-compat/schema/workload.schema.json' with { type: 'json' }; console.log(s.title)"], app);
    t.is(schema.stdout.trim(), 'ksm-compat workload', said(schema));

    // Source maps point at sources that ship.
    t.deepEqual(unresolvedMaps(join(home, 'dist')), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
