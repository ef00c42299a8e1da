/**
 * Thinking blocks without a signature, which Anthropic refuses in a request ("signature: Field
 * required"). A client holds one when an answer's thinking was cut and carried on by another
 * endpoint (Freeway's mid-stream failover cannot sign what Anthropic did not finish), or when it
 * came from a model that does not sign. Such a block can only be left out; the client is told.
 *
 * When the last assistant turn loses its leading thinking block while its tool call is being
 * answered, Anthropic would refuse the request with thinking on ("a final assistant message must
 * start with a thinking block"): thinking is then turned off for this request, also said.
 */
import type { Obj } from '../../spec/validate.ts';

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function unsigned(block: unknown): boolean {
  return isObj(block) && block.type === 'thinking' && (typeof block.signature !== 'string' || block.signature === '');
}

export function dropUnsignedThinking(body: Obj): { body: Obj; warnings: string[] } {
  const messages = body.messages;
  if (!Array.isArray(messages)) return { body, warnings: [] };
  let dropped = 0;
  let lastAssistantLostItsLead = false;
  const lastAssistant = messages.findLastIndex((m) => isObj(m) && m.role === 'assistant');
  const cleaned = messages.map((m, i) => {
    if (!isObj(m) || m.role !== 'assistant' || !Array.isArray(m.content) || !m.content.some(unsigned)) return m;
    const content = m.content.filter((b) => !unsigned(b));
    dropped += m.content.length - content.length;
    // Anthropic's rule is about a tool loop in progress: the last assistant turn called a tool.
    const callsTool = m.content.some((b) => isObj(b) && b.type === 'tool_use');
    if (i === lastAssistant && unsigned(m.content[0]) && callsTool) lastAssistantLostItsLead = true;
    return { ...m, content };
  });
  if (dropped === 0) return { body, warnings: [] };
  const warnings = [
    `${dropped} thinking block${dropped === 1 ? '' : 's'} without a signature (from an answer that was cut and carried on by another endpoint) ` +
      'left out of the conversation: Anthropic accepts only signed thinking.',
  ];
  const out: Obj = { ...body, messages: cleaned };
  const thinkingOn = isObj(body.thinking) && body.thinking.type !== 'disabled';
  if (lastAssistantLostItsLead && thinkingOn) {
    delete out.thinking;
    warnings.push('thinking turned off for this request: the tool call being answered lost its unsigned thinking block.');
  }
  return { body: out, warnings };
}
