/**
 * Every route Freeway serves, in three groups: public catalog reads, inference, management.
 */
import { sendAnthropicError } from '../doors/anthropic/errors.ts';
import { handleMessages, handleMessagesCountTokens } from '../doors/anthropic/handler.ts';
import { handleChat } from '../doors/openai/chat.ts';
import { handleCompletions } from '../doors/openai/completions.ts';
import { handleEmbeddings } from '../doors/openai/embeddings.ts';
import { handleGeneration } from '../doors/openai/generation.ts';
import { handleEmbeddingModels, handleModel, handleModels, handleModelsCount, handleUserModels } from '../doors/openai/models.ts';
import { sendResponsesError } from '../doors/responses/errors.ts';
import { handleCreateResponse, handleDeleteResponse, handleGetResponse, handleListInputItems } from '../doors/responses/handler.ts';
import { handleCreateAlert, handleCreateOwnAlert, handleDeleteAlert, handleDeleteOwnAlert, handleListAlerts } from './admin/alerts.ts';
import {
  handleAddCredits,
  handleCreateAccount,
  handleGetCredits,
  handleLedger,
  handleListAccounts,
  handleUpdateAccount,
  handleUsage,
} from './admin/credits.ts';
import { handleKeySelf } from './admin/key-self.ts';
import { handleCreateKey, handleDeleteKey, handleGetKey, handleListKeys, handleUpdateKey } from './admin/keys.ts';
import { handleModelEndpoints, handleZdrEndpoints } from './endpoints-api.ts';
import { handleActivity, handleGenerationContent, handleListGenerations } from './generations-api.ts';
import { handleProviders } from './providers-api.ts';
import type { Route } from './server.ts';

export const PUBLIC_ROUTES: Route[] = [
  { method: 'GET', path: '/models', handler: handleModels },
  { method: 'GET', path: '/models/count', handler: handleModelsCount },
  { method: 'GET', path: '/embeddings/models', handler: handleEmbeddingModels },
  { method: 'GET', path: '/providers', handler: handleProviders },
  { method: 'GET', path: '/model/{author}/{slug}', handler: handleModel },
  { method: 'GET', path: '/models/{author}/{slug}/endpoints', handler: handleModelEndpoints },
  { method: 'GET', path: '/endpoints/zdr', handler: handleZdrEndpoints },
];

export const INFERENCE_ROUTES: Route[] = [
  { method: 'POST', path: '/chat/completions', handler: handleChat },
  { method: 'POST', path: '/completions', handler: handleCompletions },
  { method: 'POST', path: '/embeddings', handler: handleEmbeddings },
  { method: 'POST', path: '/messages', handler: handleMessages, renderError: sendAnthropicError },
  { method: 'POST', path: '/messages/count_tokens', handler: handleMessagesCountTokens, renderError: sendAnthropicError },
  { method: 'POST', path: '/responses', handler: handleCreateResponse, renderError: sendResponsesError },
  { method: 'GET', path: '/responses/{id}', handler: handleGetResponse, renderError: sendResponsesError },
  { method: 'DELETE', path: '/responses/{id}', handler: handleDeleteResponse, renderError: sendResponsesError },
  { method: 'GET', path: '/responses/{id}/input_items', handler: handleListInputItems, renderError: sendResponsesError },
  { method: 'GET', path: '/generation', handler: handleGeneration },
  // What this key may use: needs the key, unlike the public catalog.
  { method: 'GET', path: '/models/user', handler: handleUserModels },
  // Inference keys list their own; management keys their account's (the handler tells them apart).
  { method: 'GET', path: '/generations', handler: handleListGenerations },
  { method: 'GET', path: '/generation/content', handler: handleGenerationContent },
  { method: 'GET', path: '/key', handler: handleKeySelf },
  { method: 'GET', path: '/auth/key', handler: handleKeySelf },
  { method: 'GET', path: '/credits', handler: handleGetCredits },
  // An inference key its own usage; a management key its account's (the handler tells them apart).
  { method: 'GET', path: '/usage', handler: handleUsage },
  { method: 'POST', path: '/key/alerts', handler: handleCreateOwnAlert },
  { method: 'DELETE', path: '/key/alerts/{id}', handler: handleDeleteOwnAlert },
];

export const MANAGEMENT_ROUTES: Route[] = [
  { method: 'GET', path: '/keys', handler: handleListKeys },
  { method: 'POST', path: '/keys', handler: handleCreateKey },
  { method: 'GET', path: '/keys/{hash}', handler: handleGetKey },
  { method: 'PATCH', path: '/keys/{hash}', handler: handleUpdateKey },
  { method: 'DELETE', path: '/keys/{hash}', handler: handleDeleteKey },
  { method: 'POST', path: '/credits', handler: handleAddCredits },
  { method: 'GET', path: '/credits/ledger', handler: handleLedger },
  { method: 'GET', path: '/activity', handler: handleActivity },
  { method: 'GET', path: '/accounts', handler: handleListAccounts },
  { method: 'POST', path: '/accounts', handler: handleCreateAccount },
  { method: 'PATCH', path: '/accounts/{id}', handler: handleUpdateAccount },
  { method: 'GET', path: '/alerts', handler: handleListAlerts },
  { method: 'POST', path: '/alerts', handler: handleCreateAlert },
  { method: 'DELETE', path: '/alerts/{id}', handler: handleDeleteAlert },
];

export const ALL_ROUTES: Route[] = [...PUBLIC_ROUTES, ...INFERENCE_ROUTES, ...MANAGEMENT_ROUTES];
