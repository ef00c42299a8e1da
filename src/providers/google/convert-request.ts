/**
 * Internal ChatRequest → Gemini generateContent body.
 *
 * - System messages (wherever they are) become `systemInstruction`; assistant → role `model`; tool
 *   results → `functionResponse` parts in a user turn, named after the matching earlier tool call;
 *   consecutive turns of the same role are merged (Gemini wants them alternating).
 * - Gemini reasoning artefacts are replayed where Gemini put them: a thought signature with an id
 *   goes on that function call, one without an id on the last text part, thought text as a
 *   `{text, thought: true}` part. Other providers' reasoning is dropped.
 * - Tool call ids are not sent: Gemini pairs responses with calls by name and position, and ids
 *   are often Freeway's own (Gemini does not always return them).
 * - A thinking Gemini rejects a function call turn of the current exchange without its thought
 *   signature (Gemini 3 always, as documented; Gemini 2.5 too when it thinks, as users of its API
 *   report); history from elsewhere (another provider, a client that dropped the details, such as
 *   Cline) gets Google's documented placeholder instead of a certain 400.
 */
import { GEMINI_FORMAT } from '../../spec/reasoning.ts';
import { thinkingBudget, wantsReasoning } from '../../spec/reasoning-budget.ts';
import type { AssistantMessage, ChatRequest, ToolMessage, UserPart } from '../../spec/request.ts';
import { applyOptions } from './convert-options.ts';
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest, GeminiRole, GeminiToolConfig } from './wire-types.ts';

/** Google's documented value for a function call whose real signature is unknown. */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';
const MAX_STOP_SEQUENCES = 5;
const DEFAULT_MAX_OUTPUT = 8192;

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

/** A media type from a URL's file extension. */
export function guessMimeType(url: string, fallback: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not an absolute URL: use it as a path.
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXTENSION[ext]) || fallback;
}

/** A `data:` URL → inline data; anything else → a file reference. */
function mediaPart(
  url: string | undefined,
  data: string | undefined,
  mediaType: string | undefined,
  fallback: string,
): GeminiPart | undefined {
  if (data) return { inlineData: { mimeType: mediaType ?? fallback, data } };
  if (!url) return undefined;
  const m = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (m) return { inlineData: { mimeType: m[1] ?? mediaType ?? fallback, data: m[2] } };
  return { fileData: { fileUri: url, mimeType: mediaType ?? guessMimeType(url, fallback) } };
}

function userPart(p: UserPart): GeminiPart | undefined {
  switch (p.type) {
    case 'text':
      return p.text === '' ? undefined : { text: p.text };
    case 'image':
      return mediaPart(p.url, p.data, p.mediaType, 'image/jpeg');
    case 'file':
      return mediaPart(p.url, p.data, p.mediaType, 'application/pdf');
    case 'audio':
      return { inlineData: { mimeType: p.format.includes('/') ? p.format : `audio/${p.format}`, data: p.data } };
  }
}

/** Arguments as Gemini wants them: an object, whatever the model or client wrote. */
function parseArgs(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Invalid JSON from a client: the call goes back with no arguments.
  }
  return {};
}

function assistantParts(m: AssistantMessage): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const callSignatures = new Map<string, string>();
  let textSignature: string | undefined;
  for (const d of m.reasoning) {
    if (d.format !== GEMINI_FORMAT) continue;
    if (d.type === 'reasoning.text' && d.text) {
      parts.push({ text: d.text, thought: true, ...(d.signature ? { thoughtSignature: d.signature } : {}) });
    } else if (d.type === 'reasoning.encrypted' && d.data) {
      if (d.id) callSignatures.set(d.id, d.data);
      else textSignature = d.data;
    }
  }
  for (const t of m.content) if (t.text !== '') parts.push({ text: t.text });
  for (const tc of m.toolCalls) {
    const sig = callSignatures.get(tc.id);
    parts.push({ functionCall: { name: tc.name, args: parseArgs(tc.arguments) }, ...(sig ? { thoughtSignature: sig } : {}) });
  }
  if (textSignature) {
    // Gemini signs the answer's last text part; with no text, the signature rides the first call.
    const host = parts.findLast((p) => p.text !== undefined && !p.thought) ?? parts.find((p) => p.functionCall && !p.thoughtSignature);
    if (host) host.thoughtSignature = textSignature;
  }
  return parts;
}

function toolParts(m: ToolMessage, callNames: Map<string, string>): GeminiPart[] {
  const text = m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  let response: Record<string, unknown> = { result: text };
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) response = v as Record<string, unknown>;
  } catch {
    // Plain text result.
  }
  const name = callNames.get(m.toolCallId) ?? m.name ?? m.toolCallId;
  const parts: GeminiPart[] = [{ functionResponse: { name, response } }];
  for (const p of m.content) {
    if (p.type !== 'image') continue;
    const media = mediaPart(p.url, p.data, p.mediaType, 'image/jpeg');
    if (media) parts.push(media);
  }
  return parts;
}

