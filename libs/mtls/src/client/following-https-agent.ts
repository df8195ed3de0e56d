import type { ClientRequest } from 'node:http';
import { Agent, type RequestOptions } from 'node:https';

/** Node's Agent as ClientRequest uses it: every request is handed to `addRequest`. */
type RequestTaker = Agent & { addRequest(req: ClientRequest, options: RequestOptions): void };

/**
 * One `https.Agent` object that stays the same for the life of the
 * application while the material behind it changes: every request is handed
 * to the pool of the current material (`current()`), so a request made after
 * a rotation presents the new certificate on a new connection, and the old
 * pool drains (its connections finish what they carry and close). Holds no
 * key, no certificate and no socket itself: `options` is Node's defaults
 * (keep-alive on), and the pools' connections are made from Node secure
 * contexts, not PEM text.
 */
export class FollowingHttpsAgent extends Agent {
  constructor(private readonly current: () => Agent) {
    super({ keepAlive: true });
  }

  /** Called by Node's ClientRequest for each request that uses this agent. */
  addRequest(req: ClientRequest, options: RequestOptions): void {
    (this.current() as RequestTaker).addRequest(req, options);
  }
}
