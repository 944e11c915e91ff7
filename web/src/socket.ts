/** Where papo's WebSocket API is: `?ws=` in the page's address, else
 * `config.json` beside the page (which `papo serve` writes), else port 8000 of
 * this host. */
export async function websocketUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(window.location.search).get("ws");
  if (fromQuery) return fromQuery;
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) {
      const config = (await response.json()) as { websocketUrl?: unknown };
      if (typeof config.websocketUrl === "string") return config.websocketUrl;
    }
  } catch {
    // no config.json: static hosting without one
  }
  return `ws://${window.location.hostname || "127.0.0.1"}:8000/dev`;
}
