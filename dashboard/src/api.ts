// The server's HTTP API as the dashboard calls it: same origin, the session cookie sent by
// the browser, and the session's CSRF token on every state-changing request. Paths mirror
// `envsync_api::paths::route` (the Rust tests hold the server to them).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Remembers the session's CSRF token (from POST or GET /session); never stored. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

const enc = encodeURIComponent;
const prefix = '/api/v1';
export const paths = {
  session: () => `${prefix}/session`,
  whoami: () => `${prefix}/whoami`,
  tokens: () => `${prefix}/tokens`,
  token: (id: string) => `${prefix}/tokens/${enc(id)}`,
  serverAudit: () => `${prefix}/audit`,
  events: () => `${prefix}/events`,
  members: (p: string) => `${prefix}/projects/${enc(p)}/members`,
  memberEvent: (p: string, n: number) => `${prefix}/projects/${enc(p)}/members/${n}`,
  requests: (p: string) => `${prefix}/projects/${enc(p)}/requests`,
  request: (p: string, fingerprint: string) =>
    `${prefix}/projects/${enc(p)}/requests/${enc(fingerprint)}`,
  ciTokens: (p: string) => `${prefix}/projects/${enc(p)}/ci-tokens`,
  grants: (p: string) => `${prefix}/projects/${enc(p)}/grants`,
  invites: (p: string) => `${prefix}/projects/${enc(p)}/invites`,
  invite: (p: string, codeSha256: string) =>
    `${prefix}/projects/${enc(p)}/invites/${enc(codeSha256)}`,
  audit: (p: string) => `${prefix}/projects/${enc(p)}/audit`,
  environments: (p: string) => `${prefix}/projects/${enc(p)}/environments`,
  head: (p: string, e: string) => `${prefix}/projects/${enc(p)}/environments/${enc(e)}/head`,
  versions: (p: string, e: string) =>
    `${prefix}/projects/${enc(p)}/environments/${enc(e)}/versions`,
  newVersions: (p: string) => `${prefix}/projects/${enc(p)}/versions`,
  version: (p: string, e: string, n: number) =>
    `${prefix}/projects/${enc(p)}/environments/${enc(e)}/versions/${n}`,
  object: (p: string, e: string, sha256: string) =>
    `${prefix}/projects/${enc(p)}/environments/${enc(e)}/objects/${enc(sha256)}`,
};

/** A request body that is JSON text already and is sent as it is (a signed document
 * embedded byte for byte, as the CLI embeds it). */
export class JsonText {
  constructor(readonly text: string) {}
}

/** One API call; a non-2xx answer becomes an ApiError with the server's message. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) init.body = body instanceof JsonText ? body.text : JSON.stringify(body);
  const response = await fetch(path, init);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const detail = (parsed as ErrorBody | undefined)?.error;
    throw new ApiError(
      response.status,
      detail?.code ?? 'http',
      detail?.message ?? `HTTP ${response.status}`,
    );
  }
  return parsed as T;
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path);

interface ErrorBody {
  error?: { code?: string; message?: string };
}

export type Role = 'owner' | 'writer' | 'reader';

export interface SessionInfo {
  account: string;
  name: string;
  admin: boolean;
  csrf_token: string;
  expires_at: number;
  /** The operator enabled unlocking (`envsync server --dashboard-unlock`). */
  unlock: boolean;
}

export interface Grant {
  project: string;
  role: Role;
  environments: string[] | null;
}

export interface WhoAmI {
  account: string;
  name: string;
  member_key: string | null;
  admin: boolean;
  token_kind: 'personal' | 'ci';
  grants: Grant[];
  pending: string[];
}

export interface Signed<T> {
  body: T;
  signature: string;
}

export interface VersionBody {
  number: number;
  environment: string;
  author: string;
  author_name: string;
  created_at: string;
  message: string;
  keys: string[];
  changes: { added: string[]; removed: string[]; changed: string[] };
  base: number | null;
}

export interface MembershipBody {
  number: number;
  action: 'add' | 'remove';
  member: string;
  name: string;
  role: Role;
  environments: string[] | null;
  actor: string;
  created_at: string;
}

export interface AccessRequestBody {
  member: string;
  name: string;
  created_at: string;
  expires_at: number;
  invite: string | null;
}

export interface Records<T> {
  records: Signed<T>[];
}

export interface TokenInfo {
  id: string;
  label: string;
  kind: 'personal' | 'ci';
  account: string;
  project: string | null;
  environment: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

/** An invite as an owner lists it: named by its code's SHA-256, never the code. */
export interface InviteInfo {
  code_sha256: string;
  role: Role;
  environments: string[] | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  redeemed_by: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
  /** The owner-signed terms (`Signed<InviteBody>`), which clients verify; null if none. */
  signed: unknown;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  project: string | null;
  target: string;
  source_address: string | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_after: number | null;
}

export interface LiveEvent {
  project: string;
  environment: string | null;
  number: number;
  author?: string | null;
}
