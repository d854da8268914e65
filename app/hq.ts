import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { HqBoard } from '../gateway/hq/board.js';
import type { HqConfig } from '../gateway/hq/config.js';
import { follow, type Follower } from '../gateway/hq/follow.js';
import { realTime, type ClockAndTimers } from '../gateway/ports/clock.js';
import { buildHqApp } from './hq-http.js';

// `dutyroom hq`: the head-office console. Follows many sites' alarms and incidents on a shared
// broker (gateway/hq), folds them per site (rules/hq), and serves them read-only over HTTP.

export interface RunningHq {
  board: HqBoard;
  follower: Follower;
  app: FastifyInstance;
  httpUrl: string;
  stop(): Promise<void>;
}

export async function startHq(opts: {
  config: HqConfig;
  baseDir: string;
  logger?: Logger;
  time?: ClockAndTimers;
}): Promise<RunningHq> {
  const time = opts.time ?? realTime;
  const logger = opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const board = new HqBoard(opts.config, time);
  const follower = follow({ config: opts.config, baseDir: opts.baseDir, board, clock: time, logger });
  const app = await buildHqApp({ config: opts.config, board, connected: () => follower.connected(), time });
  const httpUrl = await app.listen({ host: opts.config.http.host, port: opts.config.http.port });
  return {
    board,
    follower,
    app,
    httpUrl,
    stop: async () => {
      await app.close();
      await follower.stop();
    },
  };
}
