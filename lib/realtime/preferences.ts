import 'server-only';
import type { Preferences, PreferencesState } from '../contract';
import type { Inbox } from '../inbox/types';
import { roomOf } from './rooms';
import type { HeraldServer } from './types';

/**
 * The preferences with the unread count they give. Muting a type takes its
 * unread items out of the count, also those a tab does not hold, so a tab
 * cannot work the new count out by itself: it is told, as a sync tells it.
 */
export async function preferencesState(inbox: Pick<Inbox, 'summary'>, userId: string, prefs: Preferences): Promise<PreferencesState> {
  const { unread, headSeq } = await inbox.summary(userId);
  return { mutedTypes: prefs.mutedTypes, unread, headSeq };
}

/** Tells every tab of the user, on every node, the preferences just stored and the count under them. */
export async function announcePreferences(io: HeraldServer, inbox: Pick<Inbox, 'summary'>, userId: string, prefs: Preferences): Promise<PreferencesState> {
  const state = await preferencesState(inbox, userId, prefs);
  io.to(roomOf(userId)).emit('notifications:preferences', state);
  return state;
}
