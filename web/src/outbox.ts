/**
 * What the person wrote, sent one message at a time: the next goes once the
 * server answered the one before (its copy came back, or a refusal), or after
 * `ECHO_TIMEOUT_MS`. The server orders a room's frames as their invocations
 * reach its store, so messages sent in a burst could swap places; sent this
 * way, one person's messages keep the order they were written in.
 */

import { type Frame } from "./room";

export type Say =
  | { action: "sendPublic" | "sendBot"; message: string }
  | { action: "sendPrivate"; to: string; message: string };

/** A message waiting to go, or gone (`sentAt`) and waiting for its answer;
 * `again`: sent on a connection that then dropped, to go again unless its
 * copy is among what was missed. */
export type Outgoing = Say & { sentAt?: number; again?: boolean };

/** How long to wait for a message's answer before sending the next anyway. */
export const ECHO_TIMEOUT_MS = 3000;

/** Whether `frame` answers `sent`, heard by `me`: its copy, or a refusal of it. */
export function answers(sent: Say, frame: Frame, me: string): boolean {
  if (typeof frame.error === "string") return frame.action === sent.action;
  const mine = frame.from === me && frame.text === sent.message;
  switch (sent.action) {
    case "sendPublic":
      return typeof frame.publicMessage === "string" && mine && frame.answerId === undefined;
    case "sendBot":
      // `/reset` is answered by the room hearing that the bot starts afresh.
      return (
        (typeof frame.publicMessage === "string" && mine && typeof frame.answerId === "string") ||
        (frame.event === "botReset" && frame.name === me)
      );
    case "sendPrivate":
      return typeof frame.privateMessage === "string" && mine && frame.to === sent.to;
  }
}

/** The frame that sends `say`. */
export const request = (say: Say): Frame =>
  say.action === "sendPrivate"
    ? { action: say.action, to: say.to, message: say.message }
    : { action: say.action, message: say.message };
