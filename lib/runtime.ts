import 'server-only';
import type { AdminAccess } from './contract';
/**
 * What the page (app/page.tsx) needs to know of the running server. Next
 * bundles pages apart from server.ts, so a module-level value set by the server
 * is not the page's copy of this module: the server leaves the settings on
 * globalThis instead, and the page reads them there.
 */
export interface PageSettings {
  socketPath: string;
  /** Dev auth: the demo signs in through POST /api/dev/token. */
  devAuth: boolean;
  /** No push key: the demo pushes from the page. */
  openPushApi: boolean;
  /** The browser client closes its connection after this long with no tab visible (0: never). */
  idleDisconnectMs: number;
  /** How /admin is reached; 'off': it does not exist (a 404). */
  admin: AdminAccess;
}

const KEY = Symbol.for('herald.page-settings');
type Holder = { [KEY]?: PageSettings };

export function setPageSettings(settings: PageSettings | undefined): void {
  (globalThis as Holder)[KEY] = settings;
}

export function pageSettings(): PageSettings | undefined {
  return (globalThis as Holder)[KEY];
}
