/**
 * Credentials of SPEC §7: the server's bearer token, and short-lived signed
 * tokens that reach one session only (an agent's credential).
 *
 * A session token is `dzs.<payload>.<signature>`: base64url JSON
 * `{sid, agent?, exp}` and its HMAC-SHA256 under a key derived from the
 * server token.
 *
 * @module
 */
import type { Clock } from "./clock.ts";

/** What a verified credential may reach. */
export type Grant =
  | { scope: "all" }
  | { scope: "session"; session: string; agent?: string; expiresAt: number };

const encoder = new TextEncoder();

/** Issues and verifies credentials. */
export class Tokens {
  readonly #secret: string;
  readonly #clock: Clock;
  #key: Promise<CryptoKey> | undefined;

  /** `secret` is the server token (`DENIZEN_TOKEN`). */
  constructor(secret: string, clock: Clock) {
    this.#secret = secret;
    this.#clock = clock;
  }

  /** Issues a token for one session, valid for `ttlMs` (default 1 hour). */
  async issue(
    session: string,
    opts: { agent?: string; ttlMs?: number } = {},
  ): Promise<{ token: string; expiresAt: string }> {
    const exp = this.#clock.now() + (opts.ttlMs ?? 3_600_000);
    const payload = b64url(
      encoder.encode(JSON.stringify({ sid: session, agent: opts.agent, exp })),
    );
    const sig = await crypto.subtle.sign("HMAC", await this.#hmac(), encoder.encode(payload));
    return {
      token: `dzs.${payload}.${b64url(new Uint8Array(sig))}`,
      expiresAt: new Date(exp).toISOString(),
    };
  }

  /** The grant of `token`, or undefined when it is wrong, forged or expired. */
  async verify(token: string): Promise<Grant | undefined> {
    if (token.length > 2048) return undefined;
    if (await equal(token, this.#secret)) return { scope: "all" };
    const parts = token.split(".");
    if (parts.length !== 3 || parts[0] !== "dzs") return undefined;
    let sig: Uint8Array<ArrayBuffer>;
    try {
      sig = unb64url(parts[2]);
    } catch {
      return undefined;
    }
    const ok = await crypto.subtle.verify(
      "HMAC",
      await this.#hmac(),
      sig,
      encoder.encode(parts[1]),
    );
    if (!ok) return undefined;
    try {
      const p = JSON.parse(new TextDecoder().decode(unb64url(parts[1])));
      if (typeof p.sid !== "string" || typeof p.exp !== "number") return undefined;
      if (this.#clock.now() >= p.exp) return undefined;
      return {
        scope: "session",
        session: p.sid,
        expiresAt: p.exp,
        ...(typeof p.agent === "string" ? { agent: p.agent } : {}),
      };
    } catch {
      return undefined;
    }
  }

  #hmac(): Promise<CryptoKey> {
    return this.#key ??= crypto.subtle.importKey(
      "raw",
      encoder.encode(`denizen-session-token:${this.#secret}`),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }
}

/** Compares two strings in time that does not depend on where they differ. */
async function equal(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i] ^ v[i];
  return diff === 0;
}

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function unb64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
