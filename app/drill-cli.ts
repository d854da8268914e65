import { parseArgs } from 'node:util';
import type { Drill, ScenarioInfo } from '../simulators/drill/controller.js';
import { formatOffset } from '../simulators/scenarios/schema.js';

// `dutyroom drill …`: drills on a running gateway, through its HTTP API (the same routes the
// dashboard uses), so the CLI needs nothing but the gateway's address and a login. Every line
// a duty engineer reads comes in Chinese and English.

export const DRILL_USAGE = `usage:
  dutyroom drill list                 演练场景 the scenarios, with the alarms and playbooks each should trigger
  dutyroom drill start SCENARIO       开始演练 start one (role operator)
  dutyroom drill stop                 停止演练 stop the running drill and clear its faults (role operator)
  dutyroom drill status               当前演练与历史 the running drill (what was injected, what is expected) and past ones

options:
  --url URL                           the gateway (default $DUTYROOM_URL or http://127.0.0.1:$DUTYROOM_HTTP_PORT, port 8080)
  --token T                           an API token (default $DUTYROOM_TOKEN)
  --user U --password P               or a user's login (default $DUTYROOM_USER, $DUTYROOM_PASSWORD)
`;

export interface DrillCliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
}

const defaultIo: DrillCliIo = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  env: process.env,
  fetch: (...a) => fetch(...a),
};

class CliError extends Error {}

interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

type DrillSub = 'list' | 'start' | 'stop' | 'status';

interface DrillRequest {
  sub: DrillSub;
  scenario?: string;
  url: string;
  token?: string;
  login?: { user: string; password: string };
}

/** Runs `dutyroom drill <args>`; returns the exit code (0 done, 1 refused or unreachable, 2 usage). */
export async function drillCommand(args: string[], io: DrillCliIo = defaultIo): Promise<number> {
  const req = parseDrillArgs(args, io);
  if (typeof req === 'number') return req;
  try {
    const api = await connect(io, req.url, req.token, req.login);
    switch (req.sub) {
      case 'list':
        return await list(api, io);
      case 'start':
        return await start(api, io, req.scenario!);
      case 'stop':
        return await stop(api, io);
      default:
        return await status(api, io);
    }
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.err(err.message);
    return 1;
  }
}

/** The command line as a request, or the exit code when it asks for help or is wrong (said on stderr). */
function parseDrillArgs(args: string[], io: DrillCliIo): DrillRequest | number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${DRILL_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, scenario, ...extra] = positionals;
  if (values.help || sub === undefined) {
    (values.help ? io.out : io.err)(DRILL_USAGE);
    return values.help ? 0 : 2;
  }
  const needs = sub === 'start' ? 1 : 0;
  if (
    !['list', 'start', 'stop', 'status'].includes(sub) ||
    (needs === 1 && !scenario) ||
    extra.length > 0 ||
    (needs === 0 && scenario !== undefined)
  ) {
    io.err(
      `${sub === 'start' && !scenario ? '缺少场景名 name the scenario: dutyroom drill start SCENARIO (dutyroom drill list shows them)' : `unknown or incomplete command: drill ${positionals.join(' ')}`}\n\n${DRILL_USAGE}`,
    );
    return 2;
  }
  const url = (values.url ?? io.env.DUTYROOM_URL ?? `http://127.0.0.1:${io.env.DUTYROOM_HTTP_PORT ?? 8080}`).replace(
    /\/+$/,
    '',
  );
  const user = values.user ?? io.env.DUTYROOM_USER;
  const password = values.password ?? io.env.DUTYROOM_PASSWORD;
  if ((user === undefined) !== (password === undefined)) {
    io.err('--user 与 --password 需同时给出 give both --user and --password');
    return 2;
  }
  const token = values.token ?? io.env.DUTYROOM_TOKEN;
  return {
    sub: sub as DrillSub,
    ...(scenario !== undefined ? { scenario } : {}),
    url,
    ...(token !== undefined ? { token } : {}),
    ...(user !== undefined ? { login: { user, password: password! } } : {}),
  };
}

