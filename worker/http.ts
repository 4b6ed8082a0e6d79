/**
 * Issue 17: a worker fit for an orchestrator. With WORKER_HTTP_PORT set, each worker process
 * serves:
 * - `/healthz` (liveness): 200 while the process runs and none of its workers has failed;
 * - `/readyz` (readiness): 200 only while every worker polls its task queue and Temporal answers
 *   (checked every few seconds), 503 with the reasons otherwise;
 * - `/metrics`: the product's metrics (worker/metrics.ts) and the SDK's own, which its runtime
 *   exports on a loopback port of its own and which are served here, so one scrape gets both.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { ProductMetrics } from './metrics';

export interface Readiness {
  ready: boolean;
  /** Why not, in an operator's words. */
  reasons: string[];
}

export interface WorkerHttpOptions {
  host: string;
  port: number;
  metrics: ProductMetrics;
  /** Where the SDK runtime exports its Prometheus metrics (`host:port`), if it does. */
  sdkMetricsAddress?: string;
  live: () => Readiness;
  ready: () => Readiness;
}

export interface WorkerHttp {
  url: string;
  close(): Promise<void>;
}

/** A loopback port free a moment ago (the SDK runtime's metrics exporter binds it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function sdkMetrics(address: string | undefined): Promise<string> {
  if (!address) return '';
  try {
    const response = await request(`http://${address}/metrics`, {
      headersTimeout: 2_000,
      bodyTimeout: 2_000,
    });
    const text = await response.body.text();
    return response.statusCode === 200 ? text : '';
  } catch {
    // The product's metrics are still worth serving without the SDK's.
    return '';
  }
}

export async function startWorkerHttp(options: WorkerHttpOptions): Promise<WorkerHttp> {
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const probe = (res: http.ServerResponse, state: Readiness) =>
    json(res, state.ready ? 200 : 503, {
      status: state.ready ? 'ok' : 'unavailable',
      reasons: state.reasons,
    });

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
    if (path === '/healthz') return probe(res, options.live());
    if (path === '/readyz') return probe(res, options.ready());
    if (path === '/metrics') {
      void Promise.all([options.metrics.text(), sdkMetrics(options.sdkMetricsAddress)]).then(
        ([product, sdk]) => {
          res.writeHead(200, { 'Content-Type': options.metrics.contentType, 'Cache-Control': 'no-store' });
          res.end(`${product}\n${sdk}`);
        },
        (error: unknown) => json(res, 500, { error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    json(res, 404, { error: 'not found: /healthz, /readyz, /metrics' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
