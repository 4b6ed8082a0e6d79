/** Connections to the Temporal service, from the configuration (plain, mTLS or API key). */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config/config';

/** A PEM given inline or as a path to a file. */
function pem(value: string): Buffer {
  return value.includes('-----BEGIN') ? Buffer.from(value) : fs.readFileSync(value);
}

function options(config: Config): ConnectionOptions & NativeConnectionOptions {
  const { address, apiKey, tls } = config.temporal;
  return {
    address,
    apiKey,
    tls: tls ? { clientCertPair: { crt: pem(tls.cert), key: pem(tls.key) } } : apiKey ? true : undefined,
  };
}

export class TemporalUnreachableError extends Error {
  constructor(config: Config, cause: unknown) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    super(
      `cannot reach Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}): ${reason}`,
    );
    this.name = 'TemporalUnreachableError';
  }
}

/** A client connection (workflow, operator and health services). */
export async function connect(config: Config): Promise<Connection> {
  try {
    return await Connection.connect({ ...options(config), connectTimeout: '10s' });
  } catch (error) {
    throw new TemporalUnreachableError(config, error);
  }
}

/** A client for the admin commands. */
export async function connectClient(config: Config): Promise<Client> {
  return new Client({ connection: await connect(config), namespace: config.temporal.namespace });
}

/** A native connection for workers. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(options(config));
  } catch (error) {
    throw new TemporalUnreachableError(config, error);
  }
}
