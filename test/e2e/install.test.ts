/**
 * Installable: the npm package as a user gets it, and the deployments built on it.
 *
 * - scripts/install-and-start.sh (the whole of what the Dockerfile runs) packs a copy of this
 *   checkout, installs the tarball into an empty prefix with production dependencies only, and
 *   starts `freeway serve` from it on Node 24; a request reaches an emulator through it. Node
 *   refuses to strip TypeScript under node_modules, so a start proves it runs built JavaScript.
 * - The systemd unit passes `systemd-analyze verify` and its ExecStart serves; compose.yaml's
 *   replicas (the installed package on PostgreSQL + Redis, with compose's environment) serve one
 *   database, and its health check command passes against them.
 * - A checkout: `npm ci --omit=dev && npm start` serves on the Node 24 on PATH, and names the fix
 *   when the Node on PATH is older.
 *
 * npm installs with --prefer-offline: from the local cache, asking the registry only for what the
 * cache lacks.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import type { OpenAIEmulator } from '../emulators/openai.ts';
import { dropPgSchema, needs, pgSchemaUrl, REDIS_URL } from '../helpers/services.ts';
import { startCommand, userEnv } from '../helpers/started-command.ts';
import type { StartedCommand } from '../helpers/started-command.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'install-and-start.sh');
const NPM = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** What a fresh clone of this branch would hold: tracked and new files, nothing ignored (no node_modules, dist, data). */
function copyCheckout(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
  for (const f of files.filter(Boolean)) {
    if (!existsSync(join(ROOT, f))) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(ROOT, f), join(to, f));
  }
}

