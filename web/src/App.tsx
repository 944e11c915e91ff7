import { type FormEvent, useEffect, useReducer, useRef, useState } from "react";

import { BOT, type Line, emptyRoom, receive } from "./room";
import { websocketUrl } from "./socket";

type Status = "connecting" | "open" | "closed";

type Action =
  | { type: "frame"; frame: Record<string, unknown> }
  | { type: "ask"; name: string }
  | { type: "reset" };

function reducer(room: typeof emptyRoom, action: Action): typeof emptyRoom {
  switch (action.type) {
    case "frame":
      return receive(room, action.frame);
    case "ask":
      return { ...room, asked: action.name, nameError: null };
    case "reset":
      return emptyRoom;
  }
}

const EVERYONE = "";

export function App() {
  const [room, dispatch] = useReducer(reducer, emptyRoom);
  const [status, setStatus] = useState<Status>("connecting");
  const [attempt, setAttempt] = useState(0);
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    let closed = false;
    let ws: WebSocket | null = null;
    void websocketUrl().then((url) => {
      if (closed) return;
      ws = new WebSocket(url);
      socket.current = ws;
      ws.onopen = () => setStatus("open");
      ws.onclose = () => setStatus("closed");
      ws.onmessage = (event) => {
        try {
          const frame: unknown = JSON.parse(String(event.data));
          if (frame && typeof frame === "object") {
            dispatch({ type: "frame", frame: frame as Record<string, unknown> });
          }
        } catch {
          // a frame that is not JSON carries nothing for this client
        }
      };
    });
    return () => {
      closed = true;
      ws?.close();
    };
  }, [attempt]);

  const send = (action: string, fields: Record<string, string>) =>
    socket.current?.send(JSON.stringify({ action, ...fields }));

  const reconnect = () => {
    dispatch({ type: "reset" });
    setStatus("connecting");
    setAttempt((n) => n + 1);
  };

  return (
    <div className="app">
      <header>
        <h1>papo</h1>
        <span className={`status ${status}`} role="status">
          {status === "open" ? (room.me ? `you are ${room.me}` : "connected") : status}
        </span>
        {status === "closed" && (
          <button type="button" onClick={reconnect}>
            Reconnect
          </button>
        )}
      </header>
      {room.me === null ? (
        <JoinForm
          disabled={status !== "open" || room.asked !== null}
          error={room.nameError}
          onJoin={(name) => {
            dispatch({ type: "ask", name });
            send("setName", { name });
          }}
        />
      ) : (
        <main>
          <aside>
            <h2>People</h2>
            <ul aria-label="People">
              {room.members.map((name) => (
                <li key={name} className={name === room.me ? "me" : undefined}>
                  {name}
                </li>
              ))}
            </ul>
          </aside>
          <section className="chat">
            <Messages lines={room.lines} me={room.me} />
            <Composer
              people={room.members.filter((name) => name !== room.me)}
              disabled={status !== "open"}
              onSend={(to, message) => {
                if (to === BOT) send("sendBot", { message });
                else if (to === EVERYONE) send("sendPublic", { message });
                else send("sendPrivate", { to, message });
              }}
            />
          </section>
        </main>
      )}
    </div>
  );
}

function JoinForm(props: {
  disabled: boolean;
  error: string | null;
  onJoin: (name: string) => void;
}) {
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) props.onJoin(name.trim());
  };
  return (
    <form className="join" onSubmit={submit}>
      <label htmlFor="name">Your name</label>
      <input
        id="name"
        value={name}
        maxLength={32}
        autoFocus
        onChange={(event) => setName(event.target.value)}
      />
      <button type="submit" disabled={props.disabled || !name.trim()}>
        Join
      </button>
      {props.error && (
        <p className="error" role="alert">
          {props.error}
        </p>
      )}
    </form>
  );
}

function Messages(props: { lines: Line[]; me: string }) {
  const end = useRef<HTMLLIElement | null>(null);
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [props.lines]);
  return (
    <ol className="messages" role="log" aria-label="Messages">
      {props.lines.map((line) => (
        <li key={`${line.kind}-${line.id}`} className={lineClass(line, props.me)}>
          <LineView line={line} />
        </li>
      ))}
      <li ref={end} aria-hidden="true" className="end" />
    </ol>
  );
}

function lineClass(line: Line, me: string): string {
  const mine = (line.kind === "public" || line.kind === "private") && line.from === me;
  return `${line.kind}${mine ? " mine" : ""}${line.kind === "bot" ? ` ${line.status}` : ""}`;
}

function LineView({ line }: { line: Line }) {
  switch (line.kind) {
    case "system":
      return <em>{line.text}</em>;
    case "error":
      return <span role="alert">{line.text}</span>;
    case "public":
      return (
        <>
          <b>{line.from}</b>
          {line.toBot && <span className="tag"> to {BOT}</span>}: {line.text}
        </>
      );
    case "private":
      return (
        <>
          <b>{line.from}</b>
          <span className="tag"> to {line.to}, privately</span>: {line.text}
        </>
      );
    case "bot":
      return (
        <>
          <b>{BOT}</b>: <span className="answer">{line.text}</span>
          {line.status === "streaming" && <span className="typing" aria-label="answering" />}
        </>
      );
  }
}

function Composer(props: {
  people: string[];
  disabled: boolean;
  onSend: (to: string, message: string) => void;
}) {
  const [to, setTo] = useState(EVERYONE);
  const [message, setMessage] = useState("");
  const target = to === EVERYONE || to === BOT || props.people.includes(to) ? to : EVERYONE;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!message.trim()) return;
    props.onSend(target, message);
    setMessage("");
  };
  return (
    <form className="composer" onSubmit={submit}>
      <select aria-label="To" value={target} onChange={(event) => setTo(event.target.value)}>
        <option value={EVERYONE}>Everyone</option>
        <option value={BOT}>Ask the bot</option>
        {props.people.map((name) => (
          <option key={name} value={name}>
            {name} (private)
          </option>
        ))}
      </select>
      <input
        aria-label="Message"
        value={message}
        placeholder={target === BOT ? "Ask the bot (/reset starts afresh)" : "Say something"}
        onChange={(event) => setMessage(event.target.value)}
      />
      <button type="submit" disabled={props.disabled || !message.trim()}>
        Send
      </button>
    </form>
  );
}
