/** A validated authorization request (the parameters that survive until the code is issued). */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly prompt: readonly Prompt[];
  readonly maxAge: number | undefined;
  readonly uiLocales: string | undefined;
  readonly loginHint: string | undefined;
  /**
   * OIDC Core §3.1.2.1: the sub of a verified id_token_hint. Only that user's session answers
   * the request; with another user signed in, prompt=none gets login_required, else the login page.
   */
  readonly idTokenHintSubject?: string | undefined;
  /** RFC 9449 §10: the thumbprint of the DPoP key the code is bound to. */
  readonly dpopJkt?: string | undefined;
  /** Set when the request was pushed (RFC 9126): the handle of its request_uri, spent on completion. */
  readonly pushedHandle?: string | undefined;
}

export const PROMPT_VALUES = ['none', 'login', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPT_VALUES)[number];

/** The login and consent step between /auth and the code. */
export interface Interaction {
  readonly id: string;
  readonly request: AuthorizationRequest;
  readonly csrfToken: string;
  /** Set once the user authenticated during this interaction. */
  readonly userId: string | undefined;
  readonly authTime: number | undefined;
  readonly expiresAt: number;
}
