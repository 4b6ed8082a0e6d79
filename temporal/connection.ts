/** Connections to the Temporal service, from the configuration (plain, mTLS or API key). */
import fs from 'node:fs';
import { Client, Connection, type ConnectionLike, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError, type Config } from '../config/config';
import { dataConverterFor } from './data-converter';

/**
 * A PEM given inline or as a path to a file. A value that is neither is named by its variable,
 * never shown: a key pasted without its PEM header would otherwise be echoed as a file name.
 */
function pem(name: 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY', value: string): Buffer {
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return fs.readFileSync(value);
  } catch {
    throw new ConfigError([`${name} is neither a PEM (-----BEGIN …) nor the path of a readable file`]);
  }
}

function options(config: Config): ConnectionOptions & NativeConnectionOptions {
  const { address, apiKey, tls } = config.temporal;
  return {
    address,
    apiKey,
    tls: tls
      ? { clientCertPair: { crt: pem('TEMPORAL_TLS_CERT', tls.cert), key: pem('TEMPORAL_TLS_KEY', tls.key) } }
      : apiKey
        ? true
        : undefined,
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
  const settings = options(config);
  try {
    return await Connection.connect({ ...settings, connectTimeout: '10s' });
  } catch (error) {
    throw new TemporalUnreachableError(config, error);
  }
}

/** A client for the admin commands, reading and writing payloads as the workers do (issue 16). */
export async function connectClient(config: Config): Promise<Client> {
  return clientOn(await connect(config), config);
}

/** A client on an open connection, with the configuration's namespace and data converter. */
export function clientOn(connection: ConnectionLike, config: Config): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
  });
}

/** A native connection for workers. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  const settings = options(config);
  try {
    return await NativeConnection.connect(settings);
  } catch (error) {
    throw new TemporalUnreachableError(config, error);
  }
}
