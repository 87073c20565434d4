// The typed API client: openapi-fetch over the types openapi-typescript generates from the served
// document (scripts/gen-api.sh). Same origin as the app: every URL is relative.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** An RFC 9457 problem the API answered, with the fields at fault. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly fieldErrors: { field: string; message: string }[];
  constructor(status: number, body: unknown) {
    const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const detail = typeof p.detail === 'string' ? p.detail : `The service answered ${status}.`;
    super(detail);
    this.name = 'ApiProblem';
    this.status = status;
    this.title = typeof p.title === 'string' ? p.title : '';
    this.fieldErrors = Array.isArray(p.errors)
      ? (p.errors as unknown[]).flatMap((e) => {
          const r = e as Record<string, unknown>;
          return typeof r.field === 'string' && typeof r.message === 'string'
            ? [{ field: r.field, message: r.message }]
            : [];
        })
      : [];
  }
  /** The message for `field` (exact name or a JSON path under it), if the API named it. */
  forField(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field || e.field.startsWith(`${field}.`))?.message;
  }
}

let sessionToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** The investor session sent as `Authorization: Bearer` (set by the session provider). */
export function setSessionToken(token: string | undefined, unauthorized?: () => void) {
  sessionToken = token;
  onUnauthorized = unauthorized;
}

const auth: Middleware = {
  onRequest({ request }) {
    if (sessionToken && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${sessionToken}`);
    }
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && request.headers.get('Authorization')?.startsWith('Bearer pis_')) {
      onUnauthorized?.();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** The data of an openapi-fetch answer, or its problem thrown. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiProblem(result.response.status, result.error);
  }
  return result.data as T;
}

/** A GET of a route the document may not list yet: `undefined` on 404 (not served yet). */
export async function getOptional<T>(path: string): Promise<T | undefined> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (sessionToken) headers.Authorization = `Bearer ${sessionToken}`;
  const response = await fetch(path, { headers });
  if (response.status === 404) return undefined;
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiProblem(response.status, body);
  return body as T;
}

/** A file from an authenticated route (the tax CSV), as a Blob plus its suggested name. */
export async function download(path: string): Promise<{ blob: Blob; filename: string }> {
  const headers: Record<string, string> = {};
  if (sessionToken) headers.Authorization = `Bearer ${sessionToken}`;
  const response = await fetch(path, { headers });
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 401) onUnauthorized?.();
    throw new ApiProblem(response.status, body);
  }
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'pipeit.csv';
  return { blob: await response.blob(), filename };
}
