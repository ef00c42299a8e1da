/**
 * Pieces shared by the OpenAI emulator's routes: error bodies in OpenAI's exact shape, the
 * responses [[error:N]] produces, ids, and the request-text helpers the routes use to find directives.
 */
import { hasScriptedFault, parseDirectives } from './common.ts';
import type { Directives } from './common.ts';

/** A finished non-streaming answer: JSON `body`, or `raw` text (Cloudflare's HTML pages). */
export interface Reply {
  status: number;
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A streaming answer: pre-rendered `data: ...\n\n` frames for writeFrames. */
export interface Frames {
  frames: string[];
}

export function oaiError(
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
  type = 'invalid_request_error',
  headers?: Record<string, string>,
): Reply {
  return { status, body: { error: { message, type, param, code } }, headers };
}

export const NO_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
  "(i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API " +
  'from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.';

/** OpenAI quotes a wrong key back with its middle masked: first 8 and last 4 characters survive. */
export function maskKey(key: string): string {
  if (key.length <= 12) return key;
  return key.slice(0, 8) + '*'.repeat(key.length - 12) + key.slice(-4);
}

export function invalidKey(key: string): Reply {
  return oaiError(
    401,
    `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    null,
    'invalid_api_key',
  );
}

export function modelNotFound(model: string): Reply {
  return oaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, null, 'model_not_found');
}

export const RATE_LIMIT_REQUESTS = 10_000;
export const RATE_LIMIT_TOKENS = 30_000_000;

const CLOUDFLARE_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** The response OpenAI gives for a status, as scripted by [[error:N]]. */
export function statusError(status: number, model: string, key: string): Reply {
  switch (status) {
    case 400:
      return oaiError(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        'messages',
        'context_length_exceeded',
      );
    case 401:
      return invalidKey(key);
    case 403:
      return oaiError(
        403,
        'Country, region, or territory not supported',
        null,
        'unsupported_country_region_territory',
        'request_forbidden',
      );
    case 404:
      return modelNotFound(model);
    case 429:
      return oaiError(
        429,
        `Rate limit reached for ${model} in organization org-emulator on requests per min (RPM): Limit ${RATE_LIMIT_REQUESTS}, ` +
          `Used ${RATE_LIMIT_REQUESTS}, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        null,
        'rate_limit_exceeded',
        'requests',
        {
          'retry-after': '1',
          'x-ratelimit-limit-requests': String(RATE_LIMIT_REQUESTS),
          'x-ratelimit-limit-tokens': String(RATE_LIMIT_TOKENS),
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-remaining-tokens': String(RATE_LIMIT_TOKENS),
          'x-ratelimit-reset-requests': '1s',
          'x-ratelimit-reset-tokens': '0s',
        },
      );
    case 500:
      return oaiError(500, 'The server had an error while processing your request. Sorry about that!', null, null, 'server_error');
    case 502:
      return { status: 502, raw: CLOUDFLARE_502, contentType: 'text/html' };
    case 503:
      return oaiError(503, 'The engine is currently overloaded, please try again later', null, null, 'server_error');
    default:
      return oaiError(status, `Emulated error ${status}`, null, null, status >= 500 ? 'server_error' : 'invalid_request_error');
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomId(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM[(Math.random() * 62) | 0];
  return s;
}

export const FINGERPRINT = 'fp_' + 'e1a9c0b2d4';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Text of a message's `content`: a string, or the `text` of its parts. */
// any: emulators read arbitrary client JSON; tests narrow what they assert on.
export function contentText(content: any): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) if (part && typeof part.text === 'string') out += (out ? '\n' : '') + part.text;
  return out;
}

const NO_DIRECTIVES: Directives = Object.freeze({ malformed: false, parallel: false, noTool: false, long: false });

/** Directives are only parsed when the text can hold one: most benchmark requests skip the regexes. */
export function directivesIn(text: string): Directives {
  return text.includes('[[') || hasScriptedFault() ? parseDirectives(text) : NO_DIRECTIVES;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OpenAI's 400 for a top-level field its endpoint does not know (`param` and `code` are null, as
 * the real API sends them), or null. `known` is the endpoint's documented request body — the
 * fields of the `openai` SDK's create params, which are generated from OpenAI's API spec.
 */
export function unknownField(body: Record<string, unknown>, known: ReadonlySet<string>): Reply | null {
  const extra = Object.keys(body).find((k) => !known.has(k));
  return extra === undefined ? null : oaiError(400, `Unrecognized request argument supplied: ${extra}`);
}