/**
 * Whether the model may enforce thought signatures on the current exchange: every model that thinks
 * (2.5 and later). The placeholder is harmless where nothing is checked; a missing signature is a 400
 * where it is.
 */
function enforcesSignatures(model: string): boolean {
  return !/^(models\/)?gemini-(1|2\.0)[.-]/.test(model);
}

function fillMissingSignatures(contents: GeminiContent[]): void {
  // The current exchange starts at the last user turn that is not only function responses.
  let start = 0;
  contents.forEach((c, i) => {
    if (c.role === 'user' && c.parts.some((p) => !p.functionResponse)) start = i;
  });
  for (const c of contents.slice(start + 1)) {
    if (c.role !== 'model') continue;
    const first = c.parts.find((p) => p.functionCall);
    if (first && !first.thoughtSignature) first.thoughtSignature = SKIP_SIGNATURE;
  }
}

function generationConfig(req: ChatRequest, warnings: string[]): GeminiGenerationConfig {
  const g: GeminiGenerationConfig = {};
  if (req.temperature !== undefined) g.temperature = req.temperature;
  if (req.topP !== undefined) g.topP = req.topP;
  if (req.topK !== undefined) g.topK = req.topK;
  if (req.maxTokens !== undefined) g.maxOutputTokens = req.maxTokens;
  if (req.stop && req.stop.length > 0) {
    if (req.stop.length > MAX_STOP_SEQUENCES)
      warnings.push(`Gemini takes at most ${MAX_STOP_SEQUENCES} stop sequences; the rest were dropped`);
    g.stopSequences = req.stop.slice(0, MAX_STOP_SEQUENCES);
  }
  if (req.seed !== undefined) g.seed = req.seed;
  if (req.presencePenalty !== undefined) g.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) g.frequencyPenalty = req.frequencyPenalty;
  const dropped: Array<[string, unknown]> = [
    ['repetition_penalty', req.repetitionPenalty],
    ['min_p', req.minP],
    ['top_a', req.topA],
    ['logit_bias', req.logitBias],
    ['logprobs', req.logprobs || undefined],
    ['top_logprobs', req.topLogprobs],
  ];
  for (const [name, value] of dropped) if (value !== undefined) warnings.push(`${name} is not supported by Gemini and was dropped`);

  const rf = req.responseFormat;
  if (rf?.type === 'json_object') g.responseMimeType = 'application/json';
  else if (rf?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    g.responseJsonSchema = rf.schema;
  }

  const r = req.reasoning;
  if (wantsReasoning(r)) {
    const budget = thinkingBudget(r, req.maxTokens ?? DEFAULT_MAX_OUTPUT, { min: 128, max: 32_768 });
    g.thinkingConfig = { thinkingBudget: budget, includeThoughts: r?.exclude !== true };
  } else if (r && (r.effort === 'none' || r.enabled === false)) {
    g.thinkingConfig = { thinkingBudget: 0 };
  }
  return g;
}

function toolConfig(req: ChatRequest): GeminiToolConfig | undefined {
  const c = req.toolChoice;
  if (!c) return undefined;
  switch (c.type) {
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'tool':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [c.name] } };
  }
}

export function toGeminiRequest(req: ChatRequest, model: string, warnings: string[]): GeminiRequest {
  const system: Array<{ text: string }> = [];
  const callNames = new Map<string, string>();
  for (const m of req.messages) if (m.role === 'assistant') for (const tc of m.toolCalls) callNames.set(tc.id, tc.name);

  const contents: GeminiContent[] = [];
  const push = (role: GeminiRole, parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const m of req.messages) {
    switch (m.role) {
      case 'system':
        for (const t of m.content) if (t.text !== '') system.push({ text: t.text });
        break;
      case 'user':
        push(
          'user',
          m.content.map(userPart).filter((p): p is GeminiPart => p !== undefined),
        );
        break;
      case 'assistant':
        push('model', assistantParts(m));
        break;
      case 'tool':
        push('user', toolParts(m, callNames));
        break;
    }
  }
  if (enforcesSignatures(model)) fillMissingSignatures(contents);

  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools && req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          parametersJsonSchema: t.parameters,
        })),
      },
    ];
    const tc = toolConfig(req);
    if (tc) body.toolConfig = tc;
    if (req.parallelToolCalls === false) warnings.push('parallel_tool_calls=false is not supported by Gemini and was ignored');
  }
  const g = generationConfig(req, warnings);
  if (Object.keys(g).length > 0) body.generationConfig = g;
  applyOptions(req.upstreamOptions, body, warnings);
  if (req.passthrough && Object.keys(req.passthrough).length > 0) {
    warnings.push(`Pass-through fields are not sent to Gemini: ${Object.keys(req.passthrough).join(', ')}`);
  }
  return body;
}
