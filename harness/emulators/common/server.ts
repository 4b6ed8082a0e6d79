/** Starting and stopping an emulator's HTTP server, on a given or a free port. */
import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  /** 0 or absent: a free port. */
  port?: number;
  host?: string;
}

/** Listens and resolves to the origin, e.g. `http://127.0.0.1:8420`. */
export async function listen(app: FastifyInstance, options: ListenOptions = {}): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('emulator did not bind a TCP port');
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Closes the server, dropping kept-alive connections so that close never hangs. */
export async function close(app: FastifyInstance): Promise<void> {
  app.server.closeAllConnections?.();
  await app.close();
}
