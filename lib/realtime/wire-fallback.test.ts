import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../log';
import { checkShape, directTcp, setWireLogger, wireShape } from './wire';

/** In a file of its own: the verdict is kept for the life of the module. */
describe('the direct frame path when the internals change shape', () => {
  it('turns itself off with an error in the log, and every frame takes Engine.IO’s path', () => {
    const error = vi.fn();
    setWireLogger({ error } as unknown as Logger);
    // A WebSocket connection as a later engine.io or ws might shape it.
    const conn = { readyState: 'open', writeBuffer: [], transport: { name: 'websocket', socket: { readyState: 1, _socket: null } } };
    expect(checkShape(conn)).toBe(false);
    expect(wireShape()).toBe('changed');
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]?.[1]).toEqual({ problems: ['ws _socket', 'ws _sender', 'ws _extensions'] });
    expect(directTcp({ conn })).toBeUndefined();
    // Decided once: no second check, no second error.
    expect(checkShape(conn)).toBe(false);
    expect(error).toHaveBeenCalledTimes(1);
  });
});