async function connect(
  io: DrillCliIo,
  url: string,
  token: string | undefined,
  login: { user: string; password: string } | undefined,
): Promise<Api> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const send = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ res: Response; json: Record<string, unknown> }> => {
    let res: Response;
    try {
      res = await io.fetch(`${url}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(
        `无法连接网关 cannot reach the gateway at ${url} (${cause}); is it running? (npm run demo, or --url)`,
      );
    }
    const text = await res.text();
    try {
      return { res, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    } catch {
      throw new CliError(`${url}${path}: HTTP ${res.status}, not the dutyroom API (${text.slice(0, 80)})`);
    }
  };
  const fail = (status: number, json: Record<string, unknown>): never => {
    const message = typeof json.message === 'string' ? json.message : `HTTP ${status}`;
    if (status === 401) throw new CliError(`需要登录 log in: --token T, or --user U --password P (${message})`);
    if (status === 403) throw new CliError(`权限不足 not allowed: ${message}`);
    const more = Array.isArray(json.problems) ? `\n  ${(json.problems as string[]).join('\n  ')}` : '';
    throw new CliError(`${message}${more}`);
  };
  const ok = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const { res, json } = await send(method, path, body);
    return res.status < 400 ? (json as T) : fail(res.status, json);
  };
  if (!token && login) {
    const { res, json } = await send('POST', '/api/login', { username: login.user, password: login.password });
    if (res.status >= 400) fail(res.status, json);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('dutyroom_session='));
    if (!session) throw new CliError(`${url}: logged in but got no session cookie`);
    headers.cookie = session.split(';')[0]!;
    // Changes made with a session must name the gateway's own origin (the CSRF check); this client is ours.
    headers.origin = new URL(url).origin;
  }
  return { get: (path) => ok('GET', path), post: (path, body) => ok('POST', path, body) };
}

const both = (t: { zh: string; en: string }) => `${t.zh} ${t.en}`;
const rel = (d: Pick<Drill, 'startedAt'>, ms: number) => formatOffset(Math.max(0, ms - d.startedAt) / 1000);
const STATUS_WORDS: Record<Drill['status'], string> = {
  running: '进行中 running',
  completed: '已完成 completed',
  stopped: '已停止 stopped',
  interrupted: '已中断 interrupted (gateway stopped)',
};

async function list(api: Api, io: DrillCliIo): Promise<number> {
  const res = await api.get<{ available: boolean; message?: string; scenarios: ScenarioInfo[] }>(
    '/api/drills/scenarios',
  );
  if (!res.available) io.out(res.message ?? '此网关不能演练 this gateway cannot run drills');
  if (res.scenarios.length === 0) return 0;
  io.out('演练场景 Drill scenarios:');
  for (const s of res.scenarios) {
    io.out(`  ${s.name.padEnd(24)} ${formatOffset(s.duration)}  ${both(s.title)}`);
    const alarms = s.expects.alarms
      .map((a) => `${a.kind}@${a.device}${a.inhibited ? ' (抑制 inhibited)' : ''}`)
      .join(', ');
    if (alarms) io.out(`      预期报警 expected alarms: ${alarms}`);
    if (s.expects.playbooks.length) io.out(`      启动预案 playbooks: ${s.expects.playbooks.join(', ')}`);
    if (!s.fits) io.out(`      不适用于本园区 does not fit this site: ${s.problems[0] ?? ''}`);
  }
  return 0;
}

async function start(api: Api, io: DrillCliIo, scenario: string): Promise<number> {
  const d = await api.post<Drill>('/api/drills', { scenario });
  io.out(`演练已开始 Drill started: ${d.id} — ${both(d.title)}`);
  io.out(
    `  时长 duration ${formatOffset((d.endsAt - d.startedAt) / 1000)}; 由 by ${d.startedBy}; 注入设备 devices: ${d.devices.join(', ')}`,
  );
  io.out(
    `  本次演练产生的报警和事件均标记为演练，不会发送到真实通知渠道 alarms and incidents it raises are tagged ${d.id} and never sent to real channels`,
  );
  io.out('  进度 progress: dutyroom drill status    停止 stop: dutyroom drill stop');
  return 0;
}

async function stop(api: Api, io: DrillCliIo): Promise<number> {
  const d = await api.post<Drill>('/api/drills/stop');
  io.out(`演练已停止 Drill stopped: ${d.id} (${d.scenario}) after ${rel(d, d.endedAt ?? d.startedAt)}`);
  io.out(
    `  已清除故障 faults cleared: ${d.cleared.length ? d.cleared.map((c) => `${c.device} ${c.type}`).join(', ') : '无 none'}`,
  );
  return 0;
}

async function status(api: Api, io: DrillCliIo): Promise<number> {
  const res = await api.get<{
    available: boolean;
    message?: string;
    now: number;
    current: Drill | null;
    history: Drill[];
  }>('/api/drills');
  if (!res.available) io.out(res.message ?? '此网关不能演练 this gateway cannot run drills');
  const d = res.current;
  if (!d) io.out('当前没有进行中的演练 No drill is running.');
  else {
    io.out(`进行中 Running: ${d.id} — ${both(d.title)}`);
    io.out(
      `  已进行 elapsed ${rel(d, res.now)} / ${formatOffset((d.endsAt - d.startedAt) / 1000)}; 发起人 started by ${d.startedBy}`,
    );
    io.out('  已执行步骤 steps applied:');
    for (const e of d.log) io.out(`    ${e.error ? '✗' : '•'} ${e.what.zh}  |  ${e.what.en}`);
    io.out('  预期 expected:');
    for (const a of d.expects.alarms) {
      const due =
        a.dueBy === null
          ? '待触发 waiting for its cause'
          : `${a.dueBy <= res.now ? '应已出现 due by' : '截止 due by'} ${rel(d, a.dueBy)}`;
      io.out(`    报警 alarm ${a.kind} @ ${a.device}${a.inhibited ? ' (抑制 inhibited)' : ''} — ${due}`);
    }
    if (d.expects.playbooks.length) io.out(`    预案 playbooks: ${d.expects.playbooks.join(', ')}`);
  }
  if (res.history.length) {
    io.out('最近的演练 Recent drills:');
    for (const h of res.history.slice(0, 5)) {
      io.out(
        `  ${h.id}  ${h.scenario}  ${STATUS_WORDS[h.status]}${h.endedBy ? ` (${h.endedBy})` : ''}  ${rel(h, h.endedAt ?? h.startedAt)}  ${h.log.length} 步 steps`,
      );
    }
  }
  return 0;
}
