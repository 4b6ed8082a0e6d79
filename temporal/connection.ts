/** Connections to the Temporal service, from the configuration (plain, mTLS or API key). */
import fs from 'node:fs';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionLike,
  type ConnectionOptions,
} from '@temporalio/client';
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

/**
 * A client connection whose `close()` no retry outlives. The SDK retries a failed call (the
 * server unavailable or busy) on a timer; a timer that fires once the connection is closed throws
 * "Channel has been shut down" out of the timer, which ends the process: a worker stopping while
 * one of its activities' calls waited to be retried, a command interrupted mid-call. Once closing,
 * no retry is scheduled (the call fails with the error it got), and `close()` first waits for
 * those already scheduled (at most the SDK's longest back-off, about 6 s).
 */
export async function connectClosable(settings: ConnectionOptions): Promise<Connection> {
  const retry = defaultGrpcRetryOptions();
  let closing = false;
  let lastRetryDue = 0;
  const connection = await Connection.connect({
    ...settings,
    interceptors: [
      makeGrpcRetryInterceptor({
        retryableDecider: (attempt, status) => !closing && retry.retryableDecider(attempt, status),
        delayFunction: (attempt, status) => {
          const ms = retry.delayFunction(attempt, status);
          lastRetryDue = Math.max(lastRetryDue, Date.now() + ms);
          return ms;
        },
      }),
    ],
  });
  const close = connection.close.bind(connection);
  connection.close = async () => {
    closing = true;
    // Timers fire in the order they are due: once this one has, every retry has been made.
    const wait = lastRetryDue - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 10));
    await close();
  };
  return connection;
}

/** A client connection (workflow, operator and health services). */
export async function connect(config: Config): Promise<Connection> {
  const settings = options(config);
  try {
    return await connectClosable({ ...settings, connectTimeout: '10s' });
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
