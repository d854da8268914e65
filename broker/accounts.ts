import { Acl, type BrokerAccount } from './acl.js';
import type { BrokerContext } from './context.js';

/** Swaps the accounts in place; clients whose account is gone or changed are disconnected. */
export function reloadAccounts(ctx: BrokerContext, accounts: BrokerAccount[]): void {
  const next = new Acl(accounts, ctx.gatewayOnly); // a bad list throws here and the old one stays in force
  ctx.acl = next;
  let dropped = 0;
  for (const client of ctx.live) {
    const was = ctx.loginOf.get(client);
    const now = was && next.account(was.username);
    if (was && now && sameAccount(was, now)) {
      ctx.loginOf.set(client, now);
      continue;
    }
    // Its rights changed: let it log in again and subscribe under the new rules.
    ctx.live.delete(client);
    dropped++;
    client.close();
  }
  ctx.logger.info({ accounts: accounts.length, disconnected: dropped }, 'broker accounts reloaded');
}

function sameAccount(a: BrokerAccount, b: BrokerAccount): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.passwordHash === b.passwordHash &&
    (a.admin ?? false) === (b.admin ?? false) &&
    same(a.publish, b.publish) &&
    same(a.subscribe, b.subscribe)
  );
}