function run(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }): string {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function chat(server: StartedCommand, key: string, content: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content;
}

let emu: OpenAIEmulator;
const servers: StartedCommand[] = [];
async function serve(command: string, args: string[], opts: { cwd: string; env: Record<string, string>; expectKey?: boolean }) {
  const s = await startCommand(command, args, opts);
  servers.push(s);
  return s;
}

before(async () => {
  emu = await startOpenAIEmulator();
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await emu.close();
});

describe('the packed npm package, through scripts/install-and-start.sh', () => {
  const dir = tempDir('freeway-install-');
  const prefix = join(dir, 'prefix');
  let tarball = '';
  const providerEnv = () => ({ OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1` });

  test('pack: a tarball of built JavaScript, the LICENSE and the README; no sources, tests or bench', () => {
    const checkout = join(dir, 'checkout');
    copyCheckout(checkout);
    // The pack step's build needs no dependency; the repository's are linked, as a developer has them.
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    tarball = run('sh', [SCRIPT, 'pack', checkout, join(dir, 'pack')], { cwd: dir, env: userEnv(NPM) })
      .trim()
      .split('\n')
      .at(-1)!;
    assert.match(tarball, /freeway-\d+\.\d+\.\d+\.tgz$/);
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    assert.ok(files.includes('LICENSE') && files.includes('README.md') && files.includes('bin/freeway.js'), files.join('\n'));
    assert.ok(files.includes('dist/src/cli/main.js') && files.includes('dist/src/catalog/generated/genai-prices.json'));
    const stray = files.filter((f) => /^(src|test|bench|scripts)\//.test(f) || /\.ts$/.test(f));
    assert.deepEqual(stray, []);
    const license = execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' });
    const pkg = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as { license: string };
    assert.equal(pkg.license, 'MIT');
    assert.match(license, /^MIT License\n/);
  });

  test('install into an empty prefix (production dependencies only), start on Node 24, serve a request', async () => {
    assert.ok(tarball, 'the pack step ran');
    run('sh', [SCRIPT, 'install', tarball], { cwd: dir, env: userEnv({ ...NPM, FREEWAY_PREFIX: prefix }) });
    const pkgDir = join(prefix, 'lib', 'node_modules', 'freeway');
    const deps = readdirSync(join(pkgDir, 'node_modules'));
    assert.ok(deps.includes('pg') && deps.includes('zod'), deps.join(' '));
    const dev = deps.filter((d) => ['typescript', 'node', 'openai'].includes(d));
    assert.deepEqual(dev, [], `dev dependencies installed: ${deps.join(' ')}`);

    const home = join(dir, 'home');
    mkdirSync(home);
    const env = userEnv({ FREEWAY_PREFIX: prefix, FREEWAY_HOST: '127.0.0.1', PORT: '0', ...providerEnv() });
    const server = await serve('sh', [SCRIPT, 'start'], { cwd: home, env, expectKey: true });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(await chat(server, server.key!, 'from the package'), /from the package/);
    // The script exec'd the installed command (no shell left between a container's signals and node).
    const cmdline = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      cmdline.some((a) => a === join(prefix, 'bin', 'freeway')),
      cmdline.join(' '),
    );
    assert.ok(existsSync(join(home, 'data', 'freeway.db')), 'the SQLite database is in ./data of the working directory');
    await server.stop();
  });

  test('the systemd unit verifies, and its ExecStart serves from the installed prefix', async (t) => {
    assert.ok(existsSync(join(prefix, 'bin', 'freeway')), 'the install step ran');
    const unit = readFileSync(join(ROOT, 'deploy', 'freeway.service'), 'utf8');
    const etc = join(dir, 'etc');
    mkdirSync(etc);
    writeFileSync(join(etc, 'freeway.yaml'), ''); // the unit's documented minimum: an empty config
    const local = unit.replaceAll('/usr/local', prefix).replaceAll('/etc/freeway', etc);
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', writeUnit(dir, local)], { encoding: 'utf8', env: userEnv({}) });
    if (verify.error) t.diagnostic(`systemd-analyze is not installed: the unit's syntax is not verified (${verify.error.message})`);
    else assert.equal(verify.status, 0, `${verify.stdout}${verify.stderr}`);

    const exec = /^ExecStart=(.+)$/m.exec(local)?.[1].split(/\s+/);
    assert.ok(exec, 'the unit has an ExecStart');
    const state = join(dir, 'state');
    mkdirSync(state);
    const server = await serve(exec[0], [...exec.slice(1), '--port', '0'], { cwd: state, env: userEnv(providerEnv()), expectKey: true });
    assert.match(server.output(), new RegExp(`Config: ${etc}/freeway.yaml`));
    assert.match(await chat(server, server.key!, 'from systemd'), /from systemd/);
    await server.stop();
  });

  test("compose.yaml's replicas: the installed package twice on PostgreSQL + Redis with compose's environment", async (t) => {
    const skip = await needs('postgres', 'redis');
    if (skip) return t.skip(skip);
    const compose = parseYaml(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as ComposeFile;
    const replica = compose.services.freeway;
    assert.equal(replica.build, '.', 'the replicas are the Dockerfile image');
    assert.ok(compose.services.postgres && compose.services.redis && compose.services.balancer);
    assert.ok((replica.deploy?.replicas ?? 1) >= 2);
    const { url: pgUrl, schema } = pgSchemaUrl('freeway_install');
    t.after(() => dropPgSchema(schema));
    // Compose's values, with its service names pointed at this machine's services.
    const env: Record<string, string> = {
      ...composeEnv(replica.environment, { POSTGRES_PASSWORD: 'x', FREEWAY_ADMIN_KEY: 'install-test-admin-key' }),
      DATABASE_URL: pgUrl,
      REDIS_URL,
      ...providerEnv(),
      FREEWAY_LOG: 'warn',
    };
    const asComposed = composeEnv(replica.environment, { POSTGRES_PASSWORD: 'x', FREEWAY_ADMIN_KEY: 'k' });
    assert.match(asComposed.DATABASE_URL, /^postgres:\/\/freeway:x@postgres:5432\/freeway$/);
    const replicas = await Promise.all(
      ['a', 'b'].map((name) => {
        const cwd = join(dir, `replica-${name}`);
        mkdirSync(cwd);
        const replicaEnv = userEnv({ ...env, FREEWAY_PREFIX: prefix, FREEWAY_HOST: '127.0.0.1', PORT: '0' });
        return serve('sh', [SCRIPT, 'start'], { cwd, env: replicaEnv });
      }),
    );
    // No replica prints a first key when FREEWAY_ADMIN_KEY is set: keys are made through either one.
    for (const r of replicas) assert.doesNotMatch(r.output(), /sk-fw-v1-/);
    const made = await fetch(`${replicas[0].url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.FREEWAY_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'compose' }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    const { key } = (await made.json()) as { key: string };
    assert.match(await chat(replicas[1], key, 'replica b'), /replica b/);
    // The replicas' health check, as compose runs it inside each container.
    const check = replica.healthcheck.test;
    assert.equal(check[0], 'CMD');
    for (const r of replicas) {
      const argv = check.slice(1).map((a) => a.replace('http://127.0.0.1:8080', r.url));
      run(argv[0], argv.slice(1), { cwd: dir, env: userEnv({}) });
    }
    await Promise.all(replicas.map((r) => r.stop()));
    const argvAfter = check.slice(2).map((a) => a.replace('http://127.0.0.1:8080', replicas[0].url));
    const healthAfter = spawnSync(check[1], argvAfter, { env: userEnv({}) });
    assert.notEqual(healthAfter.status, 0, 'the health check fails once the replica is gone');
  });

  test('the Dockerfile only wraps the script the tests above ran', () => {
    const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const runs = lines.filter((l) => /^(RUN|CMD|ENTRYPOINT)\b/.test(l)).join('\n');
    assert.match(runs, /^RUN sh \/src\/scripts\/install-and-start\.sh pack \/src \/pack$/m);
    assert.match(runs, /^RUN freeway-install-and-start install \/tmp\/pack\/freeway-\*\.tgz /m);
    assert.match(runs, /^CMD \["freeway-install-and-start", "start"\]$/m);
    assert.ok(lines.some((l) => l === 'COPY scripts/install-and-start.sh /usr/local/bin/freeway-install-and-start'));
    assert.ok(
      lines.filter((l) => l.startsWith('FROM ')).every((l) => /^FROM node:24[-\w.]* ?/.test(l)),
      'Node 24 base images',
    );
  });
});

test('a checkout: npm ci --omit=dev && npm start serves on the Node 24 on PATH', async () => {
  const checkout = tempDir('freeway-checkout-');
  copyCheckout(checkout);
  run('npm', ['ci', '--omit=dev'], { cwd: checkout, env: userEnv(NPM) });
  const installed = readdirSync(join(checkout, 'node_modules'));
  assert.ok(!installed.includes('node') && !installed.includes('typescript'), 'no dev dependency');
  const env = userEnv({ OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1` });
  const server = await serve('npm', ['start', '--', '--port', '0'], { cwd: checkout, env, expectKey: true });
  assert.match(await chat(server, server.key!, 'from a checkout'), /from a checkout/);
  assert.ok(existsSync(join(checkout, 'dist', 'src', 'cli', 'main.js')), 'npm start built dist/ and runs it');
  await server.stop();

  // With an older Node first on PATH, and no bundled Node 24, it says what to do instead of failing obscurely.
  const major = (node: string) => Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }));
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && major(p) < 24);
  if (old) {
    const path = [dirname(old), ...env.PATH.split(':').filter((p) => p !== dirname(process.execPath))].join(':');
    const r = spawnSync('npm', ['start', '--', '--port', '0'], {
      cwd: checkout,
      env: { ...env, PATH: path },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /freeway needs Node\.js 24 or newer \(this is v\d+/);
  }
});

interface ComposeFile {
  services: Record<string, ComposeService> & { freeway: ComposeService };
}
interface ComposeService {
  build?: string;
  deploy?: { replicas?: number };
  environment: Record<string, string>;
  healthcheck: { test: string[] };
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, as compose substitutes them from `vars`. */
function composeEnv(environment: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(environment)) {
    out[k] = String(v).replace(/\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
      if (vars[name]) return vars[name];
      if (op === '?') throw new Error(`compose would refuse to start: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    });
  }
  return out;
}

function writeUnit(dir: string, text: string): string {
  const p = join(dir, 'freeway.service');
  writeFileSync(p, text);
  return p;
}
