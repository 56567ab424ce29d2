import 'server-only';
/** The socket.io room that holds a user's sockets on this node. */
export const roomOf = (userId: string): string => `user:${userId}`;

/** The prefix every user room shares. */
export const USER_ROOM_PREFIX = roomOf('');
