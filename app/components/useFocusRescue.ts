'use client';

import { useEffect, useRef, type RefObject } from 'react';

/**
 * Keeps focus where the person was when React removes the focused element (a
 * dismissed toast, a "Mark read" button that becomes "Mark unread", an item that
 * leaves a filtered list): browsers drop it to <body> without a blur event.
 *
 * Places to land carry `data-focus-item="<key>"` (an item) and, on controls
 * inside it, `data-focus-role="<role>"`. Focus goes to the same control in the
 * same item if it is still there, else the same kind of control in the next item
 * (then the previous one), else to `fallback()`.
 */
export function useFocusRescue(ref: RefObject<HTMLElement | null>, fallback: () => HTMLElement | null | undefined): void {
  const fallbackRef = useRef(fallback);
  useEffect(() => {
    fallbackRef.current = fallback;
  });

  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    let last: { element: HTMLElement; item: string | null; role: string | null; order: string[] } | null = null;

    const snapshot = () => {
      const active = document.activeElement;
      if (!(active instanceof HTMLElement) || !root.contains(active)) return;
      last = {
        element: active,
        item: active.closest<HTMLElement>('[data-focus-item]')?.dataset.focusItem ?? null,
        role: active.dataset.focusRole ?? null,
        order: [...root.querySelectorAll<HTMLElement>('[data-focus-item]')].map((el) => el.dataset.focusItem ?? ''),
      };
    };

    const rescue = () => {
      if (!last || last.element.isConnected) return;
      const active = document.activeElement;
      if (active !== null && active !== document.body && active.isConnected) return;
      const { item, role, order } = last;
      last = null;
      const itemEl = (key: string) => root.querySelector<HTMLElement>(`[data-focus-item="${CSS.escape(key)}"]`);
      const controlIn = (el: HTMLElement) =>
        (role ? el.querySelector<HTMLElement>(`[data-focus-role="${CSS.escape(role)}"]`) : null) ??
        el.querySelector<HTMLElement>('[data-focus-role]');
      let target: HTMLElement | null = null;
      if (item !== null) {
        const same = itemEl(item);
        if (same) target = controlIn(same);
        const at = order.indexOf(item);
        for (let i = at + 1; !target && at >= 0 && i < order.length; i++) {
          const el = itemEl(order[i] ?? '');
          if (el) target = controlIn(el);
        }
        for (let i = at - 1; !target && i >= 0; i--) {
          const el = itemEl(order[i] ?? '');
          if (el) target = controlIn(el);
        }
      } else if (role) {
        target = root.querySelector<HTMLElement>(`[data-focus-role="${CSS.escape(role)}"]`);
      }
      (target ?? fallbackRef.current())?.focus();
    };

    const onFocusOut = (e: FocusEvent) => {
      const to = e.relatedTarget;
      if (to instanceof Node && !root.contains(to)) last = null;
      // Focus moved to nothing: a click on a blank part of the page (the element is still
      // there) forgets it; a removal is handled by the observer.
      const from = e.target;
      if (to === null && from instanceof HTMLElement) {
        setTimeout(() => {
          if (from.isConnected && last?.element === from) last = null;
        }, 0);
      }
    };

    const observer = new MutationObserver(() => {
      rescue();
      snapshot();
    });
    observer.observe(root, { childList: true, subtree: true });
    root.addEventListener('focusin', snapshot);
    root.addEventListener('focusout', onFocusOut);
    return () => {
      observer.disconnect();
      root.removeEventListener('focusin', snapshot);
      root.removeEventListener('focusout', onFocusOut);
    };
  }, [ref]);
}
