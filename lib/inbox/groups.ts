import { GROUP_ACTORS_SHOWN, MAX_GROUP_ACTORS_KEPT, type JsonValue, type NotificationGroup } from '../contract';

/**
 * Collapse groups, for both engines: the actors a user's group stands for,
 * merged one push at a time. Actors are told apart by `id`, else `name`, else
 * their JSON, so `"Bob"`, `{ "id": "u1", "name": "Bob" }` and a renamed
 * `{ "id": "u1", "name": "Robert" }` each count once.
 */

/** A group as stored: up to MAX_GROUP_ACTORS_KEPT distinct actors, newest first. */
export interface StoredGroup {
  actors: JsonValue[];
  count: number;
  pushes: number;
}

/** The `actor` of a push's data, when it has one. */
export function actorOf(data: JsonValue): JsonValue | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const actor = data.actor;
  return actor === null ? undefined : actor;
}

function keyOf(actor: JsonValue): string {
  if (actor !== null && typeof actor === 'object' && !Array.isArray(actor)) {
    if (typeof actor.id === 'string' || typeof actor.id === 'number') return `id:${actor.id}`;
    if (typeof actor.name === 'string') return `name:${actor.name}`;
  }
  return `json:${JSON.stringify(actor)}`;
}

/**
 * `prev` (null: a new group) with one more push by `actor`. A returning actor
 * moves to the front and is not counted again, unless it had fallen out of the
 * kept ones.
 */
export function mergeGroup(prev: StoredGroup | null, actor: JsonValue | undefined): StoredGroup {
  const actors = prev?.actors ?? [];
  const count = prev?.count ?? 0;
  const pushes = (prev?.pushes ?? 0) + 1;
  if (actor === undefined) return { actors, count: Math.max(count, 1), pushes };
  const key = keyOf(actor);
  const rest = actors.filter((a) => keyOf(a) !== key);
  const known = rest.length < actors.length;
  return { actors: [actor, ...rest].slice(0, MAX_GROUP_ACTORS_KEPT), count: known ? count : count + 1, pushes };
}

/** What the wire shows of a stored group. */
export function wireGroup(g: StoredGroup): NotificationGroup {
  return { actors: g.actors.slice(0, GROUP_ACTORS_SHOWN), count: Math.max(g.count, 1), pushes: g.pushes };
}
