import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { BrokerAccount } from './acl.js';
import type { BrokerContext } from './context.js';
import { remoteOf } from './packets.js';

// MQTT 3.1.1 CONNACK return code 4: "bad user name or password". Used for unknown users too,
// so a client cannot tell which of the two it got wrong.
const BAD_USERNAME_OR_PASSWORD = 4;

/** The login check: the doors' throttles first (scrypt is the cost of a login), then the account and its password. */
export function authenticate(ctx: BrokerContext): Required<AedesOptions>['authenticate'] {
  return (client, username, password, done) => {
    const address = remoteOf(client) ?? '?';
    const key = `${address}|${username ?? ''}`;
    const refuse = (reason: string, failed = true) => {
      ctx.counts.refusedLogins++;
      if (failed) {
        ctx.loginThrottle.failed(key);
        ctx.addressThrottle.failed(address);
      }
      ctx.throttled.warn(
        `login:${username ?? ''}:${reason}`,
        { username, clientId: client.id, remote: address, reason },
        'broker login refused',
      );
      const err = new Error('bad username or password') as AuthenticateError;
      err.returnCode = BAD_USERNAME_OR_PASSWORD;
      done(err, false);
    };
    const wait = Math.max(ctx.loginThrottle.waitSeconds(key), ctx.addressThrottle.waitSeconds(address));
    if (wait > 0) {
      ctx.counts.throttledLogins++;
      return refuse(`too many failed logins from ${address}; try again in ${wait} s`, false);
    }
    if (!username || !password) return refuse('no username or password');
    const account = ctx.acl.account(username);
    if (!account) return refuse('unknown user');
    ctx.passwords.verify(username, password, account.passwordHash).then(
      (ok) => {
        if (!ok) return refuse('wrong password');
        // The accounts may have been reloaded during the (slow) check.
        if (ctx.acl.account(username) !== account) return refuse('account changed during login');
        ctx.loginThrottle.succeeded(key);
        loggedIn(ctx, client, account);
        done(null, true);
      },
      (err: unknown) => {
        ctx.logger.error({ err, username }, 'password check failed');
        refuse('password check failed');
      },
    );
  };
}

function loggedIn(ctx: BrokerContext, client: Client, account: BrokerAccount): void {
  ctx.guards.get(client.conn)?.accept();
  ctx.loginOf.set(client, account);
  ctx.live.add(client);
  client.conn.once('close', () => ctx.live.delete(client));
  ctx.logger.debug({ username: account.username, clientId: client.id, remote: remoteOf(client) }, 'broker login');
}
