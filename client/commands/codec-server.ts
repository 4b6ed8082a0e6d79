/**
 * `jc-notion codec-server` (issue 16): serves the payload codec to the Temporal Web UI and the
 * `temporal` CLI, so that an operator holding CODEC_SERVER_TOKEN sees encrypted payloads in
 * clear, until SIGINT or SIGTERM. The token is never printed: the usage lines name the variable.
 */
import { isLoopback, loadConfig } from '../../config/config';
import { startCodecServer } from '../../temporal/codec-server';
import { EncryptionCodec } from '../../temporal/encryption-codec';
import { CliError } from '../errors';
import { printError, printJson, printLines, table } from '../output';

export interface CodecServerCommandOptions {
  port: number;
  host: string;
  json?: boolean;
}

export async function codecServerCommand(options: CodecServerCommandOptions): Promise<void> {
  const config = loadConfig('client');
  const keys = config.privacy.encryptionKeys;
  const token = config.privacy.codecServerToken;
  const missing = [
    keys
      ? ''
      : 'PAYLOAD_ENCRYPTION_KEYS (or PAYLOAD_ENCRYPTION_KEYS_FILE) is not set: there is no key to decode with',
    token
      ? ''
      : 'CODEC_SERVER_TOKEN (or CODEC_SERVER_TOKEN_FILE) is not set: the codec server requires a bearer token (e.g. openssl rand -hex 24)',
  ].filter(Boolean);
  if (!keys || !token) throw new CliError(missing.join('; '));

  const allowedOrigin = new URL(config.temporal.uiUrl).origin;
  const namespace = config.temporal.namespace;
  const server = await startCodecServer({
    codec: new EncryptionCodec(keys),
    token,
    allowedOrigin,
    namespace,
    host: options.host,
    port: options.port,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      throw new CliError(`port ${options.port} on ${options.host} is in use (choose another with --port)`);
    if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL')
      throw new CliError(`cannot listen on ${options.host}:${options.port} (${error.code})`);
    throw error;
  });

  const cli = `temporal workflow show --namespace ${namespace} --workflow-id <id> --codec-endpoint ${server.url} --codec-auth "Bearer $CODEC_SERVER_TOKEN"`;
  const ui = `${server.url}/<CODEC_SERVER_TOKEN>`;
  if (options.json) {
    printJson({
      ready: true,
      url: server.url,
      port: server.port,
      allowedOrigin,
      namespace,
      usage: { cli, ui },
    });
  } else {
    printLines([
      `codec server ready at ${server.url}`,
      ...table([
        ['allowed origin', allowedOrigin],
        ['namespace', namespace],
        ['temporal CLI', cli],
        ['Web UI', `codec endpoint ${ui} (the UI sends no token of ours: it goes in the path)`],
      ]),
      'stop with Ctrl-C',
    ]);
  }
  // Plain HTTP: beyond loopback the token and decoded payloads would cross the network in clear.
  if (!isLoopback(options.host))
    printError(`warning: listening on ${options.host} over plain HTTP; put it behind TLS on a network`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  if (!options.json) printError('codec server stopped');
}
