'use client';

/**
 * Which tab of this browser the user is looking at, agreed between the tabs of
 * one user over a BroadcastChannel. Each tab announces whether it is visible
 * and when it last had focus; the tab that shows toasts (the "owner") is the
 * visible, focused one, or else the most recently focused visible one. With no
 * visible tab there is no owner: nothing is toasted, the badge counts.
 */

export interface TabState {
  visible: boolean;
  focused: boolean;
  /** When it last gained focus or became visible (ms since the epoch). */
  activeAt: number;
}

export interface Presence {
  /** This tab shows the toasts. */
  owner: boolean;
  /** Some tab of this user is visible (this one or another). */
  anyVisible: boolean;
}

/** How often a tab repeats its state; one not heard from in TAB_TTL_MS is gone (a crash leaves no goodbye). */
const HEARTBEAT_MS = 2_000;
const TAB_TTL_MS = 6_000;

export type TabMessage =
  | { t: 'tab'; tabId: string; state: TabState }
  | { t: 'tab-gone'; tabId: string }
  | { t: 'tab-hello'; tabId: string };

/** The owner among these tabs: focused first, then the latest active, then the smallest id (a stable tie-break). */
export function ownerOf(tabs: ReadonlyMap<string, TabState>): string | null {
  let best: [string, TabState] | null = null;
  for (const entry of tabs) {
    const [id, s] = entry;
    if (!s.visible) continue;
    if (
      !best ||
      Number(s.focused) > Number(best[1].focused) ||
      (s.focused === best[1].focused && (s.activeAt > best[1].activeAt || (s.activeAt === best[1].activeAt && id < best[0])))
    ) {
      best = entry;
    }
  }
  return best?.[0] ?? null;
}

/**
 * Tracks this tab's state and the others', and reports this tab's presence
 * whenever it changes. `post` sends on the user's channel; the caller feeds
 * every TabMessage it receives to `receive`.
 */
export class TabTracker {
  private readonly others = new Map<string, TabState & { heardAt: number }>();
  private mine: TabState;
  private last: Presence | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    readonly tabId: string,
    private readonly post: (m: TabMessage) => void,
    private readonly onChange: (p: Presence) => void,
    private readonly doc: Document = document,
  ) {
    this.mine = { visible: doc.visibilityState === 'visible', focused: doc.hasFocus(), activeAt: Date.now() };
    doc.addEventListener('visibilitychange', this.update);
    window.addEventListener('focus', this.update);
    window.addEventListener('blur', this.update);
    window.addEventListener('pagehide', this.gone);
    this.timer = setInterval(this.heartbeat, HEARTBEAT_MS);
    this.post({ t: 'tab-hello', tabId });
    this.announce();
  }

  receive(m: TabMessage): void {
    if (m.tabId === this.tabId) return;
    if (m.t === 'tab') this.others.set(m.tabId, { ...m.state, heardAt: Date.now() });
    else if (m.t === 'tab-gone') this.others.delete(m.tabId);
    else this.announce();
    this.report();
  }

  presence(): Presence {
    const all = new Map<string, TabState>(this.others);
    all.set(this.tabId, this.mine);
    return { owner: ownerOf(all) === this.tabId, anyVisible: [...all.values()].some((s) => s.visible) };
  }

  close(): void {
    clearInterval(this.timer);
    this.doc.removeEventListener('visibilitychange', this.update);
    window.removeEventListener('focus', this.update);
    window.removeEventListener('blur', this.update);
    window.removeEventListener('pagehide', this.gone);
    this.post({ t: 'tab-gone', tabId: this.tabId });
  }

  private readonly update = (): void => {
    const visible = this.doc.visibilityState === 'visible';
    const focused = this.doc.hasFocus();
    const becameActive = (visible && !this.mine.visible) || (focused && !this.mine.focused);
    this.mine = { visible, focused, activeAt: becameActive ? Date.now() : this.mine.activeAt };
    this.announce();
    this.report();
  };

  private readonly gone = (): void => this.post({ t: 'tab-gone', tabId: this.tabId });

  private readonly heartbeat = (): void => {
    const now = Date.now();
    for (const [id, s] of this.others) if (now - s.heardAt > TAB_TTL_MS) this.others.delete(id);
    this.announce();
    this.report();
  };

  private announce(): void {
    this.post({ t: 'tab', tabId: this.tabId, state: this.mine });
  }

  private report(): void {
    const p = this.presence();
    if (this.last && this.last.owner === p.owner && this.last.anyVisible === p.anyVisible) return;
    this.last = p;
    this.onChange(p);
  }
}
