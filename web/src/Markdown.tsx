/**
 * The bot's answers in GitHub-flavoured Markdown, by react-markdown with
 * GFM's parser extensions (see gfm.ts). HTML in an answer shows as text (react-markdown turns raw HTML
 * into text when no plugin such as rehype-raw parses it); links open in a new
 * tab without handing it this page; unsafe addresses are dropped.
 */

import { type JSX, type ReactNode, createContext, memo, useContext, useEffect, useState } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";

import { gfmParsing } from "./gfm";
import { type Messages } from "./i18n";

type Node = { type: string; value?: unknown; children?: readonly Node[] };

/** The text inside a syntax-tree node. */
function textOf(node: Node | undefined): string {
  if (!node) return "";
  if (node.type === "text" && typeof node.value === "string") return node.value;
  return (node.children ?? []).map(textOf).join("");
}

/** What of a streaming answer to show now: a table row still being written
 * waits for its line to end, so half a table shows as a table. */
export function settledPart(text: string): string {
  const cut = text.lastIndexOf("\n");
  return text
    .slice(cut + 1)
    .trimStart()
    .startsWith("|")
    ? text.slice(0, cut + 1)
    : text;
}

const Context = createContext<{ streaming: boolean; t: Pick<Messages, "copy" | "copied" | "code"> } | null>(
  null,
);

function CopyButton({ text }: { text: string }) {
  const context = useContext(Context);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(timer);
  }, [copied]);
  if (!context || context.streaming) return null;
  const copy = () => {
    // A refused clipboard (no permission, no focus) leaves the button as it was.
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(true),
      () => undefined,
    );
  };
  return (
    <button type="button" className="copy" onClick={copy}>
      {copied ? context.t.copied : context.t.copy}
      <span className="sr-only"> {context.t.code}</span>
    </button>
  );
}

function CodeBlock({ node, children }: JSX.IntrinsicElements["pre"] & ExtraProps) {
  const code = node?.children.find((child) => child.type === "element" && child.tagName === "code");
  const classes = code?.type === "element" ? code.properties.className : undefined;
  const language = (Array.isArray(classes) ? classes.map(String) : [])
    .find((name) => name.startsWith("language-"))
    ?.slice("language-".length);
  const source = textOf(code as Node | undefined).replace(/\n$/, "");
  return (
    <div className="code-block">
      <div className="code-head">
        <span className="code-language">{language ?? ""}</span>
        <CopyButton text={source} />
      </div>
      {/* Scrolls sideways on its own, so it takes the keyboard's focus. */}
      <pre tabIndex={0}>{children}</pre>
    </div>
  );
}

const heading =
  (Tag: "h3" | "h4" | "h5") =>
  ({ children }: { children?: ReactNode }) => <Tag>{children}</Tag>;

const COMPONENTS: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // Pictures from anywhere would tell their hosts who reads the room: a link instead.
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer">
        {alt || src}
      </a>
    ) : (
      <span>{alt}</span>
    ),
  pre: CodeBlock,
  table: ({ children }) => (
    <div className="table-scroll" tabIndex={0}>
      <table>{children}</table>
    </div>
  ),
  // The page's own headings stay on top: an answer's start at level 3.
  h1: heading("h3"),
  h2: heading("h3"),
  h3: heading("h4"),
  h4: heading("h5"),
  h5: heading("h5"),
  h6: heading("h5"),
};

const PLUGINS = [gfmParsing];

export const Answer = memo(function Answer(props: {
  text: string;
  streaming: boolean;
  t: Pick<Messages, "copy" | "copied" | "code">;
}) {
  const source = props.streaming ? settledPart(props.text) : props.text;
  return (
    <Context.Provider value={{ streaming: props.streaming, t: props.t }}>
      <ReactMarkdown remarkPlugins={PLUGINS} components={COMPONENTS}>
        {source}
      </ReactMarkdown>
    </Context.Provider>
  );
});
