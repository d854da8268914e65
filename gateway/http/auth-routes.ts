import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Credentials } from '../auth/credentials.js';
import { ROLES } from '../auth/roles.js';
import type { SessionStore } from '../auth/sessions.js';
import type { AttemptThrottle } from '../auth/throttle.js';
import { SESSION_COOKIE } from './authenticate.js';
import { tooManyAttempts, unauthorized } from './errors.js';
import { errors, noContent } from './schemas/common.js';

const displayName = z.union([z.string(), z.object({ zh: z.string(), en: z.string() })]);
// Response schemas here are a guard: whatever a handler returns, only these keys leave.
const whoAmI = z.object({ username: z.string(), role: z.enum(ROLES), name: displayName });

export interface AuthRoutesOptions {
  credentials: Credentials;
  sessions: SessionStore;
  /** Failed logins per username + client address. */
  loginThrottle: AttemptThrottle;
  sessionHours: number;
}

/** POST /api/login, POST /api/logout, GET /api/me. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, opts) => {
  app.post(
    '/api/login',
    {
      config: { access: 'public' },
      schema: {
        body: z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
        response: { 200: whoAmI, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const key = `login|${username}|${request.ip}`;
      const wait = opts.loginThrottle.waitSeconds(key);
      if (wait > 0) throw tooManyAttempts(wait);
      const who = await opts.credentials.login(username, password);
      if (!who) {
        opts.loginThrottle.fail(key);
        // One message for unknown user and wrong password: no hint which usernames exist.
        throw unauthorized('wrong username or password');
      }
      opts.loginThrottle.succeed(key);
      const session = opts.sessions.open(who);
      reply.setCookie(SESSION_COOKIE, session.id, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        maxAge: Math.floor(opts.sessionHours * 3600),
        secure: 'auto',
      });
      request.log.info({ user: who.username, role: who.role }, 'login');
      return { username: who.username, role: who.role, name: who.name };
    },
  );

  // Public so that anyone holding a cookie (even an expired one) can always drop it.
  app.post(
    '/api/logout',
    { config: { access: 'public' }, schema: { response: { 204: noContent } } },
    async (request, reply) => {
      const sid = request.cookies[SESSION_COOKIE];
      if (sid) opts.sessions.close(sid);
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/me',
    { schema: { response: { 200: whoAmI.extend({ via: z.enum(['session', 'token']) }), ...errors(401) } } },
    async (request) => {
      const who = request.principal!;
      return { username: who.username, role: who.role, name: who.name, via: who.via };
    },
  );
};
