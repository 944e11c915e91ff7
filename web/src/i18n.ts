/**
 * The page's words in English and Brazilian Portuguese. The server says its
 * own sentences (system messages, refusals) in the language the page tells it.
 */

export type Language = "en" | "pt-BR";

export const LANGUAGES: readonly Language[] = ["en", "pt-BR"];

/** Each language's name, in that language, for the switch. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: "English", "pt-BR": "Português" };

export interface Messages {
  connecting: string;
  connected: string;
  /** The status while the page comes back after its connection ended. */
  reconnecting: string;
  youAre: (name: string) => string;
  reconnectNow: string;
  /** Beside the name field when the page could not take its place back. */
  resumeFailed: string;
  /** In the conversation when the page came back as a newcomer. */
  rejoined: string;
  language: string;
  yourName: string;
  join: string;
  /** The status when the page does not connect, papo's authorizer keeping it out. */
  notConnected: string;
  signIn: string;
  signOut: string;
  /** Beside a name the page's pass gives, which cannot be changed. */
  nameGiven: string;
  /** Why the page cannot get in (access.ts's Problem). */
  inviteRefused: string;
  signInRefused: string;
  noPass: string;
  /** This device left the room: the same person joined on another. */
  movedAway: string;
  signInFailed: (error: string) => string;
  people: string;
  /** The button that shows or hides the people list on narrow screens. */
  peopleButton: (count: number) => string;
  you: string;
  messages: string;
  to: string;
  everyone: string;
  askTheBot: string;
  privately: (name: string) => string;
  message: string;
  saySomething: string;
  askPlaceholder: string;
  send: string;
  composerHint: string;
  charactersLeft: (count: number) => string;
  charactersOver: (count: number) => string;
  /** " to Bot" after the asker's name. */
  toBot: string;
  /** " to Ana, privately" after the sender's name. */
  toPrivately: (name: string) => string;
  answering: string;
  /** On an answer to this person's question: stop it as it streams, or ask for another. */
  stop: string;
  askAgain: string;
  /** The room's own bot, shown above the conversation. */
  persona: (persona: string | null, model: string | null) => string;
  /** Offered after a resume or reload with enough unread. */
  catchUpOffer: (count: number) => string;
  catchUp: string;
  noThanks: string;
  /** The list of names that complete an `@` being typed. */
  mentionSuggestions: string;
  mentionsYou: string;
  copy: string;
  copied: string;
  code: string;
  earlierMessages: string;
  /** At the top of the conversation, while the room has lines before those the page holds. */
  showEarlier: string;
  loadingEarlier: string;
  /** At its bottom, while the page let go of the newest lines. */
  loadingNewer: string;
  newestMessages: string;
  today: string;
  yesterday: string;
  /** Before the room's name, on the button that opens another room. */
  room: string;
  /** The field where a room's name is typed, and its button. */
  goToRoom: string;
  go: string;
  /** What a room's name may be (rooms.ts). */
  roomRules: string;
  notARoom: (name: string) => string;
  /** Lines that change (LineActions.tsx). */
  edited: string;
  messageDeleted: string;
  lineActions: string;
  edit: string;
  editMessage: string;
  save: string;
  cancel: string;
  delete: string;
  deleteConfirm: string;
  reactions: string;
  /** How the keyboard reaches the lines' menus, said by screen readers. */
  messagesKeys: string;
  reactWith: (emoji: string) => string;
  /** Who reacted, in a reaction's title. */
  reactedBy: (names: string[]) => string;
  /** Beside a member who is away (a dropped connection, a hidden or idle tab). */
  away: string;
  /** A big room's counts, when only they are told. */
  hereAndAway: (here: number, away: number) => string;
  /** Below the conversation while others type. */
  typing: (names: readonly string[]) => string;
  /** The divider above what came since this person last read the room. */
  newMessages: string;
  /** The button that turns notifications on or off (aria-pressed says which). */
  notifications: string;
  /** Why notifications stay off: the browser refused them. */
  notificationsBlocked: string;
  /** A notification's title. */
  mentionedYou: (name: string) => string;
  wroteToYou: (name: string) => string;
  /** The other rooms this tab was in, and what waits there. */
  otherRooms: string;
  unreadIn: (count: number) => string;
}

