import { vi } from "vitest";

/** sessionStorage for the tests, as a Map they can read and change. */
export function storage(): Map<string, string> {
  const items = new Map<string, string>();
  vi.stubGlobal("sessionStorage", {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  });
  return items;
}

/** sessionStorage as a browser that refuses it gives it: every call throws. */
export function refusedStorage(): void {
  const refuse = (): never => {
    throw new Error("refused");
  };
  vi.stubGlobal("sessionStorage", { getItem: refuse, setItem: refuse, removeItem: refuse });
}
