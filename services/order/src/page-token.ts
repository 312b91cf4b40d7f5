// ListOrders' page_token: where the next page starts, sealed. A readable cursor (the base64 of a row id) would tell
// a client how many orders the service holds and let it write its own, to skip ahead or to walk another consumer's
// listing; so the cursor is encrypted with AES-256-GCM, whose tag also makes any change to a token detectable,
// and the listing's consumer id is bound in as associated data: a token pages only the listing that issued it.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { InvalidArgumentError } from "@ftgo/platform";

/** The key's size in bytes: AES-256. */
export const PAGE_TOKEN_KEY_BYTES = 32;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CURSOR_BYTES = 8;
const TOKEN_BYTES = 1 + IV_BYTES + CURSOR_BYTES + TAG_BYTES;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface PageTokens {
  /** The token for the page after `cursor` of `consumerId`'s listing; "" when there is no next page. */
  seal(cursor: number | undefined, consumerId: string): string;
  /** The cursor a token of this listing carries, undefined for "" (the first page); else INVALID_ARGUMENT. */
  open(token: string, consumerId: string): number | undefined;
}

/**
 * Page tokens sealed with `key` (PAGE_TOKEN_KEY_BYTES long). Every Order instance given the same key reads the
 * others' tokens, and they survive a restart; a process given none makes one, so its tokens last as long as it.
 */
export function createPageTokens(key: Buffer = randomBytes(PAGE_TOKEN_KEY_BYTES)): PageTokens {
  if (key.length !== PAGE_TOKEN_KEY_BYTES) throw new RangeError(`a page token key is ${PAGE_TOKEN_KEY_BYTES} bytes`);
  return {
    seal(cursor, consumerId) {
      if (cursor === undefined) return "";
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad(consumerId));
      const plain = Buffer.alloc(CURSOR_BYTES);
      plain.writeBigUInt64BE(BigInt(cursor));
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, sealed, cipher.getAuthTag()]).toString("base64url");
    },

    open(token, consumerId) {
      if (token === "") return undefined;
      const bytes = BASE64URL.test(token) ? Buffer.from(token, "base64url") : Buffer.alloc(0);
      if (bytes.length !== TOKEN_BYTES || bytes[0] !== VERSION) throw notIssued();
      const iv = bytes.subarray(1, 1 + IV_BYTES);
      const sealed = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + CURSOR_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, iv).setAAD(aad(consumerId));
      decipher.setAuthTag(bytes.subarray(TOKEN_BYTES - TAG_BYTES));
      try {
        const plain = Buffer.concat([decipher.update(sealed), decipher.final()]);
        return Number(plain.readBigUInt64BE());
      } catch {
        throw notIssued(); // the tag does not verify: altered, forged, another listing's, or another key's
      }
    },
  };
}

const aad = (consumerId: string) => Buffer.from(`ftgo.order.ListOrders consumer_id=${consumerId}`);

function notIssued(): InvalidArgumentError {
  return new InvalidArgumentError(
    "page_token: not a token ListOrders issued for this listing (altered, forged, for another consumer, or from " +
      "before Order restarted without ORDER_PAGE_TOKEN_KEY); list again from the first page",
  );
}
