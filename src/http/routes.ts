/**
 * Every route Freeway serves, in three groups: public catalog reads, inference, management.
 */
import { handleChat } from '../doors/openai/chat.ts';
import { handleCompletions } from '../doors/openai/completions.ts';
import { handleEmbeddings } from '../doors/openai/embeddings.ts';
import { handleGeneration } from '../doors/openai/generation.ts';
import { handleModel, handleModels } from '../doors/openai/models.ts';
import { handleCreateKey } from './admin-keys.ts';
import type { Route } from './server.ts';

export const PUBLIC_ROUTES: Route[] = [
  { method: 'GET', path: '/models', handler: handleModels },
  { method: 'GET', path: '/model/{author}/{slug}', handler: handleModel },
];

export const INFERENCE_ROUTES: Route[] = [
  { method: 'POST', path: '/chat/completions', handler: handleChat },
  { method: 'POST', path: '/completions', handler: handleCompletions },
  { method: 'POST', path: '/embeddings', handler: handleEmbeddings },
  { method: 'GET', path: '/generation', handler: handleGeneration },
];

export const MANAGEMENT_ROUTES: Route[] = [{ method: 'POST', path: '/keys', handler: handleCreateKey }];

export const ALL_ROUTES: Route[] = [...PUBLIC_ROUTES, ...INFERENCE_ROUTES, ...MANAGEMENT_ROUTES];
