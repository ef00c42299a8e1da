/**
 * Each adapter reads its protocol's error body (its parse-error.ts); the shared module maps the
 * status onto the one taxonomy. And the two rules every caller shares: which failures are worth
 * retrying, and which count against an endpoint's health.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamError, parseAnthropicError } from '../../src/providers/anthropic/parse-error.ts';
import { parseGeminiError } from '../../src/providers/google/parse-error.ts';
import { bodyError, parseOpenAIError } from '../../src/providers/openai-compatible/parse-error.ts';
import { upstreamHttpError } from '../../src/providers/upstream-error.ts';
import { isProviderFault } from '../../src/router/health/policy.ts';
import { GatewayError, retryableStatus } from '../../src/spec/errors.ts';

test("Anthropic's error body: the message and the error type as the provider's code", () => {
  const body = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  const err = upstreamHttpError('Anthropic', 529, {}, body, parseAnthropicError);
  assert.equal(err.type, 'provider_overloaded');
  assert.equal(err.status, 503);
  assert.equal(err.retryable, true);
  assert.equal(err.message, 'Anthropic returned HTTP 529: Overloaded');
  assert.equal(err.metadata.provider_code, 'overloaded_error');
  assert.deepEqual(parseAnthropicError(502, 'Bad Gateway'), { message: 'Bad Gateway' });
});

test("Anthropic's stream error types map onto the taxonomy; a client's mistake is not retried", () => {
  const bad = streamError('Anthropic', { type: 'invalid_request_error', message: 'nope' });
  assert.deepEqual([bad.type, bad.status, bad.retryable], ['invalid_request', 400, false]);
  const busy = streamError('Anthropic', { type: 'overloaded_error', message: 'busy' });
  assert.deepEqual([busy.type, busy.status, busy.retryable], ['provider_overloaded', 503, true]);
  const odd = streamError('Anthropic', { type: 'something_new', message: 'huh' });
  assert.deepEqual([odd.type, odd.retryable], ['provider_unavailable', true]);
});

test("Gemini's error body: a rejected key said with a 400 maps like a 401; RetryInfo stands in for Retry-After", () => {
  const rejected = {
    error: {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
      details: [{ reason: 'API_KEY_INVALID' }],
    },
  };
  const err = upstreamHttpError('Gemini', 400, {}, JSON.stringify(rejected), parseGeminiError);
  assert.equal(err.status, 502);
  assert.match(err.message, /rejected the API key Freeway is configured with \(HTTP 400\)/);
  assert.equal(err.metadata.provider_code, 'INVALID_ARGUMENT');
  const limited = {
    error: {
      code: 429,
      message: 'quota',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '27s' }],
    },
  };
  const err2 = upstreamHttpError('Gemini', 429, {}, JSON.stringify(limited), parseGeminiError);
  assert.equal(err2.retryAfter, 27);
  assert.equal(err2.headers['retry-after'], '27');
  // The header, when there is one, wins.
  assert.equal(upstreamHttpError('Gemini', 429, { 'retry-after': '3' }, JSON.stringify(limited), parseGeminiError).retryAfter, 3);
  // A plain 400 is the request's fault, not the key's.
  const badRequest = JSON.stringify({ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } });
  const plain = upstreamHttpError('Gemini', 400, {}, badRequest, parseGeminiError);
  assert.deepEqual([plain.status, plain.retryable], [400, false]);
});

test("OpenAI-compatible servers' dialects, and an error inside a 2xx answer", () => {
  const openAI = { error: { message: 'bad', type: 'invalid_request_error', code: 'x' } };
  assert.deepEqual(parseOpenAIError(400, openAI), { message: 'bad', code: 'x' });
  assert.deepEqual(parseOpenAIError(422, { detail: 'FastAPI says no' }), { message: 'FastAPI says no' });
  assert.deepEqual(parseOpenAIError(500, { errors: [{ message: 'first' }] }), { message: 'first' });
  const e = bodyError('Groq', { message: 'model crashed' }, 'stream error');
  assert.deepEqual([e.type, e.message], ['provider_unavailable', 'Groq: model crashed']);
  assert.equal(bodyError('Groq', 'weird', 'stream error').message, 'Groq: stream error');
});

// An upstream 404 is the exception: another endpoint may have the model.
test('the retry rule: rate limits and server failures are worth another try', () => {
  assert.deepEqual([429, 500, 503, 400, 401, 404, 413].map(retryableStatus), [true, true, true, false, false, false, false]);
  assert.equal(upstreamHttpError('P', 404, {}, '', parseOpenAIError).retryable, true);
  assert.equal(upstreamHttpError('P', 401, {}, '', parseOpenAIError).retryable, true);
  assert.equal(upstreamHttpError('P', 422, {}, '', parseOpenAIError).retryable, false);
});

test("the fault rule: only the provider's own failures count against its health", () => {
  const e = (type: GatewayError['type'], status?: number) => new GatewayError(type, 'x', status === undefined ? {} : { status });
  assert.equal(isProviderFault(e('provider_unavailable')), true);
  assert.equal(isProviderFault(e('rate_limit_exceeded')), true);
  assert.equal(isProviderFault(e('timeout', 408)), true);
  assert.equal(isProviderFault(e('invalid_request')), false);
  assert.equal(isProviderFault(e('not_found')), false);
  // Freeway's own database or Redis being away says nothing about the endpoint.
  assert.equal(isProviderFault(e('service_unavailable')), false);
});

test('a context overflow, in each protocol’s words, is context_length_exceeded with the counts it gave', () => {
  const cases: Array<[string, number, unknown, typeof parseOpenAIError, number | undefined, number | undefined]> = [
    [
      'OpenAI',
      400,
      {
        error: {
          message:
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      },
      parseOpenAIError,
      130000,
      128000,
    ],
    [
      'OpenRouter',
      400,
      {
        error: {
          code: 400,
          message:
            "This endpoint's maximum context length is 200000 tokens. However, you requested about 250123 tokens (250123 of text input).",
        },
      },
      parseOpenAIError,
      250123,
      200000,
    ],
    [
      'llama.cpp',
      400,
      {
        error: {
          code: 400,
          type: 'exceed_context_size_error',
          message: 'the request exceeds the available context size',
          n_prompt_tokens: 9000,
          n_ctx: 8192,
        },
      },
      parseOpenAIError,
      9000,
      8192,
    ],
    [
      'Anthropic',
      400,
      { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 212345 tokens > 200000 maximum' } },
      parseAnthropicError,
      212345,
      200000,
    ],
    [
      'Gemini',
      400,
      {
        error: {
          code: 400,
          message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
          status: 'INVALID_ARGUMENT',
        },
      },
      parseGeminiError,
      1200000,
      1048576,
    ],
  ];
  for (const [name, status, body, parse, prompt, max] of cases) {
    const err = upstreamHttpError(name, status, {}, JSON.stringify(body), parse);
    assert.equal(err.type, 'context_length_exceeded', name);
    assert.equal(err.status, 400, name);
    assert.equal(err.retryable, false, name);
    assert.equal(err.metadata.prompt_tokens, prompt, name);
    assert.equal(err.metadata.max_context_tokens, max, name);
  }
  // Another 400 stays a plain invalid request.
  const other = upstreamHttpError(
    'OpenAI',
    400,
    {},
    JSON.stringify({ error: { message: 'Invalid value for temperature', code: 'invalid_value' } }),
    parseOpenAIError,
  );
  assert.equal(other.type, 'invalid_request');
  assert.equal(other.metadata.prompt_tokens, undefined);
});