const en: Messages = {
  connecting: "connecting",
  connected: "connected",
  reconnecting: "Connection lost: reconnecting…",
  youAre: (name) => `you are ${name}`,
  reconnectNow: "Reconnect now",
  resumeFailed: "Your session could not be resumed.",
  rejoined: "Your session could not be resumed, so you joined again: private messages sent to you meanwhile may be missing.",
  language: "Language",
  yourName: "Your name",
  join: "Join",
  notConnected: "not connected",
  signIn: "Sign in",
  signOut: "Sign out",
  nameGiven: "Set by your invite or account.",
  inviteRefused: "This invite link is invalid or has expired.",
  signInRefused: "Your sign-in was refused or has expired: sign in again.",
  noPass: "Cannot connect: this room may need an invite link.",
  movedAway: "You joined on another device, so this one left the chat. Reload to use this one.",
  signInFailed: (error) => `Signing in did not work: ${error}`,
  people: "People",
  peopleButton: (count) => `People (${count})`,
  you: "you",
  messages: "Messages",
  to: "To",
  everyone: "Everyone",
  askTheBot: "Ask the bot",
  privately: (name) => `${name} (private)`,
  message: "Message",
  saySomething: "Say something",
  askPlaceholder: "Ask the bot (/reset starts afresh)",
  send: "Send",
  composerHint: "Enter sends; Shift+Enter starts a new line.",
  charactersLeft: (count) => `${count.toLocaleString("en")} ${count === 1 ? "character" : "characters"} left`,
  charactersOver: (count) =>
    `${count.toLocaleString("en")} ${count === 1 ? "character" : "characters"} too many`,
  toBot: " to Bot",
  toPrivately: (name) => ` to ${name}, privately`,
  answering: "The bot is answering…",
  stop: "Stop",
  askAgain: "Ask again",
  persona: (persona, model) =>
    `The bot here: ${persona ?? "the usual one"}${model ? ` (${model})` : ""}`,
  catchUpOffer: (count) => `${count} new messages came while you were away.`,
  catchUp: "Catch me up",
  noThanks: "No, thanks",
  mentionSuggestions: "Mention",
  mentionsYou: "mentions you",
  copy: "Copy",
  copied: "Copied",
  code: "code",
  earlierMessages: "Earlier messages",
  showEarlier: "Show earlier messages",
  loadingEarlier: "Loading earlier messages…",
  loadingNewer: "Loading newer messages…",
  newestMessages: "Go to the newest messages",
  today: "Today",
  yesterday: "Yesterday",
  room: "Room",
  goToRoom: "Go to room",
  go: "Go",
  roomRules: "1 to 32 letters a–z, digits or hyphens; no hyphen first or last.",
  notARoom: (name) => `“${name}” is not a room name.`,
  edited: "edited",
  messageDeleted: "Message deleted",
  lineActions: "Message actions",
  edit: "Edit",
  editMessage: "Edit your message",
  save: "Save",
  cancel: "Cancel",
  delete: "Delete",
  deleteConfirm: "Delete this message?",
  reactions: "Reactions",
  messagesKeys: "Enter: a message's menu (react, edit, delete); arrows: the next one's.",
  reactWith: (emoji) => `React with ${emoji}`,
  reactedBy: (names) => [names].flat().join(", "),
  away: "away",
  hereAndAway: (here, away) => `${here} here, ${away} away`,
  typing: (names) =>
    names.length === 1
      ? `${names[0]} is typing…`
      : names.length === 2
        ? `${names[0]} and ${names[1]} are typing…`
        : "Several people are typing…",
  newMessages: "New messages",
  notifications: "Notifications",
  notificationsBlocked: "This browser blocks papo's notifications.",
  mentionedYou: (name) => `${name} mentioned you`,
  wroteToYou: (name) => `${name}, privately`,
  otherRooms: "Other rooms",
  unreadIn: (count) => (count >= 100 ? "99+ unread" : `${count} unread`),
};

