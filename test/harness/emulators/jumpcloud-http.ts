/** Real-HTTP access to a running JumpCloud emulator, for its tests. */
import { request, type Dispatcher } from 'undici';

export const API_KEY = 'local-jumpcloud-key';
export const NOTION_APP_ID = '64b7f0c2a1d3e4f5a6b7c8d9';

export interface Reply<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface CallOptions {
  body?: unknown;
  /** Replaces the default headers (`x-api-key`, and a JSON content type when there is a body). */
  headers?: Record<string, string>;
}

export type Caller = <T = unknown>(
  method: Dispatcher.HttpMethod,
  path: string,
  options?: CallOptions,
) => Promise<Reply<T>>;

export function caller(origin: () => string): Caller {
  return async <T>(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}) => {
    const headers = options.headers ?? {
      'x-api-key': API_KEY,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const response = await request(`${origin()}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      headers: response.headers,
      body: (text ? JSON.parse(text) : undefined) as T,
    };
  };
}

export function header(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
