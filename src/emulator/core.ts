import type { AuthorizationCodes } from './codes.js';
import type { ConversationState } from './conversations.js';
import type { FaultStore } from './faults.js';
import type { IdentityState } from './state.js';
import type { TokenRecord } from './tokens.js';
import type { RecordedRequest, ResolvedOptions } from './types.js';

/** Everything the HTTP layer needs, shared by the Genesys routes and the control router. */
export interface EmulatorCore {
  readonly identity: IdentityState;
  readonly codes: AuthorizationCodes;
  readonly conversations: ConversationState;
  readonly faults: FaultStore;
  readonly requests: RecordedRequest[];
  readonly options: ResolvedOptions;
  /** Always goes through the current options, so `configure({clock})` takes effect at once. */
  now(): number;
}

export interface RateInfo {
  count: number;
  allowed: number;
  resetSeconds: number;
}

/** Hono context variables set by the middleware pipeline. */
export type EmuEnv = {
  Variables: {
    rawBody: string;
    rawBytes: number;
    correlationId: string | undefined;
    /** The valid token of an authenticated /api/v2 request. */
    token: TokenRecord | undefined;
    rate: RateInfo | undefined;
  };
};