const ptBR: Messages = {
  connecting: "conectando",
  connected: "conectado",
  reconnecting: "Conexão perdida: reconectando…",
  youAre: (name) => `você é ${name}`,
  reconnectNow: "Reconectar agora",
  resumeFailed: "Não foi possível retomar a sua sessão.",
  rejoined:
    "Não foi possível retomar a sua sessão, então você entrou de novo: podem faltar mensagens particulares enviadas a você nesse meio-tempo.",
  language: "Idioma",
  yourName: "Seu nome",
  join: "Entrar",
  notConnected: "desconectado",
  signIn: "Fazer login",
  signOut: "Sair",
  nameGiven: "Definido pelo seu convite ou conta.",
  inviteRefused: "Este link de convite é inválido ou expirou.",
  signInRefused: "O seu login foi recusado ou expirou: faça login de novo.",
  noPass: "Não foi possível conectar: esta sala pode exigir um link de convite.",
  movedAway: "Você entrou em outro dispositivo, então este saiu do chat. Recarregue para usar este.",
  signInFailed: (error) => `O login não deu certo: ${error}`,
  people: "Pessoas",
  peopleButton: (count) => `Pessoas (${count})`,
  you: "você",
  messages: "Mensagens",
  to: "Para",
  everyone: "Todos",
  askTheBot: "Perguntar ao bot",
  privately: (name) => `${name} (privado)`,
  message: "Mensagem",
  saySomething: "Diga algo",
  askPlaceholder: "Pergunte ao bot (/reset recomeça)",
  send: "Enviar",
  composerHint: "Enter envia; Shift+Enter começa uma nova linha.",
  charactersLeft: (count) =>
    `${count === 1 ? "resta" : "restam"} ${count.toLocaleString("pt-BR")} ${count === 1 ? "caractere" : "caracteres"}`,
  charactersOver: (count) =>
    `${count.toLocaleString("pt-BR")} ${count === 1 ? "caractere" : "caracteres"} a mais`,
  toBot: " para o Bot",
  toPrivately: (name) => ` para ${name}, em particular`,
  answering: "O bot está respondendo…",
  stop: "Parar",
  askAgain: "Perguntar de novo",
  persona: (persona, model) =>
    `O bot aqui: ${persona ?? "o de sempre"}${model ? ` (${model})` : ""}`,
  catchUpOffer: (count) => `${count} mensagens novas chegaram enquanto você estava fora.`,
  catchUp: "Me atualize",
  noThanks: "Não, obrigado",
  mentionSuggestions: "Mencionar",
  mentionsYou: "menciona você",
  copy: "Copiar",
  copied: "Copiado",
  code: "código",
  earlierMessages: "Mensagens anteriores",
  showEarlier: "Mostrar mensagens anteriores",
  loadingEarlier: "Carregando mensagens anteriores…",
  loadingNewer: "Carregando mensagens mais novas…",
  newestMessages: "Ir para as mensagens mais recentes",
  today: "Hoje",
  yesterday: "Ontem",
  room: "Sala",
  goToRoom: "Ir para a sala",
  go: "Ir",
  roomRules: "De 1 a 32 letras a–z, algarismos ou hífens; sem hífen no início ou no fim.",
  notARoom: (name) => `“${name}” não é um nome de sala.`,
  edited: "editada",
  messageDeleted: "Mensagem apagada",
  lineActions: "Ações da mensagem",
  edit: "Editar",
  editMessage: "Edite sua mensagem",
  save: "Salvar",
  cancel: "Cancelar",
  delete: "Apagar",
  deleteConfirm: "Apagar esta mensagem?",
  reactions: "Reações",
  messagesKeys: "Enter: o menu de uma mensagem (reagir, editar, apagar); setas: o da próxima.",
  reactWith: (emoji) => `Reagir com ${emoji}`,
  reactedBy: (names) => [names].flat().join(", "),
  away: "ausente",
  hereAndAway: (here, away) => `${here} aqui, ${away} ${away === 1 ? "ausente" : "ausentes"}`,
  typing: (names) =>
    names.length === 1
      ? `${names[0]} está digitando…`
      : names.length === 2
        ? `${names[0]} e ${names[1]} estão digitando…`
        : "Várias pessoas estão digitando…",
  newMessages: "Novas mensagens",
  notifications: "Notificações",
  notificationsBlocked: "Este navegador bloqueia as notificações do papo.",
  mentionedYou: (name) => `${name} mencionou você`,
  wroteToYou: (name) => `${name}, em particular`,
  otherRooms: "Outras salas",
  unreadIn: (count) => (count >= 100 ? "99+ não lidas" : `${count} não ${count === 1 ? "lida" : "lidas"}`),
};

export const MESSAGES: Record<Language, Messages> = { en, "pt-BR": ptBR };

const isLanguage = (value: unknown): value is Language => LANGUAGES.some((l) => l === value);

/** The first of the browser's languages papo speaks (any Portuguese is
 * Brazilian Portuguese here), else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (primary === "pt") return "pt-BR";
    if (primary === "en") return "en";
  }
  return "en";
}

const STORED = "papo.language";

/** The language chosen in this browser before, else the browser's own. */
/** The languages the browser asks for, most wanted first. */
export const browserLanguages = (): readonly string[] =>
  navigator.languages?.length ? navigator.languages : [navigator.language];

export function initialLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(STORED);
    if (isLanguage(stored)) return stored;
  } catch {
    // storage may be refused (private modes, sandboxed frames)
  }
  return pickLanguage(browserLanguages());
}

export function rememberLanguage(language: Language): void {
  try {
    window.localStorage.setItem(STORED, language);
  } catch {
    // not remembered: the browser's language is picked next time
  }
}

/** The locale to format times and dates in: in English, the browser's own
 * English (en-GB keeps its 24-hour clock); else the page's language. */
export function formatLocale(language: Language, browser: readonly string[]): string {
  if (language !== "en") return language;
  const english = browser.find((tag) => /^en(-|$)/i.test(tag));
  try {
    return english && Intl.DateTimeFormat.supportedLocalesOf([english]).length ? english : "en";
  } catch {
    return "en";
  }
}
