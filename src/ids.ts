/**
 * Sortable ids: 10 characters of time and 16 of randomness in Crockford
 * base32, like ULID, so ids created later sort later.
 *
 * @module
 */
import type { Clock } from "./clock.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Makes a new id. */
export type IdGenerator = () => string;

/** A ULID-like generator over `clock`; strictly increasing within one millisecond. */
export function ulidGenerator(clock: Clock): IdGenerator {
  let lastTime = -1;
  const last = new Uint8Array(16);
  return () => {
    const now = clock.now();
    if (now === lastTime) {
      for (let i = 15; i >= 0; i--) {
        if (last[i] < 31) {
          last[i]++;
          break;
        }
        last[i] = 0;
      }
    } else {
      lastTime = now;
      crypto.getRandomValues(last);
      for (let i = 0; i < 16; i++) last[i] &= 31;
      last[0] &= 15; // headroom so that increments within one ms never overflow
    }
    let time = "";
    let t = now;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32] + time;
      t = Math.floor(t / 32);
    }
    let rand = "";
    for (const v of last) rand += ALPHABET[v];
    return time + rand;
  };
}
